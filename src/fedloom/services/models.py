"""Model registry use cases: register a trained pipeline, deploy it, predict DSL/conf, query."""

from __future__ import annotations

from typing import Any

from fedloom.dsl import generate_predict_dsl, new_job_id, predict_conf_template
from fedloom.errors import InvalidInput, NotFound
from fedloom.services.platform import Platform
from fedloom.store import now_ms
from fedloom.store.models import ModelRow

_SKIP_ROLES = frozenset({"local"})


def save_pipeline_models(p: Platform, job_id: str) -> None:
    """At the end of a successful training job, register the pipeline model at every party."""
    rows = p.stores.jobs.jobs(job_id)
    if not rows or rows[0].runtime_conf_on_party.get("job_parameters", {}).get("job_type") == "predict":
        return
    latest = {t.component_name: t.task_version for t in p.stores.jobs.tasks(job_id)}
    for job in rows:
        if job.role in _SKIP_ROLES:
            continue
        jp = job.runtime_conf_on_party.get("job_parameters", {})
        p.stores.tracking.save_pipeline_model(ModelRow(
            model_id=jp.get("model_id", ""), model_version=jp.get("model_version", job_id), role=job.role,
            party_id=job.party_id, job_id=job_id, parent=True, parent_version="",
            initiator_role=job.initiator_role, initiator_party_id=job.initiator_party_id, roles=job.roles,
            train_dsl=job.dsl, train_runtime_conf=job.runtime_conf,
            inference_dsl=generate_predict_dsl(job.dsl, None),
            components={c: {"job_id": job_id, "task_version": v} for c, v in latest.items()},
            loaded_times=0, create_time=now_ms(),
        ))


def deploy(p: Platform, model_id: str, model_version: str, cpn_list: list[str] | None,
           predict_dsl: dict[str, Any] | None) -> dict[str, Any]:
    """A child model version whose inference DSL holds `cpn_list` (or the given predict DSL)."""
    parents = p.stores.tracking.pipeline_models(model_id=model_id, model_version=model_version)
    if not parents:
        raise NotFound(f"model {model_id} version {model_version} not found")
    if not parents[0].parent:
        raise InvalidInput(f"model version {model_version} is itself a deployed model; deploy the trained one")
    train_dsl = parents[0].train_dsl
    if predict_dsl is not None:
        inference = _checked_predict_dsl(predict_dsl, train_dsl)
    else:
        unknown = [c for c in cpn_list or [] if c not in train_dsl.get("components", {})]
        if unknown:
            raise InvalidInput(f"cpn_list: {unknown} are not components of the model")
        inference = generate_predict_dsl(train_dsl, cpn_list)
    child = new_job_id()
    result: dict[str, Any] = {"model_id": model_id, "model_version": child, "detail": {}}
    for parent in parents:
        p.stores.tracking.save_pipeline_model(ModelRow(
            model_id=model_id, model_version=child, role=parent.role, party_id=parent.party_id,
            job_id=parent.job_id, parent=False, parent_version=model_version,
            initiator_role=parent.initiator_role, initiator_party_id=parent.initiator_party_id,
            roles=parent.roles, train_dsl=train_dsl, train_runtime_conf=parent.train_runtime_conf,
            inference_dsl=inference, components=parent.components, loaded_times=0, create_time=now_ms(),
        ))
        result.setdefault(parent.role, {})[str(parent.party_id)] = 0
        result["detail"].setdefault(parent.role, {})[str(parent.party_id)] = {"retcode": 0,
                                                                              "retmsg": "deploy success"}
    return result


def _checked_predict_dsl(dsl: Any, train_dsl: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(dsl, dict) or not isinstance(dsl.get("components"), dict):
        raise InvalidInput("predict_dsl: must be an object with components")
    trained = train_dsl.get("components", {})
    for name, cpn in dsl["components"].items():
        for ref in (cpn.get("input", {}) or {}).get("model", []) or []:
            parts = str(ref).split(".")
            if parts[0] == "pipeline" and (len(parts) != 3 or parts[1] not in trained):
                raise InvalidInput(f"predict_dsl: component {name} refers to {ref}, not in the model")
    return dsl


def _model(p: Platform, model_id: str, model_version: str, role: str | None,
           party_id: int | None) -> ModelRow:
    rows = p.stores.tracking.pipeline_models(model_id=model_id, model_version=model_version, role=role,
                                             party_id=party_id)
    if not rows:
        raise NotFound(f"model {model_id} version {model_version} not found")
    return rows[0]


def get_predict_dsl(p: Platform, model_id: str, model_version: str, role: str | None = None,
                    party_id: int | None = None) -> dict[str, Any]:
    return dict(_model(p, model_id, model_version, role, party_id).inference_dsl)


def get_predict_conf(p: Platform, model_id: str, model_version: str, role: str | None = None,
                     party_id: int | None = None) -> dict[str, Any]:
    m = _model(p, model_id, model_version, role, party_id)
    return predict_conf_template(model_id, model_version, m.train_runtime_conf, m.inference_dsl)


def query(p: Platform, **filters: Any) -> list[dict[str, Any]]:
    rows = p.stores.tracking.pipeline_models(**filters)
    return [{
        "f_model_id": r.model_id, "f_model_version": r.model_version, "f_role": r.role,
        "f_party_id": r.party_id, "f_job_id": r.job_id, "f_parent": r.parent,
        "f_parent_info": {"parent_model_version": r.parent_version} if r.parent_version else {},
        "f_initiator_role": r.initiator_role, "f_initiator_party_id": r.initiator_party_id,
        "f_roles": r.roles, "f_train_dsl": r.train_dsl, "f_train_runtime_conf": r.train_runtime_conf,
        "f_inference_dsl": r.inference_dsl, "f_loaded_times": r.loaded_times, "f_create_time": r.create_time,
    } for r in rows]


__all__ = ["deploy", "get_predict_conf", "get_predict_dsl", "query", "save_pipeline_models"]
