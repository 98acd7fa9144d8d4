"""The HTTP application: FATE-Flow v1 routes, the edge guard (api.guard), error mapping."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from fedloom import __version__
from fedloom.api import (
    routes_audit,
    routes_data,
    routes_job,
    routes_misc,
    routes_model,
    routes_permission,
    routes_tracking,
)
from fedloom.api.audit import AuditMiddleware
from fedloom.api.envelope import error
from fedloom.api.guard import Guard, check_exposure
from fedloom.errors import FedloomError, InvalidInput
from fedloom.platform import Platform


def create_app(platform: Platform) -> FastAPI:
    settings = platform.settings
    check_exposure(settings)
    docs = settings.api_docs
    app = FastAPI(
        title="fedloom",
        version=__version__,
        description="Federated learning pipelines; FATE-Flow v1 compatible API.",
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.services = platform.services
    app.state.settings = settings
    for router in (
        routes_job.router,
        routes_data.router,
        routes_tracking.router,
        routes_model.router,
        routes_misc.router,
        routes_permission.router,
        routes_audit.router,
    ):
        app.include_router(router, prefix="/v1")
    # Unexpected errors are answered inside Guard (ServerErrorMiddleware would drop the connection).
    app.add_middleware(Guard, settings=settings)
    # Added last, so outside the Guard: requests the Guard refuses are audited too.
    app.add_middleware(AuditMiddleware, audit=platform.services.audit)
    app.router.on_shutdown.append(platform.services.audit.close)  # queued entries reach the database
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
        return JSONResponse(
            {"retcode": 100 if exc.status_code != 404 else 404, "retmsg": str(exc.detail)},
            status_code=exc.status_code,
        )


__all__ = ["create_app"]
