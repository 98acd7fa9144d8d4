"""/v1/data and /v1/table: upload (multipart like fate-client, or a server path), download, tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from fedloom.api._deps import body, call, services, settings
from fedloom.api.envelope import json_body, load_json, ok, parse
from fedloom.api.schemas import (
    DownloadBody,
    HistoryBody,
    ModelInfo,
    TableBody,
    TableListBody,
    UploadAnswer,
    UploadConf,
)
from fedloom.errors import InvalidInput
from fedloom.services.tables import UPLOAD_MODEL_ID, StagingFile, TableService, Uploaded, UploadRequest

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

router = APIRouter()

MAX_FORM_FIELDS = 32
MAX_FIELD_BYTES = 64 * 1024


def _query_conf(request: Request) -> dict[str, Any]:
    """fate-client sends the upload conf as ONE percent-encoded JSON document as the query string."""
    raw = request.url.query
    if not raw:
        return {}
    text = unquote(raw)
    if text.lstrip().startswith("{"):
        conf = load_json(text, "upload conf in the query string (a '#' in a path or name cuts it short)")
        if not isinstance(conf, dict):
            raise InvalidInput("upload conf must be a JSON object")
        return conf
    return dict(parse_qsl(raw))  # clients <= 1.5 sent key=value pairs


class _Form:
    """A multipart body received as it streams: the `file` part goes to a staging file, never to memory;
    the other parts are small text fields."""

    def __init__(self, tables: TableService, limit: int) -> None:
        self._tables = tables
        self._limit = limit
        self.fields: dict[str, str] = {}
        self.file: StagingFile | None = None
        self.file_name = ""
        self._headers: dict[bytes, bytes] = {}
        self._header = b""
        self._name: str | None = None
        self._text: bytearray | None = None

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers, self._header, self._name, self._text = {}, b"", None, None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        key = self._header.lower()
        self._headers[key] = self._headers.get(key, b"") + data[start:end]

    def _header_end(self) -> None:
        self._header = b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        if self._name == "file":
            if self.file is not None:
                raise InvalidInput("multipart upload has more than one 'file' part")
            self.file_name = params.get(b"filename", b"").decode("utf-8", "replace")[:1024]
            self.file = self._tables.new_staging_file()
        elif len(self.fields) >= MAX_FORM_FIELDS:
            raise InvalidInput(f"multipart upload has more than {MAX_FORM_FIELDS} fields")
        else:
            self._text = bytearray()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._name == "file" and self.file is not None:
            self.file.write(data[start:end], self._limit)
        elif self._text is not None:
            self._text += data[start:end]
            if len(self._text) > MAX_FIELD_BYTES:
                raise InvalidInput(f"multipart field {self._name!r} is longer than {MAX_FIELD_BYTES} bytes")

    def _part_end(self) -> None:
        if self._text is not None and self._name:
            self.fields[self._name] = self._text.decode("utf-8", "replace")
        self._text = None

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


async def _receive_form(request: Request) -> _Form:
    """Stream the body through the multipart parser, counting bytes; the caller closes the form."""
    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise InvalidInput("multipart upload without a boundary in its content-type")
    limit = settings(request).max_body_bytes
    form = _Form(services(request).tables, limit)
    try:
        parser = MultipartParser(boundary, form.callbacks())
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise InvalidInput(
                    f"request body is larger than {limit} bytes (the setting 'max_body_bytes')"
                )
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        form.close()
        raise InvalidInput("multipart body is malformed") from exc
    except ClientDisconnect as exc:  # nobody to answer; an expected event, not an internal error
        form.close()
        raise InvalidInput("the client disconnected during the upload") from exc
    except BaseException:
        form.close()
        raise
    if form.file is None:
        form.close()
        raise InvalidInput("multipart upload needs a 'file' part")
    form.file.finish()
    return form


def _request(c: UploadConf, file_name: str) -> UploadRequest:
    return UploadRequest(
        namespace=c.namespace,
        table_name=c.table_name,
        head=bool(c.head),
        partition=c.partition,
        delimiter=c.id_delimiter,
        drop=bool(c.drop),
        extend_sid=c.extend_sid,
        id_column=c.id_column,
        file_name=file_name,
    )


async def _upload_multipart(request: Request) -> Uploaded:
    tables = services(request).tables
    conf = _query_conf(request)
    if "namespace" in conf and "table_name" in conf:  # refuse before receiving the bytes
        await call(tables.check_upload_target, _request(parse(UploadConf, conf), ""))
    form = await _receive_form(request)
    try:
        for key, value in form.fields.items():
            conf.setdefault(key, value)
        req = _request(parse(UploadConf, conf), form.file_name)
        assert form.file is not None  # _receive_form guarantees it
        return await call(tables.upload, req, form.file.path)
    finally:
        form.close()


async def _upload_server_file(request: Request) -> Uploaded:
    tables = services(request).tables
    conf = await json_body(request, settings(request).max_json_bytes)
    if not conf:
        raise InvalidInput(
            "data/upload: send the file as multipart/form-data, or a server-path upload's conf "
            "(use_local_data: 0) as a JSON body"
        )
    c = parse(UploadConf, conf)
    if c.use_local_data != 0:
        raise InvalidInput(
            "a JSON upload reads a file on the server: set use_local_data to 0, or send "
            "the file as multipart/form-data"
        )
    req = _request(c, c.file)
    await call(tables.check_upload_target, req)
    copy = await call(tables.import_server_file, c.file)
    try:
        return await call(tables.upload, req, copy.path)
    finally:
        copy.close()


@router.post("/data/upload")
async def upload(request: Request) -> Response:
    # The guard's reading of the header (case-insensitive): the branch must match the limit it applied.
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        res = await _upload_multipart(request)
    else:
        res = await _upload_server_file(request)
    answer = UploadAnswer(
        job_id=res.job_id,
        namespace=res.namespace,
        table_name=res.table_name,
        count=res.count,
        partition=res.partitions,
        model_info=ModelInfo(model_id=UPLOAD_MODEL_ID, model_version=res.job_id),
    )
    return ok(answer.fate(), job_id=res.job_id)


@router.post("/data/download")
async def download(request: Request) -> Response:
    req = await body(request, DownloadBody)
    res = await call(
        services(request).tables.download, req.namespace, req.table_name, req.output_path, req.delimiter
    )
    return ok(
        {
            "output_path": res.output_path,
            "count": res.count,
            "namespace": req.namespace,
            "table_name": req.table_name,
        }
    )


@router.post("/data/upload/history")
async def history(request: Request) -> Response:
    req = await body(request, HistoryBody)
    found = await call(services(request).tables.upload_history, req.job_id, req.limit)
    return ok(
        [{h.job_id: {"upload_info": h.upload_info, "notes": h.notes, "schema": h.schema}} for h in found]
    )


@router.post("/table/table_info")
async def table_info(request: Request) -> Response:
    req = await body(request, TableBody)
    info = await call(services(request).tables.table_info, req.namespace, req.table_name)
    if info is None:
        return ok({"table_name": req.table_name, "namespace": req.namespace, "exist": 0})
    return ok(
        {
            "table_name": req.table_name,
            "namespace": req.namespace,
            "exist": 1,
            "count": info.count,
            "partition": info.partitions,
            "schema": info.schema,
            "enable": True,
            "origin": "upload",
            "extend_sid": False,
            "address": {"path": f"tables/{req.namespace}/{req.table_name}"},
        }
    )


@router.post("/table/delete")
async def table_delete(request: Request) -> Response:
    req = await body(request, TableBody)
    await call(services(request).tables.delete, req.namespace, req.table_name)
    return ok({"table_name": req.table_name, "namespace": req.namespace})


@router.post("/table/preview")
async def table_preview(request: Request) -> Response:
    req = await body(request, TableBody)
    res = await call(services(request).tables.preview, req.namespace, req.table_name, req.limit)
    return ok({"header": res.header, "data": res.rows, "count": res.count})


@router.post("/table/list")
async def table_list(request: Request) -> Response:
    req = await body(request, TableListBody)
    outputs = await call(services(request).tables.job_outputs, req.job_id, req.role, req.party_id)
    return ok(
        {
            component: {
                "output": [{"namespace": o.namespace, "name": o.name, "data_name": o.data_name} for o in outs]
            }
            for component, outs in outputs.items()
        }
    )
