"""A party's server killed mid-job: back in time, the job completes; down past the deadline, the job fails
at every party with the reason, and no task runs on anywhere."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from fedloom.storage.demo_data import write_demo
from fedloom.worker.pool import is_our_task
from tests.cluster.harness import Cluster, PartyApi
from tests.cluster.test_cluster_jobs import ARBITER, GUEST, HOST, grant, upload_demo
from tests.e2e.jobs import hetero_lr_job

pytestmark = pytest.mark.slow


def our_processes(data_dir: Path) -> list[int]:
    """Processes (zygote and tasks) started by the server of `data_dir` that still run."""
    owner = str(data_dir.resolve())
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and is_our_task(int(p), owner)]


def no_processes_left(data_dir: Path, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while our_processes(data_dir):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def wait_running(api: PartyApi, job_id: str, component: str, role: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tasks = api.ok("/job/task/query", {"job_id": job_id, "component_name": component, "role": role})
        if any(t["f_party_status"] == "running" for t in tasks):
            return
        time.sleep(0.05)
    raise AssertionError(f"{component} never ran at {role}")


def start_job(cluster: Cluster, tmp_path: Path, max_iter: int) -> str:
    demo = tmp_path / "demo"
    write_demo(demo)
    upload_demo(cluster, demo)
    grant(cluster.api(HOST))
    grant(cluster.api(ARBITER))
    dsl, conf = hetero_lr_job(GUEST, HOST, ARBITER, max_iter=max_iter)
    res = cluster.api(GUEST).post("/job/submit", {"dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 0, res
    return str(res["jobId"])


def test_a_host_killed_mid_job_and_restarted_lets_the_job_complete(tmp_path: Path) -> None:
    with Cluster(tmp_path, [GUEST, HOST, ARBITER], settings={"party_timeout": 120}) as cluster:
        guest = cluster.api(GUEST)
        job_id = start_job(cluster, tmp_path, max_iter=60)
        wait_running(guest, job_id, "hetero_lr_0", "host")
        time.sleep(0.5)
        cluster.kill(HOST)
        assert no_processes_left(tmp_path / f"data-{HOST}")  # its zygote and tasks died with it
        cluster.start(HOST)
        assert guest.wait(job_id, 240) == "success", guest.job_rows(job_id)
        assert cluster.api(HOST).wait(job_id, 30) == "success"
        versions = {
            t["f_task_version"]
            for t in guest.ok("/job/task/query", {"job_id": job_id, "component_name": "hetero_lr_0"})
        }
        assert max(versions) >= 1  # the interrupted component ran again, at every party


def test_a_host_down_past_the_deadline_fails_the_job_everywhere(tmp_path: Path) -> None:
    settings = {"party_timeout": 4, "command_deadline": 3}
    with Cluster(tmp_path, [GUEST, HOST, ARBITER], settings=settings) as cluster:
        guest, arbiter = cluster.api(GUEST), cluster.api(ARBITER)
        job_id = start_job(cluster, tmp_path, max_iter=200)
        wait_running(guest, job_id, "hetero_lr_0", "host")
        cluster.kill(HOST)
        assert guest.wait(job_id, 60) == "failed"
        row = next(r for r in guest.job_rows(job_id) if r["f_is_initiator"])
        assert "party host 10000 unreachable since" in row["f_status_message"], row
        assert arbiter.wait(job_id, 30) == "failed"
        for api in (guest, arbiter):
            tasks = api.ok("/job/task/query", {"job_id": job_id})
            assert not [t for t in tasks if t["f_party_status"] in ("running", "waiting")], tasks
        # The host comes back: it learns the job's end from the initiator and runs nothing of it.
        cluster.start(HOST)
        host = cluster.api(HOST)
        assert host.wait(job_id, 30) == "failed"
        tasks = host.ok("/job/task/query", {"job_id": job_id})
        assert not [t for t in tasks if t["f_party_status"] in ("running", "waiting")], tasks
