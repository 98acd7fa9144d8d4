"""Evaluation: metrics of prediction frames, logged in FATE's tracking shape, per train/validate/test split."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import mean_squared_error, roc_auc_score

from fedloom.components.evaluation import SPEC
from fedloom.storage.frame import Frame
from tests.components.harness import PartySetup, RunResult, run_component

GUEST, HOST, ARBITER = ("guest", 9999), ("host", 10000), ("arbiter", 10001)


def prediction_frame(
    label: np.ndarray,
    score: np.ndarray,
    kinds: list[str],
    component: str | None = "hetero_lr_0",
) -> Frame:
    """The table HeteroLR's guest outputs."""
    n = len(label)
    extra = {
        "label": label,
        "predict_result": (score > 0.5).astype(np.int64),
        "predict_score": score.astype(np.float64),
        "predict_detail": np.array([json.dumps({"0": 1 - s, "1": s}) for s in score.tolist()], dtype=object),
        "type": np.array(kinds, dtype=object),
    }
    meta = {} if component is None else {"component": component}
    return Frame(
        ids=np.array([str(i) for i in range(n)], dtype=object),
        features=np.zeros((n, 0)),
        feature_names=[],
        extra=extra,
        meta=meta,
    )


@pytest.fixture(scope="module")
def binary() -> tuple[Frame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    label = rng.integers(0, 2, 300)
    score = np.clip(0.3 * label + rng.uniform(0, 0.7, 300), 0, 1)
    return prediction_frame(label, score, ["train"] * 200 + ["validate"] * 100), label, score


def _run(
    frame: Frame | None, params: dict[str, Any] | None = None, role: tuple[str, int] = GUEST
) -> RunResult:
    data = {} if frame is None else {"data": [frame]}
    return run_component(SPEC, [PartySetup(*role, params or {}, data)], component_name="evaluation_0")


def _metric(result: RunResult, namespace: str, name: str) -> tuple[list[tuple[Any, Any]], dict[str, Any]]:
    found = [(d, m) for ns, n, d, m in result[GUEST].metrics if (ns, n) == (namespace, name)]
    assert len(found) == 1, [(ns, n) for ns, n, _, _ in result[GUEST].metrics]
    return found[0]


def test_binary_summary_per_split(binary: tuple[Frame, np.ndarray, np.ndarray]) -> None:
    frame, label, score = binary
    result = _run(frame)
    for split, rows in (("train", slice(0, 200)), ("validate", slice(200, 300))):
        points, meta = _metric(result, split, "hetero_lr_0")
        assert meta["metric_type"] == "EVALUATION_SUMMARY"
        assert dict(points)["auc"] == pytest.approx(roc_auc_score(label[rows], score[rows]))
        assert set(dict(points)) == {"auc", "ks"}
    summary = result[GUEST].summary
    assert summary is not None and set(summary) == {"train", "validate"}
    assert summary["train"]["auc"] == pytest.approx(roc_auc_score(label[:200], score[:200]))


def test_binary_curves_are_named_after_the_upstream(binary: tuple[Frame, np.ndarray, np.ndarray]) -> None:
    result = _run(binary[0])
    names = {n for ns, n, _, _ in result[GUEST].metrics if ns == "train"}
    assert {
        "hetero_lr_0_roc",
        "hetero_lr_0_ks_fpr",
        "hetero_lr_0_ks_tpr",
        "hetero_lr_0_lift",
        "hetero_lr_0_gain",
    } <= names
    roc, meta = _metric(result, "train", "hetero_lr_0_roc")
    assert meta["metric_type"] == "ROC_EVALUATION" and len(roc) > 2


def test_input_passes_through(binary: tuple[Frame, np.ndarray, np.ndarray]) -> None:
    out = _run(binary[0])[GUEST].data["data"]
    assert out is binary[0]


def test_metrics_subset_and_pos_label(binary: tuple[Frame, np.ndarray, np.ndarray]) -> None:
    frame, label, score = binary
    result = _run(frame, {"metrics": ["auc"], "pos_label": 0})
    points, _ = _metric(result, "train", "hetero_lr_0")
    assert points == [("auc", pytest.approx(roc_auc_score(label[:200] == 0, score[:200])))]


def test_unknown_upstream_is_called_model_and_unlabelled_rows_skipped() -> None:
    label = np.array([0, 1, 0, 1, np.nan, np.nan])
    frame = prediction_frame(label, np.array([0.1, 0.9, 0.2, 0.7, 0.5, 0.5]), ["test"] * 6, component=None)
    result = _run(frame)
    points, _ = _metric(result, "test", "model")
    assert dict(points)["auc"] == 1.0


def test_host_and_arbiter_do_nothing(binary: tuple[Frame, np.ndarray, np.ndarray]) -> None:
    for role in (HOST, ARBITER):
        result = _run(None, role=role)
        assert not result[role].metrics and not result[role].data and result[role].summary is None
    host_with_data = _run(binary[0], role=HOST)
    assert not host_with_data[HOST].metrics


def test_regression() -> None:
    truth = np.array([1.0, 2.0, 3.0, 4.0])
    pred = np.array([1.5, 2.0, 2.5, 4.5])
    frame = prediction_frame(truth, pred, ["train"] * 4)
    frame.extra["predict_result"] = pred
    result = _run(frame, {"eval_type": "regression"})
    points, _ = _metric(result, "train", "hetero_lr_0")
    assert dict(points)["mean_squared_error"] == pytest.approx(mean_squared_error(truth, pred))


def test_multi() -> None:
    frame = prediction_frame(np.array([0, 1, 2, 1]), np.zeros(4), ["train"] * 4)
    frame.extra["predict_result"] = np.array([0, 1, 2, 2])
    result = _run(frame, {"eval_type": "multi"})
    points, _ = _metric(result, "train", "hetero_lr_0")
    assert dict(points)["accuracy"] == pytest.approx(0.75)


def test_errors_are_clear(binary: tuple[Frame, np.ndarray, np.ndarray]) -> None:
    bare = Frame(ids=np.array(["a"], dtype=object), features=np.zeros((1, 1)), feature_names=["x"])
    with pytest.raises(AssertionError, match="lacks the prediction columns"):
        _run(bare)
    with pytest.raises(AssertionError, match="clustering"):
        _run(binary[0], {"eval_type": "clustering"})
