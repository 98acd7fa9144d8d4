"""The component registry: built-in components plus those installed under entry point `fedloom.components`.

An entry point names either a `Component` (handlers declared per role) or a `ComponentSpec`.
"""

from __future__ import annotations

import importlib
import logging
from functools import lru_cache
from importlib.metadata import entry_points
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
    for mod_name in _BUILTIN_MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name != mod_name:
                raise
            continue  # not written yet in this build
        spec: ComponentSpec = mod.SPEC
        specs[spec.module] = spec
    for ep in entry_points(group="fedloom.components"):
        try:
            loaded = _as_spec(ep.load())
        except Exception as exc:  # a broken third-party package must not stop the server
            log.error("component entry point %s failed to load: %s", ep.name, exc)
            continue
        if loaded is None:
            log.error("entry point %s is not a Component or ComponentSpec", ep.name)
            continue
        specs[loaded.module] = loaded
    return specs


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
