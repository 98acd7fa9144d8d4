"""`fedloom audit`: the server's audit log, newest first."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from fedloom.cli._common import JsonOpt, MaybeJobIdOpt, state, wants_json
from fedloom.cli._output import print_json, records_table
from fedloom.client._access import audit as audit_api

COLUMNS = ["time", "actor", "action", "job_id", "retcode", "detail"]


def audit(
    ctx: typer.Context,
    job_id: MaybeJobIdOpt = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="An app key, anonymous, or party:<id>.")
    ] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="Action prefix, e.g. 'POST /v1/job'.")
    ] = None,
    limit: Annotated[int, typer.Option("-l", "--limit", help="How many entries (at most 1000).")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Who called what on this server, for which job, with which result (newest first)."""
    entries = audit_api(state(ctx).client()).query(job_id=job_id, actor=actor, action=action, limit=limit)
    if wants_json(ctx, as_json):
        print_json(entries)
    elif not entries:
        state(ctx).out.print("no audit entries match")
    else:
        state(ctx).out.print(records_table([_local_time(e) for e in entries], COLUMNS, title="audit log"))


def _local_time(entry: dict[str, Any]) -> dict[str, Any]:
    shown = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry["time"] / 1000))
    return {**entry, "time": f"{shown}.{entry['time'] % 1000:03d}"}


__all__ = ["audit"]
