"""The unmodified fate-client 1.11 `flow` CLI against the servers of a 3-party cluster (guest 9999, host
10000, arbiter 10001) with client app keys on: signed uploads at guest and host, a Hetero LR job
submitted, followed and read at the guest's server, unsigned or wrongly signed requests refused with
109, and a stop at the host's server that ends the job everywhere.

Needs FEDLOOM_FATE_VENV (see test_fate_client.py); skipped without it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.harness import Cluster, PartyApi, Server
from tests.cluster.test_cluster_jobs import ARBITER, GUEST, HOST, grant
from tests.compat.test_fate_client import BIN, flow
from tests.e2e.jobs import hetero_lr_job

pytestmark = pytest.mark.slow
ENDED = ("success", "failed", "canceled", "timeout")


class FlowCli:
    """The `flow` CLI with a settings file of its own.

    fate-client keeps its `flow init` settings next to its code (`flow_client/settings.yaml`), one file
    per install: each instance runs an unmodified copy of the package from `home` (first on PYTHONPATH),
    so guest and host settings coexist and other test modules' settings are left alone.
    """

    def __init__(self, home: Path, package: Path) -> None:
        self.home = home
        shutil.copytree(package, home / "flow_client", ignore=shutil.ignore_patterns("__pycache__"))
        assert self("init", "--reset")["retcode"] == 0

    def __call__(self, *args: str) -> dict[str, Any]:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("PYTHONPATH", str(self.home))
            return flow(*args)

    def init(self, srv: Server, key: tuple[str, str] | None = None) -> None:
        """`flow init` at `srv`, signing with `key` (app key, secret key) if given. Reset first: a plain
        `flow init --ip --port` keeps the key of an earlier init."""
        assert self("init", "--reset")["retcode"] == 0
        args = ["init", "--ip", "127.0.0.1", "--port", str(srv.api_port)]
        if key is not None:
            args += ["--app-key", key[0], "--secret-key", key[1]]
        assert self(*args)["retcode"] == 0


def flow_package() -> Path:
    out = subprocess.run(
        [str(BIN / "python"), "-c", "import flow_client; print(flow_client.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip()).parent


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with Cluster(tmp_path_factory.mktemp("fate-cluster"), [GUEST, HOST, ARBITER]) as c:
        yield c


@pytest.fixture(scope="module")
def new_cli(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], FlowCli]:
    package = flow_package()
    return lambda: FlowCli(tmp_path_factory.mktemp("flow-home"), package)


@pytest.fixture(scope="module")
def guest_cli(cluster: Cluster, new_cli: Callable[[], FlowCli]) -> FlowCli:
    cli = new_cli()
    srv = cluster.servers[GUEST]
    cli.init(srv, (srv.app_key, srv.secret))
    return cli


@pytest.fixture(scope="module")
def host_cli(cluster: Cluster, new_cli: Callable[[], FlowCli]) -> FlowCli:
    cli = new_cli()
    srv = cluster.servers[HOST]
    cli.init(srv, (srv.app_key, srv.secret))
    return cli


@pytest.fixture(scope="module")
def uploaded(cluster: Cluster, guest_cli: FlowCli, host_cli: FlowCli, demo_dir: Path) -> None:
    for cli, name in ((guest_cli, "breast_hetero_guest"), (host_cli, "breast_hetero_host")):
        res = cli("data", "upload", "-c", str(demo_dir / f"upload_{name}.json"), "--drop")
        assert res["retcode"] == 0, res  # multipart, conf in the query string, signed
        wait_table(cli, name)
    grant(cluster.api(HOST))
    grant(cluster.api(ARBITER))


def wait_table(cli: FlowCli, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = cli("table", "info", "-n", "experiment", "-t", name)
        if info["retcode"] == 0 and info["data"].get("count") == 569:
            return
        time.sleep(0.2)
    raise AssertionError(f"table {name} not uploaded in {timeout}s: {info}")


def submit(cli: FlowCli, tmp_path: Path, max_iter: int = 30) -> str:
    dsl, conf = hetero_lr_job(GUEST, HOST, ARBITER, max_iter=max_iter)
    (tmp_path / "dsl.json").write_text(json.dumps(dsl))
    (tmp_path / "conf.json").write_text(json.dumps(conf))
    res = cli("job", "submit", "-c", str(tmp_path / "conf.json"), "-d", str(tmp_path / "dsl.json"))
    assert res["retcode"] == 0, res
    return str(res["jobId"])


def wait_job(cli: FlowCli, job_id: str, timeout: float = 180) -> str:
    """The initiator's status of `job_id` once it has ended, through `flow job query`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = cli("job", "query", "-j", job_id, "-r", "guest", "-p", str(GUEST))["data"]
        if rows and rows[0]["f_status"] in ENDED:
            return str(rows[0]["f_status"])
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not end in {timeout}s")


def job_ids(api: PartyApi) -> set[str]:
    return {j["job_id"] for j in api.ok("/job/list/job", {"limit": 1000})["jobs"]}


def auc(metrics: dict[str, Any]) -> float:
    for names in metrics.values():
        for entry in names.values():
            for key, value in entry["data"]:
                if key == "auc":
                    return float(value)
    raise AssertionError(f"no auc in {metrics}")


def test_flow_trains_across_three_servers_from_the_guest(
    cluster: Cluster, guest_cli: FlowCli, uploaded: None, tmp_path: Path
) -> None:
    job_id = submit(guest_cli, tmp_path)
    assert wait_job(guest_cli, job_id) == "success", guest_cli("job", "query", "-j", job_id)
    res = guest_cli("job", "query", "-j", job_id)
    assert res["retcode"] == 0, res
    rows = {(r["f_role"], r["f_party_id"]): r["f_status"] for r in res["data"]}
    assert rows == {("guest", GUEST): "success", ("host", HOST): "success", ("arbiter", ARBITER): "success"}
    tasks = guest_cli("task", "query", "-j", job_id)
    assert tasks["retcode"] == 0, tasks
    assert {(t["f_role"], t["f_party_id"]) for t in tasks["data"]} >= {
        ("guest", GUEST),
        ("host", HOST),
        ("arbiter", ARBITER),
    }
    lr = {(t["f_role"], t["f_party_status"]) for t in tasks["data"] if t["f_component_name"] == "hetero_lr_0"}
    assert lr == {("guest", "success"), ("host", "success"), ("arbiter", "success")}
    common = ["-j", job_id, "-r", "guest", "-p", str(GUEST), "-cpn", "evaluation_0"]
    metrics = guest_cli("tracking", "metric-all", *common)
    assert metrics["retcode"] == 0, metrics
    assert auc(metrics["data"]) > 0.95


def test_a_wrong_secret_is_refused_and_creates_nothing(
    cluster: Cluster, new_cli: Callable[[], FlowCli], uploaded: None, tmp_path: Path
) -> None:
    guest = cluster.api(GUEST)
    before = job_ids(guest)
    cli = new_cli()
    srv = cluster.servers[GUEST]
    cli.init(srv, (srv.app_key, "wrong"))
    res = cli("job", "query", "-j", "nope")
    assert res["retcode"] == 109, res
    assert "SIGNATURE" in res["retmsg"] and "signature authentication failed" in res["retmsg"], res
    assert srv.secret not in json.dumps(res)
    dsl, conf = hetero_lr_job(GUEST, HOST, ARBITER)
    (tmp_path / "dsl.json").write_text(json.dumps(dsl))
    (tmp_path / "conf.json").write_text(json.dumps(conf))
    res = cli("job", "submit", "-c", str(tmp_path / "conf.json"), "-d", str(tmp_path / "dsl.json"))
    assert res["retcode"] == 109, res
    assert job_ids(guest) == before


def test_another_partys_key_is_unknown_here(cluster: Cluster, new_cli: Callable[[], FlowCli]) -> None:
    cli = new_cli()
    guest = cluster.servers[GUEST]
    cli.init(cluster.servers[HOST], (guest.app_key, guest.secret))
    res = cli("job", "list")
    assert res["retcode"] == 109 and "unknown app key" in res["retmsg"], res


def test_without_an_app_key_the_server_refuses(cluster: Cluster, new_cli: Callable[[], FlowCli]) -> None:
    cli = new_cli()
    cli.init(cluster.servers[GUEST])
    for args in (("job", "list"), ("job", "query", "-j", "nope")):
        res = cli(*args)
        assert res["retcode"] == 109, res
        assert "authentication required" in res["retmsg"] and "flow init" in res["retmsg"], res


def test_a_stop_at_the_hosts_server_cancels_the_job_everywhere(
    cluster: Cluster, guest_cli: FlowCli, host_cli: FlowCli, uploaded: None, tmp_path: Path
) -> None:
    job_id = submit(guest_cli, tmp_path, max_iter=500)
    host = cluster.api(HOST)
    assert host.wait(job_id, 60, until={"running"}) == "running"
    res = host_cli("job", "stop", "-j", job_id)
    assert res["retcode"] == 0, res
    assert wait_job(guest_cli, job_id, 60) == "canceled"
    for pid, cli in ((GUEST, guest_cli), (HOST, host_cli)):
        rows = cli("job", "query", "-j", job_id)["data"]
        assert {r["f_status"] for r in rows if r["f_party_id"] == pid} == {"canceled"}, rows
    assert cluster.api(ARBITER).wait(job_id, 60) == "canceled"
