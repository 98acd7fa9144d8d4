"""Plaintext reference of hetero LR: exactly the Taylor-approximated math the federated protocol runs."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fedloom.errors import InvalidInput
from fedloom.ml.optim import Optimizer

FloatArray = npt.NDArray[np.float64]
Indices = npt.NDArray[np.intp]
# Called after every epoch with (epoch, coef, intercept); returning True stops training.
EpochCallback = Callable[[int, FloatArray, float], bool | None]

INIT_METHODS = ("zeros", "ones", "const", "random_uniform", "random_normal")
EARLY_STOP = ("diff", "weight_diff", "abs")
_LOG2 = math.log(2.0)


@dataclass(frozen=True)
class LRFit:
    """A fitted model and how the fit went."""

    coef: FloatArray
    intercept: float
    loss_history: list[float]
    n_iter: int
    converged: bool


def sigmoid(z: FloatArray) -> FloatArray:
    """1 / (1 + exp(-z)) without overflow for large |z|."""
    out: FloatArray = np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=np.float64)))
    return out


def predict_proba(X: FloatArray, coef: FloatArray, intercept: float = 0.0) -> FloatArray:
    """P(y = 1 | x) for every row of X."""
    return sigmoid(np.asarray(X, dtype=np.float64) @ coef + intercept)


def init_weights(
    n_features: int,
    *,
    method: str = "random_uniform",
    fit_intercept: bool = True,
    init_const: float = 1.0,
    random_seed: int | None = None,
) -> FloatArray:
    """FATE's initializer: n_features (+1 intercept, last) values.

    The random methods draw from ``np.random.RandomState(random_seed)`` (``rand`` / ``randn``),
    the same stream FATE gets from ``np.random.seed(random_seed)``, without touching global state.
    """
    size = n_features + (1 if fit_intercept else 0)
    if method == "zeros":
        return np.zeros(size)
    if method == "ones":
        return np.ones(size)
    if method == "const":
        return np.full(size, float(init_const))
    if method == "random_uniform":
        return np.random.RandomState(random_seed).rand(size)
    if method == "random_normal":
        return np.random.RandomState(random_seed).randn(size)
    raise InvalidInput(f"init_method {method!r} is not supported; use one of {list(INIT_METHODS)}")


def batch_indices(n: int, batch_size: int, *, seed: int | None = 0) -> list[Indices]:
    """The batches of one epoch, the same every epoch.

    batch_size -1 (or >= n) gives one batch of all rows in order. Otherwise the rows are permuted
    once with ``np.random.default_rng(seed).permutation(n)`` and cut into consecutive slices of
    batch_size (the last may be shorter); each batch is returned sorted.
    """
    if batch_size == -1 or batch_size >= n:
        return [np.arange(n, dtype=np.intp)]
    if batch_size <= 0:
        raise InvalidInput(f"batch_size must be -1 or a positive integer, got {batch_size}")
    perm = np.random.default_rng(seed).permutation(n).astype(np.intp)
    return [np.sort(perm[i : i + batch_size]) for i in range(0, n, batch_size)]


def taylor_lr_fit(
    X: FloatArray,
    y01: npt.ArrayLike,
    *,
    optimizer: str = "rmsprop",
    learning_rate: float = 0.01,
    alpha: float = 1.0,
    penalty: str | None = "L2",
    decay: float = 1.0,
    decay_sqrt: bool = True,
    max_iter: int = 100,
    batch_size: int = -1,
    batch_seed: int | None = 0,
    tol: float = 1e-4,
    early_stop: str = "diff",
    fit_intercept: bool = True,
    init_method: str = "random_uniform",
    init_const: float = 1.0,
    random_seed: int | None = None,
    callback: EpochCallback | None = None,
) -> LRFit:
    """Fit hetero LR's objective in one process; defaults are HeteroLogisticParam's.

    Per epoch t (``Optimizer.set_iteration(t)``), for every batch in ``batch_indices`` order, with
    y in {-1, +1} (label 1 positive, anything else negative, as FATE's guest recodes it) and the
    weights as they are before that batch's update:

    * ``wx = X_b @ coef + intercept``; residual ``d = 0.25 * wx - 0.5 * y``
    * gradient ``X_b.T @ d / n_b`` and, for the intercept (kept last), ``sum(d) / n_b``
    * batch loss ``log 2 - 0.5 mean(y wx) + 0.125 mean(wx^2) + regularization_loss(w)``
    * ``delta = opt.step(grad, w)`` (L2 term added to the coefficients); ``w = opt.apply(w, delta)``

    The epoch loss is the mean of its batch losses. After each epoch: ``diff`` stops when
    |loss_t - loss_{t-1}| < tol, ``abs`` when loss <= tol, ``weight_diff`` when the norm of the
    sum of the epoch's deltas < tol (FATE's arbiter rules); then `callback` may stop training.
    """
    x, y = _check_data(X, y01)
    if early_stop not in EARLY_STOP:
        raise InvalidInput(f"early_stop {early_stop!r} is not supported; use one of {list(EARLY_STOP)}")
    if max_iter < 1:
        raise InvalidInput("max_iter must be >= 1")
    opt = Optimizer(optimizer, learning_rate, alpha, penalty, decay, decay_sqrt)
    w = init_weights(
        x.shape[1],
        method=init_method,
        fit_intercept=fit_intercept,
        init_const=init_const,
        random_seed=random_seed,
    )
    batches = batch_indices(x.shape[0], batch_size, seed=batch_seed)
    losses: list[float] = []
    converged = False
    for epoch in range(max_iter):
        opt.set_iteration(epoch)
        w, loss, moved = _run_epoch(x, y, w, batches, opt, fit_intercept)
        losses.append(loss)
        converged = _converged(early_stop, tol, losses, moved)
        stop = callback is not None and bool(callback(epoch, *_split(w, fit_intercept)))
        if converged or stop:
            break
    coef, intercept = _split(w, fit_intercept)
    return LRFit(coef, intercept, losses, n_iter=len(losses), converged=converged)


def taylor_batch_gradient(
    x: FloatArray, y: FloatArray, w: FloatArray, fit_intercept: bool
) -> tuple[FloatArray, FloatArray]:
    """(gradient, wx) of one batch, y in {-1, +1}; the intercept's gradient is last."""
    coef, intercept = _split(w, fit_intercept)
    wx = x @ coef + intercept
    d = 0.25 * wx - 0.5 * y
    grad = x.T @ d / x.shape[0]
    if fit_intercept:
        grad = np.append(grad, d.sum() / x.shape[0])
    return grad, wx


def taylor_loss(wx: FloatArray, y: FloatArray) -> float:
    """log 2 - 0.5 mean(y wx) + 0.125 mean(wx^2): the protocol's loss without regularisation."""
    return float(_LOG2 - 0.5 * np.mean(y * wx) + 0.125 * np.mean(wx * wx))


def _run_epoch(
    x: FloatArray, y: FloatArray, w: FloatArray, batches: list[Indices], opt: Optimizer, fit_intercept: bool
) -> tuple[FloatArray, float, float]:
    total_delta = np.zeros_like(w)
    batch_losses = []
    for idx in batches:
        grad, wx = taylor_batch_gradient(x[idx], y[idx], w, fit_intercept)
        # Loss uses the weights before this batch's update, as the guest computes it in FATE.
        reg = opt.regularization_loss(w, intercept_last=fit_intercept)
        batch_losses.append(taylor_loss(wx, y[idx]) + reg)
        delta = opt.step(grad, w, intercept_last=fit_intercept)
        w = opt.apply(w, delta, intercept_last=fit_intercept)
        total_delta += delta
    return w, float(np.mean(batch_losses)), float(np.linalg.norm(total_delta))


def _converged(early_stop: str, tol: float, losses: list[float], moved: float) -> bool:
    if early_stop == "weight_diff":
        return moved < tol
    if early_stop == "abs":
        return losses[-1] <= tol
    return len(losses) > 1 and abs(losses[-1] - losses[-2]) < tol


def _split(w: FloatArray, fit_intercept: bool) -> tuple[FloatArray, float]:
    if fit_intercept:
        return w[:-1].copy(), float(w[-1])
    return w.copy(), 0.0


def _check_data(X: FloatArray, y01: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    x = np.asarray(X, dtype=np.float64)
    labels = np.asarray(y01)
    if x.ndim != 2 or x.shape[0] == 0:
        raise InvalidInput(f"X must be a non-empty 2-D array, got shape {x.shape}")
    if labels.shape != (x.shape[0],):
        raise InvalidInput(f"y01 must have shape ({x.shape[0]},), got {labels.shape}")
    if not np.isfinite(x).all():
        raise InvalidInput("X contains NaN or infinite values")
    return x, np.where(labels == 1, 1.0, -1.0)


__all__ = [
    "EARLY_STOP",
    "INIT_METHODS",
    "EpochCallback",
    "LRFit",
    "batch_indices",
    "init_weights",
    "predict_proba",
    "sigmoid",
    "taylor_batch_gradient",
    "taylor_loss",
    "taylor_lr_fit",
]
