"""The warm worker pool: each task is a process forked by the zygote, which did the heavy imports once."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from fedloom.ids import TaskKey
from fedloom.worker.spec import TaskSpec

log = logging.getLogger(__name__)
ExitHandler = Callable[[TaskSpec, int | None], None]


class WorkerPool:
    """Starts each task in its own OS process in milliseconds and reports when it exits."""

    def __init__(self, on_exit: ExitHandler, owner: str = "") -> None:
        self._on_exit = on_exit
        self._owner = owner  # marks our task processes (their environment) for recovery after a crash
        self._lock = threading.Lock()
        self._zygote: subprocess.Popen[bytes] | None = None
        self._pending: list[Future[int]] = []
        self._by_pid: dict[int, TaskSpec] = {}
        self._pids: dict[TaskKey, int] = {}
        self._early_exits: dict[int, int | None] = {}

    def warm_up(self) -> None:
        self._ensure_zygote()

    def _ensure_zygote(self) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._zygote is not None and self._zygote.poll() is None:
                return self._zygote
            env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
            env[OWNER_ENV] = self._owner
            proc = subprocess.Popen(
                [sys.executable, "-m", ZYGOTE_MODULE],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
                start_new_session=True,
            )
            self._zygote = proc
        assert proc.stdout is not None
        first = proc.stdout.readline()  # {"op": "ready"} once the imports are done
        if not first:
            raise RuntimeError("the worker zygote failed to start")
        threading.Thread(target=self._read_events, args=(proc,), daemon=True, name="zygote-events").start()
        return proc

    def start(self, spec: TaskSpec) -> int:
        proc = self._ensure_zygote()
        fut: Future[int] = Future()
        line = json.dumps({"op": "start", "key": list(spec.key), "spec": spec.model_dump_json()}) + "\n"
        with self._lock:
            self._pending.append(fut)
            assert proc.stdin is not None
            proc.stdin.write(line.encode())
            proc.stdin.flush()
        pid = fut.result(timeout=30)
        with self._lock:
            self._by_pid[pid] = spec
            self._pids[spec.key] = pid
            early = pid in self._early_exits
            code = self._early_exits.pop(pid, None)
        if early:
            self._finish(pid, code)
        return pid

    def _read_events(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            msg = json.loads(raw)
            if msg["op"] == "started":
                with self._lock:
                    fut = self._pending.pop(0)
                fut.set_result(int(msg["pid"]))
            elif msg["op"] == "exit":
                self._finish(int(msg["pid"]), msg.get("code"))

    def _finish(self, pid: int, code: int | None) -> None:
        with self._lock:
            spec = self._by_pid.pop(pid, None)
            if spec is None:  # exit seen before start() recorded the pid: keep it for start()
                self._early_exits[pid] = code
                return
            self._pids.pop(spec.key, None)
        try:
            self._on_exit(spec, code)
        except Exception:  # the event thread must not die: the sweep repairs the state
            log.exception("exit handler failed for %s", spec.key)

    def kill(self, key: TaskKey) -> bool:
        with self._lock:
            pid = self._pids.get(key)
        return pid is not None and kill_pid(pid)

    def running(self) -> list[TaskKey]:
        with self._lock:
            return list(self._pids)

    def shutdown(self) -> None:
        """Kill running tasks (their tasks are recovered at the next start, never half-written)."""
        with self._lock:
            pids = list(self._pids.values())
            zygote = self._zygote
        for pid in pids:
            kill_pid(pid)
        if zygote is not None and zygote.poll() is None:
            assert zygote.stdin is not None
            zygote.stdin.close()
            try:
                zygote.wait(timeout=5)
            except subprocess.TimeoutExpired:
                zygote.kill()


OWNER_ENV = "FEDLOOM_TASK_OWNER"
ZYGOTE_MODULE = "fedloom.worker.zygote"


def is_our_task(pid: int, owner: str) -> bool:
    """True when `pid` is a task process (or the zygote) that a pool of `owner` started: after a crash
    a stored pid may have been reused by any process, so both its command line and its environment
    must say so."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    marker = f"{OWNER_ENV}={owner}".encode()
    return ZYGOTE_MODULE.encode() in cmdline.split(b"\0") and marker in environ.split(b"\0")


def kill_pid(pid: int) -> bool:
    """SIGKILL a task's process group (the task and anything it started)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return False
    return True


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


__all__ = ["OWNER_ENV", "WorkerPool", "ZYGOTE_MODULE", "is_our_task", "kill_pid", "pid_alive"]
