"""Staging files (uploads) and replacing writes (exports): owner-only, bounded, never left behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from fedloom.errors import InvalidInput
from fedloom.storage import staging
from fedloom.storage.staging import StagingFile


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_staging_file_is_owner_only_and_removed_on_close(tmp_path: Path) -> None:
    directory = tmp_path / "staging"
    with StagingFile(directory) as f:
        f.write(b"id,x\n", limit=100)
        f.write(b"1,2\n", limit=100)
        path = f.finish()
        assert path.read_bytes() == b"id,x\n1,2\n"
        assert _mode(directory) == 0o700 and _mode(path) == 0o600
    assert not path.exists()
    assert list(directory.iterdir()) == []


def test_staging_file_refuses_past_the_limit_naming_the_setting(tmp_path: Path) -> None:
    with StagingFile(tmp_path) as f, pytest.raises(InvalidInput, match="'max_body_bytes'"):
        f.write(b"x" * 10, limit=20)
        f.write(b"x" * 11, limit=20)
    assert list(tmp_path.iterdir()) == []


def test_two_staging_files_never_share_a_name(tmp_path: Path) -> None:
    with StagingFile(tmp_path) as a, StagingFile(tmp_path) as b:
        assert a.path != b.path


def test_replacing_writes_atomically_and_leaves_no_temporary(tmp_path: Path) -> None:
    (tmp_path / "out.csv").write_bytes(b"old")
    with staging.replacing(tmp_path, "out.csv") as stream:
        stream.write(b"new")
        assert (tmp_path / "out.csv").read_bytes() == b"old"
    assert (tmp_path / "out.csv").read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_replacing_keeps_the_old_file_on_error(tmp_path: Path) -> None:
    (tmp_path / "out.csv").write_bytes(b"old")
    with pytest.raises(RuntimeError), staging.replacing(tmp_path, "out.csv") as stream:
        stream.write(b"half")
        raise RuntimeError("boom")
    assert (tmp_path / "out.csv").read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_replacing_replaces_a_planted_symlink_instead_of_following_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim.py"
    victim.write_bytes(b"print('safe')")
    exports = tmp_path / "exports"
    exports.mkdir()
    os.symlink(victim, exports / "out.csv")
    with staging.replacing(exports, "out.csv") as stream:
        stream.write(b"id,x\n")
    assert victim.read_bytes() == b"print('safe')"
    assert not (exports / "out.csv").is_symlink()
    assert (exports / "out.csv").read_bytes() == b"id,x\n"


def test_replacing_refuses_a_symlinked_directory(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    os.symlink(real, tmp_path / "link")
    with pytest.raises(OSError), staging.replacing(tmp_path / "link", "x.csv"):
        pass
    assert list(real.iterdir()) == []


def test_open_regular_refuses_symlinks_and_non_files(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    os.symlink(tmp_path / "f", tmp_path / "link")
    fd = staging.open_regular(tmp_path / "f")
    os.close(fd)
    with pytest.raises(OSError):
        staging.open_regular(tmp_path / "link")
    with pytest.raises(InvalidInput, match="regular file"):
        staging.open_regular(tmp_path)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(InvalidInput, match="regular file"):
        staging.open_regular(tmp_path / "fifo")
    with pytest.raises(FileNotFoundError):
        staging.open_regular(tmp_path / "missing")


def test_copy_into_counts_against_the_limit(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.write_bytes(b"x" * 5000)
    fd = os.open(src, os.O_RDONLY)
    try:
        with StagingFile(tmp_path / "st") as f, pytest.raises(InvalidInput, match="'import_limit'"):
            staging.copy_into(fd, f, 4000, "import_limit")
    finally:
        os.close(fd)
    assert list((tmp_path / "st").iterdir()) == []
