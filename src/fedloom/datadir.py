"""One owner of a data dir at a time, and owner-only files in it.

A server takes an exclusive, non-blocking `flock` on `<data_dir>/server.lock` before it opens its
stores or touches anything else; the lock lives as long as the open file, so it is released by
`DataDirLock.release()` and by the OS when the process dies (kill -9 included). The file holds the
owner's PID so that a refused second start can name it. While a lock is held the process umask is
0o077: every file and directory the server creates (database, logs, mailboxes, tables, models,
staging) is readable by its user only; the data dir itself is set to 0700.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import threading
import time
from pathlib import Path

from fedloom.errors import Conflict
from fedloom.paths import staging_dir

log = logging.getLogger(__name__)

LOCK_FILE = "server.lock"
OWNER_ONLY_UMASK = 0o077

_umask_guard = threading.Lock()
_umask_holders = 0
_saved_umask = 0o022


class DataDirLock:
    """The held lock of one data dir. `release()` is idempotent."""

    def __init__(self, fd: int, data_dir: Path, *, shared: bool = False) -> None:
        self._fd: int | None = fd
        self.data_dir = data_dir
        self._shared = shared

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if self._shared:
            os.close(fd)
            return
        try:
            os.ftruncate(fd, 0)  # no stale PID for the next reader
        finally:
            os.close(fd)  # closing the last descriptor of the file releases the flock
            _restore_umask()


def acquire(data_dir: Path, *, shown: str | None = None) -> DataDirLock:
    """Lock `data_dir` (resolved) for this process, or raise Conflict naming the owner's PID.

    `shown` is the data dir as the user wrote it, used in the error (never the resolved path)."""
    fd = _locked(
        data_dir,
        fcntl.LOCK_EX,
        shown,
        "another fedloom server ({who}); stop that server first, or give this one another data_dir",
    )
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    os.fchmod(fd, 0o600)
    _restrict_umask()
    _owner_only(data_dir)
    return DataDirLock(fd, data_dir)


def acquire_shared(data_dir: Path, *, shown: str | None = None) -> DataDirLock:
    """Replicas: a shared lock on the data dir that every replica holds; a server without `server_id`
    (which takes it exclusively) and replicas therefore never run on one data dir together."""
    fd = _locked(
        data_dir,
        fcntl.LOCK_SH,
        shown,
        "a fedloom server without server_id ({who}); replicas share a data dir only with other replicas",
    )
    return DataDirLock(fd, data_dir, shared=True)


def _locked(data_dir: Path, mode: int, shown: str | None, in_use: str) -> int:
    """The lock file of `data_dir`, locked in `mode` without waiting, or Conflict: in use by `in_use`."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        owner = _owner_pid(fd)
        os.close(fd)
        who = f"PID {owner}" if owner else "a process that has not written its PID yet"
        name = repr(shown if shown is not None else data_dir.name)
        raise Conflict(f"data_dir {name} is in use by {in_use.format(who=who)}") from None
    except BaseException:
        os.close(fd)
        raise
    return fd


def clean_staging(data_dir: Path, older_than: float = 0.0) -> None:
    """Empty the staging directory (uploads a previous run left half-received), recreated 0700.
    `older_than` (seconds): only entries older than that go (replicas share the directory)."""
    staging = staging_dir(data_dir)
    if staging.is_symlink() or staging.is_file():
        staging.unlink()
    elif staging.exists() and older_than <= 0:
        shutil.rmtree(staging)
    elif staging.exists():
        cutoff = time.time() - older_than
        for entry in staging.iterdir():
            if entry.lstat().st_mtime < cutoff:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
    staging.mkdir(mode=0o700, exist_ok=True)


def _owner_only(data_dir: Path) -> None:
    st = data_dir.stat()
    if st.st_uid != os.geteuid():  # e.g. a shared directory: do not change what is not ours
        log.warning("data_dir is not owned by this user; its mode was left as it is")
        return
    if st.st_mode & 0o077:
        os.chmod(data_dir, 0o700)


def _owner_pid(fd: int) -> int | None:
    # The owner writes its PID right after taking the lock: give it a moment if we came in between.
    for _ in range(20):
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        if text.isdigit():
            return int(text)
        time.sleep(0.01)
    return None


def _restrict_umask() -> None:
    global _umask_holders, _saved_umask
    with _umask_guard:
        previous = os.umask(OWNER_ONLY_UMASK)
        if _umask_holders == 0:
            _saved_umask = previous
        _umask_holders += 1


def _restore_umask() -> None:
    """The embedding process gets its umask back once no server of it holds a data dir."""
    global _umask_holders
    with _umask_guard:
        _umask_holders = max(0, _umask_holders - 1)
        if _umask_holders == 0:
            os.umask(_saved_umask)


__all__ = ["LOCK_FILE", "OWNER_ONLY_UMASK", "DataDirLock", "acquire", "acquire_shared", "clean_staging"]
