"""What a server does when another party's server commands it (FATE-Flow's `/v1/party/...` and
`/v1/initiator/...` shapes), after `cluster.wire` has authenticated the sender.

Every command names the job, and the sender must be entitled to it: a `/v1/party/...` command for a
job must come from that job's initiator party, a `/v1/initiator/...` report from a party of the job
(about its own tasks only). Commands that change state (create, start, stop, status) are idempotent
by command id: the first answer is stored and returned again for a repeat. Every command is audited.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fedloom.cluster.wire import Envelope
from fedloom.components.registry import get_component
from fedloom.dsl import JobPlan
from fedloom.errors import (
    AuthenticationFailed,
    Conflict,
    FedloomError,
    InvalidInput,
    NotFound,
    OperationFailed,
    PermissionDenied,
)
from fedloom.ids import Party, TaskKey
from fedloom.paths import check_id, check_party_id
from fedloom.scheduler.resources import cores_needed
from fedloom.scheduler.status import END, INTERRUPT, JobStatus, TaskStatus
from fedloom.services.audit import AuditService
from fedloom.services.jobs import JobService
from fedloom.services.models import ModelService
from fedloom.services.party import PartyService
from fedloom.services.permissions import PermissionService
from fedloom.store import JobStore, now_ms
from fedloom.store.models import JobRow, TaskRow

JsonObject = dict[str, Any]
_JOB = r"/(?P<job_id>[^/]+)"
_PARTY = r"/(?P<role>[^/]+)/(?P<party_id>\d{1,10})"
_TASK = r"/(?P<component>[^/]+)/(?P<version>\d{1,9})"
TASK_FIELDS = (
    "component_name",
    "task_version",
    "role",
    "party_id",
    "party_status",
    "start_time",
    "end_time",
    "elapsed",
    "error_report",
    "auto_retries",
)


def ok(data: Any = None) -> JsonObject:
    return {"retcode": 0, "retmsg": "success", "data": data}


@dataclass(frozen=True)
class Command:
    """One parsed command: who sent it, for which job and party, and its JSON body."""

    env: Envelope
    job_id: str
    party: Party
    fields: dict[str, str]
    body: JsonObject


class CommandHandlers:
    """Dispatches a verified command to its handler; answers FATE's `{retcode, retmsg, data}`."""

    def __init__(
        self,
        jobs: JobStore,
        job_service: JobService,
        party: PartyService,
        permissions: PermissionService,
        audit: AuditService,
        models: ModelService,
        served: frozenset[int],
        changed: Callable[[str], None],
    ) -> None:
        self._models = models
        self._jobs = jobs
        self._job_service = job_service
        self._party = party
        self._permissions = permissions
        self._audit = audit
        self._served = served
        self._changed = changed  # the initiator should reconcile this job now
        party_cmd = r"/v1/party" + _JOB
        self._routes: list[tuple[re.Pattern[str], Callable[[Command], JsonObject], bool]] = [
            (re.compile(party_cmd + _PARTY + r"/create"), self._create, True),
            (re.compile(party_cmd + _PARTY + r"/status/(?P<status>[a-z]+)"), self._job_status, True),
            (re.compile(party_cmd + _PARTY + r"/collect"), self._collect, False),
            (re.compile(party_cmd + _PARTY + r"/parameter/update"), self._parameter_update, False),
            (re.compile(party_cmd + _PARTY + r"/model/deploy"), self._model_deploy, True),
            (re.compile(party_cmd + _TASK + _PARTY + r"/start"), self._start, True),
            (re.compile(party_cmd + _TASK + _PARTY + r"/stop/(?P<status>[a-z]+)"), self._stop, True),
            (re.compile(r"/v1/initiator" + _JOB + _PARTY + r"/report"), self._report, False),
            (re.compile(r"/v1/initiator" + _JOB + _PARTY + r"/status"), self._initiator_status, False),
            (
                re.compile(r"/v1/initiator" + _JOB + _PARTY + r"/stop/(?P<status>[a-z]+)"),
                self._stop_job,
                True,
            ),
            (re.compile(r"/v1/initiator" + _JOB + _PARTY + r"/rerun"), self._rerun_job, True),
        ]

    def handle(self, env: Envelope, raw: bytes) -> JsonObject:
        job_id, read_only = "", False
        try:
            route, cmd = self._parse(env, raw)
            job_id = cmd.job_id
            handler, stored = route
            answer = self._run(handler, cmd, stored)
            read_only = handler in (self._collect, self._initiator_status) or (
                handler == self._report and not (answer.get("data") or {}).get("changed")
            )
        except FedloomError as exc:
            answer = _refusal(exc)
        if read_only and answer.get("retcode") == 0:
            return answer  # the sweeps' questions and unchanged reports every few seconds would drown the log
        self._audit.record(
            f"party:{env.src}",
            f"command {env.path}",
            job_id,
            int(answer.get("retcode", 100)),
            str(answer.get("retmsg", ""))[:200],
        )
        return answer

    def _parse(
        self, env: Envelope, raw: bytes
    ) -> tuple[tuple[Callable[[Command], JsonObject], bool], Command]:
        for pattern, handler, stored in self._routes:
            m = pattern.fullmatch(env.path)
            if m is None:
                continue
            g = m.groupdict()
            job_id = check_id("job_id", g["job_id"])
            party = Party(check_id("role", g["role"]), check_party_id("party_id", int(g["party_id"])))
            if "component" in g:
                check_id("component_name", g["component"])
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                raise InvalidInput("command body: not JSON") from None
            if not isinstance(body, dict):
                raise InvalidInput("command body: must be a JSON object")
            return (handler, stored), Command(env, job_id, party, g, body)
        raise NotFound(f"unknown command {env.path}")

    def _run(self, handler: Callable[[Command], JsonObject], cmd: Command, stored: bool) -> JsonObject:
        if not stored:
            return handler(cmd)
        command_id = f"{cmd.env.src}:{cmd.env.command_id}"[:128]
        first = self._jobs.command_answer(command_id)
        if first is not None:
            return first
        try:
            answer = handler(cmd)
        except FedloomError as exc:
            return _refusal(exc)  # a refusal changed nothing: a repeat is decided afresh
        return self._jobs.save_command_answer(command_id, answer)

    # ---- initiator -> party -----------------------------------------------------------------
    def _create(self, cmd: Command) -> JsonObject:
        self._for_me(cmd)
        body = cmd.body
        initiator = Party(
            check_id("initiator_role", _str(body, "initiator_role"), "role"),
            check_party_id("initiator_party_id", _int(body, "initiator_party_id")),
        )
        if initiator.party_id != cmd.env.src:
            raise AuthenticationFailed(f"party {cmd.env.src} may not create a job initiated by {initiator}")
        if self._jobs.job(cmd.job_id, cmd.party.role, cmd.party.party_id) is not None:
            raise Conflict(f"job {cmd.job_id} already exists at {cmd.party.role} {cmd.party.party_id}")

        def consent(plan: JobPlan) -> None:
            if plan.initiator != initiator:
                raise InvalidInput("initiator: differs from the job's runtime conf")
            self._consent(cmd.env.src, cmd.party, plan, None)

        model = (_str(body, "model_id"), _str(body, "model_version"))
        train = body.get("train_runtime_conf") or {}
        if not isinstance(train, dict):
            raise InvalidInput("train_runtime_conf: must be an object")
        plan = self._job_service.accept(
            cmd.job_id, body.get("dsl"), body.get("runtime_conf"), [cmd.party], model, train, consent
        )
        role, pid = cmd.party
        runs = [c for c in plan.components if cmd.party in plan.parties_of(c)]
        return ok({"components": {c: {"need_run": plan.need_run(c, role, pid)} for c in runs}})

    def _start(self, cmd: Command) -> JsonObject:
        job = self._initiated_by_sender(cmd)
        key = TaskKey(cmd.job_id, cmd.fields["component"], int(cmd.fields["version"]), *cmd.party)
        self._still_consented(cmd, job, key.component_name)
        known = self._jobs.task(key) is not None
        if job.status in END and known:  # a start that arrives after the job ended here: too late
            raise Conflict(f"job {cmd.job_id} has ended at {cmd.party.role} {cmd.party.party_id}")
        if not known:
            self._jobs.add_tasks([_task_row(key, cmd.body.get("task"), job)])
        fed_key = _hex_key(cmd.body.get("federation_key"))
        if job.status in END:  # a new task version of an ended job: the initiator reran it
            self._jobs.transition_job(
                cmd.job_id, JobStatus.WAITING, end_time=None, elapsed=None, tag="", status_message="rerun"
            )
        self._reserve_cores(cmd.job_id, cmd.party)
        self._jobs.transition_job(cmd.job_id, JobStatus.RUNNING, start_time=now_ms())
        self._party.start_task(key.job_id, key.component_name, key.task_version, cmd.party, fed_key)
        row = self._jobs.task(key)
        return ok({"party_status": row.party_status if row else TaskStatus.FAILED})

    def _reserve_cores(self, job_id: str, party: Party) -> None:
        """A party reserves the job's cores here at its first task (all or nothing, once per job) and
        returns them when the job ends; without enough free cores the start is refused (103) and the
        initiator tries it again later: the job waits, as it would in a standalone queue."""
        rows = self._jobs.jobs(job_id, light=True)
        if any(r.resource_in_use for r in rows):
            return
        need = self._cores(rows)
        if not self._jobs.apply_resources(job_id, need):
            free = {p: r.remaining_cores for p, r in self._jobs.party_resources(need).items()}
            short = "; ".join(f"party {p} needs {c} cores, {free.get(p, 0)} free" for p, c in need.items())
            raise OperationFailed(
                f"waiting for resources at {party.role} {party.party_id}: {short}", data={"waiting": "cores"}
            )

    def _cores(self, rows: list[JobRow]) -> dict[int, int]:
        return cores_needed(rows, self._served.__contains__)

    def _still_consented(self, cmd: Command, job: JobRow, component: str) -> None:
        """Consent is checked again at every task: a grant revoked while a job runs stops it at its
        next task here (PermissionDenied, 108, shown at the initiator)."""
        plan = self._job_service.plan_of(job)
        node = plan.components.get(component)
        if node is None or cmd.party not in plan.parties_of(component):
            raise InvalidInput(
                f"component_name: {component} does not run at {cmd.party.role} {cmd.party.party_id}"
            )
        self._consent(cmd.env.src, cmd.party, plan, node.module)

    def _consent(self, src: int, party: Party, plan: JobPlan, module: str | None) -> None:
        """`src` may run `module` (None: every module of the job at `party`) on the tables the job reads
        here; a Reader naming an earlier job's outputs may read only those of `src`'s own jobs."""
        modules, tables, earlier = _uses(plan, party)
        if plan.job_type == "predict":  # a model trained here: only from the same initiator's jobs
            common = plan.conf.get("job_parameters", {}).get("common", {})
            model = (str(common.get("model_id", "")), str(common.get("model_version", "")))
            earlier += sorted(self._models.training_jobs(*model, party))
        for job_id in earlier:
            rows = self._jobs.jobs(job_id, light=True)
            if not any(r.party_id == party.party_id and r.initiator_party_id == src for r in rows):
                raise PermissionDenied(
                    f"permission check failed at {party.role} {party.party_id}: the outputs of job {job_id} "
                    f"here do not belong to a job initiated by party {src}"
                )
        self._permissions.check_job(src, party, [module.lower()] if module else modules, tables)

    def _parameter_update(self, cmd: Command) -> JsonObject:
        """The initiator changed the job's parameters (before a rerun): the same conf here."""
        self._initiated_by_sender(cmd)
        self._job_service.replace_conf(cmd.job_id, cmd.body.get("runtime_conf"))
        return ok()

    def _model_deploy(self, cmd: Command) -> JsonObject:
        """The initiator deployed the model this job trained: the same deployed version here."""
        self._initiated_by_sender(cmd)
        model = (_str(cmd.body, "model_id"), _str(cmd.body, "model_version"))
        inference = cmd.body.get("inference_dsl")
        if not isinstance(inference, dict):
            raise InvalidInput("inference_dsl: must be an object")
        self._models.deploy_child(cmd.job_id, model, _str(cmd.body, "child_version"), inference)
        return ok()

    def _stop(self, cmd: Command) -> JsonObject:
        self._initiated_by_sender(cmd)
        status = _end_status(cmd.fields["status"], TaskStatus)
        key = TaskKey(cmd.job_id, cmd.fields["component"], int(cmd.fields["version"]), *cmd.party)
        self._party.stop_task(key.job_id, key.component_name, key.task_version, cmd.party, status)
        return ok()

    def _job_status(self, cmd: Command) -> JsonObject:
        self._initiated_by_sender(cmd)
        status = _end_status(cmd.fields["status"], JobStatus)
        message = cmd.body.get("status_message")
        self.end_job(cmd.job_id, status, str(message)[:4000] if isinstance(message, str) else "")
        return ok()

    def end_job(self, job_id: str, status: JobStatus, message: str) -> None:
        """A job ended at its initiator (or lost it): end it here, stop its tasks, drop its messages."""
        rows = self._jobs.jobs(job_id, light=True)
        if status != JobStatus.SUCCESS:  # tasks first: a job shown ended has no task left to end
            self._jobs.end_waiting_tasks(job_id, TaskStatus(status))
            for task in self._jobs.running_job_tasks(job_id):
                self._party.stop_task(
                    job_id, task.component_name, task.task_version, task.party, TaskStatus(status)
                )
        t = now_ms()
        moved = self._jobs.transition_job(job_id, status, end_time=t, status_message=message, tag="job_end")
        self._jobs.return_resources(job_id, self._cores(rows))
        if moved and status == JobStatus.SUCCESS:
            self._models.save_pipeline_models(job_id)  # this party's part of the trained model
        for row in rows:
            self._party.job_ended(job_id, Party(row.role, row.party_id), status)

    def _collect(self, cmd: Command) -> JsonObject:
        job = self._initiated_by_sender(cmd)
        return ok(
            {
                "job": {"status": job.status, "status_message": job.status_message, "progress": job.progress},
                "tasks": self.task_states(cmd.job_id, cmd.party),
            }
        )

    def task_states(self, job_id: str, party: Party) -> list[JsonObject]:
        """The newest version of each task of `party` in the job, as reported to the initiator."""
        rows = self._jobs.tasks(job_id, role=party.role, party_id=party.party_id)
        return [_state(r) for r in rows]

    # ---- party -> initiator -----------------------------------------------------------------
    def _report(self, cmd: Command) -> JsonObject:
        self._from_a_party(cmd)
        states = cmd.body.get("tasks")
        if not isinstance(states, list) or len(states) > 100_000:
            raise InvalidInput("tasks: must be a list of task states")
        changed = self.apply_states(cmd.job_id, cmd.party, states)
        if changed:
            self._changed(cmd.job_id)
        return ok({"changed": changed})

    def apply_states(self, job_id: str, party: Party, states: list[Any]) -> bool:
        """Move the initiator's holder rows of `party`'s tasks to the statuses it reports; True if
        any moved. A report never touches another party's rows, and only allowed transitions apply."""
        changed = False
        for doc in states:
            if not isinstance(doc, dict):
                raise InvalidInput("tasks: each task state must be an object")
            key = TaskKey(
                job_id,
                check_id("component_name", _str(doc, "component_name")),
                _int(doc, "task_version"),
                party.role,
                party.party_id,
            )
            if (doc.get("role"), doc.get("party_id")) != tuple(party):
                raise AuthenticationFailed(f"a report from {party.role} {party.party_id} names another party")
            changed |= self._apply_state(key, doc)
        return changed

    def _apply_state(self, key: TaskKey, doc: JsonObject) -> bool:
        row = self._jobs.task(key)
        if row is None:
            return False
        moved = False
        status = _str(doc, "party_status")
        if status != row.party_status and status in TaskStatus.__members__.values():
            fields = {
                f: doc.get(f) for f in ("start_time", "end_time", "elapsed") if isinstance(doc.get(f), int)
            }
            report = doc.get("error_report")
            if isinstance(report, str) and report:
                fields["error_report"] = report[:4000]
            moved = self._jobs.transition_task(key, TaskStatus(status), **fields)
        retries = doc.get("auto_retries")
        if isinstance(retries, int) and 0 <= retries <= 100 and retries > row.auto_retries:
            self._jobs.update_task(key, auto_retries=retries)
            moved = True
        return moved

    def _stop_job(self, cmd: Command) -> JsonObject:
        """A party asks the initiator to stop the whole job (its user ran job/stop there)."""
        self._from_a_party(cmd)
        status = _end_status(cmd.fields["status"], JobStatus)
        self._job_service.stop(cmd.job_id, status)
        return ok()

    def _rerun_job(self, cmd: Command) -> JsonObject:
        """A party asks the initiator to rerun the job (its user ran job/rerun there)."""
        self._from_a_party(cmd)
        names = cmd.body.get("component_name")
        if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            raise InvalidInput("component_name: must be a list of component names")
        force = cmd.body.get("force", False)
        if not isinstance(force, bool):
            raise InvalidInput("force: must be true or false")
        return ok({"components": self._job_service.rerun(cmd.job_id, names, force)})

    def _initiator_status(self, cmd: Command) -> JsonObject:
        job = self._from_a_party(cmd)
        return ok({"status": job.status, "status_message": job.status_message})

    # ---- who may command what ---------------------------------------------------------------
    def _for_me(self, cmd: Command) -> None:
        if cmd.party.party_id != cmd.env.dst or cmd.party.party_id not in self._served:
            raise AuthenticationFailed(f"party {cmd.party.party_id} is not the command's destination here")

    def _initiated_by_sender(self, cmd: Command) -> JobRow:
        self._for_me(cmd)
        job = self._jobs.job(cmd.job_id, cmd.party.role, cmd.party.party_id)
        if job is None:
            raise NotFound(f"job {cmd.job_id} has no {cmd.party.role} {cmd.party.party_id} here")
        if job.is_initiator or job.initiator_party_id != cmd.env.src:
            raise AuthenticationFailed(f"party {cmd.env.src} is not the initiator of job {cmd.job_id}")
        return job

    def _from_a_party(self, cmd: Command) -> JobRow:
        job = self._jobs.initiator_job(cmd.job_id, light=True)
        if job is None or job.initiator_party_id != cmd.env.dst:
            raise NotFound(f"job {cmd.job_id} was not initiated here")
        if cmd.party.party_id != cmd.env.src or cmd.party.party_id in self._served:
            raise AuthenticationFailed(f"party {cmd.env.src} may report only its own tasks")
        if self._jobs.job(cmd.job_id, cmd.party.role, cmd.party.party_id) is None:
            raise AuthenticationFailed(
                f"{cmd.party.role} {cmd.party.party_id} is not a party of job {cmd.job_id}"
            )
        return job


def _uses(plan: JobPlan, party: Party) -> tuple[set[str], list[tuple[str, str]], list[str]]:
    """The modules a job runs at `party`, the tables its Readers read there, and the earlier jobs
    whose outputs its Readers read there (for consent)."""
    modules: set[str] = set()
    tables: list[tuple[str, str]] = []
    earlier: list[str] = []
    for name, node in plan.components.items():
        if party not in plan.parties_of(name):
            continue
        modules.add(node.module.lower())
        if get_component(node.module).reads_table:
            table = plan.params(name, *party).get("table")
            if isinstance(table, dict) and table.get("job_id"):
                earlier.append(str(table["job_id"]))
            elif isinstance(table, dict):
                tables.append((str(table.get("namespace", "")), str(table.get("name", ""))))
    return modules, tables, earlier


def _refusal(exc: FedloomError) -> JsonObject:
    answer: JsonObject = {"retcode": exc.retcode, "retmsg": exc.message}
    if exc.data is not None:
        answer["data"] = exc.data  # e.g. FATE's {code, message} of a permission refusal
    return answer


def _state(row: TaskRow) -> JsonObject:
    doc = {f: getattr(row, f) for f in TASK_FIELDS}
    if row.party_status in INTERRUPT and row.error_report:
        where = f"logs/{row.job_id}/{row.role}/{row.party_id}/{row.component_name}"
        doc["error_report"] = f"{row.error_report} (task log at {row.role} {row.party_id}: {where})"
    return doc


def _task_row(key: TaskKey, doc: object, job: JobRow) -> TaskRow:
    """A new task version the initiator made (a retry or rerun), as this party stores it."""
    if not isinstance(doc, dict):
        raise InvalidInput("task: must be an object")
    module = check_id("component_module", _str(doc, "component_module"), "component_name")
    retries = _int(doc, "auto_retries")
    t = now_ms()
    return TaskRow(
        job_id=key.job_id,
        component_name=key.component_name,
        task_version=key.task_version,
        role=key.role,
        party_id=key.party_id,
        task_id=f"{key.job_id}_{key.component_name}",
        component_module=module,
        status=TaskStatus.WAITING,
        party_status=TaskStatus.WAITING,
        need_run=bool(doc.get("need_run", True)),
        auto_retries=min(retries, 100),
        create_time=t,
        update_time=t,
    )


def _hex_key(value: object) -> bytes:
    try:
        key = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        key = b""
    if len(key) != 32:
        raise InvalidInput("federation_key: must be 32 bytes in hex")
    return key


def _end_status(value: str, kind: type[JobStatus] | type[TaskStatus]) -> Any:
    if value not in kind.__members__.values() or value in (JobStatus.WAITING, JobStatus.RUNNING):
        raise InvalidInput(f"status: {value!r} is not an end status")
    status = kind(value)
    if kind is TaskStatus and status not in END:
        raise InvalidInput(f"status: {value!r} is not an end status")
    return status


def _str(doc: JsonObject, field: str) -> str:
    value = doc.get(field)
    if not isinstance(value, str) or not value or len(value) > 4000:
        raise InvalidInput(f"{field}: must be a non-empty string")
    return value


def _int(doc: JsonObject, field: str) -> int:
    value = doc.get(field)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInput(f"{field}: must be a non-negative integer")
    return value


__all__ = ["CommandHandlers", "ok"]
