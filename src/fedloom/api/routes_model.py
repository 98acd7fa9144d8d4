"""/v1/model: deploy, predict DSL and conf, query."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fedloom.api._deps import body, call, platform
from fedloom.api.envelope import file_or_ok, json_arg, ok
from fedloom.api.schemas import DeployBody, ModelQueryBody, ModelRefBody
from fedloom.services import models

router = APIRouter()


@router.post("/model/deploy")
async def deploy(request: Request) -> Response:
    req = await body(request, DeployBody)
    cpns = req.cpn_list.split(",") if isinstance(req.cpn_list, str) else req.cpn_list
    dsl = json_arg(req.predict_dsl if req.predict_dsl is not None else req.dsl, "predict_dsl")
    res = await call(models.deploy, platform(request), req.model_id, req.model_version,
                     [c.strip() for c in cpns] if cpns else None, dsl)
    return ok(res, retmsg="deploy model success")


@router.post("/model/get/predict/dsl")
async def predict_dsl(request: Request) -> Response:
    req = await body(request, ModelRefBody)
    data = await call(models.get_predict_dsl, platform(request), req.model_id, req.model_version, req.role,
                      req.party_id)
    return file_or_ok(data, req.filename)


@router.post("/model/get/predict/conf")
async def predict_conf(request: Request) -> Response:
    req = await body(request, ModelRefBody)
    data = await call(models.get_predict_conf, platform(request), req.model_id, req.model_version, req.role,
                      req.party_id)
    return file_or_ok(data, req.filename)


@router.post("/model/query")
async def query(request: Request) -> Response:
    req = await body(request, ModelQueryBody)
    rows = await call(models.query, platform(request), **req.model_dump(exclude_none=True))
    if not rows:
        return ok([], retmsg="no model could be found")
    return ok(rows)
