"""The v1 routes over the real services on SQLite, served by uvicorn on a free 127.0.0.1 port (guard
included). The Platform is not started: no scheduler moves a job, so each answer shows only the route's
own effect."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from fedloom.api.app import create_app
from fedloom.platform import Platform
from tests.services.conftest import make_platform


class Client:
    """Posts JSON to /v1 and returns the envelope."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def post(self, path: str, body: Any = None) -> dict[str, Any]:
        r = self.http.post(f"/v1{path}", json=body if body is not None else {})
        assert r.headers["content-type"].startswith("application/json"), r.text
        found: dict[str, Any] = r.json()
        return found

    def ok(self, path: str, body: Any = None) -> Any:
        res = self.post(path, body)
        assert res["retcode"] == 0, res
        return res.get("data")


@pytest.fixture()
def platform(tmp_path: Path) -> Iterator[Platform]:
    p = make_platform(tmp_path / "data")
    try:
        yield p
    finally:
        p.close()


@pytest.fixture()
def client(platform: Platform) -> Iterator[Client]:
    with serve(platform) as api:
        yield api


@contextmanager
def serve(platform: Platform) -> Iterator[Client]:
    """The platform's API served by uvicorn on a free loopback port, and a client of it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(create_app(platform), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "uvicorn did not start"
        time.sleep(0.01)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            yield Client(http)
    finally:
        server.should_exit = True
        thread.join(10)
