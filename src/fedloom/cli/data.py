"""`fedloom data ...` and `fedloom table ...`: upload/download tables, demo files, table metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from fedloom.cli import _runtime
from fedloom.cli._common import (
    JobIdOpt,
    JsonOpt,
    LimitOpt,
    MaybeJobIdOpt,
    NamespaceOpt,
    TableOpt,
    read_json_file,
    state,
    wants_json,
)
from fedloom.cli._output import done, fit_columns, kv_table, print_json, records_table, rows_table
from fedloom.cli._watch import wait_json, watch_job
from fedloom.errors import InvalidInput

data_app = typer.Typer(help="Upload and download tables; write the demo data.", no_args_is_help=True)
table_app = typer.Typer(help="Table metadata: info, preview, delete, a job's tables.", no_args_is_help=True)

_UPLOAD_KEYS = {
    "file",
    "namespace",
    "table_name",
    "head",
    "partition",
    "id_delimiter",
    "delimiter",
    "drop",
    "use_local_data",
    "conf_path",
    "verbose",
}


@data_app.command("upload")
def upload(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(help="CSV on this machine.")] = None,
    namespace: Annotated[str | None, typer.Option("-n", "--namespace")] = None,
    table_name: Annotated[str | None, typer.Option("-t", "--table-name")] = None,
    head: Annotated[bool | None, typer.Option("--head/--no-head", help="First line is a header.")] = None,
    partition: Annotated[int | None, typer.Option("--partition", help="Partitions (default 4).")] = None,
    delimiter: Annotated[str | None, typer.Option("--delimiter", help="Default ','.")] = None,
    drop: Annotated[bool, typer.Option("--drop", help="Replace the table if it exists.")] = False,
    conf_path: Annotated[Path | None, typer.Option("-c", "--conf-path", help="FATE upload conf.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the upload job ends.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Upload a CSV as table NAMESPACE/TABLE (an asynchronous `local` job, like FATE)."""
    conf = read_json_file(conf_path, "upload conf") if conf_path is not None else {}
    source = file or conf.get("file")
    ns, name = namespace or conf.get("namespace"), table_name or conf.get("table_name")
    if not source or not ns or not name:
        raise InvalidInput("upload needs FILE, -n/--namespace and -t/--table-name (or a -c conf with them)")
    options: dict[str, Any] = {
        "head": bool(int(conf.get("head", 1))) if head is None else head,
        "partition": int(conf.get("partition", 4)) if partition is None else partition,
        "delimiter": delimiter or conf.get("id_delimiter") or conf.get("delimiter") or ",",
        "drop": drop or bool(int(conf.get("drop", 0))),
        "extra": {k: v for k, v in conf.items() if k not in _UPLOAD_KEYS},
    }
    client = state(ctx).client()
    if int(conf.get("use_local_data", 1)) == 0:
        job_id = client.data.upload_server_path(str(source), str(ns), str(name), **options)
    else:
        job_id = client.data.upload(Path(str(source)), str(ns), str(name), **options)
    _after_submit(ctx, as_json, job_id, wait, f"uploading {ns}/{name}")


@data_app.command("download")
def download(
    ctx: typer.Context,
    namespace: Annotated[str | None, typer.Option("-n", "--namespace")] = None,
    table_name: Annotated[str | None, typer.Option("-t", "--table-name")] = None,
    output_path: Annotated[
        str | None, typer.Option("-o", "--output-path", help="Path ON THE SERVER.")
    ] = None,
    delimiter: Annotated[str | None, typer.Option("--delimiter")] = None,
    conf_path: Annotated[Path | None, typer.Option("-c", "--conf-path", help="FATE download conf.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the download job ends.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Export a table to a file on the server host (an asynchronous job, like FATE)."""
    conf = read_json_file(conf_path, "download conf") if conf_path is not None else {}
    ns, name = namespace or conf.get("namespace"), table_name or conf.get("table_name")
    out = output_path or conf.get("output_path")
    if not ns or not name or not out:
        raise InvalidInput("download needs -n/--namespace, -t/--table-name and -o/--output-path")
    sep = delimiter or conf.get("delimiter")
    job_id = state(ctx).client().data.download(str(ns), str(name), str(out), sep)
    _after_submit(ctx, as_json, job_id, wait, f"exporting {ns}/{name} to {out} on the server")


@data_app.command("history")
def history(
    ctx: typer.Context, limit: LimitOpt = 10, job_id: MaybeJobIdOpt = None, as_json: JsonOpt = False
) -> None:
    """Recent successful uploads."""
    records = state(ctx).client().data.upload_history(limit=limit, job_id=job_id)
    if wants_json(ctx, as_json):
        print_json(records)
        return
    rows = [
        {"job_id": job, **(entry.get("upload_info") or {})} for item in records for job, entry in item.items()
    ]
    columns = ("job_id", "namespace", "table_name", "partition", "upload_count")
    state(ctx).out.print(records_table(rows, columns, title="uploads"))


@data_app.command("demo")
def demo_data(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the CSV files.")],
    synthetic_rows: Annotated[
        int | None, typer.Option("--synthetic-rows", help="Also a synthetic set.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the demo data sets (FATE's breast_hetero_* and friends) as CSV files."""
    paths = _runtime.write_demo(out, synthetic_rows)
    done(ctx, as_json, [str(p) for p in paths], "\n".join(["wrote:", *(f"  {p}" for p in paths)]))


def _after_submit(ctx: typer.Context, as_json: bool, job_id: str, wait: bool, what: str) -> None:
    cli = state(ctx)
    if not wait:
        done(ctx, as_json, {"job_id": job_id}, f"job {job_id}: check it with: fedloom job watch {job_id}")
    elif wants_json(ctx, as_json):
        wait_json(cli.client(), job_id)
    else:
        cli.out.print(escape(what))
        watch_job(cli.client(), job_id, cli.out)
        cli.out.print(f"job {escape(job_id)}: done")


@table_app.command("info")
def info(ctx: typer.Context, namespace: NamespaceOpt, table_name: TableOpt, as_json: JsonOpt = False) -> None:
    """Whether a table exists, its row count, partitions and schema."""
    data = state(ctx).client().table.info(namespace, table_name)
    if wants_json(ctx, as_json):
        print_json(data)
    else:
        state(ctx).out.print(kv_table(data, title=f"{namespace}/{table_name}"))


@table_app.command("delete")
def delete(
    ctx: typer.Context, namespace: NamespaceOpt, table_name: TableOpt, as_json: JsonOpt = False
) -> None:
    """Delete a table."""
    data = state(ctx).client().table.delete(namespace, table_name)
    done(ctx, as_json, data, f"table {namespace}/{table_name} deleted")


@table_app.command("preview")
def preview(
    ctx: typer.Context,
    namespace: NamespaceOpt,
    table_name: TableOpt,
    limit: LimitOpt = 10,
    as_json: JsonOpt = False,
) -> None:
    """The first rows of a table."""
    data = state(ctx).client().table.preview(namespace, table_name, limit)
    if wants_json(ctx, as_json):
        print_json(data)
        return
    state(ctx).out.print(_preview_table(data, f"{namespace}/{table_name}", fit_columns(state(ctx).out)))


@table_app.command("list")
def list_tables(
    ctx: typer.Context,
    job_id: JobIdOpt,
    role: Annotated[str, typer.Option("-r", "--role")],
    party_id: Annotated[int, typer.Option("-p", "--party-id")],
    as_json: JsonOpt = False,
) -> None:
    """Input and output tables of each component of a job at one party."""
    data = state(ctx).client().table.list(job_id, role, party_id)
    if wants_json(ctx, as_json):
        print_json(data)
    else:
        state(ctx).out.print_json(data=data)


def _preview_table(data: Any, title: str, max_columns: int) -> Any:
    """Previews come as `{header, data}` or as a list of row dicts; anything else is shown as JSON."""
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        header = data.get("header") or data.get("columns") or []
        return rows_table(header, data["data"], title=title, max_columns=max_columns)
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return records_table(data, list(data[0]), title=title)
    return kv_table({"preview": data}, title=title)


__all__ = ["data_app", "table_app"]
