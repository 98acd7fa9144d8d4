"""The HTTP application: FATE-Flow v1 routes, error mapping, body limits."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from fedloom import __version__
from fedloom.api import routes_data, routes_job, routes_misc, routes_model, routes_tracking
from fedloom.api.envelope import error
from fedloom.errors import FedloomError, InvalidInput
from fedloom.services.platform import Platform

log = logging.getLogger(__name__)


class BodyLimit(BaseHTTPMiddleware):
    """Refuse oversized bodies before reading them (the declared length), with a JSON error."""

    def __init__(self, app: Any, limit: int) -> None:
        super().__init__(app)
        self._limit = limit

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self._limit:
            return error(InvalidInput(f"request body of {length} bytes exceeds the limit of {self._limit}"))
        return await call_next(request)


def create_app(platform: Platform) -> FastAPI:
    app = FastAPI(title="fedloom", version=__version__,
                  description="Federated learning pipelines; FATE-Flow v1 compatible API.")
    app.state.platform = platform
    for router in (routes_job.router, routes_data.router, routes_tracking.router, routes_model.router,
                   routes_misc.router):
        app.include_router(router, prefix="/v1")
    app.add_middleware(BodyLimit, limit=platform.settings.max_body_bytes)
    _install_error_handlers(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(FedloomError)
    async def _fedloom(_: Request, exc: FedloomError) -> JSONResponse:
        return error(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error(InvalidInput(f"invalid request: {exc.errors()[0].get('msg', 'bad input')}"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"retcode": 100 if exc.status_code != 404 else 404,
                             "retmsg": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The request boundary: log the trace for operators, give the client a clean message.
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse({"retcode": 100, "retmsg": f"internal error: {type(exc).__name__}: {exc}"})


__all__ = ["create_app"]
