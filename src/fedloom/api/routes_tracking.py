"""/v1/tracking: metrics, parameters, output model and data (+ tar.gz download), summaries."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from fedloom.api._deps import body, call, services, settings
from fedloom.api.envelope import download_error, file_or_ok, ok
from fedloom.api.schemas import ComponentBody, JobIdBody, MetricDataBody
from fedloom.errors import FedloomError
from fedloom.ids import Party

router = APIRouter()


async def _target(request: Request) -> tuple[ComponentBody, str, int]:
    req = await body(request, ComponentBody)
    role, pid = await _party(request, req)
    return req, role, pid


async def _party(request: Request, req: ComponentBody) -> Party:
    return await call(services(request).jobs.initiator_party, req.job_id, req.role, req.party_id)


@router.post("/tracking/component/metric/all")
async def metric_all(request: Request) -> Response:
    req, role, pid = await _target(request)
    found = await call(services(request).tracking.metrics, req.job_id, req.component_name, role, pid)
    data = {
        ns: {name: {"data": m.data, "meta": m.meta} for name, m in names.items()}
        for ns, names in found.items()
    }
    return ok(data, retmsg="success" if data else "no data")


@router.post("/tracking/component/metrics")
async def metrics(request: Request) -> Response:
    req, role, pid = await _target(request)
    found = await call(services(request).tracking.metrics, req.job_id, req.component_name, role, pid)
    data = {ns: list(names) for ns, names in found.items()}
    return ok(data, retmsg="success" if data else "no data")


@router.post("/tracking/component/metric_data")
async def metric_data(request: Request) -> Response:
    req = await body(request, MetricDataBody)
    role, pid = await _party(request, req)
    found = await call(
        services(request).tracking.metric,
        req.job_id,
        req.component_name,
        role,
        pid,
        req.metric_namespace,
        req.metric_name,
    )
    return ok(found.data, meta=found.meta)


@router.post("/tracking/component/parameters")
async def parameters(request: Request) -> Response:
    req, role, pid = await _target(request)
    found = await call(services(request).tracking.parameters, req.job_id, req.component_name, role, pid)
    return ok({"module": found.module, f"{found.module}Param": found.params})


@router.post("/tracking/component/output/model")
async def output_model(request: Request) -> Response:
    req, role, pid = await _target(request)
    found = await call(services(request).tracking.output_model, req.job_id, req.component_name, role, pid)
    if found is None:
        return ok({}, meta={}, retmsg="no data")
    meta = {"meta_data": found.meta, "module_name": found.module, "component_name": req.component_name}
    return ok(found.param, meta=meta, retmsg="success" if found.param else "no data")


@router.post("/tracking/component/output/data")
async def output_data(request: Request) -> Response:
    req, role, pid = await _target(request)
    limit = req.limit if req.limit >= 0 else settings(request).output_preview_rows
    outputs = await call(
        services(request).tracking.output_data, req.job_id, req.component_name, role, pid, limit
    )
    meta = {
        "header": [o.header for o in outputs],
        "total": [o.total for o in outputs],
        "names": [o.name for o in outputs],
    }
    return ok([o.rows for o in outputs], meta=meta, retmsg="success" if outputs else "no data")


@router.get("/tracking/component/output/data/download", operation_id="output_data_download_get")
@router.post("/tracking/component/output/data/download")
async def output_data_download(request: Request) -> Response:
    try:
        req, role, pid = await _target(request)
        archive = await call(
            services(request).tracking.output_data_archive,
            req.job_id,
            req.component_name,
            role,
            pid,
            req.limit,
        )
    except FedloomError as exc:
        return download_error(exc, status=210)
    name = f"job_{req.job_id}_{req.component_name}_{role}_{pid}_output_data.tar.gz"
    return FileResponse(
        archive.path,
        media_type="application/gzip",
        background=BackgroundTask(archive.close),
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )  # unquoted, as FATE


@router.post("/tracking/component/output/data/table")
async def output_data_table(request: Request) -> Response:
    req, role, pid = await _target(request)
    found = await call(services(request).tracking.output_tables, req.job_id, req.component_name, role, pid)
    return ok(
        [{"table_name": t.name, "table_namespace": t.namespace, "data_name": t.data_name} for t in found]
    )


@router.post("/tracking/component/summary/download")
async def summary(request: Request) -> Response:
    req, role, pid = await _target(request)
    data = await call(services(request).tracking.summary, req.job_id, req.component_name, role, pid)
    return file_or_ok(data, req.filename)


@router.post("/tracking/component/list")
async def component_list(request: Request) -> Response:
    req = await body(request, JobIdBody)
    return ok({"components": await call(services(request).jobs.components, req.job_id)})
