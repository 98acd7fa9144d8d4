"""The unmodified fate-client 1.11 signs its requests (`flow init --app-key --secret-key`) and a keyed
fedloom server accepts them; a wrong secret is refused with retcode 109.

Needs FEDLOOM_FATE_VENV (see test_fate_client.py); skipped without it.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_crash_recovery import _port

pytestmark = pytest.mark.slow
VENV = os.environ.get("FEDLOOM_FATE_VENV")
if not VENV:
    pytest.skip("FEDLOOM_FATE_VENV not set: fate-client compatibility not tested", allow_module_level=True)
BIN = Path(str(VENV)) / "bin"
APP_KEY = secrets.token_hex(8)
SECRET_KEY = secrets.token_urlsafe(24)


def flow(*args: str) -> dict[str, Any]:
    out = subprocess.run([str(BIN / "flow"), *args], capture_output=True, text=True, timeout=120)
    text = out.stdout[out.stdout.index("{") :] if "{" in out.stdout else out.stdout
    try:
        return json.loads(text)  # type: ignore[no-any-return]
    except json.JSONDecodeError as exc:
        raise AssertionError(f"flow {' '.join(args)}: {out.stdout}\n{out.stderr}") from exc


def _init(port: int, secret: str) -> None:
    args = ["init", "--ip", "127.0.0.1", "--port", str(port), "--app-key", APP_KEY, "--secret-key", secret]
    subprocess.run([str(BIN / "flow"), *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = _port()
    data = tmp_path_factory.mktemp("fate-auth")
    env = {**os.environ, "FEDLOOM_APP_KEY": APP_KEY, "FEDLOOM_SECRET_KEY": SECRET_KEY}
    code = (
        "from pathlib import Path; from fedloom.config import load_settings; from fedloom.server import serve; "
        f"serve(load_settings(None, port={port}, data_dir=Path({str(data)!r}), sweep_interval=0.5))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        _wait_up(port)
        yield port
    finally:
        # flow keeps its settings inside the venv: leave no keys behind for other test modules.
        subprocess.run([str(BIN / "flow"), "init", "--reset"], capture_output=True)
        proc.terminate()
        proc.wait(timeout=20)


def _wait_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            r = httpx.post(f"http://127.0.0.1:{port}/v1/version/get", json={}, timeout=1)
            assert r.json()["retcode"] == 109, r.text  # unsigned: refused
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("server did not start")


def test_flow_cli_signed_requests_are_accepted(keyed_server: int, demo_dir: Path, tmp_path: Path) -> None:
    _init(keyed_server, SECRET_KEY)
    res = flow("data", "upload", "-c", str(demo_dir / "upload_breast_hetero_guest.json"), "--drop")
    assert res["retcode"] == 0, res  # multipart, conf in the query string: path and query are signed
    job_id = res["jobId"]
    assert flow("job", "query", "-j", job_id)["retcode"] == 0
    assert flow("queue", "clean")["retcode"] == 0  # POST without body or Content-Type
    for _ in range(300):
        info = flow("table", "info", "-n", "experiment", "-t", "breast_hetero_guest")
        if info["retcode"] == 0 and info["data"].get("count") == 569:
            break
        time.sleep(0.2)
    assert info["data"]["count"] == 569, info
    log = flow("job", "log", "-j", job_id, "-o", str(tmp_path / "log"))
    assert log["retcode"] not in (101, 109), log  # past the guard (an upload job may have no log yet)


def test_flow_sdk_signed_requests_are_accepted(keyed_server: int) -> None:
    script = (
        "import json; from flow_sdk.client import FlowClient; "
        f"c = FlowClient('127.0.0.1', {keyed_server}, 'v1', app_key={APP_KEY!r}, secret_key={SECRET_KEY!r}); "
        "print(json.dumps([c.job.list(limit=3)['retcode'], c.queue.clean()['retcode'], "
        "c.table.info(namespace='experiment', table_name='nope')['retcode']]))"
    )
    out = subprocess.run([str(BIN / "python"), "-c", script], capture_output=True, text=True, timeout=60)
    codes = json.loads(out.stdout.strip().splitlines()[-1])
    assert codes[:2] == [0, 0], out.stdout + out.stderr
    assert codes[2] != 109  # reached the route (the table does not exist), not refused by the signature


def test_flow_cli_wrong_secret_is_refused(keyed_server: int) -> None:
    _init(keyed_server, SECRET_KEY + "x")
    try:
        res = flow("job", "list")
        assert res["retcode"] == 109, res
        assert "SIGNATURE" in res["retmsg"]
        assert SECRET_KEY not in json.dumps(res)
    finally:
        _init(keyed_server, SECRET_KEY)
