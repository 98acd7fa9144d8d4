"""Frame: the in-memory shape of a table as components see it (ids, label, features, extra columns)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
ObjArray = npt.NDArray[np.object_]


@dataclass
class Frame:
    """A column-oriented data set.

    `ids` are strings; `features` is a 2-D float64 matrix (NaN = missing) whose columns are named by
    `feature_names`; `label` is optional. `extra` holds further named columns in order (e.g. FATE's
    predict columns `predict_result`, `predict_score`, `predict_detail`, `type`); they come after the
    label and features when the frame is shown or written as CSV, unless `extra_first` is false.
    """

    ids: ObjArray
    features: FloatArray
    feature_names: list[str]
    label: FloatArray | None = None
    label_name: str | None = None
    id_name: str = "id"
    extra: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.ids)
        if self.features.ndim != 2 or self.features.shape[0] != n:
            raise ValueError(f"features must be (n, d) with n={n}, got {self.features.shape}")
        if self.features.shape[1] != len(self.feature_names):
            raise ValueError("feature_names does not match the number of feature columns")
        if self.label is not None and len(self.label) != n:
            raise ValueError("label length differs from ids")
        for name, col in self.extra.items():
            if len(col) != n:
                raise ValueError(f"extra column {name!r} length differs from ids")

    @property
    def count(self) -> int:
        return len(self.ids)

    def header(self) -> list[str]:
        """Column names in display order: id, label, features, extra (FATE's output layout)."""
        cols = [self.id_name]
        if self.label is not None:
            cols.append(self.label_name or "label")
        return cols + list(self.feature_names) + list(self.extra)

    def take(self, index: npt.NDArray[np.intp]) -> Frame:
        """Rows at `index`, in that order."""
        return Frame(
            ids=self.ids[index],
            features=self.features[index],
            feature_names=list(self.feature_names),
            label=None if self.label is None else self.label[index],
            label_name=self.label_name,
            id_name=self.id_name,
            extra={k: v[index] for k, v in self.extra.items()},
            meta=dict(self.meta),
        )

    def rows(self, limit: int | None = None, start: int = 0) -> list[list[Any]]:
        """Rows `start`..`start + limit` (all when limit is None or negative) as Python values in
        `header()` order (for previews and CSV)."""
        end = self.count if limit is None or limit < 0 else min(start + limit, self.count)
        window = slice(start, end)
        cols: list[list[Any]] = [self.ids[window].tolist()]
        if self.label is not None:
            cols.append(_plain(self.label[window]))
        cols.extend(_plain(self.features[window, j]) for j in range(self.features.shape[1]))
        cols.extend(_plain(v[window]) for v in self.extra.values())
        return [list(r) for r in zip(*cols, strict=True)] if cols else []


def _plain(col: npt.NDArray[Any]) -> list[Any]:
    """JSON-ready values: NaN is None, an infinity the string "inf"/"-inf" (JSON has neither)."""
    if col.dtype.kind == "f":
        return [_number(v) for v in col.tolist()]
    if col.dtype.kind == "O":
        return [json_safe(v) for v in col.tolist()]
    return list(col.tolist())


def _number(v: float) -> float | int | str | None:
    if v != v:
        return None
    if v in (math.inf, -math.inf):
        return "inf" if v > 0 else "-inf"
    return int(v) if v.is_integer() and abs(v) < 2**53 else v


def json_safe(value: Any) -> Any:
    """`value` with every non-finite float inside it replaced as in `rows()`, so strict JSON can encode it."""
    if isinstance(value, float):
        return value if math.isfinite(value) else _number(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


__all__ = ["FloatArray", "Frame", "ObjArray", "json_safe"]
