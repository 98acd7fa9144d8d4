"""AuditService over a real SQLite store: queued writes, flush, close, filters, limits."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fedloom.errors import InvalidInput
from fedloom.services.audit import AuditService
from fedloom.store import Stores, open_stores
from fedloom.store.access import AuditEntry, AuditStore
from fedloom.store.database import session_factory


@pytest.fixture()
def stores(tmp_path: Path) -> Iterator[Stores]:
    s = open_stores(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield s
    s.close()


@pytest.fixture()
def audit(stores: Stores) -> Iterator[AuditService]:
    service = AuditService(stores.audit)
    yield service
    service.close()


def test_recorded_entries_are_queried_newest_first(audit: AuditService) -> None:
    audit.record("k1", "POST /v1/job/submit", "J1", 0, "success")
    audit.record("party:9999", "create", "J1", 108, "permission check failed")
    found = audit.query(job_id="J1")
    assert [(e["actor"], e["action"], e["retcode"]) for e in found] == [
        ("party:9999", "create", 108),
        ("k1", "POST /v1/job/submit", 0),
    ]
    assert set(found[0]) == {"time", "actor", "action", "job_id", "retcode", "detail"}
    assert found[0]["time"] >= found[1]["time"]


def test_filters(audit: AuditService) -> None:
    audit.record("k1", "POST /v1/job/submit", "J1", 0)
    audit.record("k2", "POST /v1/data/upload", "", 0)
    assert [e["actor"] for e in audit.query(actor="k2")] == ["k2"]
    assert [e["action"] for e in audit.query(action_prefix="POST /v1/job")] == ["POST /v1/job/submit"]
    assert audit.query(since_ms=2**62) == []


def test_detail_is_cut_to_200_characters(audit: AuditService) -> None:
    audit.record("k", "a", "", 0, "x" * 5000)
    assert len(audit.query()[0]["detail"]) == 200


@pytest.mark.parametrize("limit", [0, -1, 1001])
def test_limit_is_bounded(audit: AuditService, limit: int) -> None:
    with pytest.raises(InvalidInput, match="limit"):
        audit.query(limit=limit)


def test_limit_caps_the_answer(audit: AuditService) -> None:
    for i in range(20):
        audit.record("k", f"a{i}", "", 0)
    assert [e["action"] for e in audit.query(limit=3)] == ["a19", "a18", "a17"]


def test_flush_stores_everything_recorded_before_it(audit: AuditService, stores: Stores) -> None:
    for i in range(2000):
        audit.record("k", f"a{i}", "", 0)
    assert audit.flush()
    assert len(stores.audit.query(limit=5000)) == 2000


def test_close_stores_the_queue_and_a_later_record_starts_again(audit: AuditService, stores: Stores) -> None:
    audit.record("k", "before", "", 0)
    audit.close()
    assert [e.action for e in stores.audit.query()] == ["before"]
    audit.close()  # idempotent
    audit.record("k", "after", "", 0)
    assert [e["action"] for e in audit.query()] == ["after", "before"]


def test_no_writer_thread_is_left_after_close(stores: Stores) -> None:
    service = AuditService(stores.audit)
    service.record("k", "a", "", 0)
    service.close()
    assert not [t for t in threading.enumerate() if t.name == "audit-writer" and t.is_alive()]


def test_concurrent_records_all_arrive(audit: AuditService) -> None:
    def burst(n: int) -> None:
        for i in range(200):
            audit.record(f"k{n}", f"a{i}", "", 0)

    threads = [threading.Thread(target=burst, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(audit.query(limit=1000)) == 1000


class _BrokenStore(AuditStore):
    def __init__(self, inner: AuditStore) -> None:
        self.inner = inner
        self.fail = True

    def record(self, entries: list[AuditEntry]) -> None:  # type: ignore[override]
        if self.fail:
            raise RuntimeError("database down")
        self.inner.record(entries)


def test_a_database_error_loses_one_batch_not_the_writer(stores: Stores) -> None:
    broken = _BrokenStore(stores.audit)
    service = AuditService(broken)
    try:
        service.record("k", "lost", "", 0)
        assert service.flush()
        broken.fail = False
        service.record("k", "kept", "", 0)
        assert service.flush()
        assert [e.action for e in stores.audit.query()] == ["kept"]
    finally:
        service.close()


def test_a_full_queue_drops_instead_of_blocking(stores: Stores) -> None:
    gate = threading.Event()

    class Slow(AuditStore):
        def record(self, entries: list[AuditEntry]) -> None:  # type: ignore[override]
            gate.wait(10)

    service = AuditService(Slow(session_factory(stores.engine)), max_pending=5)
    try:
        for i in range(50):  # must return at once although nothing is written
            service.record("k", f"a{i}", "", 0)
    finally:
        gate.set()
        service.close()
