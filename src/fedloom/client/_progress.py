"""Turn FATE job and task records (`f_` keys) into a JobProgress snapshot, one entry per component."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fedloom.client.errors import TaskFailure
from fedloom.client.results import INTERRUPT_STATUSES, JobProgress, TaskProgress

Record = Mapping[str, Any]
_SUCCESS = frozenset({"success", "pass"})


def initiator_record(records: Sequence[Record]) -> Record:
    """The initiator's row of a job: it holds the federated status and the progress."""
    return next((r for r in records if r.get("f_is_initiator")), records[0])


def job_progress(job: Record, tasks: Iterable[Record]) -> JobProgress:
    latest = _latest_versions(tasks)
    order = _component_order(job, latest)
    return JobProgress(
        job_id=str(job.get("f_job_id", "")),
        status=str(job.get("f_status", "")),
        progress=_int(job.get("f_progress")),
        message=str(job.get("f_status_message") or ""),
        role=str(job.get("f_role", "")),
        party_id=_int(job.get("f_party_id")),
        tasks=tuple(_merge(name, [t for t in latest if t.get("f_component_name") == name]) for name in order),
    )


def failures(tasks: Iterable[Record]) -> list[TaskFailure]:
    """Failed/timed-out/canceled tasks, the ones with an error report first."""
    found = [
        TaskFailure(
            component=str(t.get("f_component_name", "")),
            role=str(t.get("f_role", "")),
            party_id=_int(t.get("f_party_id")),
            status=_status(t),
            error=str(t.get("f_error_report") or ""),
        )
        for t in _latest_versions(tasks)
        if _status(t) in INTERRUPT_STATUSES
    ]
    return sorted(found, key=lambda f: (not f.error, INTERRUPT_STATUSES.index(f.status)))


def _latest_versions(tasks: Iterable[Record]) -> list[Record]:
    latest: dict[tuple[Any, Any, Any], Record] = {}
    for task in tasks:
        key = (task.get("f_component_name"), task.get("f_role"), str(task.get("f_party_id")))
        seen = latest.get(key)
        if seen is None or _int(task.get("f_task_version")) >= _int(seen.get("f_task_version")):
            latest[key] = task
    return list(latest.values())


def _component_order(job: Record, tasks: Sequence[Record]) -> list[str]:
    dsl = job.get("f_dsl")
    components = dsl.get("components") if isinstance(dsl, dict) else None
    names = [str(n) for n in components] if isinstance(components, dict) else []
    present = {str(t.get("f_component_name")) for t in tasks}
    ordered = [n for n in names if n in present]
    return ordered + sorted(present.difference(ordered))


def _merge(component: str, rows: Sequence[Record]) -> TaskProgress:
    statuses = [_status(r) for r in rows]
    status = merged_status(statuses)
    percents = [
        100 if s in _SUCCESS else _int(r.get("f_progress")) for s, r in zip(statuses, rows, strict=True)
    ]
    elapsed = [_int(r.get("f_elapsed")) for r in rows if r.get("f_elapsed") is not None]
    return TaskProgress(
        component=component,
        status=status,
        progress=100 if status in _SUCCESS else min(99, sum(percents) // max(len(percents), 1)),
        message=_first(r.get("f_progress_message") for r in rows if _status(r) == "running")
        or _first(r.get("f_progress_message") for r in rows),
        error=_first(r.get("f_error_report") for r in rows),
        elapsed_ms=max(elapsed) if elapsed else None,
        parties=tuple((str(r.get("f_role", "")), _int(r.get("f_party_id"))) for r in rows),
    )


def merged_status(statuses: Sequence[str]) -> str:
    """One status for a component from its parties' (federated) statuses, FATE's §4.3 rules."""
    if statuses and all(s in _SUCCESS for s in statuses):
        return "pass" if all(s == "pass" for s in statuses) else "success"
    for interrupt in INTERRUPT_STATUSES:
        if interrupt in statuses:
            return interrupt
    if any(s == "running" for s in statuses) or any(s in _SUCCESS for s in statuses):
        return "running"
    return "waiting"


def _status(record: Record) -> str:
    return str(record.get("f_status") or record.get("f_party_status") or "waiting")


def _first(values: Iterable[Any]) -> str:
    return next((str(v) for v in values if v), "")


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


__all__ = ["failures", "initiator_record", "job_progress", "merged_status"]
