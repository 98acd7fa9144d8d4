"""/v1/tracking and /v1/model routes over the real services: FATE's shapes of metrics, parameters,
output model and data, and of the model registry."""

from __future__ import annotations

from fedloom.ids import TaskKey
from fedloom.platform import Platform
from tests.api.conftest import Client
from tests.services.conftest import psi_job

MODEL_FIELDS = [
    "model_id",
    "model_version",
    "role",
    "party_id",
    "job_id",
    "parent",
    "parent_info",
    "initiator_role",
    "initiator_party_id",
    "roles",
    "train_dsl",
    "train_runtime_conf",
    "inference_dsl",
    "loaded_times",
    "create_time",
]


def _job(client: Client) -> str:
    dsl, conf = psi_job()
    job_id: str = client.post("/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})["jobId"]
    return job_id


def test_metrics_routes(client: Client, platform: Platform) -> None:
    job_id = _job(client)
    key = TaskKey(job_id, "intersection_0", 0, "guest", 9999)
    platform.stores.tracking.log_metric(
        key, "train", "intersection", [("count", 3)], {"metric_type": "INTERSECTION"}
    )
    target = {"job_id": job_id, "component_name": "intersection_0"}  # role and party: the initiator's
    assert client.ok("/tracking/component/metric/all", target) == {
        "train": {
            "intersection": {
                "data": [["count", 3]],
                "meta": {"metric_type": "INTERSECTION", "name": "intersection"},
            }
        }
    }
    assert client.ok("/tracking/component/metrics", target) == {"train": ["intersection"]}
    res = client.post(
        "/tracking/component/metric_data",
        {**target, "metric_namespace": "train", "metric_name": "intersection"},
    )
    assert (res["data"], res["meta"]["metric_type"]) == ([["count", 3]], "INTERSECTION")
    empty = client.post("/tracking/component/metrics", {**target, "role": "host", "party_id": 10000})
    assert (empty["retmsg"], empty["data"]) == ("no data", {})


def test_parameters_and_output_model(client: Client, platform: Platform) -> None:
    job_id = _job(client)
    target = {"job_id": job_id, "component_name": "data_transform_0", "role": "guest", "party_id": 9999}
    params = client.ok("/tracking/component/parameters", target)
    assert list(params) == ["module", "DataTransformParam"] and params["module"] == "DataTransform"
    none = client.post("/tracking/component/output/model", target)
    assert (none["retmsg"], none["data"], none["meta"]) == ("no data", {}, {})
    platform.stores.tracking.save_model(
        TaskKey(job_id, "data_transform_0", 0, "guest", 9999),
        "model",
        "DataTransform",
        {"header": ["x0"]},
        {"need_run": True},
    )
    res = client.post("/tracking/component/output/model", target)
    assert res["data"] == {"header": ["x0"]}
    assert res["meta"] == {
        "meta_data": {"need_run": True},
        "module_name": "DataTransform",
        "component_name": "data_transform_0",
    }
    assert client.ok("/tracking/component/list", {"job_id": job_id}) == {
        "components": ["reader_0", "data_transform_0", "intersection_0"]
    }


def test_output_data_of_the_upload_job(client: Client) -> None:
    [history] = client.ok("/data/upload/history", {"limit": 1})
    job_id = next(iter(history))
    target = {"job_id": job_id, "component_name": "upload_0", "role": "local", "party_id": 0}
    res = client.post("/tracking/component/output/data", {**target, "limit": 2})
    assert len(res["data"]) == 1 and len(res["data"][0]) == 2
    assert list(res["meta"]) == ["header", "total", "names"] and res["meta"]["total"] == [3]
    assert client.ok("/tracking/component/output/data/table", target) == [
        {"table_name": "host_t", "table_namespace": "experiment", "data_name": "data"}
    ]
    r = client.http.post("/v1/tracking/component/output/data/download", json=target)
    assert r.status_code == 200 and r.headers["content-type"] == "application/gzip"
    summary = client.ok("/tracking/component/summary/download", target)
    assert summary["upload_info"]["upload_count"] == 3


def test_model_routes(client: Client, platform: Platform) -> None:
    job_id = _job(client)
    [init] = platform.services.jobs.query(job_id=job_id, is_initiator=True)
    platform.services.models.job_ended(init, "success")
    model_id = "guest-9999#host-10000#model"
    rows = client.ok("/model/query", {"model_id": model_id, "role": "guest"})
    assert [list(r) for r in rows] == [[f"f_{k}" for k in MODEL_FIELDS]]
    assert rows[0]["f_parent_info"] == {}
    res = client.post(
        "/model/deploy",
        {"model_id": model_id, "model_version": job_id, "cpn_list": "reader_0, data_transform_0"},
    )
    assert res["retmsg"] == "deploy model success"
    child = res["data"]["model_version"]
    assert res["data"] == {
        "model_id": model_id,
        "model_version": child,
        "detail": {
            "guest": {"9999": {"retcode": 0, "retmsg": "deploy success"}},
            "host": {"10000": {"retcode": 0, "retmsg": "deploy success"}},
        },
        "guest": {"9999": 0},
        "host": {"10000": 0},
    }
    [deployed] = client.ok("/model/query", {"model_version": child, "role": "host"})
    assert deployed["f_parent_info"] == {"parent_model_version": job_id} and deployed["f_parent"] is False
    dsl = client.ok("/model/get/predict/dsl", {"model_id": model_id, "model_version": child})
    assert list(dsl["components"]) == ["reader_0", "data_transform_0"]
    conf = client.ok("/model/get/predict/conf", {"model_id": model_id, "model_version": child})
    assert conf["job_parameters"]["common"]["model_version"] == child
    assert client.post("/model/query", {"model_id": "absent"}) == {
        "retcode": 0,
        "data": [],
        "retmsg": "no model could be found",
    }
