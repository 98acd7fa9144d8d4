"""The CLI tests' side of the one fake server (`tests/client/fake_flow.py`): a runner of the CLI over it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from typer.testing import CliRunner, Result

from fedloom.cli.main import app
from tests.client.fake_flow import FakeServer, envelope, task_record
from tests.client.fake_flow import job_record as _job_record

FakeFlow = FakeServer

__all__ = ["FakeFlow", "envelope", "job_record", "run", "task_record"]


def run(flow: FakeServer | httpx.BaseTransport, args: Sequence[str], **kwargs: Any) -> Result:
    transport = flow.transport() if isinstance(flow, FakeServer) else flow
    return CliRunner().invoke(app, list(args), obj=transport, **kwargs)


def job_record(job_id: str, status: str, **extra: Any) -> dict[str, Any]:
    """The server's job row, at 100% when it succeeded and 10% otherwise."""
    return _job_record(job_id, status, progress=100 if status == "success" else 10, **extra)
