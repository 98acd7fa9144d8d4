"""Job and task statuses (FATE-Flow's), their allowed transitions and the federated status rules."""

from __future__ import annotations

from collections.abc import Iterable


class JobStatus:
    WAITING = "waiting"
    RUNNING = "running"
    CANCELED = "canceled"
    TIMEOUT = "timeout"
    FAILED = "failed"
    SUCCESS = "success"


class TaskStatus:
    WAITING = "waiting"
    RUNNING = "running"
    CANCELED = "canceled"
    TIMEOUT = "timeout"
    FAILED = "failed"
    PASS = "pass"
    SUCCESS = "success"


# FATE's StatusSet level order; higher wins ties between interrupt statuses.
LEVEL = {"waiting": 0, "ready": 1, "running": 2, "canceled": 3, "timeout": 4, "failed": 5, "pass": 6, "success": 7}
END = frozenset({"canceled", "timeout", "failed", "pass", "success"})
INTERRUPT = frozenset({"canceled", "timeout", "failed"})
SUCCESSFUL = frozenset({"pass", "success"})
JOB_STATUSES = frozenset({"waiting", "running", "canceled", "timeout", "failed", "success"})

JOB_TRANSITIONS: dict[str, frozenset[str]] = {
    "waiting": frozenset({"running", "canceled", "timeout", "failed", "success"}),
    "running": frozenset({"canceled", "timeout", "failed", "success"}),
    "canceled": frozenset({"waiting"}),
    "timeout": frozenset({"failed", "success", "waiting"}),
    "failed": frozenset({"waiting"}),
    "success": frozenset({"waiting"}),
}

TASK_TRANSITIONS: dict[str, frozenset[str]] = {
    "waiting": frozenset({"running", "success", "pass", "canceled", "failed"}),
    "running": frozenset({"canceled", "timeout", "failed", "pass", "success"}),
    "canceled": frozenset(),
    "timeout": frozenset({"failed", "success"}),
    "failed": frozenset(),
    "pass": frozenset(),
    "success": frozenset(),
}


def job_sources_for(target: str) -> list[str]:
    """Statuses a job may move to `target` from (the WHERE clause of a compare-and-set)."""
    return [src for src, dsts in JOB_TRANSITIONS.items() if target in dsts]


def task_sources_for(target: str) -> list[str]:
    return [src for src, dsts in TASK_TRANSITIONS.items() if target in dsts]


def federated_task_status(party_statuses: Iterable[str]) -> str:
    """One status for a task from the statuses of its parties (FATE §4.3)."""
    statuses = {"success" if s == "pass" else s for s in party_statuses}
    if not statuses:
        return "waiting"
    if len(statuses) == 1:
        return next(iter(statuses))
    interrupts = statuses & INTERRUPT
    if interrupts:
        return max(interrupts, key=LEVEL.__getitem__)
    if "running" in statuses or "success" in statuses:
        return "running"
    return "waiting"


def worst_interrupt(statuses: Iterable[str]) -> str | None:
    found = set(statuses) & INTERRUPT
    return max(found, key=LEVEL.__getitem__) if found else None


__all__ = [
    "END",
    "INTERRUPT",
    "JOB_STATUSES",
    "JOB_TRANSITIONS",
    "JobStatus",
    "SUCCESSFUL",
    "TASK_TRANSITIONS",
    "TaskStatus",
    "federated_task_status",
    "job_sources_for",
    "task_sources_for",
    "worst_interrupt",
]
