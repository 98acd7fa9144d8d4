"""reconcile() on a real SQLite store with a gateway that records commands and plays the parties."""

from __future__ import annotations

import pytest

from fedloom.ids import TaskKey
from fedloom.scheduler.status import TaskStatus
from fedloom.store import Stores
from fedloom.store.jobs import TaskState
from fedloom.store.models import TaskRow
from tests.scheduler.harness import PARTIES, make_job, make_scheduler


def _fan(n: int) -> dict[str, frozenset[str]]:
    return {"reader_0": frozenset(), **{f"dt_{i}": frozenset({"reader_0"}) for i in range(n)}}


def _finish(stores: Stores, job_id: str, status: TaskStatus = TaskStatus.SUCCESS) -> None:
    for t in stores.jobs.tasks(job_id):
        if t.party_status == "running":
            stores.jobs.transition_task(
                TaskKey(job_id, t.component_name, t.task_version, t.role, t.party_id), status
            )


def _running(stores: Stores, job_id: str) -> list[TaskRow]:
    return [t for t in stores.jobs.tasks(job_id, latest=False) if t.party_status == "running"]


@pytest.mark.parametrize("parallelism", [1, 3])
def test_task_parallelism_bounds_running_tasks_per_party(stores: Stores, parallelism: int) -> None:
    comps = _fan(7)
    make_job(stores, "j1", comps, parallelism=parallelism)
    sched, gw = make_scheduler(stores, comps)
    sched.admit()
    peak = 0
    for _ in range(20):
        sched.reconcile("j1")
        running = _running(stores, "j1")
        for party in PARTIES:
            peak = max(peak, sum(1 for t in running if (t.role, t.party_id) == party))
        _finish(stores, "j1")
    assert stores.jobs.initiator_job("j1").status == "success"  # type: ignore[union-attr]
    assert peak == parallelism
    assert len(gw.started) == 8 * len(PARTIES)


def test_reconcile_starts_in_dag_order(stores: Stores) -> None:
    comps = {"a": frozenset(), "b": frozenset({"a"}), "c": frozenset({"b"})}
    make_job(stores, "j1", comps, parallelism=4)
    sched, gw = make_scheduler(stores, comps)
    sched.admit()
    assert {c for c, _, _ in gw.started} == {"a"}
    _finish(stores, "j1")
    sched.reconcile("j1")
    assert {c for c, _, _ in gw.started} == {"a", "b"}


def test_stop_cancels_every_task_row_and_kills_only_running_ones(stores: Stores) -> None:
    comps = _fan(50)
    make_job(stores, "j1", comps)
    sched, gw = make_scheduler(stores, comps)
    sched.admit()
    assert len(_running(stores, "j1")) == len(PARTIES)
    assert sched.request_stop("j1")
    rows = stores.jobs.tasks("j1", latest=False)
    assert {t.party_status for t in rows} == {"canceled"}
    assert {t.status for t in rows} == {"canceled"}
    assert len(gw.stopped) == len(PARTIES)  # the running ones; waiting ones ended in one statement
    assert stores.jobs.initiator_job("j1").status == "canceled"  # type: ignore[union-attr]
    assert not any(j.resource_in_use for j in stores.jobs.jobs("j1"))
    sched.reconcile("j1")
    assert len(gw.started) == len(PARTIES)  # nothing started after the stop


def test_stop_of_a_job_waiting_in_the_queue(stores: Stores) -> None:
    comps = _fan(3)
    make_job(stores, "j1", comps)
    sched, gw = make_scheduler(stores, comps)
    assert sched.request_stop("j1")
    sched.admit()
    assert gw.started == []
    assert stores.jobs.initiator_job("j1").status == "canceled"  # type: ignore[union-attr]
    assert {t.party_status for t in stores.jobs.tasks("j1")} == {"canceled"}
    assert not sched.request_stop("j1")  # already ended


def test_auto_retry_makes_a_new_version(stores: Stores) -> None:
    comps = {"a": frozenset()}
    make_job(stores, "j1", comps, auto_retries=2)
    sched, gw = make_scheduler(stores, comps)
    sched.admit()
    _finish(stores, "j1", TaskStatus.FAILED)
    sched.reconcile("j1")
    assert {t.task_version for t in stores.jobs.tasks("j1")} == {1}
    assert {t.auto_retries for t in stores.jobs.tasks("j1")} == {1}


def test_no_retry_after_stop(stores: Stores) -> None:
    comps = {"a": frozenset(), "b": frozenset()}
    make_job(stores, "j1", comps, parallelism=2, auto_retries=5)
    sched, gw = make_scheduler(stores, comps)
    sched.admit()
    _finish(stores, "j1", TaskStatus.FAILED)
    job = stores.jobs.initiator_job("j1")
    assert job is not None
    by_cpn: dict[str, list[TaskState]] = {}
    for t in stores.jobs.task_states("j1"):
        by_cpn.setdefault(t.component_name, []).append(t)
    # A stop lands after reconcile read the failed tasks, before it creates their retries.
    stores.jobs.update_job("j1", cancel_signal=True)
    sched._handle_failures(job, by_cpn, {"a": TaskStatus.FAILED, "b": TaskStatus.FAILED})
    assert {t.task_version for t in stores.jobs.tasks("j1")} == {0}
    sched.reconcile("j1")
    assert stores.jobs.initiator_job("j1").status == "canceled"  # type: ignore[union-attr]
    assert {t.task_version for t in stores.jobs.tasks("j1")} == {0}
    assert not {t.party_status for t in stores.jobs.tasks("j1")} & {"running", "waiting"}


def test_a_failure_without_retries_ends_the_job_and_its_other_tasks(stores: Stores) -> None:
    comps = _fan(4)
    make_job(stores, "j1", comps, parallelism=2)
    sched, gw = make_scheduler(stores, comps)
    sched.admit()
    _finish(stores, "j1")
    sched.reconcile("j1")  # two dt_ components running
    key = next(t for t in _running(stores, "j1"))
    stores.jobs.transition_task(
        TaskKey(key.job_id, key.component_name, 0, key.role, key.party_id), TaskStatus.FAILED
    )
    sched.reconcile("j1")
    assert stores.jobs.initiator_job("j1").status == "failed"  # type: ignore[union-attr]
    assert not {t.party_status for t in stores.jobs.tasks("j1")} & {"running", "waiting"}
    assert not {t.status for t in stores.jobs.tasks("j1")} & {"running", "waiting"}


def test_bulk_created_tasks_of_a_large_job(stores: Stores) -> None:
    comps = _fan(2000)
    make_job(stores, "big", comps)
    assert len(stores.jobs.task_states("big")) == 2001 * len(PARTIES)
    sched, gw = make_scheduler(stores, comps)
    sched.admit()
    assert len(gw.started) == len(PARTIES)
    assert sched.request_stop("big")
    assert {t.party_status for t in stores.jobs.task_states("big")} == {"canceled"}
