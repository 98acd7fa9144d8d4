"""Typed, late imports of the parts the CLI drives but does not own (the server, the demo data)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, Protocol, cast

from fedloom.config import Settings
from fedloom.errors import OperationFailed


class EmbeddedServerLike(Protocol):
    """`fedloom.server.EmbeddedServer`: a server running in this process while the block runs."""

    @property
    def url(self) -> str: ...

    def __enter__(self) -> EmbeddedServerLike: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None: ...


class ServerModule(Protocol):
    """What the CLI needs from `fedloom.server`."""

    EmbeddedServer: Callable[[Settings], EmbeddedServerLike]

    def serve(self, settings: Settings) -> None: ...

    def stop(self, data_dir: Path) -> bool: ...

    def status(self, data_dir: Path) -> dict[str, Any] | None: ...


WriteDemo = Callable[..., list[Path]]


def server_module() -> ServerModule:
    return cast(ServerModule, _import("fedloom.server", "the server"))


def write_demo(out_dir: Path, synthetic_rows: int | None = None) -> list[Path]:
    """`fedloom.storage.demo_data.write_demo`; its own default applies when rows are not given."""
    writer = cast(WriteDemo, _import("fedloom.storage.demo_data", "the demo data").write_demo)
    if synthetic_rows is None:
        return list(writer(out_dir))
    return list(writer(out_dir, synthetic_rows))


def _import(name: str, what: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise OperationFailed(f"{what} is not available in this installation ({name}: {exc})") from exc


__all__ = ["EmbeddedServerLike", "ServerModule", "server_module", "write_demo"]
