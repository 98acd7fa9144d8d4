"""The LeaseStore contract and the task's run_server, on SQLite and, when reachable, MariaDB and PostgreSQL."""

from __future__ import annotations

import threading

from sqlalchemy import MetaData, Table, insert, inspect, select

from fedloom.ids import TaskKey
from fedloom.store import Held, Stores, now_ms
from fedloom.store.models import TaskRow
from fedloom.store.status import TaskStatus

T0 = 1_000_000


def test_a_new_lease_is_held(stores: Stores) -> None:
    assert stores.leases.hold("job:a", "s1", 100, now_ms=T0) == Held(True, None)
    assert stores.leases.holder("job:a", now_ms=T0) == "s1"


def test_the_owner_renews_and_extends_the_expiry(stores: Stores) -> None:
    stores.leases.hold("job:a", "s1", 100, now_ms=T0)
    assert stores.leases.hold("job:a", "s1", 100, now_ms=T0 + 90) == Held(True, None)
    assert stores.leases.holder("job:a", now_ms=T0 + 150) == "s1"  # past the first expiry
    assert stores.leases.hold("job:a", "s2", 100, now_ms=T0 + 150) == Held(False, None)


def test_another_owner_is_refused_while_unexpired(stores: Stores) -> None:
    stores.leases.hold("job:a", "s1", 100, now_ms=T0)
    assert stores.leases.hold("job:a", "s2", 100, now_ms=T0 + 100) == Held(False, None)  # expiry itself
    assert stores.leases.holder("job:a", now_ms=T0 + 100) == "s1"


def test_an_expired_lease_is_taken_over(stores: Stores) -> None:
    stores.leases.hold("job:a", "s1", 100, now_ms=T0)
    assert stores.leases.hold("job:a", "s2", 100, now_ms=T0 + 101) == Held(True, "s1")
    assert stores.leases.holder("job:a", now_ms=T0 + 101) == "s2"
    assert stores.leases.hold("job:a", "s1", 100, now_ms=T0 + 102) == Held(False, None)


def test_the_owner_renews_its_own_expired_lease(stores: Stores) -> None:
    stores.leases.hold("job:a", "s1", 100, now_ms=T0)
    assert stores.leases.hold("job:a", "s1", 100, now_ms=T0 + 500) == Held(True, None)
    assert stores.leases.holder("job:a", now_ms=T0 + 550) == "s1"


def test_only_the_owner_releases(stores: Stores) -> None:
    stores.leases.hold("job:a", "s1", 100, now_ms=T0)
    assert not stores.leases.release("job:a", "s2")
    assert stores.leases.holder("job:a", now_ms=T0) == "s1"
    assert stores.leases.release("job:a", "s1")
    assert stores.leases.holder("job:a", now_ms=T0) is None
    assert not stores.leases.release("job:a", "s1")
    assert stores.leases.hold("job:a", "s2", 100, now_ms=T0) == Held(True, None)


def test_release_all_frees_only_the_owners_leases(stores: Stores) -> None:
    for name in ("job:a", "job:b", "job:c"):
        stores.leases.hold(name, "s1", 100, now_ms=T0)
    stores.leases.hold("job:d", "s2", 100, now_ms=T0)
    assert stores.leases.release_all("s1") == 3
    assert stores.leases.release_all("s1") == 0
    assert [stores.leases.holder(n, now_ms=T0) for n in ("job:a", "job:d")] == [None, "s2"]


def test_holder_of_an_unknown_or_expired_lease_is_none(stores: Stores) -> None:
    assert stores.leases.holder("job:none") is None
    stores.leases.hold("job:a", "s1", 100, now_ms=T0)
    assert stores.leases.holder("job:a", now_ms=T0 + 101) is None


def test_the_clock_defaults_to_now(stores: Stores) -> None:
    assert stores.leases.hold("job:a", "s1", 60_000).held
    assert stores.leases.holder("job:a") == "s1"
    assert stores.leases.holder("job:a", now_ms=now_ms() + 120_000) is None


def _race(stores: Stores, owners: list[str], now: int | None) -> list[Held]:
    barrier = threading.Barrier(len(owners))
    results: list[Held] = [Held(False, None)] * len(owners)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = stores.leases.hold("job:x", owners[i], 60_000, now_ms=now)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(owners))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_a_race_for_a_new_lease_has_one_winner(stores: Stores) -> None:
    results = _race(stores, [f"s{i}" for i in range(8)], None)
    winners = [i for i, r in enumerate(results) if r.held]
    assert len(winners) == 1
    assert stores.leases.holder("job:x") == f"s{winners[0]}"


def test_a_race_to_take_over_an_expired_lease_has_one_winner(stores: Stores) -> None:
    stores.leases.hold("job:x", "old", 100, now_ms=T0)
    results = _race(stores, [f"s{i}" for i in range(8)], T0 + 1000)
    assert [r for r in results if r.held] == [Held(True, "old")]
    assert stores.leases.holder("job:x", now_ms=T0 + 1000) in {f"s{i}" for i in range(8)}


def _task_values(job_id: str, component: str, party_status: str) -> dict[str, object]:
    t = now_ms()
    return {
        "job_id": job_id,
        "component_name": component,
        "task_version": 0,
        "role": "guest",
        "party_id": 9999,
        "task_id": f"{job_id}_{component}",
        "component_module": "Reader",
        "status": party_status,
        "party_status": party_status,
        "need_run": True,
        "auto_retries": 0,
        "run_ip": "127.0.0.1",
        "worker_id": "",
        "kill_status": False,
        "error_report": "",
        "progress": 0,
        "progress_message": "",
        "busy_seconds": 0.0,
        "create_time": t,
        "update_time": t,
    }


def test_run_server_defaults_to_empty_in_the_database(stores: Stores) -> None:
    assert "run_server" in {c["name"] for c in inspect(stores.engine).get_columns("task")}
    task = Table("task", MetaData(), autoload_with=stores.engine)  # reflected: no Python defaults
    with stores.engine.begin() as conn:
        conn.execute(insert(task).values(**_task_values("j1", "reader_0", "waiting")))
        assert conn.scalar(select(task.c.run_server).where(task.c.job_id == "j1")) == ""
    row = stores.jobs.task(TaskKey("j1", "reader_0", 0, "guest", 9999))
    assert row is not None and row.run_server == ""


def test_running_tasks_by_server(stores: Stores) -> None:
    rows = [
        ("a0", "running", "s1"),
        ("a1", "running", "s2"),
        ("a2", "waiting", "s1"),
        ("a3", "running", ""),
    ]
    with stores.engine.begin() as conn:
        for cpn, status, server in rows:
            conn.execute(insert(TaskRow).values(**_task_values("j1", cpn, status), run_server=server))
        conn.execute(insert(TaskRow).values(**_task_values("j2", "b0", "running"), run_server="s1"))

    def names(tasks: list[TaskRow]) -> set[tuple[str, str]]:
        return {(t.job_id, t.component_name) for t in tasks}

    assert names(stores.jobs.running_tasks_of("s1")) == {("j1", "a0"), ("j2", "b0")}
    assert names(stores.jobs.running_tasks_of("s3")) == set()
    assert names(stores.jobs.running_tasks_elsewhere("j1", "s1")) == {("j1", "a1"), ("j1", "a3")}
    assert names(stores.jobs.running_tasks_elsewhere("j2", "s1")) == set()
    key = TaskKey("j1", "a1", 0, "guest", 9999)
    assert stores.jobs.transition_task(key, TaskStatus.SUCCESS)
    assert names(stores.jobs.running_tasks_elsewhere("j1", "s1")) == {("j1", "a3")}
