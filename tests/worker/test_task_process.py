"""The task process: its federation key travels only in the TaskSpec, and its files are owner-only."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from fedloom.errors import AuthenticationFailed
from fedloom.paths import task_log_dir
from fedloom.store import open_stores
from fedloom.worker.pool import WorkerPool
from fedloom.worker.runner import _federation_key
from fedloom.worker.spec import TaskSpec

KEY = "ab" * 32


def _spec(data_dir: Path, **fields: object) -> TaskSpec:
    base: dict[str, object] = {
        "job_id": "job1",
        "component_name": "reader_0",
        "module": "Reader",
        "task_version": 0,
        "role": "guest",
        "party_id": 9999,
        "parties": {"guest": [9999]},
        "params": {},
        "need_run": False,
        "database_url": f"sqlite:///{data_dir / 'fedloom.db'}",
        "data_dir": str(data_dir),
        "federation_key": KEY,
        "federation_timeout": 5.0,
    }
    return TaskSpec.model_validate({**base, **fields})


def test_the_key_is_sent_to_the_zygote_but_never_shown(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    assert KEY not in repr(spec) and KEY not in str(spec)
    assert TaskSpec.model_validate_json(spec.model_dump_json()).federation_key == KEY


@pytest.mark.parametrize("bad", ["", "zz" * 32, "ab" * 16, "ab" * 33])
def test_a_task_without_a_valid_key_refuses_to_federate(tmp_path: Path, bad: str) -> None:
    with pytest.raises(AuthenticationFailed, match="federation key"):
        _federation_key(_spec(tmp_path, federation_key=bad))
    assert _federation_key(_spec(tmp_path)) == bytes.fromhex(KEY)


def test_a_forked_task_creates_owner_only_files_and_keeps_the_key_off_argv(tmp_path: Path) -> None:
    open_stores(f"sqlite:///{tmp_path / 'fedloom.db'}").close()
    ended = threading.Event()
    pool = WorkerPool(lambda _spec, _code: ended.set())
    old = os.umask(0o022)  # the server's umask must not matter: the zygote and the task set their own
    try:
        pool.start(_spec(tmp_path))
        assert ended.wait(30)
        zygote = pool._zygote
        assert zygote is not None
        for what in ("cmdline", "environ"):
            assert KEY.encode() not in Path(f"/proc/{zygote.pid}/{what}").read_bytes()
    finally:
        pool.shutdown()
        os.umask(old)
    log_dir = task_log_dir(tmp_path, "job1", "guest", 9999, "reader_0")
    log_file = log_dir / "INFO.log"
    assert "need_run is false" in log_file.read_text()
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    for d in (log_dir, log_dir.parent, log_dir.parent.parent):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
