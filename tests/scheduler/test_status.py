"""FATE's status rules: federated task status and the transition tables."""

from __future__ import annotations

import pytest

from fedloom.scheduler.status import (
    JOB_TRANSITIONS,
    JobStatus,
    TaskStatus,
    federated_task_status,
    job_sources,
    task_sources,
)


@pytest.mark.parametrize(
    "parties, expected",
    [
        (["success", "success"], "success"),
        (["success", "pass"], "success"),
        (["running", "success"], "running"),
        (["waiting", "success"], "running"),
        (["waiting", "waiting"], "waiting"),
        (["failed", "running"], "failed"),
        (["canceled", "timeout"], "timeout"),
        (["canceled", "failed", "success"], "failed"),
        ([], "waiting"),
    ],
)
def test_federated_task_status(parties: list[str], expected: str) -> None:
    assert federated_task_status(parties) == expected


def test_end_statuses_only_leave_through_rerun() -> None:
    assert job_sources(JobStatus.RUNNING) == ["waiting"]
    assert set(job_sources(JobStatus.WAITING)) == {"canceled", "timeout", "failed", "success"}
    assert "success" not in task_sources(TaskStatus.RUNNING)
    assert JOB_TRANSITIONS[JobStatus.SUCCESS] == frozenset({"waiting"})


def test_statuses_are_fate_strings() -> None:
    assert JobStatus.RUNNING == "running" and f"{TaskStatus.PASS}" == "pass"
    assert federated_task_status(["pass", "success"]) is TaskStatus.SUCCESS
