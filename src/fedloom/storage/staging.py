"""Files being received (uploads) and files being exported: owner-only, uniquely named, never left behind.

An upload streams into a file under `<data_dir>/staging` (directory 0700, file 0600) and is parsed from
there; the file is removed whatever happens. `clean` empties the staging directory at server start, in
case a crash left something. An export is written to a temporary file beside its target and renamed over
it, through a directory file descriptor, so a symlink planted at the target is replaced, not followed.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from fedloom.errors import InvalidInput

_EXPORT_TMP_PREFIX = ".fedloom-export-"
_CHUNK = 1024 * 1024


def owner_only_dir(path: Path) -> Path:
    """`path`, created owner-only (0700) with its parents if missing; an existing one is left as it is."""
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    return path


class StagingFile:
    """A new empty 0600 file in `directory` that is deleted by `close()` (or leaving the `with`)."""

    def __init__(self, directory: Path) -> None:
        owner_only_dir(directory)
        self.path = directory / f"upload-{uuid.uuid4().hex}"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        self._stream: BinaryIO | None = os.fdopen(fd, "wb")
        self.size = 0

    def write(self, data: bytes, limit: int, setting: str = "max_body_bytes") -> None:
        """Append `data`; InvalidInput naming `setting` once the file would pass `limit` bytes."""
        if self._stream is None:
            raise ValueError("staging file already finished")
        self.size += len(data)
        if self.size > limit:
            raise InvalidInput(f"upload is larger than {limit} bytes (the setting {setting!r})")
        self._stream.write(data)

    @property
    def stream(self) -> BinaryIO:
        """The open file, for writers that need a file object (tarfile); no limit is counted."""
        if self._stream is None:
            raise ValueError("staging file already finished")
        return self._stream

    def finish(self) -> Path:
        """Close the file for writing; it can now be read at `path`."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        return self.path

    def close(self) -> None:
        self.finish()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> StagingFile:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


@contextlib.contextmanager
def tar_gz(directory: Path) -> Iterator[tuple[StagingFile, tarfile.TarFile]]:
    """A tar.gz being written to a new staging file in `directory`; on success the file is finished
    and handed to the caller (who serves and closes it), on error it is removed."""
    archive = StagingFile(directory)
    try:
        with tarfile.open(fileobj=archive.stream, mode="w:gz") as tar:
            yield archive, tar
        archive.finish()
    except BaseException:
        archive.close()
        raise


def copy_into(fd: int, staging: StagingFile, limit: int, setting: str) -> None:
    """Copy an open file descriptor into `staging` in bounded chunks."""
    while chunk := os.read(fd, _CHUNK):
        staging.write(chunk, limit, setting)
    staging.finish()


@contextlib.contextmanager
def replacing(directory: Path, name: str) -> Iterator[BinaryIO]:
    """A stream whose content replaces `directory/name` atomically when the block ends without error.

    `directory` must already be checked by the caller; it is opened once (O_NOFOLLOW) and the temporary
    file and the rename go through that descriptor, so swapping a path component afterwards changes
    nothing. The temporary file is removed on error."""
    dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    real = fd_path(dfd)
    if real is not None and real != directory:
        os.close(dfd)
        raise InvalidInput("output_path: its directory changed while the file was being written")
    tmp = f"{_EXPORT_TMP_PREFIX}{uuid.uuid4().hex}.partial"
    try:
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dfd
        )
        try:
            with os.fdopen(fd, "wb") as stream:
                yield stream
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=dfd)
    finally:
        os.close(dfd)


def open_regular(path: Path) -> int:
    """A read descriptor on `path`, which must be a regular file and not a symlink (O_NOFOLLOW).

    Raises FileNotFoundError if it does not exist, and InvalidInput for anything but a regular file."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InvalidInput("file: not a regular file")
    return fd


def fd_path(fd: int) -> Path | None:
    """Where an open descriptor really points (Linux /proc), to re-check it after opening."""
    link = Path(f"/proc/self/fd/{fd}")
    try:
        return Path(os.readlink(link))
    except OSError:
        return None


__all__ = ["StagingFile", "copy_into", "tar_gz", "fd_path", "open_regular", "owner_only_dir", "replacing"]
