"""Job and task statuses (FATE-Flow's), their allowed transitions and the federated status rules.

The statuses and transition tables live in `fedloom.store.status` (the store enforces them) and are
re-exported here; the rules the initiator applies on top of them are below.
"""

from __future__ import annotations

from collections.abc import Iterable

from fedloom.store.status import (
    JOB_TRANSITIONS,
    TASK_TRANSITIONS,
    JobStatus,
    TaskStatus,
    job_sources,
    task_sources,
)

_T = TaskStatus

# FATE's StatusSet level order; higher wins ties between interrupt statuses.
LEVEL: dict[str, int] = {
    _T.WAITING: 0,
    "ready": 1,
    _T.RUNNING: 2,
    _T.CANCELED: 3,
    _T.TIMEOUT: 4,
    _T.FAILED: 5,
    _T.PASS: 6,
    _T.SUCCESS: 7,
}
END: frozenset[TaskStatus] = frozenset({_T.CANCELED, _T.TIMEOUT, _T.FAILED, _T.PASS, _T.SUCCESS})
INTERRUPT: frozenset[TaskStatus] = frozenset({_T.CANCELED, _T.TIMEOUT, _T.FAILED})
SUCCESSFUL: frozenset[TaskStatus] = frozenset({_T.PASS, _T.SUCCESS})
AUTO_RETRY: frozenset[TaskStatus] = frozenset({_T.FAILED, _T.TIMEOUT})


def federated_task_status(party_statuses: Iterable[str]) -> TaskStatus:
    """One status for a task from the statuses of its parties (FATE §4.3)."""
    statuses = {_T.SUCCESS if s == _T.PASS else _T(s) for s in party_statuses}
    if not statuses:
        return _T.WAITING
    if len(statuses) == 1:
        return next(iter(statuses))
    interrupts = statuses & INTERRUPT
    if interrupts:
        return max(interrupts, key=LEVEL.__getitem__)
    if _T.RUNNING in statuses or _T.SUCCESS in statuses:
        return _T.RUNNING
    return _T.WAITING


__all__ = [
    "AUTO_RETRY",
    "END",
    "INTERRUPT",
    "JOB_TRANSITIONS",
    "LEVEL",
    "SUCCESSFUL",
    "TASK_TRANSITIONS",
    "JobStatus",
    "TaskStatus",
    "federated_task_status",
    "job_sources",
    "task_sources",
]
