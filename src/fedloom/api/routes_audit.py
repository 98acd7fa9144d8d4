"""/v1/audit/query (a fedloom extension): the newest audit entries matching a filter."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fedloom.api._deps import body, call, services
from fedloom.api.envelope import ok
from fedloom.api.schemas import AuditQueryBody

router = APIRouter()


@router.post("/audit/query")
async def query(request: Request) -> Response:
    req = await body(request, AuditQueryBody)
    found = await call(
        services(request).audit.query,
        job_id=req.job_id,
        actor=req.actor,
        action_prefix=req.action,
        since_ms=req.since,
        limit=req.limit,
    )
    return ok(found)
