"""/v1/model: deploy, predict DSL and conf, query."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fedloom.api._deps import body, call, services
from fedloom.api.envelope import file_or_ok, json_arg, ok
from fedloom.api.schemas import DeployBody, ModelQueryBody, ModelRecord, ModelRefBody, split_names
from fedloom.services.models import Deployed

router = APIRouter()


@router.post("/model/deploy")
async def deploy(request: Request) -> Response:
    req = await body(request, DeployBody)
    dsl = json_arg(req.predict_dsl if req.predict_dsl is not None else req.dsl, "predict_dsl")
    res = await call(
        services(request).models.deploy,
        req.model_id,
        req.model_version,
        split_names(req.cpn_list) or None,
        dsl,
    )
    return ok(_deployed(res), retmsg="deploy model success")


def _deployed(res: Deployed) -> dict[str, Any]:
    """FATE's deploy answer: the new version, and a 0 (plus a detail) per party that deployed it."""
    out: dict[str, Any] = {"model_id": res.model_id, "model_version": res.model_version, "detail": {}}
    for role, party_id in res.parties:
        out.setdefault(role, {})[str(party_id)] = 0
        out["detail"].setdefault(role, {})[str(party_id)] = {"retcode": 0, "retmsg": "deploy success"}
    return out


@router.post("/model/get/predict/dsl")
async def predict_dsl(request: Request) -> Response:
    req = await body(request, ModelRefBody)
    data = await call(
        services(request).models.predict_dsl, req.model_id, req.model_version, req.role, req.party_id
    )
    return file_or_ok(data, req.filename)


@router.post("/model/get/predict/conf")
async def predict_conf(request: Request) -> Response:
    req = await body(request, ModelRefBody)
    data = await call(
        services(request).models.predict_conf, req.model_id, req.model_version, req.role, req.party_id
    )
    return file_or_ok(data, req.filename)


@router.post("/model/query")
async def query(request: Request) -> Response:
    req = await body(request, ModelQueryBody)
    rows = await call(services(request).models.query, req.model_id, req.model_version, req.role, req.party_id)
    if not rows:
        return ok([], retmsg="no model could be found")
    return ok(
        [
            ModelRecord.of(
                r, parent_info={"parent_model_version": r.parent_version} if r.parent_version else {}
            ).columns()
            for r in rows
        ]
    )
