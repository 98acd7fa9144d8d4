"""Limits that hold against a real server: DSL size, parameter bounds, task_parallelism, stop.

Each refusal names the field or setting and changes nothing (fingerprint); a large job and a
stopped job leave no task running; outcomes only, never timings (those are in
benchmarks/bench_control_plane.py).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from fedloom.server import EmbeddedServer
from tests.e2e.jobs import hetero_lr_job, psi_job
from tests.security.conftest import Api, Fingerprint

END = ("success", "failed", "canceled", "timeout")


def fan_job(count: int, **job_parameters: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """reader_0 feeding `count - 1` parallel DataTransforms: a valid DAG of any size."""
    dsl, conf = psi_job()
    components: dict[str, Any] = {"reader_0": dsl["components"]["reader_0"]}
    for i in range(count - 1):
        components[f"dt_{i}"] = {
            "module": "DataTransform",
            "input": {"data": {"data": ["reader_0.data"]}},
            "output": {"data": ["data"]},
        }
    roles = conf["component_parameters"]["role"]
    conf["component_parameters"]["role"] = {r: {"0": {"reader_0": roles[r]["0"]["reader_0"]}} for r in roles}
    conf["job_parameters"]["common"].update(job_parameters)
    return {"components": components}, conf


def submit(api: Api, dsl: dict[str, Any], conf: dict[str, Any]) -> dict[str, Any]:
    return api.post("/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})


def refused(api: Api, fingerprint: Fingerprint, dsl: dict[str, Any], conf: dict[str, Any]) -> str:
    before = fingerprint.take()
    res = submit(api, dsl, conf)
    assert res["retcode"] != 0, res
    assert fingerprint.take() == before
    return str(res["retmsg"])


class TaskRows:
    """Reads the task table of the server's database directly (what a stop must leave behind)."""

    def __init__(self, server: EmbeddedServer) -> None:
        self.engine = sa.create_engine(server.settings.sqlalchemy_url)

    def count(self, job_id: str, where: str) -> int:
        q = sa.text(f"SELECT COUNT(*) FROM task WHERE job_id = :j AND {where}")
        with self.engine.connect() as conn:
            return int(conn.execute(q, {"j": job_id}).scalar_one())

    def running_per_party(self, job_id: str) -> dict[tuple[str, int], int]:
        q = sa.text(
            "SELECT role, party_id, COUNT(*) FROM task WHERE job_id = :j AND party_status = 'running' "
            "GROUP BY role, party_id"
        )
        with self.engine.connect() as conn:
            return {(r, p): n for r, p, n in conn.execute(q, {"j": job_id})}

    def open_rows(self, job_id: str) -> int:
        return self.count(
            job_id, "(party_status IN ('waiting', 'running') OR status IN ('waiting', 'running'))"
        )


@pytest.fixture()
def rows(sec_server: EmbeddedServer) -> Iterator[TaskRows]:
    t = TaskRows(sec_server)
    yield t
    t.engine.dispose()


def status(api: Api, job_id: str) -> str:
    found = api.ok("/job/query", {"job_id": job_id, "role": "guest"})
    return str(found[0]["f_status"])


def wait_for(predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


# ---- refusals that store nothing -------------------------------------------------------------
def test_too_many_components_is_refused_naming_the_setting(sec_api: Api, fingerprint: Fingerprint) -> None:
    limit = fingerprint.server.settings.max_job_components
    msg = refused(sec_api, fingerprint, *fan_job(limit + 1))
    assert "max_job_components" in msg


def test_too_many_parties_is_refused(sec_api: Api, fingerprint: Fingerprint) -> None:
    dsl, conf = psi_job()
    conf["role"]["host"] = list(range(20000, 20200))
    assert "conf.role" in refused(sec_api, fingerprint, dsl, conf)


@pytest.mark.parametrize(
    "field, value",
    [
        ("auto_retries", 1_000_000),
        ("task_parallelism", 10**6),
        ("computing_partitions", 10**9),
        ("timeout", 1e15),
    ],
)
def test_job_parameter_bounds(sec_api: Api, fingerprint: Fingerprint, field: str, value: Any) -> None:
    dsl, conf = psi_job()
    conf["job_parameters"]["common"][field] = value
    assert field in refused(sec_api, fingerprint, dsl, conf)


@pytest.mark.parametrize(
    "path, value",
    [
        (("encrypt_param", "key_length"), 1_048_576),
        (("max_iter",), 1e9),
        (("batch_size",), 10**12),
        (("learning_rate",), 1e300),
        (("validation_freqs",), [10**9]),
    ],
)
def test_component_parameter_bounds(
    sec_api: Api, fingerprint: Fingerprint, path: tuple[str, ...], value: Any
) -> None:
    dsl, conf = hetero_lr_job()
    params = conf["component_parameters"]["common"]["hetero_lr_0"]
    for key in path[:-1]:
        params = params.setdefault(key, {})
    params[path[-1]] = value
    assert path[-1] in refused(sec_api, fingerprint, dsl, conf)


def test_non_finite_parameters_are_refused(sec_api: Api, fingerprint: Fingerprint) -> None:
    dsl, conf = hetero_lr_job()
    body = {"job_dsl": dsl, "job_runtime_conf": conf}
    text = json.dumps(body).replace('"learning_rate": 0.05', '"learning_rate": Infinity')
    before = fingerprint.take()
    r = sec_api.http.post("/job/submit", content=text, headers={"Content-Type": "application/json"})
    assert r.status_code < 500
    assert r.json()["retcode"] != 0
    assert fingerprint.take() == before


# ---- running jobs ------------------------------------------------------------------------------
@pytest.mark.slow
def test_task_parallelism_one_runs_one_task_per_party(sec_api: Api, rows: TaskRows) -> None:
    res = submit(sec_api, *fan_job(12, task_parallelism=1))
    assert res["retcode"] == 0, res
    job_id = res["jobId"]
    peak: dict[tuple[str, int], int] = {}
    while status(sec_api, job_id) not in END:
        for party, n in rows.running_per_party(job_id).items():
            peak[party] = max(peak.get(party, 0), n)
    assert status(sec_api, job_id) == "success"
    assert peak and max(peak.values()) == 1, peak


@pytest.mark.slow
def test_stop_after_failures_starts_no_retry(sec_api: Api, rows: TaskRows) -> None:
    dsl, conf = fan_job(4, auto_retries=10, task_parallelism=1)
    conf["component_parameters"]["common"] = {
        f"dt_{i}": {"with_label": True, "label_name": "nope"} for i in range(3)
    }
    res = submit(sec_api, dsl, conf)
    assert res["retcode"] == 0, res
    job_id = res["jobId"]
    wait_for(lambda: rows.count(job_id, "task_version >= 1") > 0)  # retrying
    assert sec_api.post("/job/stop", {"job_id": job_id})["retcode"] == 0
    assert status(sec_api, job_id) == "canceled"
    versions = rows.count(job_id, "1 = 1")
    time.sleep(1.5)  # three sweeps of the scheduler (sweep_interval 0.5)
    assert rows.count(job_id, "1 = 1") == versions
    assert rows.open_rows(job_id) == 0


@pytest.mark.slow
def test_stop_of_a_queued_job(sec_server: EmbeddedServer, sec_api: Api, rows: TaskRows) -> None:
    cores = sec_server.settings.total_cores
    blockers = [submit(sec_api, *fan_job(30, task_cores=cores))["jobId"] for _ in range(2)]
    queued = submit(sec_api, *fan_job(3, task_cores=cores))["jobId"]
    assert status(sec_api, queued) == "waiting"
    for job_id in [queued, *blockers]:
        assert sec_api.post("/job/stop", {"job_id": job_id})["retcode"] == 0
        assert status(sec_api, job_id) == "canceled"
        assert rows.open_rows(job_id) == 0


@pytest.mark.slow
def test_ten_thousand_components_do_not_block_stop_or_other_jobs(
    sec_server: EmbeddedServer, sec_api: Api, rows: TaskRows
) -> None:
    limit = sec_server.settings.max_job_components
    res = submit(sec_api, *fan_job(limit))
    assert res["retcode"] == 0, res
    big = res["jobId"]
    wait_for(lambda: rows.count(big, "party_status = 'success'") > 0)
    # Other jobs are scheduled and queried while the big one runs.
    small = [submit(sec_api, *psi_job())["jobId"] for _ in range(2)]
    for job_id in small:
        wait_for(lambda job_id=job_id: status(sec_api, job_id) in END)
        assert status(sec_api, job_id) == "success"
    assert status(sec_api, big) == "running"
    stop = sec_api.post("/job/stop", {"job_id": big})
    assert stop["retcode"] == 0, stop
    assert status(sec_api, big) == "canceled"
    assert rows.open_rows(big) == 0
    assert rows.count(big, "1 = 1") == 2 * limit


@pytest.mark.slow
def test_stop_while_another_thread_queries(sec_api: Api, rows: TaskRows) -> None:
    """Stops and queries at the same time: every request answers, the job ends with nothing open."""
    res = submit(sec_api, *fan_job(200, task_parallelism=2))
    assert res["retcode"] == 0, res
    job_id = res["jobId"]
    answers: list[int] = []

    def query() -> None:
        for _ in range(20):
            answers.append(sec_api.post("/job/query", {"job_id": job_id})["retcode"])

    t = threading.Thread(target=query)
    t.start()
    assert sec_api.post("/job/stop", {"job_id": job_id})["retcode"] == 0
    t.join()
    assert answers == [0] * 20
    assert status(sec_api, job_id) == "canceled"
    assert rows.open_rows(job_id) == 0
    assert copy.deepcopy(rows.running_per_party(job_id)) == {}
