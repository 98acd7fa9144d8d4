"""`fedloom certs init`: the files it writes, the configs servers load, and what it refuses."""

from __future__ import annotations

import json
import stat
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from fedloom.cli.certs import party_ids
from fedloom.cli.main import app
from fedloom.cluster.certs import load_identity
from fedloom.config import Settings, load_settings
from fedloom.errors import InvalidInput

PARTIES = (9999, 10000, 10001)


def run(args: Sequence[str]) -> Result:
    return CliRunner().invoke(app, list(args))


def load_all(out: Path, parties: Sequence[int] = PARTIES) -> dict[int, Settings]:
    return {pid: load_settings(out / str(pid) / "server.yaml") for pid in parties}


def secret(settings: Settings, partner: int) -> str:
    route_secret = settings.routes[partner].secret
    assert route_secret is not None
    return route_secret.get_secret_value()


def test_init_writes_a_loadable_config_per_party(tmp_path: Path) -> None:
    out = tmp_path / "certs"
    result = run(["certs", "init", "--out", str(out), "--parties", "9999", "10000", "10001"])
    assert result.exit_code == 0, result.output
    configs = load_all(out)
    for i, (pid, settings) in enumerate(configs.items()):
        assert stat.S_IMODE((out / str(pid) / "server.yaml").stat().st_mode) == 0o600
        assert settings.party_ids == [pid]
        assert (settings.port, settings.federation_port) == (9380 + i, 9360 + i)
        assert settings.data_dir == Path("fedloom-data").absolute() / str(pid)
        assert settings.tls is not None
        assert load_identity(settings.tls, settings.party_ids).parties == {pid}
        assert {p: r.port for p, r in settings.routes.items()} == {
            p: 9360 + j for j, p in enumerate(PARTIES) if p != pid
        }
        assert settings.auth_enabled and len(settings.client_apps) == 1
    for a, b in combinations(PARTIES, 2):
        assert secret(configs[a], b) == secret(configs[b], a)
    assert len({secret(configs[a], b) for a, b in combinations(PARTIES, 2)}) == 3
    assert len({key for s in configs.values() for key in s.client_apps}) == 3


def test_init_prints_each_config_and_how_to_start_it(tmp_path: Path) -> None:
    out = tmp_path / "certs"
    result = run(["certs", "init", "--out", str(out), "--parties", "9999", "10000"])
    assert result.exit_code == 0, result.output
    for pid in (9999, 10000):
        config = out / str(pid) / "server.yaml"
        assert f"# party {pid}: {config}\n" in result.stdout
        assert config.read_text() in result.stdout
        assert f"fedloom server start --config {config}\n" in result.stdout
    assert "ca.key" in result.stderr


def test_init_json_lists_the_files(tmp_path: Path) -> None:
    out = tmp_path / "certs"
    result = run(["--json", "certs", "init", "--out", str(out), "--parties", "9999,10000"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report == {
        str(pid): {
            "config_file": str(out / str(pid) / "server.yaml"),
            "cert": str(out / str(pid) / "cert.pem"),
            "key": str(out / str(pid) / "key.pem"),
            "ca": str(out / "ca.pem"),
        }
        for pid in (9999, 10000)
    }
    assert "PRIVATE KEY" not in result.stdout


def test_init_options(tmp_path: Path) -> None:
    out = tmp_path / "certs"
    args = ["certs", "init", "--out", str(out), "--parties", "5", "--parties", "7", "--host", "10.0.0.8"]
    args += ["--api-port-base", "8000", "--federation-port-base", "7000"]
    args += ["--data-dir-base", str(tmp_path / "data"), "--days", "30"]
    result = run(args)
    assert result.exit_code == 0, result.output
    five, seven = load_all(out, [5, 7]).values()
    assert (five.host, five.port, five.federation_port) == ("10.0.0.8", 8000, 7000)
    assert (seven.port, seven.federation_port, seven.routes[5].port) == (8001, 7001, 7000)
    assert seven.routes[5].host == "10.0.0.8"
    assert seven.data_dir == tmp_path / "data" / "7"


def test_second_run_refuses_and_keeps_the_ca(tmp_path: Path) -> None:
    out = tmp_path / "certs"
    assert run(["certs", "init", "--out", str(out), "--parties", "9999", "10000"]).exit_code == 0
    before = (out / "ca.key").read_bytes(), (out / "9999" / "server.yaml").read_bytes()
    result = run(["certs", "init", "--out", str(out), "--parties", "9999", "10000"])
    assert result.exit_code == 2
    assert "ca.key already exists" in result.stderr
    assert "Traceback" not in result.output
    assert ((out / "ca.key").read_bytes(), (out / "9999" / "server.yaml").read_bytes()) == before


@pytest.mark.parametrize(
    ("parties", "message"),
    [
        (["9999", "x1"], "'x1' is not a party id"),
        (["9999", "0"], "0 is not a party id"),
        (["9999", "9999"], "party 9999 is listed more than once"),
        ([""], "give at least one party id"),
    ],
)
def test_bad_party_ids_exit_2_with_one_line(tmp_path: Path, parties: list[str], message: str) -> None:
    result = run(["certs", "init", "--out", str(tmp_path / "certs"), "--parties", *parties])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert not (tmp_path / "certs").exists()


def test_ports_must_fit(tmp_path: Path) -> None:
    args = ["certs", "init", "--out", str(tmp_path / "c"), "--parties", "1", "2"]
    result = run([*args, "--api-port-base", "65535"])
    assert result.exit_code == 2 and "--api-port-base" in result.stderr
    result = run([*args, "--api-port-base", "9000", "--federation-port-base", "9001"])
    assert result.exit_code == 2 and "overlap" in result.stderr


def test_party_ids_accepts_commas_spaces_and_repeats() -> None:
    assert party_ids(["9999, 10000", "10001", " 7 8 "]) == [9999, 10000, 10001, 7, 8]
    with pytest.raises(InvalidInput, match="'-1' is not a party id"):
        party_ids(["-1"])
