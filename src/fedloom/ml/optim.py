"""FATE's linear-model optimizers, learning-rate decay and L1/L2 regularisation as one pure class."""

from __future__ import annotations

import math
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from fedloom.errors import InvalidInput

FloatArray = npt.NDArray[np.float64]
OptimizerKind = Literal["sgd", "rmsprop", "adam", "adagrad", "nesterov_momentum_sgd"]
Penalty = Literal["L1", "L2"]
OPTIMIZER_KINDS: tuple[str, ...] = ("sgd", "rmsprop", "adam", "adagrad", "nesterov_momentum_sgd")


class _Rule(Protocol):
    def delta(self, grad: FloatArray, lr: float) -> FloatArray: ...


class _Sgd:
    def delta(self, grad: FloatArray, lr: float) -> FloatArray:
        return lr * grad


class _RmsProp:
    rho = 0.99

    def __init__(self) -> None:
        self.mean_square: FloatArray | None = None

    def delta(self, grad: FloatArray, lr: float) -> FloatArray:
        prev = np.zeros_like(grad) if self.mean_square is None else self.mean_square
        self.mean_square = self.rho * prev + (1 - self.rho) * np.square(grad)
        return lr * grad / np.sqrt(self.mean_square + 1e-6)


class _AdaGrad:
    def __init__(self) -> None:
        self.sum_square: FloatArray | None = None

    def delta(self, grad: FloatArray, lr: float) -> FloatArray:
        prev = np.zeros_like(grad) if self.sum_square is None else self.sum_square
        self.sum_square = prev + np.square(grad)
        return lr * grad / (np.sqrt(self.sum_square) + 1e-7)


class _Nesterov:
    momentum = 0.9

    def __init__(self) -> None:
        self.velocity: FloatArray | None = None

    def delta(self, grad: FloatArray, lr: float) -> FloatArray:
        prev = np.zeros_like(grad) if self.velocity is None else self.velocity
        self.velocity = self.momentum * prev - lr * grad
        # FATE's look-ahead form: the weight change is -(mu * v_t - lr * g) evaluated from v_{t-1}.
        out: FloatArray = self.momentum * prev - (1 + self.momentum) * self.velocity
        return out


class _Adam:
    beta1 = 0.9
    beta2 = 0.999

    def __init__(self) -> None:
        self.m: FloatArray | None = None
        self.v: FloatArray | None = None
        self.beta1_power = 1.0
        self.beta2_power = 1.0

    def delta(self, grad: FloatArray, lr: float) -> FloatArray:
        m = np.zeros_like(grad) if self.m is None else self.m
        v = np.zeros_like(grad) if self.v is None else self.v
        self.beta1_power *= self.beta1
        self.beta2_power *= self.beta2
        self.m = self.beta1 * m + (1 - self.beta1) * grad
        self.v = self.beta2 * v + (1 - self.beta2) * np.square(grad)
        m_hat = self.m / (1 - self.beta1_power)
        v_hat = self.v / (1 - self.beta2_power)
        return lr * m_hat / (np.sqrt(v_hat) + 1e-8)


_RULES: dict[str, type[_Sgd | _RmsProp | _AdaGrad | _Nesterov | _Adam]] = {
    "sgd": _Sgd,
    "rmsprop": _RmsProp,
    "adagrad": _AdaGrad,
    "nesterov_momentum_sgd": _Nesterov,
    "adam": _Adam,
}


class Optimizer:
    """One optimizer with its state; FATE's defaults are rmsprop, lr 0.01, L2, alpha 1, decay 1.

    How the calls split across parties in hetero LR (as in FATE 1.x):

    * each party adds its L2 term to its own gradient: ``penalized_gradient(grad, w)``;
    * the arbiter turns the concatenated, decrypted gradient into an update: ``step(grad)``
      (rule state, e.g. rmsprop's mean square, lives there);
    * each party applies its slice: ``apply(w, delta)``. That is ``w - delta``, except with L1,
      where FATE's proximal soft-threshold is applied to the coefficients (never the intercept).

    In one process ``step(grad, w)`` does the first two at once. ``set_iteration(t)`` is called
    once per epoch, not per batch, as FATE does; it drives the decay and the L1 threshold.
    """

    def __init__(
        self,
        kind: str = "rmsprop",
        learning_rate: float = 0.01,
        alpha: float = 1.0,
        penalty: str | None = "L2",
        decay: float = 1.0,
        decay_sqrt: bool = True,
    ) -> None:
        if kind not in _RULES:
            raise InvalidInput(f"optimizer {kind!r} is not supported; use one of {list(OPTIMIZER_KINDS)}")
        _check_non_negative(learning_rate=learning_rate, alpha=alpha, decay=decay)
        self.kind = kind
        self.learning_rate = float(learning_rate)
        self.alpha = float(alpha)
        self.penalty: Penalty | None = normalize_penalty(penalty)
        self.decay = float(decay)
        self.decay_sqrt = decay_sqrt
        self.iteration = 0
        self._rule: _Rule = _RULES[kind]()

    def set_iteration(self, t: int) -> None:
        """The epoch index (from 0) the next steps belong to."""
        if t < 0:
            raise InvalidInput("optimizer iteration must be >= 0")
        self.iteration = t

    def current_learning_rate(self) -> float:
        """lr / sqrt(1 + decay * t) with decay_sqrt, else lr / (1 + decay * t)."""
        scale = 1.0 + self.decay * self.iteration
        return self.learning_rate / (math.sqrt(scale) if self.decay_sqrt else scale)

    def penalized_gradient(
        self, grad: FloatArray, weights: FloatArray, *, intercept_last: bool = False
    ) -> FloatArray:
        """Add the L2 term alpha*w to the coefficients' gradient (never the intercept's)."""
        g = _as_vector(grad, "grad")
        if self.penalty != "L2":
            return g
        w = _coefficients(_same_shape(weights, g, "weights"), intercept_last)
        out = g.copy()
        out[: w.size] += self.alpha * w
        return out

    def step(
        self,
        grad: FloatArray,
        weights_for_penalty: FloatArray | None = None,
        *,
        intercept_last: bool = False,
    ) -> FloatArray:
        """The update delta for `grad`; with weights, their L2 term is added first."""
        g = _as_vector(grad, "grad")
        if weights_for_penalty is not None:
            g = self.penalized_gradient(g, weights_for_penalty, intercept_last=intercept_last)
        try:
            return self._rule.delta(g, self.current_learning_rate())
        except ValueError as exc:  # broadcasting failed: the gradient changed length mid-training
            raise InvalidInput(f"optimizer: gradient of length {g.size} does not match its state") from exc

    def apply(self, weights: FloatArray, delta: FloatArray, *, intercept_last: bool = False) -> FloatArray:
        """New weights from an update: ``w - delta``; with L1, FATE's soft-threshold on coefficients."""
        w = _as_vector(weights, "weights")
        new = w - _same_shape(delta, w, "delta")
        if self.penalty != "L1":
            return new
        n_coef = w.size - 1 if intercept_last else w.size
        coef = new[:n_coef]
        new[:n_coef] = np.sign(coef) * np.maximum(0.0, np.abs(coef) - self.l1_threshold())
        return new

    def l1_threshold(self) -> float:
        """alpha * lr / sqrt(t), FATE's shrinkage; t is clamped to 1 so the first epoch is finite.

        FATE divides by sqrt(0) in the first epoch, which zeroes every L1 coefficient; from the
        second epoch on this is the same value.
        """
        return self.alpha * self.learning_rate / math.sqrt(max(self.iteration, 1))

    def regularization_loss(self, weights: FloatArray, *, intercept_last: bool = False) -> float:
        """alpha*sum|w| (L1), 0.5*alpha*w.w (L2) or 0, over the coefficients only."""
        w = _coefficients(_as_vector(weights, "weights"), intercept_last)
        if self.penalty == "L1":
            return float(self.alpha * np.abs(w).sum())
        if self.penalty == "L2":
            return float(0.5 * self.alpha * np.dot(w, w))
        return 0.0


def normalize_penalty(penalty: str | None) -> Penalty | None:
    """FATE's spellings: None, "none"/"NONE", "l1"/"L1", "l2"/"L2"."""
    if penalty is None or penalty.upper() == "NONE":
        return None
    if penalty.upper() == "L1":
        return "L1"
    if penalty.upper() == "L2":
        return "L2"
    raise InvalidInput(f"penalty {penalty!r} is not supported; use 'L1', 'L2' or None")


def _check_non_negative(**values: float) -> None:
    for name, value in values.items():
        if not math.isfinite(value) or value < 0:
            raise InvalidInput(f"optimizer {name} must be a finite number >= 0, got {value}")


def _as_vector(value: FloatArray, name: str) -> FloatArray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 1:
        raise InvalidInput(f"optimizer: {name} must be a 1-D array, got shape {arr.shape}")
    return arr


def _same_shape(value: FloatArray, like: FloatArray, name: str) -> FloatArray:
    arr = _as_vector(value, name)
    if arr.shape != like.shape:
        raise InvalidInput(f"optimizer: {name} has shape {arr.shape}, expected {like.shape}")
    return arr


def _coefficients(weights: FloatArray, intercept_last: bool) -> FloatArray:
    return weights[:-1] if intercept_last else weights


__all__ = [
    "OPTIMIZER_KINDS",
    "Optimizer",
    "OptimizerKind",
    "Penalty",
    "normalize_penalty",
]
