"""The party side of a job: store it, start and stop its tasks, recover after a crash."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fedloom.components.registry import get_component
from fedloom.config import Settings
from fedloom.dsl import ComponentNode, JobPlan, Ref
from fedloom.errors import FedloomError, NotFound
from fedloom.federation.auth import session_key
from fedloom.federation.channel import Mailbox, session_name
from fedloom.ids import Party, TaskKey
from fedloom.scheduler.resources import task_cores
from fedloom.scheduler.status import END, TaskStatus
from fedloom.services.plans import PlanCache
from fedloom.services.readers import reader_table
from fedloom.storage.tables import TableStore
from fedloom.store import JobStore, TrackingStore, now_ms
from fedloom.store.models import JobRow, TaskRow
from fedloom.worker.pool import WorkerPool, is_our_task, kill_pid, pid_alive
from fedloom.worker.spec import ModelBinding, TableBinding, TaskSpec

log = logging.getLogger(__name__)


class PartyService:
    """What a party does when the initiator commands it. In standalone every party is local."""

    def __init__(
        self,
        settings: Settings,
        jobs: JobStore,
        tracking: TrackingStore,
        tables: TableStore,
        mailbox: Mailbox,
        plans: PlanCache,
        on_task_end: Callable[[str], None],
        federation_secret: bytes,
        forward_socket: str = "",
    ) -> None:
        self._settings = settings
        self._forward_socket = forward_socket  # cluster mode: where tasks hand messages for other servers
        self._server = settings.server_id or ""  # replicas: which one runs a task
        self._federation_secret = federation_secret
        self._mailbox = mailbox
        self._jobs = jobs
        self._tracking = tracking
        self._tables = tables
        self._plans = plans
        self._on_task_end = on_task_end
        self.pool = WorkerPool(self._task_exited, owner=str(settings.resolved_data_dir))

    # ---- tasks ------------------------------------------------------------------------------
    def start_task(
        self, job_id: str, component: str, version: int, party: Party, federation_key: bytes | None = None
    ) -> None:
        """Start one task. `federation_key`: the session key the initiator made (cluster mode); by
        default it is derived from this server's secret (every party of the session is here)."""
        key = TaskKey(job_id, component, version, party.role, party.party_id)
        if not self._jobs.transition_task(key, TaskStatus.RUNNING, start_time=now_ms()):
            return  # already started (a repeated command): idempotent
        try:
            spec = self._task_spec(job_id, component, version, party, federation_key)
            pid = self.pool.start(spec)
            self._jobs.update_task(key, run_pid=pid, run_server=self._server)
        except Exception as exc:  # any failure to launch becomes the task's error, shown to the user
            if isinstance(exc, FedloomError):
                msg = exc.message
                log.warning("could not start %s: %s", key, msg)
            else:  # its text may hold server paths: the server log has it, the user a pointer
                msg = f"the task could not be started ({type(exc).__name__}; the server log has the details)"
                log.exception("could not start %s", key)
            self._jobs.transition_task(
                key, TaskStatus.FAILED, end_time=now_ms(), error_report=str(msg)[:4000]
            )
            self._on_task_end(job_id)

    def stop_task(self, job_id: str, component: str, version: int, party: Party, status: str) -> None:
        key = TaskKey(job_id, component, version, party.role, party.party_id)
        row = self._jobs.task(key)
        # The status first: the exit of the killed process must not be mistaken for a crash.
        self._jobs.transition_task(key, TaskStatus(status), end_time=now_ms(), kill_status=True)
        if (
            not self.pool.kill(key)
            and row is not None
            and row.run_pid
            and row.party_status == TaskStatus.RUNNING
        ):
            _kill_orphan(
                row.run_pid, str(self._settings.resolved_data_dir)
            )  # started by a previous server: we hold no handle to it

    def job_ended(self, job_id: str, party: Party, status: str) -> None:
        """Outputs stay for tracking; the job's federation messages here (read or not) are deleted."""
        self._mailbox.drop_job(job_id)

    def _task_exited(self, spec: TaskSpec, exitcode: int | None) -> None:
        row = self._jobs.task(spec.key)
        if row is not None and row.party_status == TaskStatus.RUNNING:
            why = f"task process exited with code {exitcode} before reporting an end status"
            self._jobs.transition_task(spec.key, TaskStatus.FAILED, end_time=now_ms(), error_report=why)
        self._on_task_end(spec.job_id)

    # ---- recovery ---------------------------------------------------------------------------
    def recover(self) -> int:
        """After a crash: the tasks this server left `running` are killed and given one more try (a new
        version). Only its own: rows of parties served elsewhere (the initiator's holder rows in
        cluster mode) and tasks another replica runs are not its to recover."""
        rows = self._jobs.running_tasks_of(self._server)
        return self._interrupt(rows, "interrupted: the server stopped while the task was running")

    def adopt(self, job_id: str) -> int:
        """A replica took over a job whose reconciling replica stopped: the tasks that replica ran
        (dead with it, or orphaned) are killed and given one more try here."""
        rows = self._jobs.running_tasks_elsewhere(job_id, self._server)
        return self._interrupt(rows, "interrupted: the replica that ran the task stopped")

    def _interrupt(self, rows: list[TaskRow], why: str) -> int:
        count = 0
        for row in rows:
            if not self._serves(row.party_id):
                continue
            if row.run_pid and pid_alive(row.run_pid):
                _kill_orphan(row.run_pid, str(self._settings.resolved_data_dir))
            key = TaskKey(row.job_id, row.component_name, row.task_version, row.role, row.party_id)
            self._jobs.transition_task(
                key, TaskStatus.FAILED, end_time=now_ms(), auto_retries=row.auto_retries + 1, error_report=why
            )
            count += 1
        return count

    def _serves(self, party_id: int) -> bool:
        return not self._settings.cluster or party_id in self._settings.party_ids

    def drop_stale_sessions(self) -> int:
        """At start: the mailboxes of jobs that ended or vanished while no server ran (or of unknown names)."""
        return self._mailbox.drop_jobs_except(self._job_open)

    def _job_open(self, job_id: str) -> bool:
        return any(r.status not in END for r in self._jobs.jobs(job_id))

    # ---- inputs -----------------------------------------------------------------------------
    def session_key(self, job_id: str, component: str, version: int) -> bytes:
        """The federation key of a session whose initiator is this server."""
        return session_key(self._federation_secret, session_name(job_id, component, version))

    def _task_spec(
        self, job_id: str, component: str, version: int, party: Party, federation_key: bytes | None
    ) -> TaskSpec:
        role, pid = party
        job = self._jobs.job(job_id, role, pid)
        if job is None:
            raise NotFound(f"job {job_id} has no {role} {pid}")
        plan = self._plans.get(job)
        node = plan.components[component]
        params = plan.params(component, role, pid)
        data_inputs = self._bind_data(job, node, party, params)
        return TaskSpec(
            job_id=job_id,
            component_name=component,
            module=node.module,
            task_version=version,
            role=role,
            party_id=pid,
            parties={k: list(v) for k, v in plan.roles.items()},
            params=params,
            need_run=plan.need_run(component, role, pid),
            data_inputs=data_inputs,
            model_inputs=self._bind_models(job, plan, node.model_inputs, node.pipeline_model_refs, party),
            isometric_inputs=self._bind_models(job, plan, node.isometric_model_inputs, (), party),
            task_cores=task_cores(job),
            database_url=self._settings.sqlalchemy_url,
            data_dir=str(self._settings.resolved_data_dir),
            federation_timeout=self._settings.federation_timeout,
            federation_key=(federation_key or self.session_key(job_id, component, version)).hex(),
            local_parties=list(self._settings.party_ids),
            forward_socket=self._forward_socket,
        )

    def _bind_data(
        self, job: JobRow, node: ComponentNode, party: Party, params: dict[str, Any]
    ) -> dict[str, list[TableBinding]]:
        out = self._tables_named_by_params(node, params, party)
        for key, refs in node.data_inputs.items():
            # An upstream that produced nothing at this party (it does not run for this role, e.g.
            # Intersection at the arbiter, or it ran with need_run false) contributes no input.
            bound = [self._find_output(job.job_id, ref.component, ref.alias, party) for ref in refs]
            out[key] = [b for b in bound if b is not None]
        return out

    def _tables_named_by_params(
        self, node: ComponentNode, params: dict[str, Any], party: Party
    ) -> dict[str, list[TableBinding]]:
        """The one input not bound by a DSL edge: the table a Reader names in its `table` parameter
        (checked as at submit, `services.readers`), or the output of an earlier job it names there."""
        if not get_component(node.module).reads_table:
            return {}
        named = reader_table(node.name, params, party, self._tables)
        if named is not None:
            return {"table": [TableBinding(namespace=named.namespace, name=named.name)]}
        table = params["table"]
        return {
            "table": [
                self._output_table(
                    table["job_id"], table.get("component_name") or "", table.get("data") or "data", party
                )
            ]
        }

    def _output_table(self, job_id: str, component: str, alias: str, party: Party) -> TableBinding:
        found = self._find_output(job_id, component, alias, party)
        if found is None:
            raise NotFound(
                f"input {component}.{alias} has no output at {party.role} {party.party_id} (job {job_id})"
            )
        return found

    def _find_output(self, job_id: str, component: str, alias: str, party: Party) -> TableBinding | None:
        rows = self._tracking.output_data(job_id, component, party.role, party.party_id)
        row = next((r for r in rows if r.data_name == alias), None)
        return None if row is None else TableBinding(namespace=row.table_namespace, name=row.table_name)

    def _bind_models(
        self, job: JobRow, plan: JobPlan, refs: Iterable[Ref], pipeline_refs: tuple[Ref, ...], party: Party
    ) -> list[ModelBinding]:
        out = [
            ModelBinding(
                job_id=job.job_id, component_name=r.component, role=party.role, party_id=party.party_id
            )
            for r in refs
        ]
        if pipeline_refs:
            deployed = self._deployed_components(plan, party)
            for r in pipeline_refs:
                src = deployed.get(r.component)
                if src is None:
                    raise NotFound(f"deployed model has no component {r.component}")
                out.append(
                    ModelBinding(
                        job_id=src["job_id"],
                        component_name=src.get("component_name", r.component),
                        task_version=src.get("task_version"),
                        role=party.role,
                        party_id=party.party_id,
                    )
                )
        return out

    def _deployed_components(self, plan: JobPlan, party: Party) -> Mapping[str, Any]:
        jp = plan.conf.get("job_parameters", {}).get("common", {})
        rows = self._tracking.pipeline_models(
            model_id=jp.get("model_id"),
            model_version=str(jp.get("model_version")),
            role=party.role,
            party_id=party.party_id,
        )
        if not rows:
            raise NotFound(
                f"model {jp.get('model_id')} {jp.get('model_version')} not found at "
                f"{party.role} {party.party_id}"
            )
        return dict(rows[0].components)

    def new_task_rows(self, job_id: str, plan: JobPlan, parties: list[Party]) -> list[TaskRow]:
        t = now_ms()
        rows = []
        for name, node in plan.components.items():
            for role, pid in plan.parties_of(name):
                if (role, pid) not in parties:
                    continue
                rows.append(
                    TaskRow(
                        job_id=job_id,
                        component_name=name,
                        task_version=0,
                        role=role,
                        party_id=pid,
                        task_id=f"{job_id}_{name}",
                        component_module=node.module,
                        status=TaskStatus.WAITING,
                        party_status=TaskStatus.WAITING,
                        need_run=plan.need_run(name, role, pid),
                        auto_retries=int(plan.job_parameters(role, pid).auto_retries),
                        create_time=t,
                        update_time=t,
                    )
                )
        return rows


def _kill_orphan(pid: int, owner: str) -> None:
    """Kill a task process we no longer hold a handle to, but only if a pool of this data dir started it."""
    if is_our_task(pid, owner):
        kill_pid(pid)


__all__ = ["PartyService"]
