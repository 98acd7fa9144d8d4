"""Client authentication (fate-client's app-key signing), start-up refusals, and /docs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fedloom.client import FedloomClient
from fedloom.errors import InvalidInput
from fedloom.server import EmbeddedServer
from fedloom.signing import sign_headers
from tests.security.conftest import Fingerprint, start_server

APP_KEY = "test-app-key"
SECRET = "test-secret-not-for-answers"
DELETE = {"namespace": "experiment", "table_name": "breast_hetero_guest"}


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Iterator[EmbeddedServer]:
    srv = start_server(tmp_path_factory.mktemp("keyed"), app_key=APP_KEY, secret_key=SECRET)
    try:
        with FedloomClient(srv.url, app_key=APP_KEY, secret_key=SECRET) as client:
            job_id = client.data.upload(
                demo_dir / "breast_hetero_guest.csv", "experiment", "breast_hetero_guest"
            )
            client.job.wait(job_id, timeout=60)
        yield srv
    finally:
        srv.stop()


def _send(
    srv: EmbeddedServer, body: bytes, headers: dict[str, str], path: str = "/v1/table/delete"
) -> dict[str, Any]:
    with httpx.Client(base_url=srv.url) as http:
        r = http.post(path, content=body, headers={"Content-Type": "application/json", **headers})
    assert r.status_code == 200
    assert SECRET not in r.text
    return r.json()  # type: ignore[no-any-return]


def _signed(
    path: str, body: bytes, *, secret: str = SECRET, app_key: str = APP_KEY, now: float | None = None
) -> dict[str, str]:
    return sign_headers(app_key, secret, path.encode(), body, now=now)


def test_signed_sdk_requests_work(keyed: EmbeddedServer) -> None:
    with FedloomClient(keyed.url, app_key=APP_KEY, secret_key=SECRET) as client:
        assert client.version()["API"] == "v1"
        assert client.table.info("experiment", "breast_hetero_guest")["count"] == 569


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing"),
        ({"TIMESTAMP": "1", "NONCE": "n", "APP_KEY": APP_KEY, "SIGNATURE": "x"}, "TIMESTAMP"),
        ("wrong-secret", "SIGNATURE"),
        ("wrong-app-key", "APP_KEY"),
        ("stale", "TIMESTAMP"),
        ("future", "TIMESTAMP"),
        ("other-body", "SIGNATURE"),
        ("other-path", "SIGNATURE"),
    ],
)
def test_unsigned_or_badly_signed_requests_are_refused(
    keyed: EmbeddedServer, headers: dict[str, str] | str, reason: str
) -> None:
    fingerprint = Fingerprint(keyed)
    before = fingerprint.take()
    body = json.dumps(DELETE).encode()
    path = "/v1/table/delete"
    if headers == "wrong-secret":
        headers = _signed(path, body, secret="guess")
    elif headers == "wrong-app-key":
        headers = _signed(path, body, app_key="other")
    elif headers == "stale":
        headers = _signed(path, body, now=time.time() - 3600)
    elif headers == "future":
        headers = _signed(path, body, now=time.time() + 3600)
    elif headers == "other-body":
        headers = _signed(path, b'{"namespace": "x", "table_name": "y"}')
    elif headers == "other-path":
        headers = _signed("/v1/version/get", body)
    assert isinstance(headers, dict)
    res = _send(keyed, body, headers, path)
    assert res["retcode"] == 109 and reason in res["retmsg"], res
    assert fingerprint.take() == before


def test_replayed_request_is_refused(keyed: EmbeddedServer) -> None:
    body = b'{"module": "FATEFlow"}'
    headers = _signed("/v1/version/get", body)
    assert _send(keyed, body, headers, "/v1/version/get")["retcode"] == 0
    res = _send(keyed, body, headers, "/v1/version/get")
    assert res["retcode"] == 109 and "replayed" in res["retmsg"]


def test_signed_upload_query_is_covered(keyed: EmbeddedServer, demo_dir: Path) -> None:
    """Multipart: the body is not signed (FATE's scheme) but the path and the query conf are."""
    fingerprint = Fingerprint(keyed)
    before = fingerprint.take()
    conf = "%7B%22namespace%22:%20%22experiment%22%7D"
    headers = sign_headers(APP_KEY, SECRET, f"/v1/data/upload?{conf}".encode())
    tampered = "%7B%22namespace%22:%20%22other%22%7D"
    with httpx.Client(base_url=keyed.url) as http:
        r = http.post(
            f"/v1/data/upload?{tampered}", files={"file": ("a.csv", b"id,x\n1,2\n")}, headers=headers
        )
    assert r.json()["retcode"] == 109
    assert fingerprint.take() == before


def test_docs_paths_are_off_by_default(sec_server: EmbeddedServer) -> None:
    with httpx.Client(base_url=sec_server.url) as http:
        for path in ("/docs", "/redoc", "/openapi.json"):
            r = http.get(path)
            assert r.status_code == 404 and "openapi" not in r.text.lower(), r.text


def test_docs_on_when_configured(tmp_path: Path) -> None:
    srv = start_server(tmp_path / "docs", api_docs=True, worker_preload=False)
    try:
        with httpx.Client(base_url=srv.url) as http:
            r = http.get("/openapi.json")
            assert r.status_code == 200 and "/v1/job/submit" in r.text
            assert str(srv.settings.resolved_data_dir) not in r.text
            assert http.get("/docs").status_code == 200
    finally:
        srv.stop()


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"host": "0.0.0.0"}, "fedloom server keygen"),
        ({"host": "0.0.0.0", "auth_required": False}, "auth_required is false"),
        ({"host": "::", "auth_required": False}, "auth_required is false"),
        ({"auth_required": True}, "no client key"),
    ],
)
def test_exposed_server_without_key_refuses_to_start(
    tmp_path: Path, settings: dict[str, object], says: str
) -> None:
    data_dir = tmp_path / "exposed"
    with pytest.raises(InvalidInput, match=says):
        start_server(data_dir, **settings)
    assert not data_dir.exists() or not any(data_dir.iterdir())  # nothing opened or locked


def test_key_on_non_loopback_host_starts(tmp_path: Path) -> None:
    srv = start_server(
        tmp_path / "lan", host="0.0.0.0", app_key=APP_KEY, secret_key=SECRET, worker_preload=False
    )
    try:
        url = f"http://127.0.0.1:{srv.settings.port}"
        with FedloomClient(url, app_key=APP_KEY, secret_key=SECRET) as client:
            assert client.version()["API"] == "v1"
        with httpx.Client(base_url=url) as http:
            assert http.post("/v1/version/get", json={}).json()["retcode"] == 109
    finally:
        srv.stop()
