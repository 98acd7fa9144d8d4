"""Typed results of SDK calls: a submitted job, live job/task progress, data with its meta."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

END_STATUSES = frozenset({"success", "failed", "canceled", "timeout"})
INTERRUPT_STATUSES = ("failed", "timeout", "canceled")  # most severe first


@dataclass(frozen=True)
class SubmitResult:
    """What `job/submit` answers: FATE's `jobId`, `data.model_info` and `data.board_url`."""

    job_id: str
    model_id: str
    model_version: str
    board_url: str

    @classmethod
    def from_response(cls, job_id: str | None, data: Any) -> SubmitResult:
        body = data if isinstance(data, dict) else {}
        model_info = body.get("model_info") or {}
        return cls(
            job_id=str(job_id or body.get("job_id") or ""),
            model_id=str(model_info.get("model_id", "")),
            model_version=str(model_info.get("model_version", "")),
            board_url=str(body.get("board_url", "")),
        )


@dataclass(frozen=True)
class TaskProgress:
    """One component of a job, merged over the parties that run it."""

    component: str
    status: str
    progress: int
    message: str = ""
    error: str = ""
    elapsed_ms: int | None = None
    parties: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class JobProgress:
    """A snapshot of a job as seen by its initiator, with one entry per component in DSL order."""

    job_id: str
    status: str
    progress: int
    message: str = ""
    role: str = ""
    party_id: int = 0
    tasks: tuple[TaskProgress, ...] = field(default_factory=tuple)

    @property
    def done(self) -> bool:
        return self.status in END_STATUSES


@dataclass(frozen=True)
class DataWithMeta:
    """Routes that answer both `data` and `meta` (output data preview, output model, metric data)."""

    data: Any
    meta: Any

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


__all__ = [
    "END_STATUSES",
    "INTERRUPT_STATUSES",
    "DataWithMeta",
    "JobProgress",
    "SubmitResult",
    "TaskProgress",
]
