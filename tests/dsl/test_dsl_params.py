"""Component parameters: FATE's merge order over common and role blocks, inheritance and need_run."""

from __future__ import annotations

from typing import Any

import pytest
from dsl_fakes import FakeCatalog

from fedloom.dsl import JobPlan, parse_job

Doc = dict[str, Any]
HOSTS = [10000, 10001, 10002]


def _binning_job(role_blocks: Doc, common: Doc | None = None) -> tuple[Doc, Doc]:
    dsl = {
        "components": {
            "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
            "binning_0": {
                "module": "HeteroFeatureBinning",
                "input": {"data": {"data": ["reader_0.data"]}},
                "output": {"data": ["data"], "model": ["model"]},
            },
        }
    }
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": HOSTS},
        "component_parameters": {"common": {"binning_0": common or {}}, "role": {"host": role_blocks}},
    }
    return dsl, conf


def _host_bins(plan: JobPlan) -> list[int]:
    return [plan.params("binning_0", "host", pid)["bin_num"] for pid in HOSTS]


def test_index_keys_select_positions(catalog: FakeCatalog) -> None:
    blocks = {
        "all": {"binning_0": {"bin_num": 1}},
        "0|2": {"binning_0": {"bin_num": 2}},
        "1": {"binning_0": {}},
    }

    plan = parse_job(*_binning_job(blocks), catalog)

    assert _host_bins(plan) == [2, 1, 2]
    assert plan.params("binning_0", "guest", 9999)["bin_num"] == 10  # the module's default


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        ({"0": {"binning_0": {"bin_num": 5}}, "all": {"binning_0": {"bin_num": 7}}}, [7, 7, 7]),
        ({"all": {"binning_0": {"bin_num": 7}}, "0": {"binning_0": {"bin_num": 5}}}, [5, 7, 7]),
        ({"0|1": {"binning_0": {"bin_num": 3}}, "1": {"binning_0": {"bin_num": 4}}}, [3, 4, 20]),
    ],
)
def test_role_blocks_merge_in_conf_order(blocks: Doc, expected: list[int], catalog: FakeCatalog) -> None:
    # FATE applies common, then every matching block in the order the conf lists them.
    plan = parse_job(*_binning_job(blocks, common={"bin_num": 20}), catalog)

    assert _host_bins(plan) == expected


def test_role_values_override_common(lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog) -> None:
    lr_conf["component_parameters"]["role"]["guest"]["0"]["hetero_lr_0"] = {"max_iter": 5}

    plan = parse_job(lr_dsl, lr_conf, catalog)

    assert plan.params("hetero_lr_0", "guest", 9999)["max_iter"] == 5
    assert plan.params("hetero_lr_0", "host", 10000)["max_iter"] == 30
    assert plan.params("hetero_lr_0", "arbiter", 10000)["max_iter"] == 30


def test_nested_dicts_deep_merge(lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog) -> None:
    host = lr_conf["component_parameters"]["role"]["host"]["0"]
    host["hetero_lr_0"] = {"encrypt_param": {"key_length": 2048}}
    host["intersection_0"] = {"rsa_params": {"final_hash_method": "md5"}}

    plan = parse_job(lr_dsl, lr_conf, catalog)

    assert plan.params("hetero_lr_0", "host", 10000)["encrypt_param"] == {
        "method": "Paillier",
        "key_length": 2048,
    }
    assert plan.params("hetero_lr_0", "guest", 9999)["encrypt_param"] == {
        "method": "Paillier",
        "key_length": 1024,
    }
    assert plan.params("intersection_0", "host", 10000)["rsa_params"] == {
        "hash_method": "sha256",
        "final_hash_method": "md5",
        "key_length": 2048,
    }


def test_role_index_all_and_pipe_for_job_parameters(lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog) -> None:
    lr_conf["role"]["host"] = [10000, 10001]
    lr_conf["job_parameters"]["role"] = {"host": {"all": {"task_cores": 2}, "1": {"task_cores": 1}}}

    plan = parse_job(lr_dsl, lr_conf, catalog)

    cores = [plan.job_parameters(*party).task_cores for party in plan.parties]
    assert cores == [4, 2, 1, 4]


def _dt_chain(extra: Doc) -> Doc:
    dsl: Doc = {
        "components": {
            "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
            "data_transform_0": {
                "module": "DataTransform",
                "input": {"data": {"data": ["reader_0.data"]}},
                "output": {"data": ["data"], "model": ["model"]},
            },
            "data_transform_1": {
                "module": "DataTransform",
                "input": {"data": {"data": ["reader_0.data"]}, "model": ["data_transform_0.model"]},
                "output": {"data": ["data"], "model": ["model"]},
            },
            "data_transform_2": {
                "module": "DataTransform",
                "input": {"data": {"data": ["reader_0.data"]}, "model": ["data_transform_1.model"]},
                "output": {"data": ["data"]},
            },
        }
    }
    dsl["components"].update(extra)
    return dsl


def _two_party_conf(common: Doc, host: Doc) -> Doc:
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000]},
        "component_parameters": {"common": common, "role": {"host": {"0": host}}},
    }


def test_model_input_of_same_module_inherits_params_up_the_chain(catalog: FakeCatalog) -> None:
    conf = _two_party_conf(
        {"data_transform_0": {"label_name": "target"}, "data_transform_2": {"label_name": "ignored"}},
        {"data_transform_0": {"with_label": True}},
    )

    plan = parse_job(_dt_chain({}), conf, catalog)

    for name in ("data_transform_1", "data_transform_2"):
        assert plan.params(name, "guest", 9999) == plan.params("data_transform_0", "guest", 9999)
        assert plan.params(name, "host", 10000)["with_label"] is True
    assert plan.params("data_transform_2", "guest", 9999)["label_name"] == "target"
    assert plan.warnings == (
        "component data_transform_2: its parameters are ignored; it takes those of data_transform_0",
    )


def test_warm_start_keeps_its_own_params(lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog) -> None:
    lr_dsl["components"]["hetero_lr_1"] = {
        "module": "HeteroLR",
        "input": {"data": {"train_data": ["intersection_0.data"]}, "model": ["hetero_lr_0.model"]},
        "output": {"data": ["data"], "model": ["model"]},
    }
    lr_conf["component_parameters"]["common"]["hetero_lr_1"] = {"max_iter": 3}

    plan = parse_job(lr_dsl, lr_conf, catalog)

    assert plan.params("hetero_lr_1", "guest", 9999)["max_iter"] == 3
    assert plan.params("hetero_lr_1", "guest", 9999)["encrypt_param"]["key_length"] == 1024


def test_model_of_another_module_does_not_pass_params(catalog: FakeCatalog) -> None:
    selection = {
        "module": "HeteroFeatureSelection",
        "input": {"data": {"data": ["data_transform_0.data"]}, "model": ["data_transform_0.model"]},
        "output": {"data": ["data"]},
    }
    conf = _two_party_conf({"selection_0": {"select_col_indexes": 3}}, {})

    plan = parse_job(_dt_chain({"selection_0": selection}), conf, catalog)

    assert plan.params("selection_0", "host", 10000)["select_col_indexes"] == 3


def test_need_run_is_inherited_through_model_inputs(catalog: FakeCatalog) -> None:
    selection = {
        "module": "HeteroFeatureSelection",
        "input": {"data": {"data": ["data_transform_0.data"]}, "isometric_model": ["data_transform_0.model"]},
        "output": {"data": ["data"]},
    }
    conf = _two_party_conf(
        {}, {"data_transform_0": {"need_run": False}, "data_transform_2": {"need_run": True}}
    )

    plan = parse_job(_dt_chain({"selection_0": selection}), conf, catalog)

    assert [plan.need_run(f"data_transform_{i}", "host", 10000) for i in range(3)] == [False, False, False]
    assert all(plan.need_run(f"data_transform_{i}", "guest", 9999) for i in range(3))
    assert plan.need_run("selection_0", "host", 10000)  # isometric models pass neither params nor need_run


def test_need_run_follows_a_model_of_another_module(catalog: FakeCatalog) -> None:
    selection = {
        "module": "HeteroFeatureSelection",
        "input": {"data": {"data": ["data_transform_0.data"]}, "model": ["data_transform_0.model"]},
        "output": {"data": ["data"]},
    }
    conf = _two_party_conf({}, {"data_transform_0": {"need_run": False}})

    plan = parse_job(_dt_chain({"selection_0": selection}), conf, catalog)

    assert not plan.need_run("selection_0", "host", 10000)
    assert plan.need_run("selection_0", "guest", 9999)


def test_cache_input_passes_need_run_and_params(catalog: FakeCatalog) -> None:
    dsl = _dt_chain(
        {
            "intersection_0": {
                "module": "Intersection",
                "input": {"data": {"data": ["data_transform_0.data"]}},
                "output": {"data": ["data"], "cache": ["cache"]},
            },
            "intersection_1": {
                "module": "Intersection",
                "input": {"data": {"data": ["data_transform_1.data"]}, "cache": ["intersection_0.cache"]},
                "output": {"data": ["data"]},
            },
        }
    )
    conf = _two_party_conf(
        {"intersection_0": {"intersect_method": "dh"}}, {"intersection_0": {"need_run": False}}
    )

    plan = parse_job(dsl, conf, catalog)

    assert plan.params("intersection_1", "guest", 9999)["intersect_method"] == "dh"
    assert not plan.need_run("intersection_1", "host", 10000)
    assert plan.dependencies("intersection_1") == ["data_transform_1", "intersection_0"]
