"""The JSON the services pass through: documents (DSL, conf, parameters, schemas) and values (cells, points)."""

from __future__ import annotations

from typing import Any, TypeAlias

JsonValue: TypeAlias = "None | bool | int | float | str | list[JsonValue] | dict[str, JsonValue]"

# A document read by key paths the DSL has already validated (`conf["job_parameters"]["common"]`):
# its values stay Any, as a checked-once JSON tree, not re-narrowed at every read.
JsonObject: TypeAlias = dict[str, Any]

__all__ = ["JsonObject", "JsonValue"]
