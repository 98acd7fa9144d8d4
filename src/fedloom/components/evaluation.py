"""Evaluation: binary, multi-class and regression metrics of upstream predictions, in FATE's shape."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from fedloom.components.api import ComponentSpec, Context, Params
from fedloom.errors import InvalidInput
from fedloom.ml.metrics import evaluate, fate_tracking_records
from fedloom.storage.frame import Frame

_NAMESPACE = {"train": "train", "validate": "validate", "test": "test"}


class EvaluationParams(Params):
    eval_type: Literal["binary", "multi", "regression"] = "binary"
    pos_label: int | float | str = 1
    metrics: list[str] | None = None
    unfold_multi_result: bool = False
    run_clustering_arbiter_metric: bool = False


def run(ctx: Context) -> None:
    if ctx.role != "guest":
        return  # only the label owner evaluates; host and arbiter have nothing to compare against
    summary: dict[str, dict[str, float]] = {}
    for frame in ctx.inputs.data("data"):
        source = str(frame.meta.get("component", "model"))
        for split, rows in _splits(frame).items():
            summary[f"{source}_{split}"] = _evaluate_split(ctx, frame, rows, source, split)
        ctx.outputs.set_data(frame)
    ctx.outputs.set_summary(summary)


def _splits(frame: Frame) -> dict[str, np.ndarray]:
    if "type" not in frame.extra or "predict_score" not in frame.extra:
        raise InvalidInput("Evaluation: input has no prediction columns (label, predict_score, type)")
    kinds = np.asarray(frame.extra["type"]).astype(str)
    return {k: np.flatnonzero(kinds == k) for k in dict.fromkeys(kinds.tolist())}


def _evaluate_split(ctx: Context, frame: Frame, rows: np.ndarray, source: str, split: str) -> dict[str, float]:
    p: EvaluationParams = ctx.params
    label = np.asarray(frame.extra["label"])[rows]
    column = "predict_score" if p.eval_type == "binary" else "predict_result"
    score = np.asarray(frame.extra[column])[rows]
    if p.eval_type != "multi":
        label, score = label.astype(np.float64), score.astype(np.float64)
    result = evaluate(p.eval_type, label, score, pos_label=p.pos_label, metrics=p.metrics)
    name = source if split == "train" else f"{source}_{split}"
    for rec in fate_tracking_records(result, name):
        ctx.metrics.log(_NAMESPACE.get(split, split), rec.name, _points(rec.data), rec.meta)
    return {k: float(v) for k, v in result.summary().items()}


def _points(data: Any) -> list[tuple[Any, Any]]:
    return [(k, v) for k, v in data]


SPEC = ComponentSpec(
    module="Evaluation",
    roles=frozenset({"guest", "host", "arbiter"}),
    params=EvaluationParams,
    run=run,
    description="Metrics of predictions: AUC, KS, lift, gain, precision, recall, MSE, R2...",
    outputs_data=("data",),
)
