"""The spec's example jobs (§3.3 hetero LR, §3.5 SecureBoost) parse into the expected plans."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from dsl_fakes import FakeCatalog

from fedloom.dsl import JobPlan, Party, Ref, dependency_view, parse_job
from fedloom.errors import NotFound

Doc = dict[str, Any]


def test_hetero_lr_example_parses(lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog) -> None:
    plan = parse_job(lr_dsl, lr_conf, catalog)

    assert plan.job_type == "train"
    assert plan.order() == ["reader_0", "data_transform_0", "intersection_0", "hetero_lr_0", "evaluation_0"]
    assert plan.levels() == [[name] for name in plan.order()]
    assert plan.initiator == Party("guest", 9999)
    assert plan.roles == {"guest": [9999], "host": [10000], "arbiter": [10000]}
    assert plan.model_id == "arbiter-10000#guest-9999#host-10000#model"
    assert plan.warnings == ()


def test_hetero_lr_parties_follow_module_roles(lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog) -> None:
    plan = parse_job(lr_dsl, lr_conf, catalog)

    assert plan.parties_of("reader_0") == [("guest", 9999), ("host", 10000)]
    assert plan.parties_of("hetero_lr_0") == [("guest", 9999), ("host", 10000), ("arbiter", 10000)]
    with pytest.raises(NotFound, match="reader_0 has no task at arbiter 10000"):
        plan.params("reader_0", "arbiter", 10000)


def test_hetero_lr_params_are_merged_and_validated(lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog) -> None:
    plan = parse_job(lr_dsl, lr_conf, catalog)

    guest = plan.params("data_transform_0", "guest", 9999)
    host = plan.params("data_transform_0", "host", 10000)
    assert (guest["with_label"], guest["output_format"]) == (True, "dense")
    assert (host["with_label"], host["output_format"]) == (False, "dense")
    assert plan.params("reader_0", "host", 10000)["table"] == {
        "name": "breast_hetero_host",
        "namespace": "experiment",
    }
    lr = plan.params("hetero_lr_0", "arbiter", 10000)
    assert lr["encrypt_param"] == {"method": "Paillier", "key_length": 1024}
    assert lr["max_iter"] == 30


def test_hetero_lr_need_run(lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog) -> None:
    plan = parse_job(lr_dsl, lr_conf, catalog)

    assert plan.need_run("evaluation_0", "guest", 9999)
    assert not plan.need_run("evaluation_0", "host", 10000)
    assert plan.need_run("evaluation_0", "arbiter", 10000)
    assert not plan.need_run("reader_0", "arbiter", 10000)  # no task there at all


def test_hetero_lr_job_parameters(lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog) -> None:
    plan = parse_job(lr_dsl, lr_conf, catalog)

    params = plan.job_parameters("host", 10000)
    assert (params.task_cores, params.task_parallelism, params.computing_partitions) == (4, 1, 8)
    assert (params.timeout, params.auto_retries, params.job_type) == (36000, 0, "train")
    assert params.model_id == plan.model_id
    with pytest.raises(NotFound):
        plan.job_parameters("host", 1)


def test_secureboost_example_parses(sbt_dsl: Doc, sbt_conf: Doc, catalog: FakeCatalog) -> None:
    plan = parse_job(sbt_dsl, sbt_conf, catalog)

    assert plan.levels() == [
        ["reader_0", "reader_1"],
        ["data_transform_0"],
        ["data_transform_1", "intersection_0"],
        ["intersection_1"],
        ["hetero_secureboost_0"],
        ["evaluation_0"],
    ]
    assert plan.dependencies("hetero_secureboost_0") == ["intersection_0", "intersection_1"]
    assert plan.components["data_transform_1"].model_inputs == (Ref("data_transform_0", "model"),)
    assert len(set(plan.components.values())) == len(plan.components)
    assert plan.parties_of("evaluation_0") == [("guest", 9999), ("host", 10000)]
    assert plan.model_id == "guest-9999#host-10000#model"


def test_secureboost_model_input_inherits_params(sbt_dsl: Doc, sbt_conf: Doc, catalog: FakeCatalog) -> None:
    plan = parse_job(sbt_dsl, sbt_conf, catalog)

    assert plan.params("data_transform_1", "guest", 9999) == plan.params("data_transform_0", "guest", 9999)
    assert plan.params("data_transform_1", "host", 10000)["with_label"] is False


def test_downstream_is_the_rerun_set(sbt_dsl: Doc, sbt_conf: Doc, catalog: FakeCatalog) -> None:
    plan = parse_job(sbt_dsl, sbt_conf, catalog)

    assert plan.downstream(["intersection_1"]) == {"intersection_1", "hetero_secureboost_0", "evaluation_0"}
    assert plan.downstream(["reader_1"]) == {
        "reader_1",
        "data_transform_1",
        "intersection_1",
        "hetero_secureboost_0",
        "evaluation_0",
    }
    with pytest.raises(NotFound):
        plan.downstream(["nope"])


def test_dependency_view_shape(sbt_dsl: Doc, sbt_conf: Doc, catalog: FakeCatalog) -> None:
    plan = parse_job(sbt_dsl, sbt_conf, catalog)

    view = dependency_view(plan, "host", 10000)

    assert view["component_list"] == plan.order()
    assert "reader_0" not in view["dependencies"]
    assert view["dependencies"]["data_transform_1"] == [
        {"component_name": "reader_1", "type": "data", "up_output_info": ["data", 0]},
        {"component_name": "data_transform_0", "type": "model", "up_output_info": ["model", 0]},
    ]
    assert view["dependencies"]["hetero_secureboost_0"] == [
        {"component_name": "intersection_0", "type": "train_data", "up_output_info": ["data", 0]},
        {"component_name": "intersection_1", "type": "validate_data", "up_output_info": ["data", 0]},
    ]
    assert view["component_module"]["hetero_secureboost_0"] == "HeteroSecureBoost"
    assert view["component_need_run"] == {name: name != "evaluation_0" for name in plan.order()}
    with pytest.raises(NotFound):
        dependency_view(plan, "arbiter", 10000)


def test_party_ids_as_strings(lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog) -> None:
    lr_conf["initiator"]["party_id"] = "9999"
    lr_conf["role"] = {"guest": ["9999"], "host": ["10000"], "arbiter": [10000]}
    lr_conf["dsl_version"] = "2"

    plan = parse_job(lr_dsl, lr_conf, catalog)

    assert plan.roles == {"guest": [9999], "host": [10000], "arbiter": [10000]}
    assert plan.conf["initiator"] == {"role": "guest", "party_id": 9999}
    assert plan.conf["role"]["guest"] == [9999]
    assert plan.need_run("evaluation_0", "host", 10000) is False


def test_client_keys_are_tolerated(lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog) -> None:
    lr_conf.update(conf_path="/tmp/conf.json", dsl_path="/tmp/dsl.json", provider="fate@1.11.4", gossip=1)
    lr_conf["job_parameters"]["common"].update(work_mode=1, backend=0, eggroll_run={"x": 1}, spark_run={})
    lr_dsl["components"]["reader_0"]["provider"] = "fate_flow"

    plan = parse_job(lr_dsl, lr_conf, catalog)

    assert plan.warnings == (
        'conf: unknown key "gossip" ignored',
        '[WARN] conf.job_parameters: "backend" is no longer used and is ignored',
        '[WARN] conf.job_parameters: "work_mode" is no longer used and is ignored',
    )
    assert plan.job_parameters("guest", 9999).eggroll_run == {"x": 1}
    assert plan.provider("hetero_lr_0", "guest", 9999) == "fate@1.11.4"


def test_provider_choice(lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog) -> None:
    lr_dsl["provider"] = "fate"
    lr_dsl["components"]["reader_0"]["provider"] = "fate_flow"
    lr_conf["provider"] = {
        "common": {"hetero_lr_0": "fate@1.11.4"},
        "role": {"host": {"0": {"hetero_lr_0": "fate@1.11.3"}}},
    }

    plan = parse_job(lr_dsl, lr_conf, catalog)

    assert plan.provider("reader_0", "guest", 9999) == "fate_flow"
    assert plan.provider("intersection_0", "guest", 9999) == "fate"
    assert plan.provider("hetero_lr_0", "guest", 9999) == "fate@1.11.4"
    assert plan.provider("hetero_lr_0", "host", 10000) == "fate@1.11.3"


def test_plan_is_immutable(lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog) -> None:
    plan: JobPlan = parse_job(lr_dsl, lr_conf, catalog)

    with pytest.raises(AttributeError):
        plan._job_type = "predict"
    plan.params("hetero_lr_0", "guest", 9999)["max_iter"] = 1
    plan.conf["role"]["guest"].append(1)
    plan.dsl["components"].clear()
    lr_conf["component_parameters"]["common"]["hetero_lr_0"]["max_iter"] = 2

    assert plan.params("hetero_lr_0", "guest", 9999)["max_iter"] == 30
    assert plan.roles["guest"] == [9999]
    assert len(plan.dsl["components"]) == 5


def test_inputs_are_not_modified(lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog) -> None:
    lr_conf["role"]["host"] = ["10000"]
    before = copy.deepcopy((lr_dsl, lr_conf))

    parse_job(lr_dsl, lr_conf, catalog)

    assert (lr_dsl, lr_conf) == before


def test_upload_job_on_local(catalog: FakeCatalog) -> None:
    dsl = {"components": {"upload_0": {"module": "Upload"}}}
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "local", "party_id": 0},
        "role": {"local": [0]},
        "component_parameters": {
            "role": {"local": {"0": {"upload_0": {"file": "a.csv", "table_name": "t"}}}}
        },
    }

    plan = parse_job(dsl, conf, catalog)

    assert plan.model_id == "local-0#model"
    assert plan.params("upload_0", "local", 0)["file"] == "a.csv"


def test_predict_job_with_pipeline_refs(catalog: FakeCatalog, lr_conf: Doc) -> None:
    dsl = {
        "components": {
            "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
            "data_transform_0": {
                "module": "DataTransform",
                "input": {"data": {"data": ["reader_0.data"]}, "model": ["pipeline.data_transform_0.model"]},
                "output": {"data": ["data"]},
            },
        }
    }
    lr_conf["job_parameters"]["common"].update(job_type="predict", model_id="m#model", model_version=202401)

    plan = parse_job(dsl, lr_conf, catalog)

    node = plan.components["data_transform_0"]
    assert node.pipeline_model_refs == (Ref("data_transform_0", "model"),)
    assert node.upstream == {"reader_0"}
    assert (plan.model_id, plan.job_parameters("guest", 9999).model_version) == ("m#model", "202401")
