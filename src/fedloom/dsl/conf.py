"""The runtime conf's skeleton: roles, initiator, and the common / role-indexed parameter sections."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from fedloom.dsl._util import as_dict, fail, optional_dict, quoted, to_party_id, type_name
from fedloom.dsl.limits import check_party_count
from fedloom.ids import Party

ROLES = ("guest", "host", "arbiter", "local")
ALL = "all"


@dataclass(frozen=True)
class RoleTable:
    """`conf.role` with party ids as ints (order kept) and the initiator found in it."""

    roles: Mapping[str, tuple[int, ...]]
    initiator: Party

    def parties(self) -> list[Party]:
        return [Party(role, pid) for role, ids in self.roles.items() for pid in ids]

    def position(self, role: str, party_id: int) -> int | None:
        ids = self.roles.get(role, ())
        return ids.index(party_id) if party_id in ids else None

    def as_dict(self) -> dict[str, list[int]]:
        return {role: list(ids) for role, ids in self.roles.items()}


def parse_roles(conf: dict[str, Any]) -> RoleTable:
    raw = conf.get("role")
    if not isinstance(raw, dict) or not raw:
        fail('conf.role: must be a non-empty object like {"guest": [9999], "host": [10000]}')
    check_party_count(raw)
    roles = {role: _party_list(role, ids) for role, ids in raw.items()}
    return RoleTable(MappingProxyType(roles), _initiator(conf, roles))


def _party_list(role: Any, ids: Any) -> tuple[int, ...]:
    if role not in ROLES:
        fail(f'conf.role: unknown role "{role}" (allowed: {", ".join(ROLES)})')
    if not isinstance(ids, list) or not ids:
        fail(f"conf.role.{role}: must be a non-empty list of party ids, got {type_name(ids)}")
    parsed = tuple(to_party_id(pid, f"conf.role.{role}") for pid in ids)
    seen: set[int] = set()
    for pid in parsed:
        if pid in seen:
            fail(f"conf.role.{role}: party {pid} is listed twice")
        seen.add(pid)
    return parsed


def _initiator(conf: dict[str, Any], roles: dict[str, tuple[int, ...]]) -> Party:
    raw = as_dict(conf.get("initiator"), "conf.initiator")
    for key in ("role", "party_id"):
        if raw.get(key) is None:
            fail(f'conf.initiator: "{key}" is missing')
    role = raw["role"]
    if role not in roles:
        fail(f'conf.initiator: role "{role}" is not in conf.role')
    party_id = to_party_id(raw["party_id"], "conf.initiator.party_id")
    if party_id not in roles[role]:
        fail(f"conf.initiator: party {party_id} is not in role.{role} {list(roles[role])}")
    return Party(role, party_id)


@dataclass(frozen=True)
class IndexedEntry:
    """One `role.<role>.<key>` block; `positions` None means "all"."""

    key: str
    positions: frozenset[int] | None
    values: dict[str, Any]

    def applies_to(self, position: int) -> bool:
        return self.positions is None or position in self.positions


@dataclass(frozen=True)
class ScopedSection:
    """`{"common": {...}, "role": {<role>: {<index key>: {...}}}}` with every index key checked."""

    common: dict[str, Any]
    role: Mapping[str, tuple[IndexedEntry, ...]]
    warnings: tuple[str, ...] = ()

    def layers(self, role: str, position: int) -> list[dict[str, Any]]:
        """Common first, then each matching role block in conf order: FATE's merge order."""
        matching = [entry.values for entry in self.role.get(role, ()) if entry.applies_to(position)]
        return [self.common, *matching]


def parse_scoped(raw: Any, where: str, roles: RoleTable) -> ScopedSection:
    section = {} if raw is None else as_dict(raw, where)
    unknown = [key for key in section if key not in ("common", "role")]
    if unknown:
        fail(f'{where}: unknown key {quoted(unknown)}; put values under "common" or "role"')
    by_role = optional_dict(section, "role", where)
    warnings = []
    entries = {}
    for role, blocks in by_role.items():
        if role not in ROLES:
            fail(f'{where}.role: unknown role "{role}" (allowed: {", ".join(ROLES)})')
        if role in roles.roles:
            entries[role] = _role_entries(role, blocks, f"{where}.role", roles)
        else:
            # FATE ignores blocks of roles the job does not have; say so instead of staying silent.
            warnings.append(f'{where}.role.{role}: ignored, "{role}" is not a role of this job')
    common = optional_dict(section, "common", where)
    return ScopedSection(common, MappingProxyType(entries), tuple(warnings))


def _role_entries(role: str, blocks: Any, where: str, roles: RoleTable) -> tuple[IndexedEntry, ...]:
    count = len(roles.roles[role])
    entries = []
    for key, values in as_dict(blocks, f"{where}.{role}").items():
        block_where = f'{where}.{role}."{key}"'
        positions = parse_index_key(key, block_where, role, count)
        entries.append(IndexedEntry(key, positions, as_dict(values, block_where)))
    return tuple(entries)


def parse_index_key(key: str, where: str, role: str, count: int) -> frozenset[int] | None:
    """`"all"`, `"0"` or `"0|2"`: positions in conf.role.<role>. None means all of them."""
    if key == ALL:
        return None
    parts = key.split("|")
    if not all(part.isascii() and part.isdigit() and str(int(part)) == part for part in parts):
        fail(f'{where}: index must be "all", a position like "0", or positions like "0|1"')
    positions = frozenset(int(part) for part in parts)
    beyond = sorted(pos for pos in positions if pos >= count)
    if beyond:
        parties = "party" if count == 1 else "parties"
        fail(f"{where}: position {beyond[0]} is beyond role.{role}, which has {count} {parties}")
    return positions
