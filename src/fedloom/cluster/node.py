"""One server's place in a cluster: its federation listener, its links, and the sweeps that keep every
party's view of a job in agreement.

- As an initiator it commands its jobs' remote parties (`ClusterGateway`), applies their reports, and
  every `sweep_interval` collects the view of each remote party of its running jobs: a lost report is
  repaired, and a party unreachable for longer than `party_timeout` fails the job everywhere with
  "party P unreachable since T".
- As a party it reports its tasks' ends to the initiator at once, and asks the initiator about every
  job it still has open: a job that ended there (or that the initiator does not know) ends here, and a
  job whose initiator stays unreachable past `party_timeout` fails here, so no task runs on alone.
  At start-up (after crash recovery) it does both at once: a party that was down catches up.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from fedloom.cluster.certs import load_identity
from fedloom.cluster.commands import CommandHandlers
from fedloom.cluster.gateway import ClusterGateway, Reachability, iso
from fedloom.cluster.transport import FederationServer, Handlers, Links
from fedloom.cluster.wire import CommandVerifier, Envelope
from fedloom.config import Settings
from fedloom.errors import AuthenticationFailed, FedloomError, InvalidInput, NotFound, PartyUnreachable
from fedloom.federation.channel import Mailbox, session_job
from fedloom.federation.forward import MessageHeader
from fedloom.ids import Party
from fedloom.scheduler.reconcile import Scheduler
from fedloom.scheduler.status import END, JobStatus
from fedloom.services.audit import AuditService
from fedloom.services.jobs import JobService
from fedloom.services.models import ModelService
from fedloom.services.party import PartyService
from fedloom.services.permissions import PermissionService
from fedloom.store import JobStore, now_ms

log = logging.getLogger(__name__)
MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux


def forward_socket_path(data_dir: Path) -> str:
    """Where this server's tasks hand it their messages: in the data dir, or (a path too long for a
    Unix socket) in a fresh owner-only temporary directory."""
    path = data_dir / "federation.sock"
    if len(str(path)) <= MAX_SOCKET_PATH:
        return str(path)
    return str(Path(tempfile.mkdtemp(prefix="fedloom-")) / "federation.sock")


class ClusterNode:
    """Assembles cluster mode for one server; `Platform` owns it."""

    def __init__(
        self,
        settings: Settings,
        jobs: JobStore,
        party: PartyService,
        mailbox: Mailbox,
        socket_path: str,
    ) -> None:
        if settings.tls is None or settings.federation_port is None:
            raise InvalidInput("cluster mode needs tls and federation_port")
        identity = load_identity(settings.tls, settings.party_ids)
        self._settings = settings
        self._served = frozenset(settings.party_ids)
        self._jobs = jobs
        self._party = party
        self._mailbox = mailbox
        self._socket_path = socket_path
        self.links = Links(identity, settings.routes)
        self.reach = Reachability()
        self.gateway = ClusterGateway(settings, jobs, party, self.links, self.reach, self._changed)
        keys = {pid: r.secret.get_secret_value().encode() for pid, r in settings.routes.items() if r.secret}
        self.server = FederationServer(
            identity,
            CommandVerifier(keys, self._served),
            Handlers(self._command, self._push, self._forward, self._refused),
            settings.federation_host or settings.host,
            settings.federation_port,
            socket_path,
        )
        self._scheduler: Scheduler | None = None
        self._audit: AuditService | None = None
        self._commands: CommandHandlers | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._open_sessions: dict[tuple[str, Party, Party], float] = {}
        self._creation_grace_ms = int(max(60.0, 2 * settings.command_deadline) * 1000)

    def attach(
        self,
        job_service: JobService,
        scheduler: Scheduler,
        permissions: PermissionService,
        audit: AuditService,
        models: ModelService,
    ) -> None:
        self._scheduler = scheduler
        self._audit = audit
        self._commands = CommandHandlers(
            self._jobs, job_service, self._party, permissions, audit, models, self._served, self._changed
        )

    # ---- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        self.server.start()
        self._thread = threading.Thread(target=self._sweep_loop, name="cluster-sweep", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.gateway.close()
        self.server.stop()
        self.links.close()
        socket = Path(self._socket_path)
        socket.unlink(missing_ok=True)
        if socket.parent != self._settings.run_dir:  # the temporary directory forward_socket_path made
            socket.parent.rmdir()

    # ---- events -----------------------------------------------------------------------------
    def task_ended(self, job_id: str) -> None:
        """A task of this server ended: the initiator reconciles (here) or hears of it (over there)."""
        rows = self._jobs.jobs(job_id, light=True)
        if any(r.is_initiator for r in rows):
            self._changed(job_id)
            return
        for row in rows:
            party = Party(row.role, row.party_id)
            report = partial(self._report, row.initiator_party_id, party, job_id)
            self.gateway.outboxes.submit(row.initiator_party_id, report)

    def _report(self, initiator: int, party: Party, job_id: str) -> None:
        assert self._commands is not None
        states = self._commands.task_states(job_id, party)
        path = f"/v1/initiator/{job_id}/{party.role}/{party.party_id}/report"
        self.links.command(
            party.party_id, initiator, path, {"tasks": states}, f"report:{time.time_ns()}", 10.0
        )

    def _changed(self, job_id: str) -> None:
        if self._scheduler is not None:
            self._scheduler.notify(job_id)

    # ---- the listener's handlers ------------------------------------------------------------
    def _command(self, env: Envelope, body: bytes) -> dict[str, object]:
        if self._commands is None:
            return {"retcode": 104, "retmsg": "the server is starting; retry"}
        return self._commands.handle(env, body)

    def _refused(self, who: str, what: str, retcode: int, why: str, session: str = "") -> None:
        if self._audit is not None:
            self._audit.record(who, what, session_job(session) or "", retcode, why[:200])

    def _push(self, header: MessageHeader, peer: frozenset[int], stream: Iterator[bytes]) -> None:
        """A message from a peer's task for a task here: only for an open job both parties are in."""
        try:
            if header.dst.party_id not in self._served:
                raise AuthenticationFailed(f"federation: party {header.dst.party_id} is not served here")
            self._check_session(header)
        except FedloomError as exc:  # refused before anything was written: the audit log says so
            self._refused(f"party:{header.src.party_id}", "push", exc.retcode, exc.message, header.session)
            raise
        self._mailbox.put_stream(
            header.session, header.name, header.src, header.dst, header.seq, stream, header.size
        )

    def _check_session(self, header: MessageHeader) -> None:
        job_id = session_job(header.session)
        if job_id is None:
            raise InvalidInput("federation: not a session name")
        cache_key = (header.session, header.src, header.dst)
        if self._open_sessions.get(cache_key, 0.0) > time.monotonic():
            return
        row = self._jobs.job(job_id, header.dst.role, header.dst.party_id)
        if row is None or row.status in END:
            raise InvalidInput(f"federation: no open job {job_id} at {header.dst.role} {header.dst.party_id}")
        if header.src.party_id not in row.roles.get(header.src.role, []):
            raise AuthenticationFailed(f"federation: {header.src} is not a party of job {job_id}")
        self._open_sessions[cache_key] = time.monotonic() + 2.0
        if len(self._open_sessions) > 10_000:
            self._open_sessions.clear()

    def _forward(self, header: MessageHeader, stream: Iterator[bytes]) -> None:
        """A message from a task here: into the local mailbox, or on to the peer's server."""
        if header.src.party_id not in self._served:
            raise InvalidInput(f"federation: a task here cannot send as party {header.src.party_id}")
        if header.dst.party_id in self._served:
            self._mailbox.put_stream(
                header.session, header.name, header.src, header.dst, header.seq, stream, header.size
            )
            return
        self.links.push(header, stream, timeout=self._settings.federation_timeout)

    # ---- sweeps -----------------------------------------------------------------------------
    def _sweep_loop(self) -> None:
        while not self._stop.is_set():
            for sweep in (self._sweep_parties, self._sweep_initiators):
                try:
                    sweep()
                except Exception:  # the sweep thread must survive anything; it runs again soon
                    log.exception("cluster sweep failed")
            self._stop.wait(self._settings.sweep_interval)

    def _sweep_parties(self) -> None:
        """As initiator: collect each remote party's view of every running job."""
        assert self._commands is not None and self._scheduler is not None
        for job in self._jobs.initiator_jobs([JobStatus.RUNNING], light=True):
            for row in self._jobs.jobs(job.job_id, light=True):
                party = Party(row.role, row.party_id)
                if self.gateway.is_local(party.party_id):
                    continue
                try:
                    view = self.gateway.collect(
                        job.job_id, party, deadline=min(5.0, self._settings.party_timeout)
                    )
                except PartyUnreachable:
                    since = self.reach.since(party.party_id) or time.time()
                    if time.time() - since > self._settings.party_timeout:
                        self._scheduler.end_job(
                            job.job_id,
                            JobStatus.FAILED,
                            f"party {party.role} {party.party_id} unreachable since {iso(since)}",
                        )
                        break
                    continue
                except FedloomError as exc:
                    log.warning("collect %s from %s: %s", job.job_id, party, exc.message)
                    continue
                tasks = view.get("tasks")
                if isinstance(tasks, list) and self._commands.apply_states(job.job_id, party, tasks):
                    self._changed(job.job_id)

    def _sweep_initiators(self) -> None:
        """As a party: ask the initiator of each job still open here whether it is still open there."""
        assert self._commands is not None
        for row in self._jobs.open_party_jobs():
            party = Party(row.role, row.party_id)
            path = f"/v1/initiator/{row.job_id}/{row.role}/{row.party_id}/status"
            try:
                answer = self.links.command(
                    party.party_id, row.initiator_party_id, path, {}, f"status:{time.time_ns()}", 5.0
                )
                self.reach.ok(row.initiator_party_id)
            except PartyUnreachable:
                since = self.reach.failed(row.initiator_party_id)
                if time.time() - since > self._settings.party_timeout:
                    why = f"initiator party {row.initiator_party_id} unreachable since {iso(since)}"
                    self._commands.end_job(row.job_id, JobStatus.FAILED, why)
                continue
            data = answer.get("data")
            if answer.get("retcode") == NotFound.retcode:
                # The initiator stores a job only once every party has accepted it: a young job it
                # does not know yet is still being created; an old one was never stored there.
                if now_ms() - row.create_time > self._creation_grace_ms:
                    self._commands.end_job(
                        row.job_id, JobStatus.CANCELED, "the initiator does not know this job"
                    )
            elif isinstance(data, dict) and data.get("status") in END:
                self._commands.end_job(
                    row.job_id, JobStatus(data["status"]), str(data.get("status_message", ""))
                )
            else:
                self._report(row.initiator_party_id, party, row.job_id)


__all__ = ["ClusterNode", "forward_socket_path"]
