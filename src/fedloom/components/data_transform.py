"""DataTransform: turns raw uploaded columns into instances (label split, types, missing values)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import ConfigDict, Field

from fedloom.components.api import Component, Context, ModelArtifact, Params
from fedloom.errors import InvalidInput
from fedloom.storage.frame import Frame

MODEL_NAME = "DataTransform"


MAX_FILL_VALUES = 100_000  # one per column at most; no table has more columns than this


class DataTransformParams(Params):
    model_config = ConfigDict(allow_inf_nan=False)

    input_format: Literal["dense"] = "dense"
    delimitor: str = ","
    data_type: Literal["float64", "float32", "int", "int64", "float", "double"] = "float64"
    with_label: bool = False
    label_name: str = "y"
    label_type: Literal["int", "int64", "float", "float64", "str", "long"] = "int"
    output_format: Literal["dense"] = "dense"
    missing_fill: bool = False
    missing_fill_method: Literal["designated", "mean", "median", "min", "max"] | None = None
    missing_impute: list[Any] | None = Field(default=None, max_length=MAX_FILL_VALUES)
    default_value: float | Annotated[list[float], Field(max_length=MAX_FILL_VALUES)] = 0.0
    outlier_replace: bool = False
    with_match_id: bool = False
    match_id_name: str | None = None
    exclusive_data_type: dict[str, str] | None = None


data_transform = Component(
    "DataTransform",
    DataTransformParams,
    description="Parse raw columns into instances: label, feature types, missing values.",
    outputs_model=("model",),
)


@data_transform.local()
@data_transform.host()
@data_transform.guest()
def transform(ctx: Context[DataTransformParams]) -> None:
    frame = ctx.inputs.data("data")[0]
    if ctx.inputs.models:  # predict / transform with a fitted model: reuse its settings
        model = ctx.inputs.models[0].param
        out = _apply(frame, model, require_label=False)
    else:
        model = _fit(frame, ctx.params)
        out = _apply(frame, model, require_label=True)
        ctx.outputs.set_model(ModelArtifact(MODEL_NAME, model, {"module": MODEL_NAME}))
    ctx.outputs.set_data(out)
    ctx.outputs.set_summary(
        {
            "count": out.count,
            "features": len(out.feature_names),
            "label": out.label_name,
            "missing_filled": bool(model["fill_values"]),
        }
    )


def _fit(frame: Frame, p: DataTransformParams) -> dict[str, Any]:
    names = list(frame.feature_names)
    label = None
    if p.with_label:
        if p.label_name not in names:
            raise InvalidInput(f"DataTransform: label column {p.label_name!r} not found; columns are {names}")
        label = p.label_name
        names.remove(label)
    fill: dict[str, float] = {}
    if p.missing_fill:
        cols = frame.features[:, [frame.feature_names.index(n) for n in names]]
        fill = _fill_values(cols, names, p)
    return {"header": names, "label_name": label, "label_type": p.label_type, "fill_values": fill}


def _fill_values(cols: np.ndarray, names: list[str], p: DataTransformParams) -> dict[str, float]:
    method = p.missing_fill_method or "designated"
    if method == "designated":
        dv = p.default_value
        values = dv if isinstance(dv, list) else [dv] * len(names)
        if len(values) != len(names):
            raise InvalidInput("DataTransform: default_value has a different length than the features")
        return {n: float(v) for n, v in zip(names, values, strict=True)}
    with np.errstate(all="ignore"):
        stat: Any = {"mean": np.nanmean, "median": np.nanmedian, "min": np.nanmin, "max": np.nanmax}[method]
        vals = stat(cols, axis=0) if cols.size else np.zeros(len(names))
    return {n: float(0.0 if np.isnan(v) else v) for n, v in zip(names, vals, strict=True)}


def _apply(frame: Frame, model: dict[str, Any], *, require_label: bool) -> Frame:
    header: list[str] = model["header"]
    missing = [n for n in header if n not in frame.feature_names]
    if missing:
        raise InvalidInput(f"DataTransform: input lacks columns {missing}")
    idx = [frame.feature_names.index(n) for n in header]
    feats = np.array(frame.features[:, idx], dtype=np.float64)
    for j, name in enumerate(header):
        if name in model["fill_values"]:
            col = feats[:, j]
            col[np.isnan(col)] = model["fill_values"][name]
    label_name = model["label_name"]
    label = None
    if label_name is not None and label_name in frame.feature_names:
        label = frame.features[:, frame.feature_names.index(label_name)].astype(np.float64)
        if np.isnan(label).any():
            raise InvalidInput(f"DataTransform: label column {label_name!r} has missing values")
    elif label_name is not None and require_label:
        raise InvalidInput(f"DataTransform: label column {label_name!r} not found")
    return Frame(
        ids=frame.ids,
        features=feats,
        feature_names=header,
        label=label,
        label_name=label_name,
        id_name=frame.id_name,
    )


SPEC = data_transform.spec()
