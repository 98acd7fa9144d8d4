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
# Bounds that keep a hostile file from costing more than its size: an id or column name longer than
# MAX_NAME_CHARS, a physical line longer than MAX_LINE_BYTES or more than MAX_COLUMNS columns is refused.
MAX_NAME_CHARS = 1024
MAX_LINE_BYTES = 16 * 1024 * 1024
MAX_COLUMNS = 100_000
_SHOWN = 40  # characters of a cell quoted in an error message
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

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
    rows, non-numeric or infinite values (NaN and the NULL_TOKENS mean missing), duplicate, empty or
    overlong ids, duplicate, empty or overlong column names, text that is not UTF-8 (UTF-16 included),
    lines ended by a bare CR, and lines or fields beyond the bounds above.
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
        ids = _checked_ids(source, delimiter, head, table.column(id_index), names[id_index])
    feature_index = [j for j in range(len(names)) if j != id_index]
    features = float_matrix([table.column(j) for j in feature_index], table.num_rows)
    _check_finite(source, delimiter, head, features, [names[j] for j in feature_index])
    return Frame(
        ids=ids,
        features=features,
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
    if len(names) > MAX_COLUMNS:
        raise InvalidInput(f"header: {len(names)} columns, at most {MAX_COLUMNS} are allowed")
    first_at: dict[str, int] = {}
    for col, name in enumerate(names, start=1):
        if not name:
            raise InvalidInput(f"header: column {col} has an empty name")
        if len(name) > MAX_NAME_CHARS:
            raise InvalidInput(
                f"header: column {col} has a name of {len(name)} characters, "
                f"at most {MAX_NAME_CHARS} are allowed"
            )
        if name in first_at:
            raise InvalidInput(f"header: duplicate column name {name!r} (columns {first_at[name]} and {col})")
        first_at[name] = col


def _id_index(names: list[str], id_column: str | None) -> int:
    if id_column is None:
        return 0
    if id_column not in names:
        raise InvalidInput(f"id column {_shown(id_column)} is not in the header {_shown(str(names))}")
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


def _checked_ids(source: Source, delimiter: str, head: bool, column: Any, name: str) -> ObjArray:
    ids: ObjArray = column.to_numpy(zero_copy_only=False).astype(object, copy=False)
    empty = np.flatnonzero(pc.equal(column, "").to_numpy(zero_copy_only=False))
    if empty.size:
        line = _line_numbers(source, delimiter, head, [int(empty[0])])[0]
        raise InvalidInput(f"line {line}: empty id")
    lengths = pc.utf8_length(column).to_numpy(zero_copy_only=False)
    if lengths.size and int(lengths.max()) > MAX_NAME_CHARS:
        row = int(np.argmax(lengths > MAX_NAME_CHARS))
        line = _line_numbers(source, delimiter, head, [row])[0]
        raise InvalidInput(
            f"line {line}, column {_name(name)}: an id of {int(lengths[row])} characters, "
            f"at most {MAX_NAME_CHARS} are allowed"
        )
    if len(pc.unique(column)) < len(ids):
        first, again = _first_duplicate(ids)
        lines = _line_numbers(source, delimiter, head, [first, again])
        raise InvalidInput(f"duplicate id {_shown(ids[first])} (lines {lines[0]} and {lines[1]})")
    return ids


def _check_finite(source: Source, delimiter: str, head: bool, features: Any, names: list[str]) -> None:
    """Infinite values (`inf`, or a number too large for float64) are refused: no model can use them."""
    bad = np.isinf(features)
    if not bad.any():
        return
    row, col = (int(v) for v in np.argwhere(bad)[0])
    line = _line_numbers(source, delimiter, head, [row])[0]
    raise InvalidInput(
        f"line {line}, column {_name(names[col])}: the value is infinite (or too large for a "
        "64-bit float); use a finite number, or leave the cell empty for a missing value"
    )


def _name(name: str) -> str:
    """A column name as shown in a message: bare, cut to a few dozen characters."""
    return name if len(name) <= _SHOWN else f"{name[:_SHOWN]}..."


def _shown(value: object) -> str:
    """A cell or name as quoted in a message: repr, cut to a few dozen characters."""
    text = str(value)
    return repr(text) if len(text) <= _SHOWN else f"{text[:_SHOWN]!r}... ({len(text)} characters)"


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
                return InvalidInput(f"line {line}, column {_name(names[j])}: {_shown(value)} is not a number")
    return InvalidInput(f"cannot parse the CSV: {arrow_message[:200]}")


def _data_records(source: Source, delimiter: str, head: bool) -> Iterator[tuple[int, list[str]]]:
    records = _records(source, delimiter)
    if head:
        next(records, None)
    return (r for r in records if r[1])


def _records(source: Source, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(physical line number where each record ends, its fields); blank lines give []."""
    lines = _TextLines(source)
    reader = csv.reader(lines, delimiter=delimiter, strict=False)
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise lines.error(str(exc), delimiter) from exc
        yield reader.line_num, fields


class _TextLines:
    """The source as decoded physical lines, remembering where it is so that errors can say so.

    Decoding line by line (not through TextIOWrapper) lets a bad byte be reported with its line."""

    def __init__(self, source: Source) -> None:
        self._source = source
        self.number = 0
        self.text = ""

    def __iter__(self) -> Iterator[str]:
        with self._source.open("rb") if isinstance(self._source, Path) else io.BytesIO(self._source) as raw:
            while chunk := raw.readline(MAX_LINE_BYTES + 1):
                self.number += 1
                if len(chunk) > MAX_LINE_BYTES:
                    raise InvalidInput(f"line {self.number} is longer than {MAX_LINE_BYTES} bytes")
                if self.number == 1 and chunk.startswith(_UTF16_BOMS):
                    raise InvalidInput(
                        "line 1: the file is UTF-16 (it starts with a UTF-16 byte-order mark); "
                        "save it as UTF-8"
                    )
                if b"\x00" in chunk:
                    raise InvalidInput(
                        f"line {self.number}, byte {chunk.index(0) + 1}: a NUL byte; is the file "
                        "UTF-16? save it as UTF-8 text"
                    )
                try:
                    self.text = chunk.decode("utf-8-sig" if self.number == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    raise InvalidInput(
                        f"line {self.number} is not valid UTF-8 (byte {exc.start + 1})"
                    ) from exc
                yield self.text

    def error(self, message: str, delimiter: str) -> InvalidInput:
        """The csv module's refusal, with the line and column it happened at."""
        if "new-line character" in message:
            column = self.text.find("\r") + 1
            return InvalidInput(
                f"line {self.number}, column {column}: a carriage return (CR) without a line "
                "feed; save the file with LF or CRLF line endings"
            )
        if "field larger than field limit" in message:
            sizes = [len(f) for f in self.text.split(delimiter)]
            column = 1 + max(range(len(sizes)), key=sizes.__getitem__)
            return InvalidInput(
                f"line {self.number}, column {column}: a field of more than "
                f"{csv.field_size_limit()} characters"
            )
        return InvalidInput(f"line {self.number}: {message}")


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
