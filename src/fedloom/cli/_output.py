"""Rendering: raw JSON for scripts, rich tables for people, one red line for errors."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fedloom.cli._common import state, wants_json

STATUS_STYLES = {
    "success": "green",
    "pass": "green",
    "running": "cyan",
    "waiting": "dim",
    "ready": "dim",
    "failed": "bold red",
    "timeout": "yellow",
    "canceled": "yellow",
}


def print_json(data: Any) -> None:
    """Plain stdout (no rich wrapping or markup), so the output can be piped into `jq`."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def styled_status(status: str) -> str:
    return f"[{STATUS_STYLES.get(status, 'white')}]{escape(status)}[/]"


def strip_f(record: Mapping[str, Any]) -> dict[str, Any]:
    """FATE's `f_`-prefixed record keys without the prefix."""
    return {(k[2:] if k.startswith("f_") else k): v for k, v in record.items()}


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def records_table(
    records: Sequence[Mapping[str, Any]], columns: Sequence[str], *, title: str | None = None
) -> Table:
    """A table of `columns` (keys without `f_`); `status` cells are coloured."""
    table = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        table.add_column(column)
    for record in records:
        row = strip_f(record)
        table.add_row(
            *(styled_status(cell(row.get(c))) if c == "status" else escape(cell(row.get(c))) for c in columns)
        )
    return table


def kv_table(data: Mapping[str, Any], *, title: str | None = None) -> Table:
    table = Table(title=title, show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in data.items():
        table.add_row(escape(str(key)), escape(cell(value)))
    return table


def rows_table(header: Sequence[Any], rows: Sequence[Any], *, title: str | None = None) -> Table:
    table = Table(title=title, header_style="bold")
    for column in header:
        table.add_column(escape(str(column)))
    for row in rows:
        values = row if isinstance(row, list | tuple) else [row]
        table.add_row(*(escape(cell(v)) for v in values))
    return table


def print_error(console: Console, message: str, retcode: int | None) -> None:
    suffix = f" (retcode {retcode})" if retcode is not None else ""
    console.print(f"[bold red]error:[/] [red]{escape(message)}{suffix}[/]", soft_wrap=True)


def done(ctx: typer.Context, as_json: bool, data: Any, message: str) -> None:
    if wants_json(ctx, as_json):
        print_json(data)
    else:
        state(ctx).out.print(escape(message))


def print_or_write(ctx: typer.Context, as_json: bool, data: Any, output_path: Path | None, name: str) -> None:
    if output_path is None:
        if wants_json(ctx, as_json):
            print_json(data)
        else:
            state(ctx).out.print_json(data=data)
        return
    output_path.mkdir(parents=True, exist_ok=True)
    target = output_path / name
    target.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    done(ctx, as_json, {"path": str(target)}, f"written to {target}")


__all__ = [
    "STATUS_STYLES",
    "cell",
    "done",
    "kv_table",
    "print_error",
    "print_json",
    "print_or_write",
    "records_table",
    "rows_table",
    "strip_f",
    "styled_status",
]
