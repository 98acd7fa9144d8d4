"""`fedloom tracking ...` and `fedloom component list`: what components produced, what can run."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fedloom.cli._common import (
    ComponentOpt,
    JobIdOpt,
    JsonOpt,
    MaybeJobIdOpt,
    PartyOpt,
    RoleOpt,
    state,
    wants_json,
)
from fedloom.cli._output import done, fit_columns, print_json, records_table, rows_table
from fedloom.client import DataWithMeta, FedloomClient
from fedloom.client._progress import initiator_record
from fedloom.errors import NotFound

tracking_app = typer.Typer(
    help="A component's metrics, parameters, model and output data.", no_args_is_help=True
)
component_app = typer.Typer(help="Components: the registry, or a job's components.", no_args_is_help=True)

PREVIEW_ROWS = 20
CURVE_POINTS = 12


@tracking_app.command("metrics")
def metrics(
    ctx: typer.Context,
    job_id: JobIdOpt,
    component: ComponentOpt,
    role: RoleOpt = None,
    party_id: PartyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Metric names per namespace."""
    data = state(ctx).client().tracking.metrics(job_id, component, role, party_id)
    if wants_json(ctx, as_json):
        print_json(data)
        return
    rows = [[ns, ", ".join(map(str, names))] for ns, names in data.items()]
    state(ctx).out.print(rows_table(["namespace", "metrics"], rows, title=f"{component} metrics"))


@tracking_app.command("metric-all")
def metric_all(
    ctx: typer.Context,
    job_id: JobIdOpt,
    component: ComponentOpt,
    role: RoleOpt = None,
    party_id: PartyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every metric with its points (long curves are shortened; use --json for all points)."""
    data = state(ctx).client().tracking.metric_all(job_id, component, role, party_id)
    if wants_json(ctx, as_json):
        print_json(data)
    elif not data:
        state(ctx).out.print(f"no metrics for {escape(component)}")
    else:
        render_metrics(state(ctx).out, data)


@tracking_app.command("parameters")
def parameters(
    ctx: typer.Context,
    job_id: JobIdOpt,
    component: ComponentOpt,
    role: RoleOpt = None,
    party_id: PartyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The component's resolved parameters."""
    data = state(ctx).client().tracking.parameters(job_id, component, role, party_id)
    _json_out(ctx, as_json, data)


@tracking_app.command("output-model")
def output_model(
    ctx: typer.Context,
    job_id: JobIdOpt,
    component: ComponentOpt,
    role: RoleOpt = None,
    party_id: PartyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The component's model: `data` (FATE's Param) and `meta` (FATE's Meta)."""
    result = state(ctx).client().tracking.output_model(job_id, component, role, party_id)
    _json_out(ctx, as_json, result.as_dict())


@tracking_app.command("summary")
def summary(
    ctx: typer.Context,
    job_id: JobIdOpt,
    component: ComponentOpt,
    role: RoleOpt = None,
    party_id: PartyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The component's summary (e.g. intersect_num, best_iteration...)."""
    _json_out(ctx, as_json, state(ctx).client().tracking.summary(job_id, component, role, party_id))


@tracking_app.command("output-data-table")
def output_data_table(
    ctx: typer.Context,
    job_id: JobIdOpt,
    component: ComponentOpt,
    role: RoleOpt = None,
    party_id: PartyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The tables holding the component's output data."""
    client = state(ctx).client()
    role, party_id = resolve_party(client, job_id, role, party_id)
    records = client.tracking.output_data_table(job_id, component, role, party_id)
    if wants_json(ctx, as_json):
        print_json(records)
    else:
        state(ctx).out.print(records_table(records, ("data_name", "table_namespace", "table_name")))


@tracking_app.command("output-data")
def output_data(
    ctx: typer.Context,
    job_id: JobIdOpt,
    component: ComponentOpt,
    role: RoleOpt = None,
    party_id: PartyOpt = None,
    output_path: Annotated[
        Path | None, typer.Option("-o", "--output-path", help="Download all rows.")
    ] = None,
    limit: Annotated[int, typer.Option("-l", "--limit", help="Rows to download (-1 = all).")] = -1,
    as_json: JsonOpt = False,
) -> None:
    """Preview the output data, or with -o download it as CSV + meta files."""
    client = state(ctx).client()
    if output_path is not None:
        role, party_id = resolve_party(client, job_id, role, party_id)
        path = client.tracking.output_data_download(job_id, component, role, party_id, output_path, limit)
        done(ctx, as_json, {"path": str(path)}, f"output data written to {path}")
        return
    preview = client.tracking.output_data(job_id, component, role, party_id)
    if wants_json(ctx, as_json):
        print_json(preview.as_dict())
    else:
        render_output_preview(state(ctx).out, component, preview)


@component_app.command("list")
def component_list(ctx: typer.Context, job_id: MaybeJobIdOpt = None, as_json: JsonOpt = False) -> None:
    """The components this server can run; with -j, the components of that job."""
    client = state(ctx).client()
    data: Any = client.tracking.component_list(job_id) if job_id else client.component.list()
    if wants_json(ctx, as_json):
        print_json(data)
    elif isinstance(data, list):
        state(ctx).out.print(rows_table(["component"], [[item] for item in data]))
    elif isinstance(data, dict) and isinstance(data.get("detail"), dict):
        state(ctx).out.print(_registry_table(data["detail"]))
    else:
        state(ctx).out.print_json(data=data)


def _registry_table(detail: Mapping[str, Any]) -> Table:
    """One row per module; `--json` has the full parameter schemas."""
    rows = [
        [module, ", ".join(info.get("roles", [])), info.get("provider", ""), info.get("description", "")]
        for module, info in sorted(detail.items())
        if isinstance(info, dict)
    ]
    table = rows_table(["module", "roles", "provider", "description"], rows, title="components")
    table.caption = "parameters of each: fedloom component list --json"
    return table


def resolve_party(
    client: FedloomClient, job_id: str, role: str | None, party_id: int | None
) -> tuple[str, int]:
    """Fill in the initiator's role and party when the user left them out."""
    if role is not None and party_id is not None:
        return role, party_id
    records = client.job.query(job_id=job_id)
    if not records:
        raise NotFound(f"job {job_id} not found")
    record = initiator_record(records)
    return role or str(record.get("f_role")), party_id if party_id is not None else int(record["f_party_id"])


def render_metrics(console: Console, data: Mapping[str, Any]) -> None:
    for namespace, by_name in data.items():
        for name, metric in (by_name or {}).items():
            points = metric.get("data") or []
            meta = metric.get("meta") or {}
            kind = escape(str(meta.get("metric_type", "")))
            console.print(f"[bold]{escape(str(namespace))} / {escape(str(name))}[/]  [dim]{kind}[/]")
            shown = points[:CURVE_POINTS]
            table = rows_table(["key", "value"], shown)
            if len(points) > len(shown):
                table.caption = f"{len(shown)} of {len(points)} points (--json for all)"
            console.print(table)


def render_output_preview(
    console: Console, component: str, preview: DataWithMeta, max_rows: int = PREVIEW_ROWS
) -> None:
    meta = preview.meta if isinstance(preview.meta, dict) else {}
    tables = preview.data if isinstance(preview.data, list) else []
    names, headers, totals = meta.get("names") or [], meta.get("header") or [], meta.get("total") or []
    if not tables:
        console.print(f"no output data for {escape(component)}")
    for index, rows in enumerate(tables):
        name = names[index] if index < len(names) else f"output {index}"
        header = headers[index] if index < len(headers) else []
        total = totals[index] if index < len(totals) else len(rows)
        shown = rows[:max_rows]
        columns = header or [f"col{i}" for i in range(len(shown[0]) if shown else 0)]
        table = rows_table(columns, shown, max_columns=fit_columns(console))
        console.print(f"[bold]{escape(component)}.{escape(str(name))}[/]")
        hidden = f" · {table.caption}" if isinstance(table.caption, str) else ""
        table.caption = f"{len(shown)} of {total} rows{hidden}"
        console.print(table)


def _json_out(ctx: typer.Context, as_json: bool, data: Any) -> None:
    if wants_json(ctx, as_json):
        print_json(data)
    else:
        state(ctx).out.print_json(data=data)


__all__ = ["component_app", "render_metrics", "render_output_preview", "resolve_party", "tracking_app"]
