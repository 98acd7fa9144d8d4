"""Small helpers shared by the dsl modules: failing with InvalidInput, deep merge, JSON copies."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any, NoReturn

from fedloom.errors import InvalidInput
from fedloom.paths import MAX_PARTY_ID

NAME_RE = re.compile(r"[A-Za-z0-9_-]+\Z")


def fail(message: str) -> NoReturn:
    raise InvalidInput(message)


def is_name(value: object) -> bool:
    return isinstance(value, str) and NAME_RE.match(value) is not None


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """FATE's merge_dict: nested dicts merge key by key; anything else in `over` replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in over.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            merged[key] = deep_merge(old, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def as_dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        fail(f"{where}: must be an object, got {type_name(value)}")
    return value


def optional_dict(parent: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    """`parent[key]` as a dict; absent or null counts as empty."""
    value = parent.get(key)
    return {} if value is None else as_dict(value, f"{where}.{key}")


def type_name(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def quoted(names: Any) -> str:
    return ", ".join(f'"{n}"' for n in names)


def to_party_id(value: object, where: str) -> int:
    """Party ids arrive as ints (SDK, pipeline) or digit strings (CLI); both become int, bounded."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_PARTY_ID:
        return value
    fail(f"{where}: party id {_short(value)} is not a non-negative integer (at most {MAX_PARTY_ID})")


def _short(value: object) -> str:
    """A value for an error message, cut short (repr of a 5,000-digit int would raise)."""
    if isinstance(value, int) and value.bit_length() > 64:
        return f"of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."
