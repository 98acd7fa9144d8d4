"""A small fake FATE-Flow server (httpx.MockTransport) and a runner for CLI tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from typer.testing import CliRunner, Result

from fedloom.cli.main import app

Handler = Callable[[httpx.Request], httpx.Response]


def envelope(data: Any = None, *, retcode: int = 0, retmsg: str = "success", **extra: Any) -> dict[str, Any]:
    body = {"retcode": retcode, "retmsg": retmsg, "data": data, "jobId": extra.pop("job_id", None), **extra}
    return {k: v for k, v in body.items() if v is not None}


class FakeFlow:
    """Routes `/v1/<path>` to handlers or fixed envelopes; records requests."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[httpx.Request] = []

    def on(self, path: str, handler: Handler | None = None, *, method: str = "POST", **reply: Any) -> None:
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

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def run(flow: FakeFlow | httpx.BaseTransport, args: Sequence[str], **kwargs: Any) -> Result:
    transport = flow.transport() if isinstance(flow, FakeFlow) else flow
    return CliRunner().invoke(app, list(args), obj=transport, **kwargs)


def job_record(job_id: str, status: str, **extra: Any) -> dict[str, Any]:
    dsl: dict[str, Any] = {"components": {"reader_0": {}, "data_transform_0": {}, "intersection_0": {}}}
    return {
        "f_job_id": job_id,
        "f_status": status,
        "f_progress": 100 if status == "success" else 10,
        "f_role": "guest",
        "f_party_id": 9999,
        "f_is_initiator": True,
        "f_dsl": dsl,
        "f_runtime_conf": {},
        **extra,
    }


def task_record(component: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "f_component_name": component,
        "f_status": status,
        "f_role": "guest",
        "f_party_id": 9999,
        "f_task_version": 0,
        **extra,
    }
