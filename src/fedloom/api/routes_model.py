"""/v1/model: deploy, predict DSL and conf, query."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fedloom.api._deps import body, call, platform
from fedloom.api.envelope import ok
from fedloom.api.schemas import DeployBody, ModelQueryBody, ModelRefBody
from fedloom.errors import InvalidInput
from fedloom.services import models

router = APIRouter()


def _json_arg(value: Any, field: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{field}: not valid JSON ({exc})") from exc
    return value


@router.post("/model/deploy")
async def deploy(request: Request) -> Response:
    req = await body(request, DeployBody)
    cpns = req.cpn_list.split(",") if isinstance(req.cpn_list, str) else req.cpn_list
    dsl = _json_arg(req.predict_dsl if req.predict_dsl is not None else req.dsl, "predict_dsl")
    res = await call(models.deploy, platform(request), req.model_id, req.model_version,
                     [c.strip() for c in cpns] if cpns else None, dsl)
    return ok(res, retmsg="deploy model success")


def _file_or_ok(data: Any, filename: str | None) -> Response:
    if filename:
        return Response(json.dumps(data, indent=4), media_type="application/json",
                        headers={"Content-Disposition": f"attachment; filename={filename}"})
    return ok(data)


@router.post("/model/get/predict/dsl")
async def predict_dsl(request: Request) -> Response:
    req = await body(request, ModelRefBody)
    data = await call(models.get_predict_dsl, platform(request), req.model_id, req.model_version, req.role,
                      req.party_id)
    return _file_or_ok(data, req.filename)


@router.post("/model/get/predict/conf")
async def predict_conf(request: Request) -> Response:
    req = await body(request, ModelRefBody)
    data = await call(models.get_predict_conf, platform(request), req.model_id, req.model_version, req.role,
                      req.party_id)
    return _file_or_ok(data, req.filename)


@router.post("/model/query")
async def query(request: Request) -> Response:
    req = await body(request, ModelQueryBody)
    rows = await call(models.query, platform(request), **req.model_dump(exclude_none=True))
    if not rows:
        return ok([], retmsg="no model could be found")
    return ok(rows)
