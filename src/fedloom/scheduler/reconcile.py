"""The scheduler: one idempotent `reconcile(job)` that moves a job forward, run on every event.

All job-state decisions of the initiator happen on one scheduler thread, fed by an event queue
(submit, task exit, stop, rerun, a slow safety sweep). Nothing waits for a timer in the path of a
job: a task that ends notifies the scheduler, which starts what became ready at once.
"""

from __future__ import annotations

import heapq
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from fedloom.ids import Party
from fedloom.scheduler.leases import JobLeases
from fedloom.scheduler.resources import cores_needed, job_timeout, task_parallelism
from fedloom.scheduler.status import (
    AUTO_RETRY,
    END,
    INTERRUPT,
    SUCCESSFUL,
    JobStatus,
    TaskStatus,
    federated_task_status,
    job_sources,
)
from fedloom.store import JobStore, now_ms
from fedloom.store.jobs import TaskState
from fedloom.store.models import JobRow, TaskRow

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")
ALL_JOBS = "*"  # the event that reconciles every open job
PACE_FROM = 0.02  # seconds: a job whose reconcile takes longer is paced (see _reconcile_paced)


class PartyGateway(Protocol):
    """Commands the initiator sends to the parties of a job (a local call for hosted parties)."""

    def start_task(self, job_id: str, component: str, version: int, party: Party) -> None: ...

    def stop_task(
        self, job_id: str, component: str, version: int, party: Party, status: TaskStatus
    ) -> None: ...

    def job_ended(self, job_id: str, party: Party, status: JobStatus) -> None: ...


class _Call(Protocol):
    def run(self) -> None: ...


class _FunctionCall(Generic[R]):
    """A function to run on the scheduler thread, and the future of its result."""

    def __init__(self, fn: Callable[[], R]) -> None:
        self.fn = fn
        self.future: Future[R] = Future()

    def run(self) -> None:
        try:
            self.future.set_result(self.fn())
        except BaseException as exc:
            self.future.set_exception(exc)


Event = str | _Call | None  # a job id, ALL_JOBS, a call, or None: stop


@dataclass(frozen=True)
class JobLimits:
    max_running_jobs: int
    sweep_interval: float


class Scheduler:
    """Owns the initiator's job state machine. `notify(job_id)` is cheap and thread-safe."""

    def __init__(
        self,
        jobs: JobStore,
        gateway: PartyGateway,
        limits: JobLimits,
        dependencies: Callable[[JobRow], Mapping[str, Iterable[str]]],
        on_end: Callable[[JobRow, JobStatus], None] | None = None,
        hosts: Callable[[int], bool] = lambda party_id: True,
        leases: JobLeases | None = None,
        on_takeover: Callable[[str], object] | None = None,
    ) -> None:
        self._jobs = jobs
        self._leases = leases  # replicas: reconcile only the jobs whose lease this server holds
        self._on_takeover = on_takeover
        self._hosts = hosts  # cluster mode: cores are reserved only for the parties served here
        self._gateway = gateway
        self._limits = limits
        self._dependencies = dependencies
        self._on_end = on_end
        self._events: queue.Queue[Event] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        # Held while tasks are started, retried or stopped: a stop (from any thread) and a start
        # never interleave, so no task starts after its job was stopped. Never held while reading
        # a job's tasks, so a stop waits for at most a few task starts, not a reconcile.
        self._lock = threading.RLock()
        self._parallel: dict[str, dict[Party, int]] = {}
        self._deps: dict[str, Mapping[str, Iterable[str]]] = {}
        # Pacing of jobs whose reconcile is long (scheduler thread only).
        self._not_before: dict[str, float] = {}
        self._paced: list[tuple[float, str]] = []
        self._waiting_pace: set[str] = set()

    # ---- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        self._threads = [
            threading.Thread(target=self._loop, name="scheduler", daemon=True),
            threading.Thread(target=self._sweep_loop, name="scheduler-sweep", daemon=True),
        ]
        for t in self._threads:
            t.start()
        self.notify_all()

    def stop(self) -> None:
        self._stop.set()
        self._events.put(None)
        for t in self._threads:
            t.join(timeout=5)
        if self._leases is not None:
            self._leases.release_all()  # the other replicas take these jobs over at once

    def notify(self, job_id: str) -> None:
        self._events.put(job_id)

    def notify_all(self) -> None:
        self._events.put(ALL_JOBS)

    def call(self, fn: Callable[[], T], timeout: float = 60.0) -> T:
        """Run `fn` on the scheduler thread (so it never races a reconcile) and return its result."""
        call = _FunctionCall(fn)
        self._events.put(call)
        return call.future.result(timeout=timeout)

    def _loop(self) -> None:
        while True:
            batch = self._next_batch()
            if any(ev is None for ev in batch):
                return
            seen: set[str] = set()
            for ev in [*batch, *self._due()]:
                if ev is None:
                    continue
                if not isinstance(ev, str):
                    self._handle(ev)
                elif ev not in seen:
                    seen.add(ev)
                    self._handle(ev)

    def _next_batch(self) -> list[Event]:
        """Wait for events (or the next paced reconcile); coalesce a burst: one reconcile per job."""
        timeout = max(0.0, self._paced[0][0] - time.monotonic()) if self._paced else None
        try:
            batch: list[Event] = [self._events.get(timeout=timeout)]
        except queue.Empty:
            return []
        while len(batch) < 64:
            try:
                batch.append(self._events.get_nowait())
            except queue.Empty:
                break
        return batch

    def _due(self) -> list[str]:
        now = time.monotonic()
        due: list[str] = []
        while self._paced and self._paced[0][0] <= now:
            due.append(heapq.heappop(self._paced)[1])
        self._waiting_pace.difference_update(due)
        return due

    def _handle(self, ev: str | _Call) -> None:
        try:
            if not isinstance(ev, str):
                ev.run()
            elif ev == ALL_JOBS:
                for job in self._jobs.initiator_jobs([JobStatus.WAITING, JobStatus.RUNNING], light=True):
                    self._reconcile_paced(job.job_id)
            else:
                self._reconcile_paced(ev)
            self.admit()
        except Exception:  # the scheduler thread must survive anything; the sweep retries
            log.exception("scheduler event %r failed", ev)

    def _reconcile_paced(self, job_id: str) -> None:
        """Reconcile, but a job whose reconcile took d seconds waits d before its next one: a huge
        job gets at most half of the scheduler thread, and every other job's events go in between.
        Small jobs (reconcile well under PACE_FROM) are never delayed."""
        now = time.monotonic()
        not_before = self._not_before.get(job_id, 0.0)
        if now < not_before:
            if job_id not in self._waiting_pace:
                self._waiting_pace.add(job_id)
                heapq.heappush(self._paced, (not_before, job_id))
            return
        self.reconcile(job_id)
        took = time.monotonic() - now
        if took >= PACE_FROM:
            self._not_before[job_id] = time.monotonic() + took
        else:
            self._not_before.pop(job_id, None)

    def _sweep_loop(self) -> None:
        while not self._stop.wait(self._limits.sweep_interval):
            self.notify_all()

    # ---- admission: the queue ---------------------------------------------------------------
    def admit(self) -> None:
        """Start waiting jobs while there is room; a job that does not fit never blocks one that does."""
        running = self._jobs.count_initiator_jobs(JobStatus.RUNNING)
        for job in self._jobs.initiator_jobs([JobStatus.WAITING], light=True):
            if running >= self._limits.max_running_jobs:
                return
            if not self._holds(job.job_id):
                continue
            if job.cancel_signal:
                self.end_job(job.job_id, JobStatus.CANCELED, "canceled while waiting")
                continue
            need = self._cores(self._jobs.jobs(job.job_id, light=True))
            if not self._jobs.apply_resources(job.job_id, need):
                self._note_waiting(job, need)
                continue
            if self._jobs.transition_job(
                job.job_id, JobStatus.RUNNING, start_time=now_ms(), status_message=""
            ):
                running += 1
                self.reconcile(job.job_id)
            else:  # stopped between the read and the move: give the cores back
                self._jobs.return_resources(job.job_id, need)

    def _cores(self, rows: list[JobRow]) -> dict[int, int]:
        return cores_needed(rows, self._hosts)

    def _note_waiting(self, job: JobRow, need: dict[int, int]) -> None:
        free = {p: r.remaining_cores for p, r in self._jobs.party_resources(need).items()}
        short = [
            f"party {p} needs {c} cores, {free.get(p, 0)} free" for p, c in need.items() if free.get(p, 0) < c
        ]
        msg = "waiting for resources: " + "; ".join(short) if short else "waiting in the queue"
        if job.status_message != msg:
            self._jobs.update_job(job.job_id, status_message=msg)

    # ---- reconcile --------------------------------------------------------------------------
    def reconcile(self, job_id: str) -> None:
        """Move one job forward from what the store says. Idempotent; O(tasks) with a fixed number
        of queries (one read of the task rows, one bulk status write), whatever the job's size."""
        job = self._jobs.initiator_job(job_id, light=True)
        if job is None or job.status in END or job.status == JobStatus.WAITING:
            return
        if not self._holds(job_id):
            return
        if job.cancel_signal:
            self.end_job(job_id, JobStatus.CANCELED, job.status_message or "stopped by user")
            return
        if self._timed_out(job):
            self.end_job(job_id, JobStatus.TIMEOUT, "job exceeded its timeout")
            return
        by_cpn = _group(self._jobs.task_states(job_id))
        fed = self._sync_statuses(job_id, by_cpn)
        failed = {c: s for c, s in fed.items() if s in INTERRUPT}
        if failed:
            self._handle_failures(job, by_cpn, failed)
            return
        if all(s in SUCCESSFUL for s in fed.values()):
            self.end_job(job_id, JobStatus.SUCCESS, "")
            return
        self._start_ready(job, by_cpn, fed)
        self._update_progress(job, fed)

    def _holds(self, job_id: str) -> bool:
        """Replicas: whether this server reconciles the job now (renewing or taking over its lease)."""
        if self._leases is None:
            return True
        held, taken_from = self._leases.hold(job_id)
        if held and taken_from is not None:
            log.warning("job %s taken over from replica %s", job_id, taken_from)
            if self._on_takeover is not None:
                self._on_takeover(job_id)
        return held

    def _sync_statuses(self, job_id: str, by_cpn: dict[str, list[TaskState]]) -> dict[str, TaskStatus]:
        """Each component's federated status from its parties', written back in one statement."""
        fed: dict[str, TaskStatus] = {}
        changes: list[tuple[str, int, str, str]] = []
        for cpn, rows in by_cpn.items():
            status = federated_task_status(r.party_status for r in rows)
            fed[cpn] = status
            for old in {r.status for r in rows if r.status != status}:
                changes.append((cpn, rows[0].task_version, old, status))
        self._jobs.set_federated_statuses(job_id, changes)
        return fed

    def _start_ready(
        self, job: JobRow, by_cpn: dict[str, list[TaskState]], fed: dict[str, TaskStatus]
    ) -> None:
        """Start ready components in DSL order while every party of each has a free slot: at most
        `task_parallelism` tasks of one job run at once at each (role, party) — FATE's meaning."""
        deps = self._job_dependencies(job.job_id)
        limits = self._parallelism(job.job_id)
        busy = Counter(
            r.party for rows in by_cpn.values() for r in rows if r.party_status == TaskStatus.RUNNING
        )
        starts: list[TaskState] = []
        for cpn, upstream in deps.items():
            rows = by_cpn.get(cpn)
            if (
                not rows
                or fed[cpn] != TaskStatus.WAITING
                or any(r.party_status != TaskStatus.WAITING for r in rows)
            ):
                continue
            if not all(fed.get(up, TaskStatus.SUCCESS) in SUCCESSFUL for up in upstream):
                continue
            parties = [r.party for r in rows]
            if any(busy[p] >= limits.get(p, 1) for p in parties):
                continue
            busy.update(parties)
            starts += rows
        if starts:
            with self._lock:  # a stop between the read above and here must win: check again under it
                if self._still_running(job.job_id):
                    for r in starts:
                        self._gateway.start_task(job.job_id, r.component_name, r.task_version, r.party)

    def _parallelism(self, job_id: str) -> dict[Party, int]:
        limits = self._parallel.get(job_id)
        if limits is None:
            limits = {
                Party(r.role, r.party_id): task_parallelism(r) for r in self._jobs.jobs(job_id, light=True)
            }
            self._parallel[job_id] = limits
        return limits

    def _job_dependencies(self, job_id: str) -> Mapping[str, Iterable[str]]:
        """The DAG of a job, read (with its documents) once per job, not at every reconcile."""
        deps = self._deps.get(job_id)
        if deps is None:
            full = self._jobs.initiator_job(job_id)
            deps = self._dependencies(full) if full is not None else {}
            self._deps[job_id] = deps
        return deps

    def _still_running(self, job_id: str) -> bool:
        state = self._jobs.job_cancel_state(job_id)
        return state is not None and state == (JobStatus.RUNNING, False)

    def _handle_failures(
        self, job: JobRow, by_cpn: dict[str, list[TaskState]], failed: dict[str, TaskStatus]
    ) -> None:
        retry = [
            by_cpn[cpn]
            for cpn, status in failed.items()
            if status in AUTO_RETRY and _retries_left(by_cpn[cpn]) > 0
        ]
        if retry:
            with self._lock:  # no retry once a stop has begun: the cancel signal is read under the lock
                if self._still_running(job.job_id):
                    for rows in retry:
                        self._new_version(job.job_id, rows, retries_left=_retries_left(rows) - 1)
            self.notify(job.job_id)
            return
        cpn, status = next(iter(failed.items()))
        reason = next((r.error_report for r in by_cpn[cpn] if r.error_report), "")
        where = next((f"{r.role} {r.party_id}" for r in by_cpn[cpn] if r.party_status in INTERRUPT), "")
        msg = f"component {cpn} {status} at {where}: {reason}".strip().rstrip(":")
        self.end_job(
            job.job_id, JobStatus.CANCELED if status == TaskStatus.CANCELED else JobStatus.FAILED, msg
        )

    def _new_version(self, job_id: str, rows: list[TaskState], retries_left: int) -> None:
        for r in rows:
            if r.party_status == TaskStatus.RUNNING:
                self._gateway.stop_task(
                    job_id, r.component_name, r.task_version, r.party, TaskStatus.CANCELED
                )
        t = now_ms()
        self._jobs.add_tasks(
            [
                TaskRow(
                    job_id=job_id,
                    component_name=r.component_name,
                    task_version=r.task_version + 1,
                    role=r.role,
                    party_id=r.party_id,
                    task_id=r.task_id,
                    component_module=r.component_module,
                    status=TaskStatus.WAITING,
                    party_status=TaskStatus.WAITING,
                    need_run=r.need_run,
                    auto_retries=retries_left,
                    create_time=t,
                    update_time=t,
                )
                for r in rows
            ]
        )

    def _update_progress(self, job: JobRow, fed: dict[str, TaskStatus]) -> None:
        done = sum(1 for s in fed.values() if s in END)
        pct = int(done * 100 / max(len(fed), 1))
        if pct != job.progress:
            self._jobs.update_job(job.job_id, progress=pct)

    def _timed_out(self, job: JobRow) -> bool:
        started = job.start_time or job.create_time
        return now_ms() - started > job_timeout(job) * 1000

    # ---- ending, stopping, rerunning --------------------------------------------------------
    def end_job(self, job_id: str, status: JobStatus, message: str) -> None:
        """Bring a job to an end status at every party: stop its tasks, return its resources.

        Safe from any thread. Waiting task rows end first in one statement (so nothing new can
        start), then only the running tasks are killed: the cost follows the running tasks (at most
        task_parallelism per party), not the size of the DAG.
        """
        with self._lock:
            rows = self._jobs.jobs(job_id, light=True)
            if not rows:
                return
            registered = status == JobStatus.SUCCESS and self._end_hook_first(job_id, rows[0])
            if status != JobStatus.SUCCESS and any(r.status not in END for r in rows):
                # Tasks first: a job shown ended has no task left waiting or running.
                task_status = TaskStatus(status)  # an interrupt: the same word for a task
                self._jobs.end_waiting_tasks(job_id, task_status)
                for task in self._jobs.running_job_tasks(job_id):
                    self._gateway.stop_task(
                        job_id, task.component_name, task.task_version, task.party, task_status
                    )
                # Federated statuses follow the parties': no row is left waiting or running.
                self._sync_statuses(job_id, _group(self._jobs.task_states(job_id, open_only=True)))
            t = now_ms()
            start = min((r.start_time or r.create_time) for r in rows)
            moved = self._jobs.transition_job(
                job_id,
                status,
                end_time=t,
                elapsed=t - start,
                status_message=message[:4000],
                tag="job_end",
                progress=100 if status == JobStatus.SUCCESS else rows[0].progress,
            )
            self._jobs.return_resources(job_id, self._cores(rows))
            self._parallel.pop(job_id, None)
            self._deps.pop(job_id, None)
            self._not_before.pop(job_id, None)
        if moved:
            if self._leases is not None:
                self._leases.release(job_id)
            for r in rows:
                self._gateway.job_ended(job_id, Party(r.role, r.party_id), status)
            if self._on_end is not None and not registered:
                self._on_end(rows[0], status)

    def _end_hook_first(self, job_id: str, row: JobRow) -> bool:
        """A successful job's end hook (model registration) runs before the job shows success, so
        a client that sees success can deploy at once. Under the lock: no other end can interleave."""
        state = self._jobs.job_cancel_state(job_id)
        if self._on_end is None or state is None or state[0] not in job_sources(JobStatus.SUCCESS):
            return False
        self._on_end(row, JobStatus.SUCCESS)
        return True

    def request_stop(self, job_id: str, status: str = JobStatus.CANCELED) -> bool:
        """Stop a job at once, from the caller's thread: never queued behind the scheduler's work.
        `status` is a job status (FATE's stop_status: canceled or failed)."""
        with self._lock:
            state = self._jobs.job_cancel_state(job_id)
            if state is None or state[0] in END:
                return False
            self._jobs.update_job(job_id, cancel_signal=True, status_message="stopped by user")
            self.end_job(job_id, JobStatus(status), "stopped by user")
        self.notify(job_id)
        return True

    def rerun(self, job_id: str, components: Iterable[str], force: bool) -> list[str]:
        """New task versions for `components` (already including downstream); job back to waiting."""
        tasks = _group(self._jobs.task_states(job_id))
        chosen = [c for c in components if c in tasks]
        redo = [
            c
            for c in chosen
            if force or federated_task_status(r.party_status for r in tasks[c]) not in SUCCESSFUL
        ]
        for cpn in redo:
            self._new_version(job_id, tasks[cpn], retries_left=min(r.auto_retries for r in tasks[cpn]))
        if redo:
            job = self._jobs.initiator_job(job_id)
            if job is not None and job.status in END:
                self._jobs.transition_job(
                    job_id,
                    JobStatus.WAITING,
                    end_time=None,
                    elapsed=None,
                    cancel_signal=False,
                    progress=0,
                    tag="",
                    status_message="rerun",
                )
            self.notify(job_id)
        return redo


def _retries_left(rows: list[TaskState]) -> int:
    """The retries of a failed component, decided by its interrupted rows: a task interrupted by its
    server's crash got one more (`PartyService.recover`), while its peers at other servers ran on."""
    ended = [r.auto_retries for r in rows if r.party_status in INTERRUPT]
    return min(ended or [r.auto_retries for r in rows])


def _group(tasks: list[TaskState]) -> dict[str, list[TaskState]]:
    out: dict[str, list[TaskState]] = {}
    for t in tasks:
        out.setdefault(t.component_name, []).append(t)
    return out


__all__ = ["ALL_JOBS", "JobLimits", "PartyGateway", "Scheduler"]
