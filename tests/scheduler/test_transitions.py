"""Each status rule over its (from, to) pairs, the way Prefect tests its orchestration rules: an allowed
pair is written, a disallowed one is refused and leaves the row as it was.

First the store's transitions themselves, then the scheduler's moves (admit, reconcile, end, rerun) on a
real SQLite store with a gateway that records every command it sends to the parties.
"""

from __future__ import annotations

import itertools

import pytest

from fedloom.ids import TaskKey
from fedloom.scheduler.status import JOB_TRANSITIONS, TASK_TRANSITIONS, JobStatus, TaskStatus
from fedloom.store import Stores, now_ms
from tests.scheduler.harness import PARTIES, make_job, make_scheduler

J, T = JobStatus, TaskStatus
ONE = {"a": frozenset[str]()}
JOB_PAIRS = list(itertools.product(JobStatus, JobStatus))
TASK_PAIRS = list(itertools.product(TaskStatus, TaskStatus))
END_JOB = [J.CANCELED, J.TIMEOUT, J.FAILED, J.SUCCESS]


def _job_statuses(stores: Stores, job_id: str = "j") -> set[str]:
    return {r.status for r in stores.jobs.jobs(job_id)}


def _pair_id(pair: tuple[str, str]) -> str:
    return f"{pair[0]}->{pair[1]}"


# ---- the store ------------------------------------------------------------------------------
@pytest.mark.parametrize("pair", JOB_PAIRS, ids=_pair_id)
def test_store_job_transition(stores: Stores, pair: tuple[JobStatus, JobStatus]) -> None:
    src, dst = pair
    make_job(stores, "j", ONE, status=src)
    allowed = dst in JOB_TRANSITIONS[src]
    assert stores.jobs.transition_job("j", dst, status_message="moved") is allowed
    assert _job_statuses(stores) == {dst if allowed else src}
    assert {r.status_message for r in stores.jobs.jobs("j")} == {"moved" if allowed else ""}


@pytest.mark.parametrize("pair", TASK_PAIRS, ids=_pair_id)
def test_store_task_transition(stores: Stores, pair: tuple[TaskStatus, TaskStatus]) -> None:
    src, dst = pair
    make_job(stores, "j", ONE, task_status=src)
    key = TaskKey("j", "a", 0, *PARTIES[0])
    allowed = dst in TASK_TRANSITIONS[src]
    assert stores.jobs.transition_task(key, dst, error_report="moved") is allowed
    row = stores.jobs.task(key)
    assert row is not None
    assert (row.party_status, row.error_report) == ((dst, "moved") if allowed else (src, ""))
    other = stores.jobs.task(TaskKey("j", "a", 0, *PARTIES[1]))
    assert other is not None and other.party_status == src  # one row only


@pytest.mark.parametrize("status", list(TaskStatus))
def test_store_ends_waiting_tasks_only_as_the_table_allows(stores: Stores, status: TaskStatus) -> None:
    make_job(stores, "j", ONE)
    allowed = status in TASK_TRANSITIONS[T.WAITING]
    assert stores.jobs.end_waiting_tasks("j", status) == (len(PARTIES) if allowed else 0)
    assert {t.party_status for t in stores.jobs.tasks("j")} == {status if allowed else T.WAITING}


# ---- the scheduler --------------------------------------------------------------------------
@pytest.mark.parametrize("src", list(JobStatus))
def test_admit_moves_only_waiting_jobs_to_running(stores: Stores, src: JobStatus) -> None:
    make_job(stores, "j", ONE, status=src)
    sched, gw = make_scheduler(stores, ONE)
    sched.admit()
    if src == J.WAITING:
        assert J.RUNNING in JOB_TRANSITIONS[src]
        assert _job_statuses(stores) == {J.RUNNING}
        assert {p for _, _, p in gw.started} == set(PARTIES)
    else:
        assert _job_statuses(stores) == {src}
        assert gw.commands == 0


_SITUATIONS = {
    # what the store says -> the job status reconcile moves a running job to
    "tasks_succeeded": J.SUCCESS,
    "task_failed": J.FAILED,
    "task_canceled": J.CANCELED,
    "stop_requested": J.CANCELED,
    "timed_out": J.TIMEOUT,
}


def _arrange(stores: Stores, src: JobStatus, situation: str) -> None:
    task_status = {"tasks_succeeded": T.SUCCESS, "task_failed": T.FAILED, "task_canceled": T.CANCELED}
    make_job(stores, "j", ONE, status=src, task_status=task_status.get(situation, T.RUNNING), timeout=5)
    if situation == "stop_requested":
        stores.jobs.update_job("j", cancel_signal=True)
    if situation == "timed_out":
        stores.jobs.update_job("j", start_time=now_ms() - 60_000)


@pytest.mark.parametrize(("src", "situation"), list(itertools.product(JobStatus, _SITUATIONS)))
def test_reconcile_moves_a_running_job_and_leaves_the_others(
    stores: Stores, src: JobStatus, situation: str
) -> None:
    _arrange(stores, src, situation)
    sched, gw = make_scheduler(stores, ONE)
    sched.reconcile("j")
    if src == J.RUNNING:
        dst = _SITUATIONS[situation]
        assert dst in JOB_TRANSITIONS[src]
        assert _job_statuses(stores) == {dst}
        assert sorted(gw.ended) == sorted((p, dst) for p in PARTIES)
    else:  # a waiting job is moved by admit only; an ended one by rerun only
        assert _job_statuses(stores) == {src}
        assert gw.commands == 0


@pytest.mark.parametrize("pair", list(itertools.product(JobStatus, END_JOB)), ids=_pair_id)
def test_end_job(stores: Stores, pair: tuple[JobStatus, JobStatus]) -> None:
    src, dst = pair
    make_job(stores, "j", ONE, status=src)
    sched, gw = make_scheduler(stores, ONE)
    sched.end_job("j", dst, "why")
    if dst in JOB_TRANSITIONS[src]:
        assert _job_statuses(stores) == {dst}
        assert {r.status_message for r in stores.jobs.jobs("j")} == {"why"}
        assert sorted(gw.ended) == sorted((p, dst) for p in PARTIES)
    else:
        assert _job_statuses(stores) == {src}
        assert {r.status_message for r in stores.jobs.jobs("j")} == {""}
        assert gw.ended == []


@pytest.mark.parametrize("src", list(JobStatus))
def test_rerun_brings_only_an_ended_job_back_to_waiting(stores: Stores, src: JobStatus) -> None:
    make_job(stores, "j", ONE, status=src, task_status=T.SUCCESS)
    sched, _ = make_scheduler(stores, ONE)
    assert sched.rerun("j", ["a"], force=True) == ["a"]
    assert _job_statuses(stores) == {J.WAITING if J.WAITING in JOB_TRANSITIONS[src] else src}
    assert {(t.task_version, t.party_status) for t in stores.jobs.tasks("j")} == {(1, T.WAITING)}
