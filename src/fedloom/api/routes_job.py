"""/v1/job, /v1/pipeline: submit, stop, rerun, query, list, config, logs, DSL generation."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from fedloom.api._deps import body, call, services, settings
from fedloom.api.envelope import download_error, file_or_ok, json_arg, ok
from fedloom.api.schemas import (
    DependencyBody,
    DslGenerateBody,
    JobConfigAnswer,
    JobConfigBody,
    JobIdBody,
    JobListBody,
    JobListRecord,
    JobQueryBody,
    JobRecord,
    JobUpdateBody,
    ModelInfo,
    ParameterUpdateBody,
    RerunBody,
    StopBody,
    SubmitAnswer,
    SubmitBody,
    TaskQueryBody,
    TaskRecord,
    as_list,
    split_names,
)
from fedloom.errors import FedloomError, NotFound
from fedloom.services.jobs import JobListQuery, TaskQuery, logs_directory

router = APIRouter()


@router.post("/job/submit")
async def submit(request: Request) -> Response:
    req = await body(request, SubmitBody)
    res = await call(services(request).jobs.submit, req.dsl, req.conf)
    answer = SubmitAnswer(
        job_id=res.job_id,
        model_info=ModelInfo(model_id=res.model_id, model_version=res.model_version),
        board_url=f"{settings(request).base_url}/board/#/job/{res.job_id}",
        logs_directory=logs_directory(res.job_id),
    )
    msg = "success" if not res.warnings else "success; " + "; ".join(res.warnings)
    return ok(answer.fate(), job_id=res.job_id, retmsg=msg)


@router.post("/job/stop")
async def stop(request: Request) -> Response:
    req = await body(request, StopBody)
    await call(services(request).jobs.stop, req.job_id, req.stop_status)
    return ok(retmsg="stop job on this party success; stop job on all party success", job_id=req.job_id)


@router.post("/job/parties")
async def parties(request: Request) -> Response:
    """fedloom: every party's own view of a job, side by side (at the initiator, remote ones asked live)."""
    req = await body(request, JobIdBody)
    return ok(await call(services(request).jobs.parties, req.job_id), job_id=req.job_id)


@router.post("/job/rerun")
async def rerun(request: Request) -> Response:
    req = await body(request, RerunBody)
    redo = await call(services(request).jobs.rerun, req.job_id, as_list(req.component_name), req.force)
    return ok({"components": redo}, retmsg="rerun job success", job_id=req.job_id)


@router.post("/job/query")
async def query(request: Request) -> Response:
    req = await body(request, JobQueryBody)
    rows = await call(
        services(request).jobs.query,
        req.job_id,
        req.role,
        req.party_id,
        req.status,
        req.is_initiator,
        req.tag,
    )
    if not rows:
        return ok([], retmsg="no job could be found")
    return ok([JobRecord.of(r).columns() for r in rows])


@router.post("/job/list/job")
async def list_jobs(request: Request) -> Response:
    req = await body(request, JobListBody)
    q = JobListQuery(
        limit=req.limit,
        page=req.page,
        job_id=req.job_id,
        description=req.description,
        party_id=req.party_id,
        roles=tuple(as_list(req.role) or ()),
        statuses=tuple(as_list(req.status) or ()),
        order_by=req.order_by,
        order=req.order,
    )
    page = await call(services(request).jobs.list_jobs, q)
    out = [JobListRecord.of(r, partners=_partners(r.roles, r.party_id)).fate() for r in page.jobs]
    return ok({"jobs": out, "count": page.total})


def _partners(roles: dict[str, list[int]], party_id: int) -> list[int]:
    return sorted({pid for pids in roles.values() for pid in pids if pid != party_id})


def _task_query(req: TaskQueryBody) -> TaskQuery:
    return TaskQuery(
        job_id=req.job_id,
        role=req.role,
        party_id=req.party_id,
        component_name=req.component_name,
        status=req.status,
        task_id=req.task_id,
        task_version=req.task_version,
        party_status=req.party_status,
    )


@router.post("/job/task/query")
async def task_query(request: Request) -> Response:
    req = await body(request, TaskQueryBody)
    rows = await call(services(request).jobs.tasks, _task_query(req))
    if not rows:
        raise NotFound("find task failed: no task matches")
    return ok([TaskRecord.of(r).columns() for r in rows])


@router.post("/job/list/task")
async def task_list(request: Request) -> Response:
    req = await body(request, TaskQueryBody)
    rows = await call(services(request).jobs.tasks, _task_query(req))
    return ok({"tasks": [TaskRecord.of(r).fate() for r in rows], "count": len(rows)})


@router.post("/job/config")
async def config(request: Request) -> Response:
    req = await body(request, JobConfigBody)
    row = await call(services(request).jobs.config, req.job_id, req.role, req.party_id)
    jp = services(request).jobs.parameters(row)
    model_info = {"model_id": jp.model_id, "model_version": jp.model_version}
    return ok(JobConfigAnswer.of(row, model_info=model_info).fate())


@router.post("/job/update")
async def update(request: Request) -> Response:
    req = await body(request, JobUpdateBody)
    await call(services(request).jobs.update_notes, req.job_id, req.role, req.party_id, req.notes)
    return ok()


@router.post("/job/parameter/update")
async def parameter_update(request: Request) -> Response:
    req = await body(request, ParameterUpdateBody)
    res = await call(
        services(request).jobs.update_parameters, req.job_id, req.job_parameters, req.component_parameters
    )
    return ok(
        {
            "job_parameters": res.job_parameters,
            "component_parameters": res.component_parameters,
            "components": res.components,
        },
        job_id=req.job_id,
    )


@router.post("/job/clean")
async def clean(request: Request) -> Response:
    req = await body(request, JobIdBody)
    await call(services(request).jobs.clean, req.job_id)
    return ok(retmsg="clean job success", job_id=req.job_id)


@router.post("/job/log/download")
async def log_download(request: Request) -> Response:
    try:  # a refused job id gets a non-200 too: clients untar any 200
        req = await body(request, JobIdBody)
        archive = await call(services(request).jobs.log_archive, req.job_id)
    except FedloomError as exc:
        return download_error(exc)
    return FileResponse(
        archive.path,
        media_type="application/gzip",
        background=BackgroundTask(archive.close),
        headers={"Content-Disposition": f"attachment; filename=job_{req.job_id}_log.tar.gz"},
    )


@router.post("/job/log/path")
async def log_path(request: Request) -> Response:
    req = await body(request, JobIdBody)
    return ok({"logs_directory": await call(services(request).jobs.logs_directory, req.job_id)})


@router.post("/job/dsl/generate")
async def dsl_generate(request: Request) -> Response:
    req = await body(request, DslGenerateBody)
    cpns = split_names(req.cpn_list or req.cpn_str)
    dsl = services(request).jobs.predict_dsl(json_arg(req.train_dsl, "train_dsl"), cpns)
    return file_or_ok(dsl, req.filename)


@router.post("/pipeline/dag/dependency")
async def dependency(request: Request) -> Response:
    req = await body(request, DependencyBody)
    jobs = services(request).jobs
    if req.job_id:
        return ok(await call(jobs.dependency, req.job_id, req.role, req.party_id))
    return ok(await call(jobs.plan_dependency, req.job_dsl, req.job_runtime_conf, req.role, req.party_id))


@router.post("/job/clean/queue")
async def clean_queue(request: Request) -> Response:
    canceled = await call(services(request).jobs.clean_queue)
    return ok({job_id: 0 for job_id in canceled})
