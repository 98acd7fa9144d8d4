"""A fake FATE-Flow /v1 server on httpx.MockTransport, for SDK unit tests (no sockets)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

Handler = Callable[[httpx.Request], httpx.Response]


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


def job_record(job_id: str, status: str, progress: int = 0, **extra: Any) -> dict[str, Any]:
    dsl = {"components": {"reader_0": {}, "data_transform_0": {}, "intersection_0": {}}}
    return {
        "f_job_id": job_id,
        "f_status": status,
        "f_progress": progress,
        "f_role": "guest",
        "f_party_id": 9999,
        "f_is_initiator": True,
        "f_dsl": dsl,
        "f_runtime_conf": {},
        **extra,
    }


def task_record(
    component: str, status: str, role: str = "guest", party_id: int = 9999, **extra: Any
) -> dict[str, Any]:
    return {
        "f_component_name": component,
        "f_status": status,
        "f_role": role,
        "f_party_id": party_id,
        "f_task_version": 0,
        **extra,
    }
