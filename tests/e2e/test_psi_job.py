"""A reader -> data_transform -> intersection job through the HTTP API, as fate-client drives it."""

from __future__ import annotations

import io
import tarfile
import time

import pytest

from fedloom.paths import staging_dir
from fedloom.server import EmbeddedServer
from tests.e2e.conftest import Api
from tests.e2e.jobs import psi_job

pytestmark = pytest.mark.slow


def test_psi_job_runs_to_success_and_is_tracked(api: Api, server: EmbeddedServer) -> None:
    dsl, conf = psi_job()
    res = api.post("/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 0, res
    job_id = res["jobId"]
    assert res["data"]["model_info"]["model_id"] == "guest-9999#host-10000#model"
    assert api.wait(job_id) == "success"
    data = api.post(
        "/tracking/component/output/data",
        {"job_id": job_id, "component_name": "intersection_0", "role": "guest", "party_id": 9999},
    )
    assert data["meta"]["total"] == [569]
    assert data["meta"]["header"][0][:2] == ["id", "y"]
    tasks = api.ok("/job/task/query", {"job_id": job_id})
    assert {t["f_status"] for t in tasks} == {"success"}
    # The output-data archive is built in a staging file, served, and removed.
    r = api.http.post(
        "/tracking/component/output/data/download",
        json={"job_id": job_id, "component_name": "intersection_0", "role": "guest", "party_id": 9999},
    )
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment; filename=job_")
    with tarfile.open(fileobj=io.BytesIO(r.content), mode="r:gz") as tar:
        csv = tar.extractfile("data.csv")
        assert csv is not None
        lines = csv.read().decode().splitlines()
    assert len(lines) == 570 and lines[0].startswith("id,y,")
    _assert_staging_empties(server)
    # So is the job's log archive.
    r = api.http.post("/job/log/download", json={"job_id": job_id})
    assert r.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(r.content), mode="r:gz") as tar:
        assert any(n.endswith("INFO.log") for n in tar.getnames())
    _assert_staging_empties(server)


def _assert_staging_empties(server: EmbeddedServer) -> None:
    staging = staging_dir(server.settings.resolved_data_dir)
    deadline = time.monotonic() + 10  # removed by a background task once the body is sent
    while list(staging.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert list(staging.iterdir()) == []
