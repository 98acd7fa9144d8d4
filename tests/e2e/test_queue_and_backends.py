"""20 jobs at once under a limit of 2, and whole jobs on MariaDB and PostgreSQL metadata stores."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from fedloom.config import load_settings
from fedloom.server import EmbeddedServer
from tests.e2e.conftest import Api
from tests.e2e.jobs import psi_job

pytestmark = pytest.mark.slow


def _server(data: Path, demo_dir: Path, **overrides: object) -> EmbeddedServer:
    srv = EmbeddedServer(load_settings(None, port=0, data_dir=data, **overrides)).start()
    api = Api(srv.url)
    for name in ("breast_hetero_guest", "breast_hetero_host"):
        assert api.upload(demo_dir / f"{name}.csv", "experiment", name)["retcode"] == 0
    return srv


def test_twenty_jobs_with_two_running_all_end_and_limit_holds(tmp_path: Path, demo_dir: Path) -> None:
    srv = _server(tmp_path, demo_dir, max_running_jobs=2)
    try:
        api = Api(srv.url)
        dsl, conf = psi_job()
        peak, stop = [0], threading.Event()

        def watch() -> None:  # sample the store directly, as often as it can
            jobs = srv.platform.stores.jobs
            while not stop.wait(0.002):
                peak[0] = max(peak[0], jobs.count_initiator_jobs("running"))

        watcher = threading.Thread(target=watch)
        watcher.start()
        ids = [
            api.post("/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})["jobId"] for _ in range(20)
        ]
        statuses = [api.wait(j, timeout=120) for j in ids]
        stop.set()
        watcher.join()
        assert statuses == ["success"] * 20
        assert peak[0] == 2
    finally:
        srv.stop()


_BACKENDS = {
    "mysql": ("mysql+pymysql://root@127.0.0.1:3306/", "mysql+pymysql://root@127.0.0.1:3306/{db}"),
    "postgres": (
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        "postgresql+psycopg://postgres@127.0.0.1:5432/{db}",
    ),
}


@pytest.fixture(params=list(_BACKENDS))
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    admin, url = _BACKENDS[request.param]
    db = f"fedloom_e2e_{uuid.uuid4().hex[:8]}"
    try:
        eng = create_engine(admin, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {db}"))
    except Exception as exc:  # not reachable here: skip this backend
        pytest.skip(f"{request.param} not reachable: {type(exc).__name__}")
    yield url.format(db=db)
    with eng.connect() as conn:
        conn.execute(text(f"DROP DATABASE {db}"))
    eng.dispose()


def test_job_runs_on_server_database(tmp_path: Path, demo_dir: Path, database_url: str) -> None:
    srv = _server(tmp_path, demo_dir, database_url=database_url)
    try:
        api = Api(srv.url)
        dsl, conf = psi_job()
        job_id = api.post("/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})["jobId"]
        assert api.wait(job_id) == "success"
        assert api.ok("/job/list/job", {})["count"] >= 3  # two uploads and the job
    finally:
        srv.stop()


def test_a_job_that_does_not_fit_never_blocks_one_that_does(tmp_path: Path, demo_dir: Path) -> None:
    from tests.e2e.test_job_control import _slow_job

    srv = _server(tmp_path, demo_dir, total_cores=4)
    try:
        api = Api(srv.url)
        slow_dsl, slow_conf = _slow_job()  # blocks in its intersection until stopped
        slow_conf["job_parameters"] = {"common": {"task_cores": 2}}
        holder = api.post("/job/submit", {"job_dsl": slow_dsl, "job_runtime_conf": slow_conf})["jobId"]
        big_dsl, big_conf = psi_job()
        big_conf["job_parameters"] = {"common": {"task_cores": 3}}
        big = api.post("/job/submit", {"job_dsl": big_dsl, "job_runtime_conf": big_conf})["jobId"]
        small_dsl, small_conf = psi_job()
        small = api.post("/job/submit", {"job_dsl": small_dsl, "job_runtime_conf": small_conf})["jobId"]
        assert api.wait(small) == "success"  # started past the big job that waits for cores
        waiting = api.ok("/job/query", {"job_id": big, "role": "guest"})[0]
        assert waiting["f_status"] == "waiting"
        assert re.search(r"party 9999 needs 3 cores, [12] free", waiting["f_status_message"])
        assert api.post("/job/stop", {"job_id": holder})["retcode"] == 0
        assert api.wait(big) == "success"
    finally:
        srv.stop()
