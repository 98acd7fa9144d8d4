"""Pipeline builder: FATE v2 DSL/conf shapes (spec §3.3), role indexes, validation, fit()."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from fedloom.client import FedloomClient, JobFailed, Pipeline, hetero_lr_pipeline, inputs, psi_pipeline
from fedloom.errors import InvalidInput
from tests.client.fake_flow import FakeServer, envelope, job_record, task_record

# FATE-Flow spec §3.3 (hetero LR, guest 9999, host 10000, arbiter 10000), verbatim.
SPEC_DSL = {
    "components": {
        "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
        "data_transform_0": {
            "module": "DataTransform",
            "input": {"data": {"data": ["reader_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
        "intersection_0": {
            "module": "Intersection",
            "input": {"data": {"data": ["data_transform_0.data"]}},
            "output": {"data": ["data"]},
        },
        "hetero_lr_0": {
            "module": "HeteroLR",
            "input": {"data": {"train_data": ["intersection_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
        "evaluation_0": {
            "module": "Evaluation",
            "input": {"data": {"data": ["hetero_lr_0.data"]}},
            "output": {"data": ["data"]},
        },
    }
}
SPEC_CONF = {
    "dsl_version": 2,
    "initiator": {"role": "guest", "party_id": 9999},
    "role": {"guest": [9999], "host": [10000], "arbiter": [10000]},
    "job_parameters": {
        "common": {
            "job_type": "train",
            "task_cores": 4,
            "task_parallelism": 1,
            "computing_partitions": 8,
            "timeout": 36000,
            "auto_retries": 0,
        }
    },
    "component_parameters": {
        "common": {
            "data_transform_0": {"output_format": "dense"},
            "intersection_0": {
                "intersect_method": "rsa",
                "sync_intersect_ids": True,
                "only_output_key": False,
                "rsa_params": {"hash_method": "sha256", "final_hash_method": "sha256", "key_length": 2048},
            },
            "hetero_lr_0": {
                "penalty": "L2",
                "tol": 0.0001,
                "alpha": 0.01,
                "optimizer": "rmsprop",
                "batch_size": 320,
                "learning_rate": 0.15,
                "max_iter": 30,
                "early_stop": "diff",
                "init_param": {"init_method": "zeros"},
                "encrypt_param": {"method": "Paillier", "key_length": 1024},
            },
            "evaluation_0": {"eval_type": "binary"},
        },
        "role": {
            "guest": {
                "0": {
                    "reader_0": {"table": {"name": "breast_hetero_guest", "namespace": "experiment"}},
                    "data_transform_0": {"with_label": True, "label_name": "y", "label_type": "int"},
                }
            },
            "host": {
                "0": {
                    "reader_0": {"table": {"name": "breast_hetero_host", "namespace": "experiment"}},
                    "data_transform_0": {"with_label": False},
                    "evaluation_0": {"need_run": False},
                }
            },
        },
    },
}
SPEC_COMMON: dict[str, Any] = SPEC_CONF["component_parameters"]["common"]  # type: ignore[index]
GUEST_TABLE, HOST_TABLE = ("experiment", "breast_hetero_guest"), ("experiment", "breast_hetero_host")


def _spec_pipeline() -> Pipeline:
    intersection = SPEC_COMMON["intersection_0"]
    pipeline = hetero_lr_pipeline(
        9999, 10000, 10000, GUEST_TABLE, HOST_TABLE, intersection_params=intersection
    )
    return pipeline.job_parameters(
        task_cores=4, task_parallelism=1, computing_partitions=8, timeout=36000, auto_retries=0
    )


def test_hetero_lr_pipeline_is_fates_section_3_3_example() -> None:
    pipeline = _spec_pipeline()
    assert pipeline.dsl() == SPEC_DSL
    assert pipeline.conf() == SPEC_CONF
    assert list(pipeline.dsl()["components"]) == list(SPEC_DSL["components"])


def test_the_same_job_built_by_hand_with_the_builder() -> None:
    pipeline = (
        Pipeline(initiator=("guest", 9999))
        .roles(guest=[9999], host=[10000], arbiter=[10000])
        .add(
            "reader_0",
            "Reader",
            party_params={
                ("guest", 9999): {"table": {"name": "breast_hetero_guest", "namespace": "experiment"}},
                ("host", 10000): {"table": {"name": "breast_hetero_host", "namespace": "experiment"}},
            },
        )
        .add(
            "data_transform_0",
            "DataTransform",
            inputs={"data": {"data": ["reader_0.data"]}},
            params={"output_format": "dense"},
            party_params={
                ("guest", 9999): {"with_label": True, "label_name": "y", "label_type": "int"},
                ("host", 10000): {"with_label": False},
            },
        )
        .add(
            "intersection_0",
            "Intersection",
            inputs(data="data_transform_0"),
            params=SPEC_COMMON["intersection_0"],
        )
        .add(
            "hetero_lr_0",
            "HeteroLR",
            inputs(train_data="intersection_0"),
            params=SPEC_COMMON["hetero_lr_0"],
        )
        .add(
            "evaluation_0",
            "Evaluation",
            inputs(data="hetero_lr_0"),
            params={"eval_type": "binary"},
            party_params={("host", 10000): {"need_run": False}},
        )
        .job_parameters(
            task_cores=4, task_parallelism=1, computing_partitions=8, timeout=36000, auto_retries=0
        )
    )
    assert pipeline.dsl() == SPEC_DSL
    assert pipeline.conf() == SPEC_CONF


def test_lr_params_override_the_defaults() -> None:
    conf = hetero_lr_pipeline(9999, 10000, 10000, GUEST_TABLE, HOST_TABLE, max_iter=5, batch_size=-1).conf()
    lr = conf["component_parameters"]["common"]["hetero_lr_0"]
    assert (lr["max_iter"], lr["batch_size"], lr["penalty"]) == (5, -1, "L2")


def test_psi_pipeline_is_reader_transform_intersection_without_arbiter() -> None:
    pipeline = psi_pipeline(9999, 10000, GUEST_TABLE, HOST_TABLE)
    assert pipeline.components == ["reader_0", "data_transform_0", "intersection_0"]
    assert pipeline.dsl()["components"] == {k: SPEC_DSL["components"][k] for k in pipeline.components}
    conf = pipeline.conf()
    assert conf["role"] == {"guest": [9999], "host": [10000]}
    assert "intersection_0" not in conf["component_parameters"]["common"]


def test_role_indexes_are_positions_and_all() -> None:
    pipeline = (
        Pipeline(initiator=("guest", 1))
        .roles(guest=1, host=[2, 3])
        .add(
            "reader_0",
            "Reader",
            party_params={
                ("host", 3): {"table": {"name": "b"}},
                ("host", "all"): {"x": 1},
                ("guest", 1): {"table": {"name": "g"}},
            },
        )
    )
    role = pipeline.conf()["component_parameters"]["role"]
    assert role == {
        "host": {"1": {"reader_0": {"table": {"name": "b"}}}, "all": {"reader_0": {"x": 1}}},
        "guest": {"0": {"reader_0": {"table": {"name": "g"}}}},
    }


def test_inputs_helper_fills_default_aliases() -> None:
    assert inputs(data="a", model=["b", "c.model"], cache="d", isometric_model="e") == {
        "data": {"data": ["a.data"]},
        "model": ["b.model", "c.model"],
        "cache": ["d.cache"],
        "isometric_model": ["e.model"],
    }


def test_default_outputs_by_module() -> None:
    pipeline = Pipeline().roles(guest=[9999]).add("r", "Reader").add("s", "HeteroDataSplit", inputs(data="r"))
    pipeline.add("f", "FeatureScale", inputs(data="s.train_data"), outputs={"data": ["data"]})
    dsl = pipeline.dsl()["components"]
    assert dsl["s"]["output"] == {"data": ["train_data", "validate_data", "test_data"]}
    assert dsl["f"]["output"] == {"data": ["data"]}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda p: p.add("bad name", "Reader"), "letters, digits"),
        (lambda p: p.add("r", "Reader").add("r", "Reader"), "already"),
        (lambda p: p.add("t", "DataTransform", inputs(data="reader_0")), "reader_0, which is not added yet"),
        (lambda p: p.add("t", "DataTransform", {"bogus": ["x"]}), "unknown key"),
        (lambda p: p.add("r", "Reader", party_params={("host", 1): {}}).conf(), "host 1 is not in roles"),
    ],
)
def test_builder_errors_name_the_problem(build: object, message: str) -> None:
    pipeline = Pipeline().roles(guest=[9999], host=[10000])
    with pytest.raises(InvalidInput, match=message):
        build(pipeline)  # type: ignore[operator]


def test_initiator_must_be_in_roles() -> None:
    with pytest.raises(InvalidInput, match="initiator"):
        Pipeline(initiator=("guest", 1)).roles(guest=[2]).conf()


def test_predict_model_refs_are_not_dependencies() -> None:
    pipeline = Pipeline().roles(guest=[9999]).add("reader_0", "Reader")
    pipeline.add("lr", "HeteroLR", inputs(test_data="reader_0", model="pipeline.lr.model"))
    assert pipeline.dsl()["components"]["lr"]["input"]["model"] == ["pipeline.lr.model"]


def _fit_server(server: FakeServer, final: str, tasks: list[dict[str, Any]]) -> None:
    server.on("job/submit", job_id="9", data={"model_info": {"model_id": "m", "model_version": "9"}})
    server.on("job/query", lambda _r: httpx.Response(200, json=envelope([job_record("9", final)])))
    server.on("job/task/query", data=tasks)


def test_fit_submits_waits_and_returns_a_job_result(server: FakeServer, client: FedloomClient) -> None:
    _fit_server(server, "success", [task_record("intersection_0", "success")])
    server.on("tracking/component/summary/download", data={"intersect_num": 569})
    result = psi_pipeline(9999, 10000, GUEST_TABLE, HOST_TABLE).fit(client)
    assert (result.job_id, result.model_id, result.status) == ("9", "m", "success")
    assert result.summary("intersection_0") == {"intersect_num": 569}
    assert server.body() == {
        "job_id": "9",
        "component_name": "intersection_0",
        "role": "guest",
        "party_id": 9999,
    }


def test_fit_raises_with_the_failing_components_error(server: FakeServer, client: FedloomClient) -> None:
    tasks = [
        task_record("reader_0", "success"),
        task_record("reader_0", "failed", role="host", party_id=10000, f_error_report="table not found"),
    ]
    _fit_server(server, "failed", tasks)
    with pytest.raises(JobFailed, match=r"reader_0 \(host 10000\): table not found"):
        psi_pipeline(9999, 10000, GUEST_TABLE, HOST_TABLE).fit(client)
