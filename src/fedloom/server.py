"""Running a fedloom server: in the foreground (CLI), embedded in a thread (demo, tests), stop and status."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from fedloom.api.app import create_app
from fedloom.api.guard import check_exposure
from fedloom.config import Settings
from fedloom.platform import Platform

log = logging.getLogger(__name__)


def _pid_file(data_dir: Path) -> Path:
    """`data_dir`: the server's run dir (its data dir, or its replica directory in it)."""
    return data_dir.expanduser().resolve() / "server.json"


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the owner decides about signals
        pass


def _uvicorn(platform: Platform) -> _Server:
    s = platform.settings
    config = uvicorn.Config(
        create_app(platform),
        host=s.host,
        port=s.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    return _Server(config)


def serve(settings: Settings, on_ready: Callable[[], None] | None = None) -> None:
    """Run in the foreground until SIGINT/SIGTERM; tasks still running are stopped and recovered later.
    `on_ready` runs once the data dir is ours and the platform started, before the API listens."""
    check_exposure(settings)  # before anything is opened or locked
    platform = Platform(settings)
    platform.start()
    if on_ready is not None:
        on_ready()
    server = _uvicorn(platform)
    pid_file = _pid_file(settings.run_dir)
    pid_file.write_text(json.dumps({"pid": os.getpid(), "host": settings.host, "port": settings.port}))

    def _graceful(_sig: int, _frame: Any) -> None:
        server.should_exit = True

    signal.signal(signal.SIGINT, _graceful)
    signal.signal(signal.SIGTERM, _graceful)
    try:
        server.run()
    finally:
        platform.close()
        pid_file.unlink(missing_ok=True)


def status(data_dir: Path) -> dict[str, Any] | None:
    try:
        info: dict[str, Any] = json.loads(_pid_file(data_dir).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    try:
        os.kill(int(info["pid"]), 0)
    except (ProcessLookupError, KeyError, ValueError):
        return None
    return info


def stop(data_dir: Path, timeout: float = 15.0) -> bool:
    info = status(data_dir)
    if info is None:
        return False
    os.kill(int(info["pid"]), signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if status(data_dir) is None:
            return True
        time.sleep(0.1)
    return False


class EmbeddedServer:
    """A server in a background thread of this process (port 0 = pick a free one)."""

    def __init__(self, settings: Settings) -> None:
        check_exposure(settings)
        if settings.port == 0:
            settings = settings.model_copy(update={"port": _free_port(settings.host)})
        self.settings = settings
        self.platform = Platform(settings)
        self._server = _uvicorn(self.platform)
        self._thread = threading.Thread(target=self._server.run, name="fedloom-http", daemon=True)

    @property
    def url(self) -> str:
        return self.settings.base_url

    def start(self) -> EmbeddedServer:
        self.platform.start()
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("embedded fedloom server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.platform.close()

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


__all__ = ["EmbeddedServer", "serve", "status", "stop"]
