"""Component parameters per (component, party): FATE's merge order, inheritance, validation, need_run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from fedloom.dsl._util import deep_merge, fail
from fedloom.dsl.catalog import ComponentCatalog
from fedloom.dsl.conf import RoleTable, ScopedSection
from fedloom.dsl.graph import ComponentNode
from fedloom.errors import InvalidInput
from fedloom.ids import Party

Key = tuple[str, Party]


@dataclass(frozen=True)
class ResolvedParams:
    parties: Mapping[str, tuple[Party, ...]]  # component -> parties that get a task
    params: Mapping[Key, dict[str, Any]]
    need_run: Mapping[Key, bool]
    warnings: tuple[str, ...]


def inherit_source(node: ComponentNode) -> str | None:
    """The component whose model or cache this one loads (FATE: a cache input wins over a model input)."""
    refs = node.cache_inputs or node.model_inputs
    return refs[-1].component if refs else None


def param_source(nodes: Mapping[str, ComponentNode], name: str) -> str:
    """Follow model/cache inputs of the same module upward; a warm start keeps its own parameters."""
    current = nodes[name]
    while not current.is_warm_start:
        source = inherit_source(current)
        if source is None or nodes[source].module != current.module:
            break
        current = nodes[source]
    return current.name


def resolve_params(
    nodes: Mapping[str, ComponentNode],
    roles: RoleTable,
    section: ScopedSection,
    catalog: ComponentCatalog,
) -> ResolvedParams:
    """`nodes` must be in topological order, so sources are resolved before the components that inherit."""
    parties = {name: _parties(node, roles, catalog) for name, node in nodes.items()}
    params: dict[Key, dict[str, Any]] = {}
    need_run: dict[Key, bool] = {}
    warnings: list[str] = []
    for name, node in nodes.items():
        source = param_source(nodes, name)
        if source != name and _has_own_entries(section, name):
            warnings.append(f"component {name}: its parameters are ignored; it takes those of {source}")
        for party in parties[name]:
            key = (name, party)
            params[key] = (
                params[(source, party)]
                if source != name
                else _validated(node, party, section, roles, catalog)
            )
            need_run[key] = _need_run(node, party, params[key], need_run)
    return ResolvedParams(
        MappingProxyType(parties), MappingProxyType(params), MappingProxyType(need_run), tuple(warnings)
    )


def _parties(node: ComponentNode, roles: RoleTable, catalog: ComponentCatalog) -> tuple[Party, ...]:
    runs_on = catalog.module_roles(node.module) or frozenset()
    parties = tuple(party for party in roles.parties() if party.role in runs_on)
    if not parties:
        fail(
            f"component {node.name}: module {node.module} runs on {', '.join(sorted(runs_on))}, "
            f"none of which is a role of this job ({', '.join(roles.roles)})"
        )
    return parties


def _validated(
    node: ComponentNode, party: Party, section: ScopedSection, roles: RoleTable, catalog: ComponentCatalog
) -> dict[str, Any]:
    try:
        return catalog.validate_params(node.module, merged_params(section, roles, node.name, party))
    except InvalidInput as exc:
        raise InvalidInput(
            f"component {node.name}: {exc.message} ({party.role} {party.party_id})", data=exc.data
        ) from exc


def merged_params(section: ScopedSection, roles: RoleTable, name: str, party: Party) -> dict[str, Any]:
    """common ⊕ each matching role block ("all", "0", "0|2") in conf order, nested dicts merged."""
    position = roles.position(party.role, party.party_id)
    assert position is not None  # callers only pass parties of the job
    merged: dict[str, Any] = {}
    for layer in section.layers(party.role, position):
        values = layer.get(name)
        if values is not None:
            merged = deep_merge(merged, values)
    return merged


def _need_run(node: ComponentNode, party: Party, params: dict[str, Any], done: dict[Key, bool]) -> bool:
    source = inherit_source(node)
    if source is not None:
        # FATE: a loaded model or cache decides; a source with no task at this party means no run.
        return done.get((source, party), False)
    return bool(params.get("need_run", True))


def _has_own_entries(section: ScopedSection, name: str) -> bool:
    blocks = [section.common] + [entry.values for entries in section.role.values() for entry in entries]
    return any(name in block for block in blocks)
