"""Job use cases: submit, query, list, stop, rerun, config, logs, parameter update."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from fedloom.components.registry import get_component
from fedloom.config import Settings
from fedloom.dsl import (
    JobParameters,
    JobPlan,
    deep_merge,
    dependency_view,
    generate_predict_dsl,
    merge_predict_conf,
    model_id_for,
    new_job_id,
)
from fedloom.errors import Conflict, FedloomError, InvalidInput, NotFound, OperationFailed
from fedloom.ids import Party
from fedloom.paths import logs_dir, staging_dir
from fedloom.scheduler.reconcile import Scheduler
from fedloom.scheduler.resources import cores_by_party, job_parameters
from fedloom.scheduler.status import END, JobStatus
from fedloom.services._json import JsonObject, bounded
from fedloom.services.models import ModelService
from fedloom.services.party import PartyService
from fedloom.services.plans import PlanCache
from fedloom.services.readers import reader_table
from fedloom.storage.staging import StagingFile, tar_gz
from fedloom.storage.tables import TableStore
from fedloom.store import now_ms
from fedloom.store.jobs import JobStore
from fedloom.store.models import JobRow, TaskRow
from fedloom.store.tracking import TrackingStore

# The columns job/list/job may sort by (the JobStore maps each to its column).


def logs_directory(job_id: str) -> str:
    """A job's logs as shown to clients: relative to the data dir, so no server path leaks."""
    return f"logs/{job_id}"


@dataclass(frozen=True)
class Submitted:
    job_id: str
    model_id: str
    model_version: str
    warnings: list[str]


@dataclass(frozen=True)
class JobListQuery:
    limit: int = 0
    page: int = 1
    job_id: str | None = None
    description: str | None = None
    party_id: int | None = None
    roles: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    order_by: str = "create_time"
    order: str = "desc"


@dataclass(frozen=True)
class JobPage:
    jobs: list[JobRow]
    total: int


@dataclass(frozen=True)
class TaskQuery:
    job_id: str | None = None
    role: str | None = None
    party_id: int | None = None
    component_name: str | None = None
    status: str | None = None
    task_id: str | None = None
    task_version: int | None = None
    party_status: str | None = None


@dataclass(frozen=True)
class ParametersUpdated:
    job_parameters: JsonObject
    component_parameters: JsonObject
    components: list[str]


class RemoteParties(Protocol):
    """Cluster mode: the parties of a job served by other servers (`fedloom.cluster`)."""

    def is_local(self, party_id: int) -> bool: ...

    def create(
        self,
        job_id: str,
        plan: JobPlan,
        parties: Sequence[Party],
        model_id: str,
        model_version: str,
        train_conf: JsonObject,
    ) -> None:
        """Store the job at each of `parties`, or raise the first refusal (nothing stays created)."""

    def collect(self, job_id: str, party: Party, deadline: float | None = None) -> JsonObject:
        """A remote party's own view of a job: `{"job": {...}, "tasks": [...]}` (PartyUnreachable)."""

    def update_conf(self, job_id: str, parties: Sequence[Party], conf: JsonObject) -> None:
        """Store a job's new runtime conf at each of `parties` (FATE's parameter/update), or raise."""

    def stop_at_initiator(self, job_id: str, party: Party, status: str) -> None:
        """Ask the initiator of a job initiated elsewhere to stop it (FATE's /v1/initiator/.../stop)."""

    def rerun_at_initiator(
        self, job_id: str, party: Party, components: list[str] | None, force: bool
    ) -> list[str]:
        """Ask the initiator of a job initiated elsewhere to rerun it; the components it reruns."""


class JobService:
    """Jobs as the initiator and the API see them; the parties' side is the PartyService."""

    def __init__(
        self,
        settings: Settings,
        jobs: JobStore,
        tracking: TrackingStore,
        tables: TableStore,
        plans: PlanCache,
        scheduler: Scheduler,
        party: PartyService,
        models: ModelService,
        remote: RemoteParties | None = None,
    ) -> None:
        self._remote = remote
        self._settings = settings
        self._jobs = jobs
        self._tracking = tracking
        self._tables = tables
        self._plans = plans
        self._scheduler = scheduler
        self._party = party
        self._models = models

    # ---- submit -----------------------------------------------------------------------------
    def submit(self, dsl: object, conf: object) -> Submitted:
        """Validate, then store the job at every party in one transaction; nothing is stored if invalid."""
        if not isinstance(conf, dict):
            raise InvalidInput("job_runtime_conf: must be an object")
        train_conf: JsonObject = {}
        if _job_type(conf) == "predict":
            dsl, conf, train_conf = self._predict_inputs(conf)
        plan = self._plans.parse(dsl, conf, max_components=self._settings.max_job_components)
        job_id = new_job_id()
        jp = plan.conf.get("job_parameters", {}).get("common", {})
        if plan.job_type == "predict":
            model_id, model_version = str(jp["model_id"]), str(jp["model_version"])
        else:
            model_id, model_version = model_id_for(plan.roles), job_id
        parties = plan.parties
        local = [p for p in parties if self._is_local(p.party_id)]
        if plan.initiator not in local:
            raise InvalidInput(
                f"initiator: {plan.initiator.role} {plan.initiator.party_id} is not served by this server "
                f"(party_ids {self._settings.party_ids}); submit the job to the initiator's server"
            )
        self._check_cores(plan, local)
        self._check_party_inputs(plan, local)
        jobs = [self._job_row(plan, job_id, party, model_id, model_version, train_conf) for party in parties]
        tasks = self._party.new_task_rows(job_id, plan, parties)
        remote = [p for p in parties if p not in local]
        if remote and self._remote is not None:
            self._remote.create(job_id, plan, remote, model_id, model_version, train_conf)
        self._store(job_id, plan, jobs, tasks, local)
        self._scheduler.notify(job_id)
        return Submitted(job_id, model_id, model_version, list(plan.warnings))

    def accept(
        self,
        job_id: str,
        dsl: object,
        conf: object,
        parties: Sequence[Party],
        model: tuple[str, str],
        train_conf: JsonObject,
        check: Callable[[JobPlan], None],
    ) -> JobPlan:
        """A party's side of a job created by another server's initiator: validate the plan for
        `parties`, run `check` (consent), store the job; nothing is stored if any step refuses."""
        plan = self._plans.parse(dsl, conf, max_components=self._settings.max_job_components)
        missing = [p for p in parties if p not in plan.parties]
        if missing:
            raise InvalidInput(f"role: {missing[0].role} {missing[0].party_id} is not a party of this job")
        self._check_cores(plan, parties)
        self._check_party_inputs(plan, parties)
        check(plan)
        jobs = [self._job_row(plan, job_id, p, model[0], model[1], train_conf) for p in parties]
        self._store(job_id, plan, jobs, self._party.new_task_rows(job_id, plan, list(parties)), parties)
        return plan

    def _store(
        self, job_id: str, plan: JobPlan, jobs: list[JobRow], tasks: list[TaskRow], local: Sequence[Party]
    ) -> None:
        for pid in {party.party_id for party in local}:
            self._jobs.ensure_party_resource(pid, self._settings.total_cores)
        self._jobs.create_job(jobs, tasks)
        self._plans.remember(job_id, plan)  # the scheduler and the parties need it at once: parse once

    def _is_local(self, party_id: int) -> bool:
        return self._remote is None or self._remote.is_local(party_id)

    def _predict_inputs(self, conf: JsonObject) -> tuple[JsonObject, JsonObject, JsonObject]:
        common = conf["job_parameters"]["common"]
        model_id, version = common.get("model_id"), common.get("model_version")
        if not model_id or not version:
            raise InvalidInput("job_parameters.common: a predict job needs model_id and model_version")
        model = self._models.deployed(str(model_id), str(version))
        merged = merge_predict_conf(model.train_runtime_conf, conf)
        return model.inference_dsl, merged, model.train_runtime_conf

    def _party_job_parameters(self, plan: JobPlan, party: Party) -> JsonObject:
        """The party's job parameters with the server's defaults filled in where the conf is silent."""
        jp = plan.job_parameters(party.role, party.party_id).model_dump()
        jp["task_cores"] = jp.get("task_cores") or self._settings.default_task_cores
        jp["task_parallelism"] = jp.get("task_parallelism") or 1
        jp["computing_partitions"] = jp.get("computing_partitions") or jp["task_cores"]
        jp["federated_mode"] = jp.get("federated_mode") or "SINGLE"
        return jp

    def _check_cores(self, plan: JobPlan, parties: Sequence[Party]) -> None:
        """Each party served here checks what the job would reserve against its own total."""
        entries = []
        for role, pid in parties:
            jp = self._party_job_parameters(plan, Party(role, pid))
            entries.append((role, pid, int(jp["task_cores"]), int(jp["task_parallelism"])))
        need = cores_by_party(entries)
        total = self._settings.total_cores
        for pid, cores in need.items():
            if cores > total:
                raise InvalidInput(
                    f"job_parameters: party {pid} would reserve {cores} cores (task_cores x "
                    f"task_parallelism) but has {total} in total; lower task_cores"
                )

    def _check_party_inputs(self, plan: JobPlan, parties: Sequence[Party]) -> None:
        """A party refuses a job whose table-reading component (Reader) names a table it does not have."""
        for name, node in plan.components.items():
            if not get_component(node.module).reads_table:
                continue
            for role, pid in plan.parties_of(name):
                if (role, pid) in parties and plan.need_run(name, role, pid):
                    reader_table(name, plan.params(name, role, pid), Party(role, pid), self._tables)

    def _job_row(
        self,
        plan: JobPlan,
        job_id: str,
        party: Party,
        model_id: str,
        model_version: str,
        train_conf: JsonObject,
    ) -> JobRow:
        t = now_ms()
        role, pid = party
        jp = self._party_job_parameters(plan, party)
        jp.update(model_id=model_id, model_version=model_version)
        init_role, init_pid = plan.initiator
        return JobRow(
            job_id=job_id,
            role=role,
            party_id=pid,
            is_initiator=(role == init_role and pid == init_pid),
            initiator_role=init_role,
            initiator_party_id=init_pid,
            status=JobStatus.WAITING,
            tag="",
            description="",
            status_message="",
            dsl=plan.dsl,
            runtime_conf=plan.conf,
            runtime_conf_on_party={"job_parameters": jp, "local": {"role": role, "party_id": pid}},
            train_runtime_conf=train_conf,
            roles={k: list(v) for k, v in plan.roles.items()},
            progress=0,
            cancel_signal=False,
            cores=0,
            resource_in_use=False,
            create_time=t,
            update_time=t,
        )

    # ---- queries ----------------------------------------------------------------------------
    def require(self, job_id: str) -> list[JobRow]:
        """The job's row at every party this server hosts; NotFound if there is none."""
        rows = self._jobs.jobs(job_id)
        if not rows:
            raise NotFound(f"job {job_id} not found")
        return rows

    def initiator_party(self, job_id: str, role: str | None, party_id: int | None) -> Party:
        """FATE fills in the initiator's role and party when a request omits them."""
        if role and party_id is not None:
            return Party(role, party_id)
        rows = self.require(job_id)
        init = next((r for r in rows if r.is_initiator), rows[0])
        return Party(role or init.role, party_id if party_id is not None else init.party_id)

    def query(
        self,
        job_id: str | None = None,
        role: str | None = None,
        party_id: int | None = None,
        status: str | None = None,
        is_initiator: bool | None = None,
        tag: str | None = None,
    ) -> list[JobRow]:
        given = {
            "job_id": job_id,
            "role": role,
            "party_id": party_id,
            "status": status,
            "is_initiator": is_initiator,
            "tag": tag,
        }
        return self._jobs.query_jobs(**{k: v for k, v in given.items() if v is not None})

    def list_jobs(self, q: JobListQuery) -> JobPage:
        rows, total = self._jobs.list_jobs(
            limit=bounded(q.limit),
            page=q.page,
            job_id_like=q.job_id,
            description_like=q.description,
            party_id=q.party_id,
            roles=q.roles,
            statuses=q.statuses,
            order_by=q.order_by,
            order=q.order,
        )
        return JobPage(rows, total)

    def tasks(self, q: TaskQuery) -> list[TaskRow]:
        given = {k: v for k, v in vars(q).items() if v is not None}
        return self._jobs.query_tasks(**given)

    def config(self, job_id: str, role: str | None, party_id: int | None) -> JobRow:
        rows = self.require(job_id)
        row = next((r for r in rows if role in (None, r.role) and party_id in (None, r.party_id)), None)
        if row is None:
            raise NotFound(f"job {job_id} has no {role} {party_id}")
        return row

    @staticmethod
    def parameters(row: JobRow) -> JobParameters:
        """One party's typed job parameters, as stored on its job row."""
        return job_parameters(row)

    def plan_of(self, row: JobRow) -> JobPlan:
        """The parsed plan of a stored job (parsed once, then cached)."""
        return self._plans.get(row)

    def components(self, job_id: str) -> list[str]:
        return list(self._plans.get(self.require(job_id)[0]).components)

    def dependency(self, job_id: str, role: str, party_id: int) -> JsonObject:
        return dependency_view(self._plans.get(self.require(job_id)[0]), role, party_id)

    def plan_dependency(self, dsl: object, conf: object, role: str, party_id: int) -> JsonObject:
        return dependency_view(self._plans.parse(dsl, conf), role, party_id)

    # ---- changes ----------------------------------------------------------------------------
    def stop(self, job_id: str, status: str = JobStatus.CANCELED) -> None:
        rows = self._jobs.jobs(job_id, light=True)  # not the documents: a DSL may be megabytes
        if not rows:
            raise NotFound(f"job {job_id} not found")
        if status not in (JobStatus.CANCELED, JobStatus.FAILED):
            raise InvalidInput(f"stop_status: must be canceled or failed, got {status!r}")
        if all(r.status in END for r in rows):
            raise Conflict(f"job {job_id} already ended ({rows[0].status})")
        if self._remote is not None and not any(r.is_initiator for r in rows):
            # A party stops a job by asking its initiator, which stops it everywhere (FATE's way).
            self._remote.stop_at_initiator(job_id, Party(rows[0].role, rows[0].party_id), status)
            return
        # Applied here and now (cancel signal, waiting tasks ended, running tasks killed), not queued
        # behind the scheduler's work; the scheduler finishes the bookkeeping at its next event.
        self._scheduler.request_stop(job_id, JobStatus(status))

    def parties(self, job_id: str) -> list[JsonObject]:
        """Every party's own view of a job, side by side: the rows this server holds for the parties
        it serves, and (at the initiator) what each remote party answers about itself."""
        rows = self.require(job_id)
        initiator = any(r.is_initiator for r in rows)
        views = []
        for row in rows:
            party = Party(row.role, row.party_id)
            view: JsonObject = {"role": row.role, "party_id": row.party_id}
            if self._is_local(row.party_id):
                tasks = self._jobs.tasks(job_id, role=row.role, party_id=row.party_id)
                view.update(
                    served_here=True,
                    status=row.status,
                    status_message=row.status_message,
                    tasks={t.component_name: t.party_status for t in tasks},
                )
            elif initiator and self._remote is not None:
                view.update(served_here=False, **self._remote_view(job_id, party))
            else:
                continue  # a party sees only itself; the initiator sees everyone
            views.append(view)
        return views

    def _remote_view(self, job_id: str, party: Party) -> JsonObject:
        assert self._remote is not None
        try:
            found = self._remote.collect(job_id, party, deadline=5.0)
        except FedloomError as exc:
            return {"status": "unreachable", "status_message": exc.message, "tasks": {}}
        job_doc, task_docs = found.get("job"), found.get("tasks")
        job: JsonObject = job_doc if isinstance(job_doc, dict) else {}
        tasks: list[Any] = task_docs if isinstance(task_docs, list) else []
        return {
            "status": job.get("status", ""),
            "status_message": job.get("status_message", ""),
            "tasks": {t.get("component_name"): t.get("party_status") for t in tasks if isinstance(t, dict)},
        }

    def clean_queue(self) -> list[str]:
        """Cancel every job still waiting in this server's queue (FATE's `flow queue clean`)."""
        waiting = [j.job_id for j in self._jobs.initiator_jobs([JobStatus.WAITING])]
        return [job_id for job_id in waiting if self._scheduler.request_stop(job_id, JobStatus.CANCELED)]

    def rerun(self, job_id: str, components: list[str] | None, force: bool) -> list[str]:
        rows = self.require(job_id)
        if self._remote is not None and not any(r.is_initiator for r in rows):
            # A party reruns a job by asking its initiator, which reruns it everywhere (FATE's way).
            party = Party(rows[0].role, rows[0].party_id)
            return self._remote.rerun_at_initiator(job_id, party, components, force)
        init = next((r for r in rows if r.is_initiator), rows[0])
        plan = self._plans.get(init)
        if not components or components == ["pipeline"]:
            targets = list(plan.components)
        else:
            unknown = [c for c in components if c not in plan.components]
            if unknown:
                raise InvalidInput(f"component_name: {unknown} not in job {job_id}")
            targets = [c for c in plan.components if c in plan.downstream(components)]
        if init.status not in END and init.status != JobStatus.RUNNING:
            raise Conflict(f"job {job_id} is {init.status}; rerun applies to running or ended jobs")
        scheduler = self._scheduler
        redo = scheduler.call(lambda: scheduler.rerun(job_id, targets, force))
        if not redo:
            raise OperationFailed(
                f"nothing to rerun in job {job_id}: components already succeeded "
                "(use force to rerun them anyway)"
            )
        return redo

    def update_notes(self, job_id: str, role: str | None, party_id: int | None, notes: str) -> None:
        self.require(job_id)
        self._jobs.update_job(job_id, role, party_id, description=notes)

    def update_parameters(
        self, job_id: str, job_parameters: JsonObject | None, component_parameters: JsonObject | None
    ) -> ParametersUpdated:
        """Deep-merge new parameters into the stored conf (validated as a whole before anything changes)."""
        rows = self.require(job_id)
        conf = dict(rows[0].runtime_conf)
        if job_parameters:
            conf["job_parameters"] = deep_merge(conf.get("job_parameters", {}), job_parameters)
        if component_parameters:
            conf["component_parameters"] = deep_merge(
                conf.get("component_parameters", {}), component_parameters
            )
        plan = self._plans.parse(rows[0].dsl, conf)
        remote = [Party(r.role, r.party_id) for r in rows if not self._is_local(r.party_id)]
        if self._remote is not None and not any(r.is_initiator for r in rows):
            raise Conflict(f"job {job_id}: update its parameters at its initiator's server")
        if remote and self._remote is not None:
            self._remote.update_conf(job_id, remote, plan.conf)  # every party runs the same conf
        self.replace_conf(job_id, plan.conf)
        return ParametersUpdated(
            plan.conf.get("job_parameters", {}),
            plan.conf.get("component_parameters", {}),
            list(plan.components),
        )

    def replace_conf(self, job_id: str, conf: object) -> None:
        """Validate a job's new runtime conf against its DSL and store it (nothing changes if invalid)."""
        rows = self.require(job_id)
        plan = self._plans.parse(rows[0].dsl, conf, max_components=self._settings.max_job_components)
        self._jobs.update_job(job_id, runtime_conf=plan.conf)
        self._plans.forget(job_id)

    def clean(self, job_id: str) -> None:
        self.require(job_id)
        self._tracking.delete_metrics(job_id)

    # ---- logs and DSL -----------------------------------------------------------------------
    def logs_directory(self, job_id: str) -> str:
        self.require(job_id)
        return logs_directory(job_id)

    def log_archive(self, job_id: str) -> StagingFile:
        """The job's logs as a tar.gz in an owner-only staging file (the caller serves and closes it)."""
        base = logs_dir(self._settings.resolved_data_dir, job_id)
        if not base.exists():
            raise NotFound(f"no logs for job {job_id}")
        with tar_gz(staging_dir(self._settings.resolved_data_dir)) as (archive, tar):
            for path in sorted(base.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    tar.add(path, arcname=str(path.relative_to(base)), recursive=False)
        return archive

    @staticmethod
    def predict_dsl(train_dsl: object, cpn_list: list[str] | None) -> JsonObject:
        return generate_predict_dsl(train_dsl, cpn_list)


def _job_type(conf: JsonObject) -> str:
    jp = conf.get("job_parameters")
    common = jp.get("common", {}) if isinstance(jp, dict) else {}
    return str(common.get("job_type", "train")) if isinstance(common, dict) else "train"


__all__ = [
    "JobListQuery",
    "JobPage",
    "JobService",
    "ParametersUpdated",
    "RemoteParties",
    "Submitted",
    "TaskQuery",
    "logs_directory",
]
