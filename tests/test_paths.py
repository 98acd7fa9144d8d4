"""fedloom.paths: the id formats, the reserved namespaces and the path guard (inside, confine)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fedloom.errors import InvalidInput, PermissionDenied
from fedloom.paths import (
    MAX_PARTY_ID,
    check_id,
    check_party_id,
    confine,
    inside,
    is_reserved_namespace,
    logs_dir,
    task_log_dir,
)

HOSTILE = [
    "..",
    ".",
    "../x",
    "a/b",
    "a\\b",
    "/etc",
    "%2e%2e",
    "..%2F..",
    "a\x00b",
    "",
    " ",
    "x" * 300,
    "ｊｏｂ",
    "j\u2215b",
    "C:\\",
    ".hidden",
    "a\nb",
]


@pytest.mark.parametrize("field", ["job_id", "component_name", "namespace", "table_name", "model_version"])
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_ids_are_refused_naming_the_field(field: str, value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_id(field, value)
    assert caught.value.message.startswith(f"{field}:")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("job_id", "202611300533390349210"),
        ("component_name", "hetero_lr_0"),
        ("role", "arbiter"),
        ("namespace", "experiment"),
        ("table_name", "breast_hetero.guest"),
        ("model_id", "arbiter-10000#guest-9999#host-10000#model"),
        ("model_version", "202611300533390349210"),
    ],
)
def test_real_ids_pass(field: str, value: str) -> None:
    assert check_id(field, value) == value


def test_kind_overrides_the_format_but_the_message_names_the_field() -> None:
    with pytest.raises(InvalidInput, match="^parent_job:"):
        check_id("parent_job", "../x", "job_id")


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=80))
@example(".")
@example("..")
@example(".hidden")
@example("a/../b")
def test_an_accepted_id_is_always_one_plain_path_component(value: str) -> None:
    for kind in ("job_id", "component_name", "namespace", "table_name", "model_id"):
        try:
            check_id(kind, value)
        except InvalidInput:
            continue
        assert "/" not in value and "\\" not in value and "\x00" not in value
        assert not value.startswith(".")
        assert Path(value).name == value and len(Path(value).parts) == 1


@pytest.mark.parametrize("value", [-1, MAX_PARTY_ID + 1, True, "9999", 2**64])
def test_bad_party_ids(value: object) -> None:
    with pytest.raises(InvalidInput, match="^party_id:"):
        check_party_id("party_id", value)  # type: ignore[arg-type]


def test_party_id_bounds() -> None:
    assert check_party_id("party_id", 0) == 0
    assert check_party_id("party_id", MAX_PARTY_ID) == MAX_PARTY_ID


@pytest.mark.parametrize(
    ("namespace", "reserved"),
    [
        ("output_data_202611_hetero_lr_0_0", True),
        ("fedloom_internal", True),
        ("output_data_", True),
        ("experiment", False),
        ("output_dat", False),
        ("my_output_data_x", False),
        ("Fedloom_x", False),
    ],
)
def test_reserved_namespaces(namespace: str, reserved: bool) -> None:
    assert is_reserved_namespace(namespace) is reserved


def test_inside_refuses_escapes_and_the_root_itself(tmp_path: Path) -> None:
    (tmp_path / "root" / "a").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", tmp_path / "root" / "link")
    root = tmp_path / "root"
    assert inside(root, "a", "b.txt") == (root / "a" / "b.txt").resolve()
    for parts in (("..",), (".",), ("a", "..", ".."), ("link",), ("link", "x"), ("/etc",)):
        with pytest.raises(InvalidInput):
            inside(root, *parts)


def test_log_dirs_validate_every_id(tmp_path: Path) -> None:
    for job_id in ("../tables", "/root", "..", "%2e%2e", ""):
        with pytest.raises(InvalidInput, match="job_id"):
            logs_dir(tmp_path, job_id)
    with pytest.raises(InvalidInput, match="role"):
        task_log_dir(tmp_path, "j1", "../guest", 9999, "c")
    with pytest.raises(InvalidInput, match="component_name"):
        task_log_dir(tmp_path, "j1", "guest", 9999, "../../x")
    assert task_log_dir(tmp_path, "j1", "guest", 9999, "c") == (tmp_path / "logs/j1/guest/9999/c").resolve()


@pytest.fixture()
def layout(tmp_path: Path) -> dict[str, Path]:
    dirs = {name: tmp_path / name for name in ("imports", "data", "elsewhere")}
    for d in dirs.values():
        d.mkdir()
    (dirs["data"] / "exports").mkdir()
    (dirs["imports"] / "ok.csv").write_text("id,x\n1,2\n")
    (dirs["elsewhere"] / "secret").write_text("s")
    (dirs["data"] / "fedloom.db").write_text("db")
    os.symlink(dirs["elsewhere"] / "secret", dirs["imports"] / "link_out")
    os.symlink(dirs["data"] / "fedloom.db", dirs["imports"] / "link_db")
    os.symlink(dirs["imports"] / "ok.csv", dirs["imports"] / "link_in")
    return dirs


def _confine(raw: str, roots: list[Path], data: Path, exception: Path | None = None) -> Path:
    return confine(
        raw, roots, field="file", setting="import_dirs", data_dir=data, data_dir_exception=exception
    )


def test_confine_accepts_files_inside_and_symlinks_that_stay_inside(layout: dict[str, Path]) -> None:
    imports, data = layout["imports"], layout["data"]
    assert _confine(str(imports / "ok.csv"), [imports], data) == (imports / "ok.csv").resolve()
    assert _confine(str(imports / "link_in"), [imports], data) == (imports / "ok.csv").resolve()
    assert _confine(str(imports / "missing.csv"), [imports], data) == (imports / "missing.csv").resolve()


@pytest.mark.parametrize(
    "raw",
    [
        "{imports}/link_out",
        "{imports}/link_db",
        "{imports}/../elsewhere/secret",
        "{imports}",
        "{imports}/",
        "{data}/fedloom.db",
        "{data}/fedloom.db-wal",
        "/etc/shadow",
        "/proc/self/environ",
        "{imports}/./../data",
    ],
)
def test_confine_refuses_everything_else_naming_the_setting(layout: dict[str, Path], raw: str) -> None:
    text = raw.format(**layout)
    with pytest.raises(PermissionDenied) as caught:
        _confine(text, [layout["imports"]], layout["data"])
    assert "'import_dirs'" in caught.value.message
    assert str(layout["elsewhere"]) not in caught.value.message


@pytest.mark.parametrize("raw", ["", "rel/ok.csv", "ok.csv", "..\\..\\etc\\passwd", "C:\\Windows", "a\x00b"])
def test_confine_refuses_relative_and_nul_paths(layout: dict[str, Path], raw: str) -> None:
    with pytest.raises(InvalidInput):
        _confine(raw, [layout["imports"]], layout["data"])


def test_no_roots_means_nothing(layout: dict[str, Path]) -> None:
    with pytest.raises(PermissionDenied, match="none are configured"):
        _confine(str(layout["imports"] / "ok.csv"), [], layout["data"])


def test_root_slash_still_cannot_reach_the_data_dir(layout: dict[str, Path]) -> None:
    data = layout["data"]
    assert _confine(str(layout["elsewhere"] / "secret"), [Path("/")], data)
    for raw in (str(data / "fedloom.db"), str(data), str(data / "exports" / "x.csv")):
        with pytest.raises(PermissionDenied):
            _confine(raw, [Path("/")], data)


def test_the_export_exception_opens_only_the_export_dir(layout: dict[str, Path]) -> None:
    data = layout["data"]
    exports = data / "exports"
    assert _confine(str(exports / "x.csv"), [exports], data, exports) == (exports / "x.csv").resolve()
    for raw in (str(exports), str(data / "fedloom.db"), str(exports / ".." / "fedloom.db")):
        with pytest.raises(PermissionDenied):
            _confine(raw, [exports], data, exports)


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.lists(
        st.sampled_from(
            ["..", ".", "ok.csv", "link_out", "link_db", "link_in", "elsewhere", "data", "imports", "x", ""]
        ),
        min_size=1,
        max_size=6,
    )
)
def test_whatever_the_segments_a_confined_path_is_inside_the_root(
    tmp_path_factory: pytest.TempPathFactory, segments: list[str]
) -> None:
    base = tmp_path_factory.getbasetemp() / "confine-fuzz"
    if not base.exists():
        base.mkdir()
        for name in ("imports", "data", "elsewhere"):
            (base / name).mkdir()
        os.symlink(base / "elsewhere", base / "imports" / "link_out")
        os.symlink(base / "data", base / "imports" / "link_db")
        os.symlink(base / "imports", base / "imports" / "link_in")
    imports, data = (base / "imports").resolve(), (base / "data").resolve()
    raw = str(imports) + "/" + "/".join(segments)
    try:
        got = _confine(raw, [imports], data)
    except (PermissionDenied, InvalidInput):
        return
    assert got != imports and got.is_relative_to(imports)
    assert not got.is_relative_to(data)
