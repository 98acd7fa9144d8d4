"""/v1/data and /v1/table: upload (multipart like fate-client, or a server path), download, tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fedloom.api._deps import body, call, platform
from fedloom.api.envelope import json_body, ok, parse
from fedloom.api.schemas import DownloadBody, HistoryBody, TableBody, TableListBody, UploadConf
from fedloom.errors import InvalidInput, NotFound
from fedloom.services import tables
from fedloom.services.tables import UploadRequest

router = APIRouter()


def _query_conf(request: Request) -> dict[str, Any]:
    """fate-client sends the upload conf as ONE percent-encoded JSON document as the query string."""
    raw = request.url.query
    if not raw:
        return {}
    text = unquote(raw)
    if text.lstrip().startswith("{"):
        try:
            conf = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"upload conf in the query string is not valid JSON ({exc}); note that a "
                               "'#' in a path or name cuts the query short") from exc
        if not isinstance(conf, dict):
            raise InvalidInput("upload conf must be a JSON object")
        return conf
    return dict(parse_qsl(raw))  # clients <= 1.5 sent key=value pairs


@router.post("/data/upload")
async def upload(request: Request) -> Response:
    p = platform(request)
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        conf = _query_conf(request)
        form = await request.form(max_part_size=p.settings.max_body_bytes)
        upload_file = form.get("file")
        if upload_file is None or isinstance(upload_file, str):
            raise InvalidInput("multipart upload needs a 'file' part")
        for key, value in form.items():
            if key != "file" and isinstance(value, str):
                conf.setdefault(key, value)
        content: bytes | Path = await upload_file.read()
        file_name = upload_file.filename or ""
    else:
        conf = await json_body(request, p.settings.max_json_bytes) or _query_conf(request)
        req0 = parse(UploadConf, conf)
        if req0.use_local_data not in (0, False):
            raise InvalidInput("a JSON upload reads a file on the server: set use_local_data to 0, or send "
                               "the file as multipart/form-data")
        content = Path(req0.file).expanduser()
        if not content.is_file():
            raise NotFound(f"file: {req0.file} does not exist on the server")
        file_name = req0.file
    c = parse(UploadConf, conf)
    if c.head not in (0, 1):
        raise InvalidInput(f"head: must be 0 or 1, got {c.head}")
    req = UploadRequest(namespace=c.namespace, table_name=c.table_name, head=bool(c.head), partition=c.partition,
                        delimiter=c.id_delimiter, drop=bool(c.drop), extend_sid=c.extend_sid,
                        id_column=c.id_column, file_name=file_name)
    res = await call(tables.upload, p, req, content)
    return ok(res, job_id=res["job_id"])


@router.post("/data/download")
async def download(request: Request) -> Response:
    req = await body(request, DownloadBody)
    p = platform(request)
    out = Path(req.output_path).expanduser()
    if out.is_dir():
        out = out / f"{req.namespace}_{req.table_name}.csv"
    count = await call(p.tables.export_csv, req.namespace, req.table_name, out, delimiter=req.delimiter)
    return ok({"output_path": str(out), "count": count, "namespace": req.namespace,
               "table_name": req.table_name})


@router.post("/data/upload/history")
async def history(request: Request) -> Response:
    req = await body(request, HistoryBody)
    return ok(await call(tables.upload_history, platform(request), req.job_id, req.limit))


@router.post("/table/table_info")
async def table_info(request: Request) -> Response:
    req = await body(request, TableBody)
    return ok(await call(tables.table_info, platform(request), req.namespace, req.table_name))


@router.post("/table/delete")
async def table_delete(request: Request) -> Response:
    req = await body(request, TableBody)
    return ok(await call(tables.delete_table, platform(request), req.namespace, req.table_name))


@router.post("/table/preview")
async def table_preview(request: Request) -> Response:
    req = await body(request, TableBody)
    return ok(await call(tables.preview, platform(request), req.namespace, req.table_name, req.limit))


@router.post("/table/list")
async def table_list(request: Request) -> Response:
    req = await body(request, TableListBody)
    return ok(await call(tables.job_tables, platform(request), req.job_id, req.role, req.party_id))
