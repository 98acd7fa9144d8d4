"""Evaluation: binary, multi-class and regression metrics of upstream predictions, in FATE's shape."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import ConfigDict, Field

from fedloom.components.api import Component, Context, Params
from fedloom.errors import InvalidInput
from fedloom.ml.metrics import evaluate, fate_tracking_records
from fedloom.storage.frame import Frame

Rows = npt.NDArray[np.intp]
# Where an upstream frame does not say which component made it (Frame.meta["component"]).
DEFAULT_SOURCE = "model"
SPLIT_ORDER = ("train", "validate", "test")


MAX_METRICS = 32
MAX_LABEL_CHARS = 256


class EvaluationParams(Params):
    model_config = ConfigDict(allow_inf_nan=False)

    eval_type: Literal["binary", "multi", "regression", "clustering"] = "binary"
    pos_label: int | float | Annotated[str, Field(max_length=MAX_LABEL_CHARS)] = 1
    metrics: list[str] | None = Field(default=None, max_length=MAX_METRICS)
    unfold_multi_result: bool = False
    run_clustering_arbiter_metric: bool = False


evaluation = Component(
    "Evaluation",
    EvaluationParams,
    description="Metrics of predictions: AUC, KS, lift, gain, precision, recall, MSE, R2...",
    outputs_data=("data",),
)


@evaluation.guest()
def evaluate_guest(ctx: Context[EvaluationParams]) -> None:
    _check_supported(ctx.params)
    frames = ctx.inputs.data("data")
    if not frames:
        return
    by_source: dict[str, dict[str, dict[str, float]]] = {}
    for frame in frames:
        source = str(frame.meta.get("component", DEFAULT_SOURCE))
        by_source[source] = {
            split: _evaluate_split(ctx, frame, rows, source, split) for split, rows in _splits(frame).items()
        }
    ctx.outputs.set_data(frames[0])
    # One upstream (the usual case): {split: {metric: value}}; several: keyed by upstream first.
    ctx.outputs.set_summary(next(iter(by_source.values())) if len(by_source) == 1 else dict(by_source))


@evaluation.arbiter()
@evaluation.host()
def evaluate_other(ctx: Context[EvaluationParams]) -> None:
    """Only the label owner evaluates; hosts and the arbiter have nothing to compare against."""
    _check_supported(ctx.params)


def _check_supported(p: EvaluationParams) -> None:
    if p.eval_type == "clustering":
        raise InvalidInput(
            'Evaluation: eval_type "clustering" is not supported yet; use binary, multi or regression'
        )


def _splits(frame: Frame) -> dict[str, Rows]:
    """Row indices per `type` (train, validate, test first, then any other), rows without a label left out."""
    missing = [c for c in ("label", "type") if c not in frame.extra]
    if missing:
        raise InvalidInput(
            f"Evaluation: input lacks the prediction columns {missing}; expected label, "
            "predict_result, predict_score, predict_detail, type"
        )
    kinds = np.asarray(frame.extra["type"]).astype(str)
    labelled = _has_label(frame.extra["label"])
    found = list(dict.fromkeys(kinds.tolist()))
    ordered = [k for k in SPLIT_ORDER if k in found] + [k for k in found if k not in SPLIT_ORDER]
    out = {k: np.flatnonzero((kinds == k) & labelled) for k in ordered}
    return {k: rows for k, rows in out.items() if rows.size}


def _has_label(label: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    if label.dtype.kind == "f":
        finite: npt.NDArray[np.bool_] = ~np.isnan(label)
        return finite
    return np.array([v is not None and v == v and v != "" for v in label.tolist()], dtype=bool)


def _evaluate_split(
    ctx: Context[EvaluationParams], frame: Frame, rows: Rows, source: str, split: str
) -> dict[str, float]:
    p = ctx.params
    column = "predict_score" if p.eval_type == "binary" else "predict_result"
    if column not in frame.extra:
        raise InvalidInput(f"Evaluation: eval_type {p.eval_type!r} needs column {column!r} in the input")
    label = np.asarray(frame.extra["label"])[rows]
    score = np.asarray(frame.extra[column])[rows]
    if p.eval_type != "multi":
        score = score.astype(np.float64)
    if p.eval_type == "regression":
        label = label.astype(np.float64)
    result = evaluate(p.eval_type, label, score, pos_label=p.pos_label, metrics=p.metrics)
    # FATE's tracking layout: namespace = the split, name = the upstream component (curves suffixed).
    for rec in fate_tracking_records(result, source):
        ctx.metrics.log(split, rec.name, [(k, v) for k, v in rec.data], rec.meta)
    return {k: float(v) for k, v in result.summary().items()}


SPEC = evaluation.spec()

__all__ = ["SPEC", "EvaluationParams", "evaluation"]
