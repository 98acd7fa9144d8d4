"""/v1/version, /v1/component, /v1/info: what this server is and what it can run."""

from __future__ import annotations

import platform as _pyplatform

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fedloom import FATE_COMPAT_VERSION, __version__
from fedloom.api._deps import body, services, settings
from fedloom.api.envelope import ok
from fedloom.api.schemas import VersionBody
from fedloom.errors import NotFound

router = APIRouter()


def _versions() -> dict[str, str]:
    return {
        "FATE": FATE_COMPAT_VERSION,
        "FATEFlow": FATE_COMPAT_VERSION,
        "fedloom": __version__,
        "PYTHON": _pyplatform.python_version(),
        "API": "v1",
    }


@router.post("/version/get")
@router.post("/info/version")
async def version(request: Request) -> Response:
    req = await body(request, VersionBody)
    versions = _versions()
    module = req.module or "FATE"
    if module not in versions:
        raise NotFound(f"unknown module {module!r}; known: {', '.join(versions)}")
    return ok({module: versions[module], "API": "v1"})


@router.post("/server/version/get")
async def server_versions(request: Request) -> Response:
    return ok(_versions())


@router.post("/info/common")
async def info(request: Request) -> Response:
    s = settings(request)
    return ok({"version": __version__, "host": s.host, "http_port": s.port, "party_id": s.party_ids or [0]})


@router.post("/component/list")
@router.post("/component/get")
async def component_list(request: Request) -> Response:
    found = services(request).components.list_components()
    return ok(
        {
            "components": sorted(c.module.lower() for c in found),
            "detail": {
                c.module: {
                    "roles": c.roles,
                    "provider": c.provider,
                    "description": c.description,
                    "parameters": c.parameters,
                }
                for c in found
            },
        }
    )


@router.post("/provider/get")
async def provider_get(request: Request) -> Response:
    providers: dict[str, dict[str, dict[str, list[str]]]] = {}
    for c in services(request).components.list_components():
        providers.setdefault(c.provider, {}).setdefault(__version__, {"components": []})["components"].append(
            c.module.lower()
        )
    return ok(providers)
