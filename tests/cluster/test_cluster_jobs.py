"""Jobs across real servers, one per party: guest 9999 on SQLite, host 10000 on MariaDB, arbiter 10001
on PostgreSQL; consent at the parties; one truth about a job at the initiator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedloom.cli.main import app
from fedloom.config import load_settings
from fedloom.server import EmbeddedServer
from fedloom.storage.demo_data import write_demo
from tests.cluster.harness import Cluster, PartyApi, new_database
from tests.e2e.conftest import Api
from tests.e2e.jobs import hetero_lr_job, psi_job
from tests.e2e.test_hetero_lr_job import _auc

pytestmark = pytest.mark.slow
GUEST, HOST, ARBITER = 9999, 10000, 10001


def upload_demo(cluster: Cluster, demo: Path) -> None:
    res = cluster.api(GUEST).upload(demo / "breast_hetero_guest.csv", "experiment", "breast_hetero_guest")
    assert res["retcode"] == 0, res
    res = cluster.api(HOST).upload(demo / "breast_hetero_host.csv", "experiment", "breast_hetero_host")
    assert res["retcode"] == 0, res


def grant(api: PartyApi, party_id: int = GUEST, **body: object) -> None:
    api.ok("/permission/grant", {"party_id": party_id, **body})


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    write_demo(out)
    return out


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, demo: Path) -> Iterator[Cluster]:
    databases = {HOST: new_database("mariadb"), ARBITER: new_database("postgres")}
    with Cluster(tmp_path_factory.mktemp("cluster"), [GUEST, HOST, ARBITER], databases) as c:
        upload_demo(c, demo)
        yield c


@pytest.fixture(scope="module")
def standalone_auc(tmp_path_factory: pytest.TempPathFactory, demo: Path) -> float:
    settings = load_settings(None, port=0, data_dir=tmp_path_factory.mktemp("standalone"))
    with EmbeddedServer(settings) as srv:
        api = Api(srv.url)
        for name in ("breast_hetero_guest", "breast_hetero_host"):
            assert api.upload(demo / f"{name}.csv", "experiment", name)["retcode"] == 0
        dsl, conf = hetero_lr_job(GUEST, HOST, ARBITER)
        job_id = api.post("/job/submit", {"dsl": dsl, "job_runtime_conf": conf})["jobId"]
        assert api.wait(job_id, 180) == "success"
        return _auc(api, job_id)


def test_without_consent_the_host_refuses_and_nothing_is_created(cluster: Cluster) -> None:
    guest = cluster.api(GUEST)
    dsl, conf = psi_job(GUEST, HOST)
    before = len(guest.ok("/job/list/job", {"limit": 100})["jobs"])
    res = guest.post("/job/submit", {"dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 108, res
    assert "host 10000" in res["retmsg"] and "9999" in res["retmsg"], res
    assert "fedloom permission grant" in res["retmsg"], res
    assert res["data"]["code"] in (2, 3), res  # FATE's NO_COMPONENT_PERMISSION / NO_DATASET_PERMISSION
    assert len(guest.ok("/job/list/job", {"limit": 100})["jobs"]) == before


def test_hetero_lr_across_three_servers_matches_standalone(cluster: Cluster, standalone_auc: float) -> None:
    guest, host, arbiter = cluster.api(GUEST), cluster.api(HOST), cluster.api(ARBITER)
    grant(host)
    grant(arbiter)
    dsl, conf = hetero_lr_job(GUEST, HOST, ARBITER)
    res = guest.post("/job/submit", {"dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 0, res
    job_id = res["jobId"]
    assert guest.wait(job_id, 240) == "success", guest.job_rows(job_id)
    assert _auc(guest, job_id) == pytest.approx(standalone_auc, abs=1e-9)  # type: ignore[arg-type]
    # One truth: the initiator shows every party; each party shows its own row, ended the same way.
    rows = {(r["f_role"], r["f_party_id"]): r["f_status"] for r in guest.job_rows(job_id)}
    assert rows == {("guest", GUEST): "success", ("host", HOST): "success", ("arbiter", ARBITER): "success"}
    assert host.wait(job_id, 30) == "success"
    assert arbiter.wait(job_id, 30) == "success"
    tasks = guest.ok("/job/task/query", {"job_id": job_id})
    assert {(t["f_role"], t["f_party_status"]) for t in tasks if t["f_component_name"] == "hetero_lr_0"} == {
        ("guest", "success"),
        ("host", "success"),
        ("arbiter", "success"),
    }
    # Deploy at the initiator (every party gets the same deployed version), then predict across servers.
    model = res["data"]["model_info"]
    cpns = ["reader_0", "data_transform_0", "intersection_0", "hetero_lr_0"]
    deployed = guest.ok("/model/deploy", {**model, "cpn_list": cpns})
    predict = predict_conf(deployed["model_id"], deployed["model_version"])
    res = guest.post("/job/submit", {"job_runtime_conf": predict})
    assert res["retcode"] == 0, res
    assert guest.wait(res["jobId"], 240) == "success", guest.job_rows(res["jobId"])
    assert host.wait(res["jobId"], 30) == "success"


def test_consent_is_per_component_and_table_and_a_revoke_holds_for_the_next_job(cluster: Cluster) -> None:
    guest, host = cluster.api(GUEST), cluster.api(HOST)
    host.ok("/permission/delete", {"party_id": GUEST, "component": "*", "dataset": "*"})
    dsl, conf = psi_job(GUEST, HOST)
    table = [{"namespace": "experiment", "name": "breast_hetero_host"}]
    grant(host, component="reader,datatransform", dataset=table)  # no intersection
    res = guest.post("/job/submit", {"dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 108 and "intersection" in res["retmsg"].lower(), res
    grant(host, component="intersection", dataset=table)
    res = guest.post("/job/submit", {"dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 0, res
    assert guest.wait(res["jobId"], 120) == "success"
    # The host's audit log holds the guest's commands for the job: who, what, result.
    entries = host.ok("/audit/query", {"job_id": res["jobId"], "actor": f"party:{GUEST}"})
    actions = {(e["action"].rsplit("/", 1)[-1], e["retcode"]) for e in entries}
    assert {("create", 0), ("start", 0)} <= actions, entries
    host.ok("/permission/delete", {"party_id": GUEST, "component": "intersection", "dataset": table})
    res = guest.post("/job/submit", {"dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 108, res
    grant(host)  # back to everything for the other tests


def test_a_failure_at_a_party_reaches_the_initiator_with_its_reason(cluster: Cluster) -> None:
    guest = cluster.api(GUEST)
    grant(cluster.api(HOST))
    dsl, conf = psi_job(GUEST, HOST)
    # The host's data transform is told to read a label column its table does not have.
    conf["component_parameters"]["role"]["host"]["0"]["data_transform_0"] = {
        "with_label": True,
        "label_name": "nope",
    }
    res = guest.post("/job/submit", {"dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 0, res
    job_id = res["jobId"]
    assert guest.wait(job_id, 120) == "failed"
    row = next(r for r in guest.job_rows(job_id) if r["f_is_initiator"])
    message = row["f_status_message"]
    assert "data_transform_0" in message and "host 10000" in message, message
    assert f"logs/{job_id}/host/10000/data_transform_0" in message, message
    assert cluster.api(HOST).wait(job_id, 30) == "failed"


def test_the_initiator_must_be_served_here(cluster: Cluster) -> None:
    dsl, conf = psi_job(GUEST, HOST)
    res = cluster.api(HOST).post("/job/submit", {"dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 101 and "initiator" in res["retmsg"], res


def predict_conf(model_id: str, model_version: str) -> dict[str, object]:
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST], "arbiter": [ARBITER]},
        "job_parameters": {
            "common": {"job_type": "predict", "model_id": model_id, "model_version": model_version}
        },
        "component_parameters": {
            "role": {
                "guest": {
                    "0": {"reader_0": {"table": {"name": "breast_hetero_guest", "namespace": "experiment"}}}
                },
                "host": {
                    "0": {"reader_0": {"table": {"name": "breast_hetero_host", "namespace": "experiment"}}}
                },
            }
        },
    }


def test_a_stop_at_any_party_stops_the_job_everywhere_and_parties_shows_each_view(cluster: Cluster) -> None:
    guest, host, arbiter = cluster.api(GUEST), cluster.api(HOST), cluster.api(ARBITER)
    grant(host)
    grant(arbiter)
    dsl, conf = hetero_lr_job(GUEST, HOST, ARBITER, max_iter=500)
    job_id = guest.post("/job/submit", {"dsl": dsl, "job_runtime_conf": conf})["jobId"]
    assert host.wait(job_id, 60, until={"running"}) == "running"
    views = guest.ok("/job/parties", {"job_id": job_id})
    assert {(v["role"], v["party_id"], v["served_here"]) for v in views} == {
        ("guest", GUEST, True),
        ("host", HOST, False),
        ("arbiter", ARBITER, False),
    }
    # A party's job runs from its first task on (the arbiter's first is hetero_lr_0).
    assert [v["status"] for v in views if v["role"] != "arbiter"] == ["running", "running"], views
    assert [v["party_id"] for v in host.ok("/job/parties", {"job_id": job_id})] == [HOST]
    # The CLI shows the same, as JSON and as a table.
    srv = cluster.servers[GUEST]
    cli = ["--server", srv.url, "--app-key", srv.app_key, "--secret-key", srv.secret]
    as_json = CliRunner().invoke(app, [*cli, "--json", "job", "parties", job_id])
    assert as_json.exit_code == 0, as_json.output
    assert {v["party_id"] for v in json.loads(as_json.output)} == {GUEST, HOST, ARBITER}
    table = CliRunner().invoke(app, [*cli, "job", "parties", job_id])
    assert table.exit_code == 0 and "host 10000 (remote)" in table.output, table.output
    assert "hetero_lr_0" in table.output, table.output
    assert host.post("/job/stop", {"job_id": job_id})["retcode"] == 0  # asks the initiator
    for api in (guest, host, arbiter):
        assert api.wait(job_id, 60) == "canceled"
        tasks = api.ok("/job/task/query", {"job_id": job_id})
        left = [
            (t["f_component_name"], t["f_task_version"], t["f_role"], t["f_party_status"], t["f_status"])
            for t in tasks
            if t["f_party_status"] in ("running", "waiting")
        ]
        assert not left, (api.http.base_url, left)


def test_a_grant_revoked_while_a_job_runs_stops_it_at_its_next_task(cluster: Cluster) -> None:
    guest, host = cluster.api(GUEST), cluster.api(HOST)
    grant(host)
    dsl, conf = psi_job(GUEST, HOST)
    res = guest.post("/job/submit", {"dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 0, res
    host.ok("/permission/delete", {"party_id": GUEST, "component": "*", "dataset": "*"})
    job_id = res["jobId"]
    assert guest.wait(job_id, 120) == "failed"
    message = next(r for r in guest.job_rows(job_id) if r["f_is_initiator"])["f_status_message"]
    assert "host 10000" in message and "permission" in message, message
    grant(host)


def test_after_a_failure_at_a_party_a_parameter_update_and_a_rerun_succeed(cluster: Cluster) -> None:
    guest, host = cluster.api(GUEST), cluster.api(HOST)
    grant(host)
    dsl, conf = psi_job(GUEST, HOST)
    conf["component_parameters"]["role"]["host"]["0"]["data_transform_0"] = {
        "with_label": True,
        "label_name": "nope",
    }
    job_id = guest.post("/job/submit", {"dsl": dsl, "job_runtime_conf": conf})["jobId"]
    assert guest.wait(job_id, 120) == "failed"
    fix = {"role": {"host": {"0": {"data_transform_0": {"with_label": False}}}}}
    guest.ok("/job/parameter/update", {"job_id": job_id, "component_parameters": fix})
    res = host.post("/job/rerun", {"job_id": job_id})  # at a party: it asks the initiator
    assert res["retcode"] == 0 and "data_transform_0" in res["data"]["components"], res
    assert guest.wait(job_id, 120) == "success", guest.job_rows(job_id)
    assert host.wait(job_id, 30) == "success"
    res = host.post("/job/parameter/update", {"job_id": job_id, "component_parameters": fix})
    assert res["retcode"] == 103 and "initiator" in res["retmsg"], res


def test_a_reader_may_read_only_the_outputs_of_the_same_initiators_jobs(cluster: Cluster) -> None:
    guest, host = cluster.api(GUEST), cluster.api(HOST)
    grant(host)
    dsl, conf = psi_job(GUEST, HOST)
    earlier = {"job_id": "2025010100000000000000", "component_name": "reader_0", "data": "data"}
    conf["component_parameters"]["role"]["host"]["0"]["reader_0"] = {"table": earlier}
    res = guest.post("/job/submit", {"dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 108, res
    assert "2025010100000000000000" in res["retmsg"], res


def test_a_push_into_a_session_of_no_open_job_is_refused_and_audited(cluster: Cluster) -> None:
    from fedloom.cluster.certs import load_identity
    from fedloom.cluster.transport import Links
    from fedloom.config import load_settings
    from fedloom.errors import FedloomError
    from fedloom.federation.forward import MessageHeader
    from fedloom.ids import Party

    settings = load_settings(cluster.servers[GUEST].config)
    assert settings.tls is not None
    links = Links(load_identity(settings.tls, [GUEST]), settings.routes)
    header = MessageHeader(
        "2025010100000000000001.reader_0.0", "x", Party("guest", GUEST), Party("host", HOST), 0, 3
    )
    try:
        with pytest.raises(FedloomError, match="no open job"):
            links.push(header, iter([b"abc"]), timeout=10)
    finally:
        links.close()
    entries = cluster.api(HOST).ok("/audit/query", {"action": "push", "actor": f"party:{GUEST}"})
    assert any(e["job_id"] == "2025010100000000000001" and e["retcode"] == 101 for e in entries), entries
