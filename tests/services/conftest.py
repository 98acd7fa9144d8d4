"""A real Platform over SQLite in a temporary data dir, with two small uploaded tables; not started, so
the scheduler never moves a job: the services' own effects are what the tests see."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fedloom.config import load_settings
from fedloom.platform import Platform
from fedloom.services.catalog import Services
from fedloom.services.tables import UploadRequest
from tests.e2e import jobs as e2e_jobs

GUEST_CSV = b"id,y,x0,x1\n1,0,0.1,0.2\n2,1,0.3,0.4\n3,0,0.5,0.6\n"
HOST_CSV = b"id,x2,x3\n1,1.0,2.0\n2,3.0,4.0\n3,5.0,6.0\n"


def make_platform(data_dir: Path) -> Platform:
    platform = Platform(load_settings(None, port=0, data_dir=data_dir, sweep_interval=0.5))
    tables = platform.services.tables
    tables.upload(UploadRequest("experiment", "guest_t", partition=2), GUEST_CSV)
    tables.upload(UploadRequest("experiment", "host_t", partition=2), HOST_CSV)
    return platform


@pytest.fixture()
def platform(tmp_path: Path) -> Iterator[Platform]:
    p = make_platform(tmp_path / "data")
    try:
        yield p
    finally:
        p.close()


@pytest.fixture()
def services(platform: Platform) -> Services:
    return platform.services


def psi_job(
    guest_table: str = "guest_t", host_table: str = "host_t"
) -> tuple[dict[str, Any], dict[str, Any]]:
    return e2e_jobs.psi_job(guest_table=guest_table, host_table=host_table)
