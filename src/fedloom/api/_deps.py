"""What every route needs: the services, the settings, the parsed body, and sync calls off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from fedloom.api.envelope import json_body, parse
from fedloom.config import Settings
from fedloom.services.catalog import Services

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def settings(request: Request) -> Settings:
    found: Settings = request.app.state.settings
    return found


async def body(request: Request, model: type[M]) -> M:
    return parse(model, await json_body(request, settings(request).max_json_bytes))


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await run_in_threadpool(fn, *args, **kwargs)
