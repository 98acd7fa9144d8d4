"""The JSON the services pass through: documents (DSL, conf, parameters, schemas) and values (cells, points)."""

from __future__ import annotations

from typing import Any, TypeAlias

JsonValue: TypeAlias = "None | bool | int | float | str | list[JsonValue] | dict[str, JsonValue]"

# A document read by key paths the DSL has already validated (`conf["job_parameters"]["common"]`):
# its values stay Any, as a checked-once JSON tree, not re-narrowed at every read.
JsonObject: TypeAlias = dict[str, Any]

# Rows one answer carries at most (a list, a preview, a history); "all" (0 or -1 in FATE) means this many.
MAX_ROWS = 10_000


def bounded(limit: int) -> int:
    """FATE's `limit` (0 or negative = all) as a number of rows an answer may carry."""
    return MAX_ROWS if limit <= 0 else min(limit, MAX_ROWS)


__all__ = ["MAX_ROWS", "JsonObject", "JsonValue", "bounded"]
