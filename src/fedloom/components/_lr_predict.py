"""HeteroLR prediction: hosts send plaintext W_h.X_h per id (FATE's host_prob), the guest scores."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from fedloom.components._lr_common import HOST_PROB, FloatArray, LRContext
from fedloom.components.api import Party
from fedloom.errors import InvalidInput
from fedloom.ml.lr import sigmoid
from fedloom.storage.frame import Frame

PREDICT_COLUMNS = ("label", "predict_result", "predict_score", "predict_detail", "type")


@dataclass(frozen=True)
class LinearPart:
    """One party's share of the model: w over its own columns (+ the intercept at the guest)."""

    header: list[str]
    coef: FloatArray
    intercept: float = 0.0

    @classmethod
    def from_param(cls, param: dict[str, Any]) -> LinearPart:
        try:
            header = [str(h) for h in param["header"]]
            coef = np.array([float(param["weight"][h]) for h in header], dtype=np.float64)
            return cls(header, coef, float(param.get("intercept", 0.0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(
                f"HeteroLR: the input model is not a HeteroLR model ({exc!r} missing)"
            ) from None

    def score(self, frame: Frame) -> FloatArray:
        """w.x (+ intercept) per row, reading the model's columns by name."""
        missing = [h for h in self.header if h not in frame.feature_names]
        if missing:
            raise InvalidInput(f"HeteroLR: the data lacks the model's features {missing[:5]}")
        cols = [frame.feature_names.index(h) for h in self.header]
        out: FloatArray = np.asarray(frame.features[:, cols], dtype=np.float64) @ self.coef + self.intercept
        return out


def predict_host(ctx: LRContext, guest: Party, part: LinearPart, frames: list[tuple[str, Frame]]) -> None:
    for _, frame in frames:
        ctx.send(HOST_PROB, {"ids": [str(i) for i in frame.ids], "wx": part.score(frame)}, [guest])


def predict_guest(
    ctx: LRContext, hosts: list[Party], part: LinearPart, frames: list[tuple[str, Frame]], threshold: float
) -> Frame:
    """FATE's prediction table of all frames: label, predict_result, predict_score, predict_detail, type."""
    outputs = []
    for kind, frame in frames:
        wx = part.score(frame)
        for host in hosts:
            wx = wx + _aligned_host_part(ctx.recv(HOST_PROB, host), frame, host)
        outputs.append(_predict_frame(frame, sigmoid(wx), kind, threshold))
    result = _concat(outputs)
    result.meta["component"] = ctx.component_name
    return result


def _aligned_host_part(message: Any, frame: Frame, host: Party) -> FloatArray:
    ids, wx = list(message["ids"]), np.asarray(message["wx"], dtype=np.float64)
    position = {i: k for k, i in enumerate(ids)}
    if len(position) != len(ids) or wx.shape != (len(ids),):
        raise InvalidInput(f"HeteroLR: malformed prediction part from {host[0]} {host[1]}")
    try:
        order = np.fromiter((position[str(i)] for i in frame.ids), dtype=np.intp, count=frame.count)
    except KeyError as exc:
        raise InvalidInput(
            f"HeteroLR: id {exc.args[0]!r} is missing at {host[0]} {host[1]}; run Intersection "
            "on the data to predict"
        ) from None
    out: FloatArray = wx[order]
    return out


def _predict_frame(frame: Frame, score: FloatArray, kind: str, threshold: float) -> Frame:
    n = frame.count
    extra: dict[str, npt.NDArray[Any]] = {
        "label": _labels(frame),
        "predict_result": (score > threshold).astype(np.int64),
        "predict_score": score,
        "predict_detail": np.array(
            [json.dumps({"0": 1.0 - s, "1": s}) for s in score.tolist()], dtype=object
        ),
        "type": np.array([kind] * n, dtype=object),
    }
    return Frame(
        ids=frame.ids, features=np.zeros((n, 0)), feature_names=[], id_name=frame.id_name, extra=extra
    )


def _labels(frame: Frame) -> npt.NDArray[Any]:
    if frame.label is None:
        return np.full(frame.count, np.nan)
    label = np.asarray(frame.label, dtype=np.float64)
    if np.all(np.isfinite(label)) and np.all(label == np.round(label)):
        return label.astype(np.int64)
    return label


def _concat(frames: list[Frame]) -> Frame:
    if len(frames) == 1:
        return frames[0]
    extra = {name: np.concatenate([f.extra[name] for f in frames]) for name in PREDICT_COLUMNS}
    if any(col.dtype.kind == "f" for col in (f.extra["label"] for f in frames)):
        extra["label"] = np.concatenate([f.extra["label"].astype(np.float64) for f in frames])
    ids = np.concatenate([f.ids for f in frames])
    return Frame(
        ids=ids, features=np.zeros((len(ids), 0)), feature_names=[], id_name=frames[0].id_name, extra=extra
    )
