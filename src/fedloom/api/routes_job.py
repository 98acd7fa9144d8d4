"""/v1/job, /v1/pipeline: submit, stop, rerun, query, list, config, logs, DSL generation."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fedloom.api._deps import body, call, platform
from fedloom.api.envelope import download_error, file_or_ok, json_arg, ok
from fedloom.api.schemas import (
    DependencyBody,
    DslGenerateBody,
    JobConfigBody,
    JobIdBody,
    JobListBody,
    JobQueryBody,
    JobUpdateBody,
    ParameterUpdateBody,
    RerunBody,
    StopBody,
    SubmitBody,
    TaskQueryBody,
)
from fedloom.dsl import dependency_view
from fedloom.errors import FedloomError, InvalidInput, NotFound
from fedloom.services import jobs

router = APIRouter()


@router.post("/job/submit")
async def submit(request: Request) -> Response:
    p = platform(request)
    req = await body(request, SubmitBody)
    res = await call(jobs.submit, p, req.dsl, req.conf)
    board = f"{p.settings.base_url}/board/#/job/{res.job_id}"
    msg = "success" if not res.warnings else "success; " + "; ".join(res.warnings)
    return ok(res.response(board, f"logs/{res.job_id}"),
              job_id=res.job_id, retmsg=msg)


@router.post("/job/stop")
async def stop(request: Request) -> Response:
    req = await body(request, StopBody)
    await call(jobs.stop, platform(request), req.job_id, req.stop_status)
    return ok(retmsg="stop job on this party success; stop job on all party success", job_id=req.job_id)


@router.post("/job/rerun")
async def rerun(request: Request) -> Response:
    req = await body(request, RerunBody)
    names = [req.component_name] if isinstance(req.component_name, str) else req.component_name
    redo = await call(jobs.rerun, platform(request), req.job_id, names, req.force)
    return ok({"components": redo}, retmsg="rerun job success", job_id=req.job_id)


@router.post("/job/query")
async def query(request: Request) -> Response:
    req = await body(request, JobQueryBody)
    filters = req.model_dump(exclude_none=True)
    rows = await call(platform(request).stores.jobs.query_jobs, **filters)
    if not rows:
        return ok([], retmsg="no job could be found")
    return ok([jobs.job_record(r) for r in rows])


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


@router.post("/job/list/job")
async def list_jobs(request: Request) -> Response:
    req = await body(request, JobListBody)
    if req.order_by not in ("job_id", "create_time", "start_time", "end_time", "elapsed"):
        raise InvalidInput(f"order_by: unknown column {req.order_by!r}")
    rows, total = await call(
        platform(request).stores.jobs.list_jobs, limit=req.limit, page=req.page, job_id_like=req.job_id,
        description_like=req.description, party_id=req.party_id, roles=_as_list(req.role),
        statuses=_as_list(req.status), order_by=req.order_by, order=req.order,
    )
    out = []
    for r in rows:
        rec = jobs.job_record(r, prefix="")
        rec["partners"] = sorted({pid for pids in r.roles.values() for pid in pids if pid != r.party_id})
        out.append(rec)
    return ok({"jobs": out, "count": total})


@router.post("/job/task/query")
async def task_query(request: Request) -> Response:
    req = await body(request, TaskQueryBody)
    rows = await call(platform(request).stores.jobs.query_tasks, **req.model_dump(exclude_none=True))
    if not rows:
        raise NotFound("find task failed: no task matches")
    return ok([jobs.task_record(r) for r in rows])


@router.post("/job/list/task")
async def task_list(request: Request) -> Response:
    req = await body(request, TaskQueryBody)
    rows = await call(platform(request).stores.jobs.query_tasks, **req.model_dump(exclude_none=True))
    return ok({"tasks": [jobs.task_record(r, prefix="") for r in rows], "count": len(rows)})


@router.post("/job/config")
async def config(request: Request) -> Response:
    req = await body(request, JobConfigBody)
    rows = await call(jobs.require_jobs, platform(request), req.job_id)
    row = next((r for r in rows if (req.role in (None, r.role)) and req.party_id in (None, r.party_id)), None)
    if row is None:
        raise NotFound(f"job {req.job_id} has no {req.role} {req.party_id}")
    jp = row.runtime_conf_on_party.get("job_parameters", {})
    return ok({"job_id": row.job_id, "dsl": row.dsl, "runtime_conf": row.runtime_conf,
               "train_runtime_conf": row.train_runtime_conf,
               "model_info": {"model_id": jp.get("model_id"), "model_version": jp.get("model_version")}})


@router.post("/job/update")
async def update(request: Request) -> Response:
    req = await body(request, JobUpdateBody)
    p = platform(request)
    await call(jobs.require_jobs, p, req.job_id)
    await call(p.stores.jobs.update_job, req.job_id, req.role, req.party_id, description=req.notes)
    return ok()


@router.post("/job/parameter/update")
async def parameter_update(request: Request) -> Response:
    req = await body(request, ParameterUpdateBody)
    res = await call(jobs.update_parameters, platform(request), req.job_id, req.job_parameters,
                     req.component_parameters)
    return ok(res, job_id=req.job_id)


@router.post("/job/clean")
async def clean(request: Request) -> Response:
    req = await body(request, JobIdBody)
    p = platform(request)
    await call(jobs.require_jobs, p, req.job_id)
    await call(p.stores.tracking.delete_metrics, req.job_id)
    return ok(retmsg="clean job success", job_id=req.job_id)


@router.post("/job/log/download")
async def log_download(request: Request) -> Response:
    try:  # a refused job id gets a non-200 too: clients untar any 200
        req = await body(request, JobIdBody)
        data = await call(jobs.log_archive, platform(request), req.job_id)
    except FedloomError as exc:
        return download_error(exc)
    return Response(data, media_type="application/gzip",
                    headers={"Content-Disposition": f"attachment; filename=job_{req.job_id}_log.tar.gz"})


@router.post("/job/log/path")
async def log_path(request: Request) -> Response:
    req = await body(request, JobIdBody)
    await call(jobs.require_jobs, platform(request), req.job_id)
    return ok({"logs_directory": f"logs/{req.job_id}"})  # relative to the data dir: no server paths


@router.post("/job/dsl/generate")
async def dsl_generate(request: Request) -> Response:
    req = await body(request, DslGenerateBody)
    cpns = req.cpn_list or req.cpn_str
    if isinstance(cpns, str):
        cpns = [c.strip() for c in cpns.split(",") if c.strip()]
    return file_or_ok(jobs.predict_dsl(json_arg(req.train_dsl, "train_dsl"), cpns), req.filename)


@router.post("/pipeline/dag/dependency")
async def dependency(request: Request) -> Response:
    req = await body(request, DependencyBody)
    p = platform(request)
    if req.job_id:
        return ok(await call(jobs.dependency, p, req.job_id, req.role, req.party_id))
    plan = await call(p.plans.parse, req.job_dsl, req.job_runtime_conf)
    return ok(dependency_view(plan, req.role, req.party_id))


@router.post("/job/clean/queue")
async def clean_queue(request: Request) -> Response:
    p = platform(request)
    canceled = await call(jobs.clean_queue, p)
    return ok({job_id: 0 for job_id in canceled})
