"""What every route needs: the Platform, the parsed body, and running sync services off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from fedloom.api.envelope import json_body, parse
from fedloom.services.platform import Platform

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def platform(request: Request) -> Platform:
    p: Platform = request.app.state.platform
    return p


async def body(request: Request, model: type[M]) -> M:
    limit = platform(request).settings.max_json_bytes
    return parse(model, await json_body(request, limit))


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await run_in_threadpool(fn, *args, **kwargs)


def initiator_party(p: Platform, job_id: str, role: str | None, party_id: int | None) -> tuple[str, int]:
    """FATE fills in the initiator's role and party when a tracking request omits them."""
    if role and party_id is not None:
        return role, party_id
    from fedloom.services.jobs import require_jobs

    rows = require_jobs(p, job_id)
    init = next((r for r in rows if r.is_initiator), rows[0])
    return role or init.role, party_id if party_id is not None else init.party_id
