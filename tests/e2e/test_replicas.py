"""Replicas: two servers share one database and one data dir. Either answers the API; each job is
reconciled by one of them at a time (a lease in the database); killing that one loses nothing."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from fedloom.storage.demo_data import write_demo
from tests.cluster.harness import PartyApi, free_port, new_database, spawn_server
from tests.e2e.jobs import hetero_lr_job
from tests.e2e.test_hetero_lr_job import _auc

pytestmark = pytest.mark.slow


class Replica:
    def __init__(self, root: Path, name: str, database_url: str) -> None:
        self.name = name
        self.port = free_port()
        self.config = root / f"replica-{name}.yaml"
        self.log = root / f"replica-{name}.log"
        self.config.write_text(
            yaml.safe_dump(
                {
                    "server_id": name,
                    "port": self.port,
                    "data_dir": str(root / "shared-data"),
                    "database_url": database_url,
                    "sweep_interval": 0.3,
                }
            )
        )
        self.api = PartyApi(f"http://127.0.0.1:{self.port}")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = spawn_server(self.config, self.log, self.api)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[tuple[Replica, Replica, str]]:
    url = new_database("mariadb")
    pair = Replica(tmp_path, "a", url), Replica(tmp_path, "b", url)
    try:
        for r in pair:
            r.start()
        yield pair[0], pair[1], url
    finally:
        for r in pair:
            r.kill(signal.SIGTERM)
            r.api.close()


def lease_holder(url: str, job_id: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT owner FROM lease WHERE name = :n"), {"n": f"job:{job_id}"}
            ).first()
    finally:
        engine.dispose()
    return None if row is None else str(row[0])


def test_either_replica_serves_and_a_killed_holder_loses_nothing(
    replicas: tuple[Replica, Replica, str], tmp_path: Path
) -> None:
    a, b, url = replicas
    demo = tmp_path / "demo"
    write_demo(demo)
    for name in ("breast_hetero_guest", "breast_hetero_host"):
        assert a.api.upload(demo / f"{name}.csv", "experiment", name)["retcode"] == 0  # uploaded at a
    dsl, conf = hetero_lr_job(9999, 10000, 10001, max_iter=60)
    job_id = b.api.post("/job/submit", {"dsl": dsl, "job_runtime_conf": conf})["jobId"]  # submitted at b
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        tasks = a.api.ok("/job/task/query", {"job_id": job_id, "component_name": "hetero_lr_0"})
        if any(t["f_party_status"] == "running" for t in tasks):
            break
        time.sleep(0.05)
    holder = lease_holder(url, job_id)
    assert holder in ("a", "b")
    dead, alive = (a, b) if holder == "a" else (b, a)
    dead.kill()  # mid hetero_lr_0: its tasks die with it
    assert alive.api.wait(job_id, 240) == "success", alive.api.job_rows(job_id)
    assert lease_holder(url, job_id) is None  # released at the end
    assert _auc(alive.api, job_id) > 0.95  # type: ignore[arg-type]
    versions = {t["f_task_version"] for t in alive.api.ok("/job/task/query", {"job_id": job_id})}
    assert max(versions) >= 1  # the interrupted component ran again
    # The killed replica comes back: it finds the job ended and does not disturb it.
    dead.start()
    assert dead.api.status(job_id) == "success"
