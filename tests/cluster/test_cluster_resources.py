"""A party reserves a job's cores at its first task there; a job that does not fit waits, then runs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fedloom.storage.demo_data import write_demo
from tests.cluster.harness import Cluster
from tests.cluster.test_cluster_jobs import GUEST, HOST, grant, upload_demo
from tests.e2e.jobs import psi_job

pytestmark = pytest.mark.slow


def test_a_job_waits_for_cores_at_the_host_then_runs(tmp_path: Path) -> None:
    with Cluster(tmp_path, [GUEST, HOST], party_settings={HOST: {"total_cores": 1}}) as cluster:
        demo = tmp_path / "demo"
        write_demo(demo)
        upload_demo(cluster, demo)
        guest, host = cluster.api(GUEST), cluster.api(HOST)
        grant(host)
        dsl, conf = psi_job(GUEST, HOST)
        jobs = [guest.post("/job/submit", {"dsl": dsl, "job_runtime_conf": conf})["jobId"] for _ in range(2)]
        deadline = time.monotonic() + 60
        messages: set[str] = set()
        while time.monotonic() < deadline and not any("waiting for resources at host" in m for m in messages):
            for job_id in jobs:
                messages |= {r["f_status_message"] for r in guest.job_rows(job_id) if r["f_is_initiator"]}
            time.sleep(0.05)
        assert any("waiting for resources at host 10000" in m and "1 cores" in m for m in messages), messages
        for job_id in jobs:
            assert guest.wait(job_id, 120) == "success", guest.job_rows(job_id)
            assert host.wait(job_id, 30) == "success"
        # Every core came back at the host.
        res = host.ok("/job/query", {"job_id": jobs[0]})
        assert res and all(not r.get("f_resource_in_use", False) for r in res)
