"""The one check of a Reader's `table` parameter: which stored table it names, or why it names none."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from fedloom.errors import InvalidInput
from fedloom.ids import Party
from fedloom.storage.tables import TableStore


class TableName(NamedTuple):
    namespace: str
    name: str


def reader_table(
    component: str, params: Mapping[str, object], party: Party, tables: TableStore
) -> TableName | None:
    """The uploaded table a Reader reads at `party`; None when it reads another job's output instead.

    A missing field or a table the party does not have raises InvalidInput, with the one message that
    names the component, the party and what to do."""
    table = params.get("table") or {}
    if not isinstance(table, Mapping):
        raise InvalidInput(f"component {component}: parameter table must be an object")
    if table.get("job_id"):
        return None
    ns, name = table.get("namespace"), table.get("name")
    if not ns or not name:
        raise InvalidInput(
            f"component {component}: parameter table (name, namespace) missing for {party.role} {party.party_id}"
        )
    if not tables.exists(str(ns), str(name)):
        raise InvalidInput(
            f"component {component}: table {ns}.{name} not found at {party.role} {party.party_id}; "
            "upload it first (data/upload)"
        )
    return TableName(str(ns), str(name))


__all__ = ["TableName", "reader_table"]
