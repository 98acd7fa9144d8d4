"""Evaluation: FATE-shaped metrics of a prediction frame, matching scikit-learn."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from fedloom.components.evaluation import SPEC
from fedloom.storage.frame import Frame
from tests.components.harness import PartySetup, run_component


def _predictions(n: int = 200, seed: int = 0) -> Frame:
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n).astype(np.float64)
    score = np.clip(label * 0.3 + rng.random(n) * 0.7, 0, 1)
    kinds = np.array(["train"] * (n // 2) + ["validate"] * (n - n // 2))
    extra = {
        "label": label,
        "predict_result": (score > 0.5).astype(np.float64),
        "predict_score": score,
        "predict_detail": np.array([json.dumps({"0": 1 - s, "1": s}) for s in score], dtype=object),
        "type": kinds,
    }
    return Frame(
        ids=np.array([str(i) for i in range(n)], dtype=object),
        features=np.zeros((n, 0)),
        feature_names=[],
        extra=extra,
        meta={"component": "hetero_lr_0"},
    )


def test_binary_metrics_per_split_in_fate_names() -> None:
    frame = _predictions()
    res = run_component(
        SPEC,
        [
            PartySetup("guest", 9999, {"eval_type": "binary"}, {"data": [frame]}),
            PartySetup("host", 10000, {"eval_type": "binary", "need_run": False}),
        ],
    )
    logged = {(ns, name): dict(points) for ns, name, points, _ in res[("guest", 9999)].metrics}
    train = np.flatnonzero(frame.extra["type"] == "train")
    expected = roc_auc_score(frame.extra["label"][train], frame.extra["predict_score"][train])
    assert logged[("train", "hetero_lr_0")]["auc"] == pytest.approx(expected)
    assert ("validate", "hetero_lr_0") in logged
    assert res[("guest", 9999)].summary is not None
    assert not res[("host", 10000)].metrics


def test_input_without_predictions_is_refused() -> None:
    plain = Frame(ids=np.array(["a"], dtype=object), features=np.zeros((1, 1)), feature_names=["x"])
    with pytest.raises(AssertionError, match="prediction columns"):
        run_component(SPEC, [PartySetup("guest", 9999, {}, {"data": [plain]})])
