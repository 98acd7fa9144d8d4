"""The data-dir lock and the owner-only umask, without a server."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from fedloom.datadir import LOCK_FILE, OWNER_ONLY_UMASK, acquire, acquire_shared, clean_staging
from fedloom.errors import Conflict
from fedloom.paths import staging_dir


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_one_holder_at_a_time_named_as_given(tmp_path: Path) -> None:
    data = tmp_path / "d"
    lock = acquire(data, shown="~/my-data")
    try:
        assert (data / LOCK_FILE).read_text() == f"{os.getpid()}\n"
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert stat.S_IMODE((data / LOCK_FILE).stat().st_mode) == 0o600
        with pytest.raises(Conflict, match=rf"data_dir '~/my-data' is in use .*\(PID {os.getpid()}\)") as exc:
            acquire(data, shown="~/my-data")
        assert str(tmp_path) not in exc.value.message
    finally:
        lock.release()
    lock.release()  # idempotent
    assert not lock.held
    acquire(data).release()


def test_the_umask_is_owner_only_while_any_lock_is_held(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        first, second = acquire(tmp_path / "a"), acquire(tmp_path / "b")
        assert _umask() == OWNER_ONLY_UMASK
        first.release()
        assert _umask() == OWNER_ONLY_UMASK  # the other server still runs in this process
        second.release()
        assert _umask() == 0o022
    finally:
        os.umask(old)


def test_a_loose_data_dir_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir(mode=0o777)
    os.chmod(data, 0o777)
    acquire(data).release()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_clean_staging_removes_everything_but_follows_no_link(tmp_path: Path) -> None:
    data = tmp_path / "d"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("x")
    data.mkdir()
    staging_dir(data).symlink_to(outside)  # staging itself a link: removed, its target untouched
    clean_staging(data)
    assert staging_dir(data).is_dir() and not staging_dir(data).is_symlink()
    assert (outside / "keep").exists()
    (staging_dir(data) / "sub").mkdir()
    (staging_dir(data) / "sub" / "f").write_text("y")
    clean_staging(data)
    assert list(staging_dir(data).iterdir()) == []
    assert stat.S_IMODE(staging_dir(data).stat().st_mode) == 0o700


def test_replicas_share_a_data_dir_only_with_replicas(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first, second = acquire_shared(data), acquire_shared(data)  # two replicas
    with pytest.raises(Conflict, match="in use by another fedloom server"):
        acquire(data)  # a server without server_id
    first.release()
    second.release()
    single = acquire(data)
    with pytest.raises(Conflict, match="without server_id"):
        acquire_shared(data)
    single.release()


def test_replicas_clean_only_old_staging_entries(tmp_path: Path) -> None:
    data = tmp_path / "data"
    staging = staging_dir(data)
    staging.mkdir(parents=True)
    old, new = staging / "old-upload", staging / "live-upload"
    old.write_bytes(b"x")
    new.write_bytes(b"y")
    os.utime(old, (1, 1))
    clean_staging(data, older_than=3600)
    assert not old.exists() and new.exists()
