"""Fixtures: a FakeServer and a FedloomClient wired to it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from fedloom.client import FedloomClient
from tests.client.fake_flow import FakeServer


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def client(server: FakeServer) -> Iterator[FedloomClient]:
    with FedloomClient("http://flow.test:9380", transport=httpx.MockTransport(server)) as sdk:
        yield sdk
