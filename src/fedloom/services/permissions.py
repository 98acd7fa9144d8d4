"""A host's consent: which components another party may run on which of this host's tables.

Grants are rows (party, component, namespace, name), any but the party possibly "*". A job from
party P may run module m on table t at this host iff some row (P, m | *, t.namespace | *, t.name | *)
exists. Nothing is cached: a revoke holds from the next check on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import product

from fedloom.components.registry import all_components
from fedloom.errors import InvalidInput, PermissionDenied
from fedloom.ids import Party
from fedloom.paths import check_id, check_party_id
from fedloom.services._json import JsonObject
from fedloom.store.access import ANY, Grant, PermissionStore

Table = tuple[str, str]
# FATE's codes in the `data` of a 108 answer (PermissionCheckCode)
NO_COMPONENT_PERMISSION = 2
NO_DATASET_PERMISSION = 3


class PermissionService:
    def __init__(self, store: PermissionStore) -> None:
        self._store = store

    def grant(self, party_id: int, components: Sequence[str] | None, tables: Sequence[Table] | None) -> int:
        """Let `party_id` run each of `components` (None: any) on each of `tables` (None: any).
        Granting again is not an error; returns how many rows were new."""
        check_party_id("party_id", party_id)
        grants = [Grant(c, ns, n) for c, (ns, n) in product(_modules(components), _tables(tables))]
        return self._store.add(party_id, grants)

    def revoke(self, party_id: int, components: Sequence[str] | None, tables: Sequence[Table] | None) -> int:
        """Delete the grants of `party_id` for `components` × `tables`; None matches every row."""
        check_party_id("party_id", party_id)
        cpns = None if components is None else _modules(components)
        tbls = None if tables is None else _tables(tables)
        return self._store.remove(party_id, cpns, tbls)

    def query(self, party_id: int) -> JsonObject:
        """FATE's answer shape: the distinct components and datasets granted, plus the rows themselves."""
        check_party_id("party_id", party_id)
        rows = self._store.grants(party_id)
        datasets = sorted({(g.namespace, g.name) for g in rows})
        return {
            "component": sorted({g.component for g in rows}),
            "dataset": [{"namespace": ns, "name": n} for ns, n in datasets],
            "grants": [g._asdict() for g in rows],
        }

    def check_job(
        self, src_party_id: int, at: Party, modules: Iterable[str], tables: Iterable[Table]
    ) -> None:
        """PermissionDenied naming the first missing grant (data: FATE's `{code, message}`) unless
        `src_party_id` may run every module on every table at party `at` (no tables: every module
        needs some grant)."""
        missing = self.first_missing(src_party_id, modules, tables)
        if missing is None:
            return
        module, table = missing
        where = (
            f"permission check failed at {at.role} {at.party_id}: party {src_party_id} may not run {module}"
        )
        how = f"fedloom permission grant --party-id {src_party_id} --component {module}"
        if table is None:
            message = f"{where} (grant it: {how})"
        else:
            message = (
                f"{where} on table {table[0]}.{table[1]} (grant it: {how} --dataset {table[0]}:{table[1]})"
            )
        code = NO_COMPONENT_PERMISSION if table is None else NO_DATASET_PERMISSION
        raise PermissionDenied(message, data={"code": code, "message": message})

    def allowed(self, src_party_id: int, modules: Iterable[str], tables: Iterable[Table]) -> bool:
        return self.first_missing(src_party_id, modules, tables) is None

    def first_missing(
        self, src_party_id: int, modules: Iterable[str], tables: Iterable[Table]
    ) -> tuple[str, Table | None] | None:
        """The first (module, table) pair no grant covers (table None when `tables` is empty), or None."""
        wanted = [m.lower() for m in modules]
        tbls = list(tables)
        rows = self._store.grants(src_party_id, wanted)
        for module in wanted:
            mine = [g for g in rows if g.component in (module, ANY)]
            if not tbls and not mine:
                return module, None
            for table in tbls:
                if not any(_covers(g, table) for g in mine):
                    return module, table
        return None


def _covers(g: Grant, table: Table) -> bool:
    return g.namespace in (table[0], ANY) and g.name in (table[1], ANY)


def _modules(components: Sequence[str] | None) -> list[str]:
    """Lower-cased module names, each checked against the registry; None or "*" is [ANY]."""
    if components is None or ANY in components:
        return [ANY]
    known = {m.lower() for m in all_components()}
    out: list[str] = []
    for c in components:
        name = c.strip().lower()
        if name not in known:
            raise InvalidInput(f"component: unknown module {c!r}; known: {', '.join(sorted(known))}")
        if name not in out:
            out.append(name)
    if not out:
        raise InvalidInput("component: no module named (use '*' for every module)")
    return out


def _tables(tables: Sequence[Table] | None) -> list[Table]:
    if tables is None:
        return [(ANY, ANY)]
    if not tables:
        raise InvalidInput("dataset: no table named (use '*' for every table)")
    return list(
        dict.fromkeys((check_id("namespace", ns), check_id("name", n, "table_name")) for ns, n in tables)
    )


__all__ = ["PermissionService"]
