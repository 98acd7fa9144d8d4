"""FATE-Flow's response envelope and request parsing: `{retcode, retmsg, data, jobId, meta}`."""

from __future__ import annotations

import json
import math
import sys
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError

from fedloom.errors import FedloomError, InvalidInput

M = TypeVar("M", bound=BaseModel)


def ok(
    data: Any = None, *, retmsg: str = "success", job_id: str | None = None, meta: Any = None
) -> JSONResponse:
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
        return Response(
            json.dumps(data, indent=4),
            media_type="application/json",
            headers={"Content-Disposition": f"attachment; filename={filename}"},
        )
    return ok(data)


def json_arg(value: Any, field: str) -> Any:
    """A field that clients send either as JSON or as a JSON string (FATE's train_dsl, predict_dsl)."""
    if isinstance(value, str):
        return load_json(value, field)
    return value


MAX_JSON_DEPTH = 100


async def json_body(request: Request, limit: int) -> dict[str, Any]:
    """The request's JSON object ({} when empty). The guard already counted the bytes as they came."""
    raw = await request.body()
    if len(raw) > limit:
        raise InvalidInput(f"request body exceeds the limit of {limit} bytes (setting max_json_bytes)")
    if not raw.strip():
        return {}
    body = load_json(raw, "request body")
    if not isinstance(body, dict):
        raise InvalidInput("request body must be a JSON object")
    return body


def load_json(raw: str | bytes, what: str) -> Any:
    """Parse untrusted JSON: every failure (syntax, depth, huge numbers, NaN) is an InvalidInput naming `what`."""
    try:
        value = json.loads(raw, parse_constant=_no_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{what} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{what} is not valid UTF-8 JSON") from exc
    except RecursionError as exc:
        raise InvalidInput(f"{what} is nested too deeply (at most {MAX_JSON_DEPTH} levels)") from exc
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(f"{what} holds a number out of range ({_number_reason(exc)})") from exc
    if _depth(value) > MAX_JSON_DEPTH:
        raise InvalidInput(f"{what} is nested too deeply (at most {MAX_JSON_DEPTH} levels)")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(
            f"{text[:20]}... overflows a float" if len(text) > 20 else f"{text} overflows a float"
        )
    return value


def _number_reason(exc: Exception) -> str:
    text = str(exc)
    if "integer string conversion" in text:
        return f"an integer has more than {sys.get_int_max_str_digits()} digits"
    return text if "JSON number" in text or "overflows" in text else type(exc).__name__


def _depth(value: Any) -> int:
    """Nesting depth, iteratively (a recursive walk is what deep input attacks)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item)
    return deepest


def parse(model: type[M], body: dict[str, Any]) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        if err["type"] == "missing":
            raise InvalidInput(f"missing required field {where!r}") from exc
        raise InvalidInput(f"field {where!r}: {err['msg']}") from exc


__all__ = ["download_error", "error", "file_or_ok", "json_arg", "json_body", "load_json", "ok", "parse"]
