"""HeteroLR: agreement with the plaintext reference, what crosses parties, predict, parameter errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError
from sklearn.metrics import roc_auc_score

from fedloom.components.hetero_lr import SPEC
from fedloom.ml.lr import taylor_lr_fit
from fedloom.storage.demo_data import breast_hetero
from tests.components.harness import PartySetup, RunResult, run_component
from tests.components.lr_data import labelled

GUEST, HOST, ARBITER = ("guest", 9999), ("host", 10000), ("arbiter", 10001)
ITERS = 8
PARAMS: dict[str, Any] = {
    "max_iter": ITERS,
    "tol": 0.0,
    "optimizer": "rmsprop",
    "learning_rate": 0.05,
    "alpha": 0.01,
    "penalty": "L2",
    "batch_size": -1,
    "init_param": {"init_method": "zeros"},
    "encrypt_param": {"key_length": 1024},
}


@pytest.fixture(scope="module")
def data() -> tuple[Any, Any]:
    guest_raw, host = breast_hetero()
    return labelled(guest_raw), host


@pytest.fixture(scope="module")
def fitted(data: tuple[Any, Any]) -> RunResult:
    guest, host = data
    setups = [
        PartySetup(*GUEST, PARAMS, {"train_data": [guest]}),
        PartySetup(*HOST, PARAMS, {"train_data": [host]}),
        PartySetup(*ARBITER, PARAMS),
    ]
    return run_component(SPEC, setups, component_name="hetero_lr_0")


def test_weights_agree_with_plaintext_reference(fitted: RunResult, data: tuple[Any, Any]) -> None:
    guest, host = data
    ref = taylor_lr_fit(
        np.hstack([guest.features, host.features]),
        guest.label,
        optimizer="rmsprop",
        learning_rate=0.05,
        alpha=0.01,
        penalty="L2",
        max_iter=ITERS,
        batch_size=-1,
        tol=0.0,
        init_method="zeros",
    )
    g, h = fitted[GUEST].model, fitted[HOST].model
    assert g is not None and h is not None
    coef = [g.param["weight"][n] for n in guest.feature_names] + [
        h.param["weight"][n] for n in host.feature_names
    ]
    np.testing.assert_allclose(coef, ref.coef, atol=2e-3)
    assert g.param["intercept"] == pytest.approx(ref.intercept, abs=2e-3)
    assert "intercept" not in h.param or not h.param.get("intercept")


def test_each_party_keeps_only_its_own_weights(fitted: RunResult, data: tuple[Any, Any]) -> None:
    guest, host = data
    assert set(fitted[GUEST].model.param["weight"]) == set(guest.feature_names)  # type: ignore[union-attr]
    assert set(fitted[HOST].model.param["weight"]) == set(host.feature_names)  # type: ignore[union-attr]
    assert not (fitted[ARBITER].model and fitted[ARBITER].model.param.get("weight"))


def _floats(payload: Any) -> list[np.ndarray]:
    """Every float array (or list of floats) inside a payload."""
    if isinstance(payload, np.ndarray):
        return [payload] if payload.dtype.kind == "f" else []
    if isinstance(payload, dict):
        return [a for v in payload.values() for a in _floats(v)]
    if isinstance(payload, list | tuple):
        if payload and all(isinstance(v, float) for v in payload):
            return [np.asarray(payload)]
        return [a for v in payload for a in _floats(v)]
    return []


def test_nothing_plain_crosses_between_guest_and_host(fitted: RunResult, data: tuple[Any, Any]) -> None:
    guest, _ = data
    # FATE's prediction step has the host send its plaintext W_h.x per row (`host_prob`): a score part,
    # not data, residual, gradient or label. Everything exchanged while training is ciphertext or ids.
    between = fitted.between("guest", "host") + fitted.between("host", "guest")
    training = [m for m in between if m.name != "host_prob"]
    assert training
    for m in training:
        assert not _floats(m.payload), f"{m.name} carries plaintext floats"
    label_bytes = np.asarray(guest.label, dtype=np.float64).tobytes()
    for m in fitted.messages:
        for arr in _floats(m.payload):
            assert arr.size != guest.count or not np.allclose(np.sort(arr), np.sort(guest.label)), m.name
        if isinstance(m.payload, bytes):
            assert label_bytes not in m.payload


def test_moments_protocol_messages_are_ciphertexts(fitted: RunResult) -> None:
    between = [
        m for m in fitted.between("guest", "host") + fitted.between("host", "guest") if m.name != "host_prob"
    ]
    assert {m.name for m in between} == {
        "sample_ids",
        "batch_info",
        "gram_columns",
        "gram_column",
        "gram_cross",
        "gram_guest_part",
        "gram_host_part",
        "loss_intermediate",
    }
    for m in between:
        if m.name in ("gram_column", "gram_guest_part", "gram_host_part", "loss_intermediate"):
            assert isinstance(m.payload, bytes) and m.payload[:4] == b"FLPV", m.name
        elif m.name == "gram_cross":
            assert all(isinstance(b, bytes) and b[:4] == b"FLPV" for b in m.payload)


def test_residual_protocol_gives_the_same_model(fitted: RunResult, data: tuple[Any, Any]) -> None:
    guest, host = data
    params = {**PARAMS, "protocol": "residual"}
    setups = [
        PartySetup(*GUEST, params, {"train_data": [guest]}),
        PartySetup(*HOST, params, {"train_data": [host]}),
        PartySetup(*ARBITER, params),
    ]
    other = run_component(SPEC, setups, component_name="hetero_lr_0")
    a, b = fitted[GUEST].model, other[GUEST].model
    assert a is not None and b is not None
    np.testing.assert_allclose(list(a.param["weight"].values()), list(b.param["weight"].values()), atol=1e-6)


def test_arbiter_receives_only_ciphertexts(fitted: RunResult) -> None:
    to_arbiter = [m for m in fitted.messages if m.dst[0] == "arbiter"]
    assert to_arbiter
    for m in to_arbiter:
        assert not _floats(m.payload), f"{m.name} to the arbiter carries plaintext floats"


def test_loss_decreases_and_is_logged_by_arbiter(fitted: RunResult) -> None:
    losses = [v for ns, name, points, _ in fitted[ARBITER].metrics if name == "loss" for _, v in points]
    assert len(losses) == ITERS
    assert losses[-1] < losses[0]


def test_auc_close_to_sklearn(fitted: RunResult, data: tuple[Any, Any]) -> None:
    from sklearn.linear_model import LogisticRegression

    guest, host = data
    out = fitted[GUEST].data["data"]
    auc = roc_auc_score(out.extra["label"].astype(float), out.extra["predict_score"].astype(float))
    x = np.hstack([guest.features, host.features])
    base = roc_auc_score(
        guest.label, LogisticRegression(max_iter=1000).fit(x, guest.label).predict_proba(x)[:, 1]
    )
    assert auc > base - 0.02
    assert list(out.extra) == ["label", "predict_result", "predict_score", "predict_detail", "type"]


def test_predict_with_models_reproduces_fit_scores(fitted: RunResult, data: tuple[Any, Any]) -> None:
    guest, host = data
    setups = [
        PartySetup(*GUEST, PARAMS, {"test_data": [guest]}, [fitted[GUEST].model]),  # type: ignore[list-item]
        PartySetup(*HOST, PARAMS, {"test_data": [host]}, [fitted[HOST].model]),  # type: ignore[list-item]
        PartySetup(*ARBITER, PARAMS, {}, [fitted[ARBITER].model] if fitted[ARBITER].model else []),
    ]
    pred = run_component(SPEC, setups, component_name="hetero_lr_0")
    fit_scores = fitted[GUEST].data["data"].extra["predict_score"].astype(float)
    new_scores = pred[GUEST].data["data"].extra["predict_score"].astype(float)
    np.testing.assert_allclose(new_scores, fit_scores, atol=1e-9)
    assert set(pred[GUEST].data["data"].extra["type"].tolist()) == {"test"}


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"encrypt_param": {"key_length": 512}}, "key_length"),
        ({"optimizer": "sqn"}, "sqn"),
        ({"max_iterr": 3}, "max_iterr"),
        ({"early_stop": "sometimes"}, "early_stop"),
    ],
)
def test_bad_parameters_name_the_field(bad: dict[str, Any], field: str) -> None:
    with pytest.raises((ValidationError, ValueError)) as err:
        SPEC.params.model_validate({**PARAMS, **bad})
    assert field in str(err.value)


@pytest.mark.parametrize("protocol", ["moments", "residual"])
def test_validation_freqs_logs_metrics_per_round(data: tuple[Any, Any], protocol: str) -> None:
    guest, host = data
    params = {**PARAMS, "max_iter": 4, "validation_freqs": 2, "protocol": protocol}
    setups = [
        PartySetup(*GUEST, params, {"train_data": [guest], "validate_data": [guest]}),
        PartySetup(*HOST, params, {"train_data": [host], "validate_data": [host]}),
        PartySetup(*ARBITER, params),
    ]
    res = run_component(SPEC, setups, component_name="hetero_lr_0")
    rounds = [(name, points[0][0]) for ns, name, points, _ in res[GUEST].metrics if ns == "validate"]
    assert ("hetero_lr_0_auc", 1) in rounds and ("hetero_lr_0_auc", 3) in rounds
    assert ("hetero_lr_0_ks", 3) in rounds and len(rounds) == 4
