"""The canonical FATE job: reader -> data_transform -> intersection -> hetero_lr -> evaluation, deploy, predict."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Api
from tests.e2e.jobs import hetero_lr_job

pytestmark = pytest.mark.slow


def _auc(api: Api, job_id: str) -> float:
    metrics = api.ok(
        "/tracking/component/metric/all",
        {"job_id": job_id, "component_name": "evaluation_0", "role": "guest", "party_id": 9999},
    )
    for names in metrics.values():
        for entry in names.values():
            for key, value in entry["data"]:
                if key == "auc":
                    return float(value)
    raise AssertionError(f"no auc in {metrics}")


def test_train_deploy_predict(api: Api) -> None:
    dsl, conf = hetero_lr_job(max_iter=10)
    res = api.post("/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 0, res
    job_id, model = res["jobId"], res["data"]["model_info"]
    assert api.wait(job_id, timeout=120) == "success", api.ok("/job/query", {"job_id": job_id})
    assert _auc(api, job_id) > 0.95
    guest_model = api.post(
        "/tracking/component/output/model",
        {"job_id": job_id, "component_name": "hetero_lr_0", "role": "guest", "party_id": 9999},
    )
    host_model = api.post(
        "/tracking/component/output/model",
        {"job_id": job_id, "component_name": "hetero_lr_0", "role": "host", "party_id": 10000},
    )
    assert set(guest_model["data"]["weight"]) == {f"x{i}" for i in range(10)}
    assert set(host_model["data"]["weight"]) == {f"x{i}" for i in range(20)}
    loss = api.ok(
        "/tracking/component/metric/all",
        {"job_id": job_id, "component_name": "hetero_lr_0", "role": "arbiter", "party_id": 10000},
    )
    assert loss, "the arbiter logs the loss per iteration"

    deployed = api.ok(
        "/model/deploy",
        {
            "model_id": model["model_id"],
            "model_version": model["model_version"],
            "cpn_list": ["reader_0", "data_transform_0", "intersection_0", "hetero_lr_0"],
        },
    )
    predict_conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000], "arbiter": [10000]},
        "job_parameters": {
            "common": {
                "job_type": "predict",
                "model_id": deployed["model_id"],
                "model_version": deployed["model_version"],
            }
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
    res = api.post("/job/submit", {"job_runtime_conf": predict_conf})
    assert res["retcode"] == 0, res
    assert api.wait(res["jobId"], timeout=60) == "success", api.ok("/job/query", {"job_id": res["jobId"]})
    out = api.post(
        "/tracking/component/output/data",
        {"job_id": res["jobId"], "component_name": "hetero_lr_0", "role": "guest", "party_id": 9999},
    )
    assert out["meta"]["header"][0][-5:] == [
        "label",
        "predict_result",
        "predict_score",
        "predict_detail",
        "type",
    ]
    assert out["meta"]["total"] == [569]
