"""HeteroLR through the in-memory harness: the reference math, quality, privacy of the wire, predict, params."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from fedloom.components.hetero_lr import SPEC, HeteroLRParams
from fedloom.components.registry import Catalog
from fedloom.errors import InvalidInput
from fedloom.ml.lr import taylor_lr_fit
from fedloom.storage.demo_data import breast_hetero
from fedloom.storage.frame import Frame
from tests.components.harness import Message, PartySetup, RunResult, run_component
from tests.components.lr_data import labelled

GUEST, HOST, ARBITER = ("guest", 9999), ("host", 10000), ("arbiter", 10001)
# FATE's per-row protocol, explicitly (one host defaults to the moments protocol, tested in
# test_hetero_lr_protocol.py): these tests pin its messages and behaviour.
FIT_PARAMS: dict[str, Any] = {
    "max_iter": 10,
    "tol": 0.0,
    "init_param": {"init_method": "zeros"},
    "protocol": "residual",
}
PREDICT_HEADER = ["id", "label", "predict_result", "predict_score", "predict_detail", "type"]


@pytest.fixture(scope="module")
def breast() -> tuple[Frame, Frame]:
    """Guest (label + 10 features) and host (20 features); host rows shuffled so alignment is exercised."""
    guest_raw, host = breast_hetero()
    order = np.random.default_rng(7).permutation(host.count)
    return labelled(guest_raw), host.take(order)


def _setups(
    guest: Frame, hosts: list[Frame], params: dict[str, Any], key: str = "train_data"
) -> list[PartySetup]:
    out = [PartySetup(*GUEST, params, {key: [guest]})]
    out += [PartySetup("host", HOST[1] + i, params, {key: [h]}) for i, h in enumerate(hosts)]
    return out + [PartySetup(*ARBITER, params)]


def _pooled(guest: Frame, hosts: list[Frame]) -> np.ndarray:
    """Host features aligned to the guest's ids, after the guest's: the reference's column order."""
    parts = [guest.features]
    for host in hosts:
        pos = {str(i): k for k, i in enumerate(host.ids)}
        parts.append(host.features[[pos[str(i)] for i in guest.ids]])
    return np.hstack(parts)


@pytest.fixture(scope="module")
def fitted(breast: tuple[Frame, Frame]) -> RunResult:
    guest, host = breast
    return run_component(SPEC, _setups(guest, [host], FIT_PARAMS), component_name="hetero_lr_0")


def _weights(result: RunResult, hosts: int = 1) -> tuple[np.ndarray, float]:
    params = [result[GUEST].model.param] + [
        result[("host", HOST[1] + i)].model.param  # type: ignore[union-attr]
        for i in range(hosts)
    ]
    coef = np.concatenate([[p["weight"][n] for n in p["header"]] for p in params])
    return coef, float(params[0]["intercept"])


def test_fit_matches_plaintext_reference(breast: tuple[Frame, Frame], fitted: RunResult) -> None:
    guest, host = breast
    assert guest.label is not None
    ref = taylor_lr_fit(_pooled(guest, [host]), guest.label, max_iter=10, tol=0.0, init_method="zeros")
    coef, intercept = _weights(fitted)
    np.testing.assert_allclose(coef, ref.coef, atol=1e-6)
    assert intercept == pytest.approx(ref.intercept, abs=1e-6)
    guest_param = fitted[GUEST].model.param  # type: ignore[union-attr]
    assert guest_param["iters"] == 10 and guest_param["is_converged"] is False
    assert guest_param["loss_history"] == []  # the loss mixes in host terms: it stays at the arbiter
    arbiter_summary = fitted[ARBITER].summary
    assert arbiter_summary is not None
    np.testing.assert_allclose(arbiter_summary["loss_history"], ref.loss_history, atol=1e-6)


def test_auc_close_to_sklearn(breast: tuple[Frame, Frame], fitted: RunResult) -> None:
    guest, host = breast
    x = _pooled(guest, [host])
    baseline = roc_auc_score(
        guest.label, LogisticRegression(max_iter=1000).fit(x, guest.label).predict_proba(x)[:, 1]
    )
    out = fitted[GUEST].data["data"]
    auc = roc_auc_score(out.extra["label"], out.extra["predict_score"])
    assert auc > baseline - 0.01


def test_models_hold_only_own_weights(breast: tuple[Frame, Frame], fitted: RunResult) -> None:
    guest, host = breast
    g, h, a = (fitted[p].model for p in (GUEST, HOST, ARBITER))
    assert g is not None and h is not None and a is not None
    assert g.module == h.module == a.module == "HeteroLR"
    assert g.param["header"] == guest.feature_names and list(g.param["weight"]) == guest.feature_names
    assert h.param["header"] == host.feature_names and h.param["intercept"] == 0.0
    assert a.param == {}
    assert g.meta["need_one_vs_rest"] is False and g.meta["optimizer"] == "rmsprop"
    assert g.meta["penalty"] == "L2" and g.meta["fit_intercept"] is True


def test_prediction_output_layout(breast: tuple[Frame, Frame], fitted: RunResult) -> None:
    guest, _ = breast
    out = fitted[GUEST].data["data"]
    assert out.header() == PREDICT_HEADER
    assert out.count == guest.count and list(out.ids) == list(guest.ids)
    assert out.meta["component"] == "hetero_lr_0"
    first = out.rows(1)[0]
    detail = json.loads(first[4])
    assert detail["1"] == pytest.approx(first[3]) and detail["0"] == pytest.approx(1 - first[3])
    assert first[2] == int(first[3] > 0.5) and first[5] == "train"
    assert not fitted[HOST].data and not fitted[ARBITER].data


def test_arbiter_logs_loss_and_everyone_reports_progress(fitted: RunResult) -> None:
    loss = [m for m in fitted[ARBITER].metrics if m[:2] == ("train", "loss")]
    assert [m[2][0][0] for m in loss] == list(range(10))
    assert loss[0][3] == {"metric_type": "LOSS", "unit_name": "iters"}
    assert loss[0][2][0][1] == pytest.approx(np.log(2))
    for party in (GUEST, HOST, ARBITER):
        progress = [entry for entry in fitted[party].progress if entry[2].startswith("iteration")]
        assert [round(f, 2) for _, f, _ in progress] == [round((i + 1) / 10, 2) for i in range(10)]
        assert progress[0][2].startswith("iteration 0")


def _floats(payload: Any) -> list[np.ndarray]:
    """Every float array (or list of floats) anywhere inside a payload."""
    if isinstance(payload, np.ndarray):
        return [payload] if payload.dtype.kind == "f" else []
    if isinstance(payload, dict):
        return [a for v in payload.values() for a in _floats(v)]
    if isinstance(payload, list | tuple):
        if payload and all(isinstance(v, float) for v in payload):
            return [np.asarray(payload)]
        return [a for v in payload for a in _floats(v)]
    return []


def _contains(payload: Any, needle: np.ndarray) -> bool:
    return any(a.size >= needle.size and _has_run(a.ravel(), needle) for a in _floats(payload))


def _has_run(hay: np.ndarray, needle: np.ndarray) -> bool:
    return any(np.allclose(hay[i : i + needle.size], needle) for i in range(hay.size - needle.size + 1))


def _training(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m.name != "host_prob"]  # prediction: FATE's plaintext host part, by design


def test_guest_host_messages_are_ciphertexts_ids_or_positions(fitted: RunResult) -> None:
    between = _training(fitted.between("guest", "host") + fitted.between("host", "guest"))
    assert {m.name for m in between} == {
        "sample_ids",
        "batch_info",
        "fore_gradient",
        "host_forward",
        "loss_intermediate",
    }
    for m in between:
        if m.name == "sample_ids":
            assert all(isinstance(i, str) for i in m.payload)
        elif m.name == "batch_info":
            assert set(m.payload) == {"batch_num", "positions"}
            assert all(p.dtype.kind == "i" for p in m.payload["positions"])
        else:
            assert isinstance(m.payload, bytes) and m.payload[:4] == b"FLPV"


def test_arbiter_receives_only_ciphertexts(fitted: RunResult) -> None:
    to_arbiter = [m for m in fitted.messages if m.dst == ARBITER]
    assert {m.name for m in to_arbiter} == {"batch_info", "guest_gradient", "host_gradient", "loss"}
    for m in to_arbiter:
        if m.name == "batch_info":
            assert m.payload == {"batch_num": 1}
        else:
            assert isinstance(m.payload, bytes) and m.payload[:4] == b"FLPV"


def test_labels_never_leave_the_guest(breast: tuple[Frame, Frame], fitted: RunResult) -> None:
    guest, _ = breast
    assert guest.label is not None
    y01, ypm = guest.label[:50], np.where(guest.label == 1, 1.0, -1.0)[:50]
    from_guest = _training([m for m in fitted.messages if m.src == GUEST])
    assert from_guest
    for m in from_guest:
        assert not _contains(m.payload, y01) and not _contains(m.payload, ypm)
        assert not _contains(m.payload, 0.5 * ypm)  # nor the label half of the residual


def test_no_plaintext_floats_between_guest_and_host_in_training(fitted: RunResult) -> None:
    for m in _training(fitted.between("guest", "host") + fitted.between("host", "guest")):
        assert _floats(m.payload) == [], m.name


def test_predict_mode_reproduces_fit_scores(breast: tuple[Frame, Frame], fitted: RunResult) -> None:
    guest, host = breast
    setups = _setups(guest, [host], {}, key="test_data")
    for setup in setups:
        model = fitted[setup.party].model
        assert model is not None
        setup.models = [model]
    result = run_component(SPEC, setups, component_name="hetero_lr_0")
    out, train = result[GUEST].data["data"], fitted[GUEST].data["data"]
    np.testing.assert_allclose(out.extra["predict_score"], train.extra["predict_score"], rtol=1e-12)
    assert set(out.extra["type"]) == {"test"}
    assert not any(m.src == ARBITER or m.dst == ARBITER for m in result.messages)
    assert {m.name for m in result.messages} == {"host_prob"}


def test_validate_data_adds_validate_rows(breast: tuple[Frame, Frame]) -> None:
    guest, host = breast
    setups = _setups(guest, [host], {**FIT_PARAMS, "max_iter": 1})
    setups[0].data["validate_data"] = [guest.take(np.arange(40))]
    wanted = set(guest.ids[:60].tolist())  # a superset of the guest's 40 validate ids: aligned by id
    setups[1].data["validate_data"] = [host.take(np.flatnonzero([i in wanted for i in host.ids.tolist()]))]
    out = run_component(SPEC, setups)[GUEST].data["data"]
    kinds = list(out.extra["type"])
    assert kinds == ["train"] * guest.count + ["validate"] * 40


def test_minibatch_and_two_hosts_match_reference(breast: tuple[Frame, Frame]) -> None:
    guest, host = breast
    hosts = [
        Frame(
            ids=host.ids, features=host.features[:, cols], feature_names=[host.feature_names[c] for c in cols]
        )
        for cols in (list(range(0, 8)), list(range(8, 20)))
    ]
    params = {
        **FIT_PARAMS,
        "max_iter": 3,
        "batch_size": 200,
        "early_stop": "weight_diff",
        "optimizer": "adam",
        "learning_rate": 0.05,
        "penalty": "L1",
        "alpha": 0.01,
    }
    result = run_component(SPEC, _setups(guest, hosts, params))
    assert guest.label is not None
    ref = taylor_lr_fit(
        _pooled(guest, hosts),
        guest.label,
        max_iter=3,
        tol=0.0,
        init_method="zeros",
        batch_size=200,
        early_stop="weight_diff",
        optimizer="adam",
        learning_rate=0.05,
        penalty="L1",
        alpha=0.01,
    )
    coef, intercept = _weights(result, hosts=2)
    np.testing.assert_allclose(coef, ref.coef, atol=1e-6)
    assert intercept == pytest.approx(ref.intercept, abs=1e-6)
    assert not [m for m in result[ARBITER].metrics if m[1] == "loss"]  # several hosts: no loss (FATE)


def test_two_hosts_need_weight_diff(breast: tuple[Frame, Frame]) -> None:
    guest, host = breast
    with pytest.raises(AssertionError, match="early_stop"):
        run_component(SPEC, _setups(guest, [host, host], FIT_PARAMS))


def test_multiclass_label_is_refused(breast: tuple[Frame, Frame]) -> None:
    guest, host = breast
    assert guest.label is not None
    three = Frame(
        ids=guest.ids,
        features=guest.features,
        feature_names=guest.feature_names,
        label=(np.arange(guest.count) % 3).astype(np.float64),
        label_name="y",
    )
    with pytest.raises(AssertionError, match="only binary labels"):
        run_component(SPEC, _setups(three, [host], FIT_PARAMS))


def test_converges_early_with_diff(breast: tuple[Frame, Frame]) -> None:
    guest, host = breast
    result = run_component(SPEC, _setups(guest, [host], {**FIT_PARAMS, "max_iter": 50, "tol": 0.01}))
    param = result[GUEST].model.param  # type: ignore[union-attr]
    assert param["is_converged"] is True and param["iters"] < 50
    assert result[HOST].model.param["iters"] == param["iters"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"encrypt_param": {"key_length": 512}}, "encrypt_param.key_length"),
        ({"optimizer": "sqn"}, "optimizer"),
        ({"no_such_param": 1}, "no_such_param"),
        ({"init_param": {"init_method": "zeros", "oops": 1}}, "init_param.oops"),
        ({"cv_param": {"need_cv": True}}, "cv_param.need_cv"),
        ({"penalty": "L3"}, "penalty"),
        ({"batch_size": 0}, "batch_size"),
        ({"multi_class": "ovo"}, "multi_class"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        HeteroLRParams.model_validate(params)
    assert field in {".".join(str(p) for p in e["loc"]) for e in info.value.errors()}
    with pytest.raises(InvalidInput, match=field.replace(".", r"\.")):
        Catalog().validate_params("HeteroLR", params)


def test_fate_defaults() -> None:
    p = HeteroLRParams()
    assert (p.penalty, p.tol, p.alpha, p.optimizer, p.batch_size, p.learning_rate, p.max_iter) == (
        "L2",
        1e-4,
        1.0,
        "rmsprop",
        -1,
        0.01,
        100,
    )
    assert p.encrypt_param.key_length == 1024 and p.init_param.init_method == "random_uniform"
    assert p.early_stop == "diff" and p.decay == 1 and p.decay_sqrt and p.floating_point_precision == 23
    assert HeteroLRParams.model_validate({"penalty": "none"}).penalty is None


def test_process_mode_harness(breast: tuple[Frame, Frame]) -> None:
    guest, host = breast
    ids = set(guest.ids[:60].tolist())
    small_host = host.take(np.flatnonzero([i in ids for i in host.ids.tolist()]))
    setups = _setups(guest.take(np.arange(60)), [small_host], {**FIT_PARAMS, "max_iter": 2})
    result = run_component(SPEC, setups, processes=True)
    model = result[GUEST].model
    assert model is not None and model.param["iters"] == 2
    assert any(m.name == "host_forward" for m in result.messages)


def test_no_intercept_sgd_no_penalty_match_reference(breast: tuple[Frame, Frame]) -> None:
    guest, host = breast
    params = {
        **FIT_PARAMS,
        "max_iter": 3,
        "optimizer": "sgd",
        "learning_rate": 0.3,
        "penalty": None,
        "init_param": {"init_method": "const", "init_const": 0.1, "fit_intercept": False},
    }
    result = run_component(SPEC, _setups(guest, [host], params))
    assert guest.label is not None
    ref = taylor_lr_fit(
        _pooled(guest, [host]),
        guest.label,
        max_iter=3,
        tol=0.0,
        optimizer="sgd",
        learning_rate=0.3,
        penalty=None,
        init_method="const",
        init_const=0.1,
        fit_intercept=False,
    )
    coef, intercept = _weights(result)
    np.testing.assert_allclose(coef, ref.coef, atol=1e-6)
    assert intercept == 0.0
    assert result[GUEST].model.meta["fit_intercept"] is False  # type: ignore[union-attr]
