"""Stop, rerun, the running-job limit, and a task process that dies."""

from __future__ import annotations

import time

import pytest

from fedloom.worker.pool import kill_pid
from tests.e2e.conftest import Api
from tests.e2e.jobs import psi_job

pytestmark = pytest.mark.slow


def _submit(api: Api, dsl: dict, conf: dict) -> str:  # type: ignore[type-arg]
    res = api.post("/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 0, res
    return str(res["jobId"])


def _slow_job() -> tuple[dict, dict]:  # type: ignore[type-arg]
    """Host never sends: the guest's intersection blocks until it is stopped or times out."""
    dsl, conf = psi_job()
    conf["role"]["host"] = [10000]
    conf["component_parameters"]["role"]["host"]["0"]["intersection_0"] = {"need_run": False}
    return dsl, conf


def test_stop_kills_tasks_and_cancels(api: Api) -> None:
    job_id = _submit(api, *_slow_job())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        tasks = api.ok("/job/task/query", {"job_id": job_id, "component_name": "intersection_0"})
        if any(t["f_party_status"] == "running" for t in tasks):
            break
        time.sleep(0.05)
    res = api.post("/job/stop", {"job_id": job_id})
    assert res["retcode"] == 0, res
    assert api.wait(job_id) == "canceled"
    tasks = api.ok("/job/task/query", {"job_id": job_id, "component_name": "intersection_0", "role": "guest"})
    assert tasks[0]["f_party_status"] == "canceled"


def test_dying_task_fails_job_then_rerun_succeeds(api: Api) -> None:
    job_id = _submit(api, *_slow_job())
    pid = None
    deadline = time.monotonic() + 20
    while pid is None and time.monotonic() < deadline:
        tasks = api.ok(
            "/job/task/query", {"job_id": job_id, "component_name": "intersection_0", "role": "guest"}
        )
        pid = (
            tasks[0]["f_run_pid"] if tasks[0]["f_party_status"] == "running" else None
        )  # None until recorded
        time.sleep(0.05)
    assert pid
    kill_pid(pid)
    assert api.wait(job_id, timeout=10) == "failed"  # how fast it is noticed: benchmarks/bench_recovery.py
    job = api.ok("/job/query", {"job_id": job_id, "role": "guest"})[0]
    assert "intersection_0" in job["f_status_message"]
    # Fix the conf (host runs its intersection again) and rerun only the failed component.
    dsl, conf = psi_job()
    res = api.post(
        "/job/parameter/update",
        {
            "job_id": job_id,
            "component_parameters": {"role": {"host": {"0": {"intersection_0": {"need_run": True}}}}},
        },
    )
    assert res["retcode"] == 0, res
    res = api.post("/job/rerun", {"job_id": job_id, "component_name": "intersection_0"})
    assert res["retcode"] == 0, res
    assert api.wait(job_id) == "success"
    tasks = api.ok("/job/task/query", {"job_id": job_id, "component_name": "intersection_0"})
    assert {t["f_task_version"] for t in tasks} == {1}


def test_many_jobs_respect_running_limit(api: Api, server: object) -> None:
    limit = server.platform.settings.max_running_jobs  # type: ignore[attr-defined]
    dsl, conf = psi_job()
    ids = [_submit(api, dsl, conf) for _ in range(8)]
    peak = 0
    while True:
        rows = api.ok("/job/list/job", {"status": "running", "role": "guest"})
        peak = max(peak, rows["count"])
        if all(api.ok("/job/query", {"job_id": j, "role": "guest"})[0]["f_status"] == "success" for j in ids):
            break
        time.sleep(0.02)
    assert 1 <= peak <= limit


def _running_pid(api: Api, job_id: str, version: int) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        tasks = api.ok(
            "/job/task/query", {"job_id": job_id, "component_name": "intersection_0", "role": "guest"}
        )
        t = tasks[0]
        if t["f_task_version"] == version and t["f_party_status"] == "running" and t["f_run_pid"]:
            return int(t["f_run_pid"])
        time.sleep(0.05)
    raise AssertionError(f"intersection_0 version {version} never ran")


def test_job_timeout_ends_the_job(api: Api) -> None:
    dsl, conf = _slow_job()
    conf["job_parameters"] = {"common": {"timeout": 1}}
    job_id = _submit(api, dsl, conf)
    assert api.wait(job_id, timeout=15) == "timeout"
    job = api.ok("/job/query", {"job_id": job_id, "role": "guest"})[0]
    assert "timeout" in job["f_status_message"]


def test_auto_retries_rerun_a_failed_task(api: Api) -> None:
    dsl, conf = _slow_job()
    conf["job_parameters"] = {"common": {"auto_retries": 1}}
    job_id = _submit(api, dsl, conf)
    kill_pid(_running_pid(api, job_id, 0))
    _running_pid(api, job_id, 1)  # a new version runs without anyone asking
    assert api.post("/job/stop", {"job_id": job_id})["retcode"] == 0
    assert api.wait(job_id) == "canceled"
