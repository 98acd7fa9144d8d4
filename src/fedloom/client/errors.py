"""Errors the SDK raises: a server's non-zero retcode, an unreachable server, a failed job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fedloom.errors import FedloomError

if TYPE_CHECKING:
    from fedloom.client.results import JobProgress


class ApiError(FedloomError):
    """The server answered with a non-zero `retcode`; `retmsg` and `data` are kept as sent."""

    def __init__(self, retcode: int, retmsg: str, data: Any = None) -> None:
        super().__init__(retmsg, data=data)
        self.retcode = retcode
        self.retmsg = retmsg


class ServerUnreachable(ApiError):
    """No HTTP answer at all (connection refused, reset, DNS). FATE's clients report this as 100."""

    def __init__(self, retmsg: str) -> None:
        super().__init__(100, retmsg)


@dataclass(frozen=True)
class TaskFailure:
    """Why one component failed at one party."""

    component: str
    role: str
    party_id: int
    status: str
    error: str


class JobFailed(FedloomError):
    """A job the SDK waited for ended in failed, canceled or timeout."""

    retcode = 103

    def __init__(
        self, job_id: str, status: str, failures: list[TaskFailure], progress: JobProgress | None = None
    ) -> None:
        reason = progress.message if progress is not None else ""
        super().__init__(_job_failed_message(job_id, status, failures, reason), data=None)
        self.job_id = job_id
        self.status = status
        self.failures = failures
        self.progress = progress


class WaitTimeout(FedloomError):
    """The job was still running when the caller's wait timeout expired (the job keeps running)."""

    def __init__(self, job_id: str, status: str, seconds: float) -> None:
        message = f"job {job_id} is still {status} after {seconds:g} s; it keeps running on the server"
        super().__init__(message)
        self.job_id = job_id
        self.status = status


def _job_failed_message(job_id: str, status: str, failures: list[TaskFailure], reason: str) -> str:
    if not failures or not failures[0].error.strip() and reason:
        return f"job {job_id} ended {status}" + (f": {reason}" if reason else "")
    first = failures[0]
    where = f"component {first.component} ({first.role} {first.party_id})"
    reason = first.error.strip().splitlines()[-1] if first.error.strip() else first.status
    return f"job {job_id} ended {status}: {where}: {reason}"


__all__ = ["ApiError", "JobFailed", "ServerUnreachable", "TaskFailure", "WaitTimeout"]
