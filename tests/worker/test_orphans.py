"""Recovery after a crash kills a stored task pid only if that pid is still one of this data dir's task
processes: a reused pid (an editor, another server's task) is left alone."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from fedloom.worker.pool import OWNER_ENV, ZYGOTE_MODULE, is_our_task

SLEEP = "import time; time.sleep(60)"


@pytest.fixture()
def spawn() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        p.kill()
        p.wait()


def _start(procs: list[subprocess.Popen[bytes]], argv: list[str], owner: str | None) -> int:
    env = dict(os.environ)
    if owner is not None:
        env[OWNER_ENV] = owner
    proc = subprocess.Popen(argv, env=env)
    procs.append(proc)
    return proc.pid


def test_a_task_of_this_data_dir_is_ours(spawn: list[subprocess.Popen[bytes]]) -> None:
    pid = _start(spawn, [sys.executable, "-c", SLEEP, ZYGOTE_MODULE], "/srv/fedloom-a")
    assert is_our_task(pid, "/srv/fedloom-a")


@pytest.mark.parametrize(
    ("argv_tail", "owner"),
    [
        ([ZYGOTE_MODULE], "/srv/fedloom-b"),  # another server's task
        ([ZYGOTE_MODULE], None),  # a zygote-looking process without our mark
        (["fedloom-notes.txt"], "/srv/fedloom-a"),  # our mark but not a task process
        ([f"{ZYGOTE_MODULE}x"], "/srv/fedloom-a"),  # a look-alike argument
    ],
)
def test_a_reused_pid_is_not_ours(
    spawn: list[subprocess.Popen[bytes]], argv_tail: list[str], owner: str | None
) -> None:
    pid = _start(spawn, [sys.executable, "-c", SLEEP, *argv_tail], owner)
    assert not is_our_task(pid, "/srv/fedloom-a")


def test_a_gone_pid_is_not_ours() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not is_our_task(proc.pid, "/srv/fedloom-a")
