"""Where things live under a server's data directory, and the guard every request-built path passes.

Two rules (docs/security.md): an id that becomes part of a path is checked against its format
first (`check_id`), and a path is resolved — `..` and symlinks followed — and checked to stay
inside its root (`inside`, `confine`). Refusals name the field or the setting, never the server's
resolved path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from fedloom.errors import InvalidInput, PermissionDenied

# Formats of the ids that become path parts. No leading dot, no separators, bounded length.
ID_FORMATS: dict[str, re.Pattern[str]] = {
    "job_id": re.compile(r"[A-Za-z0-9_-]{1,64}"),
    "component_name": re.compile(r"[A-Za-z0-9_-]{1,128}"),
    "role": re.compile(r"guest|host|arbiter|local"),
    "namespace": re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}"),
    "table_name": re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}"),
    "model_id": re.compile(r"[A-Za-z0-9_#-][A-Za-z0-9_#.-]{0,255}"),
    "model_version": re.compile(r"[A-Za-z0-9_-]{1,64}"),
}
MAX_PARTY_ID = 2**31 - 1
# Namespaces the server writes itself; the API may not upload into, drop or delete them.
RESERVED_NAMESPACE_PREFIXES = ("output_data_", "fedloom_")


def check_id(field: str, value: str, kind: str | None = None) -> str:
    """`value` if it matches the format of `kind` (default: `field`), else InvalidInput naming `field`."""
    pattern = ID_FORMATS[kind or field]
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        shown = value if isinstance(value, str) and len(value) <= 80 else f"{str(value)[:80]}..."
        raise InvalidInput(f"{field}: {shown!r} is not a valid {kind or field} (expected {pattern.pattern})")
    return value


def check_party_id(field: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PARTY_ID:
        raise InvalidInput(f"{field}: must be an integer between 0 and {MAX_PARTY_ID}, got {value!r}")
    return value


def is_reserved_namespace(namespace: str) -> bool:
    return namespace.startswith(RESERVED_NAMESPACE_PREFIXES)


def inside(root: Path, *parts: str) -> Path:
    """`root / parts`, resolved, checked to stay strictly inside the resolved `root`."""
    base = root.resolve()
    target = base.joinpath(*parts).resolve()
    if target == base or not target.is_relative_to(base):
        raise InvalidInput(f"path {'/'.join(parts)!r} leaves its directory")
    return target


def confine(
    raw: str | Path,
    roots: Sequence[Path],
    *,
    field: str,
    setting: str,
    data_dir: Path,
    data_dir_exception: Path | None = None,
) -> Path:
    """The resolved path of `raw` if it lies inside one of `roots` (a directory `setting` configures).

    Symlinks and `..` are resolved first, so neither can lead out. Whatever the roots, nothing in the
    data directory is reachable except under `data_dir_exception` (the export directory)."""
    text = str(raw)
    if not text or "\x00" in text:
        raise InvalidInput(f"{field}: empty or contains a NUL byte")
    path = Path(text).expanduser()
    if not path.is_absolute():
        raise InvalidInput(f"{field}: {text!r} must be an absolute path on the server")
    resolved = path.resolve()
    data = data_dir.resolve()
    allowed = [r.expanduser().resolve() for r in roots]
    in_root = any(resolved != r and resolved.is_relative_to(r) for r in allowed)
    in_data = resolved == data or resolved.is_relative_to(data)
    if in_data and data_dir_exception is not None:
        exc = data_dir_exception.resolve()
        in_data = not (resolved != exc and resolved.is_relative_to(exc))
    if not in_root or in_data:
        where = "none are configured" if not allowed else "see the server's settings"
        raise PermissionDenied(
            f"{field}: {text!r} is outside the directories the setting {setting!r} allows ({where})"
        )
    return resolved


def tables_dir(data_dir: Path) -> Path:
    return data_dir / "tables"


def federation_dir(data_dir: Path) -> Path:
    return data_dir / "federation"


def staging_dir(data_dir: Path) -> Path:
    """Uploads being received; emptied at every start."""
    return data_dir / "staging"


def logs_dir(data_dir: Path, job_id: str) -> Path:
    return inside(data_dir / "logs", check_id("job_id", job_id))


def task_log_dir(data_dir: Path, job_id: str, role: str, party_id: int, component: str) -> Path:
    return inside(
        logs_dir(data_dir, job_id),
        check_id("role", role),
        str(check_party_id("party_id", party_id)),
        check_id("component_name", component),
    )


def output_namespace(job_id: str, component: str, task_version: int) -> str:
    return f"output_data_{job_id}_{component}_{task_version}"


__all__ = [
    "ID_FORMATS",
    "RESERVED_NAMESPACE_PREFIXES",
    "check_id",
    "check_party_id",
    "confine",
    "federation_dir",
    "inside",
    "is_reserved_namespace",
    "logs_dir",
    "output_namespace",
    "staging_dir",
    "task_log_dir",
    "tables_dir",
]
