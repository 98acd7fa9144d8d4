"""Evaluation metrics against sklearn, plus FATE's curve shapes and tracking names."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from fedloom.errors import InvalidInput
from fedloom.ml.metrics import (
    BINARY_METRICS,
    MULTI_METRICS,
    REGRESSION_FUNCS,
    REGRESSION_METRICS,
    EvaluationResult,
    evaluate,
    fate_tracking_records,
    ks_statistic,
    multi_class_scores,
    resolve_metrics,
    roc_auc,
    roc_curve,
)


@st.composite
def binary_data(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(2, 200))
    labels = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    assume(0 < labels.sum() < n)
    # Scores from a small grid half of the time, so ties are common.
    grid = draw(st.booleans())
    element = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 1.0]) if grid else st.floats(0, 1)
    scores = np.array(draw(st.lists(element, min_size=n, max_size=n)))
    return labels, scores


@settings(max_examples=80, deadline=None)
@given(data=binary_data())
def test_binary_values_match_sklearn(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = data
    summary = evaluate("binary", y, s).summary()
    assert summary["auc"] == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    fpr, tpr, _ = skm.roc_curve(y, s, drop_intermediate=False)
    assert summary["ks"] == pytest.approx(np.max(tpr - fpr), abs=1e-12)
    pred = (s > 0.5).astype(int)
    assert summary["precision"] == pytest.approx(skm.precision_score(y, pred, zero_division=0))
    assert summary["recall"] == pytest.approx(skm.recall_score(y, pred))
    assert summary["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))


@settings(max_examples=80, deadline=None)
@given(data=binary_data())
def test_roc_curve_matches_sklearn(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = data
    fpr, tpr, thr = roc_curve(y == 1, s)
    sk_fpr, sk_tpr, sk_thr = skm.roc_curve(y, s, drop_intermediate=False)
    assert np.allclose(fpr, sk_fpr) and np.allclose(tpr, sk_tpr)
    assert np.array_equal(thr, sk_thr)
    assert roc_auc(y == 1, s) == pytest.approx(skm.auc(sk_fpr, sk_tpr), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(data=binary_data(), points=st.sampled_from([10, 100]))
def test_curves_have_fate_shape(data: tuple[np.ndarray, np.ndarray], points: int) -> None:
    y, s = data
    result = evaluate("binary", y, s, curve_points=points)
    for e in result.entries:
        if e.kind == "curve":
            assert len(e.meta["thresholds"]) == len(e.data)
    ks_fpr, ks_tpr = result.entry("ks_fpr", "curve").data, result.entry("ks_tpr", "curve").data
    assert len(ks_fpr) == points + 1 and ks_fpr[0] == (0.0, 0.0) and ks_tpr[-1] == (1.0, 1.0)
    roc = result.entry("roc", "curve").data
    assert roc[0] == (0.0, 0.0) and roc[-1] == (1.0, 1.0) and len(roc) <= points + 1
    for name in ("lift", "gain"):
        curve = result.entry(name, "curve").data
        xs = [x for x, _ in curve]
        assert xs == sorted(xs) and len(set(xs)) == len(xs) and curve[-1] == (1.0, 1.0)
    gains = [v for _, v in result.entry("gain", "curve").data]
    assert gains == sorted(gains)
    recall = [v for _, v in result.entry("recall", "curve").data]
    assert len(set(recall)) == len(recall)
    json.dumps([(r.name, r.data, r.meta) for r in fate_tracking_records(result, "m")], allow_nan=False)


def test_known_small_case() -> None:
    y = np.array([0, 0, 1, 1])
    s = np.array([0.1, 0.4, 0.35, 0.8])
    result = evaluate("binary", y, s, metrics=["auc", "ks", "gain", "lift"], curve_points=4)
    assert result.summary() == {"auc": 0.75, "ks": 0.5}
    # step grid over distinct scores (0.8, 0.4, 0.35, 0.1): positive iff score > threshold
    assert result.entry("gain", "curve").data == [
        (0.0, 0.0),
        (0.25, 0.5),
        (0.5, 0.5),
        (0.75, 1.0),
        (1.0, 1.0),
    ]
    lift = result.entry("lift", "curve").data
    assert lift[1] == (0.25, 2.0) and lift[-1] == (1.0, 1.0)


def test_ks_is_exact_not_grid_bound() -> None:
    y = np.array([1] * 3 + [0] * 997)
    s = np.linspace(1, 0, 1000)
    assert ks_statistic(y == 1, s) == pytest.approx(1 - 0 / 997)


def test_pos_label_for_text_labels() -> None:
    s = np.array([0.9, 0.2, 0.7, 0.4])
    by_word = evaluate("binary", ["yes", "no", "yes", "no"], s, pos_label="yes", metrics=["auc"])
    by_digit = evaluate("binary", np.array(["1", "0", "1", "0"]), s, pos_label=1, metrics=["auc"])
    assert by_word.summary()["auc"] == by_digit.summary()["auc"] == 1.0
    by_text_pos_label = evaluate("binary", [1, 0, 1, 0], s, pos_label="1", metrics=["auc"])
    assert by_text_pos_label.summary()["auc"] == 1.0
    flipped = evaluate("binary", [2, 1, 2, 1], s, pos_label=1, metrics=["auc"])
    assert flipped.summary()["auc"] == 0.0


labels_st = st.lists(st.sampled_from([0, 1, 2, 3, 7]), min_size=1, max_size=60)


def labels_st_like(t: list[int]) -> st.SearchStrategy[list[int]]:
    return st.lists(st.sampled_from([0, 1, 2, 3, 7, 9]), min_size=len(t), max_size=len(t))


@settings(max_examples=80, deadline=None)
@given(pair=labels_st.flatmap(lambda t: st.tuples(st.just(t), st.permutations(t) | labels_st_like(t))))
def test_multi_matches_sklearn(pair: tuple[list[int], list[int]]) -> None:
    t, p = pair
    classes, precision, recall, accuracy = multi_class_scores(t, p)
    assert classes == sorted(set(t) | set(p))
    assert np.allclose(precision, skm.precision_score(t, p, average=None, zero_division=0))
    assert np.allclose(recall, skm.recall_score(t, p, average=None, zero_division=0))
    assert accuracy == pytest.approx(skm.accuracy_score(t, p))
    summary = evaluate("multi", t, p).summary()
    assert summary["precision"] == pytest.approx(skm.precision_score(t, p, average="macro", zero_division=0))
    assert summary["recall"] == pytest.approx(skm.recall_score(t, p, average="macro", zero_division=0))


SK_REGRESSION = {
    "explained_variance": skm.explained_variance_score,
    "mean_absolute_error": skm.mean_absolute_error,
    "mean_squared_error": skm.mean_squared_error,
    "median_absolute_error": skm.median_absolute_error,
    "r2_score": skm.r2_score,
    "root_mean_squared_error": lambda t, p: np.sqrt(skm.mean_squared_error(t, p)),
}


@settings(max_examples=80, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)) | st.tuples(st.just(5.0), st.just(5.0)),
        min_size=2,  # sklearn leaves r2 undefined for one sample
        max_size=50,
    )
)
def test_regression_matches_sklearn(pairs: list[tuple[float, float]]) -> None:
    t, p = np.array(pairs).T
    summary = evaluate("regression", t, p).summary()
    assert set(summary) == set(REGRESSION_METRICS)
    for name, func in SK_REGRESSION.items():
        assert summary[name] == pytest.approx(func(t, p), rel=1e-9, abs=1e-9), name
        assert REGRESSION_FUNCS[name](t, p) == summary[name]


def test_resolve_metrics_follows_fate() -> None:
    assert resolve_metrics("binary", None) == list(BINARY_METRICS)
    assert resolve_metrics("multi", []) == list(MULTI_METRICS)
    assert resolve_metrics("regression", ["MSE", "rmse", "l2", "r2"]) == [
        "mean_squared_error",
        "root_mean_squared_error",
        "r2_score",
    ]
    assert resolve_metrics("binary", ["recall", "AUC"]) == ["recall", "auc", "precision"]
    with pytest.raises(InvalidInput, match="'auc' is not available for regression"):
        resolve_metrics("regression", ["auc"])
    with pytest.raises(InvalidInput, match="eval_type"):
        resolve_metrics("clustering", None)


def test_fate_tracking_records() -> None:
    y, s = np.array([0, 1, 0, 1, 1]), np.array([0.2, 0.9, 0.6, 0.4, 0.8])
    records = {r.name: r for r in fate_tracking_records(evaluate("binary", y, s), "hetero_lr_0")}
    summary = records["hetero_lr_0"]
    assert [k for k, _ in summary.data] == ["auc", "ks"]
    assert summary.meta["metric_type"] == "EVALUATION_SUMMARY"
    assert records["hetero_lr_0_ks_fpr"].meta["curve_name"] == "hetero_lr_0_fpr"
    assert records["hetero_lr_0_ks_tpr"].meta["pair_type"] == "hetero_lr_0"
    assert records["hetero_lr_0_roc"].meta["metric_type"] == "ROC_EVALUATION"
    assert records["hetero_lr_0_precision"].meta["metric_type"] == "PRECISION_BINARY_EVALUATION"
    assert records["hetero_lr_0_confusion_mat"].meta["metric_type"] == "CONFUSION_MAT"
    multi = fate_tracking_records(evaluate("multi", [0, 1, 2], [0, 2, 2]), "m")
    assert [k for k, _ in multi[0].data] == ["accuracy", "precision", "recall"]
    assert multi[1].name == "m_precision" and multi[1].meta["metric_type"] == "PRECISION_MULTI_EVALUATION"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("binary", [1, 1], [0.1, 0.2]), "both classes"),
        (("binary", [1, 0], [0.1, 0.2], "yes"), "both classes"),
        (("binary", [0, 1], [0.1]), "one length"),
        (("binary", [], []), "at least one"),
        (("binary", [0, 1], [0.1, np.nan]), "NaN"),
        (("regression", [np.inf], [1.0]), "NaN or infinite"),
        (("multi", np.array([0, "a"], dtype=object), [0, 1]), "comparable"),
    ],
)
def test_bad_inputs(args: tuple[Any, ...], message: str) -> None:
    eval_type, y_true, y_pred, *pos_label = args
    with pytest.raises(InvalidInput, match=message):
        evaluate(eval_type, y_true, y_pred, pos_label=pos_label[0] if pos_label else 1)


def test_result_lookup() -> None:
    result = EvaluationResult("regression", [])
    with pytest.raises(KeyError):
        result.entry("auc", "summary")
