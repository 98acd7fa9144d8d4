"""Evaluation metrics (FATE's Evaluation component): values and curves as tracking-ready entries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from fedloom.errors import InvalidInput

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Key = float | int | str
EvalType = Literal["binary", "multi", "regression"]
MetricKind = Literal["summary", "curve", "table"]

BINARY_METRICS = (
    "auc",
    "ks",
    "lift",
    "gain",
    "accuracy",
    "precision",
    "recall",
    "roc",
    "f1_score",
    "confusion_mat",
)
MULTI_METRICS = ("accuracy", "precision", "recall")
REGRESSION_METRICS = (
    "explained_variance",
    "mean_absolute_error",
    "mean_squared_error",
    "median_absolute_error",
    "r2_score",
    "root_mean_squared_error",
)
# FATE's `consts.ALIAS`, plus the short names people type.
ALIASES = {
    "l1": "mean_absolute_error",
    "mae": "mean_absolute_error",
    "regression_l1": "mean_absolute_error",
    "l2": "mean_squared_error",
    "mse": "mean_squared_error",
    "regression_l2": "mean_squared_error",
    "regression": "mean_squared_error",
    "l2_root": "root_mean_squared_error",
    "rmse": "root_mean_squared_error",
    "r2": "r2_score",
    "acc": "accuracy",
    "explained_variance_score": "explained_variance",
}
_ALLOWED: dict[str, tuple[str, ...]] = {
    "binary": BINARY_METRICS,
    "multi": MULTI_METRICS,
    "regression": REGRESSION_METRICS,
}


@dataclass(frozen=True)
class MetricEntry:
    """One metric: `data` is [(name, value)] for a summary, (x, y) points for a curve."""

    metric_name: str  # FATE's metric name: "auc", "ks_fpr", "roc", "mean_squared_error"...
    metric_type: str  # "AUC", "KS", "ROC", "LIFT", "GAIN", "PRECISION", "RECALL", "ACCURACY"...
    kind: MetricKind
    data: list[tuple[Key, float]]
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EvaluationResult:
    eval_type: EvalType
    entries: list[MetricEntry]

    def summary(self) -> dict[str, float]:
        """Scalar metrics by name (what FATE puts in the component summary)."""
        return {e.metric_name: e.data[0][1] for e in self.entries if e.kind == "summary"}

    def entry(self, metric_name: str, kind: MetricKind) -> MetricEntry:
        for e in self.entries:
            if e.metric_name == metric_name and e.kind == kind:
                return e
        raise KeyError(f"no {kind} entry named {metric_name!r}")


@dataclass(frozen=True)
class Confusion:
    """Counts per threshold, "predicted positive" meaning score > threshold."""

    tp: IntArray
    fp: IntArray
    fn: IntArray
    tn: IntArray


def resolve_metrics(eval_type: str, metrics: Sequence[str] | None) -> list[str]:
    """FATE's EvaluateParam rules: lower-case, aliases, precision and recall come as a pair."""
    allowed = _ALLOWED.get(eval_type)
    if allowed is None:
        raise InvalidInput(f"eval_type {eval_type!r} is not supported; use one of {list(_ALLOWED)}")
    if not metrics:
        return list(allowed)
    names: list[str] = []
    for raw in metrics:
        name = ALIASES.get(raw.lower(), raw.lower())
        if name not in allowed:
            raise InvalidInput(f"metric {raw!r} is not available for {eval_type}; use {list(allowed)}")
        if name not in names:
            names.append(name)
    for a, b in (("precision", "recall"), ("recall", "precision")):
        if a in names and b not in names:
            names.append(b)
    return names


def evaluate(
    eval_type: str,
    y_true: npt.ArrayLike,
    y_score_or_pred: npt.ArrayLike,
    *,
    pos_label: Key = 1,
    metrics: Sequence[str] | None = None,
    threshold: float = 0.5,
    curve_points: int = 100,
) -> EvaluationResult:
    """Binary takes scores; multi takes predicted labels; regression takes predicted values.

    A "summary" entry is one scalar, a "curve" a list of (x, y) points with its thresholds in
    `meta`, a "table" carries its columns in `meta`. Curves use FATE's threshold grids
    (`curve_points` cuts, 100 in FATE) and FATE's rule "positive iff score > threshold";
    `fate_tracking_records()` names them the way FATE stores them.

    Deliberate differences from FATE 1.x: KS is the exact max(tpr - fpr) over every threshold
    (FATE takes it on its 100-point grid); binary precision/recall/accuracy also give a summary
    at `threshold` (FATE's predict threshold, 0.5); a curve's all-positive end point has the
    threshold min(score) - 0.001 (FATE: 0.0) and the ROC start max(score) + 1 (sklearn: inf), so
    meta stays valid JSON for any score range.
    """
    names = resolve_metrics(eval_type, metrics)
    if curve_points < 1:
        raise InvalidInput("curve_points must be >= 1")
    if eval_type == "binary":
        y, s = binary_inputs(y_true, y_score_or_pred, pos_label)
        entries = [e for n in names for e in _BINARY[n](y, s, threshold, curve_points)]
        return EvaluationResult("binary", entries)
    if eval_type == "multi":
        return EvaluationResult("multi", _multi_entries(names, y_true, y_score_or_pred))
    t, p = _regression_inputs(y_true, y_score_or_pred)
    return EvaluationResult("regression", [_summary(n, REGRESSION_FUNCS[n](t, p)) for n in names])


# ---------------------------------------------------------------- binary: values
def binary_inputs(
    y_true: npt.ArrayLike, y_score: npt.ArrayLike, pos_label: Key = 1
) -> tuple[BoolArray, FloatArray]:
    """(is_positive, score), checked: same length, finite scores, both classes present."""
    labels = np.asarray(y_true)
    scores = np.asarray(y_score, dtype=np.float64)
    _check_pair(labels, scores)
    y = _positive_mask(labels, pos_label)
    if y.all() or not y.any():
        raise InvalidInput(f"binary metrics need both classes; pos_label {pos_label!r} gives only one")
    return y, scores


def _positive_mask(labels: npt.NDArray[Any], pos_label: Key) -> BoolArray:
    # pos_label comes from JSON conf and labels from CSV: match "1" with 1 either way round.
    if labels.dtype.kind in "US" and not isinstance(pos_label, str):
        return np.asarray(labels == str(pos_label), dtype=bool)
    if labels.dtype.kind in "biuf" and isinstance(pos_label, str):
        try:
            return np.asarray(labels == float(pos_label), dtype=bool)
        except ValueError:
            return np.zeros(labels.shape, dtype=bool)
    return np.asarray(labels == pos_label, dtype=bool)


def roc_curve(y: BoolArray, s: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(fpr, tpr, thresholds) at every distinct score, positive iff score >= threshold.

    The same points as sklearn's ``roc_curve(drop_intermediate=False)``: first (0, 0) at +inf.
    """
    order = np.argsort(-s, kind="mergesort")
    s_desc, y_desc = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s_desc)), s_desc.size - 1]
    tps = np.r_[0, np.cumsum(y_desc)[last]]
    fps = np.r_[0, last + 1] - tps
    thresholds = np.r_[np.inf, s_desc[last]]
    if tps[-1] == 0 or fps[-1] == 0:
        raise InvalidInput("a ROC curve needs both positive and negative samples")
    return fps / fps[-1], tps / tps[-1], thresholds


def roc_auc(y: BoolArray, s: FloatArray) -> float:
    """Area under the ROC curve (trapezoids; ties count one half)."""
    fpr, tpr, _ = roc_curve(y, s)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def ks_statistic(y: BoolArray, s: FloatArray) -> float:
    """max(tpr - fpr) over every threshold."""
    fpr, tpr, _ = roc_curve(y, s)
    return float(np.max(tpr - fpr))


def confusion_at(y: BoolArray, s: FloatArray, thresholds: FloatArray) -> Confusion:
    """Confusion counts at each threshold in O((n + k) log n)."""
    order = np.argsort(s, kind="mergesort")
    below = np.r_[0, np.cumsum(y[order])]  # positives among the k lowest scores
    k = np.searchsorted(s[order], thresholds, side="right")  # rows with score <= threshold
    fn = below[k]
    tp = below[-1] - fn
    return Confusion(tp=tp, fp=(s.size - k) - tp, fn=fn, tn=k - fn)


def precision_recall_accuracy(y: BoolArray, s: FloatArray, threshold: float) -> tuple[float, float, float]:
    """Scalar precision, recall, accuracy when score > threshold predicts positive (0 if undefined)."""
    c = confusion_at(y, s, np.array([threshold]))
    tp, fp, fn, tn = int(c.tp[0]), int(c.fp[0]), int(c.fn[0]), int(c.tn[0])
    precision = tp / (tp + fp) if tp + fp else 0.0
    return precision, tp / (tp + fn), (tp + tn) / s.size


# ---------------------------------------------------------------- binary: FATE's grids
def _step_grid(s: FloatArray, points: int) -> tuple[FloatArray, FloatArray]:
    """FATE's `cut_by_step`: `points` cuts over the distinct scores, highest first."""
    distinct = np.unique(s)[::-1]
    i = np.arange(points)
    return distinct[(distinct.size * i) // points], i / points


def _rank_grid(s: FloatArray, points: int) -> tuple[FloatArray, FloatArray]:
    """FATE's `cut_by_index` (KS): `points` cuts over all scores, highest first."""
    s_desc = np.sort(s)[::-1]
    i = np.arange(points)
    return s_desc[(s_desc.size * i) // points], i / points


def _with_all_positive(
    s: FloatArray, thresholds: FloatArray, cuts: FloatArray
) -> tuple[FloatArray, FloatArray]:
    # FATE's add_to_end: one more threshold below every score, where all rows are positive.
    return np.r_[thresholds, s.min() - 0.001], np.r_[cuts, 1.0]


def _best_y_per_x(x: FloatArray, y: FloatArray) -> IntArray:
    """Indices keeping, for every distinct x, the first point with the largest y (FATE's filter)."""
    best: dict[float, int] = {}
    for i, xv in enumerate(x.tolist()):
        if xv not in best or y[i] > y[best[xv]]:
            best[xv] = i
    return np.array(sorted(best.values(), key=lambda i: (x[i], i)), dtype=np.int64)


def _curve(
    name: str, mtype: str, x: FloatArray, y: FloatArray, thresholds: FloatArray, **meta: Any
) -> MetricEntry:
    points: list[tuple[Key, float]] = list(zip(x.tolist(), y.tolist(), strict=True))
    return MetricEntry(name, mtype, "curve", points, {"thresholds": thresholds.tolist(), **meta})


def _summary(name: str, value: float, mtype: str | None = None) -> MetricEntry:
    return MetricEntry(name, mtype or name.upper(), "summary", [(name, float(value))])


def _auc_entries(y: BoolArray, s: FloatArray, _t: float, _p: int) -> list[MetricEntry]:
    return [_summary("auc", roc_auc(y, s))]


def _ks_entries(y: BoolArray, s: FloatArray, _t: float, points: int) -> list[MetricEntry]:
    thresholds, cuts = _with_all_positive(s, *_rank_grid(s, points))
    c = confusion_at(y, s, thresholds)
    pos, neg = int(y.sum()), int((~y).sum())
    return [
        _summary("ks", ks_statistic(y, s)),
        _curve("ks_fpr", "KS", cuts, c.fp / neg, thresholds, unit_name=""),
        _curve("ks_tpr", "KS", cuts, c.tp / pos, thresholds, unit_name=""),
    ]


def _roc_entries(y: BoolArray, s: FloatArray, _t: float, points: int) -> list[MetricEntry]:
    fpr, tpr, thr = roc_curve(y, s)
    thr[0] = s.max() + 1.0  # JSON has no infinity
    keep = np.unique(np.r_[(thr.size * np.arange(points)) // points, thr.size - 1])
    return [_curve("roc", "ROC", fpr[keep], tpr[keep], thr[keep], unit_name="fpr", ordinate_name="tpr")]


def _lift_gain_entries(y: BoolArray, s: FloatArray, which: str, points: int) -> MetricEntry:
    thresholds, _ = _step_grid(s, points)
    c = confusion_at(y, s, thresholds)
    n, pos = s.size, int(y.sum())
    x = (c.tp + c.fp) / n
    if which == "gain":
        value = c.tp / pos
    else:  # precision over the base rate; FATE counts an empty selection as precision 1
        value = np.where(c.tp + c.fp > 0, c.tp / np.maximum(c.tp + c.fp, 1), 1.0) / (pos / n)
    keep = _best_y_per_x(x, value)
    end = s.min() - 0.001
    return _curve(
        which, which.upper(), np.r_[x[keep], 1.0], np.r_[value[keep], 1.0], np.r_[thresholds[keep], end]
    )


def _lift_entries(y: BoolArray, s: FloatArray, _t: float, points: int) -> list[MetricEntry]:
    return [_lift_gain_entries(y, s, "lift", points)]


def _gain_entries(y: BoolArray, s: FloatArray, _t: float, points: int) -> list[MetricEntry]:
    return [_lift_gain_entries(y, s, "gain", points)]


def _accuracy_entries(y: BoolArray, s: FloatArray, threshold: float, points: int) -> list[MetricEntry]:
    thresholds, cuts = _step_grid(s, points)
    c = confusion_at(y, s, thresholds)
    acc = (c.tp + c.tn) / s.size
    _, _, value = precision_recall_accuracy(y, s, threshold)
    return [_summary("accuracy", value), _curve("accuracy", "ACCURACY", cuts, acc, thresholds, unit_name="")]


def _precision_entries(y: BoolArray, s: FloatArray, threshold: float, points: int) -> list[MetricEntry]:
    curve, _ = _pr_curves(y, s, points)
    return [_summary("precision", precision_recall_accuracy(y, s, threshold)[0]), curve]


def _recall_entries(y: BoolArray, s: FloatArray, threshold: float, points: int) -> list[MetricEntry]:
    _, curve = _pr_curves(y, s, points)
    return [_summary("recall", precision_recall_accuracy(y, s, threshold)[1]), curve]


def _pr_curves(y: BoolArray, s: FloatArray, points: int) -> tuple[MetricEntry, MetricEntry]:
    thresholds, cuts = _with_all_positive(s, *_step_grid(s, points))
    c = confusion_at(y, s, thresholds)
    # No predicted positive: FATE draws precision as 1 so the PR curve starts at the top.
    precision = np.where(c.tp + c.fp > 0, c.tp / np.maximum(c.tp + c.fp, 1), 1.0)
    recall = c.tp / int(y.sum())
    keep = _best_y_per_x(recall, precision)
    x, thr = cuts[keep], thresholds[keep]
    return (
        _curve("precision", "PRECISION", x, precision[keep], thr, unit_name="", ordinate_name="Precision"),
        _curve("recall", "RECALL", x, recall[keep], thr, unit_name="", ordinate_name="Recall"),
    )


def _f1_entries(y: BoolArray, s: FloatArray, _t: float, points: int) -> list[MetricEntry]:
    thresholds, _ = _with_all_positive(s, *_step_grid(s, points))
    c = confusion_at(y, s, thresholds)
    denom = 2 * c.tp + c.fp + c.fn
    f1 = np.where(denom > 0, 2 * c.tp / np.maximum(denom, 1), 0.0)
    meta = {"f1_scores": f1.tolist(), "thresholds": thresholds.tolist()}
    return [MetricEntry("f1_score", "F1_SCORE", "table", [], meta)]


def _confusion_entries(y: BoolArray, s: FloatArray, _t: float, points: int) -> list[MetricEntry]:
    thresholds, _ = _with_all_positive(s, *_step_grid(s, points))
    c = confusion_at(y, s, thresholds)
    meta = {k: getattr(c, k).tolist() for k in ("tp", "fp", "fn", "tn")}
    return [
        MetricEntry(
            "confusion_mat", "CONFUSION_MAT", "table", [], {**meta, "thresholds": thresholds.tolist()}
        )
    ]


_BINARY = {
    "auc": _auc_entries,
    "ks": _ks_entries,
    "roc": _roc_entries,
    "lift": _lift_entries,
    "gain": _gain_entries,
    "accuracy": _accuracy_entries,
    "precision": _precision_entries,
    "recall": _recall_entries,
    "f1_score": _f1_entries,
    "confusion_mat": _confusion_entries,
}


# ---------------------------------------------------------------- multi-class
def multi_class_scores(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike
) -> tuple[list[Key], FloatArray, FloatArray, float]:
    """(classes, precision per class, recall per class, accuracy); 0 where a class is never seen."""
    t, p = np.asarray(y_true), np.asarray(y_pred)
    _check_pair(t, p)
    try:
        classes, inverse = np.unique(np.r_[t, p], return_inverse=True)
    except TypeError as exc:
        raise InvalidInput("multi metrics: labels and predictions must be of one comparable type") from exc
    ti, pi = inverse[: t.size], inverse[t.size :]
    hit = ti == pi
    tp = np.bincount(ti[hit], minlength=classes.size)
    predicted, actual = np.bincount(pi, minlength=classes.size), np.bincount(ti, minlength=classes.size)
    precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), 0.0)
    recall = np.where(actual > 0, tp / np.maximum(actual, 1), 0.0)
    return [_py(c) for c in classes], precision, recall, float(hit.mean())


def _multi_entries(names: list[str], y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> list[MetricEntry]:
    classes, precision, recall, accuracy = multi_class_scores(y_true, y_pred)
    per_class = {"precision": precision, "recall": recall}
    out: list[MetricEntry] = []
    for name in names:
        if name == "accuracy":
            out.append(_summary("accuracy", accuracy))
            continue
        values = per_class[name]
        out.append(_summary(name, float(values.mean())))
        points: list[tuple[Key, float]] = list(zip(classes, values.tolist(), strict=True))
        out.append(MetricEntry(name, name.upper(), "curve", points, {"unit_name": ""}))
    return out


# ---------------------------------------------------------------- regression
def mean_squared_error(t: FloatArray, p: FloatArray) -> float:
    return float(np.mean((t - p) ** 2))


def root_mean_squared_error(t: FloatArray, p: FloatArray) -> float:
    return float(np.sqrt(mean_squared_error(t, p)))


def mean_absolute_error(t: FloatArray, p: FloatArray) -> float:
    return float(np.mean(np.abs(t - p)))


def median_absolute_error(t: FloatArray, p: FloatArray) -> float:
    return float(np.median(np.abs(t - p)))


def r2_score(t: FloatArray, p: FloatArray) -> float:
    """1 - SS_res / SS_tot; for constant targets 1.0 if exact else 0.0 (sklearn's finite rule)."""
    return _one_minus_ratio(float(np.sum((t - p) ** 2)), float(np.sum((t - t.mean()) ** 2)))


def explained_variance(t: FloatArray, p: FloatArray) -> float:
    """1 - Var(t - p) / Var(t), with r2_score's rule for constant targets."""
    return _one_minus_ratio(float(np.var(t - p)), float(np.var(t)))


def _one_minus_ratio(num: float, den: float) -> float:
    if den == 0.0:
        return 1.0 if num == 0.0 else 0.0
    return 1.0 - num / den


REGRESSION_FUNCS = {
    "explained_variance": explained_variance,
    "mean_absolute_error": mean_absolute_error,
    "mean_squared_error": mean_squared_error,
    "median_absolute_error": median_absolute_error,
    "r2_score": r2_score,
    "root_mean_squared_error": root_mean_squared_error,
}


def _regression_inputs(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    t, p = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    _check_pair(t, p)
    if not np.isfinite(t).all():
        raise InvalidInput("regression metrics: labels contain NaN or infinite values")
    return t, p


# ---------------------------------------------------------------- FATE tracking layout
@dataclass(frozen=True)
class TrackingRecord:
    """One `metrics.log(namespace, name, data, meta)` call; the namespace is train or validate."""

    name: str
    data: list[tuple[Key, float]]
    meta: dict[str, Any]


_FATE_SUMMARY = {"auc", "ks", *REGRESSION_METRICS}
_FATE_CURVE_SUFFIX = {"ks_fpr": "_fpr", "ks_tpr": "_tpr"}
_FATE_PAIRED = {"ks_fpr", "ks_tpr", "precision", "recall"}


def fate_tracking_records(result: EvaluationResult, data_name: str) -> list[TrackingRecord]:
    """The records FATE's Evaluation logs for one evaluated data set (e.g. ``hetero_lr_0``).

    Summary values share one record named `data_name` (metric_type EVALUATION_SUMMARY); each curve
    is ``<data_name>_<metric>`` with metric_type ``<TYPE>_EVALUATION``; tables keep their type.
    """
    summaries = [e for e in result.entries if e.kind == "summary" and _fate_keeps(e, result.eval_type)]
    records = []
    if summaries:
        meta = {"name": data_name, "metric_type": "EVALUATION_SUMMARY"}
        records.append(TrackingRecord(data_name, [p for e in summaries for p in e.data], meta))
    for e in result.entries:
        if e.kind != "summary":
            records.append(_fate_record(e, data_name, result.eval_type))
    return records


def _fate_keeps(e: MetricEntry, eval_type: str) -> bool:
    # FATE's binary summary holds only AUC and KS; our threshold-0.5 scalars stay out of it.
    return eval_type == "multi" or e.metric_name in _FATE_SUMMARY


def _fate_record(e: MetricEntry, data_name: str, eval_type: str) -> TrackingRecord:
    name = f"{data_name}_{e.metric_name}"
    if e.kind == "table":
        return TrackingRecord(name, [], {"name": name, "metric_type": e.metric_type, **e.meta})
    mtype = e.metric_type
    if mtype in ("PRECISION", "RECALL"):
        mtype = f"{mtype}_{eval_type.upper()}"
    meta = {**e.meta, "name": name, "metric_type": f"{mtype}_EVALUATION"}
    meta["curve_name"] = data_name + _FATE_CURVE_SUFFIX.get(e.metric_name, "")
    if e.metric_name in _FATE_PAIRED:
        meta["pair_type"] = data_name
    return TrackingRecord(name, e.data, meta)


# ---------------------------------------------------------------- helpers
def _check_pair(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> None:
    if a.ndim != 1 or b.ndim != 1 or a.size != b.size:
        raise InvalidInput(f"metrics need two 1-D arrays of one length, got {a.shape} and {b.shape}")
    if a.size == 0:
        raise InvalidInput("metrics need at least one sample")
    if b.dtype.kind == "f" and not np.isfinite(b).all():
        raise InvalidInput("metrics: predictions contain NaN or infinite values")


def _py(value: Any) -> Key:
    item = value.item() if isinstance(value, np.generic) else value
    if not isinstance(item, float | int | str):
        return str(item)
    return item


__all__ = [
    "ALIASES",
    "BINARY_METRICS",
    "MULTI_METRICS",
    "REGRESSION_FUNCS",
    "REGRESSION_METRICS",
    "Confusion",
    "EvalType",
    "EvaluationResult",
    "Key",
    "MetricEntry",
    "TrackingRecord",
    "MetricKind",
    "binary_inputs",
    "confusion_at",
    "evaluate",
    "explained_variance",
    "fate_tracking_records",
    "ks_statistic",
    "mean_absolute_error",
    "mean_squared_error",
    "median_absolute_error",
    "multi_class_scores",
    "precision_recall_accuracy",
    "r2_score",
    "resolve_metrics",
    "roc_auc",
    "roc_curve",
    "root_mean_squared_error",
]
