"""`client.job` and `client.task`: FATE's /v1/job/* routes, plus waiting for a job to end."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from fedloom.client._progress import failures, initiator_record, job_progress
from fedloom.client._transport import Transport, drop_none
from fedloom.client.errors import ApiError, JobFailed, WaitTimeout
from fedloom.client.results import JobProgress, SubmitResult

ProgressCallback = Callable[[JobProgress], None]
Records = list[dict[str, Any]]
_NO_TASK_RETCODES = frozenset({101, 102})  # FATE answers 101 "find task failed" for an empty result


class TaskApi:
    """Tasks: one component of one job at one party."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def query(
        self,
        job_id: str | None = None,
        role: str | None = None,
        party_id: int | None = None,
        component_name: str | None = None,
        status: str | None = None,
    ) -> Records:
        body = drop_none(
            job_id=job_id, role=role, party_id=party_id, component_name=component_name, status=status
        )
        return list(self._t.call("job/task/query", body) or [])

    def list(
        self,
        limit: int = 10,
        page: int | None = None,
        job_id: str | None = None,
        role: str | None = None,
        party_id: int | None = None,
        component_name: str | None = None,
    ) -> dict[str, Any]:
        body = drop_none(
            limit=limit, page=page, job_id=job_id, role=role, party_id=party_id, component_name=component_name
        )
        return dict(self._t.call("job/list/task", body) or {})


class JobApi:
    """Jobs: submit, inspect, control, and wait for them."""

    def __init__(self, transport: Transport, tasks: TaskApi) -> None:
        self._t = transport
        self._tasks = tasks

    def submit(self, dsl: Mapping[str, Any] | None, conf: Mapping[str, Any]) -> SubmitResult:
        """Submit a DSL + runtime conf (`dsl=None` for a predict job)."""
        envelope = self._t.post("job/submit", {"job_dsl": dict(dsl or {}), "job_runtime_conf": dict(conf)})
        envelope.raise_for_retcode()
        return SubmitResult.from_response(envelope.job_id, envelope.data)

    def query(
        self,
        job_id: str | None = None,
        role: str | None = None,
        party_id: int | None = None,
        status: str | None = None,
    ) -> Records:
        body = drop_none(job_id=job_id, role=role, party_id=party_id, status=status)
        return list(self._t.call("job/query", body) or [])

    def list(
        self,
        limit: int = 10,
        page: int | None = None,
        status: str | Sequence[str] | None = None,
        role: str | Sequence[str] | None = None,
        party_id: int | None = None,
        job_id: str | None = None,
        description: str | None = None,
        order_by: str | None = None,
        order: str | None = None,
    ) -> dict[str, Any]:
        """`{"jobs": [...], "count": N}`, newest first unless `order_by`/`order` say otherwise."""
        body = drop_none(
            limit=limit,
            page=page,
            status=_list_or_str(status),
            role=_list_or_str(role),
            party_id=party_id,
            job_id=job_id,
            description=description,
            order_by=order_by,
            order=order,
        )
        return dict(self._t.call("job/list/job", body) or {})

    def stop(self, job_id: str, stop_status: str | None = None) -> Any:
        return self._t.call("job/stop", drop_none(job_id=job_id, stop_status=stop_status))

    def parties(self, job_id: str) -> Records:
        """Every party's own view of the job (fedloom's /v1/job/parties)."""
        return list(self._t.call("job/parties", {"job_id": job_id}) or [])

    def rerun(self, job_id: str, component_name: str | None = None, force: bool = False) -> Any:
        body = drop_none(job_id=job_id, component_name=component_name, force=force)
        return self._t.call("job/rerun", body)

    def config(self, job_id: str, role: str | None = None, party_id: int | None = None) -> dict[str, Any]:
        """`{job_id, dsl, runtime_conf, train_runtime_conf, model_info}`."""
        return dict(self._t.call("job/config", drop_none(job_id=job_id, role=role, party_id=party_id)) or {})

    def log_download(self, job_id: str, out_dir: Path) -> Path:
        """Download the job's logs into `<out_dir>/job_<job_id>_log/` (FATE's layout) and return it."""
        dest = Path(out_dir) / f"job_{job_id}_log"
        return self._t.download("POST", "job/log/download", {"job_id": job_id}, dest)

    def update(self, job_id: str, role: str, party_id: int, notes: str) -> Any:
        """Set the job's description (FATE's `notes`)."""
        body = {"job_id": job_id, "role": role, "party_id": party_id, "notes": notes}
        return self._t.call("job/update", body)

    def clean(
        self,
        job_id: str,
        role: str | None = None,
        party_id: int | None = None,
        component_name: str | None = None,
    ) -> Any:
        body = drop_none(job_id=job_id, role=role, party_id=party_id, component_name=component_name)
        return self._t.call("job/clean", body)

    def dsl_generate(self, train_dsl: Mapping[str, Any], cpn_list: Sequence[str]) -> dict[str, Any]:
        """The predict DSL FATE derives from a training DSL and the components to keep."""
        body = {"train_dsl": json.dumps(dict(train_dsl)), "cpn_str": list(cpn_list), "version": "2"}
        return dict(self._t.call("job/dsl/generate", body) or {})

    def parameter_update(
        self,
        job_id: str,
        job_parameters: Mapping[str, Any] | None = None,
        component_parameters: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Deep-merge new parameters into a job's stored conf (then `rerun(force=True)`)."""
        body = drop_none(
            job_id=job_id,
            job_parameters=_dict_or_none(job_parameters),
            component_parameters=_dict_or_none(component_parameters),
        )
        return dict(self._t.call("job/parameter/update", body) or {})

    def progress(self, job_id: str) -> JobProgress:
        """One snapshot of the job and its components, from the initiator's point of view."""
        records = self.query(job_id=job_id)
        if not records:
            raise ApiError(102, f"job {job_id} not found")
        return job_progress(initiator_record(records), self._task_records(job_id))

    def wait(
        self,
        job_id: str,
        *,
        timeout: float | None = None,
        interval: float = 0.2,
        on_progress: ProgressCallback | None = None,
    ) -> str:
        """Poll until the job ends; return its final status. Raises WaitTimeout after `timeout` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            snapshot = self.progress(job_id)
            if on_progress is not None:
                on_progress(snapshot)
            if snapshot.done:
                return snapshot.status
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(job_id, snapshot.status, timeout or 0.0)
            time.sleep(interval)

    def wait_success(
        self,
        job_id: str,
        *,
        timeout: float | None = None,
        interval: float = 0.2,
        on_progress: ProgressCallback | None = None,
    ) -> JobProgress:
        """Like `wait`, but return the final snapshot, or raise JobFailed naming the failing component."""
        seen: list[JobProgress] = []

        def keep(snapshot: JobProgress) -> None:
            seen[:] = [snapshot]
            if on_progress is not None:
                on_progress(snapshot)

        status = self.wait(job_id, timeout=timeout, interval=interval, on_progress=keep)
        if status != "success":
            raise JobFailed(job_id, status, failures(self._task_records(job_id)), seen[-1])
        return seen[-1]

    def _task_records(self, job_id: str) -> Records:
        try:
            return self._tasks.query(job_id=job_id)
        except ApiError as exc:
            if exc.retcode in _NO_TASK_RETCODES:
                return []
            raise


def _list_or_str(value: str | Sequence[str] | None) -> str | list[str] | None:
    if value is None or isinstance(value, str):
        return value
    return list(value)


def _dict_or_none(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else dict(value)


__all__ = ["JobApi", "ProgressCallback", "TaskApi"]
