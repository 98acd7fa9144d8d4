"""Attack: "any file writable". data/download writes only inside the setting `export_dir` (by default
<data_dir>/exports, owner-only); a relative output_path is relative to it; a symlink planted in it is
replaced, never followed; the answer shows the caller's path, never the server's."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fedloom.server import EmbeddedServer
from tests.e2e.conftest import Api
from tests.security._checks import assert_refused, unchanged
from tests.security.conftest import Fingerprint, start_server

VICTIM = b"print('original')\n"


def _download(api: Api, output_path: str, **extra: Any) -> dict[str, Any]:
    body = {
        "namespace": "experiment",
        "table_name": "breast_hetero_guest",
        "output_path": output_path,
        **extra,
    }
    return api.post("/data/download", body)


@pytest.fixture()
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "victim.py"
    path.write_bytes(VICTIM)
    return path


@pytest.fixture()
def exports(sec_server: EmbeddedServer) -> Path:
    return sec_server.settings.resolved_export_dir


def test_a_relative_path_lands_in_the_owner_only_export_dir(sec_api: Api, exports: Path) -> None:
    res = _download(sec_api, "guest.csv")
    assert res["retcode"] == 0, res
    assert res["data"]["output_path"] == "guest.csv" and res["data"]["count"] == 569
    assert (exports / "guest.csv").read_text().startswith("id,y,")
    assert stat.S_IMODE(exports.stat().st_mode) == 0o700
    assert stat.S_IMODE((exports / "guest.csv").stat().st_mode) == 0o600
    assert [p.name for p in exports.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_a_directory_gets_the_fate_file_name_and_the_answer_echoes_the_callers_path(
    sec_api: Api, exports: Path, sec_server: EmbeddedServer
) -> None:
    (exports / "sub").mkdir(exist_ok=True)
    for path, shown in (
        ("sub", "sub/experiment_breast_hetero_guest.csv"),
        ("newdir/", "newdir/experiment_breast_hetero_guest.csv"),
        (str(exports), f"{exports}/experiment_breast_hetero_guest.csv"),
    ):
        res = _download(sec_api, path)
        assert res["retcode"] == 0, res
        assert res["data"]["output_path"] == shown
    assert (exports / "sub" / "experiment_breast_hetero_guest.csv").is_file()
    assert str(sec_server.settings.resolved_data_dir) not in str(_download(sec_api, "x.csv"))


@pytest.mark.parametrize(
    "output_path",
    [
        "{victim}",
        "{victim_dir}",
        "../fedloom.db",
        "../fedloom.db-wal",
        "../../victim.py",
        "sub/../../fedloom.db",
        "{data}/fedloom.db",
        "{data}/fedloom.db-wal",
        "{data}",
        "{data}/tables/experiment/x.csv",
        "/etc/cron.d/x",
        "/root/.bashrc",
        "{site}/fedloom_probe_module.py",
        "~/.fedloom_probe",
        "/proc/self/environ",
        "/",
    ],
)
def test_paths_outside_the_export_dir_are_refused(
    sec_api: Api, sec_server: EmbeddedServer, fingerprint: Fingerprint, victim: Path, output_path: str
) -> None:
    data = sec_server.settings.resolved_data_dir
    site = Path(os.__file__).parent / "site-packages"
    raw = output_path.format(victim=victim, victim_dir=victim.parent, data=data, site=site)
    before = fingerprint.take()
    res = _download(sec_api, raw)
    assert_refused(res, "output_path", "'export_dir'", hidden=() if raw.startswith("/") else (data,))
    assert victim.read_bytes() == VICTIM
    assert not (site / "fedloom_probe_module.py").exists()
    assert not (victim.parent / "experiment_breast_hetero_guest.csv").exists()
    unchanged(fingerprint, before)


@pytest.mark.parametrize(
    ("output_path", "word"),
    [
        ("..\\..\\victim.py", "backslash"),
        ("C:\\Windows\\x.csv", "backslash"),
        ("x.csv\x00/../../v", "control"),
        ("a\nb.csv", "control"),
        ("", "output_path"),
        ("a" * 5000, "output_path"),
        ("a" * 300, "output_path"),
    ],
)
def test_malformed_output_paths_are_refused(
    sec_api: Api, fingerprint: Fingerprint, output_path: str, word: str
) -> None:
    before = fingerprint.take()
    assert_refused(_download(sec_api, output_path), word)
    unchanged(fingerprint, before)


def test_a_symlink_planted_as_the_target_pointing_out_is_refused(
    sec_api: Api, exports: Path, fingerprint: Fingerprint, victim: Path, sec_server: EmbeddedServer
) -> None:
    os.symlink(victim, exports / "planted.csv")
    os.symlink(sec_server.settings.resolved_data_dir / "fedloom.db", exports / "planted_db.csv")
    os.symlink(victim.parent, exports / "planted_dir")
    try:
        before = fingerprint.take()
        for raw in (
            "planted.csv",
            "planted_db.csv",
            "planted_dir/x.csv",
            "planted_dir",
            str(exports / "planted.csv"),
        ):
            assert_refused(_download(sec_api, raw), "'export_dir'", hidden=(victim, victim.parent))
        assert victim.read_bytes() == VICTIM
        assert not (victim.parent / "x.csv").exists()
        unchanged(fingerprint, before)
    finally:
        for name in ("planted.csv", "planted_db.csv", "planted_dir"):
            (exports / name).unlink()


def test_encoded_segments_are_names_inside_the_export_dir(
    sec_api: Api, exports: Path, sec_server: EmbeddedServer
) -> None:
    for raw in ("%2e%2e/%2e%2e/fedloom.db", "..%2F..%2Ffedloom.db", "\u2024\u2024/fedloom.db"):
        res = _download(sec_api, raw)
        assert res["retcode"] == 0, res
        written = (exports / raw).resolve()
        assert written.is_relative_to(exports) and written.is_file()
    assert not (sec_server.settings.resolved_data_dir / "experiment_breast_hetero_guest.csv").exists()


@pytest.fixture(scope="module")
def outer_export(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedServer, Path]]:
    """A server whose export_dir CONTAINS its data dir: the data dir's files stay out of reach."""
    base = tmp_path_factory.mktemp("outer-export")
    srv = start_server(base / "data", export_dir=base)
    try:
        yield srv, base
    finally:
        srv.stop()


@pytest.mark.slow
def test_an_export_dir_around_the_data_dir_does_not_open_it(
    outer_export: tuple[EmbeddedServer, Path], demo_dir: Path
) -> None:
    srv, base = outer_export
    api = Api(srv.url)
    assert (
        api.upload(demo_dir / "breast_hetero_guest.csv", "experiment", "breast_hetero_guest")["retcode"] == 0
    )
    fp = Fingerprint(srv)
    before = fp.take()
    for raw in ("data/fedloom.db", "data/fedloom.db-wal", "data", "data/tables/x.csv", str(base / "data")):
        assert_refused(_download(api, raw), "'export_dir'")
    unchanged(fp, before)
    res = _download(api, "ok.csv")
    assert res["retcode"] == 0 and (base / "ok.csv").is_file()
