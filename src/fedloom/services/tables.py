"""Table use cases: upload (from the client or a server path), download, info, delete, preview, history."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from fedloom.config import Settings
from fedloom.dsl import new_job_id
from fedloom.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fedloom.ids import TaskKey
from fedloom.paths import confine, is_reserved_namespace, staging_dir
from fedloom.scheduler.status import JobStatus, TaskStatus
from fedloom.services._json import JsonObject, JsonValue, bounded
from fedloom.storage import staging
from fedloom.storage.csv_import import read_csv
from fedloom.storage.frame import json_safe
from fedloom.storage.staging import StagingFile
from fedloom.storage.tables import TableStore, check_name
from fedloom.store import now_ms
from fedloom.store.jobs import JobStore
from fedloom.store.models import JobRow, TaskRow
from fedloom.store.tracking import TrackingStore

UPLOAD_COMPONENT = "upload_0"
UPLOAD_MODEL_ID = "local-0#model"


@dataclass(frozen=True)
class UploadRequest:
    namespace: str
    table_name: str
    head: bool = True
    partition: int = 4
    delimiter: str = ","
    drop: bool = False
    extend_sid: bool = False
    id_column: str | None = None
    file_name: str = ""


@dataclass(frozen=True)
class Uploaded:
    job_id: str
    namespace: str
    table_name: str
    count: int
    partitions: int


@dataclass(frozen=True)
class Downloaded:
    output_path: str  # as the caller gave it (plus the file name for a directory), never the server's path
    count: int


@dataclass(frozen=True)
class UploadRecord:
    job_id: str
    upload_info: JsonObject
    notes: str
    schema: JsonObject


@dataclass(frozen=True)
class TableDetails:
    count: int
    partitions: int
    schema: JsonObject


@dataclass(frozen=True)
class Preview:
    header: list[str]
    rows: list[list[JsonValue]]
    count: int


@dataclass(frozen=True)
class OutputTable:
    namespace: str
    name: str
    data_name: str


# Pseudo-file systems are never data, whatever import_dirs says (/proc/self/environ holds the server's keys).
_PSEUDO_FS = (Path("/proc"), Path("/sys"), Path("/dev"))
_BAD_PATH_CHARS = frozenset("\\" + "".join(map(chr, range(32))) + "\x7f")


def check_writable(namespace: str) -> None:
    """Refuse namespaces the server writes itself (job outputs...): the API may not create or remove them."""
    if is_reserved_namespace(namespace):
        raise PermissionDenied(
            f"namespace: {namespace!r} is reserved for the server's own tables "
            "(output_data_*, fedloom_*); choose another namespace"
        )


class TableService:
    """A party's tables as the API sees them: uploads are recorded as FATE's one-task `local` jobs."""

    def __init__(
        self, settings: Settings, tables: TableStore, jobs: JobStore, tracking: TrackingStore
    ) -> None:
        self._settings = settings
        self._tables = tables
        self._jobs = jobs
        self._tracking = tracking

    def check_upload_target(self, req: UploadRequest) -> None:
        """Everything about an upload's target that can be refused before its bytes are received."""
        check_name("namespace", req.namespace)
        check_name("table_name", req.table_name)
        check_writable(req.namespace)
        if not 1 <= req.partition <= 1024:
            raise InvalidInput(f"partition: must be between 1 and 1024, got {req.partition}")
        if self._tables.exists(req.namespace, req.table_name) and not req.drop:
            raise Conflict(
                f"The data table {req.namespace}.{req.table_name} already exists. If you still "
                "want to continue uploading, please add the parameter --drop (drop=1)"
            )

    def new_staging_file(self) -> StagingFile:
        return StagingFile(staging_dir(self._settings.resolved_data_dir))

    def import_server_file(self, raw: str) -> StagingFile:
        """A staging copy of a file on the server's disk, which must lie inside the setting `import_dirs`.

        The resolved real path is checked before the file is opened, so a refusal says nothing about whether
        the file exists; the final component is opened without following a symlink, and where the OS tells
        (Linux) the opened file's real path is checked again. Parsing then reads only the private copy."""
        s = self._settings
        path = self._confined_import(raw, raw)
        try:
            fd = staging.open_regular(path)
        except FileNotFoundError as exc:
            raise NotFound(f"file: {raw!r} does not exist in the import directories") from exc
        except OSError as exc:
            reason = "is a symlink" if exc.errno == errno.ELOOP else "cannot be read by the server"
            raise InvalidInput(f"file: {raw!r} {reason}") from exc
        try:
            real = staging.fd_path(fd)
            if real is not None:
                self._confined_import(str(real), raw)
            copy = self.new_staging_file()
            try:
                staging.copy_into(fd, copy, s.max_body_bytes, "max_body_bytes")
            except BaseException:
                copy.close()
                raise
            return copy
        finally:
            os.close(fd)

    def _confined_import(self, path: str, shown: str) -> Path:
        s = self._settings
        refusal = PermissionDenied(
            f"file: {shown!r} is outside the directories the setting 'import_dirs' allows"
            + ("" if s.import_dirs else " (none are configured)")
        )
        try:
            resolved = confine(
                path, s.import_dirs, field="file", setting="import_dirs", data_dir=s.resolved_data_dir
            )
        except PermissionDenied as exc:
            raise refusal from exc
        if any(resolved.is_relative_to(root) for root in _PSEUDO_FS):
            raise refusal
        return resolved

    def download(self, namespace: str, name: str, output_path: str, delimiter: str) -> Downloaded:
        """data/download: write the table as CSV inside the setting `export_dir` (relative paths are relative
        to it; a directory gets `<namespace>_<name>.csv`). The answer shows the caller's path, not the server's."""
        if not self._tables.exists(namespace, name):
            raise NotFound(f"table {namespace}.{name} does not exist")
        target, shown = self._export_target(namespace, name, output_path)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            with staging.replacing(target.parent, target.name) as stream:
                count = self._tables.export_csv(namespace, name, stream, delimiter=delimiter)
        except IsADirectoryError as exc:
            raise InvalidInput(f"output_path: {shown!r} is a directory") from exc
        except OSError as exc:
            raise InvalidInput(f"output_path: {shown!r} cannot be written") from exc
        return Downloaded(shown, count)

    def _export_target(self, namespace: str, name: str, raw: str) -> tuple[Path, str]:
        s = self._settings
        if not raw or any(ch in raw for ch in _BAD_PATH_CHARS):
            raise InvalidInput(
                "output_path: empty, or contains a backslash or a control character "
                "(paths on the server use '/')"
            )
        root = staging.owner_only_dir(s.resolved_export_dir)
        data = s.resolved_data_dir
        candidate = Path(raw).expanduser()
        if not candidate.is_absolute():
            candidate = root / candidate
        shown = raw
        if raw.endswith("/") or _is_dir(candidate):
            file_name = f"{namespace}_{name}.csv"
            candidate, shown = candidate / file_name, f"{raw.rstrip('/')}/{file_name}"
        # The export dir may live in the data dir (the default); an export dir that contains the data dir
        # must not open the data dir's own files.
        exception = root if root != data and root.is_relative_to(data) else None
        try:
            target = confine(
                candidate,
                [root],
                field="output_path",
                setting="export_dir",
                data_dir=data,
                data_dir_exception=exception,
            )
        except PermissionDenied as exc:
            raise PermissionDenied(
                f"output_path: {raw!r} is outside the directory the setting 'export_dir' allows"
            ) from exc
        return target, shown

    def upload(self, req: UploadRequest, content: bytes | Path) -> Uploaded:
        """Parse and store the CSV now (errors name line and column; nothing is left behind on error),
        and record it as FATE's one-component `local` upload job so clients can poll it."""
        self.check_upload_target(req)
        frame = read_csv(
            content,
            head=req.head,
            delimiter=req.delimiter,
            id_column=req.id_column,
            extend_sid=req.extend_sid,
        )
        info = self._tables.write(
            req.namespace,
            req.table_name,
            frame,
            partitions=req.partition,
            overwrite=req.drop,
            extra_schema={"delimiter": req.delimiter},
        )
        job_id = new_job_id()
        self._record_upload_job(job_id, req, info.count)
        return Uploaded(job_id, req.namespace, req.table_name, info.count, info.partitions)

    def _record_upload_job(self, job_id: str, req: UploadRequest, count: int) -> None:
        t = now_ms()
        params = {
            "namespace": req.namespace,
            "table_name": req.table_name,
            "head": int(req.head),
            "partition": req.partition,
            "id_delimiter": req.delimiter,
            "file": req.file_name,
        }
        dsl = {"components": {UPLOAD_COMPONENT: {"module": "Upload", "output": {"data": ["data"]}}}}
        conf = {
            "dsl_version": 2,
            "initiator": {"role": "local", "party_id": 0},
            "role": {"local": [0]},
            "component_parameters": {"role": {"local": {"0": {UPLOAD_COMPONENT: params}}}},
        }
        job = JobRow(
            job_id=job_id,
            role="local",
            party_id=0,
            is_initiator=True,
            initiator_role="local",
            initiator_party_id=0,
            status=JobStatus.SUCCESS,
            tag="job_end",
            description="upload",
            status_message="",
            dsl=dsl,
            runtime_conf=conf,
            runtime_conf_on_party={"job_parameters": {}},
            train_runtime_conf={},
            roles={"local": [0]},
            progress=100,
            cancel_signal=False,
            cores=0,
            resource_in_use=False,
            create_time=t,
            update_time=t,
            start_time=t,
            end_time=t,
            elapsed=0,
        )
        task = TaskRow(
            job_id=job_id,
            component_name=UPLOAD_COMPONENT,
            task_version=0,
            role="local",
            party_id=0,
            task_id=f"{job_id}_{UPLOAD_COMPONENT}",
            component_module="Upload",
            status=TaskStatus.SUCCESS,
            party_status=TaskStatus.SUCCESS,
            progress=100,
            create_time=t,
            update_time=t,
            start_time=t,
            end_time=t,
            elapsed=0,
        )
        self._jobs.create_job([job], [task])
        ref = TaskKey(job_id, UPLOAD_COMPONENT, 0, "local", 0)
        self._tracking.save_output_data(ref, "data", req.namespace, req.table_name)
        self._tracking.save_summary(
            ref,
            {
                "upload_info": {
                    "table_name": req.table_name,
                    "namespace": req.namespace,
                    "partition": req.partition,
                    "upload_count": count,
                }
            },
        )

    def upload_history(self, job_id: str | None, limit: int) -> list[UploadRecord]:
        given = self._jobs.query_jobs(
            role="local", party_id=0, description="upload", **({"job_id": job_id} if job_id else {})
        )
        out = []
        for row in given[: bounded(limit)]:
            summary = self._tracking.summary(row.job_id, UPLOAD_COMPONENT, "local", 0) or {}
            info = summary.get("upload_info", {})
            schema: JsonObject = {}
            if self._tables.exists(info.get("namespace", "-"), info.get("table_name", "-")):
                schema = json_safe(self._tables.info(info["namespace"], info["table_name"]).schema)
            out.append(UploadRecord(row.job_id, info, row.description, schema))
        return out

    def table_info(self, namespace: str, name: str) -> TableDetails | None:
        """The table's size and schema; None if it does not exist."""
        if not self._tables.exists(namespace, name):
            return None
        info = self._tables.info(namespace, name)
        return TableDetails(info.count, info.partitions, json_safe(info.schema))

    def delete(self, namespace: str, name: str) -> None:
        check_writable(namespace)
        if not self._tables.delete(namespace, name):
            raise NotFound(f"no find table {namespace}.{name}")

    def preview(self, namespace: str, name: str, limit: int) -> Preview:
        header, rows = self._tables.preview(namespace, name, limit)
        return Preview(header, rows, self._tables.info(namespace, name).count)

    def job_outputs(self, job_id: str, role: str, party_id: int) -> dict[str, list[OutputTable]]:
        """Per component of the job at this party, the tables it wrote."""
        return {
            task.component_name: [
                OutputTable(r.table_namespace, r.table_name, r.data_name)
                for r in self._tracking.output_data(job_id, task.component_name, role, party_id)
            ]
            for task in self._jobs.tasks(job_id, role=role, party_id=party_id)
        }


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long, a loop: not a directory we could write into anyway
        return False


__all__ = [
    "Downloaded",
    "OutputTable",
    "Preview",
    "StagingFile",
    "TableDetails",
    "TableService",
    "UPLOAD_COMPONENT",
    "UPLOAD_MODEL_ID",
    "UploadRecord",
    "UploadRequest",
    "Uploaded",
    "check_writable",
]
