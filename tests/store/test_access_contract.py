"""The PermissionStore and AuditStore contract, on SQLite and, when reachable, MariaDB/MySQL and PostgreSQL."""

from __future__ import annotations

import threading

from fedloom.store import Stores
from fedloom.store.access import ANY, AuditEntry, AuditStore, Grant
from fedloom.store.database import session_factory


def _entry(i: int, **kw: str | int) -> AuditEntry:
    fields: dict[str, str | int] = {
        "time": 1000 + i,
        "actor": "anonymous",
        "action": f"POST /v1/job/{i}",
        "job_id": "",
        "retcode": 0,
        "detail": "",
    }
    fields.update(kw)
    return AuditEntry(**fields)  # type: ignore[arg-type]


class TestPermissionStore:
    def test_add_is_idempotent_and_counts_only_new_rows(self, stores: Stores) -> None:
        p = stores.permissions
        assert p.add(9999, [Grant("heterolr", "ns", "a"), Grant("reader", ANY, ANY)]) == 2
        assert p.add(9999, [Grant("heterolr", "ns", "a"), Grant("heterolr", "ns", "b")]) == 1
        assert p.add(9999, []) == 0
        assert p.grants(9999) == [
            Grant("heterolr", "ns", "a"),
            Grant("heterolr", "ns", "b"),
            Grant("reader", ANY, ANY),
        ]

    def test_rows_are_per_party(self, stores: Stores) -> None:
        stores.permissions.add(9999, [Grant(ANY, ANY, ANY)])
        assert stores.permissions.grants(10000) == []

    def test_grants_filtered_by_component_include_the_wildcard(self, stores: Stores) -> None:
        p = stores.permissions
        p.add(1, [Grant("heterolr", "ns", "a"), Grant(ANY, "ns", "b"), Grant("reader", "ns", "c")])
        assert p.grants(1, ["heterolr"]) == [Grant(ANY, "ns", "b"), Grant("heterolr", "ns", "a")]

    def test_remove_exact_rows(self, stores: Stores) -> None:
        p = stores.permissions
        p.add(1, [Grant(c, "ns", n) for c in ("heterolr", "reader") for n in ("a", "b")])
        assert p.remove(1, ["heterolr"], [("ns", "a")]) == 1
        assert p.grants(1) == [
            Grant("heterolr", "ns", "b"),
            Grant("reader", "ns", "a"),
            Grant("reader", "ns", "b"),
        ]

    def test_remove_none_matches_every_value(self, stores: Stores) -> None:
        p = stores.permissions
        p.add(1, [Grant("heterolr", "ns", "a"), Grant("heterolr", ANY, ANY), Grant("reader", "ns", "a")])
        p.add(2, [Grant("heterolr", "ns", "a")])
        assert p.remove(1, ["heterolr"], None) == 2
        assert p.grants(1) == [Grant("reader", "ns", "a")]
        assert p.remove(1, None, None) == 1
        assert p.grants(1) == [] and p.grants(2) == [Grant("heterolr", "ns", "a")]

    def test_remove_with_empty_lists_removes_nothing(self, stores: Stores) -> None:
        stores.permissions.add(1, [Grant("heterolr", "ns", "a")])
        assert stores.permissions.remove(1, [], None) == 0
        assert stores.permissions.remove(1, None, []) == 0
        assert len(stores.permissions.grants(1)) == 1

    def test_long_ids_fit(self, stores: Stores) -> None:
        long = "n" * 200
        stores.permissions.add(1, [Grant("x" * 64, long, long)])
        assert stores.permissions.grants(1) == [Grant("x" * 64, long, long)]

    def test_concurrent_grants_of_the_same_rows_both_succeed(self, stores: Stores) -> None:
        grants = [Grant("heterolr", "ns", f"t{i}") for i in range(50)]
        errors: list[BaseException] = []

        def grant() -> None:
            try:
                stores.permissions.add(7, grants)
            except BaseException as exc:  # collected for the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=grant) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(stores.permissions.grants(7)) == 50


class TestAuditStore:
    def test_query_is_newest_first_and_limited(self, stores: Stores) -> None:
        stores.audit.record([_entry(i) for i in range(5)])
        found = stores.audit.query(limit=3)
        assert [e.time for e in found] == [1004, 1003, 1002]

    def test_filters_combine(self, stores: Stores) -> None:
        a = stores.audit
        a.record(
            [
                _entry(0, actor="k1", job_id="J1", action="POST /v1/job/submit"),
                _entry(1, actor="k2", job_id="J1", action="POST /v1/job/stop"),
                _entry(2, actor="k1", job_id="J2", action="POST /v1/data/upload"),
            ]
        )
        assert [e.time for e in a.query(job_id="J1")] == [1001, 1000]
        assert [e.time for e in a.query(actor="k1")] == [1002, 1000]
        assert [e.time for e in a.query(action_prefix="POST /v1/job")] == [1001, 1000]
        assert [e.time for e in a.query(since_ms=1001)] == [1002, 1001]
        assert [e.time for e in a.query(actor="k1", job_id="J1")] == [1000]

    def test_action_prefix_is_literal(self, stores: Stores) -> None:
        stores.audit.record([_entry(0, action="POST /v1/a_b"), _entry(1, action="POST /v1/axb")])
        assert [e.action for e in stores.audit.query(action_prefix="POST /v1/a_")] == ["POST /v1/a_b"]
        assert stores.audit.query(action_prefix="%") == []

    def test_long_fields_are_cut_to_their_columns(self, stores: Stores) -> None:
        stores.audit.record(
            [_entry(0, actor="a" * 500, action="b" * 500, job_id="c" * 500, detail="d" * 500)]
        )
        (e,) = stores.audit.query()
        assert (len(e.actor), len(e.action), len(e.job_id), len(e.detail)) == (128, 256, 64, 256)

    def test_record_trims_to_the_newest_entries(self, stores: Stores) -> None:
        small = AuditStore(session_factory(stores.engine), retention=10, trim_every=5)
        for i in range(0, 30, 3):
            small.record([_entry(i), _entry(i + 1), _entry(i + 2)])
        kept = [e.time for e in small.query(limit=100)]
        assert kept[:10] == list(range(1029, 1019, -1))
        assert len(kept) < 15  # trimmed every 5 inserts: at most 10 kept plus what came since

    def test_trim_keeps_everything_under_the_retention(self, stores: Stores) -> None:
        small = AuditStore(session_factory(stores.engine), retention=10)
        small.record([_entry(i) for i in range(4)])
        assert small.trim() == 0
        assert len(small.query()) == 4
