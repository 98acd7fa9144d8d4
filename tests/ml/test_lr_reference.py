"""The plaintext Taylor-LR reference: its math, its batch order, and its quality vs sklearn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from fedloom.errors import InvalidInput
from fedloom.ml.lr import (
    batch_indices,
    init_weights,
    predict_proba,
    sigmoid,
    taylor_batch_gradient,
    taylor_loss,
    taylor_lr_fit,
)
from fedloom.ml.optim import Optimizer


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, np.ndarray, float]:
    X, y = load_breast_cancer(return_X_y=True)
    Xs = StandardScaler().fit_transform(X)
    reference = LogisticRegression(max_iter=1000).fit(Xs, y)
    return Xs, y, float(roc_auc_score(y, reference.predict_proba(Xs)[:, 1]))


@pytest.mark.parametrize(
    ("optimizer", "learning_rate"),
    [("rmsprop", 0.05), ("sgd", 0.3), ("adam", 0.15), ("adagrad", 0.15), ("nesterov_momentum_sgd", 0.15)],
)
def test_auc_close_to_sklearn(
    cancer: tuple[np.ndarray, np.ndarray, float], optimizer: str, learning_rate: float
) -> None:
    X, y, sklearn_auc = cancer
    fit = taylor_lr_fit(
        X, y, optimizer=optimizer, learning_rate=learning_rate, alpha=0.01, max_iter=30, init_method="zeros"
    )
    auc = roc_auc_score(y, predict_proba(X, fit.coef, fit.intercept))
    assert abs(auc - sklearn_auc) < 0.01
    assert fit.loss_history[0] == pytest.approx(math.log(2))  # zero weights, zero penalty
    assert fit.loss_history[-1] < 0.4


def test_gradient_is_the_derivative_of_the_taylor_loss() -> None:
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(40, 3)), rng.choice([-1.0, 1.0], size=40)
    w = rng.normal(size=4)

    def loss(v: np.ndarray) -> float:
        return taylor_loss(x @ v[:3] + v[3], y)

    grad, wx = taylor_batch_gradient(x, y, w, fit_intercept=True)
    eps = 1e-6
    numeric = [(loss(w + eps * e) - loss(w - eps * e)) / (2 * eps) for e in np.eye(4)]
    assert np.allclose(grad, numeric, atol=1e-7)
    assert np.allclose(wx, x @ w[:3] + w[3])


def test_one_epoch_by_hand_with_minibatches() -> None:
    rng = np.random.default_rng(3)
    X, y01 = rng.normal(size=(25, 4)), rng.integers(0, 2, size=25)
    fit = taylor_lr_fit(
        X, y01, optimizer="adam", learning_rate=0.1, alpha=0.5, batch_size=10, batch_seed=5,
        max_iter=1, init_method="const", init_const=0.2,
    )  # fmt: skip
    y = np.where(y01 == 1, 1.0, -1.0)
    opt, w, losses = Optimizer("adam", 0.1, 0.5, "L2"), np.full(5, 0.2), []
    for idx in batch_indices(25, 10, seed=5):
        wx = X[idx] @ w[:4] + w[4]
        d = 0.25 * wx - 0.5 * y[idx]
        grad = np.r_[X[idx].T @ d / idx.size, d.sum() / idx.size]
        losses.append(taylor_loss(wx, y[idx]) + 0.25 * np.dot(w[:4], w[:4]))
        w = w - opt.step(grad + 0.5 * np.r_[w[:4], 0.0])
    assert np.allclose(fit.coef, w[:4]) and fit.intercept == pytest.approx(w[4])
    assert fit.loss_history == [pytest.approx(np.mean(losses))]


def test_batches_partition_rows_deterministically() -> None:
    batches = batch_indices(23, 5, seed=11)
    assert [b.size for b in batches] == [5, 5, 5, 5, 3]
    assert sorted(np.concatenate(batches).tolist()) == list(range(23))
    assert all(np.array_equal(b, np.sort(b)) for b in batches)
    again = batch_indices(23, 5, seed=11)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again, strict=True))
    perm = np.random.default_rng(11).permutation(23)
    assert np.array_equal(batches[0], np.sort(perm[:5]))
    assert [b.tolist() for b in batch_indices(4, -1)] == [[0, 1, 2, 3]]
    assert [b.tolist() for b in batch_indices(4, 9)] == [[0, 1, 2, 3]]
    with pytest.raises(InvalidInput, match="batch_size"):
        batch_indices(4, 0)


def test_fit_is_deterministic(cancer: tuple[np.ndarray, np.ndarray, float]) -> None:
    X, y, _ = cancer
    one, two = (taylor_lr_fit(X, y, batch_size=64, max_iter=3, random_seed=9) for _ in range(2))
    assert np.array_equal(one.coef, two.coef) and one.loss_history == two.loss_history


def test_random_init_is_fates_stream() -> None:
    saved = np.random.get_state()
    try:
        np.random.seed(42)
        fate_uniform = np.random.rand(4)
        np.random.seed(42)
        fate_normal = np.random.randn(3)
    finally:
        np.random.set_state(saved)
    assert np.array_equal(init_weights(3, method="random_uniform", random_seed=42), fate_uniform)
    assert np.array_equal(
        init_weights(3, method="random_normal", fit_intercept=False, random_seed=42), fate_normal
    )
    assert init_weights(2, method="const", init_const=0.5).tolist() == [0.5, 0.5, 0.5]
    with pytest.raises(InvalidInput, match="init_method"):
        init_weights(2, method="xavier")


@pytest.mark.parametrize(("early_stop", "tol"), [("abs", 10.0), ("weight_diff", 1e6), ("diff", 1e6)])
def test_early_stop_rules(early_stop: str, tol: float) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 2)), rng.integers(0, 2, size=30)
    fit = taylor_lr_fit(X, y, early_stop=early_stop, tol=tol, max_iter=50, init_method="zeros")
    assert fit.converged
    assert fit.n_iter == (2 if early_stop == "diff" else 1)  # diff needs two losses


def test_callback_can_stop_and_sees_every_epoch() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 2)), rng.integers(0, 2, size=30)
    seen: list[int] = []

    def callback(epoch: int, coef: np.ndarray, intercept: float) -> bool:
        seen.append(epoch)
        assert coef.shape == (2,)
        return epoch == 2

    fit = taylor_lr_fit(X, y, max_iter=10, tol=0.0, callback=callback, fit_intercept=False)
    assert seen == [0, 1, 2] and fit.n_iter == 3 and not fit.converged and fit.intercept == 0.0


def test_sigmoid_is_stable() -> None:
    z = np.array([-1000.0, -5.0, 0.0, 5.0, 1000.0])
    assert np.allclose(sigmoid(z), [0.0, 1 / (1 + math.exp(5)), 0.5, 1 / (1 + math.exp(-5)), 1.0])
    assert predict_proba(np.zeros((2, 3)), np.ones(3), 0.0).tolist() == [0.5, 0.5]


def test_bad_inputs() -> None:
    X = np.zeros((3, 2))
    with pytest.raises(InvalidInput, match="y01"):
        taylor_lr_fit(X, [0, 1])
    with pytest.raises(InvalidInput, match="NaN"):
        taylor_lr_fit(np.array([[np.nan, 1.0]]), [1])
    with pytest.raises(InvalidInput, match="early_stop"):
        taylor_lr_fit(X, [0, 1, 0], early_stop="loss")
    with pytest.raises(InvalidInput, match="max_iter"):
        taylor_lr_fit(X, [0, 1, 0], max_iter=0)
