"""A fresh SQLite metadata store per test, with cores for every party of the harness."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fedloom.store import Stores, open_stores
from tests.scheduler.harness import PARTIES


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Stores]:
    s = open_stores(f"sqlite:///{tmp_path / 'meta.db'}")
    for _, pid in PARTIES:
        s.jobs.ensure_party_resource(pid, 8)
    yield s
    s.close()
