"""The audit log: who called what, for which job, with which result — written off the request path.

`record` only puts an entry on an in-process queue; one writer thread stores queued entries in
batches. `flush` waits until everything recorded before it is stored; `close` flushes and stops the
writer (a later `record` starts it again), so the owner of the service closes it at shutdown.
"""

from __future__ import annotations

import logging
import queue
import threading

from fedloom.errors import InvalidInput
from fedloom.services._json import JsonObject
from fedloom.store.access import AuditEntry, AuditStore
from fedloom.store.jobs import now_ms

log = logging.getLogger(__name__)

MAX_QUERY = 1000
MAX_DETAIL = 200
_STOP = object()  # queued by close(): the writer stores what came before it, then ends


class AuditService:
    def __init__(self, store: AuditStore, *, batch: int = 500, max_pending: int = 100_000) -> None:
        self._store = store
        self._batch = batch
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_pending)  # entries, flush events, _STOP
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None
        self._dropped = 0

    def record(self, actor: str, action: str, job_id: str, retcode: int, detail: str = "") -> None:
        """Queue one entry; never blocks. When the writer is too far behind the entry is dropped (and counted)."""
        entry = AuditEntry(now_ms(), actor, action, job_id, retcode, detail[:MAX_DETAIL])
        self._ensure_writer()
        try:
            self._queue.put_nowait(entry)
        except queue.Full:
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 1000 == 0:
                log.warning("audit log behind: %d entries dropped so far", self._dropped)

    def query(
        self,
        job_id: str | None = None,
        actor: str | None = None,
        action_prefix: str | None = None,
        since_ms: int | None = None,
        limit: int = 100,
    ) -> list[JsonObject]:
        """Entries matching every given filter, newest first; includes everything recorded before the call."""
        if not 1 <= limit <= MAX_QUERY:
            raise InvalidInput(f"limit: must be between 1 and {MAX_QUERY}, got {limit}")
        self.flush()
        found = self._store.query(
            job_id=job_id, actor=actor, action_prefix=action_prefix, since_ms=since_ms, limit=limit
        )
        return [e._asdict() for e in found]

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every entry recorded before this call is stored; False if `timeout` passed first."""
        with self._lock:
            if self._writer is None:
                return True
            done = threading.Event()
            self._queue.put(done)  # may wait while the queue is full: the writer is draining it
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Store what is queued and stop the writer thread. Idempotent."""
        with self._lock:
            writer, self._writer = self._writer, None
            if writer is None:
                return
            self._queue.put(_STOP)
        writer.join(timeout)
        if writer.is_alive():
            log.warning("audit writer did not stop within %.0f s; unsaved entries may be lost", timeout)

    def _ensure_writer(self) -> None:
        if self._writer is not None:
            return
        with self._lock:
            if self._writer is None:
                # daemon: a service nobody closed must not keep the interpreter alive at exit
                self._writer = threading.Thread(target=self._run, name="audit-writer", daemon=True)
                self._writer.start()

    def _run(self) -> None:
        while True:
            items = [self._queue.get()]
            while len(items) < self._batch:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write([i for i in items if isinstance(i, AuditEntry)])
            for item in items:
                if isinstance(item, threading.Event):
                    item.set()
            if any(item is _STOP for item in items):
                return

    def _write(self, entries: list[AuditEntry]) -> None:
        try:
            self._store.record(entries)
        except Exception:  # thread boundary: a database error loses this batch, not the writer
            log.exception("audit log: %d entries could not be stored", len(entries))


__all__ = ["MAX_QUERY", "AuditService"]
