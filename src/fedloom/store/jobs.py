"""JobStore: jobs, tasks and party resources, with compare-and-set status transitions."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, NamedTuple, Protocol, TypeVar

from sqlalchemy import bindparam, func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer, sessionmaker
from sqlalchemy.sql.base import ExecutableOption
from sqlalchemy.sql.elements import ColumnElement

from fedloom.errors import Conflict, InvalidInput
from fedloom.ids import Party, TaskKey
from fedloom.store.models import CommandRow, JobRow, PartyResourceRow, TaskRow
from fedloom.store.status import JobStatus, TaskStatus, job_sources, task_sources


def now_ms() -> int:
    return int(time.time() * 1000)


# The columns `list_jobs` may order by (FATE's `order_by` values).
JOB_ORDER_COLUMNS = {
    "job_id": JobRow.job_id,
    "create_time": JobRow.create_time,
    "start_time": JobRow.start_time,
    "end_time": JobRow.end_time,
    "elapsed": JobRow.elapsed,
}


class JobStore:
    """Jobs and tasks of the parties this server hosts (plus the initiator's view of remote ones).

    A job's `status` and a task's `party_status` change only through `transition_job`,
    `transition_task` and `end_waiting_tasks`, which take the target status and derive the allowed
    sources from the transition tables (`fedloom.store.status`) in the WHERE clause: a disallowed
    transition touches no row and returns False, and a lost race does the same. `update_job` and
    `update_task` refuse status fields. A task's federated `status` is recomputed by the initiator from
    its parties' statuses and written by `set_federated_statuses`, compare-and-set on its old value.
    Every method is one transaction.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # ---- jobs -------------------------------------------------------------------------------
    def create_job(self, jobs: Sequence[JobRow], tasks: Sequence[TaskRow]) -> None:
        """Store a job's rows and its tasks in one transaction; MUST fail (Conflict) if it exists."""
        try:
            with self._sessions.begin() as s:
                s.add_all(list(jobs))
                if tasks:  # one executemany: a 10,000-component job is one statement, not 20,000 flushes
                    s.execute(insert(TaskRow), [_task_values(t) for t in tasks])
        except IntegrityError as exc:
            raise Conflict(f"job {jobs[0].job_id if jobs else '?'} already exists") from exc

    def jobs(self, job_id: str, *, light: bool = False) -> list[JobRow]:
        """Every party's row of a job. `light`: without the documents (dsl, runtime_conf,
        train_runtime_conf), which MUST then not be read: a 10,000-component DSL is megabytes."""
        with self._sessions() as s:
            return list(s.scalars(select(JobRow).where(JobRow.job_id == job_id).options(*_light(light))))

    def job(self, job_id: str, role: str, party_id: int) -> JobRow | None:
        with self._sessions() as s:
            return s.get(JobRow, (job_id, role, party_id))

    def initiator_job(self, job_id: str, *, light: bool = False) -> JobRow | None:
        with self._sessions() as s:
            q = select(JobRow).where(JobRow.job_id == job_id, JobRow.is_initiator.is_(True))
            return s.scalars(q.options(*_light(light))).first()

    def query_jobs(self, **filters: Any) -> list[JobRow]:
        """Jobs matching equality filters on columns (unknown filter names are refused)."""
        conds = []
        for key, value in filters.items():
            col = getattr(JobRow, key, None)
            if col is None or key.startswith("_"):
                raise InvalidInput(f"job query: unknown filter {key!r}")
            conds.append(col == value)
        with self._sessions() as s:
            q = select(JobRow).where(*conds).order_by(JobRow.create_time.desc(), JobRow.role)
            return list(s.scalars(q))

    def list_jobs(
        self,
        *,
        limit: int = 0,
        page: int = 1,
        job_id_like: str | None = None,
        description_like: str | None = None,
        party_id: int | None = None,
        roles: Sequence[str] = (),
        statuses: Sequence[str] = (),
        order_by: str = "create_time",
        order: str = "desc",
    ) -> tuple[list[JobRow], int]:
        col = JOB_ORDER_COLUMNS.get(order_by)
        if col is None:
            raise InvalidInput(f"order_by: unknown column {order_by!r}")
        conds: list[Any] = []
        if job_id_like:
            conds.append(JobRow.job_id.contains(job_id_like))
        if description_like:
            conds.append(JobRow.description.contains(description_like))
        if party_id is not None:
            conds.append(JobRow.party_id == party_id)
        if roles:
            conds.append(JobRow.role.in_(list(roles)))
        if statuses:
            conds.append(JobRow.status.in_(list(statuses)))
        with self._sessions() as s:
            total = s.scalar(select(func.count()).select_from(JobRow).where(*conds)) or 0
            q = select(JobRow).where(*conds).order_by(col.desc() if order == "desc" else col.asc())
            if limit > 0:
                q = q.offset((max(page, 1) - 1) * limit).limit(limit)
            return list(s.scalars(q)), int(total)

    def initiator_jobs(self, statuses: Iterable[str], *, light: bool = False) -> list[JobRow]:
        with self._sessions() as s:
            q = (
                select(JobRow)
                .where(JobRow.is_initiator.is_(True), JobRow.status.in_(list(statuses)))
                .order_by(JobRow.create_time, JobRow.job_id)
                .options(*_light(light))
            )
            return list(s.scalars(q))

    def count_initiator_jobs(self, status: str) -> int:
        with self._sessions() as s:
            q = (
                select(func.count())
                .select_from(JobRow)
                .where(JobRow.is_initiator.is_(True), JobRow.status == status)
            )
            return int(s.scalar(q) or 0)

    def transition_job(self, job_id: str, target: JobStatus, **fields: Any) -> bool:
        """Move every row of the job that may go to `target` (by the table) there; True if any moved.
        `fields` are other columns written with the move (MUST refuse a status: the target is one)."""
        _no_status(fields, "the target of transition_job")
        values = {"status": target, "update_time": now_ms(), **fields}
        with self._sessions.begin() as s:
            res = s.execute(
                update(JobRow)
                .where(JobRow.job_id == job_id, JobRow.status.in_(job_sources(target)))
                .values(**values)
            )
            return bool(getattr(res, "rowcount", 0))

    def update_job(
        self, job_id: str, role: str | None = None, party_id: int | None = None, **fields: Any
    ) -> int:
        """Set fields other than the status (MUST refuse `status`: see `transition_job`)."""
        _no_status(fields, "transition_job")
        conds = [JobRow.job_id == job_id]
        if role is not None:
            conds.append(JobRow.role == role)
        if party_id is not None:
            conds.append(JobRow.party_id == party_id)
        with self._sessions.begin() as s:
            res = s.execute(update(JobRow).where(*conds).values(update_time=now_ms(), **fields))
            return int(getattr(res, "rowcount", 0))

    # ---- tasks ------------------------------------------------------------------------------
    def tasks(self, job_id: str, *, latest: bool = True, **filters: Any) -> list[TaskRow]:
        """Tasks of a job (only the newest version of each component unless latest=False)."""
        rows = self._select_tasks(job_id=job_id, **filters)
        return _newest_versions(rows, _job_component) if latest else rows

    def query_tasks(self, **filters: Any) -> list[TaskRow]:
        """Tasks across jobs matching equality filters (newest version per component and party)."""
        return _newest_versions(self._select_tasks(**filters), _job_component)

    def _select_tasks(self, **filters: Any) -> list[TaskRow]:
        conds = []
        for key, value in filters.items():
            col = getattr(TaskRow, key, None)
            if col is None or key.startswith("_"):
                raise InvalidInput(f"task query: unknown filter {key!r}")
            conds.append(col == value)
        with self._sessions() as s:
            return list(s.scalars(select(TaskRow).where(*conds).order_by(TaskRow.create_time)))

    def task(self, key: TaskKey) -> TaskRow | None:
        with self._sessions() as s:
            return s.get(TaskRow, tuple(key))

    def task_states(self, job_id: str, *, open_only: bool = False) -> list[TaskState]:
        """The newest version of every task of a job, as light tuples: one query, no ORM objects.

        `open_only`: only the components with a row whose federated status is still waiting or
        running (all their rows), which after a stop is a handful, not the whole DAG.
        """
        q = select(*(getattr(TaskRow, f) for f in TaskState._fields)).where(TaskRow.job_id == job_id)
        if open_only:
            open_cpns = select(TaskRow.component_name).where(
                TaskRow.job_id == job_id, TaskRow.status.in_([TaskStatus.WAITING, TaskStatus.RUNNING])
            )
            q = q.where(TaskRow.component_name.in_(open_cpns))
        with self._sessions() as s:
            rows = [TaskState(*r) for r in s.execute(q)]
        return _newest_versions(rows, lambda r: r.component_name)  # one job: the component is the key

    def set_federated_statuses(self, job_id: str, changes: Sequence[tuple[str, int, str, str]]) -> None:
        """Compare-and-set the federated `status` of many task versions in one statement.

        Each change is (component, version, old status, new status); rows no longer in the old status
        are left alone (a stop that got there first wins).
        """
        if not changes:
            return
        stmt = (
            update(TaskRow)
            .where(
                TaskRow.job_id == job_id,
                TaskRow.component_name == bindparam("cpn"),
                TaskRow.task_version == bindparam("ver"),
                TaskRow.status == bindparam("old"),
            )
            .values(status=bindparam("new"), update_time=now_ms())
        )
        params = [{"cpn": c, "ver": v, "old": old, "new": new} for c, v, old, new in changes]
        with self._sessions.begin() as s:
            s.connection().execute(stmt, params)

    def end_waiting_tasks(self, job_id: str, status: TaskStatus) -> int:
        """Every task row of the job still waiting gets `status` (party and federated), in one
        statement, if the table lets a waiting task end so. Running rows are left to the caller,
        which must kill their processes."""
        if TaskStatus.WAITING not in task_sources(status):
            return 0
        t = now_ms()
        with self._sessions.begin() as s:
            res = s.execute(
                update(TaskRow)
                .where(TaskRow.job_id == job_id, TaskRow.party_status == TaskStatus.WAITING)
                .values(party_status=status, status=status, end_time=t, update_time=t)
            )
            return int(getattr(res, "rowcount", 0))

    def running_job_tasks(self, job_id: str) -> list[TaskState]:
        q = select(*(getattr(TaskRow, f) for f in TaskState._fields)).where(
            TaskRow.job_id == job_id, TaskRow.party_status == TaskStatus.RUNNING
        )
        with self._sessions() as s:
            return [TaskState(*r) for r in s.execute(q)]

    def job_cancel_state(self, job_id: str) -> tuple[str, bool] | None:
        """(status, cancel_signal) of the initiator's row, read fresh; None if the job is gone."""
        q = select(JobRow.status, JobRow.cancel_signal).where(
            JobRow.job_id == job_id, JobRow.is_initiator.is_(True)
        )
        with self._sessions() as s:
            row = s.execute(q).first()
        return None if row is None else (str(row[0]), bool(row[1]))

    def transition_task(self, key: TaskKey, target: TaskStatus, **fields: Any) -> bool:
        """Move one task row's `party_status` to `target` if the table allows it from the current one.
        `fields` are other columns written with the move (MUST refuse a status: the target is one)."""
        _no_status(fields, "the target of transition_task")
        values = {"party_status": target, "update_time": now_ms(), **fields}
        with self._sessions.begin() as s:
            res = s.execute(
                update(TaskRow)
                .where(*_task_key(key), TaskRow.party_status.in_(task_sources(target)))
                .values(**values)
            )
            return bool(getattr(res, "rowcount", 0))

    def update_task(self, key: TaskKey, **fields: Any) -> None:
        """Set fields other than the statuses (MUST refuse them: see `transition_task`)."""
        _no_status(fields, "transition_task")
        with self._sessions.begin() as s:
            s.execute(update(TaskRow).where(*_task_key(key)).values(update_time=now_ms(), **fields))

    def add_tasks(self, tasks: Sequence[TaskRow]) -> None:
        with self._sessions.begin() as s:
            s.add_all(list(tasks))

    # ---- commands from other servers ---------------------------------------------------------
    def command_answer(self, command_id: str) -> dict[str, Any] | None:
        """The stored answer of an idempotent command already run, or None."""
        with self._sessions() as s:
            row = s.get(CommandRow, command_id)
            return None if row is None else dict(row.response)

    def save_command_answer(self, command_id: str, answer: dict[str, Any]) -> dict[str, Any]:
        """Store the first answer of a command; a concurrent repeat that stored first wins, and its
        answer is returned (so both callers answer the same)."""
        try:
            with self._sessions.begin() as s:
                s.add(CommandRow(command_id=command_id, response=answer, create_time=now_ms()))
        except IntegrityError:
            return self.command_answer(command_id) or answer
        return answer

    def open_party_jobs(self) -> list[JobRow]:
        """Jobs not yet ended here whose initiator is another server (light rows)."""
        initiated_here = select(JobRow.job_id).where(JobRow.is_initiator.is_(True))
        with self._sessions() as s:
            q = (
                select(JobRow)
                .where(
                    JobRow.status.in_([JobStatus.WAITING, JobStatus.RUNNING]),
                    JobRow.job_id.not_in(initiated_here),
                )
                .options(*_light(True))
            )
            return list(s.scalars(q))

    # ---- resources --------------------------------------------------------------------------
    def ensure_party_resource(self, party_id: int, total_cores: int) -> None:
        with self._sessions.begin() as s:
            row = s.get(PartyResourceRow, party_id)
            if row is None:
                s.add(
                    PartyResourceRow(party_id=party_id, total_cores=total_cores, remaining_cores=total_cores)
                )
            elif row.total_cores != total_cores:
                row.remaining_cores += total_cores - row.total_cores
                row.total_cores = total_cores

    def party_resources(self, party_ids: Iterable[int]) -> dict[int, PartyResourceRow]:
        with self._sessions() as s:
            q = select(PartyResourceRow).where(PartyResourceRow.party_id.in_(list(party_ids)))
            return {r.party_id: r for r in s.scalars(q)}

    def apply_resources(self, job_id: str, need: dict[int, int]) -> bool:
        """Reserve `need[party] cores` at every party, all or nothing; marks the job rows in use."""
        try:
            with self._sessions.begin() as s:
                res = s.execute(
                    update(JobRow)
                    .where(JobRow.job_id == job_id, JobRow.resource_in_use.is_(False))
                    .values(resource_in_use=True)
                )
                if not getattr(res, "rowcount", 0):
                    raise _Insufficient
                for party_id, cores in need.items():
                    r = s.execute(
                        update(PartyResourceRow)
                        .where(
                            PartyResourceRow.party_id == party_id, PartyResourceRow.remaining_cores >= cores
                        )
                        .values(remaining_cores=PartyResourceRow.remaining_cores - cores)
                    )
                    if not getattr(r, "rowcount", 0):
                        raise _Insufficient
        except _Insufficient:
            return False
        return True

    def return_resources(self, job_id: str, need: dict[int, int]) -> bool:
        with self._sessions.begin() as s:
            res = s.execute(
                update(JobRow)
                .where(JobRow.job_id == job_id, JobRow.resource_in_use.is_(True))
                .values(resource_in_use=False)
            )
            if not getattr(res, "rowcount", 0):
                return False
            for party_id, cores in need.items():
                s.execute(
                    update(PartyResourceRow)
                    .where(PartyResourceRow.party_id == party_id)
                    .values(remaining_cores=PartyResourceRow.remaining_cores + cores)
                )
            return True

    # ---- the server running each task --------------------------------------------------------
    def running_tasks_of(self, server: str) -> list[TaskRow]:
        """Task rows running on `server` (their processes are on its machine)."""
        with self._sessions() as s:
            q = select(TaskRow).where(
                TaskRow.party_status == TaskStatus.RUNNING, TaskRow.run_server == server
            )
            return list(s.scalars(q))

    def running_tasks_elsewhere(self, job_id: str, server: str) -> list[TaskRow]:
        """Running task rows of a job whose processes another server than `server` runs."""
        with self._sessions() as s:
            q = select(TaskRow).where(
                TaskRow.job_id == job_id,
                TaskRow.party_status == TaskStatus.RUNNING,
                TaskRow.run_server != server,
            )
            return list(s.scalars(q))


class TaskState(NamedTuple):
    """What the scheduler reads of a task row (no ORM object: reconcile reads 20,000 of them)."""

    component_name: str
    task_version: int
    role: str
    party_id: int
    status: str
    party_status: str
    auto_retries: int
    need_run: bool
    task_id: str
    component_module: str
    error_report: str

    @property
    def party(self) -> Party:
        return Party(self.role, self.party_id)


def _task_key(key: TaskKey) -> list[ColumnElement[bool]]:
    return [
        TaskRow.job_id == key.job_id,
        TaskRow.component_name == key.component_name,
        TaskRow.task_version == key.task_version,
        TaskRow.role == key.role,
        TaskRow.party_id == key.party_id,
    ]


def _no_status(fields: dict[str, Any], use: str) -> None:
    if {"status", "party_status"} & fields.keys():
        raise ValueError(f"a status changes only through {use}, which checks the transition table")


def _light(light: bool) -> list[ExecutableOption]:
    if not light:
        return []
    return [
        defer(col, raiseload=True) for col in (JobRow.dsl, JobRow.runtime_conf, JobRow.train_runtime_conf)
    ]


_TASK_DEFAULTS: dict[str, Any] = {}


def _task_values(task: TaskRow) -> dict[str, Any]:
    """A pending TaskRow as the column values a bulk insert takes (column defaults applied)."""
    if not _TASK_DEFAULTS:
        for attr in inspect(TaskRow).column_attrs:
            col = attr.columns[0]
            scalar = col.default is not None and col.default.is_scalar
            _TASK_DEFAULTS[attr.key] = col.default.arg if scalar else None
    given = task.__dict__  # attributes set on a pending instance; unset ones take the column default
    values = {}
    for key, default in _TASK_DEFAULTS.items():
        value = given.get(key)
        values[key] = default if value is None else value
    return values


class _Versioned(Protocol):
    @property
    def task_version(self) -> int: ...


_V = TypeVar("_V", bound=_Versioned)


def _newest_versions(rows: list[_V], component: Callable[[_V], Hashable]) -> list[_V]:
    """The rows of each component's newest task version (`component` says which component a row is of)."""
    newest: dict[Hashable, int] = {}
    for r in rows:
        k = component(r)
        newest[k] = max(newest.get(k, -1), r.task_version)
    return [r for r in rows if r.task_version == newest[component(r)]]


def _job_component(row: TaskRow) -> tuple[str, str]:
    return row.job_id, row.component_name


class _Insufficient(Exception):
    """Raised inside a transaction to roll a partial reservation back."""


__all__ = ["JOB_ORDER_COLUMNS", "JobStore", "TaskState", "now_ms"]
