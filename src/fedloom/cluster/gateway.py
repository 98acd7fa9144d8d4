"""The initiator's side of cluster mode: commands to the parties of a job served by other servers.

`ClusterGateway` is the scheduler's `PartyGateway` (and the JobService's `RemoteParties`): a party served
here is a call into the PartyService, as in standalone mode; a remote party gets a signed command. The
initiator keeps holder rows for remote parties' tasks and moves them itself when it commands (a task it
starts is running, one it stops has the stop status); reports and the sweep's `collect` bring the
parties' own statuses. Commands to one party go through one ordered queue, off the scheduler thread,
each retried until `command_deadline`; a command that cannot be delivered fails its task, with the
reason, so the scheduler decides (retry or fail the job) as for any failure.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from fedloom.cluster.transport import Links
from fedloom.config import Settings
from fedloom.dsl import JobPlan
from fedloom.errors import FedloomError, PartyUnreachable
from fedloom.ids import Party, TaskKey
from fedloom.scheduler.status import JobStatus, TaskStatus
from fedloom.services.party import PartyService
from fedloom.store import JobStore, now_ms

log = logging.getLogger(__name__)
T = TypeVar("T")
CREATE_DEADLINE = 10.0  # seconds
RESOURCE_RETRY_SECONDS = 1.0
JsonObject = dict[str, Any]


def iso(ts: float) -> str:
    """A Unix time as shown in messages: UTC, to the second."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RemoteRefusal(FedloomError):
    """A party refused a command; carries that party's retcode and message."""

    def __init__(self, retcode: int, message: str, data: object = None) -> None:
        super().__init__(message, data=data)
        self.retcode = retcode


class Reachability:
    """Since when each partner has been unreachable (None: it answered last time)."""

    def __init__(self) -> None:
        self._since: dict[int, float] = {}
        self._lock = threading.Lock()

    def ok(self, party_id: int) -> None:
        with self._lock:
            self._since.pop(party_id, None)

    def failed(self, party_id: int) -> float:
        with self._lock:
            return self._since.setdefault(party_id, time.time())

    def since(self, party_id: int) -> float | None:
        with self._lock:
            return self._since.get(party_id)


class Outboxes:
    """One ordered queue per partner: commands to a party never overtake each other."""

    def __init__(self) -> None:
        self._queues: dict[int, ThreadPoolExecutor] = {}
        self._lock = threading.Lock()

    def submit(self, party_id: int, fn: Callable[[], None]) -> Future[None]:
        """Queue `fn` (a failure is logged: nobody waits for it)."""
        return self._queue(party_id).submit(_logged, fn)

    def call(self, party_id: int, fn: Callable[[], T], timeout: float) -> T:
        """Run `fn` in the party's queue, after what is queued before it, and return its result."""
        return self._queue(party_id).submit(fn).result(timeout=timeout)

    def _queue(self, party_id: int) -> ThreadPoolExecutor:
        with self._lock:
            pool = self._queues.get(party_id)
            if pool is None:
                pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"to-{party_id}")
                self._queues[party_id] = pool
            return pool

    def close(self) -> None:
        with self._lock:
            queues, self._queues = list(self._queues.values()), {}
        for pool in queues:
            pool.shutdown(wait=False, cancel_futures=True)


def _logged(fn: Callable[[], None]) -> None:
    try:
        fn()
    except Exception:  # a queue worker: one failed delivery must not stop the queue
        log.exception("cluster command failed")


class ClusterGateway:
    """Commands from this server (the initiator) to the parties of its jobs."""

    def __init__(
        self,
        settings: Settings,
        jobs: JobStore,
        party: PartyService,
        links: Links,
        reach: Reachability,
        changed: Callable[[str], None],
    ) -> None:
        self._settings = settings
        self._served = frozenset(settings.party_ids)
        self._jobs = jobs
        self._party = party
        self._links = links
        self._reach = reach
        self._changed = changed  # a holder row moved: the scheduler should look at the job
        self.outboxes = Outboxes()

    def is_local(self, party_id: int) -> bool:
        return party_id in self._served

    # ---- PartyGateway -----------------------------------------------------------------------
    def start_task(self, job_id: str, component: str, version: int, party: Party) -> None:
        if self.is_local(party.party_id):
            self._party.start_task(job_id, component, version, party)
            return
        key = TaskKey(job_id, component, version, party.role, party.party_id)
        if not self._jobs.transition_task(key, TaskStatus.RUNNING, start_time=now_ms()):
            return
        row = self._jobs.task(key)
        if row is None:
            return
        body = {
            "federation_key": self._party.session_key(job_id, component, version).hex(),
            "task": {
                "task_id": row.task_id,
                "component_module": row.component_module,
                "need_run": row.need_run,
                "auto_retries": row.auto_retries,
            },
        }
        path = f"/v1/party/{job_id}/{component}/{version}/{party.role}/{party.party_id}/start"

        def send() -> None:
            self._queue(
                job_id, party, path, body, f"start:{path}", on_answer=lambda a: self._started(key, a, send)
            )

        send()

    def stop_task(self, job_id: str, component: str, version: int, party: Party, status: TaskStatus) -> None:
        if self.is_local(party.party_id):
            self._party.stop_task(job_id, component, version, party, status)
            return
        key = TaskKey(job_id, component, version, party.role, party.party_id)
        self._jobs.transition_task(key, status, end_time=now_ms(), kill_status=True)
        path = f"/v1/party/{job_id}/{component}/{version}/{party.role}/{party.party_id}/stop/{status}"
        self._queue(job_id, party, path, {}, f"stop:{path}")

    def job_ended(self, job_id: str, party: Party, status: JobStatus) -> None:
        if self.is_local(party.party_id):
            self._party.job_ended(job_id, party, status)
            return
        row = self._jobs.job(job_id, party.role, party.party_id)
        message = row.status_message if row is not None else ""
        path = f"/v1/party/{job_id}/{party.role}/{party.party_id}/status/{status}"
        self._queue(job_id, party, path, {"status_message": message}, f"status:{path}")

    # ---- RemoteParties (submit) -------------------------------------------------------------
    def create(
        self,
        job_id: str,
        plan: JobPlan,
        parties: Sequence[Party],
        model_id: str,
        model_version: str,
        train_conf: JsonObject,
    ) -> None:
        """Create the job at every remote party at once; on any refusal, cancel it where it was
        created and raise that party's answer (its retcode, its reason, its name)."""
        body = {
            "dsl": plan.dsl,
            "runtime_conf": plan.conf,
            "train_runtime_conf": train_conf,
            "initiator_role": plan.initiator.role,
            "initiator_party_id": plan.initiator.party_id,
            "model_id": model_id,
            "model_version": model_version,
        }
        src = plan.initiator.party_id
        with ThreadPoolExecutor(max_workers=min(len(parties), 8)) as pool:
            futures = {p: pool.submit(self._create_at, job_id, src, p, body) for p in parties}
        errors = {p: f.exception() for p, f in futures.items()}
        refused = [(p, e) for p, e in errors.items() if e is not None]
        if not refused:
            return
        for p, e in errors.items():
            if e is None:
                path = f"/v1/party/{job_id}/{p.role}/{p.party_id}/status/{JobStatus.CANCELED}"
                msg = {"status_message": f"not created at {refused[0][0].role} {refused[0][0].party_id}"}
                self.outboxes.submit(p.party_id, partial(self._cancel, src, p, path, msg))
        party, exc = refused[0]
        if isinstance(exc, FedloomError):
            raise exc
        raise RemoteRefusal(100, f"{party.role} {party.party_id}: {exc}")

    def _cancel(self, src: int, party: Party, path: str, body: JsonObject) -> None:
        self._send(src, party, path, body)

    def _create_at(self, job_id: str, src: int, party: Party, body: JsonObject) -> None:
        path = f"/v1/party/{job_id}/{party.role}/{party.party_id}/create"
        # A submit answers within CREATE_DEADLINE even when a party is down.
        answer = self._send(
            src, party, path, body, deadline=min(self._settings.command_deadline, CREATE_DEADLINE)
        )
        if answer.get("retcode") != 0:
            raise RemoteRefusal(
                int(answer.get("retcode", 100)),
                f"{party.role} {party.party_id} refused the job: {answer.get('retmsg', '')}",
                answer.get("data"),
            )

    def collect(self, job_id: str, party: Party, deadline: float | None = None) -> JsonObject:
        """A remote party's view of a job: its job status and its tasks (raises PartyUnreachable)."""
        src = self._initiator_party(job_id)
        path = f"/v1/party/{job_id}/{party.role}/{party.party_id}/collect"
        answer = self._send(src, party, path, {}, deadline=deadline)
        if answer.get("retcode") != 0:
            raise RemoteRefusal(int(answer.get("retcode", 100)), str(answer.get("retmsg", "")))
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

    def update_conf(self, job_id: str, parties: Sequence[Party], conf: JsonObject) -> None:
        src = self._initiator_party(job_id)
        for party in parties:
            path = f"/v1/party/{job_id}/{party.role}/{party.party_id}/parameter/update"
            answer = self._send(src, party, path, {"runtime_conf": conf})
            if answer.get("retcode") != 0:
                raise RemoteRefusal(
                    int(answer.get("retcode", 100)),
                    f"{party.role} {party.party_id} refused the parameters: {answer.get('retmsg', '')}",
                )

    def deploy_model(
        self, party: Party, job_id: str, model: tuple[str, str], child: str, inference: JsonObject
    ) -> None:
        src = self._initiator_party(job_id)
        path = f"/v1/party/{job_id}/{party.role}/{party.party_id}/model/deploy"
        body = {
            "model_id": model[0],
            "model_version": model[1],
            "child_version": child,
            "inference_dsl": inference,
        }
        # Through the party's queue: the job's end (which registers the model there) arrives first.
        timeout = self._settings.command_deadline + 5
        answer = self.outboxes.call(party.party_id, lambda: self._send(src, party, path, body), timeout)
        if answer.get("retcode") != 0:
            raise RemoteRefusal(
                int(answer.get("retcode", 100)),
                f"{party.role} {party.party_id} refused the deploy: {answer.get('retmsg', '')}",
            )

    def stop_at_initiator(self, job_id: str, party: Party, status: str) -> None:
        self._ask_initiator(job_id, party, f"stop/{status}", {})

    def rerun_at_initiator(
        self, job_id: str, party: Party, components: list[str] | None, force: bool
    ) -> list[str]:
        data = self._ask_initiator(job_id, party, "rerun", {"component_name": components, "force": force})
        redo = data.get("components") if isinstance(data, dict) else None
        return [str(c) for c in redo] if isinstance(redo, list) else []

    def _ask_initiator(self, job_id: str, party: Party, what: str, body: JsonObject) -> object:
        """A party's request to the initiator of one of its jobs; the answer's data, or its refusal."""
        row = self._jobs.job(job_id, party.role, party.party_id)
        if row is None:
            raise RemoteRefusal(102, f"job {job_id} has no {party.role} {party.party_id} here")
        path = f"/v1/initiator/{job_id}/{party.role}/{party.party_id}/{what}"
        answer = self._send(party.party_id, Party("", row.initiator_party_id), path, body)
        if answer.get("retcode") != 0:
            raise RemoteRefusal(int(answer.get("retcode", 100)), f"the initiator: {answer.get('retmsg', '')}")
        return answer.get("data")

    # ---- delivery ---------------------------------------------------------------------------
    def _queue(
        self,
        job_id: str,
        party: Party,
        path: str,
        body: JsonObject,
        command_id: str,
        on_answer: Callable[[JsonObject], None] | None = None,
    ) -> None:
        src = self._initiator_party(job_id)

        def deliver() -> None:
            try:
                answer = self._send(src, party, path, body, command_id=command_id)
            except PartyUnreachable as exc:
                since = self._reach.since(party.party_id) or time.time()
                why = f"party {party.role} {party.party_id} unreachable since {iso(since)} ({exc.message})"
                self._undelivered(job_id, path, why)
                return
            if on_answer is not None:
                on_answer(answer)

        self.outboxes.submit(party.party_id, deliver)

    def _send(
        self,
        src: int,
        party: Party,
        path: str,
        body: JsonObject,
        *,
        command_id: str | None = None,
        deadline: float | None = None,
    ) -> JsonObject:
        try:
            answer = self._links.command(
                src,
                party.party_id,
                path,
                body,
                command_id or f"{path}:{time.time_ns()}",
                self._settings.command_deadline if deadline is None else deadline,
            )
        except PartyUnreachable:
            self._reach.failed(party.party_id)
            raise
        self._reach.ok(party.party_id)
        return answer

    def _started(self, key: TaskKey, answer: JsonObject, retry: Callable[[], None]) -> None:
        retcode, data = answer.get("retcode"), answer.get("data")
        if isinstance(data, dict) and data.get("waiting"):  # no free cores there yet: wait, then retry
            self._jobs.update_job(key.job_id, status_message=str(answer.get("retmsg", ""))[:4000])
            if self._still_running(key):
                timer = threading.Timer(RESOURCE_RETRY_SECONDS, retry)
                timer.daemon = True
                timer.start()
        elif retcode != 0:
            self._fail_holder(key, f"could not start at {key.role} {key.party_id}: {answer.get('retmsg')}")

    def _still_running(self, key: TaskKey) -> bool:
        row = self._jobs.task(key)
        job = self._jobs.initiator_job(key.job_id, light=True)
        return (
            row is not None
            and row.party_status == TaskStatus.RUNNING
            and job is not None
            and job.status == JobStatus.RUNNING
            and not job.cancel_signal
        )

    def _undelivered(self, job_id: str, path: str, reason: str) -> None:
        """A start that never arrived fails its task; a lost stop or end is repaired by the party's
        own sweep (it asks the initiator about its open jobs)."""
        parts = path.split("/")
        if parts[-1] == "start" and len(parts) == 9:
            key = TaskKey(job_id, parts[4], int(parts[5]), parts[6], int(parts[7]))
            self._fail_holder(key, reason)
        else:
            log.warning("command %s not delivered: %s", path, reason)

    def _fail_holder(self, key: TaskKey, reason: str) -> None:
        if self._jobs.transition_task(key, TaskStatus.FAILED, end_time=now_ms(), error_report=reason[:4000]):
            self._changed(key.job_id)

    def _initiator_party(self, job_id: str) -> int:
        row = self._jobs.initiator_job(job_id, light=True)
        if row is not None:
            return row.initiator_party_id
        return min(self._served)

    def close(self) -> None:
        self.outboxes.close()


__all__ = ["ClusterGateway", "Outboxes", "Reachability", "RemoteRefusal", "iso"]
