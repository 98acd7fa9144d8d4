"""Safe extraction of the tar.gz archives the download routes send (no links, nothing outside dest)."""

from __future__ import annotations

import shutil
import tarfile
import zlib
from pathlib import Path
from typing import IO

from fedloom.client.errors import ApiError


def extract_tar_gz(fileobj: IO[bytes], dest: Path) -> list[Path]:
    """Extract regular files and directories into `dest`; refuse members that would escape it."""
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    written: list[Path] = []
    try:
        with tarfile.open(fileobj=fileobj, mode="r:gz") as archive:
            for member in archive:
                target = _target(root, member)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                elif member.isfile():
                    _write_member(archive, member, target)
                    written.append(target)
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise ApiError(100, f"the server sent a broken archive: {exc}") from exc
    except OSError as exc:
        raise ApiError(100, f"cannot write the download into {dest}: {exc}") from exc
    return written


def _target(root: Path, member: tarfile.TarInfo) -> Path:
    target = (root / member.name).resolve()
    if not member.name or not target.is_relative_to(root):
        raise ApiError(100, f"archive member {member.name!r} points outside the output directory")
    return target


def _write_member(archive: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    source = archive.extractfile(member)
    if source is None:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with source, target.open("wb") as out:
        shutil.copyfileobj(source, out)


__all__ = ["extract_tar_gz"]
