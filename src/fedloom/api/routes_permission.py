"""/v1/permission: what other parties may run on this party's tables (FATE's grant, delete, query)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fedloom.api._deps import body, call, services
from fedloom.api.envelope import ok
from fedloom.api.schemas import PermissionBody, PermissionQueryBody

router = APIRouter()


@router.post("/permission/grant")
async def grant(request: Request) -> Response:
    req = await body(request, PermissionBody)
    added = await call(services(request).permissions.grant, req.party_id, req.component, req.dataset)
    return ok({"added": added})


@router.post("/permission/delete")
async def delete(request: Request) -> Response:
    req = await body(request, PermissionBody)
    deleted = await call(services(request).permissions.revoke, req.party_id, req.component, req.dataset)
    return ok({"deleted": deleted})


@router.post("/permission/query")
async def query(request: Request) -> Response:
    req = await body(request, PermissionQueryBody)
    return ok(await call(services(request).permissions.query, req.party_id))
