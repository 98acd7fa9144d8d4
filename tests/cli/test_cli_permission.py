"""`fedloom permission grant|revoke|query` and `fedloom audit` against a real server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from fedloom.cli.main import app
from fedloom.config import load_settings
from fedloom.server import EmbeddedServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("cli-permission") / "data"
    with EmbeddedServer(load_settings(None, port=0, data_dir=data, worker_preload=False)) as srv:
        yield srv.url


@pytest.fixture(autouse=True)
def no_grants(server: str) -> Iterator[None]:
    yield
    for party in ("9999", "8888"):
        fedloom(server, "permission", "revoke", "--party-id", party)


def fedloom(server: str, *args: str) -> Result:
    return CliRunner().invoke(app, ["--server", server, *args])


def grants(server: str, party: str = "9999") -> list[dict[str, Any]]:
    result = fedloom(server, "--json", "permission", "query", "--party-id", party)
    assert result.exit_code == 0, result.output
    found: list[dict[str, Any]] = json.loads(result.stdout)["grants"]
    return found


def test_grant_with_components_and_datasets(server: str) -> None:
    result = fedloom(
        server,
        "permission",
        "grant",
        "--party-id",
        "9999",
        "--component",
        "heterolr,Reader",
        "--dataset",
        "experiment:breast_hetero_host",
        "--dataset",
        "experiment:other",
    )
    assert result.exit_code == 0, result.output
    assert "granted to party 9999 (4 new rule(s))" in result.stdout
    assert {"component": "heterolr", "namespace": "experiment", "name": "other"} in grants(server)
    assert len(grants(server)) == 4


def test_grant_defaults_to_everything(server: str) -> None:
    assert fedloom(server, "permission", "grant", "--party-id", "9999").exit_code == 0
    assert grants(server) == [{"component": "*", "namespace": "*", "name": "*"}]


def test_query_prints_a_table(server: str) -> None:
    fedloom(server, "permission", "grant", "-p", "9999", "-c", "heterolr", "-d", "experiment:t")
    result = fedloom(server, "permission", "query", "--party-id", "9999")
    assert result.exit_code == 0, result.output
    assert "heterolr" in result.stdout and "experiment" in result.stdout and "component" in result.stdout
    empty = fedloom(server, "permission", "query", "--party-id", "8888")
    assert "party 8888 has no grants here" in empty.stdout


def test_revoke(server: str) -> None:
    fedloom(server, "permission", "grant", "-p", "9999", "-c", "heterolr,reader", "-d", "experiment:t")
    result = fedloom(server, "permission", "revoke", "-p", "9999", "-c", "heterolr")
    assert result.exit_code == 0, result.output
    assert "1 rule(s) deleted" in result.stdout
    assert grants(server) == [{"component": "reader", "namespace": "experiment", "name": "t"}]


def test_json_output_of_grant(server: str) -> None:
    result = fedloom(server, "--json", "permission", "grant", "-p", "9999", "-c", "reader")
    assert json.loads(result.stdout) == {"added": 1}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["-c", "dataio"], ["'dataio'"]),
        (["-d", "no-colon"], ["--dataset", "NAMESPACE:NAME"]),
        (["-d", "../etc:x"], ["namespace"]),
    ],
)
def test_bad_input_exits_2_with_the_reason(server: str, args: list[str], words: list[str]) -> None:
    result = fedloom(server, "permission", "grant", "-p", "9999", *args)
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.stderr
    assert grants(server) == []


def test_audit_lists_the_calls(server: str) -> None:
    fedloom(server, "permission", "grant", "-p", "8888", "-c", "reader")
    deadline = time.monotonic() + 5
    while True:
        result = fedloom(server, "--json", "audit", "--action", "POST /v1/permission/grant", "--limit", "5")
        assert result.exit_code == 0, result.output
        entries = json.loads(result.stdout)
        if entries or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert entries[0]["actor"] == "anonymous" and entries[0]["retcode"] == 0
    table = CliRunner().invoke(app, ["--server", server, "audit", "--limit", "3"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "POST /v1/" in table.stdout and "anonymous" in table.stdout


def test_audit_limit_is_checked_by_the_server(server: str) -> None:
    result = fedloom(server, "audit", "--limit", "5000")
    assert result.exit_code == 2 and "limit" in result.stderr


def test_docs_example_shape(tmp_path: Path) -> None:
    """The README-style round trip: grant, query as JSON, revoke everything."""
    data = tmp_path / "data"
    with EmbeddedServer(load_settings(None, port=0, data_dir=data, worker_preload=False)) as srv:
        assert fedloom(srv.url, "permission", "grant", "-p", "10000", "-c", "heterolr").exit_code == 0
        assert grants(srv.url, "10000") == [{"component": "heterolr", "namespace": "*", "name": "*"}]
        assert fedloom(srv.url, "permission", "revoke", "-p", "10000").exit_code == 0
        assert grants(srv.url, "10000") == []
