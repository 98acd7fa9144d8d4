"""The metadata-store backends every store contract runs on: SQLite always, MariaDB/MySQL and PostgreSQL
when reachable (a fresh database per test, dropped after it)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from fedloom.store import Stores, open_stores

_SERVERS = {
    "mysql": ("mysql+pymysql://root@127.0.0.1:3306/", "mysql+pymysql://root@127.0.0.1:3306/{db}"),
    "postgres": (
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        "postgresql+psycopg://postgres@127.0.0.1:5432/{db}",
    ),
}


def _admin(kind: str, sql: str) -> None:
    eng = create_engine(_SERVERS[kind][0], isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as conn:
            conn.execute(text(sql))
    finally:
        eng.dispose()


def _server_db(kind: str) -> str:
    db = f"fedloom_test_{uuid.uuid4().hex[:8]}"
    try:
        _admin(kind, f"CREATE DATABASE {db}")
    except Exception as exc:  # not reachable here: the backend is skipped, SQLite still runs
        pytest.skip(f"{kind} not reachable: {type(exc).__name__}")
    return db


@pytest.fixture(params=["sqlite", "mysql", "postgres"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    kind = request.param
    db = None if kind == "sqlite" else _server_db(kind)
    url = f"sqlite:///{tmp_path / 'db.sqlite'}" if db is None else _SERVERS[kind][1].format(db=db)
    s = open_stores(url)
    yield s
    s.close()
    if db is not None:
        _admin(kind, f"DROP DATABASE {db}")
