"""Fixtures for the security suite: a real server on its own data dir, and a fingerprint of everything
it owns (files and database rows) so a test can assert that a refused request changed nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fedloom.config import load_settings
from fedloom.server import EmbeddedServer
from tests.e2e.conftest import Api, demo_dir

__all__ = ["Api", "Fingerprint", "demo_dir"]


class Fingerprint:
    """What a server owns: every file under its data dir (path, size, content hash) and every row of its
    database. Two equal fingerprints mean nothing was written, created or deleted."""

    def __init__(self, server: EmbeddedServer) -> None:
        self.server = server

    def take(self) -> dict[str, Any]:
        root = self.server.settings.resolved_data_dir
        files: dict[str, str] = {}
        for path in sorted(root.rglob("*")):
            rel = str(path.relative_to(root))
            if path.is_file() and not rel.startswith(("fedloom.db", "logs/")) and path.name != "server.lock":
                files[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        engine = sa.create_engine(self.server.settings.sqlalchemy_url)
        rows: dict[str, int] = {}
        with engine.connect() as conn:
            for table in sa.inspect(conn).get_table_names():
                if table == "audit":  # the audit log records every request, refused ones too
                    continue
                rows[table] = conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
        engine.dispose()
        return {"files": files, "rows": rows}


def start_server(data_dir: Path, **settings: Any) -> EmbeddedServer:
    return EmbeddedServer(
        load_settings(None, port=0, data_dir=data_dir, sweep_interval=0.5, **settings)
    ).start()


@pytest.fixture(scope="module")
def sec_server(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Iterator[EmbeddedServer]:
    """A loopback server with the demo tables, shared by a test module."""
    srv = start_server(tmp_path_factory.mktemp("sec-server"))
    try:
        api = Api(srv.url)
        for name in ("breast_hetero_guest", "breast_hetero_host"):
            res = api.upload(demo_dir / f"{name}.csv", "experiment", name)
            assert res["retcode"] == 0, res
        yield srv
    finally:
        srv.stop()


@pytest.fixture()
def sec_api(sec_server: EmbeddedServer) -> Api:
    return Api(sec_server.url)


@pytest.fixture()
def fingerprint(sec_server: EmbeddedServer) -> Fingerprint:
    return Fingerprint(sec_server)
