"""Frame <-> Arrow table conversion; column roles travel as JSON in the Arrow schema metadata."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from fedloom.errors import InvalidInput
from fedloom.storage.frame import FloatArray, Frame

ROLES_KEY = b"fedloom.roles"
FORMAT_VERSION = 1

# How an extra column is kept: "native" = Arrow type of its numpy dtype, "str" = object array of
# str/None, "json" = object array of other JSON values (FATE's predict_detail dicts), one text per cell.
_NATIVE_KINDS = "biufU"


def frame_to_table(frame: Frame, *, nan_as_null: bool = False) -> pa.Table:
    """Columns in `frame.header()` order; `nan_as_null` writes NaN as null (empty CSV cells)."""
    names = frame.header()
    _check_unique(names)
    extras = [_extra_column(name, col, nan_as_null) for name, col in frame.extra.items()]
    columns = [_id_column(frame.ids)]
    if frame.label is not None:
        columns.append(_float_column(frame.label, nan_as_null))
    columns.extend(_float_column(row, nan_as_null) for row in _feature_rows(frame.features))
    columns.extend(array for array, _ in extras)
    roles = _roles(frame, [spec for _, spec in extras])
    return pa.table(columns, names=names, metadata={ROLES_KEY: json.dumps(roles).encode()})


def table_to_frame(table: pa.Table) -> Frame:
    """Inverse of `frame_to_table` for a table written by it (roles read from its metadata)."""
    roles = read_roles(table.schema)
    pos = 1
    label = None
    if roles["has_label"]:
        label = np.asarray(table.column(pos).to_numpy(), dtype=np.float64)
        pos += 1
    n_features = len(roles["feature_names"])
    features = _float_matrix(table, range(pos, pos + n_features), table.num_rows)
    pos += n_features
    specs = roles["extra"]
    extra = {spec["name"]: _extra_values(table.column(pos + i), spec) for i, spec in enumerate(specs)}
    return Frame(
        ids=table.column(0).to_numpy(zero_copy_only=False).astype(object, copy=False),
        features=features,
        feature_names=list(roles["feature_names"]),
        label=label,
        label_name=roles["label_name"],
        id_name=roles["id_name"],
        extra=extra,
        meta=roles["meta"],
    )


def read_roles(schema: pa.Schema) -> dict[str, Any]:
    raw = (schema.metadata or {}).get(ROLES_KEY)
    if raw is None:
        raise InvalidInput("table has no fedloom column roles in its Parquet metadata")
    roles = json.loads(raw)
    if not isinstance(roles, dict) or roles.get("format") != FORMAT_VERSION:
        raise InvalidInput(f"unsupported fedloom table format {roles!r:.80}")
    return roles


def float_matrix(columns: list[Any], n_rows: int) -> FloatArray:
    """Arrow float columns side by side as one C-ordered (n, d) matrix; nulls become NaN."""
    if not columns:
        return np.empty((n_rows, 0), dtype=np.float64)
    return np.column_stack([np.asarray(c.to_numpy(), dtype=np.float64) for c in columns])


def _float_matrix(table: pa.Table, positions: range, n_rows: int) -> FloatArray:
    return float_matrix([table.column(j) for j in positions], n_rows)


def _check_unique(names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidInput(f"duplicate column name {name!r} in frame (header {names})")
        seen.add(name)


def _id_column(ids: npt.NDArray[Any]) -> pa.Array:
    try:
        return pa.array(ids, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidInput(f"ids must be strings: {exc}") from exc


def _float_column(values: npt.NDArray[Any], nan_as_null: bool) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.float64), from_pandas=nan_as_null)


def _feature_rows(features: FloatArray) -> FloatArray:
    # One contiguous row per feature column lets Arrow wrap each without a strided copy.
    return np.ascontiguousarray(features.T, dtype=np.float64)


def _extra_column(name: str, col: npt.NDArray[Any], nan_as_null: bool) -> tuple[pa.Array, dict[str, str]]:
    kind = _extra_kind(name, col)
    spec = {"name": name, "kind": kind, "dtype": col.dtype.str}
    if kind == "native":
        return pa.array(col, from_pandas=nan_as_null and col.dtype.kind == "f"), spec
    if kind == "str":
        return pa.array(col, type=pa.string()), spec
    try:
        return pa.array([json.dumps(v) for v in col.tolist()], type=pa.string()), spec
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"extra column {name!r} holds a value that is not JSON: {exc}") from exc


def _extra_kind(name: str, col: npt.NDArray[Any]) -> str:
    if col.ndim != 1:
        raise InvalidInput(f"extra column {name!r} must be 1-D, got shape {col.shape}")
    if col.dtype.kind in _NATIVE_KINDS:
        return "native"
    if col.dtype.kind == "O":
        return "str" if all(v is None or isinstance(v, str) for v in col.tolist()) else "json"
    raise InvalidInput(f"extra column {name!r} has dtype {col.dtype}, which cannot be stored")


def _extra_values(column: Any, spec: dict[str, str]) -> npt.NDArray[Any]:
    values = column.to_numpy(zero_copy_only=False)
    if spec["kind"] == "native":
        return np.asarray(values).astype(np.dtype(spec["dtype"]), copy=False)
    if spec["kind"] == "str":
        return np.asarray(values, dtype=object)
    return np.fromiter((json.loads(s) for s in values), dtype=object, count=len(values))


def _roles(frame: Frame, extra_specs: list[dict[str, str]]) -> dict[str, Any]:
    try:
        json.dumps(frame.meta)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"frame meta must be JSON values: {exc}") from exc
    return {
        "format": FORMAT_VERSION,
        "id_name": frame.id_name,
        "has_label": frame.label is not None,
        "label_name": frame.label_name,
        "feature_names": list(frame.feature_names),
        "extra": extra_specs,
        "meta": frame.meta,
    }
