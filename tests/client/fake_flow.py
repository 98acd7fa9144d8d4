"""The one fake FATE-Flow /v1 server of the SDK and CLI tests (httpx.MockTransport, no sockets).

Its job and task rows are the real server's answers, recorded in `recorded_answers.json` by
`record_answers.py` and checked against the live routes by `tests/api/test_recorded_answers.py`;
a test overrides only the fields it is about.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

Handler = Callable[[httpx.Request], httpx.Response]
RECORDED: dict[str, dict[str, Any]] = json.loads(
    Path(__file__).with_name("recorded_answers.json").read_text()
)


def envelope(data: Any = None, *, retcode: int = 0, retmsg: str = "success", **extra: Any) -> dict[str, Any]:
    """FATE's envelope with null keys left out (`job_id=` becomes `jobId`)."""
    body = {"retcode": retcode, "retmsg": retmsg, "data": data, "jobId": extra.pop("job_id", None), **extra}
    return {k: v for k, v in body.items() if v is not None}


class FakeServer:
    """Answers `/v1/<path>` from registered handlers and records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[httpx.Request] = []

    def on(self, path: str, handler: Handler | None = None, *, method: str = "POST", **reply: Any) -> None:
        """Register a handler, or a fixed envelope built from `reply` (see `envelope`)."""
        fixed = envelope(**reply)
        self.routes[(method, path)] = handler or (lambda _request: httpx.Response(200, json=fixed))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/v1/")
        handler = self.routes.get((request.method, path))
        if handler is None:
            return httpx.Response(404, json={"retcode": 404, "retmsg": f"no route {request.method} {path}"})
        return handler(request)

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def _recorded(kind: str, job_id: str) -> dict[str, Any]:
    row = copy.deepcopy(RECORDED[kind])
    recorded_id = row["f_job_id"]
    for key, value in row.items():
        if isinstance(value, str):
            row[key] = value.replace(recorded_id, job_id)
    return row


def job_record(job_id: str, status: str, progress: int = 0, **extra: Any) -> dict[str, Any]:
    """The server's job/query row of the initiator (a psi job: reader_0, data_transform_0, intersection_0)."""
    return {**_recorded("job", job_id), "f_status": status, "f_progress": progress, **extra}


def task_record(
    component: str, status: str, role: str = "guest", party_id: int = 9999, job_id: str = "1", **extra: Any
) -> dict[str, Any]:
    """The server's task/query row of one task."""
    row = _recorded("task", job_id)
    row.update(
        f_task_id=f"{job_id}_{component}",
        f_component_name=component,
        f_status=status,
        f_party_status=status,
        f_role=role,
        f_party_id=party_id,
    )
    return {**row, **extra}
