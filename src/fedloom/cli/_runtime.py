"""Late imports of the heavy parts the CLI drives (server, demo data), so `fedloom job ...` starts fast."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from fedloom.config import Settings


class EmbeddedServerLike(Protocol):
    """`fedloom.server.EmbeddedServer`: a server running in this process while the block runs."""

    @property
    def url(self) -> str: ...

    def __enter__(self) -> EmbeddedServerLike: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None: ...


class ServerModule(Protocol):
    """What the CLI needs from `fedloom.server` (tests substitute a fake)."""

    @property
    def EmbeddedServer(self) -> Callable[[Settings], EmbeddedServerLike]: ...  # read-only: covariant

    def serve(self, settings: Settings, on_ready: Callable[[], None] | None = None) -> None: ...

    def stop(self, data_dir: Path) -> bool: ...

    def status(self, data_dir: Path) -> dict[str, Any] | None: ...


def server_module() -> ServerModule:
    from fedloom import server

    return server


def write_demo(out_dir: Path, synthetic_rows: int | None = None) -> list[Path]:
    from fedloom.storage.demo_data import write_demo as write

    return write(out_dir, synthetic_rows)


__all__ = ["EmbeddedServerLike", "ServerModule", "server_module", "write_demo"]
