"""A party's tables on disk: one directory of row-range Parquet partitions per (namespace, name)."""

from __future__ import annotations

import builtins
import contextlib
import json
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from fedloom.errors import Conflict, InvalidInput, NotFound
from fedloom.storage._arrow import frame_to_table, read_roles, table_to_frame
from fedloom.storage.csv_import import write_csv
from fedloom.storage.frame import Frame

INFO_KEY = b"fedloom.table"
MAX_PARTITIONS = 1024

# A leading dot is refused too: the store keeps its temporary and trash directories under dot names.
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}")
# Keys of TableInfo.schema that describe the stored columns; callers may not override them.
_DERIVED_KEYS = frozenset({"header", "sid", "id_name", "label_name", "feature_names", "meta"})


@dataclass(frozen=True)
class TableInfo:
    """What `table_info` shows; `schema` has header (columns after the id), sid, id_name,
    label_name, feature_names, delimiter, meta, plus whatever the writer added (extra_schema)."""

    namespace: str
    name: str
    count: int
    partitions: int
    schema: dict[str, Any]
    create_time: float


def check_name(field: str, value: str) -> str:
    """`value` if it is a safe table or namespace name, else InvalidInput naming `field`."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise InvalidInput(
            f"{field} {value!r} is invalid: use 1-200 letters, digits, '_', '-' or '.', not starting with '.'"
        )
    return value


class TableStore:
    """Tables under `root/<namespace>/<name>/part-NNNNN.parquet`.

    A table directory appears only by an atomic rename of a finished temporary directory, so a
    reader sees a whole table or none (an overwrite moves the old one aside first, so for an instant
    the table is absent rather than mixed). Each partition carries the column roles and the table info
    in its Arrow schema metadata (JSON), so a table is self-describing without a side file.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def exists(self, namespace: str, name: str) -> bool:
        return self._dir(namespace, name).is_dir()

    def write(
        self,
        namespace: str,
        name: str,
        frame: Frame,
        *,
        partitions: int = 4,
        overwrite: bool = False,
        extra_schema: dict[str, Any] | None = None,
    ) -> TableInfo:
        """Store `frame` in `partitions` row ranges. Existing table without `overwrite` -> Conflict."""
        final = self._dir(namespace, name)
        if not overwrite and final.exists():
            raise _exists_error(namespace, name)
        _check_partitions(partitions)
        info = TableInfo(namespace, name, frame.count, partitions, _schema(frame, extra_schema), time.time())
        table = _with_info(frame_to_table(frame), info)
        final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=final.parent))
        try:
            _write_parts(staging, table, partitions)
            _publish(staging, final, overwrite)
        finally:
            # After a successful publish the staging directory is gone; otherwise drop the half-write.
            shutil.rmtree(staging, ignore_errors=True)
        return info

    def read(self, namespace: str, name: str) -> Frame:
        with self._reading(namespace, name) as parts:
            table = pa.concat_tables([pq.read_table(path) for path in parts])
        return table_to_frame(table)

    def info(self, namespace: str, name: str) -> TableInfo:
        with self._reading(namespace, name) as parts:
            schema = pq.read_schema(parts[0])
        return _info_from(namespace, name, schema)

    def list(self, namespace: str | None = None) -> builtins.list[TableInfo]:
        """Tables of `namespace` (or of all namespaces), sorted by namespace then name."""
        if namespace is not None:
            namespaces = [check_name("namespace", namespace)]
        else:
            namespaces = _entries(self.root)
        infos = []
        for ns in namespaces:
            for name in _entries(self.root / ns):
                with contextlib.suppress(NotFound):  # deleted since we listed the directory
                    infos.append(self.info(ns, name))
        return infos

    def preview(
        self, namespace: str, name: str, limit: int = 10
    ) -> tuple[builtins.list[str], builtins.list[builtins.list[Any]]]:
        """Header and the first `limit` rows, reading only as many rows as needed."""
        if limit < 0:
            raise InvalidInput(f"limit must be >= 0, got {limit}")
        with self._reading(namespace, name) as parts:
            table = _head(parts, limit)
        frame = table_to_frame(table)
        return frame.header(), frame.rows()

    def delete(self, namespace: str, name: str) -> bool:
        """Remove the table; False if there was none. The rename makes it vanish at once."""
        final = self._dir(namespace, name)
        trash = final.parent / f".trash-{name}-{uuid.uuid4().hex}"
        try:
            final.rename(trash)
        except FileNotFoundError:
            return False
        shutil.rmtree(trash, ignore_errors=True)
        return True

    def export_csv(
        self,
        namespace: str,
        name: str,
        target: Path | str | BinaryIO,
        *,
        delimiter: str = ",",
        header: bool = True,
    ) -> int:
        """Write the table as CSV (data/download); returns the number of rows written."""
        return write_csv(self.read(namespace, name), target, delimiter=delimiter, header=header)

    def clean_leftovers(self, older_than: float = 0.0) -> int:
        """Remove the temporary and trash directories a crash left behind (call before serving);
        `older_than` (seconds): only those older than that (replicas may be writing the others)."""
        removed = 0
        cutoff = time.time() - older_than
        if not self.root.is_dir():
            return 0
        for ns in self.root.iterdir():
            if not ns.is_dir() or ns.is_symlink():
                continue
            for entry in ns.iterdir():
                if (
                    entry.name.startswith((".tmp-", ".trash-"))
                    and entry.is_dir()
                    and not entry.is_symlink()
                    and (older_than <= 0 or entry.lstat().st_mtime < cutoff)
                ):
                    shutil.rmtree(entry, ignore_errors=True)
                    removed += 1
        return removed

    def _dir(self, namespace: str, name: str) -> Path:
        return self.root / check_name("namespace", namespace) / check_name("table_name", name)

    @contextlib.contextmanager
    def _reading(self, namespace: str, name: str) -> Iterator[builtins.list[Path]]:
        """The partition files, in order; a table deleted meanwhile is NotFound, not an OSError."""
        parts = sorted(self._dir(namespace, name).glob("part-*.parquet"))
        if not parts:
            raise _missing_error(namespace, name)
        try:
            yield parts
        except FileNotFoundError as exc:
            raise _missing_error(namespace, name) from exc


def _exists_error(namespace: str, name: str) -> Conflict:
    return Conflict(f"table {namespace}.{name} already exists; pass drop=1 to replace it")


def _missing_error(namespace: str, name: str) -> NotFound:
    return NotFound(f"table {namespace}.{name} does not exist")


def _check_partitions(partitions: int) -> None:
    if not 1 <= partitions <= MAX_PARTITIONS:
        raise InvalidInput(f"partition must be between 1 and {MAX_PARTITIONS}, got {partitions}")


def _schema(frame: Frame, extra_schema: dict[str, Any] | None) -> dict[str, Any]:
    extra = dict(extra_schema or {})
    reserved = sorted(_DERIVED_KEYS & extra.keys())
    if reserved:
        raise InvalidInput(f"extra_schema may not set {reserved}: they are derived from the data")
    schema: dict[str, Any] = {"delimiter": ",", **extra}
    schema.update(
        header=frame.header()[1:],
        sid=frame.id_name,
        id_name=frame.id_name,
        label_name=frame.label_name if frame.label is not None else None,
        feature_names=list(frame.feature_names),
        meta=frame.meta,
    )
    return schema


def _with_info(table: pa.Table, info: TableInfo) -> pa.Table:
    doc = {
        "count": info.count,
        "partitions": info.partitions,
        "schema": info.schema,
        "create_time": info.create_time,
    }
    try:
        encoded = json.dumps(doc).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"extra_schema must be JSON values: {exc}") from exc
    return table.replace_schema_metadata({**table.schema.metadata, INFO_KEY: encoded})


def _info_from(namespace: str, name: str, schema: pa.Schema) -> TableInfo:
    read_roles(schema)  # refuses a foreign Parquet file with a clear message
    raw = (schema.metadata or {}).get(INFO_KEY)
    if raw is None:
        raise InvalidInput(f"table {namespace}.{name} has no fedloom table info in its Parquet metadata")
    doc = json.loads(raw)
    return TableInfo(
        namespace=namespace,
        name=name,
        count=int(doc["count"]),
        partitions=int(doc["partitions"]),
        schema=dict(doc["schema"]),
        create_time=float(doc["create_time"]),
    )


def _write_parts(directory: Path, table: pa.Table, partitions: int) -> None:
    # Dictionary encoding only pays for repeated labels in extra columns; on float features and
    # unique ids it costs 4x the write time for nothing.
    dictionary_columns = [f.name for f in table.schema if pa.types.is_string(f.type)][1:]
    for index, (start, stop) in enumerate(_row_ranges(table.num_rows, partitions)):
        path = directory / f"part-{index:05d}.parquet"
        pq.write_table(table.slice(start, stop - start), path, use_dictionary=dictionary_columns)


def _row_ranges(n_rows: int, partitions: int) -> builtins.list[tuple[int, int]]:
    base, rest = divmod(n_rows, partitions)
    bounds = [0]
    for index in range(partitions):
        bounds.append(bounds[-1] + base + (1 if index < rest else 0))
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _publish(staging: Path, final: Path, overwrite: bool) -> None:
    trash = final.parent / f".trash-{final.name}-{uuid.uuid4().hex}"
    if overwrite:
        with contextlib.suppress(FileNotFoundError):  # nothing to replace
            final.rename(trash)
    try:
        staging.rename(final)
    except OSError as exc:
        # Renaming onto a non-empty directory fails: another writer published this table first.
        if final.exists():
            shutil.rmtree(trash, ignore_errors=True)
            raise _exists_error(final.parent.name, final.name) from exc
        _restore(trash, final)
        raise
    shutil.rmtree(trash, ignore_errors=True)


def _restore(trash: Path, final: Path) -> None:
    """Put back the table an overwrite moved aside, when the new one could not take its place."""
    with contextlib.suppress(FileNotFoundError):
        trash.rename(final)


def _head(parts: builtins.list[Path], limit: int) -> pa.Table:
    """The first `limit` rows over the partitions, without reading whole partitions."""
    batches: builtins.list[pa.RecordBatch] = []
    remaining = limit
    for path in parts:
        with pq.ParquetFile(path) as part:
            for batch in part.iter_batches(batch_size=max(limit, 1)):
                if remaining <= 0:
                    break
                batches.append(batch.slice(0, remaining))
                remaining -= min(batch.num_rows, remaining)
        if remaining <= 0:
            break
    return pa.Table.from_batches(batches, schema=pq.read_schema(parts[0]))


def _entries(directory: Path) -> builtins.list[str]:
    """Sorted names of table or namespace directories (temporary and foreign entries skipped)."""
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.iterdir() if p.is_dir() and _NAME.fullmatch(p.name))


__all__ = ["TableInfo", "TableStore", "check_name"]
