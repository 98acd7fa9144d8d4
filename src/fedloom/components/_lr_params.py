"""HeteroLR parameters: FATE's HeteroLogisticParam names and defaults, validated with pydantic."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from fedloom.components.api import Params
from fedloom.errors import InvalidInput
from fedloom.ml.optim import OPTIMIZER_KINDS, normalize_penalty
from fedloom.ml.paillier import MIN_KEY_BITS

# FATE's default is 2048 bits; fedloom defaults to 1024 (7x faster encryption, the smallest size the
# Paillier room accepts). Jobs that need 2048 say so in encrypt_param.key_length.
DEFAULT_KEY_LENGTH = 1024
KEY_LENGTH_STEP = 256


class _Nested(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InitParam(_Nested):
    init_method: Literal["random_uniform", "random_normal", "zeros", "ones", "const"] = "random_uniform"
    init_const: float = 1.0
    fit_intercept: bool = True
    random_seed: int | None = None


class EncryptParam(_Nested):
    method: str | None = "Paillier"
    key_length: int = DEFAULT_KEY_LENGTH

    @field_validator("method")
    @classmethod
    def _paillier_only(cls, value: str | None) -> str:
        if value is None or value.lower() != "paillier":
            raise ValueError(f"HeteroLR needs method 'Paillier', got {value!r}")
        return "Paillier"

    @field_validator("key_length")
    @classmethod
    def _strong_enough(cls, value: int) -> int:
        if value < MIN_KEY_BITS or value % KEY_LENGTH_STEP:
            raise ValueError(
                f"key_length must be at least {MIN_KEY_BITS} and a multiple of {KEY_LENGTH_STEP}, got {value}"
            )
        return value


class EncryptedModeCalculatorParam(_Nested):
    mode: Literal["strict", "fast", "confusion_opt", "balance", "confusion_opt_balance"] = "strict"
    re_encrypted_rate: float = 1.0


class PredictParam(_Nested):
    threshold: float = 0.5


class CVParam(_Nested):
    n_splits: int = 5
    mode: str = "hetero"
    role: str = "guest"
    shuffle: bool = True
    random_seed: int | None = 1
    need_cv: bool = False
    output_fold_history: bool = True
    history_value_type: str = "score"

    @field_validator("need_cv")
    @classmethod
    def _no_cv(cls, value: bool) -> bool:
        if value:
            raise ValueError("cross validation (need_cv true) is not supported by fedloom's HeteroLR yet")
        return value


class HeteroLRParams(Params):
    """FATE's HeteroLogisticParam. Accepted for compatibility but not acted on yet: batch_strategy
    "random", shuffle, masked_rate (batches are one seeded split, the same every epoch, as in
    fedloom.ml.lr), encrypted_mode_calculator_param (every encryption is fresh, FATE's "strict"),
    early_stopping_rounds, metrics, use_first_metric_only, callback_param, stepwise_param, sqn_param.
    validation_freqs with validate_data logs AUC and KS per validation round.
    """

    penalty: str | None = "L2"
    tol: float = 1e-4
    alpha: float = 1.0
    optimizer: str = "rmsprop"
    batch_size: int = -1
    batch_strategy: Literal["full", "random"] = "full"
    shuffle: bool = True
    masked_rate: float = 5
    learning_rate: float = 0.01
    init_param: InitParam = InitParam()
    max_iter: int = 100
    early_stop: Literal["diff", "weight_diff", "abs"] = "diff"
    encrypt_param: EncryptParam = EncryptParam()
    encrypted_mode_calculator_param: EncryptedModeCalculatorParam = EncryptedModeCalculatorParam()
    predict_param: PredictParam = PredictParam()
    cv_param: CVParam = CVParam()
    decay: float = 1.0
    decay_sqrt: bool = True
    multi_class: Literal["ovr"] = "ovr"
    # fedloom: "moments" (one host) does the per-row crypto once at set-up (see _lr_gram); "residual"
    # is FATE's per-row protocol every epoch; "auto" takes moments with one host, residual otherwise.
    protocol: Literal["auto", "moments", "residual"] = "auto"
    validation_freqs: int | list[int] | None = None
    early_stopping_rounds: int | None = None
    metrics: list[str] | None = None
    use_first_metric_only: bool = False
    # Fraction bits of the fixed-point data matrix in encrypted products (FATE's meaning); None = 16.
    floating_point_precision: int | None = 23
    callback_param: dict[str, Any] | None = None
    stepwise_param: dict[str, Any] | None = None
    sqn_param: dict[str, Any] | None = None

    @field_validator("penalty")
    @classmethod
    def _penalty(cls, value: str | None) -> str | None:
        try:
            return normalize_penalty(value)
        except InvalidInput as exc:  # pydantic reports only ValueError as a field error
            raise ValueError(exc.message) from None

    @field_validator("optimizer")
    @classmethod
    def _optimizer(cls, value: str) -> str:
        if value == "sqn":
            raise ValueError("optimizer 'sqn' (stochastic quasi-Newton) is not supported by fedloom's HeteroLR")
        if value not in OPTIMIZER_KINDS:
            raise ValueError(f"optimizer {value!r} is not supported; use one of {list(OPTIMIZER_KINDS)}")
        return value

    @field_validator("batch_size")
    @classmethod
    def _batch_size(cls, value: int) -> int:
        if value != -1 and value < 1:
            raise ValueError(f"batch_size must be -1 (all rows) or a positive integer, got {value}")
        return value

    @field_validator("max_iter")
    @classmethod
    def _max_iter(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"max_iter must be >= 1, got {value}")
        return value

    @field_validator("tol", "alpha", "learning_rate", "decay")
    @classmethod
    def _non_negative(cls, value: float) -> float:
        if not value >= 0 or value == float("inf"):
            raise ValueError(f"must be a finite number >= 0, got {value}")
        return value

    @field_validator("floating_point_precision")
    @classmethod
    def _precision(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 40:
            raise ValueError(f"floating_point_precision must be within [1, 40] or null, got {value}")
        return value


__all__ = [
    "CVParam",
    "EncryptParam",
    "EncryptedModeCalculatorParam",
    "HeteroLRParams",
    "InitParam",
    "PredictParam",
]
