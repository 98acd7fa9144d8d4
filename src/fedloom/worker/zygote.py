"""The zygote: a process that imported the heavy modules once and forks one child per task.

It speaks JSON lines (never pickle) with its server: on stdin `{"op": "start", "spec": <TaskSpec JSON>}`;
on stdout `{"op": "started", "key": [...], "pid": N}` and `{"op": "exit", "pid": N, "code": C}`. When
the server goes away (stdin closes) the zygote exits, its tasks die with it (PR_SET_PDEATHSIG), and the
next server recovers them.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import select
import signal
import sys
from typing import Any

PR_SET_PDEATHSIG = 1  # linux/prctl.h

PRELOAD = (
    "numpy",
    "pyarrow",
    "pyarrow.parquet",
    "gmpy2",
    "sqlalchemy",
    "fedloom.worker.runner",
    "fedloom.components.registry",
)


def _emit(msg: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def _preload() -> None:
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    from fedloom.components.registry import all_components

    all_components()  # imports every component module now, not in each task


def _fork_task(line: str) -> None:
    request = json.loads(line)
    spec_json = request["spec"]
    zygote = os.getpid()
    pid = os.fork()
    if pid == 0:  # the task process
        os.setsid()
        _die_with(zygote)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        code = 0
        try:
            from fedloom.worker import runner

            runner.main(spec_json)
        except BaseException:  # the runner records failures itself; this is the last resort
            code = 1
        os._exit(code)
    _emit({"op": "started", "key": request.get("key"), "pid": pid})


def _die_with(parent: int) -> None:
    """The task is killed when the zygote ends, which it does when its server ends (its stdin closes):
    a server killed with SIGKILL leaves no task running on behind it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: recovery at the next start kills orphans instead
        return
    if os.getppid() != parent:  # the zygote ended before prctl took effect
        os._exit(1)


def _reap() -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _emit({"op": "exit", "pid": pid, "code": os.waitstatus_to_exitcode(status)})


def main() -> None:
    os.umask(0o077)  # tasks forked from here create owner-only files (fedloom.datadir)
    _preload()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    _emit({"op": "ready", "pid": os.getpid()})
    stdin = sys.stdin.buffer.raw if hasattr(sys.stdin.buffer, "raw") else sys.stdin.buffer
    buf = b""
    while True:
        ready, _, _ = select.select([stdin, wake_r], [], [])
        if wake_r in ready:
            os.read(wake_r, 4096)
            _reap()
        if stdin in ready:
            chunk = os.read(stdin.fileno(), 1 << 20)
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line.strip():
                    _fork_task(line.decode())
            _reap()


if __name__ == "__main__":
    main()
