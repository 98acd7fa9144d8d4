"""How fast the server notices what went wrong (moved here from two end-to-end tests that timed it):

- a task process that dies: the time from its death to the job's `failed`, as a ratio of the sweep
  interval (well under 1 means the exit was noticed at once, not by the periodic sweep);
- kill -9 of the server mid-job: the time from the restart to the job's end, as a ratio of the same
  job's run on an undisturbed server.

    python benchmarks/bench_recovery.py
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _common import upload, wait
from bench_control_plane import slow_job, submit
from bench_pipeline import psi_job

from fedloom.storage.demo_data import write_demo
from fedloom.worker.pool import kill_pid

SWEEP_INTERVAL = 0.5


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(data: Path, port: int) -> subprocess.Popen[bytes]:
    code = (
        "from pathlib import Path; from fedloom.config import load_settings; from fedloom.server import serve; "
        f"serve(load_settings(None, port={port}, data_dir=Path({str(data)!r}), sweep_interval={SWEEP_INTERVAL}))"
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
    raise RuntimeError("server did not start")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)


def _running_pid(http: httpx.Client, job_id: str) -> int:
    while True:
        body = {"job_id": job_id, "component_name": "intersection_0", "role": "guest"}
        t = http.post("/job/task/query", json=body).json()["data"][0]
        if t["f_party_status"] == "running" and t["f_run_pid"]:
            return int(t["f_run_pid"])
        time.sleep(0.01)


def task_death(http: httpx.Client) -> float:
    """Seconds from a task process's death to its job's `failed`."""
    job_id = submit(http, slow_job())
    pid = _running_pid(http, job_id)
    killed = time.monotonic()
    kill_pid(pid)
    status = wait(http, job_id)
    assert status == "failed", status
    return time.monotonic() - killed


def server_crash(
    data: Path,
    port: int,
    proc: subprocess.Popen[bytes],
    http: httpx.Client,
    job: tuple[dict[str, Any], dict[str, Any]],
) -> tuple[subprocess.Popen[bytes], float]:
    """kill -9 mid-job, restart; seconds from the restart to the job's end."""
    job_id = submit(http, job)
    time.sleep(0.3)  # mid-job
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc = _start(data, port)
    started = time.monotonic()
    status = wait(http, job_id)
    assert status == "success", status
    return proc, time.monotonic() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        demo = root / "demo"
        write_demo(demo)
        data, port = root / "data", _port()
        proc = _start(data, port)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}/v1", timeout=60) as http:
                for name in ("breast_hetero_guest", "breast_hetero_host"):
                    upload(http, demo / f"{name}.csv", name)
                job = psi_job()
                started = time.monotonic()
                assert wait(http, submit(http, job)) == "success"
                baseline = time.monotonic() - started
                death = task_death(http)
                proc, recovery = server_crash(data, port, proc, http, job)
        finally:
            _stop(proc)
    print(
        f"task death -> job failed: {death:.3f}s = {death / SWEEP_INTERVAL:.2f} x sweep interval "
        f"({SWEEP_INTERVAL}s)"
    )
    print(
        f"server kill -9, restart -> job end: {recovery:.3f}s = {recovery / baseline:.2f} x an undisturbed run "
        f"({baseline:.3f}s)"
    )


if __name__ == "__main__":
    main()
