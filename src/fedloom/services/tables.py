"""Table use cases: upload (from the client or a server path), download, info, delete, preview, history."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedloom.dsl import new_job_id
from fedloom.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fedloom.paths import confine, is_reserved_namespace, staging_dir
from fedloom.services.platform import Platform
from fedloom.storage import staging
from fedloom.storage.csv_import import read_csv
from fedloom.storage.frame import json_safe
from fedloom.storage.staging import StagingFile
from fedloom.storage.tables import check_name
from fedloom.store import now_ms
from fedloom.store.models import JobRow, TaskRow

UPLOAD_COMPONENT = "upload_0"


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


# Pseudo-file systems are never data, whatever import_dirs says (/proc/self/environ holds the server's keys).
_PSEUDO_FS = (Path("/proc"), Path("/sys"), Path("/dev"))
_BAD_PATH_CHARS = frozenset("\\" + "".join(map(chr, range(32))) + "\x7f")


def check_writable(namespace: str) -> None:
    """Refuse namespaces the server writes itself (job outputs...): the API may not create or remove them."""
    if is_reserved_namespace(namespace):
        raise PermissionDenied(f"namespace: {namespace!r} is reserved for the server's own tables "
                               "(output_data_*, fedloom_*); choose another namespace")


def check_upload_target(p: Platform, req: UploadRequest) -> None:
    """Everything about an upload's target that can be refused before its bytes are received."""
    check_name("namespace", req.namespace)
    check_name("table_name", req.table_name)
    check_writable(req.namespace)
    if not 1 <= req.partition <= 1024:
        raise InvalidInput(f"partition: must be between 1 and 1024, got {req.partition}")
    if p.tables.exists(req.namespace, req.table_name) and not req.drop:
        raise Conflict(f"The data table {req.namespace}.{req.table_name} already exists. If you still "
                       "want to continue uploading, please add the parameter --drop (drop=1)")


def new_staging_file(p: Platform) -> StagingFile:
    return StagingFile(staging_dir(p.settings.resolved_data_dir))


def import_server_file(p: Platform, raw: str) -> StagingFile:
    """A staging copy of a file on the server's disk, which must lie inside the setting `import_dirs`.

    The resolved real path is checked before the file is opened, so a refusal says nothing about whether
    the file exists; the final component is opened without following a symlink, and where the OS tells
    (Linux) the opened file's real path is checked again. Parsing then reads only the private copy."""
    s = p.settings
    path = _confined_import(p, raw, raw)
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
            _confined_import(p, str(real), raw)
        copy = new_staging_file(p)
        try:
            staging.copy_into(fd, copy, s.max_body_bytes, "max_body_bytes")
        except BaseException:
            copy.close()
            raise
        return copy
    finally:
        os.close(fd)


def _confined_import(p: Platform, path: str, shown: str) -> Path:
    s = p.settings
    refusal = PermissionDenied(f"file: {shown!r} is outside the directories the setting 'import_dirs' allows"
                               + ("" if s.import_dirs else " (none are configured)"))
    try:
        resolved = confine(path, s.import_dirs, field="file", setting="import_dirs", data_dir=s.resolved_data_dir)
    except PermissionDenied as exc:
        raise refusal from exc
    if any(resolved.is_relative_to(root) for root in _PSEUDO_FS):
        raise refusal
    return resolved


def download(p: Platform, namespace: str, name: str, output_path: str, delimiter: str) -> dict[str, Any]:
    """data/download: write the table as CSV inside the setting `export_dir` (relative paths are relative
    to it; a directory gets `<namespace>_<name>.csv`). The answer shows the caller's path, not the server's."""
    if not p.tables.exists(namespace, name):
        raise NotFound(f"table {namespace}.{name} does not exist")
    target, shown = _export_target(p, namespace, name, output_path)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        with staging.replacing(target.parent, target.name) as stream:
            count = p.tables.export_csv(namespace, name, stream, delimiter=delimiter)
    except IsADirectoryError as exc:
        raise InvalidInput(f"output_path: {shown!r} is a directory") from exc
    except OSError as exc:
        raise InvalidInput(f"output_path: {shown!r} cannot be written") from exc
    return {"output_path": shown, "count": count, "namespace": namespace, "table_name": name}


def _export_target(p: Platform, namespace: str, name: str, raw: str) -> tuple[Path, str]:
    s = p.settings
    if not raw or any(ch in raw for ch in _BAD_PATH_CHARS):
        raise InvalidInput("output_path: empty, or contains a backslash or a control character "
                           "(paths on the server use '/')")
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
        target = confine(candidate, [root], field="output_path", setting="export_dir", data_dir=data,
                         data_dir_exception=exception)
    except PermissionDenied as exc:
        raise PermissionDenied(f"output_path: {raw!r} is outside the directory the setting 'export_dir' "
                               "allows") from exc
    return target, shown


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long, a loop: not a directory we could write into anyway
        return False


def upload(p: Platform, req: UploadRequest, content: bytes | Path) -> dict[str, Any]:
    """Parse and store the CSV now (errors name line and column; nothing is left behind on error),
    and record it as FATE's one-component `local` upload job so clients can poll it."""
    check_upload_target(p, req)
    frame = read_csv(content, head=req.head, delimiter=req.delimiter, id_column=req.id_column,
                     extend_sid=req.extend_sid)
    info = p.tables.write(req.namespace, req.table_name, frame, partitions=req.partition, overwrite=req.drop,
                          extra_schema={"delimiter": req.delimiter})
    job_id = new_job_id()
    _record_upload_job(p, job_id, req, info.count)
    return {
        "job_id": job_id, "code": 0, "message": "success", "namespace": req.namespace,
        "table_name": req.table_name, "count": info.count, "partition": info.partitions,
        "model_info": {"model_id": "local-0#model", "model_version": job_id},
        "board_url": "", "logs_directory": "", "dsl_path": "", "runtime_conf_path": "",
        "runtime_conf_on_party_path": "", "train_runtime_conf_path": "", "pipeline_dsl_path": "",
    }


def _record_upload_job(p: Platform, job_id: str, req: UploadRequest, count: int) -> None:
    t = now_ms()
    params = {"namespace": req.namespace, "table_name": req.table_name, "head": int(req.head),
              "partition": req.partition, "id_delimiter": req.delimiter, "file": req.file_name}
    dsl = {"components": {UPLOAD_COMPONENT: {"module": "Upload", "output": {"data": ["data"]}}}}
    conf = {"dsl_version": 2, "initiator": {"role": "local", "party_id": 0}, "role": {"local": [0]},
            "component_parameters": {"role": {"local": {"0": {UPLOAD_COMPONENT: params}}}}}
    job = JobRow(job_id=job_id, role="local", party_id=0, is_initiator=True, initiator_role="local",
                 initiator_party_id=0, status="success", tag="job_end", description="upload",
                 status_message="", dsl=dsl, runtime_conf=conf, runtime_conf_on_party={"job_parameters": {}},
                 train_runtime_conf={}, roles={"local": [0]}, progress=100, cancel_signal=False, cores=0,
                 resource_in_use=False, create_time=t, update_time=t, start_time=t, end_time=t, elapsed=0)
    task = TaskRow(job_id=job_id, component_name=UPLOAD_COMPONENT, task_version=0, role="local", party_id=0,
                   task_id=f"{job_id}_{UPLOAD_COMPONENT}", component_module="Upload", status="success",
                   party_status="success", progress=100, create_time=t, update_time=t, start_time=t,
                   end_time=t, elapsed=0)
    p.stores.jobs.create_job([job], [task])
    ref = (job_id, UPLOAD_COMPONENT, 0, "local", 0)
    p.stores.tracking.save_output_data(ref, "data", req.namespace, req.table_name)
    p.stores.tracking.save_summary(ref, {"upload_info": {"table_name": req.table_name,
                                                         "namespace": req.namespace,
                                                         "partition": req.partition, "upload_count": count}})


def upload_history(p: Platform, job_id: str | None, limit: int) -> list[dict[str, Any]]:
    filters: dict[str, Any] = {"role": "local", "party_id": 0, "description": "upload"}
    if job_id:
        filters["job_id"] = job_id
    rows = p.stores.jobs.query_jobs(**filters)
    out = []
    for row in rows[: limit if limit > 0 else None]:
        summary = p.stores.tracking.summary(row.job_id, UPLOAD_COMPONENT, "local", 0) or {}
        info = summary.get("upload_info", {})
        schema = {}
        if p.tables.exists(info.get("namespace", "-"), info.get("table_name", "-")):
            schema = json_safe(p.tables.info(info["namespace"], info["table_name"]).schema)
        out.append({row.job_id: {"upload_info": info, "notes": row.description, "schema": schema}})
    return out


def table_info(p: Platform, namespace: str, name: str) -> dict[str, Any]:
    if not p.tables.exists(namespace, name):
        return {"table_name": name, "namespace": namespace, "exist": 0}
    info = p.tables.info(namespace, name)
    return {"table_name": name, "namespace": namespace, "exist": 1, "count": info.count,
            "partition": info.partitions, "schema": json_safe(info.schema), "enable": True, "origin": "upload",
            "extend_sid": False, "address": {"path": f"tables/{namespace}/{name}"}}


def delete_table(p: Platform, namespace: str, name: str) -> dict[str, Any]:
    check_writable(namespace)
    if not p.tables.delete(namespace, name):
        raise NotFound(f"no find table {namespace}.{name}")
    return {"table_name": name, "namespace": namespace}


def preview(p: Platform, namespace: str, name: str, limit: int) -> dict[str, Any]:
    header, rows = p.tables.preview(namespace, name, limit)
    return {"header": header, "data": rows, "count": p.tables.info(namespace, name).count}


def job_tables(p: Platform, job_id: str, role: str, party_id: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for task in p.stores.jobs.tasks(job_id, role=role, party_id=party_id):
        outs = p.stores.tracking.output_data(job_id, task.component_name, role, party_id)
        out[task.component_name] = {"output": [{"namespace": r.table_namespace, "name": r.table_name,
                                                "data_name": r.data_name} for r in outs]}
    return out


__all__ = ["UploadRequest", "check_upload_target", "check_writable", "delete_table", "download",
           "import_server_file", "job_tables", "new_staging_file", "preview", "table_info", "upload",
           "upload_history"]
