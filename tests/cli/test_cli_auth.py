"""The CLI signs requests with --app-key/--secret-key (or the env) against a real keyed server;
`fedloom server keygen` makes a pair the server accepts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedloom.cli.main import app
from fedloom.config import load_settings
from fedloom.server import EmbeddedServer


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    result = CliRunner().invoke(app, ["server", "keygen", "--json"])
    assert result.exit_code == 0, result.output
    pair: dict[str, str] = json.loads(result.stdout)
    return pair


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, str]) -> Iterator[str]:
    config = tmp_path_factory.mktemp("keyed") / "fedloom.yaml"
    text = CliRunner().invoke(app, ["server", "keygen"]).stdout  # the YAML lines it prints are usable
    assert "app_key:" in text and "export FEDLOOM_SECRET_KEY=" in text and "flow init" in text
    config.write_text(f"app_key: {keys['app_key']}\nsecret_key: {keys['secret_key']}\n")
    settings = load_settings(config, port=0, data_dir=config.parent / "data", worker_preload=False)
    with EmbeddedServer(settings) as server:
        yield server.url


def test_keygen_makes_fresh_pairs(keys: dict[str, str]) -> None:
    again = json.loads(CliRunner().invoke(app, ["server", "keygen", "--json"]).stdout)
    assert again["app_key"] != keys["app_key"] and again["secret_key"] != keys["secret_key"]
    assert len(keys["secret_key"]) >= 40


def test_options_sign_requests(keyed: str, keys: dict[str, str]) -> None:
    args = ["--server", keyed, "--app-key", keys["app_key"], "--secret-key", keys["secret_key"]]
    result = CliRunner().invoke(app, [*args, "--json", "job", "list"])
    assert result.exit_code == 0, result.output


def test_env_signs_requests(keyed: str, keys: dict[str, str]) -> None:
    env = {"FEDLOOM_APP_KEY": keys["app_key"], "FEDLOOM_SECRET_KEY": keys["secret_key"]}
    result = CliRunner().invoke(app, ["--server", keyed, "--json", "job", "list"], env=env)
    assert result.exit_code == 0, result.output


def test_unsigned_and_wrong_secret_are_refused(keyed: str, keys: dict[str, str]) -> None:
    env = {"FEDLOOM_APP_KEY": "", "FEDLOOM_SECRET_KEY": ""}
    unsigned = CliRunner().invoke(app, ["--server", keyed, "job", "list"], env=env)
    assert unsigned.exit_code == 1 and "109" in unsigned.output
    wrong = CliRunner().invoke(
        app, ["--server", keyed, "--app-key", keys["app_key"], "--secret-key", "nope", "job", "list"], env=env
    )
    assert wrong.exit_code == 1 and "SIGNATURE" in wrong.output
    assert keys["secret_key"] not in unsigned.output + wrong.output


def test_half_a_key_pair_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--app-key", "k", "job", "list"], env={"FEDLOOM_SECRET_KEY": ""})
    assert result.exit_code == 2


def test_server_start_refuses_an_exposed_host_without_a_key(tmp_path: Path) -> None:
    env = {"FEDLOOM_APP_KEY": "", "FEDLOOM_SECRET_KEY": ""}
    result = CliRunner().invoke(
        app, ["server", "start", "--host", "0.0.0.0", "--data-dir", str(tmp_path / "d")], env=env
    )
    assert result.exit_code == 2 and "fedloom server keygen" in result.output
    assert not (tmp_path / "d").exists()
