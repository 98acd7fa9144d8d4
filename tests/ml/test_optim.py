"""Optimizer: FATE's update rules, decay, L1/L2, and the party/arbiter split."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fedloom.errors import InvalidInput
from fedloom.ml.optim import OPTIMIZER_KINDS, Optimizer, normalize_penalty

G = np.array([0.5, -2.0, 0.0, 3.0])


def test_sgd_with_decay() -> None:
    opt = Optimizer("sgd", learning_rate=0.1, penalty=None, decay=1.0, decay_sqrt=True)
    assert np.allclose(opt.step(G), 0.1 * G)
    opt.set_iteration(3)
    assert opt.current_learning_rate() == pytest.approx(0.1 / 2.0)
    assert np.allclose(opt.step(G), 0.05 * G)
    flat = Optimizer("sgd", learning_rate=0.1, penalty=None, decay=0.5, decay_sqrt=False)
    flat.set_iteration(2)
    assert flat.current_learning_rate() == pytest.approx(0.1 / 2.0)


def test_rmsprop_two_steps() -> None:
    opt = Optimizer("rmsprop", learning_rate=0.1, penalty=None, decay=0.0)
    m = 0.01 * G**2
    assert np.allclose(opt.step(G), 0.1 * G / np.sqrt(m + 1e-6))
    m = 0.99 * m + 0.01 * G**2
    assert np.allclose(opt.step(G), 0.1 * G / np.sqrt(m + 1e-6))


def test_adagrad_two_steps() -> None:
    opt = Optimizer("adagrad", learning_rate=0.1, penalty=None, decay=0.0)
    assert np.allclose(opt.step(G), 0.1 * G / (np.abs(G) + 1e-7))
    assert np.allclose(opt.step(G), 0.1 * G / (np.sqrt(2 * G**2) + 1e-7))


def test_adam_two_steps() -> None:
    opt = Optimizer("adam", learning_rate=0.1, penalty=None, decay=0.0)
    assert np.allclose(opt.step(G), 0.1 * G / (np.abs(G) + 1e-8))
    g2 = -G
    m = 0.9 * 0.1 * G + 0.1 * g2
    v = 0.999 * 0.001 * G**2 + 0.001 * g2**2
    expected = 0.1 * (m / (1 - 0.9**2)) / (np.sqrt(v / (1 - 0.999**2)) + 1e-8)
    assert np.allclose(opt.step(g2), expected)


def test_nesterov_two_steps() -> None:
    opt = Optimizer("nesterov_momentum_sgd", learning_rate=0.1, penalty=None, decay=0.0)
    v1 = -0.1 * G
    assert np.allclose(opt.step(G), -1.9 * v1)
    v2 = 0.9 * v1 - 0.1 * G
    assert np.allclose(opt.step(G), 0.9 * v1 - 1.9 * v2)


def test_l2_term_skips_the_intercept() -> None:
    opt = Optimizer("sgd", learning_rate=1.0, alpha=0.5, penalty="L2", decay=0.0)
    w = np.array([1.0, 2.0, 3.0, 4.0])
    assert np.allclose(opt.penalized_gradient(G, w, intercept_last=True), G + 0.5 * np.r_[w[:3], 0.0])
    assert np.allclose(opt.step(G, w), G + 0.5 * w)
    assert opt.regularization_loss(w, intercept_last=True) == pytest.approx(0.25 * 14.0)


def test_l1_soft_threshold_and_its_schedule() -> None:
    opt = Optimizer("sgd", learning_rate=0.1, alpha=2.0, penalty="L1", decay=0.0)
    w = np.array([1.0, -0.05, 0.3, 5.0])
    delta = opt.step(G, w)  # no L1 term in the gradient
    assert np.allclose(delta, 0.1 * G)
    moved = w - delta
    # t = 0 uses t = 1: threshold alpha * lr = 0.2, intercept (last) is not shrunk
    expected = np.sign(moved[:3]) * np.maximum(np.abs(moved[:3]) - 0.2, 0.0)
    assert np.allclose(opt.apply(w, delta, intercept_last=True), np.r_[expected, moved[3]])
    opt.set_iteration(4)
    assert opt.l1_threshold() == pytest.approx(2.0 * 0.1 / 2.0)
    assert opt.regularization_loss(w, intercept_last=True) == pytest.approx(2.0 * 1.35)


def test_apply_without_l1_is_subtraction() -> None:
    w = np.array([1.0, 2.0, 3.0, 4.0])
    for penalty in ("L2", None):
        assert np.allclose(Optimizer("adam", penalty=penalty).apply(w, G), w - G)


@settings(max_examples=30, deadline=None)
@given(
    kind=st.sampled_from(OPTIMIZER_KINDS),
    grads=st.lists(arrays(np.float64, 5, elements=st.floats(-10, 10)), min_size=1, max_size=4),
    weights=arrays(np.float64, 5, elements=st.floats(-3, 3)),
)
def test_party_arbiter_split_equals_one_step(kind: str, grads: list[np.ndarray], weights: np.ndarray) -> None:
    """Host [0:2], guest [2:5] with intercept last: the federated split gives the same deltas."""
    local = Optimizer(kind, learning_rate=0.05, alpha=0.3, penalty="L2")
    host, guest, arbiter = (Optimizer(kind, learning_rate=0.05, alpha=0.3, penalty="L2") for _ in range(3))
    for g in grads:
        expected = local.step(g, weights, intercept_last=True)
        gh = host.penalized_gradient(g[:2], weights[:2])
        gg = guest.penalized_gradient(g[2:], weights[2:], intercept_last=True)
        assert np.allclose(arbiter.step(np.r_[gh, gg]), expected)


def test_penalty_spellings() -> None:
    assert normalize_penalty(None) is None
    assert normalize_penalty("none") is None and normalize_penalty("NONE") is None
    assert normalize_penalty("l1") == "L1" and normalize_penalty("L2") == "L2"
    with pytest.raises(InvalidInput, match="penalty"):
        normalize_penalty("elasticnet")


def test_bad_parameters_and_shapes() -> None:
    with pytest.raises(InvalidInput, match="sqn"):
        Optimizer("sqn")
    with pytest.raises(InvalidInput, match="learning_rate"):
        Optimizer("sgd", learning_rate=-1.0)
    with pytest.raises(InvalidInput, match="alpha"):
        Optimizer("sgd", alpha=math.nan)
    opt = Optimizer("rmsprop")
    opt.step(G)
    with pytest.raises(InvalidInput, match="does not match"):
        opt.step(G[:3])
    with pytest.raises(InvalidInput, match="1-D"):
        opt.step(np.ones((2, 2)))
    with pytest.raises(InvalidInput, match="weights has shape"):
        opt.step(G, np.ones(3))
    with pytest.raises(InvalidInput, match="iteration"):
        opt.set_iteration(-1)
