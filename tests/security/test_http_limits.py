"""Body limits hold while bytes stream in (chunked or lying Content-Length), bad JSON is a clear 101,
and the connection stays open after an error."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from fedloom.server import EmbeddedServer
from tests.security.conftest import Fingerprint, start_server

GIB = 1024**3
CHUNK = 256 * 1024
JSON_LIMIT = 1024 * 1024
UPLOAD_LIMIT = 8 * 1024 * 1024
SLACK = 16 * 1024 * 1024  # socket buffers in flight (about 5 MiB measured on loopback)


class Counting:
    """A body generator that records how much of it was consumed."""

    def __init__(self, total: int, prefix: bytes = b"") -> None:
        self.total = total
        self.prefix = prefix
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        if self.prefix:
            self.sent += len(self.prefix)
            yield self.prefix
        block = b" " * CHUNK
        while self.sent < self.total:
            self.sent += CHUNK
            yield block


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    srv = start_server(
        tmp_path_factory.mktemp("limits"), max_json_bytes=JSON_LIMIT, max_body_bytes=UPLOAD_LIMIT
    )
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.slow
def test_chunked_json_body_is_refused_while_streaming(small_server: EmbeddedServer) -> None:
    """The 1.5 GiB chunked body of the report: refused once past the limit, the rest never read."""
    body = Counting(3 * GIB // 2, b'{"job_id": "')
    with httpx.Client(base_url=small_server.url, timeout=60) as http:
        r = http.post("/v1/job/query", content=body, headers={"Content-Type": "application/json"})
    res = r.json()
    assert res["retcode"] == 101 and "max_json_bytes" in res["retmsg"], res
    assert body.sent < JSON_LIMIT + SLACK, body.sent


@pytest.mark.slow
def test_chunked_upload_is_refused_while_streaming(small_server: EmbeddedServer) -> None:
    conf = quote(
        json.dumps({"file": "x.csv", "head": 1, "partition": 1, "namespace": "n", "table_name": "t"})
    )
    prefix = b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.csv"\r\n\r\nid,x\r\n'
    body = Counting(3 * GIB // 2, prefix)
    before = Fingerprint(small_server).take()
    with httpx.Client(base_url=small_server.url, timeout=60) as http:
        r = http.post(
            f"/v1/data/upload?{conf}",
            content=body,
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
    res = r.json()
    assert res["retcode"] == 101 and "max_body_bytes" in res["retmsg"], res
    assert body.sent < UPLOAD_LIMIT + SLACK, body.sent
    assert Fingerprint(small_server).take() == before


def test_declared_length_over_the_limit_is_refused_before_the_body(small_server: EmbeddedServer) -> None:
    with socket.create_connection(("127.0.0.1", small_server.settings.port), timeout=30) as sock:
        sock.sendall(
            f"POST /v1/job/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {2 * GIB}\r\n\r\n".encode()
        )
        answer = _read_all(sock)  # no body sent at all: the server answers and closes
    assert b'"retcode": 101' in answer and b"max_json_bytes" in answer
    assert b"connection: close" in answer.lower()


def test_lying_content_length_with_chunked_body_is_counted(small_server: EmbeddedServer) -> None:
    """`Content-Length: 10` plus `Transfer-Encoding: chunked`: the chunks are what is counted."""
    sent = 0
    with socket.create_connection(("127.0.0.1", small_server.settings.port), timeout=30) as sock:
        sock.sendall(
            b"POST /v1/job/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = f"{CHUNK:x}\r\n".encode() + b" " * CHUNK + b"\r\n"
        try:
            while sent < 64 * JSON_LIMIT:
                sock.sendall(chunk)
                sent += CHUNK
        except OSError:
            pass  # the server answered and closed: expected
        answer = _read_all(sock)
    assert sent < JSON_LIMIT + SLACK
    if answer:  # h11 may refuse the conflicting headers itself (400) before our guard sees them
        assert b'"retcode": 101' in answer or answer.startswith(b"HTTP/1.1 400"), answer[:300]


def test_lying_short_content_length_lets_nothing_more_through(small_server: EmbeddedServer) -> None:
    """The bytes past a short Content-Length are not part of the body (they are a bad next request)."""
    with socket.create_connection(("127.0.0.1", small_server.settings.port), timeout=30) as sock:
        sock.sendall(
            b"POST /v1/job/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2\r\n\r\n{}" + b"x" * 1000
        )
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 200")  # the body was `{}` only; the x's were never part of it
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1].split(b"HTTP/1.1")[0])["retcode"] == 0


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except OSError:
        pass
    return data


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a":' * 200 + b"1" + b"}" * 200, "nested too deeply"),
        (b'{"job_id": ' + b"1" + b"0" * 100_000 + b"}", "more than"),
        (b'{"limit": 1e999}', "overflows"),
        (b'{"limit": NaN}', "NaN"),
        (b'{"job_id": "x"', "not valid JSON"),
        (b"\xff\xfe\x00", "JSON"),
        (b"[1, 2]", "JSON object"),
    ],
)
def test_bad_json_is_a_clear_101_and_keeps_the_connection(
    sec_server: EmbeddedServer, fingerprint: Fingerprint, body: bytes, reason: str
) -> None:
    before = fingerprint.take()
    with httpx.Client(base_url=sec_server.url) as http:
        r = http.post("/v1/job/query", content=body, headers={"Content-Type": "application/json"})
        res = r.json()
        assert res["retcode"] == 101 and reason in res["retmsg"], res
        assert "Traceback" not in r.text and "RecursionError" not in r.text
        assert r.headers.get("connection") != "close"
        port = _local_port(r)
        again = http.post("/v1/version/get", json={})
        assert again.json()["retcode"] == 0
        assert _local_port(again) == port  # the same keep-alive connection
    assert fingerprint.take() == before


def test_connection_kept_after_refusals(sec_server: EmbeddedServer) -> None:
    with httpx.Client(base_url=sec_server.url) as http:
        first = http.post("/v1/table/delete", content=b"{}", headers={"Content-Type": "text/plain"})
        assert first.json()["retcode"] == 101
        unknown = http.post("/v1/no/such/route", json={})
        assert unknown.status_code == 404
        bad_origin = http.post("/v1/version/get", json={}, headers={"Origin": "http://evil.com"})
        assert bad_origin.json()["retcode"] == 109
        ok = http.post("/v1/version/get", json={})
        assert ok.json()["retcode"] == 0
        ports = {_local_port(r) for r in (first, unknown, bad_origin, ok)}
        assert len(ports) == 1
        assert all(r.headers.get("connection") != "close" for r in (first, unknown, bad_origin, ok))


def test_answers_hold_no_server_paths(sec_server: EmbeddedServer) -> None:
    data_dir = str(sec_server.settings.resolved_data_dir)
    with httpx.Client(base_url=sec_server.url) as http:
        answers = [
            http.post("/v1/job/query", content=b"[" * 5000, headers={"Content-Type": "application/json"}),
            http.post("/v1/info/common", json={}),
            http.post("/v1/version/get", content=b"x", headers={"Content-Type": "text/plain"}),
            http.get("/openapi.json"),
        ]
    for r in answers:
        assert data_dir not in r.text and str(Path.home()) not in r.text, r.text


def _local_port(response: httpx.Response) -> int:
    stream = response.extensions["network_stream"]
    return int(stream.get_extra_info("client_addr")[1])
