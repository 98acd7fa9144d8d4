"""Component provider choice per (component, party): conf `provider` section over the DSL's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fedloom.dsl.conf import RoleTable, ScopedSection, parse_scoped
from fedloom.dsl.graph import ComponentNode, parse_provider
from fedloom.ids import Party


def parse_provider_section(raw: Any, roles: RoleTable) -> str | ScopedSection:
    """`"fate@1.11.4"` for every component, or `{"common": {cpn: p}, "role": {...}}` (§2.6)."""
    if isinstance(raw, str):
        return parse_provider(raw, "conf.provider") or ""
    return parse_scoped(raw, "conf.provider", roles)


def resolve_providers(
    nodes: Mapping[str, ComponentNode],
    parties: Mapping[str, tuple[Party, ...]],
    section: str | ScopedSection,
    roles: RoleTable,
) -> dict[tuple[str, Party], str | None]:
    resolved: dict[tuple[str, Party], str | None] = {}
    for name, node in nodes.items():
        for party in parties[name]:
            resolved[(name, party)] = _choose(name, party, node.provider, section, roles)
    return resolved


def _choose(
    name: str, party: Party, dsl_choice: str | None, section: str | ScopedSection, roles: RoleTable
) -> str | None:
    if isinstance(section, str):
        return section or dsl_choice
    position = roles.position(party.role, party.party_id)
    choice = dsl_choice
    for layer in section.layers(party.role, position or 0):  # later (more specific) layers win
        value = layer.get(name)
        if value is not None:
            choice = parse_provider(value, f"conf.provider for {name}")
    return choice
