"""DSL and conf documents used by the end-to-end tests (FATE's §3.3 shapes)."""

from __future__ import annotations

from typing import Any


def psi_job(
    guest: int = 9999,
    host: int = 10000,
    *,
    guest_table: str = "breast_hetero_guest",
    host_table: str = "breast_hetero_host",
) -> tuple[dict[str, Any], dict[str, Any]]:
    dsl = {
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
        }
    }
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": guest},
        "role": {"guest": [guest], "host": [host]},
        "job_parameters": {"common": {"task_cores": 1}},
        "component_parameters": {
            "role": {
                "guest": {
                    "0": {
                        "reader_0": {"table": {"name": guest_table, "namespace": "experiment"}},
                        "data_transform_0": {"with_label": True, "label_name": "y"},
                    }
                },
                "host": {
                    "0": {
                        "reader_0": {"table": {"name": host_table, "namespace": "experiment"}},
                        "data_transform_0": {"with_label": False},
                    }
                },
            }
        },
    }
    return dsl, conf


def hetero_lr_job(
    guest: int = 9999,
    host: int = 10000,
    arbiter: int = 10000,
    *,
    max_iter: int = 30,
    guest_table: str = "breast_hetero_guest",
    host_table: str = "breast_hetero_host",
) -> tuple[dict[str, Any], dict[str, Any]]:
    dsl, conf = psi_job(guest, host, guest_table=guest_table, host_table=host_table)
    dsl["components"]["hetero_lr_0"] = {
        "module": "HeteroLR",
        "input": {"data": {"train_data": ["intersection_0.data"]}},
        "output": {"data": ["data"], "model": ["model"]},
    }
    dsl["components"]["evaluation_0"] = {
        "module": "Evaluation",
        "input": {"data": {"data": ["hetero_lr_0.data"]}},
        "output": {"data": ["data"]},
    }
    conf["role"]["arbiter"] = [arbiter]
    conf["component_parameters"]["common"] = {
        "hetero_lr_0": {
            "penalty": "L2",
            "tol": 0.0001,
            "alpha": 0.01,
            "optimizer": "rmsprop",
            "batch_size": -1,
            "learning_rate": 0.05,
            "max_iter": max_iter,
            "init_param": {"init_method": "zeros"},
            "encrypt_param": {"method": "Paillier", "key_length": 1024},
        },
        "evaluation_0": {"eval_type": "binary"},
    }
    roles = conf["component_parameters"]["role"]
    roles["host"]["0"]["evaluation_0"] = {"need_run": False}
    return dsl, conf
