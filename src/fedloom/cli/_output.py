"""Rendering: raw JSON for scripts, rich tables for people, one red line for errors."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fedloom.cli._common import state, wants_json

KEEP_WHOLE = frozenset(
    {
        "job_id",
        "component_name",
        "model_id",
        "model_version",
        "table_name",
        "namespace",
        "status",
        "role",
        "party_id",
    }
)
TIME_COLUMNS = frozenset({"create_time", "start_time", "end_time", "update_time"})
MAX_COLUMNS = 12
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
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def records_table(
    records: Sequence[Mapping[str, Any]], columns: Sequence[str], *, title: str | None = None
) -> Table:
    """A table of `columns` (keys without `f_`); ids are never cut, `status` cells are coloured."""
    rows = [strip_f(record) for record in records]
    table = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        whole = column in KEEP_WHOLE
        width = max((len(format_cell(column, row.get(column))) for row in rows), default=0)
        table.add_column(column, no_wrap=whole, min_width=width if whole else None)
    for row in rows:
        table.add_row(*(_styled(column, format_cell(column, row.get(column))) for column in columns))
    return table


def format_cell(column: str, value: Any) -> str:
    """Epoch-millisecond times as local time, elapsed milliseconds as seconds."""
    if value is not None and column in TIME_COLUMNS and isinstance(value, int | float):
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value / 1000))
    if value is not None and column == "elapsed" and isinstance(value, int | float):
        return f"{value / 1000:.1f}s"
    return cell(value)


def _styled(column: str, text: str) -> str:
    return styled_status(text) if column == "status" else escape(text)


def kv_table(data: Mapping[str, Any], *, title: str | None = None) -> Table:
    table = Table(title=title, show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in data.items():
        table.add_row(escape(str(key)), escape(cell(value)))
    return table


def rows_table(
    header: Sequence[Any], rows: Sequence[Any], *, title: str | None = None, max_columns: int = MAX_COLUMNS
) -> Table:
    """Data rows (lists) under `header`; columns past `max_columns` are left out and counted."""
    table = Table(title=title, header_style="bold")
    shown = list(header)[:max_columns]
    for column in shown:
        table.add_column(escape(str(column)))
    for row in rows:
        values = list(row) if isinstance(row, list | tuple) else [row]
        table.add_row(*(escape(cell(v)) for v in values[: len(shown)]))
    if len(header) > len(shown):
        table.caption = f"{len(header) - len(shown)} more columns not shown (--json for all)"
    return table


def fit_columns(console: Console) -> int:
    """How many data columns of short numbers fit the terminal (at least 4)."""
    return max(4, console.width // 9)


def print_error(console: Console, message: str, retcode: int | None) -> None:
    suffix = f" (retcode {retcode})" if retcode is not None else ""
    console.print(f"[bold red]error:[/] [red]{escape(message)}{suffix}[/]", soft_wrap=True)


def done(ctx: typer.Context, as_json: bool, data: Any, message: str) -> None:
    if wants_json(ctx, as_json):
        print_json(data)
    else:
        state(ctx).out.print(escape(message), soft_wrap=True)


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
    "fit_columns",
    "format_cell",
    "kv_table",
    "print_error",
    "print_json",
    "print_or_write",
    "records_table",
    "rows_table",
    "strip_f",
    "styled_status",
]
