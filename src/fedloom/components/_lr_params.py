"""HeteroLR parameters: FATE's HeteroLogisticParam names and defaults, validated with pydantic."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fedloom.components.api import Params
from fedloom.errors import InvalidInput
from fedloom.ml.optim import OPTIMIZER_KINDS, normalize_penalty
from fedloom.ml.paillier import MIN_KEY_BITS

# FATE's default is 2048 bits; fedloom defaults to 1024 (7x faster encryption, the smallest size the
# Paillier room accepts). Jobs that need 2048 say so in encrypt_param.key_length.
DEFAULT_KEY_LENGTH = 1024
KEY_LENGTH_STEP = 256
# Upper bounds (each error names its field): no parameter may ask for unbounded work or memory.
MAX_KEY_LENGTH = 8192
MAX_ITER = 100_000
MAX_BATCH_SIZE = 100_000_000
MAX_RATE = 1e6  # alpha, tol, learning_rate, decay: far beyond any useful value, still finite
MAX_MASKED_RATE = 1000.0
MAX_INIT_CONST = 1e6
MAX_SEED = 2**32 - 1  # numpy's seed range
MAX_VALIDATION_POINTS = 10_000
MAX_METRICS = 32
MAX_CV_SPLITS = 100


class _Nested(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class InitParam(_Nested):
    init_method: Literal["random_uniform", "random_normal", "zeros", "ones", "const"] = "random_uniform"
    init_const: float = Field(default=1.0, ge=-MAX_INIT_CONST, le=MAX_INIT_CONST)
    fit_intercept: bool = True
    random_seed: int | None = Field(default=None, ge=0, le=MAX_SEED)


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
        if not MIN_KEY_BITS <= value <= MAX_KEY_LENGTH or value % KEY_LENGTH_STEP:
            shown = value if value.bit_length() <= 64 else f"a number of {value.bit_length()} bits"
            raise ValueError(
                f"key_length must be between {MIN_KEY_BITS} and {MAX_KEY_LENGTH} and a multiple of "
                f"{KEY_LENGTH_STEP}, got {shown}"
            )
        return value


class EncryptedModeCalculatorParam(_Nested):
    mode: Literal["strict", "fast", "confusion_opt", "balance", "confusion_opt_balance"] = "strict"
    re_encrypted_rate: float = Field(default=1.0, ge=0, le=1)


class PredictParam(_Nested):
    threshold: float = Field(default=0.5, ge=0, le=1)


class CVParam(_Nested):
    n_splits: int = Field(default=5, ge=2, le=MAX_CV_SPLITS)
    mode: str = "hetero"
    role: str = "guest"
    shuffle: bool = True
    random_seed: int | None = Field(default=1, ge=0, le=MAX_SEED)
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

    model_config = ConfigDict(allow_inf_nan=False)

    penalty: str | None = "L2"
    tol: float = Field(default=1e-4, le=MAX_RATE)
    alpha: float = Field(default=1.0, le=MAX_RATE)
    optimizer: str = "rmsprop"
    batch_size: int = Field(default=-1, le=MAX_BATCH_SIZE)
    batch_strategy: Literal["full", "random"] = "full"
    shuffle: bool = True
    masked_rate: float = Field(default=5, ge=0, le=MAX_MASKED_RATE)
    learning_rate: float = Field(default=0.01, le=MAX_RATE)
    init_param: InitParam = InitParam()
    max_iter: int = Field(default=100, le=MAX_ITER)
    early_stop: Literal["diff", "weight_diff", "abs"] = "diff"
    encrypt_param: EncryptParam = EncryptParam()
    encrypted_mode_calculator_param: EncryptedModeCalculatorParam = EncryptedModeCalculatorParam()
    predict_param: PredictParam = PredictParam()
    cv_param: CVParam = CVParam()
    decay: float = Field(default=1.0, le=MAX_RATE)
    decay_sqrt: bool = True
    multi_class: Literal["ovr"] = "ovr"
    # fedloom: "moments" (one host) does the per-row crypto once at set-up (see _lr_gram); "residual"
    # is FATE's per-row protocol every epoch; "auto" takes moments with one host, residual otherwise.
    protocol: Literal["auto", "moments", "residual"] = "auto"
    validation_freqs: int | list[int] | None = None
    early_stopping_rounds: int | None = Field(default=None, ge=1, le=MAX_ITER)
    metrics: list[str] | None = Field(default=None, max_length=MAX_METRICS)
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
            raise ValueError(
                "optimizer 'sqn' (stochastic quasi-Newton) is not supported by fedloom's HeteroLR"
            )
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

    @field_validator("validation_freqs")
    @classmethod
    def _validation_freqs(cls, value: int | list[int] | None) -> int | list[int] | None:
        points = [value] if isinstance(value, int) else value or []
        if isinstance(value, list) and len(value) > MAX_VALIDATION_POINTS:
            raise ValueError(
                f"validation_freqs lists {len(value)} iterations, at most {MAX_VALIDATION_POINTS}"
            )
        if any(not 1 <= v <= MAX_ITER for v in points):
            raise ValueError(f"validation_freqs must be between 1 and {MAX_ITER} (max_iter's bound)")
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
