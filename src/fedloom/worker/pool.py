"""The warm worker pool: task processes forked from a server that already imported the heavy modules."""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import threading
from collections.abc import Callable
from multiprocessing.process import BaseProcess

from fedloom.worker import runner
from fedloom.worker.spec import TaskSpec

log = logging.getLogger(__name__)

TaskKey = tuple[str, str, int, str, int]
ExitHandler = Callable[[TaskSpec, int | None], None]

_PRELOAD = [
    "numpy",
    "pyarrow",
    "pyarrow.parquet",
    "gmpy2",
    "sqlalchemy",
    "fedloom.worker.runner",
    "fedloom.components.reader",
    "fedloom.components.data_transform",
    "fedloom.components.intersection",
    "fedloom.components.hetero_lr",
    "fedloom.components.evaluation",
]


def _noop() -> None:
    """Target of the warm-up process."""


class WorkerPool:
    """Starts each task in its own OS process (forkserver: milliseconds, not a Python start-up)."""

    def __init__(self, on_exit: ExitHandler) -> None:
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload([m for m in _PRELOAD if _importable(m)])
        self._on_exit = on_exit
        self._procs: dict[TaskKey, BaseProcess] = {}
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Start the fork server now, so the first task does not pay for the imports."""
        p = self._ctx.Process(target=_noop, daemon=False)
        p.start()
        p.join()

    def start(self, spec: TaskSpec) -> int:
        proc = self._ctx.Process(target=runner.main, args=(spec.model_dump_json(),), daemon=False,
                                 name=f"fedloom-task-{spec.component_name}")
        proc.start()
        with self._lock:
            self._procs[spec.key] = proc
        threading.Thread(target=self._watch, args=(spec, proc), daemon=True,
                         name=f"watch-{spec.component_name}").start()
        return int(proc.pid or 0)

    def _watch(self, spec: TaskSpec, proc: BaseProcess) -> None:
        proc.join()
        with self._lock:
            self._procs.pop(spec.key, None)
        try:
            self._on_exit(spec, proc.exitcode)
        except Exception:  # a watcher thread must not die silently: the sweep repairs the state
            log.exception("exit handler failed for %s", spec.key)

    def kill(self, key: TaskKey) -> bool:
        with self._lock:
            proc = self._procs.get(key)
        if proc is None or not proc.is_alive():
            return False
        proc.kill()
        return True

    def running(self) -> list[TaskKey]:
        with self._lock:
            return list(self._procs)

    def shutdown(self) -> None:
        """Kill running task processes; their tasks are recovered by the next start (never half-written)."""
        with self._lock:
            procs = list(self._procs.values())
        for p in procs:
            if p.is_alive():
                p.kill()
        for p in procs:
            p.join(timeout=5)


def kill_pid(pid: int) -> bool:
    """Kill an orphan task process left by a previous server (after kill -9 of the server)."""
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


def _importable(module: str) -> bool:
    from importlib.util import find_spec

    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:
        return False


__all__ = ["WorkerPool", "kill_pid", "pid_alive"]
