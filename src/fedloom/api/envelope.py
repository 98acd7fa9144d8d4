"""FATE-Flow's response envelope and request parsing: `{retcode, retmsg, data, jobId, meta}`."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError

from fedloom.errors import FedloomError, InvalidInput

M = TypeVar("M", bound=BaseModel)


def ok(data: Any = None, *, retmsg: str = "success", job_id: str | None = None, meta: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"retcode": 0, "retmsg": retmsg}
    if data is not None:
        body["data"] = data
    if job_id is not None:
        body["jobId"] = job_id
    if meta is not None:
        body["meta"] = meta
    return JSONResponse(body)


def error(exc: FedloomError) -> JSONResponse:
    body: dict[str, Any] = {"retcode": exc.retcode, "retmsg": exc.message}
    if exc.data is not None:
        body["data"] = exc.data
    return JSONResponse(body, status_code=exc.http_status)


def download_error(exc: FedloomError, status: int = 404) -> Response:
    """Download routes: clients treat any 200 as the file, so errors need a non-200 status."""
    code = exc.http_status if exc.http_status != 200 else status
    return JSONResponse({"retcode": exc.retcode, "retmsg": exc.message}, status_code=code)


def file_or_ok(data: Any, filename: str | None) -> Response:
    """FATE's file routes: with a `filename` the JSON is the file itself, without it the envelope."""
    if filename:
        return Response(json.dumps(data, indent=4), media_type="application/json",
                        headers={"Content-Disposition": f"attachment; filename={filename}"})
    return ok(data)


def json_arg(value: Any, field: str) -> Any:
    """A field that clients send either as JSON or as a JSON string (FATE's train_dsl, predict_dsl)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{field}: not valid JSON ({exc})") from exc
    return value


async def json_body(request: Request, limit: int) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > limit:
        raise InvalidInput(f"request body is {len(raw)} bytes; the limit for JSON bodies is {limit}")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"request body is not valid JSON ({exc})") from exc
    if not isinstance(body, dict):
        raise InvalidInput("request body must be a JSON object")
    return body


def parse(model: type[M], body: dict[str, Any]) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        if err["type"] == "missing":
            raise InvalidInput(f"missing required field {where!r}") from exc
        raise InvalidInput(f"field {where!r}: {err['msg']}") from exc


__all__ = ["download_error", "error", "file_or_ok", "json_arg", "json_body", "ok", "parse"]
