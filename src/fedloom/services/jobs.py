"""Job use cases: submit, query, list, stop, rerun, config, logs, parameter update."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from typing import Any

from fedloom.dsl import (
    JobPlan,
    dependency_view,
    generate_predict_dsl,
    merge_predict_conf,
    model_id_for,
    new_job_id,
)
from fedloom.errors import Conflict, InvalidInput, NotFound, OperationFailed
from fedloom.paths import logs_dir
from fedloom.scheduler.status import END
from fedloom.services.platform import Platform
from fedloom.store import now_ms
from fedloom.store.models import JobRow, TaskRow


@dataclass
class Submitted:
    job_id: str
    model_id: str
    model_version: str
    warnings: list[str]

    def response(self, board_url: str, logs: str) -> dict[str, Any]:
        return {
            "job_id": self.job_id, "code": 0, "message": "success",
            "model_info": {"model_id": self.model_id, "model_version": self.model_version},
            "board_url": board_url, "logs_directory": logs,
            "dsl_path": "", "runtime_conf_path": "", "runtime_conf_on_party_path": "",
            "train_runtime_conf_path": "", "pipeline_dsl_path": "",
        }


def submit(p: Platform, dsl: Any, conf: Any) -> Submitted:
    """Validate, then store the job at every party in one transaction; nothing is stored if invalid."""
    if not isinstance(conf, dict):
        raise InvalidInput("job_runtime_conf: must be an object")
    train_conf: dict[str, Any] = {}
    if _job_type(conf) == "predict":
        dsl, conf, train_conf = _predict_inputs(p, conf)
    plan = p.plans.parse(dsl, conf, max_components=p.settings.max_job_components)
    job_id = new_job_id()
    jp = plan.conf.get("job_parameters", {}).get("common", {})
    if plan.job_type == "predict":
        model_id, model_version = str(jp["model_id"]), str(jp["model_version"])
    else:
        model_id, model_version = model_id_for(plan.roles), job_id
    _check_cores(p, plan)
    parties = [(role, pid) for role, pids in plan.roles.items() for pid in pids]
    _check_party_inputs(p, plan, parties)
    jobs = [_job_row(p, plan, job_id, role, pid, model_id, model_version, train_conf) for role, pid in parties]
    tasks = p.party.new_task_rows(job_id, plan, parties)
    for pid in {pid for _, pid in parties}:
        p.ensure_party(pid)
    p.stores.jobs.create_job(jobs, tasks)
    p.plans.remember(job_id, plan)  # the scheduler and the parties need it at once: parse once
    p.scheduler.notify(job_id)
    return Submitted(job_id, model_id, model_version, list(plan.warnings))


def _job_type(conf: dict[str, Any]) -> str:
    jp = conf.get("job_parameters")
    common = jp.get("common", {}) if isinstance(jp, dict) else {}
    return str(common.get("job_type", "train")) if isinstance(common, dict) else "train"


def _predict_inputs(p: Platform, conf: dict[str, Any]) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    common = conf["job_parameters"]["common"]
    model_id, version = common.get("model_id"), common.get("model_version")
    if not model_id or not version:
        raise InvalidInput("job_parameters.common: a predict job needs model_id and model_version")
    rows = p.stores.tracking.pipeline_models(model_id=str(model_id), model_version=str(version))
    if not rows:
        raise NotFound(f"model {model_id} version {version} not found")
    model = rows[0]
    if model.parent:
        raise InvalidInput(f"model {model_id} version {version} has not been deployed yet: "
                           "deploy it (model/deploy) and predict with the version it returns")
    merged = merge_predict_conf(model.train_runtime_conf, conf)
    return model.inference_dsl, merged, model.train_runtime_conf


def _party_job_parameters(p: Platform, plan: JobPlan, role: str, pid: int) -> dict[str, Any]:
    """The party's job parameters with the server's defaults filled in where the conf is silent."""
    jp = plan.job_parameters(role, pid).model_dump()
    jp["task_cores"] = jp.get("task_cores") or p.settings.default_task_cores
    jp["task_parallelism"] = jp.get("task_parallelism") or 1
    jp["computing_partitions"] = jp.get("computing_partitions") or jp["task_cores"]
    jp["federated_mode"] = jp.get("federated_mode") or "SINGLE"
    return jp


def _check_cores(p: Platform, plan: JobPlan) -> None:
    need: dict[int, int] = {}
    for role, pids in plan.roles.items():
        if role == "arbiter":
            continue
        for pid in pids:
            jp = _party_job_parameters(p, plan, role, pid)
            need[pid] = need.get(pid, 0) + int(jp["task_cores"]) * int(jp["task_parallelism"])
    total = p.settings.total_cores
    for pid, cores in need.items():
        if cores > total:
            raise InvalidInput(f"job_parameters: party {pid} would reserve {cores} cores (task_cores x "
                               f"task_parallelism) but has {total} in total; lower task_cores")


def _check_party_inputs(p: Platform, plan: JobPlan, parties: list[tuple[str, int]]) -> None:
    """A party refuses a job whose Reader names a table it does not have."""
    for name, node in plan.components.items():
        if node.module != "Reader":
            continue
        for role, pid in plan.parties_of(name):
            if (role, pid) not in parties or not plan.need_run(name, role, pid):
                continue
            table = plan.params(name, role, pid).get("table") or {}
            if table.get("job_id"):
                continue
            ns, tn = table.get("namespace"), table.get("name")
            if not ns or not tn:
                raise InvalidInput(f"component {name}: parameter table (name, namespace) missing for "
                                   f"{role} {pid}")
            if not p.tables.exists(ns, tn):
                raise InvalidInput(f"component {name}: table {ns}.{tn} not found at {role} {pid}; "
                                   "upload it first (data/upload)")


def _job_row(p: Platform, plan: JobPlan, job_id: str, role: str, pid: int, model_id: str,
             model_version: str, train_conf: dict[str, Any]) -> JobRow:
    t = now_ms()
    jp = _party_job_parameters(p, plan, role, pid)
    jp.update(model_id=model_id, model_version=model_version)
    init_role, init_pid = plan.initiator
    return JobRow(
        job_id=job_id, role=role, party_id=pid, is_initiator=(role == init_role and pid == init_pid),
        initiator_role=init_role, initiator_party_id=init_pid, status="waiting", tag="",
        description="", status_message="", dsl=plan.dsl, runtime_conf=plan.conf,
        runtime_conf_on_party={"job_parameters": jp, "local": {"role": role, "party_id": pid}},
        train_runtime_conf=train_conf, roles={k: list(v) for k, v in plan.roles.items()},
        progress=0, cancel_signal=False, cores=0, resource_in_use=False, create_time=t, update_time=t,
    )


# ---- queries ------------------------------------------------------------------------------
def job_record(row: JobRow, prefix: str = "f_") -> dict[str, Any]:
    """A job row in FATE's shape: `f_` keys for job/query, plain keys for job/list/job."""
    d = {
        "job_id": row.job_id, "role": row.role, "party_id": row.party_id, "status": row.status,
        "is_initiator": row.is_initiator, "initiator_role": row.initiator_role,
        "initiator_party_id": row.initiator_party_id, "tag": row.tag, "description": row.description,
        "dsl": row.dsl, "runtime_conf": row.runtime_conf, "runtime_conf_on_party": row.runtime_conf_on_party,
        "train_runtime_conf": row.train_runtime_conf, "roles": row.roles, "progress": row.progress,
        "cancel_signal": row.cancel_signal, "cores": row.cores, "resource_in_use": row.resource_in_use,
        "create_time": row.create_time, "update_time": row.update_time, "start_time": row.start_time,
        "end_time": row.end_time, "elapsed": row.elapsed, "status_message": row.status_message,
        "status_code": None, "name": "", "user_id": "",
    }
    return {f"{prefix}{k}": v for k, v in d.items()}


def task_record(row: TaskRow, prefix: str = "f_") -> dict[str, Any]:
    d = {
        "job_id": row.job_id, "task_id": row.task_id, "task_version": row.task_version,
        "component_name": row.component_name, "component_module": row.component_module, "role": row.role,
        "party_id": row.party_id, "status": row.status, "party_status": row.party_status,
        "auto_retries": row.auto_retries, "run_pid": row.run_pid, "run_ip": row.run_ip,
        "error_report": row.error_report, "progress": row.progress, "progress_message": row.progress_message,
        "create_time": row.create_time, "update_time": row.update_time, "start_time": row.start_time,
        "end_time": row.end_time, "elapsed": row.elapsed, "need_run": row.need_run,
        "run_on_this_party": True, "kill_status": row.kill_status, "busy_seconds": row.busy_seconds,
    }
    return {f"{prefix}{k}": v for k, v in d.items()}


def require_jobs(p: Platform, job_id: str) -> list[JobRow]:
    rows = p.stores.jobs.jobs(job_id)
    if not rows:
        raise NotFound(f"job {job_id} not found")
    return rows


def stop(p: Platform, job_id: str, status: str = "canceled") -> None:
    rows = p.stores.jobs.jobs(job_id, light=True)  # not the documents: a DSL may be megabytes
    if not rows:
        raise NotFound(f"job {job_id} not found")
    if status not in ("canceled", "failed"):
        raise InvalidInput(f"stop_status: must be canceled or failed, got {status!r}")
    if all(r.status in END for r in rows):
        raise Conflict(f"job {job_id} already ended ({rows[0].status})")
    # Applied here and now (cancel signal, waiting tasks ended, running tasks killed), not queued
    # behind the scheduler's work; the scheduler finishes the bookkeeping at its next event.
    p.scheduler.request_stop(job_id, status)


def clean_queue(p: Platform) -> list[str]:
    """Cancel every job still waiting in this server's queue (FATE's `flow queue clean`)."""
    waiting = [j.job_id for j in p.stores.jobs.initiator_jobs(["waiting"])]
    return [job_id for job_id in waiting if p.scheduler.request_stop(job_id, "canceled")]


def rerun(p: Platform, job_id: str, components: list[str] | None, force: bool) -> list[str]:
    rows = require_jobs(p, job_id)
    init = next((r for r in rows if r.is_initiator), rows[0])
    plan = p.plans.get(init)
    if not components or components == ["pipeline"]:
        targets = list(plan.components)
    else:
        unknown = [c for c in components if c not in plan.components]
        if unknown:
            raise InvalidInput(f"component_name: {unknown} not in job {job_id}")
        targets = [c for c in plan.components if c in plan.downstream(components)]
    if init.status not in END and init.status != "running":
        raise Conflict(f"job {job_id} is {init.status}; rerun applies to running or ended jobs")
    redo = p.scheduler.call(lambda: p.scheduler.rerun(job_id, targets, force))
    if not redo:
        raise OperationFailed(f"nothing to rerun in job {job_id}: components already succeeded "
                              "(use force to rerun them anyway)")
    return redo


def update_parameters(p: Platform, job_id: str, job_parameters: dict[str, Any] | None,
                      component_parameters: dict[str, Any] | None) -> dict[str, Any]:
    """Deep-merge new parameters into the stored conf (validated as a whole before anything changes)."""
    from fedloom.dsl._util import deep_merge

    rows = require_jobs(p, job_id)
    conf = dict(rows[0].runtime_conf)
    if job_parameters:
        conf["job_parameters"] = deep_merge(conf.get("job_parameters", {}), job_parameters)
    if component_parameters:
        conf["component_parameters"] = deep_merge(conf.get("component_parameters", {}), component_parameters)
    plan = p.plans.parse(rows[0].dsl, conf)
    p.stores.jobs.update_job(job_id, runtime_conf=plan.conf)
    p.plans.forget(job_id)
    return {"job_parameters": plan.conf.get("job_parameters", {}),
            "component_parameters": plan.conf.get("component_parameters", {}),
            "components": list(plan.components)}


def log_archive(p: Platform, job_id: str) -> bytes:
    base = logs_dir(p.settings.resolved_data_dir, job_id)
    if not base.exists():
        raise NotFound(f"no logs for job {job_id}")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(base.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(base)))
    return buf.getvalue()


def predict_dsl(train_dsl: Any, cpn_list: list[str] | None) -> dict[str, Any]:
    return generate_predict_dsl(train_dsl, cpn_list)


def dependency(p: Platform, job_id: str, role: str, party_id: int) -> dict[str, Any]:
    rows = require_jobs(p, job_id)
    return dependency_view(p.plans.get(rows[0]), role, party_id)


__all__ = [
    "Submitted",
    "clean_queue",
    "dependency",
    "job_record",
    "log_archive",
    "predict_dsl",
    "require_jobs",
    "rerun",
    "stop",
    "submit",
    "task_record",
    "update_parameters",
]
