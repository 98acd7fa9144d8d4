"""`fedloom permission ...`: what other parties may run on this party's tables (FATE's `flow privilege`)."""

from __future__ import annotations

from typing import Annotated

import typer

from fedloom.cli._common import JsonOpt, split_list, state, wants_json
from fedloom.cli._output import done, print_json, records_table
from fedloom.client._access import permissions
from fedloom.errors import InvalidInput

permission_app = typer.Typer(
    help="Grant, revoke and list what other parties may run on this party's tables.", no_args_is_help=True
)

GrantPartyOpt = Annotated[
    int, typer.Option("-p", "--party-id", help="The party granted (a remote initiator).")
]
ModulesOpt = Annotated[
    str | None,
    typer.Option(
        "-c", "--component", help="Module names, comma-separated (e.g. reader,heterolr); default every one."
    ),
]
DatasetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "-d", "--dataset", help="A table NAMESPACE:NAME (repeat the option for several); default every one."
    ),
]


def parse_tables(values: list[str] | None) -> list[tuple[str, str]] | None:
    """`["ns:name", ...]` -> pairs; None or `["*"]` means every table."""
    if not values or values == ["*"]:
        return None
    tables = []
    for value in values:
        ns, sep, name = value.partition(":")
        if not sep or not ns or not name:
            raise InvalidInput(f"--dataset: {value!r} is not NAMESPACE:NAME")
        tables.append((ns, name))
    return tables


def _modules(text: str | None) -> list[str] | None:
    names = split_list(text)
    return None if not names or "*" in names else names


@permission_app.command("grant")
def grant(
    ctx: typer.Context,
    party_id: GrantPartyOpt,
    component: ModulesOpt = None,
    dataset: DatasetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Let a party run these modules on these tables here (granting again is not an error)."""
    api = permissions(state(ctx).client())
    data = api.grant(party_id, _modules(component), parse_tables(dataset))
    done(ctx, as_json, data, f"granted to party {party_id} ({data.get('added', 0)} new rule(s))")


@permission_app.command("revoke")
def revoke(
    ctx: typer.Context,
    party_id: GrantPartyOpt,
    component: ModulesOpt = None,
    dataset: DatasetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete grants of a party (no --component: every module; no --dataset: every table)."""
    api = permissions(state(ctx).client())
    data = api.revoke(party_id, _modules(component), parse_tables(dataset))
    done(ctx, as_json, data, f"revoked from party {party_id} ({data.get('deleted', 0)} rule(s) deleted)")


@permission_app.command("query")
def query(ctx: typer.Context, party_id: GrantPartyOpt, as_json: JsonOpt = False) -> None:
    """The grants of a party, one row per (module, table); "*" means any."""
    data = permissions(state(ctx).client()).query(party_id)
    if wants_json(ctx, as_json):
        print_json(data)
    elif not data.get("grants"):
        state(ctx).out.print(f"party {party_id} has no grants here")
    else:
        columns = ["component", "namespace", "name"]
        state(ctx).out.print(records_table(data["grants"], columns, title=f"grants to party {party_id}"))


__all__ = ["parse_tables", "permission_app"]
