"""kill -9 of the server during a job: the next start brings the job to an end (how fast: benchmarks/bench_recovery.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Api
from tests.e2e.jobs import psi_job

pytestmark = pytest.mark.slow


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(data: Path, port: int) -> subprocess.Popen[bytes]:
    code = (
        "from pathlib import Path; from fedloom.config import load_settings; from fedloom.server import serve; "
        f"serve(load_settings(None, port={port}, data_dir=Path({str(data)!r}), sweep_interval=0.5))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(f"http://127.0.0.1:{port}/v1/version/get", json={}, timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not start")


def test_kill9_then_restart_resumes_job(tmp_path: Path, demo_dir: Path) -> None:
    port = _port()
    proc = _start(tmp_path, port)
    api = Api(f"http://127.0.0.1:{port}")
    try:
        for name in ("breast_hetero_guest", "breast_hetero_host"):
            assert api.upload(demo_dir / f"{name}.csv", "experiment", name)["retcode"] == 0
        dsl, conf = psi_job()
        job_id = api.post("/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})["jobId"]
        time.sleep(0.3)  # mid-job
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc = _start(tmp_path, port)
        status = api.wait(job_id, timeout=30)
        assert status == "success", api.ok("/job/query", {"job_id": job_id})
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
