"""Fixtures for the dsl tests: the fake catalog and fresh copies of the spec's example jobs."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from dsl_fakes import HETERO_LR_CONF, HETERO_LR_DSL, SECUREBOOST_CONF, SECUREBOOST_DSL, FakeCatalog


@pytest.fixture(scope="session")
def catalog() -> FakeCatalog:
    return FakeCatalog()


@pytest.fixture
def lr_dsl() -> dict[str, Any]:
    return copy.deepcopy(HETERO_LR_DSL)


@pytest.fixture
def lr_conf() -> dict[str, Any]:
    return copy.deepcopy(HETERO_LR_CONF)


@pytest.fixture
def sbt_dsl() -> dict[str, Any]:
    return copy.deepcopy(SECUREBOOST_DSL)


@pytest.fixture
def sbt_conf() -> dict[str, Any]:
    return copy.deepcopy(SECUREBOOST_CONF)
