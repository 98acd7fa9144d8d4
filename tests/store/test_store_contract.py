"""The store contract, run against SQLite and, when reachable, MariaDB/MySQL and PostgreSQL."""

from __future__ import annotations

import pytest

from fedloom.errors import Conflict
from fedloom.ids import TaskKey
from fedloom.store import Stores, now_ms
from fedloom.store.models import JobRow, TaskRow
from fedloom.store.status import JobStatus, TaskStatus


def _job(job_id: str, role: str = "guest", party: int = 9999) -> JobRow:
    t = now_ms()
    return JobRow(
        job_id=job_id,
        role=role,
        party_id=party,
        is_initiator=role == "guest",
        initiator_role="guest",
        initiator_party_id=9999,
        status="waiting",
        dsl={},
        runtime_conf={},
        runtime_conf_on_party={"job_parameters": {"task_cores": 2}},
        train_runtime_conf={},
        roles={"guest": [9999]},
        create_time=t,
        update_time=t,
    )


def _task(job_id: str, version: int = 0) -> TaskRow:
    t = now_ms()
    return TaskRow(
        job_id=job_id,
        component_name="reader_0",
        task_version=version,
        role="guest",
        party_id=9999,
        task_id=f"{job_id}_reader_0",
        component_module="Reader",
        status="waiting",
        party_status="waiting",
        create_time=t,
        update_time=t,
    )


def test_create_is_atomic_and_unique(stores: Stores) -> None:
    stores.jobs.create_job([_job("j1")], [_task("j1")])
    with pytest.raises(Conflict):
        stores.jobs.create_job([_job("j1")], [_task("j1")])
    assert len(stores.jobs.jobs("j1")) == 1 and len(stores.jobs.tasks("j1")) == 1


def test_status_changes_are_compare_and_set(stores: Stores) -> None:
    stores.jobs.create_job([_job("j2")], [_task("j2")])
    assert stores.jobs.transition_job("j2", JobStatus.RUNNING)
    assert not stores.jobs.transition_job("j2", JobStatus.RUNNING)  # lost race: nothing moves
    key = TaskKey("j2", "reader_0", 0, "guest", 9999)
    assert stores.jobs.transition_task(key, TaskStatus.RUNNING)
    assert not stores.jobs.transition_task(key, TaskStatus.RUNNING)
    assert stores.jobs.task(key).party_status == "running"  # type: ignore[union-attr]


def test_a_disallowed_transition_changes_nothing(stores: Stores) -> None:
    stores.jobs.create_job([_job("j5")], [_task("j5")])
    key = TaskKey("j5", "reader_0", 0, "guest", 9999)
    assert stores.jobs.transition_task(key, TaskStatus.SUCCESS)
    assert not stores.jobs.transition_task(key, TaskStatus.FAILED)  # an end status is final
    assert stores.jobs.task(key).party_status == "success"  # type: ignore[union-attr]
    assert stores.jobs.transition_job("j5", JobStatus.SUCCESS)
    assert not stores.jobs.transition_job("j5", JobStatus.RUNNING)  # only a rerun leaves success
    assert stores.jobs.jobs("j5")[0].status == "success"


def test_status_fields_are_written_only_by_transitions(stores: Stores) -> None:
    stores.jobs.create_job([_job("j6")], [_task("j6")])
    with pytest.raises(ValueError, match="transition_job"):
        stores.jobs.update_job("j6", status="running")
    with pytest.raises(ValueError, match="transition_task"):
        stores.jobs.update_task(TaskKey("j6", "reader_0", 0, "guest", 9999), party_status="running")
    assert stores.jobs.jobs("j6")[0].status == "waiting"


def test_a_transition_refuses_status_fields(stores: Stores) -> None:
    """A status in `fields` would override the target and skip the table (success -> running)."""
    stores.jobs.create_job([_job("j7")], [_task("j7")])
    assert stores.jobs.transition_job("j7", JobStatus.SUCCESS)
    with pytest.raises(ValueError, match="transition_job"):
        stores.jobs.transition_job("j7", JobStatus.WAITING, status="running")
    assert stores.jobs.jobs("j7")[0].status == "success"
    key = TaskKey("j7", "reader_0", 0, "guest", 9999)
    assert stores.jobs.transition_task(key, TaskStatus.SUCCESS)
    for field in ("party_status", "status"):
        with pytest.raises(ValueError, match="transition_task"):
            stores.jobs.transition_task(key, TaskStatus.RUNNING, **{field: "running"})
    row = stores.jobs.task(key)
    assert row is not None and (row.party_status, row.status) == ("success", "waiting")


def test_latest_task_version_wins(stores: Stores) -> None:
    stores.jobs.create_job([_job("j3")], [_task("j3", 0)])
    stores.jobs.add_tasks([_task("j3", 1)])
    assert [t.task_version for t in stores.jobs.tasks("j3")] == [1]
    assert len(stores.jobs.tasks("j3", latest=False)) == 2


def test_resources_are_all_or_nothing(stores: Stores) -> None:
    stores.jobs.ensure_party_resource(9999, 3)
    stores.jobs.create_job([_job("a")], [])
    stores.jobs.create_job([_job("b")], [])
    assert stores.jobs.apply_resources("a", {9999: 2})
    assert not stores.jobs.apply_resources("b", {9999: 2})  # only 1 left
    assert stores.jobs.party_resources([9999])[9999].remaining_cores == 1
    assert stores.jobs.return_resources("a", {9999: 2})
    assert not stores.jobs.return_resources("a", {9999: 2})  # returning twice gives nothing back
    assert stores.jobs.apply_resources("b", {9999: 2})


def test_metrics_and_outputs_round_trip(stores: Stores) -> None:
    ref = TaskKey("j4", "hetero_lr_0", 0, "arbiter", 10000)
    stores.tracking.log_metric(ref, "train", "loss", [(0, 0.69), (1, 0.5)], {"metric_type": "LOSS"})
    rows = stores.tracking.metrics("j4", "hetero_lr_0", "arbiter", 10000)
    assert [(r.key, r.value) for r in rows if r.type == 0] == [(0, 0.69), (1, 0.5)]
    stores.tracking.save_output_data(ref, "data", "ns", "name")
    stores.tracking.save_output_data(ref, "data", "ns", "name2")  # idempotent key: replaced, not added
    assert [r.table_name for r in stores.tracking.output_data("j4", "hetero_lr_0", "arbiter", 10000)] == [
        "name2"
    ]
