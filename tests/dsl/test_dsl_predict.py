"""Predict DSL generation (§2.4), predict conf merging (§3.6) and the predict conf template."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from dsl_fakes import HETERO_LR_CONF, HETERO_LR_DSL, SECUREBOOST_DSL, FakeCatalog

from fedloom.dsl import generate_predict_dsl, merge_predict_conf, parse_job, predict_conf_template
from fedloom.errors import InvalidInput

Doc = dict[str, Any]
LR_DEPLOYED = ["reader_0", "data_transform_0", "intersection_0", "hetero_lr_0"]

SPEC_EXAMPLE = {
    "components": {
        "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
        "data_transform_0": {
            "module": "DataTransform",
            "input": {"data": {"data": ["reader_0.data"]}, "model": ["pipeline.data_transform_0.model"]},
            "output": {"data": ["data"]},
        },
        "intersection_0": {
            "module": "Intersection",
            "input": {"data": {"data": ["data_transform_0.data"]}},
            "output": {"data": ["data"]},
        },
        "hetero_lr_0": {
            "module": "HeteroLR",
            "input": {
                "data": {"test_data": ["intersection_0.data"]},
                "model": ["pipeline.hetero_lr_0.model"],
            },
            "output": {"data": ["data"]},
        },
    }
}


def test_spec_example() -> None:
    assert generate_predict_dsl(HETERO_LR_DSL, LR_DEPLOYED) == SPEC_EXAMPLE


def test_default_list_is_every_component() -> None:
    predict = generate_predict_dsl(HETERO_LR_DSL, None)

    assert list(predict["components"]) == [*LR_DEPLOYED, "evaluation_0"]
    assert predict["components"]["evaluation_0"]["input"] == {"data": {"data": ["hetero_lr_0.data"]}}


def test_only_listed_components_and_no_reader() -> None:
    predict = generate_predict_dsl(HETERO_LR_DSL, ["data_transform_0", "intersection_0", "hetero_lr_0"])

    assert list(predict["components"]) == ["data_transform_0", "intersection_0", "hetero_lr_0"]
    assert predict["components"]["data_transform_0"]["input"] == {
        "model": ["pipeline.data_transform_0.model"]
    }


@pytest.mark.parametrize(
    ("deployed", "source"),
    [
        (["data_transform_0", "hetero_lr_0"], "data_transform_0.data"),
        (["reader_0", "hetero_lr_0"], "reader_0.data"),
    ],
)
def test_left_out_components_pass_their_input_through(deployed: list[str], source: str) -> None:
    predict = generate_predict_dsl(HETERO_LR_DSL, deployed)

    assert predict["components"]["hetero_lr_0"]["input"]["data"] == {"test_data": [source]}


def test_first_data_key_only_and_provider_kept() -> None:
    train = copy.deepcopy(SECUREBOOST_DSL)
    train["components"]["hetero_secureboost_0"]["provider"] = "fate@1.11.4"

    predict = generate_predict_dsl(train, None)["components"]

    assert predict["hetero_secureboost_0"] == {
        "module": "HeteroSecureBoost",
        "input": {
            "model": ["pipeline.hetero_secureboost_0.model"],
            "data": {"test_data": ["intersection_0.data"]},
        },
        "output": {"data": ["data"]},
        "provider": "fate@1.11.4",
    }
    # data_transform_1 produced no model of its own, so it keeps only its data input.
    assert predict["data_transform_1"]["input"] == {"data": {"data": ["reader_1.data"]}}


def test_unknown_component_is_refused() -> None:
    with pytest.raises(InvalidInput, match='cpn_list: "hetero_lr_9" is not a component of the training DSL'):
        generate_predict_dsl(HETERO_LR_DSL, ["hetero_lr_9"])
    with pytest.raises(InvalidInput, match="cpn_list: must be a non-empty list"):
        generate_predict_dsl(HETERO_LR_DSL, [])


def test_generated_dsl_runs_as_a_predict_job(catalog: FakeCatalog) -> None:
    predict_conf = {
        "initiator": {"role": "guest", "party_id": "9999"},
        "role": {"guest": ["9999"], "host": ["10000"], "arbiter": ["10000"]},
        "job_parameters": {"common": {"job_type": "predict", "model_id": "m", "model_version": "v"}},
        "component_parameters": {
            "role": {
                "guest": {"0": {"reader_0": {"table": {"name": "new_guest", "namespace": "experiment"}}}}
            }
        },
    }

    conf = merge_predict_conf(HETERO_LR_CONF, predict_conf)
    plan = parse_job(generate_predict_dsl(HETERO_LR_DSL, LR_DEPLOYED), conf, catalog)

    assert plan.job_type == "predict"
    assert plan.params("reader_0", "guest", 9999)["table"]["name"] == "new_guest"
    assert plan.params("reader_0", "host", 10000)["table"]["name"] == "breast_hetero_host"
    assert plan.params("hetero_lr_0", "guest", 9999)["max_iter"] == 30
    assert plan.components["hetero_lr_0"].upstream == {"intersection_0"}


def _two_host_train_conf() -> Doc:
    conf = copy.deepcopy(HETERO_LR_CONF)
    conf["role"]["host"] = [10000, 10001]
    conf["job_parameters"]["role"] = {"host": {"1": {"task_cores": 2}}, "arbiter": {"0": {"task_cores": 1}}}
    conf["component_parameters"]["role"]["host"] = {
        "0": {"reader_0": {"table": {"name": "h0"}}},
        "1": {"reader_0": {"table": {"name": "h1"}}},
        "0|1": {"data_transform_0": {"with_label": False}},
        "all": {"evaluation_0": {"need_run": False}},
    }
    return conf


def test_merge_reindexes_role_blocks_to_predict_positions() -> None:
    predict = {"initiator": {"role": "guest", "party_id": 9999}, "role": {"guest": [9999], "host": ["10001"]}}

    merged = merge_predict_conf(_two_host_train_conf(), predict)

    assert merged["role"] == {"guest": [9999], "host": [10001]}
    assert merged["component_parameters"]["role"]["host"] == {
        "0": {"reader_0": {"table": {"name": "h1"}}, "data_transform_0": {"with_label": False}},
        "all": {"evaluation_0": {"need_run": False}},
    }
    assert merged["job_parameters"]["role"] == {"host": {"0": {"task_cores": 2}}}
    assert merged["dsl_version"] == 2


def test_merge_lets_predict_values_win() -> None:
    predict = {
        "role": {"guest": [9999], "host": [10000, 10001]},
        "job_parameters": {"common": {"job_type": "predict", "task_cores": 1}},
        "component_parameters": {"role": {"host": {"1": {"reader_0": {"table": {"name": "new"}}}}}},
    }

    merged = merge_predict_conf(_two_host_train_conf(), predict)

    assert merged["component_parameters"]["role"]["host"]["1"]["reader_0"]["table"] == {"name": "new"}
    assert merged["job_parameters"]["common"]["job_type"] == "predict"
    assert merged["job_parameters"]["common"]["task_cores"] == 1
    assert merged["job_parameters"]["common"]["timeout"] == 36000


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (
            {"guest": [9999], "host": [10002]},
            r"conf.role.host: party 10002 was not a host in training \(host: ",
        ),
        ({"guest": [9999], "local": [0]}, 'conf.role.local: "local" took no part in training'),
    ],
)
def test_merge_refuses_parties_that_did_not_train(roles: Doc, expected: str) -> None:
    with pytest.raises(InvalidInput, match=expected):
        merge_predict_conf(_two_host_train_conf(), {"role": roles})


def test_predict_conf_template() -> None:
    predict_dsl = generate_predict_dsl(SECUREBOOST_DSL, None)
    train = _two_host_train_conf()

    template = predict_conf_template("model-x", "202401010000000000000", train, predict_dsl)

    assert template["job_parameters"]["common"]["job_type"] == "predict"
    assert template["job_parameters"]["common"]["model_id"] == "model-x"
    assert template["job_parameters"]["common"]["model_version"] == "202401010000000000000"
    assert set(template["component_parameters"]["role"]) == {"guest", "host"}
    assert template["component_parameters"]["role"]["host"]["1"] == {
        "reader_0": {"table": {"name": "name_to_be_filled_0", "namespace": "namespace_to_be_filled_0"}},
        "reader_1": {"table": {"name": "name_to_be_filled_1", "namespace": "namespace_to_be_filled_1"}},
    }
    assert train["job_parameters"]["common"]["job_type"] == "train"  # the input is not modified
