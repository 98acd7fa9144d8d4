"""Assertions shared by the path and data attack tests: a 1xx refusal that names its field or setting,
shows no server path it resolved, and changed nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fedloom.server import EmbeddedServer
from tests.security.conftest import Fingerprint


def assert_refused(res: dict[str, Any], *words: str, hidden: tuple[Path | str, ...] = ()) -> str:
    """`res` is a 1xx error whose message holds every word and none of the `hidden` server paths."""
    assert 100 <= res["retcode"] < 200, res
    message = str(res["retmsg"])
    for word in words:
        assert word in message, (word, message)
    for path in hidden:
        assert str(path) not in message, (path, message)
    assert "Traceback" not in message and "internal error" not in message, message
    return message


def table_exists(server: EmbeddedServer, namespace: str, name: str) -> bool:
    return server.platform.tables.exists(namespace, name)


def unchanged(fingerprint: Fingerprint, before: dict[str, Any]) -> None:
    after = fingerprint.take()
    assert after == before, {
        "files added": sorted(set(after["files"]) - set(before["files"])),
        "files removed": sorted(set(before["files"]) - set(after["files"])),
        "files changed": sorted(
            k for k in before["files"] if after["files"].get(k, before["files"][k]) != before["files"][k]
        ),
        "rows": (before["rows"], after["rows"]),
    }


__all__ = ["assert_refused", "table_exists", "unchanged"]
