"""Attack: "any file readable". A JSON upload (`use_local_data: 0`) reads a server file only inside the
setting `import_dirs`; nothing else, whatever the spelling, symlink or encoding, and a refusal reveals
neither whether the file exists nor any of its content."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from fedloom.server import EmbeddedServer
from tests.e2e.conftest import Api
from tests.security._checks import assert_refused, table_exists, unchanged
from tests.security.conftest import Fingerprint, start_server

SECRET = "TOPSECRET-do-not-leak"


def _conf(file: str, table: str = "stolen", **extra: Any) -> dict[str, Any]:
    return {
        "file": file,
        "namespace": "experiment",
        "table_name": table,
        "head": 1,
        "partition": 1,
        "use_local_data": 0,
        **extra,
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("read-attacks")
    imports, outside = base / "imports", base / "outside"
    imports.mkdir()
    outside.mkdir()
    (imports / "ok.csv").write_text("id,x\n1,2\n3,4\n")
    (imports / "bad.csv").write_text("id,x\n1,notanumber\n")
    (outside / "secret.csv").write_text(f"id,x\n{SECRET},1\n")
    os.symlink(outside / "secret.csv", imports / "link_out.csv")
    os.symlink(outside, imports / "link_dir")
    return {"base": base, "imports": imports, "outside": outside, "data": base / "data"}


@pytest.fixture(scope="module")
def importing(world: dict[str, Path]) -> Iterator[EmbeddedServer]:
    srv = start_server(world["data"], import_dirs=[world["imports"]])
    os.symlink(world["data"] / "fedloom.db", world["imports"] / "link_db")
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def root_importing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    srv = start_server(tmp_path_factory.mktemp("root-import") / "data", import_dirs=[Path("/")])
    try:
        yield srv
    finally:
        srv.stop()


def test_default_server_refuses_every_server_path_naming_import_dirs(
    sec_api: Api, sec_server: EmbeddedServer, fingerprint: Fingerprint, demo_dir: Path
) -> None:
    before = fingerprint.take()
    messages = []
    for file in (
        str(demo_dir / "breast_hetero_guest.csv"),
        "/etc/shadow",
        "/etc/passwd",
        "/proc/self/environ",
        "/no/such/file.csv",
        str(sec_server.settings.resolved_data_dir / "fedloom.db"),
    ):
        res = sec_api.post("/data/upload", _conf(file))
        msg = assert_refused(res, "'import_dirs'", "none are configured")
        messages.append(msg.replace(repr(file), "<file>"))
    assert len(set(messages)) == 1, messages  # existing and missing files get the same answer
    assert not table_exists(sec_server, "experiment", "stolen")
    unchanged(fingerprint, before)


def test_a_file_inside_the_import_dir_is_imported(importing: EmbeddedServer, world: dict[str, Path]) -> None:
    api = Api(importing.url)
    res = api.post("/data/upload", _conf(str(world["imports"] / "ok.csv"), "ok"))
    assert res["retcode"] == 0, res
    assert api.ok("/table/preview", {"namespace": "experiment", "table_name": "ok"})["data"] == [
        ["1", 2],
        ["3", 4],
    ]
    assert list((importing.settings.resolved_data_dir / "staging").iterdir()) == []


@pytest.mark.parametrize(
    "file",
    [
        "{outside}/secret.csv",
        "{imports}/link_out.csv",
        "{imports}/link_dir/secret.csv",
        "{imports}/link_db",
        "{imports}/../outside/secret.csv",
        "{imports}/./../outside/secret.csv",
        "{imports}/link_dir/../outside/secret.csv",
        "{imports}",
        "{imports}/",
        "{data}/fedloom.db",
        "{data}/fedloom.db-wal",
        "{data}",
        "{data}/tables",
        "/etc/shadow",
        "/proc/self/environ",
        "/root",
    ],
)
def test_paths_that_leave_the_import_dir_are_refused(
    importing: EmbeddedServer, world: dict[str, Path], file: str
) -> None:
    fp = Fingerprint(importing)
    before = fp.take()
    raw = file.format(**world)
    res = Api(importing.url).post("/data/upload", _conf(raw))
    resolved = [world["outside"] / "secret.csv", world["data"].resolve() / "fedloom.db"]
    hidden = tuple(p for p in resolved if str(p) not in raw)  # the caller's own path may be echoed
    msg = assert_refused(res, "'import_dirs'", hidden=(*hidden, SECRET))
    assert "none are configured" not in msg
    assert not table_exists(importing, "experiment", "stolen")
    unchanged(fp, before)


@pytest.mark.parametrize(
    ("file", "word"),
    [
        ("..\\..\\outside\\secret.csv", "absolute"),
        ("C:\\Windows\\win.ini", "absolute"),
        ("secret.csv", "absolute"),
        ("{imports}/ok.csv\x00/../../outside/secret.csv", "NUL"),
        ("／etc／shadow", "absolute"),
        ("{imports}/" + "a" * 5000, "file"),
    ],
)
def test_malformed_paths_are_refused(
    importing: EmbeddedServer, world: dict[str, Path], file: str, word: str
) -> None:
    fp = Fingerprint(importing)
    before = fp.take()
    res = Api(importing.url).post("/data/upload", _conf(file.format(**world)))
    assert_refused(res, word, hidden=(world["outside"] / "secret.csv", SECRET))
    unchanged(fp, before)


@pytest.mark.parametrize(
    "file",
    [
        "{imports}/%2e%2e/outside/secret.csv",
        "{imports}/..%2Foutside%2Fsecret.csv",
        "{imports}/\u2215..\u2215outside",
        "{imports}/link_dir\u2024\u2024/secret.csv",
    ],
)
def test_encoded_separators_are_not_decoded(
    importing: EmbeddedServer, world: dict[str, Path], file: str
) -> None:
    """A JSON value is taken literally: `%2e%2e` or a division slash is a file name inside the import dir."""
    fp = Fingerprint(importing)
    before = fp.take()
    res = Api(importing.url).post("/data/upload", _conf(file.format(**world)))
    assert_refused(res, "file", "does not exist in the import directories", hidden=(SECRET,))
    unchanged(fp, before)


@pytest.mark.parametrize("ctype", ["application/json", "application/x-www-form-urlencoded", "text/plain"])
def test_a_server_path_conf_in_the_query_string_is_refused(
    importing: EmbeddedServer, world: dict[str, Path], ctype: str
) -> None:
    """An empty body with the conf in the query string is what a cross-site <form> can send: refused
    whatever its type, before the path is looked at."""
    fp = Fingerprint(importing)
    before = fp.take()
    conf = quote(json.dumps(_conf(str(world["outside"] / "secret.csv"))), safe="")
    res = Api(importing.url).http.post(f"/data/upload?{conf}", content=b"", headers={"content-type": ctype})
    body = res.json()
    assert body["retcode"] == 101, body
    assert "secret" not in body["retmsg"] and SECRET not in res.text
    unchanged(fp, before)


def test_parse_errors_inside_the_import_dir_name_line_and_column(
    importing: EmbeddedServer, world: dict[str, Path]
) -> None:
    res = Api(importing.url).post("/data/upload", _conf(str(world["imports"] / "bad.csv"), "bad"))
    assert_refused(res, "line 2, column x", hidden=(SECRET,))
    assert not table_exists(importing, "experiment", "bad")


@pytest.mark.slow
def test_import_dir_root_still_cannot_reach_the_data_dir_or_proc(
    root_importing: EmbeddedServer, world: dict[str, Path]
) -> None:
    api = Api(root_importing.url)
    data = root_importing.settings.resolved_data_dir
    fp = Fingerprint(root_importing)
    before = fp.take()
    for file in (
        data / "fedloom.db",
        data / "fedloom.db-wal",
        data,
        data / "federation.key",
        "/proc/self/environ",
        "/proc/self/cmdline",
        "/sys/kernel/notes",
        "/dev/zero",
        "/dev/urandom",
    ):
        res = api.post("/data/upload", _conf(str(file)))
        assert_refused(res, "'import_dirs'", hidden=(SECRET,))
    unchanged(fp, before)
    res = api.post("/data/upload", _conf(str(world["outside"] / "secret.csv"), "allowed"))
    assert res["retcode"] == 0, res  # the operator chose "/": an ordinary file is readable
