"""Message channels between the tasks of one component at different parties (local backend).

Every message is tagged (session = job, component, task version; name, sequence, source, destination)
and sealed with the session's key (`fedloom.federation.auth`: a MAC over the tags and the payload,
verified before anything is decoded). The local backend keeps one file per message under the
federation directory, written atomically (temp file + rename); the receiver consumes sequence k of
(name, peer) exactly once, so a message sent twice (a retry) is still delivered once. Cluster mode
replaces `Mailbox.put` with a call to the peer's server, which stores the sealed message in its own
mailbox the same way.
"""

from __future__ import annotations

import mmap
import os
import shutil
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from fedloom.errors import FederationTimeout, InvalidInput
from fedloom.federation import codec
from fedloom.federation.auth import Tags, seal, unseal
from fedloom.ids import Party
from fedloom.paths import check_id


def session_name(job_id: str, component: str, task_version: int) -> str:
    """The session of one component's tasks; unambiguous since ids never contain a dot."""
    check_id("job_id", job_id)
    check_id("component_name", component)
    return f"{job_id}.{component}.{int(task_version)}"


def session_job(session: str) -> str | None:
    """The job id of a session made by `session_name`, or None for any other name."""
    job_id, dot, _ = session.partition(".")
    return job_id if dot else None


def _safe(part: str) -> str:
    if not part or "/" in part or part.startswith(".") or "\x00" in part:
        raise InvalidInput(f"federation: invalid tag part {part!r}")
    return part


class Mailbox:
    """The on-disk inbox of one server: messages addressed to the tasks it hosts."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, session: str, name: str, src: Party, dst: Party, seq: int) -> Path:
        peer = f"{_safe(src[0])}-{src[1]}__{_safe(dst[0])}-{dst[1]}"
        return self.root / _safe(session) / _safe(name) / peer / f"{seq:08d}.msg"

    def put(self, session: str, name: str, src: Party, dst: Party, seq: int, payload: bytes) -> None:
        self.put_stream(session, name, src, dst, seq, [payload], len(payload))

    def put_stream(
        self, session: str, name: str, src: Party, dst: Party, seq: int, chunks: Iterable[bytes], size: int
    ) -> None:
        """Write a message arriving in chunks; it appears (atomically) only once all `size` bytes are in."""
        target = self.path(session, name, src, dst, seq)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            written = 0
            with os.fdopen(fd, "wb") as f:
                for chunk in chunks:
                    written += len(chunk)
                    if written > size:
                        raise InvalidInput(f"federation: message {name!r} is longer than announced")
                    f.write(chunk)
            if written != size:
                raise InvalidInput(f"federation: message {name!r} ended after {written} of {size} bytes")
            os.replace(tmp, target)  # atomic: a reader never sees half a message
        finally:
            tmp.unlink(missing_ok=True)

    def take(self, session: str, name: str, src: Party, dst: Party, seq: int, timeout: float) -> memoryview:
        """Wait for a message and consume it. The message is mapped, not read: a batch of hundreds of
        MB is not copied into a second buffer, and its file is gone once taken."""
        target = self.path(session, name, src, dst, seq)
        deadline = time.monotonic() + timeout
        delay = 0.0002
        while True:
            try:
                fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            except FileNotFoundError:
                if time.monotonic() > deadline:
                    raise FederationTimeout(
                        f"federation: no message {name!r} (#{seq}) from {src[0]} {src[1]} "
                        f"after {timeout:.0f}s"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 1.5, 0.005)
                continue
            try:
                size = os.fstat(fd).st_size
                data = memoryview(mmap.mmap(fd, size, access=mmap.ACCESS_READ) if size else b"")
            finally:
                os.close(fd)
            target.unlink(missing_ok=True)  # the mapping stays valid until the view is released
            return data

    def sessions(self) -> list[str]:
        """Every session that has messages here."""
        try:
            return sorted(os.listdir(self.root))
        except FileNotFoundError:
            return []

    def job_sessions(self, job_id: str) -> list[str]:
        """The sessions of `job_id` that have messages here (see `session_name`)."""
        prefix = f"{check_id('job_id', job_id)}."
        return [n for n in self.sessions() if n.startswith(prefix)]

    def drop_job(self, job_id: str) -> None:
        """Delete every message of every session of `job_id` (its tasks have ended)."""
        for session in self.job_sessions(job_id):
            self.drop_session(session)

    def drop_jobs_except(self, job_open: Callable[[str], bool]) -> int:
        """Delete the sessions of every job for which `job_open(job_id)` is false, and every entry that
        is not a session name; the number of sessions deleted."""
        open_jobs: dict[str, bool] = {}
        dropped = 0
        for session in self.sessions():
            job_id = session_job(session)
            if job_id is not None and job_id not in open_jobs:
                open_jobs[job_id] = job_open(job_id)
            if job_id is None or not open_jobs[job_id]:
                self.drop_session(session)
                dropped += 1
        return dropped

    def drop_session(self, session: str) -> None:
        """Delete every message of `session`, read or not (its tasks have ended)."""
        base = self.root / _safe(session)
        if base.is_symlink():
            base.unlink()
        elif base.exists():
            shutil.rmtree(base, ignore_errors=True)  # a late sender's temp file is not an error


class Channel:
    """send/recv between one task and its peers; counts sequence numbers per (name, peer)."""

    def __init__(self, mailbox: Mailbox, session: str, me: Party, timeout: float, key: bytes) -> None:
        self._mailbox = mailbox
        self._session = session
        self._key = key
        self._me = me
        self._timeout = timeout
        self._sent: dict[tuple[str, Party], int] = defaultdict(int)
        self._received: dict[tuple[str, Party], int] = defaultdict(int)
        self.bytes_sent = 0
        self.log: list[tuple[str, str, Party, int]] = []  # (direction, name, peer, size): for audits

    def send(self, name: str, obj: Any, to: list[Party]) -> None:
        payload = codec.dumps(obj)
        for dst in to:
            seq = self._sent[(name, dst)]
            message = seal(self._key, Tags(self._session, name, self._me, dst, seq), payload)
            self._mailbox.put(self._session, name, self._me, dst, seq, message)
            self._sent[(name, dst)] = seq + 1
            self.bytes_sent += len(message)
            self.log.append(("send", name, dst, len(message)))

    def recv(self, name: str, frm: Party) -> Any:
        seq = self._received[(name, frm)]
        message = self._mailbox.take(self._session, name, frm, self._me, seq, self._timeout)
        payload = unseal(self._key, Tags(self._session, name, frm, self._me, seq), message)
        self._received[(name, frm)] = seq + 1
        self.log.append(("recv", name, frm, len(message)))
        return codec.loads(payload)


__all__ = ["Channel", "Mailbox", "session_job", "session_name"]
