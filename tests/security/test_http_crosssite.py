"""A web page in the user's browser must not drive a server on localhost: Host (DNS rebinding), Origin,
Sec-Fetch-Site and Content-Type are checked on every request, and a refusal changes nothing."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import httpx
import pytest

from fedloom.server import EmbeddedServer
from tests.security.conftest import Fingerprint

# Accepted, this request would delete a demo table: a refusal must leave the fingerprint unchanged.
DELETE = {"namespace": "experiment", "table_name": "breast_hetero_guest"}


def raw_request(url: str, head: str, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send exactly these header lines (CRLF added) and body; return status, headers, body."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=30) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode("latin-1") + b"\r\n\r\n" + body)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        header_block, _, rest = data.partition(b"\r\n\r\n")
        lines = header_block.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return int(lines[0].split()[1]), headers, rest


def _post(server: EmbeddedServer, path: str, *, body: bytes = b"", **headers: str) -> dict[str, object]:
    with httpx.Client(base_url=server.url) as http:
        r = http.post(path, content=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _delete_body() -> bytes:
    return json.dumps(DELETE).encode()


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonp",
        "text/plain; charset=application/json",
    ],
)
def test_json_route_refuses_other_content_types(
    sec_server: EmbeddedServer, fingerprint: Fingerprint, content_type: str
) -> None:
    before = fingerprint.take()
    res = _post(sec_server, "/v1/table/delete", body=_delete_body(), **{"Content-Type": content_type})
    assert res["retcode"] == 101
    assert "Content-Type" in str(res["retmsg"]) and "application/json" in str(res["retmsg"])
    assert fingerprint.take() == before


def test_body_without_content_type_is_refused(sec_server: EmbeddedServer, fingerprint: Fingerprint) -> None:
    before = fingerprint.take()
    port = sec_server.settings.port
    body = _delete_body()
    status, _, raw = raw_request(
        sec_server.url,
        f"POST /v1/table/delete HTTP/1.1\nHost: 127.0.0.1:{port}\nContent-Length: {len(body)}",
        body,
    )
    res = json.loads(raw)
    assert (status, res["retcode"]) == (200, 101) and "missing" in res["retmsg"]
    assert fingerprint.take() == before


def test_upload_refuses_text_plain(sec_server: EmbeddedServer, fingerprint: Fingerprint) -> None:
    before = fingerprint.take()
    res = _post(sec_server, "/v1/data/upload", body=b"id,x\n1,2\n", **{"Content-Type": "text/plain"})
    assert res["retcode"] == 101 and "multipart/form-data" in str(res["retmsg"])
    assert fingerprint.take() == before


def test_empty_post_without_content_type_is_allowed(sec_server: EmbeddedServer) -> None:
    """fate-client's `flow queue clean` sends neither a body nor a Content-Type."""
    port = sec_server.settings.port
    status, _, raw = raw_request(sec_server.url, f"POST /v1/job/clean/queue HTTP/1.1\nHost: 127.0.0.1:{port}")
    assert status == 200 and json.loads(raw)["retcode"] == 0


def test_get_download_with_json_body_reaches_the_route(sec_server: EmbeddedServer) -> None:
    with httpx.Client(base_url=sec_server.url) as http:
        r = http.request(
            "GET",
            "/v1/tracking/component/output/data/download",
            json={"job_id": "nosuchjob", "role": "guest", "party_id": 9999, "component_name": "x"},
        )
    res = r.json()
    assert res["retcode"] not in (101, 109) or "Content-Type" not in res["retmsg"], res


@pytest.mark.parametrize(
    "host",
    [
        "evil.com",
        "evil.com:{port}",
        "attacker.example:{port}",
        "localhost.evil.com:{port}",
        "127.0.0.1.nip.io",
        "127.0.0.1:{other}",
        "localhost:{other}",
        "[::1]:{other}",
        "",
        "127.0.0.1:{port}@evil.com",
        "[::1",
        "127.0.0.1:{port}:1",
    ],
)
def test_foreign_host_is_refused(sec_server: EmbeddedServer, fingerprint: Fingerprint, host: str) -> None:
    """DNS rebinding: a page of evil.com whose name now points at 127.0.0.1 sends `Host: evil.com`."""
    port = sec_server.settings.port
    value = host.format(port=port, other=port + 1)
    before = fingerprint.take()
    body = _delete_body()
    status, _, raw = raw_request(
        sec_server.url,
        f"POST /v1/table/delete HTTP/1.1\nHost: {value}\nContent-Type: application/json\n"
        f"Content-Length: {len(body)}",
        body,
    )
    if status == 400 and not raw.startswith(b"{"):
        return  # uvicorn refused the malformed header before us: refused all the same
    res = json.loads(raw)
    assert res["retcode"] == 109 and "Host" in res["retmsg"], res
    assert fingerprint.take() == before


def test_duplicate_host_is_refused(sec_server: EmbeddedServer, fingerprint: Fingerprint) -> None:
    port = sec_server.settings.port
    before = fingerprint.take()
    body = _delete_body()
    status, _, raw = raw_request(
        sec_server.url,
        f"POST /v1/table/delete HTTP/1.1\nHost: 127.0.0.1:{port}\nHost: evil.com\n"
        f"Content-Type: application/json\nContent-Length: {len(body)}",
        body,
    )
    if raw.startswith(b"{"):
        res = json.loads(raw)
        assert res["retcode"] == 109 and "Host" in res["retmsg"]
    else:
        assert status == 400
    assert fingerprint.take() == before


@pytest.mark.parametrize(
    "host", ["127.0.0.1:{port}", "LOCALHOST:{port}", "localhost", "[::1]:{port}", "[::1]"]
)
def test_own_host_names_are_accepted(sec_server: EmbeddedServer, host: str) -> None:
    port = sec_server.settings.port
    status, _, raw = raw_request(
        sec_server.url,
        f"POST /v1/version/get HTTP/1.1\nHost: {host.format(port=port)}\nContent-Type: application/json\n"
        "Content-Length: 2",
        b"{}",
    )
    assert status == 200 and json.loads(raw)["retcode"] == 0, raw


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.com",
        "null",
        "http://127.0.0.1:1",
        "https://localhost.evil.com",
        "file://",
        "http://127.0.0.1:{port}.evil.com",
    ],
)
def test_foreign_origin_is_refused(sec_server: EmbeddedServer, fingerprint: Fingerprint, origin: str) -> None:
    before = fingerprint.take()
    value = origin.format(port=sec_server.settings.port)
    res = _post(
        sec_server,
        "/v1/table/delete",
        body=_delete_body(),
        **{"Content-Type": "application/json", "Origin": value},
    )
    assert res["retcode"] == 109 and "Origin" in str(res["retmsg"]), res
    assert fingerprint.take() == before


def test_own_origin_is_accepted(sec_server: EmbeddedServer) -> None:
    res = _post(
        sec_server,
        "/v1/version/get",
        body=b"{}",
        **{"Content-Type": "application/json", "Origin": sec_server.url},
    )
    assert res["retcode"] == 0, res


def test_cross_site_fetch_without_origin_is_refused(
    sec_server: EmbeddedServer, fingerprint: Fingerprint
) -> None:
    before = fingerprint.take()
    res = _post(
        sec_server,
        "/v1/table/delete",
        body=_delete_body(),
        **{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"},
    )
    assert res["retcode"] == 109 and "Sec-Fetch-Site" in str(res["retmsg"])
    assert fingerprint.take() == before


def test_preflight_from_a_foreign_origin_gets_no_cors_grant(sec_server: EmbeddedServer) -> None:
    with httpx.Client(base_url=sec_server.url) as http:
        r = http.options(
            "/v1/table/delete", headers={"Origin": "http://evil.com", "Access-Control-Request-Method": "POST"}
        )
    assert "access-control-allow-origin" not in r.headers
    assert r.json()["retcode"] == 109
