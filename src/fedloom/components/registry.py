"""The component registry: built-in components plus those installed under entry point `fedloom.components`.

An entry point names either a `Component` (handlers declared per role) or a `ComponentSpec`. One whose
module name is already taken (by a built-in or an earlier entry point) is refused with a logged error.
"""

from __future__ import annotations

import importlib
import logging
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pydantic import ValidationError

from fedloom.components.api import Component, ComponentSpec
from fedloom.errors import InvalidInput

log = logging.getLogger(__name__)

_BUILTIN_MODULES = (
    "fedloom.components.reader",
    "fedloom.components.data_transform",
    "fedloom.components.intersection",
    "fedloom.components.hetero_lr",
    "fedloom.components.evaluation",
)


@lru_cache(maxsize=1)
def _load() -> dict[str, ComponentSpec]:
    specs: dict[str, ComponentSpec] = {}
    origins: dict[str, str] = {}  # module -> where its spec came from, to name both sides of a clash
    for mod_name in _BUILTIN_MODULES:
        spec: ComponentSpec = importlib.import_module(mod_name).SPEC
        specs[spec.module] = spec
        origins[spec.module] = f"built-in {mod_name}"
    for ep in entry_points(group="fedloom.components"):
        loaded = _load_entry_point(ep)
        if loaded is None:
            continue
        origin = f"entry point {ep.name} ({ep.value})"
        if loaded.module in origins:  # a package must not silently replace another component
            log.error(
                "component %s from %s is refused: %s already provides it",
                loaded.module,
                origin,
                origins[loaded.module],
            )
            continue
        specs[loaded.module] = loaded
        origins[loaded.module] = origin
    return specs


def _load_entry_point(ep: EntryPoint) -> ComponentSpec | None:
    try:
        loaded = _as_spec(ep.load())
    except Exception as exc:  # a broken third-party package must not stop the server
        log.error("component entry point %s failed to load: %s", ep.name, exc)
        return None
    if loaded is None:
        log.error("entry point %s is not a Component or ComponentSpec", ep.name)
    return loaded


def _as_spec(obj: object) -> ComponentSpec | None:
    if isinstance(obj, Component):
        return obj.spec()
    return obj if isinstance(obj, ComponentSpec) else None


def all_components() -> dict[str, ComponentSpec]:
    return dict(_load())


def get_component(module: str) -> ComponentSpec:
    spec = _load().get(module)
    if spec is None:
        raise InvalidInput(f"unknown component module {module!r}; known: {', '.join(sorted(_load()))}")
    return spec


class Catalog:
    """The registry as the DSL parser sees it (fedloom.dsl.ComponentCatalog)."""

    def module_roles(self, module: str) -> frozenset[str] | None:
        spec = _load().get(module)
        return None if spec is None else spec.roles

    def validate_params(self, module: str, params: dict[str, Any]) -> dict[str, Any]:
        spec = get_component(module)
        try:
            return spec.params.model_validate(params).model_dump()
        except ValidationError as exc:
            raise InvalidInput(_describe(exc)) from exc

    def output_aliases(self, module: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        spec = get_component(module)
        return spec.outputs_data, spec.outputs_model


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "parameters"
        if err["type"] == "extra_forbidden":
            parts.append(f'parameter "{where}" is not a parameter of this component')
        else:
            parts.append(f'parameter "{where}": {err["msg"]}')
    return "; ".join(parts)


__all__ = ["Catalog", "all_components", "get_component"]
