"""Test doubles for the dsl tests: a fake component catalog and the spec's example jobs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from fedloom.components.api import Params
from fedloom.errors import InvalidInput

GUEST_HOST = frozenset({"guest", "host"})
WITH_ARBITER = frozenset({"guest", "host", "arbiter"})


class _Nested(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReaderParams(Params):
    table: dict[str, Any] | None = None


class DataTransformParams(Params):
    with_label: bool = False
    label_name: str = "y"
    label_type: str = "int"
    output_format: Literal["dense", "sparse"] = "dense"


class RsaParams(_Nested):
    hash_method: str = "sha256"
    final_hash_method: str = "sha256"
    key_length: int = 1024


class IntersectionParams(Params):
    intersect_method: Literal["rsa", "dh", "ecdh", "raw"] = "rsa"
    sync_intersect_ids: bool = True
    only_output_key: bool = False
    rsa_params: RsaParams = RsaParams()


class EncryptParam(_Nested):
    method: str = "Paillier"
    key_length: int = 1024


class InitParam(_Nested):
    init_method: str = "random_uniform"


class HeteroLRParams(Params):
    penalty: str = "L2"
    tol: float = 1e-4
    alpha: float = 1.0
    optimizer: str = "rmsprop"
    batch_size: int = -1
    learning_rate: float = 0.01
    max_iter: int = 100
    early_stop: str = "diff"
    init_param: InitParam = InitParam()
    encrypt_param: EncryptParam = EncryptParam()


class ObjectiveParam(_Nested):
    objective: str = "cross_entropy"


class TreeParam(_Nested):
    max_depth: int = 3
    min_sample_split: int = 2
    min_leaf_node: int = 1


class SecureBoostParams(Params):
    task_type: str = "classification"
    objective_param: ObjectiveParam = ObjectiveParam()
    num_trees: int = 5
    learning_rate: float = 0.3
    bin_num: int = 32
    subsample_feature_rate: float = 1.0
    tree_param: TreeParam = TreeParam()
    encrypt_param: EncryptParam = EncryptParam()
    validation_freqs: int | None = None


class BinningParams(Params):
    bin_num: int = 10


class SelectionParams(Params):
    select_col_indexes: int = -1


class EvaluationParams(Params):
    eval_type: Literal["binary", "multi", "regression"] = "binary"


class UploadParams(Params):
    file: str = ""
    table_name: str = ""
    namespace: str = ""
    head: int = 1
    partition: int = 4


class DownloadParams(Params):
    output_path: str = ""
    table_name: str = ""
    namespace: str = ""


_MODULES: dict[str, tuple[frozenset[str], type[Params], tuple[str, ...], tuple[str, ...]]] = {
    "Reader": (GUEST_HOST, ReaderParams, ("data",), ()),
    "DataTransform": (GUEST_HOST, DataTransformParams, ("data",), ("model",)),
    "Intersection": (GUEST_HOST, IntersectionParams, ("data",), ()),
    "HeteroLR": (WITH_ARBITER, HeteroLRParams, ("data",), ("model",)),
    "HeteroSecureBoost": (GUEST_HOST, SecureBoostParams, ("data",), ("model",)),
    "HeteroFeatureBinning": (GUEST_HOST, BinningParams, ("data",), ("model",)),
    "HeteroFeatureSelection": (GUEST_HOST, SelectionParams, ("data",), ("model",)),
    "HeteroDataSplit": (GUEST_HOST, Params, ("train_data", "validate_data", "test_data"), ()),
    "Evaluation": (WITH_ARBITER, EvaluationParams, ("data",), ()),
    "Upload": (frozenset({"local"}), UploadParams, ("data",), ()),
    "Download": (frozenset({"local"}), DownloadParams, (), ()),
}


class FakeCatalog:
    """ComponentCatalog over a few pydantic parameter models, as components/registry.py will be."""

    def __init__(self) -> None:
        self.validations = 0

    def module_roles(self, module: str) -> frozenset[str] | None:
        entry = _MODULES.get(module)
        return entry[0] if entry else None

    def validate_params(self, module: str, params: dict[str, Any]) -> dict[str, Any]:
        self.validations += 1
        try:
            return _MODULES[module][1].model_validate(params).model_dump()
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(part) for part in error["loc"])
            if error["type"] == "extra_forbidden":
                raise InvalidInput(f'parameter "{field}" is not a parameter of {module}') from None
            raise InvalidInput(f'parameter "{field}": {error["msg"]}') from None

    def output_aliases(self, module: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        _, _, data, model = _MODULES[module]
        return data, model


HETERO_LR_DSL: dict[str, Any] = {
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

HETERO_LR_CONF: dict[str, Any] = {
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

SECUREBOOST_DSL: dict[str, Any] = {
    "components": {
        "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
        "reader_1": {"module": "Reader", "output": {"data": ["data"]}},
        "data_transform_0": {
            "module": "DataTransform",
            "input": {"data": {"data": ["reader_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
        "data_transform_1": {
            "module": "DataTransform",
            "input": {"data": {"data": ["reader_1.data"]}, "model": ["data_transform_0.model"]},
            "output": {"data": ["data"]},
        },
        "intersection_0": {
            "module": "Intersection",
            "input": {"data": {"data": ["data_transform_0.data"]}},
            "output": {"data": ["data"]},
        },
        "intersection_1": {
            "module": "Intersection",
            "input": {"data": {"data": ["data_transform_1.data"]}},
            "output": {"data": ["data"]},
        },
        "hetero_secureboost_0": {
            "module": "HeteroSecureBoost",
            "input": {
                "data": {"train_data": ["intersection_0.data"], "validate_data": ["intersection_1.data"]}
            },
            "output": {"data": ["data"], "model": ["model"]},
        },
        "evaluation_0": {
            "module": "Evaluation",
            "input": {"data": {"data": ["hetero_secureboost_0.data"]}},
            "output": {"data": ["data"]},
        },
    }
}

SECUREBOOST_CONF: dict[str, Any] = {
    "dsl_version": 2,
    "initiator": {"role": "guest", "party_id": 9999},
    "role": {"guest": [9999], "host": [10000]},
    "job_parameters": {"common": {"task_cores": 4, "task_parallelism": 1, "computing_partitions": 8}},
    "component_parameters": {
        "common": {
            "intersection_0": {"intersect_method": "rsa"},
            "intersection_1": {"intersect_method": "rsa"},
            "hetero_secureboost_0": {
                "task_type": "classification",
                "objective_param": {"objective": "cross_entropy"},
                "num_trees": 5,
                "learning_rate": 0.3,
                "bin_num": 32,
                "subsample_feature_rate": 1.0,
                "tree_param": {"max_depth": 3, "min_sample_split": 2, "min_leaf_node": 1},
                "encrypt_param": {"method": "Paillier", "key_length": 1024},
                "validation_freqs": 1,
            },
            "evaluation_0": {"eval_type": "binary"},
        },
        "role": {
            "guest": {
                "0": {
                    "reader_0": {"table": {"name": "breast_hetero_guest", "namespace": "experiment"}},
                    "reader_1": {"table": {"name": "breast_hetero_guest", "namespace": "experiment"}},
                    "data_transform_0": {"with_label": True, "output_format": "dense"},
                }
            },
            "host": {
                "0": {
                    "reader_0": {"table": {"name": "breast_hetero_host", "namespace": "experiment"}},
                    "reader_1": {"table": {"name": "breast_hetero_host", "namespace": "experiment"}},
                    "data_transform_0": {"with_label": False},
                    "evaluation_0": {"need_run": False},
                }
            },
        },
    },
}
