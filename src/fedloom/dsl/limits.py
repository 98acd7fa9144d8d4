"""Bounds on what one job may ask for: components, parties, and the nesting of its documents.

The HTTP edge bounds the bytes of a request (max_json_bytes); these bound the shape, so that no
valid-sized document can make parsing, scheduling or a recursive merge blow up.
"""

from __future__ import annotations

from typing import Any

from fedloom.dsl._util import fail

DEFAULT_MAX_COMPONENTS = 10_000  # settings.max_job_components
MAX_PARTIES = 100  # (role, party) pairs in one job
MAX_NESTING = 32  # depth of objects and lists in the DSL and the conf


def check_component_count(dsl: Any, max_components: int | None) -> None:
    """Before any per-component work: the count alone decides, with the setting named."""
    if max_components is None or not isinstance(dsl, dict):
        return
    components = dsl.get("components")
    count = len(components) if isinstance(components, dict) else 0
    if count > max_components:
        fail(
            f"dsl: {count} components, more than max_job_components ({max_components}) allows; "
            "split the job or raise the setting"
        )


def check_party_count(raw_roles: dict[str, Any]) -> None:
    count = sum(len(ids) for ids in raw_roles.values() if isinstance(ids, list))
    if count > MAX_PARTIES:
        fail(f"conf.role: {count} parties, a job may have at most {MAX_PARTIES}")


def check_nesting(value: Any, where: str) -> None:
    """Iteratively (no recursion to exhaust): no object or list deeper than MAX_NESTING."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_NESTING:
            fail(f"{where}: nested deeper than {MAX_NESTING} levels of objects and lists")
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


__all__ = [
    "DEFAULT_MAX_COMPONENTS",
    "MAX_NESTING",
    "MAX_PARTIES",
    "check_component_count",
    "check_nesting",
    "check_party_count",
]
