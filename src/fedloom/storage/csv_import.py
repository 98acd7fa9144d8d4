"""CSV in and out: parse an uploaded CSV into a Frame (fast, Arrow) and write a Frame as CSV."""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from fedloom.errors import InvalidInput
from fedloom.storage._arrow import float_matrix, frame_to_table
from fedloom.storage.frame import Frame, ObjArray

# Cells that mean "missing" (NaN) in a numeric column. Ids are never null: an id of "NA" stays "NA".
NULL_TOKENS = ("", "NA", "N/A", "NaN", "nan", "null", "NULL", "None")
EXTEND_SID_NAME = "extend_sid"

# What Arrow's float parser accepts (checked against pyarrow 26): used only to locate a bad cell
# after Arrow has refused the file, so the message can name its line and column.
_NUMBER = re.compile(r"\s*[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|inf(inity)?|nan)\s*", re.IGNORECASE)
_ARROW_COLUMN = re.compile(r"In CSV column #(\d+)")

Source = Path | bytes


def read_csv(
    source: Source,
    *,
    head: bool = True,
    delimiter: str = ",",
    id_column: str | None = None,
    extend_sid: bool = False,
) -> Frame:
    """Parse CSV bytes or a file: ids as strings, every other column a float64 feature.

    Refuses (InvalidInput, naming line and column) empty files, files without data rows, ragged
    rows, non-numeric values, duplicate or empty ids and duplicate or empty column names.
    """
    _check_options(delimiter, head, id_column, extend_sid)
    if isinstance(source, Path) and not source.is_file():
        raise InvalidInput(f"file {source} does not exist")
    names = _column_names(source, delimiter, head)
    id_index = None if extend_sid else _id_index(names, id_column)
    table = _parse(source, delimiter, head, names, id_index)
    if table.num_rows == 0:
        raise InvalidInput("the CSV has no data rows")
    if id_index is None:
        ids = np.arange(table.num_rows).astype(str).astype(object)
    else:
        ids = _checked_ids(source, delimiter, head, table.column(id_index))
    feature_index = [j for j in range(len(names)) if j != id_index]
    return Frame(
        ids=ids,
        features=float_matrix([table.column(j) for j in feature_index], table.num_rows),
        feature_names=[names[j] for j in feature_index],
        id_name=EXTEND_SID_NAME if id_index is None else names[id_index],
    )


def write_csv(
    frame: Frame, target: Path | str | BinaryIO, *, delimiter: str = ",", header: bool = True
) -> int:
    """Write `frame` in `header()` order (missing = empty cell); returns the number of rows written.

    A path is written through a temporary file and renamed, so readers never see half a file.
    """
    check_delimiter(delimiter)
    table = frame_to_table(frame, nan_as_null=True)
    if not isinstance(target, str | Path):
        _write_stream(table, target, delimiter, header)
        return frame.count
    path = Path(target)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("wb") as stream:
            _write_stream(table, stream, delimiter, header)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return frame.count


def check_delimiter(delimiter: str) -> None:
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise InvalidInput(f"delimiter must be one character, not a quote or newline; got {delimiter!r}")


def _check_options(delimiter: str, head: bool, id_column: str | None, extend_sid: bool) -> None:
    check_delimiter(delimiter)
    if id_column is not None and extend_sid:
        raise InvalidInput("id_column and extend_sid cannot be used together")
    if id_column is not None and not head:
        raise InvalidInput("id_column needs a header row (head=1)")


def _column_names(source: Source, delimiter: str, head: bool) -> list[str]:
    first = next((r for r in _records(source, delimiter) if r[1]), None)
    if first is None:
        raise InvalidInput("the CSV is empty")
    line, fields = first
    if line != 1:
        # Arrow's skip_rows would count differently from us; a clear refusal beats a shifted header.
        raise InvalidInput("line 1 is empty; the CSV must start with its first row")
    if not head:
        return ["id"] + [f"x{j}" for j in range(len(fields) - 1)]
    names = [f.strip() for f in fields]
    _check_header(names)
    return names


def _check_header(names: list[str]) -> None:
    first_at: dict[str, int] = {}
    for col, name in enumerate(names, start=1):
        if not name:
            raise InvalidInput(f"header: column {col} has an empty name")
        if name in first_at:
            raise InvalidInput(f"header: duplicate column name {name!r} (columns {first_at[name]} and {col})")
        first_at[name] = col


def _id_index(names: list[str], id_column: str | None) -> int:
    if id_column is None:
        return 0
    if id_column not in names:
        raise InvalidInput(f"id column {id_column!r} is not in the header {names}")
    return names.index(id_column)


def _parse(source: Source, delimiter: str, head: bool, names: list[str], id_index: int | None) -> Any:
    # Arrow gets positional names so that its column_types never depend on user-chosen names.
    positional = [f"c{j}" for j in range(len(names))]
    types = {name: pa.float64() for name in positional}
    if id_index is not None:
        types[positional[id_index]] = pa.string()
    try:
        return pacsv.read_csv(
            str(source) if isinstance(source, Path) else pa.py_buffer(source),
            read_options=pacsv.ReadOptions(column_names=positional, skip_rows=1 if head else 0),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types=types, null_values=list(NULL_TOKENS), strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid as exc:
        raise _diagnose(source, delimiter, head, names, id_index, str(exc)) from exc


def _checked_ids(source: Source, delimiter: str, head: bool, column: Any) -> ObjArray:
    ids: ObjArray = column.to_numpy(zero_copy_only=False).astype(object, copy=False)
    empty = np.flatnonzero(pc.equal(column, "").to_numpy(zero_copy_only=False))
    if empty.size:
        line = _line_numbers(source, delimiter, head, [int(empty[0])])[0]
        raise InvalidInput(f"line {line}: empty id")
    if len(pc.unique(column)) < len(ids):
        first, again = _first_duplicate(ids)
        lines = _line_numbers(source, delimiter, head, [first, again])
        raise InvalidInput(f"duplicate id {ids[first]!r} (lines {lines[0]} and {lines[1]})")
    return ids


def _first_duplicate(ids: ObjArray) -> tuple[int, int]:
    seen: dict[str, int] = {}
    for row, value in enumerate(ids.tolist()):
        if value in seen:
            return seen[value], row
        seen[value] = row
    raise AssertionError("no duplicate id although Arrow counted fewer unique ids")


def _line_numbers(source: Source, delimiter: str, head: bool, rows: list[int]) -> list[int]:
    """Physical line numbers of data rows (0-based, blank lines skipped as Arrow skips them)."""
    wanted = set(rows)
    found: dict[int, int] = {}
    for row, (line, _) in enumerate(_data_records(source, delimiter, head)):
        if row in wanted:
            found[row] = line
            if len(found) == len(wanted):
                break
    return [found[r] for r in rows]


def _diagnose(
    source: Source, delimiter: str, head: bool, names: list[str], id_index: int | None, arrow_message: str
) -> InvalidInput:
    """Arrow refused the file without saying where: find the first bad line the slow way."""
    match = _ARROW_COLUMN.search(arrow_message)
    numeric = [j for j in range(len(names)) if j != id_index]
    if match:
        numeric = [j for j in numeric if j == int(match.group(1))]
    width = "header has" if head else "line 1 has"
    for line, fields in _data_records(source, delimiter, head):
        if len(fields) != len(names):
            return InvalidInput(f"line {line} has {len(fields)} fields, {width} {len(names)}")
        for j in numeric:
            value = fields[j]
            if value not in NULL_TOKENS and not _NUMBER.fullmatch(value):
                return InvalidInput(f"line {line}, column {names[j]}: {value!r} is not a number")
    return InvalidInput(f"cannot parse the CSV: {arrow_message}")


def _data_records(source: Source, delimiter: str, head: bool) -> Iterator[tuple[int, list[str]]]:
    records = _records(source, delimiter)
    if head:
        next(records, None)
    return (r for r in records if r[1])


def _records(source: Source, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(physical line number where each record ends, its fields); blank lines give []."""
    reader = csv.reader(_text_lines(source), delimiter=delimiter, strict=False)
    for fields in reader:
        yield reader.line_num, fields


def _text_lines(source: Source) -> Iterator[str]:
    # Decoding line by line (not through TextIOWrapper) lets a bad byte be reported with its line.
    with source.open("rb") if isinstance(source, Path) else io.BytesIO(source) as raw:
        for number, chunk in enumerate(raw, start=1):
            try:
                yield chunk.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidInput(f"line {number} is not valid UTF-8 (byte {exc.start + 1})") from exc


def _write_stream(table: Any, stream: BinaryIO, delimiter: str, header: bool) -> None:
    quoting = "needed" if _needs_quotes(table, delimiter) else "none"
    if header:
        stream.write(_header_line(table.column_names, delimiter).encode())
    options = pacsv.WriteOptions(include_header=False, delimiter=delimiter, quoting_style=quoting)
    pacsv.write_csv(table, stream, options)


def _header_line(names: list[str], delimiter: str) -> str:
    # Arrow always quotes header names; FATE files have a bare header, so write it ourselves.
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerow(names)
    return out.getvalue()


def _needs_quotes(table: Any, delimiter: str) -> bool:
    """Whether some string cell holds a delimiter, quote or newline (Arrow then quotes all strings)."""
    specials = {delimiter, '"', "\n", "\r"}
    for column in table.columns:
        if not pa.types.is_string(column.type):
            continue
        if any(pc.any(pc.match_substring(column, ch)).as_py() for ch in specials):
            return True
    return False
