"""Live job progress: one rich bar per component with status, percent and message, until the job ends."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn

from fedloom.cli._output import print_json, styled_status
from fedloom.client import FedloomClient, JobFailed, JobProgress, TaskProgress

_JOB_ROW = "__job__"


class WatchView:
    """Renders JobProgress snapshots (the `on_progress` callback of `client.job.wait`)."""

    def __init__(self, console: Console, job_id: str) -> None:
        self._progress = Progress(
            TextColumn("{task.fields[name]}", style="bold"),
            BarColumn(bar_width=28),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[status]}"),
            TextColumn("{task.fields[elapsed]}", style="dim"),
            TextColumn("{task.fields[message]}"),
            console=console,
            transient=False,
            refresh_per_second=8,
        )
        self._rows: dict[str, TaskID] = {}
        self._job_id = job_id
        self.last: JobProgress | None = None

    def __enter__(self) -> WatchView:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def update(self, snapshot: JobProgress) -> None:
        self.last = snapshot
        self._set(_JOB_ROW, f"job {self._job_id}", snapshot.progress, snapshot.status, snapshot.message, "")
        for task in snapshot.tasks:
            self._set(
                task.component,
                f"  {task.component}",
                task.progress,
                task.status,
                _message(task),
                _elapsed(task),
            )

    def _set(self, key: str, name: str, percent: int, status: str, message: str, elapsed: str) -> None:
        name, status, message = escape(name), styled_status(status), escape(message)
        row = self._rows.get(key)
        if row is None:
            self._rows[key] = self._progress.add_task(
                "", total=100, completed=percent, name=name, status=status, message=message, elapsed=elapsed
            )
        else:
            self._progress.update(
                row, completed=percent, name=name, status=status, message=message, elapsed=elapsed
            )


def watch_job(
    client: FedloomClient, job_id: str, console: Console, *, timeout: float | None = None
) -> JobProgress:
    """Show live progress until the job ends; return the last snapshot, raise JobFailed unless success."""
    with WatchView(console, job_id) as view:
        return client.job.wait_success(job_id, timeout=timeout, on_progress=view.update)


def wait_json(
    client: FedloomClient,
    job_id: str,
    *,
    timeout: float | None = None,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Wait silently, then print the final snapshot as JSON, also when the job failed (then re-raise)."""
    try:
        final = client.job.wait_success(job_id, timeout=timeout)
    except JobFailed as exc:
        if exc.progress is not None:
            print_json({**(extra or {}), **asdict(exc.progress)})
        raise
    print_json({**(extra or {}), **asdict(final)})


def _message(task: TaskProgress) -> str:
    if task.status in ("failed", "timeout", "canceled") and task.error:
        return task.error.strip().splitlines()[-1][:120]
    return task.message[:120]


def _elapsed(task: TaskProgress) -> str:
    return "" if task.elapsed_ms is None else f"{task.elapsed_ms / 1000:.1f}s"


__all__ = ["WatchView", "wait_json", "watch_job"]
