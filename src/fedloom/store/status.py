"""Job and task statuses (FATE-Flow's strings) and the transitions the store allows between them.

The store enforces these tables: a status write names only its target, and the rows it may move
are the ones whose current status is a source of that target here (`job_sources`, `task_sources`).
A leaf module, so that both the store (which enforces) and the scheduler (which decides) read it.
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    WAITING = "waiting"
    RUNNING = "running"
    CANCELED = "canceled"
    TIMEOUT = "timeout"
    FAILED = "failed"
    SUCCESS = "success"


class TaskStatus(StrEnum):
    WAITING = "waiting"
    RUNNING = "running"
    CANCELED = "canceled"
    TIMEOUT = "timeout"
    FAILED = "failed"
    PASS = "pass"
    SUCCESS = "success"


_J = JobStatus
_T = TaskStatus

# FATE §4.2 (without `ready`, which fedloom never writes).
JOB_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    _J.WAITING: frozenset({_J.RUNNING, _J.CANCELED, _J.TIMEOUT, _J.FAILED, _J.SUCCESS}),
    _J.RUNNING: frozenset({_J.CANCELED, _J.TIMEOUT, _J.FAILED, _J.SUCCESS}),
    _J.CANCELED: frozenset({_J.WAITING}),
    _J.TIMEOUT: frozenset({_J.FAILED, _J.SUCCESS, _J.WAITING}),
    _J.FAILED: frozenset({_J.WAITING}),
    _J.SUCCESS: frozenset({_J.WAITING}),
}

# A task's `party_status`. Unlike FATE, a waiting task may end without running (a stopped or timed-out
# job ends its waiting tasks with its own status; a task that cannot start fails), and every end
# status is final: a retry or rerun is a new task version, and a task killed for a timeout must not
# be revived by its process's late exit.
TASK_TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    _T.WAITING: frozenset({_T.RUNNING, _T.SUCCESS, _T.PASS, _T.CANCELED, _T.TIMEOUT, _T.FAILED}),
    _T.RUNNING: frozenset({_T.CANCELED, _T.TIMEOUT, _T.FAILED, _T.PASS, _T.SUCCESS}),
    _T.CANCELED: frozenset(),
    _T.TIMEOUT: frozenset(),
    _T.FAILED: frozenset(),
    _T.PASS: frozenset(),
    _T.SUCCESS: frozenset(),
}


def job_sources(target: str) -> list[JobStatus]:
    """The statuses a job may move to `target` from (empty for an unknown target)."""
    return [src for src, dsts in JOB_TRANSITIONS.items() if target in dsts]


def task_sources(target: str) -> list[TaskStatus]:
    """The statuses a task's party_status may move to `target` from (empty for an unknown target)."""
    return [src for src, dsts in TASK_TRANSITIONS.items() if target in dsts]


__all__ = ["JOB_TRANSITIONS", "TASK_TRANSITIONS", "JobStatus", "TaskStatus", "job_sources", "task_sources"]
