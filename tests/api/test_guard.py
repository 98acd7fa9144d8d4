"""The edge guard over a small app served by a real uvicorn: errors answered inside (keep-alive holds,
no exception text), streaming untouched, host parsing and the start-up exposure rules."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from fedloom.api.guard import Guard, _split_host, exposure_problem
from fedloom.config import Settings

SECRET_TEXT = "secret detail /srv/data/fedloom.db"


async def boom(_: Request) -> Response:
    raise RuntimeError(SECRET_TEXT)


async def echo(request: Request) -> Response:
    return JSONResponse({"retcode": 0, "size": len(await request.body())})


async def stream(_: Request) -> Response:
    async def parts() -> AsyncIterator[bytes]:
        for i in range(3):
            yield f"part{i}\n".encode()

    return StreamingResponse(parts(), media_type="text/plain")


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    settings = Settings(port=port, max_json_bytes=1000)
    app = Starlette(
        routes=[
            Route("/boom", boom, methods=["POST"]),
            Route("/echo", echo, methods=["POST"]),
            Route("/stream", stream),
        ],
        middleware=[Middleware(Guard, settings=settings)],  # as in create_app: inside ServerErrorMiddleware
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def _port_of(r: httpx.Response) -> Any:
    return r.extensions["network_stream"].get_extra_info("client_addr")[1]


def test_internal_error_is_opaque_logged_and_keeps_the_connection(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="fedloom.api.guard"), httpx.Client(base_url=url) as http:
        r = http.post("/boom", json={})
        res = r.json()
        assert res["retcode"] == 100 and "reference" in res["retmsg"]
        assert SECRET_TEXT not in r.text and "RuntimeError" not in r.text
        assert r.headers.get("connection") != "close"
        again = http.post("/echo", json={"a": 1})
        assert again.json() == {"retcode": 0, "size": 7}
        assert _port_of(again) == _port_of(r)
    ref = res["retmsg"].split("reference ")[1].split(";")[0]
    assert any(ref in rec.getMessage() and rec.exc_info for rec in caplog.records)


def test_streaming_response_passes_through(url: str) -> None:
    with httpx.Client(base_url=url) as http, http.stream("GET", "/stream") as r:
        assert list(r.iter_lines()) == ["part0", "part1", "part2"]


def test_body_over_the_limit_is_refused_and_small_ones_pass(url: str) -> None:
    with httpx.Client(base_url=url) as http:
        assert (
            http.post(
                "/echo", content=b"{}" + b" " * 990, headers={"Content-Type": "application/json"}
            ).json()["size"]
            == 992
        )
        chunks = iter([b"{}", b" " * 600, b" " * 600])
        r = http.post("/echo", content=chunks, headers={"Content-Type": "application/json"})
        assert r.json()["retcode"] == 101 and "max_json_bytes" in r.json()["retmsg"]


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("localhost", ("localhost", None)),
        ("LocalHost:80", ("localhost", 80)),
        ("[::1]:9380", ("::1", 9380)),
        ("[::1]", ("::1", None)),
        ("::1", None),
        ("a:b", None),
        ("[::1", None),
        ("a b", None),
        (":80", None),
        ("h@evil.com", None),
        ("h:9380:1", None),
        ("h:1234567", None),
    ],
)
def test_split_host(value: str, parsed: tuple[str, int | None] | None) -> None:
    assert _split_host(value) == parsed


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({}, None),
        ({"host": "localhost", "app_key": "k", "secret_key": "s"}, None),
        ({"host": "0.0.0.0", "app_key": "k", "secret_key": "s"}, None),
        ({"host": "0.0.0.0"}, "keygen"),
        (
            {"host": "10.1.2.3", "auth_required": False, "app_key": "k", "secret_key": "s"},
            "auth_required is false",
        ),
        ({"auth_required": True}, "no client key"),
        ({"host": "::1", "auth_required": False}, None),
    ],
)
def test_exposure_rules(settings: dict[str, Any], problem: str | None) -> None:
    found = exposure_problem(Settings(**settings))
    assert (found is None) if problem is None else (found is not None and problem in found)
    if found is not None:
        assert "s" != found and "secret_key" in found  # names the setting, never a value
