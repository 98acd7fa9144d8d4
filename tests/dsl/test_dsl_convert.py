"""Legacy v1 DSL and conf are converted to v2: args inputs become Readers, role lists split per party."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from dsl_fakes import FakeCatalog

from fedloom.dsl import convert_conf_v1, convert_dsl_v1, parse_job, v1_reader_names
from fedloom.errors import InvalidInput

Doc = dict[str, Any]

V1_DSL: Doc = {
    "components": {
        "dataio_0": {
            "module": "DataTransform",
            "input": {"data": {"data": ["args.train_data"]}},
            "output": {"data": ["train"], "model": ["dataio"]},
            "need_deploy": True,
        },
        "dataio_1": {
            "module": "DataTransform",
            "input": {"data": {"data": ["args.eval_data"]}, "model": ["dataio_0.dataio"]},
            "output": {"data": ["eval"]},
        },
        "hetero_lr_0": {
            "module": "HeteroLR",
            "input": {"data": {"train_data": ["dataio_0.train"], "validate_data": ["dataio_1.eval"]}},
            "output": {"data": ["train"], "model": ["hetero_lr"]},
        },
    }
}

V1_CONF: Doc = {
    "initiator": {"role": "guest", "party_id": 9999},
    "job_parameters": {"work_mode": 0, "processors_per_node": 1},
    "role": {"guest": [9999], "host": [10000, 10001], "arbiter": [10000]},
    "role_parameters": {
        "guest": {
            "args": {
                "data": {
                    "train_data": [{"name": "g_train", "namespace": "n"}],
                    "eval_data": [{"name": "g_eval", "namespace": "n"}],
                }
            },
            "dataio_0": {"with_label": [True], "label_name": ["y"]},
        },
        "host": {
            "args": {
                "data": {"train_data": [{"name": "h0", "namespace": "n"}, {"name": "h1", "namespace": "n"}]}
            },
            "dataio_0": {"with_label": [False, False]},
            "hetero_lr_0": {"encrypt_param": {"key_length": [1024, 2048]}},
        },
    },
    "algorithm_parameters": {"hetero_lr_0": {"max_iter": 3}},
}


def test_args_become_readers() -> None:
    assert v1_reader_names(V1_DSL) == {"train_data": "reader_0", "eval_data": "reader_1"}

    dsl = convert_dsl_v1(V1_DSL)

    assert list(dsl["components"])[:2] == ["reader_0", "reader_1"]
    assert dsl["components"]["reader_1"] == {"module": "Reader", "output": {"data": ["eval_data"]}}
    assert dsl["components"]["dataio_0"]["input"]["data"] == {"data": ["reader_0.train_data"]}
    assert V1_DSL["components"]["dataio_0"]["input"]["data"] == {"data": ["args.train_data"]}


def test_reader_names_avoid_existing_components() -> None:
    dsl = copy.deepcopy(V1_DSL)
    dsl["components"]["reader_0"] = {"module": "Reader", "output": {"data": ["data"]}}

    assert v1_reader_names(dsl) == {"train_data": "reader_1", "eval_data": "reader_2"}


def test_conf_is_split_per_party() -> None:
    conf = convert_conf_v1(V1_CONF, V1_DSL)

    assert conf["dsl_version"] == 2
    assert conf["job_parameters"] == {"common": {"work_mode": 0, "processors_per_node": 1}}
    assert conf["component_parameters"]["common"] == {"hetero_lr_0": {"max_iter": 3}}
    assert conf["component_parameters"]["role"]["guest"] == {
        "0": {
            "reader_0": {"table": {"name": "g_train", "namespace": "n"}},
            "reader_1": {"table": {"name": "g_eval", "namespace": "n"}},
            "dataio_0": {"with_label": True, "label_name": "y"},
        }
    }
    assert conf["component_parameters"]["role"]["host"]["1"] == {
        "reader_0": {"table": {"name": "h1", "namespace": "n"}},
        "dataio_0": {"with_label": False},
        "hetero_lr_0": {"encrypt_param": {"key_length": 2048}},
    }
    assert "role_parameters" not in conf and "algorithm_parameters" not in conf


def test_v1_job_parses(catalog: FakeCatalog) -> None:
    plan = parse_job(V1_DSL, V1_CONF, catalog)

    assert plan.params("reader_0", "host", 10001)["table"]["name"] == "h1"
    assert plan.params("hetero_lr_0", "host", 10001)["encrypt_param"]["key_length"] == 2048
    assert plan.params("hetero_lr_0", "guest", 9999)["max_iter"] == 3
    assert plan.params("dataio_1", "guest", 9999)["label_name"] == "y"  # inherited from dataio_0
    assert plan.conf["dsl_version"] == 2
    assert "conf: dsl_version 1 converted to 2" in plan.warnings
    assert (
        '[WARN] conf.job_parameters: "processors_per_node" is no longer used and is ignored' in plan.warnings
    )


def test_v1_lists_must_match_the_parties() -> None:
    conf = copy.deepcopy(V1_CONF)
    conf["role_parameters"]["host"]["dataio_0"]["with_label"] = [False]

    with pytest.raises(
        InvalidInput, match=r"conf.role_parameters.host.dataio_0.with_label: .* one value per party \(2\)"
    ):
        convert_conf_v1(conf, V1_DSL)
