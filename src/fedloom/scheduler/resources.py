"""What a job reserves and how long it may run, read from the typed job parameters of its rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from fedloom.dsl import JobParameters
from fedloom.store.models import JobRow


def job_parameters(row: JobRow) -> JobParameters:
    """One party's job parameters as stored on its job row (server defaults already filled in)."""
    return JobParameters.model_validate(row.runtime_conf_on_party.get("job_parameters", {}))


def task_cores(row: JobRow) -> int:
    """Cores one task of the job uses at this party (1 when unset)."""
    return job_parameters(row).task_cores or 1


def task_parallelism(row: JobRow) -> int:
    """FATE's task_parallelism of one party's job row: tasks of the job running at once there (default 1)."""
    return job_parameters(row).task_parallelism or 1


def cores_by_party(entries: Iterable[tuple[str, int, int, int]]) -> dict[int, int]:
    """Cores a job reserves per party from `(role, party_id, task_cores, task_parallelism)` entries:
    task_cores x task_parallelism summed over the party's roles, the arbiter's excepted (as FATE)."""
    need: dict[int, int] = {}
    for role, party_id, cores, parallelism in entries:
        if role != "arbiter":
            need[party_id] = need.get(party_id, 0) + cores * parallelism
    return need


def cores_needed(
    rows: Iterable[JobRow], hosts: Callable[[int], bool] = lambda party_id: True
) -> dict[int, int]:
    """Cores a stored job reserves per party (of the parties `hosts` says this server serves)."""
    need = cores_by_party((r.role, r.party_id, task_cores(r), task_parallelism(r)) for r in rows)
    return {pid: n for pid, n in need.items() if hosts(pid)}


def job_timeout(row: JobRow) -> int:
    """Seconds the job may run (FATE's default when its conf is silent)."""
    return job_parameters(row).timeout


__all__ = [
    "cores_by_party",
    "cores_needed",
    "job_parameters",
    "job_timeout",
    "task_cores",
    "task_parallelism",
]
