"""Model registry use cases: register a trained pipeline, deploy it, predict DSL/conf, query."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from fedloom.dsl import generate_predict_dsl, new_job_id, predict_conf_template
from fedloom.errors import InvalidInput, NotFound, PermissionDenied
from fedloom.ids import Party
from fedloom.paths import check_id
from fedloom.scheduler.resources import job_parameters
from fedloom.scheduler.status import JobStatus
from fedloom.services._json import JsonObject
from fedloom.store import now_ms
from fedloom.store.jobs import JobStore
from fedloom.store.models import JobRow, ModelRow
from fedloom.store.tracking import TrackingStore

_SKIP_ROLES = frozenset({"local"})


@dataclass(frozen=True)
class Deployed:
    model_id: str
    model_version: str
    parties: list[Party]


class ModelRemote(Protocol):
    """Cluster mode: the parties of a model served by other servers (`fedloom.cluster`)."""

    def is_local(self, party_id: int) -> bool: ...

    def deploy_model(
        self, party: Party, job_id: str, model: tuple[str, str], child: str, inference: JsonObject
    ) -> None:
        """Make the same deployed version `child` of `model` at `party`, or raise its refusal."""


class ModelService:
    def __init__(self, jobs: JobStore, tracking: TrackingStore, remote: ModelRemote | None = None) -> None:
        self._remote = remote
        self._jobs = jobs
        self._tracking = tracking

    def job_ended(self, job: JobRow, status: str) -> None:
        """The scheduler's end-of-job hook: a successful training job registers its pipeline model."""
        if status == JobStatus.SUCCESS:
            self.save_pipeline_models(job.job_id)

    def save_pipeline_models(self, job_id: str) -> None:
        """At the end of a successful training job, register the pipeline model at every party."""
        rows = self._jobs.jobs(job_id)
        if not rows or job_parameters(rows[0]).job_type == "predict":
            return
        latest = {t.component_name: t.task_version for t in self._jobs.tasks(job_id)}
        for job in rows:
            if job.role in _SKIP_ROLES:
                continue
            jp = job_parameters(job)
            self._tracking.save_pipeline_model(
                ModelRow(
                    model_id=jp.model_id or "",
                    model_version=jp.model_version or job_id,
                    role=job.role,
                    party_id=job.party_id,
                    job_id=job_id,
                    parent=True,
                    parent_version="",
                    initiator_role=job.initiator_role,
                    initiator_party_id=job.initiator_party_id,
                    roles=job.roles,
                    train_dsl=job.dsl,
                    train_runtime_conf=job.runtime_conf,
                    inference_dsl=generate_predict_dsl(job.dsl, None),
                    components={c: {"job_id": job_id, "task_version": v} for c, v in latest.items()},
                    loaded_times=0,
                    create_time=now_ms(),
                )
            )

    def deployed(self, model_id: str, model_version: str) -> ModelRow:
        """The deployed model a predict job names (a trained, undeployed version is refused)."""
        rows = self._tracking.pipeline_models(model_id=model_id, model_version=model_version)
        if not rows:
            raise NotFound(f"model {model_id} version {model_version} not found")
        if rows[0].parent:
            raise InvalidInput(
                f"model {model_id} version {model_version} has not been deployed yet: "
                "deploy it (model/deploy) and predict with the version it returns"
            )
        return rows[0]

    def deploy(
        self, model_id: str, model_version: str, cpn_list: list[str] | None, predict_dsl: object | None
    ) -> Deployed:
        """A child model version whose inference DSL holds `cpn_list` (or the given predict DSL)."""
        parents = self._tracking.pipeline_models(model_id=model_id, model_version=model_version)
        if not parents:
            raise NotFound(f"model {model_id} version {model_version} not found")
        if not parents[0].parent:
            raise InvalidInput(
                f"model version {model_version} is itself a deployed model; deploy the trained one"
            )
        train_dsl = parents[0].train_dsl
        if predict_dsl is not None:
            inference = _checked_predict_dsl(predict_dsl, train_dsl)
        else:
            unknown = [c for c in cpn_list or [] if c not in train_dsl.get("components", {})]
            if unknown:
                raise InvalidInput(f"cpn_list: {unknown} are not components of the model")
            inference = generate_predict_dsl(train_dsl, cpn_list)
        child = new_job_id()
        remote = self._remote
        elsewhere = [p for p in parents if remote is not None and not remote.is_local(p.party_id)]
        for parent in elsewhere:  # first: a party that refuses leaves no half-deployed version here
            assert remote is not None
            remote.deploy_model(
                Party(parent.role, parent.party_id),
                parent.job_id,
                (model_id, model_version),
                child,
                inference,
            )
        for parent in parents:
            self._save_child(parent, child, inference)
        return Deployed(model_id, child, [Party(p.role, p.party_id) for p in parents])

    def deploy_child(self, job_id: str, model: tuple[str, str], child: str, inference: JsonObject) -> None:
        """A party's side of a deploy made at the initiator: the same child version of the model that
        job `job_id` trained here (and only of that one)."""
        check_id("model_version", child)
        parents = self._tracking.pipeline_models(model_id=model[0], model_version=model[1])
        if not parents or not parents[0].parent:
            raise NotFound(f"model {model[0]} version {model[1]} not found here")
        if any(p.job_id != job_id for p in parents):
            raise PermissionDenied(f"model {model[0]} version {model[1]} was not trained by job {job_id}")
        inference = _checked_predict_dsl(inference, parents[0].train_dsl)
        for parent in parents:
            self._save_child(parent, child, inference)

    def training_jobs(self, model_id: str, model_version: str, party: Party) -> set[str]:
        """The jobs whose outputs a model uses at `party` (NotFound if the party has no such model)."""
        rows = self._tracking.pipeline_models(
            model_id=model_id, model_version=model_version, role=party.role, party_id=party.party_id
        )
        if not rows:
            raise NotFound(
                f"model {model_id} version {model_version} not found at {party.role} {party.party_id}"
            )
        found = {r.job_id for r in rows}
        found |= {str(c["job_id"]) for r in rows for c in r.components.values() if c.get("job_id")}
        return found

    def _save_child(self, parent: ModelRow, child: str, inference: JsonObject) -> None:
        self._tracking.save_pipeline_model(
            ModelRow(
                model_id=parent.model_id,
                model_version=child,
                role=parent.role,
                party_id=parent.party_id,
                job_id=parent.job_id,
                parent=False,
                parent_version=parent.model_version,
                initiator_role=parent.initiator_role,
                initiator_party_id=parent.initiator_party_id,
                roles=parent.roles,
                train_dsl=parent.train_dsl,
                train_runtime_conf=parent.train_runtime_conf,
                inference_dsl=inference,
                components=parent.components,
                loaded_times=0,
                create_time=now_ms(),
            )
        )

    def _model(self, model_id: str, model_version: str, role: str | None, party_id: int | None) -> ModelRow:
        rows = self._tracking.pipeline_models(
            model_id=model_id, model_version=model_version, role=role, party_id=party_id
        )
        if not rows:
            raise NotFound(f"model {model_id} version {model_version} not found")
        return rows[0]

    def predict_dsl(
        self, model_id: str, model_version: str, role: str | None = None, party_id: int | None = None
    ) -> JsonObject:
        return dict(self._model(model_id, model_version, role, party_id).inference_dsl)

    def predict_conf(
        self, model_id: str, model_version: str, role: str | None = None, party_id: int | None = None
    ) -> JsonObject:
        m = self._model(model_id, model_version, role, party_id)
        return dict(predict_conf_template(model_id, model_version, m.train_runtime_conf, m.inference_dsl))

    def query(
        self,
        model_id: str | None = None,
        model_version: str | None = None,
        role: str | None = None,
        party_id: int | None = None,
    ) -> list[ModelRow]:
        return self._tracking.pipeline_models(
            model_id=model_id, model_version=model_version, role=role, party_id=party_id
        )


def _checked_predict_dsl(dsl: object, train_dsl: Mapping[str, object]) -> JsonObject:
    if not isinstance(dsl, dict) or not isinstance(dsl.get("components"), dict):
        raise InvalidInput("predict_dsl: must be an object with components")
    trained = train_dsl.get("components")
    trained = trained if isinstance(trained, dict) else {}
    for name, cpn in dsl["components"].items():
        for ref in (cpn.get("input", {}) or {}).get("model", []) or []:
            parts = str(ref).split(".")
            if parts[0] == "pipeline" and (len(parts) != 3 or parts[1] not in trained):
                raise InvalidInput(f"predict_dsl: component {name} refers to {ref}, not in the model")
    return dsl


__all__ = ["Deployed", "ModelService"]
