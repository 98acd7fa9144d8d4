"""The component API: role handlers registered by decorator, roles derived from them, custom components."""

from __future__ import annotations

import importlib
import logging
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from fedloom.components import registry
from fedloom.components.api import (
    Component,
    ComponentDefinitionError,
    ComponentSpec,
    Context,
    Params,
    RunMode,
    peers,
)
from fedloom.errors import InvalidInput
from fedloom.storage.frame import Frame
from tests.components.harness import PartySetup, run_component

DOCS = Path(__file__).resolve().parents[2] / "docs" / "components.md"
Install = Callable[[str, str, str], None]  # (module, source, entry point target)


class NoParams(Params):
    pass


class _Ctx:
    """Just what dispatch reads: the task's role and mode."""

    def __init__(self, role: str, mode: RunMode = "fit") -> None:
        self.role = role
        self.mode = mode
        self.calls: list[str] = []


def _component() -> Component[NoParams]:
    return Component("Probe", NoParams)


def _noop(ctx: Context[NoParams]) -> None:
    pass


def _frame(n: int) -> Frame:
    return Frame(
        ids=np.array([str(i) for i in range(n)], dtype=object), features=np.zeros((n, 1)), feature_names=["x"]
    )


# --- registration ---------------------------------------------------------------------------


def test_the_roles_are_the_roles_with_a_handler() -> None:
    c = _component()
    c.guest()(_noop)
    c.arbiter("predict")(_noop)
    spec = c.spec()
    assert spec.roles == frozenset({"guest", "arbiter"})
    assert spec.module == "Probe" and spec.params is NoParams


def test_a_handler_registered_twice_for_one_role_fails() -> None:
    c = _component()
    c.host()(_noop)

    with pytest.raises(ComponentDefinitionError, match=r"Probe host: handler .*again.* registered twice"):

        @c.host()
        def again(ctx: Context[NoParams]) -> None:
            pass


def test_a_handler_registered_twice_for_one_role_and_mode_fails() -> None:
    c = _component()
    c.guest("predict")(_noop)
    c.guest()(_noop)  # any mode: another key
    with pytest.raises(ComponentDefinitionError, match=r"Probe guest \(predict\)"):
        c.guest("predict")(_noop)


def test_an_unknown_role_is_refused_at_registration() -> None:
    with pytest.raises(ComponentDefinitionError, match="unknown role 'observer'"):
        _component().handler("observer", None)(_noop)  # type: ignore[arg-type]


def test_a_component_without_handlers_has_no_spec() -> None:
    with pytest.raises(ComponentDefinitionError, match="no role handler"):
        _component().spec()


def test_no_handler_after_the_spec_is_built() -> None:
    c = _component()
    c.guest()(_noop)
    c.spec()
    with pytest.raises(ComponentDefinitionError, match="after spec"):
        c.host()(_noop)


def test_a_duplicate_fails_when_the_module_is_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "fedloom_test_dup_component.py").write_text(
        "from fedloom.components.api import Component, Params\n"
        "c = Component('Dup', Params)\n"
        "@c.guest()\n"
        "def one(ctx): pass\n"
        "@c.guest()\n"
        "def two(ctx): pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ComponentDefinitionError, match="Dup guest: handler two registered twice"):
        importlib.import_module("fedloom_test_dup_component")
    sys.modules.pop("fedloom_test_dup_component", None)


# --- dispatch -------------------------------------------------------------------------------


def _dispatching() -> Component[NoParams]:
    c = _component()
    for role, mode in (("guest", None), ("guest", "predict"), ("host", "fit")):
        tag = f"{role}/{mode}"

        def handler(ctx: Context[NoParams], tag: str = tag) -> None:
            ctx.calls.append(tag)  # type: ignore[attr-defined]

        c.handler(role, mode)(handler)  # type: ignore[arg-type]
    return c


@pytest.mark.parametrize(
    ("role", "mode", "called"),
    [
        ("guest", "fit", "guest/None"),
        ("guest", "transform", "guest/None"),
        ("guest", "predict", "guest/predict"),
        ("host", "fit", "host/fit"),
    ],
)
def test_the_task_runs_the_handler_of_its_role_and_mode(role: str, mode: RunMode, called: str) -> None:
    ctx = _Ctx(role, mode)
    _dispatching().spec().run(ctx)  # type: ignore[arg-type]
    assert ctx.calls == [called]


def test_a_role_without_handler_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="Probe does not run as arbiter; it runs as guest, host"):
        _dispatching().run(_Ctx("arbiter"))  # type: ignore[arg-type]


def test_a_mode_without_handler_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="Probe has no predict handler at host; it runs there in fit"):
        _dispatching().run(_Ctx("host", "predict"))  # type: ignore[arg-type]


def test_the_builtin_components_keep_their_roles() -> None:
    roles = {name: spec.roles for name, spec in registry.all_components().items()}
    assert roles == {
        "Reader": {"guest", "host", "local"},
        "DataTransform": {"guest", "host", "local"},
        "Intersection": {"guest", "host"},
        "HeteroLR": {"guest", "host", "arbiter"},
        "Evaluation": {"guest", "host", "arbiter"},
    }


# --- custom components through the entry point ----------------------------------------------

OLD_STYLE = """
from fedloom.components.api import ComponentSpec, Context, Params, peers


class CountParams(Params):
    include_guest: bool = True


def run(ctx: Context[CountParams]) -> None:
    frame = ctx.inputs.data("data")[0]
    if ctx.role == "host":
        ctx.send("count", frame.count, peers(ctx, "guest"))
        return
    total = frame.count if ctx.params.include_guest else 0
    total += sum(ctx.recv("count", h) for h in peers(ctx, "host"))
    ctx.outputs.set_summary({"rows": total})


SPEC = ComponentSpec(module="RowCount", roles=frozenset({"guest", "host"}), params=CountParams, run=run,
                     outputs_data=())
"""


def _docs_example() -> str:
    blocks = re.findall(r"```python\n(# my_pkg/count.py\n.*?)```", DOCS.read_text(), re.S)
    assert len(blocks) == 1, "docs/components.md has one complete example"
    return str(blocks[0])


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    """Install a module as a package with a `fedloom.components` entry point (a real dist-info on sys.path)."""
    names: list[str] = []

    def install(module: str, source: str, target: str) -> None:
        (tmp_path / f"{module}.py").write_text(source)
        dist = tmp_path / f"{module}-0.1.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
        (dist / "entry_points.txt").write_text(f"[fedloom.components]\n{module} = {module}:{target}\n")
        names.append(module)

    monkeypatch.syspath_prepend(str(tmp_path))
    registry._load.cache_clear()
    yield install
    registry._load.cache_clear()
    for name in names:
        sys.modules.pop(name, None)


def _count(spec: ComponentSpec) -> int:
    res = run_component(
        spec,
        [
            PartySetup("guest", 9999, {}, {"data": [_frame(5)]}),
            PartySetup("host", 10000, {}, {"data": [_frame(7)]}),
        ],
    )
    summary = res[("guest", 9999)].summary
    assert summary is not None
    return int(summary["rows"])


@pytest.mark.parametrize(("source", "target"), [("docs", "row_count"), ("old", "SPEC")])
def test_a_custom_component_installed_by_entry_point_runs(
    installed: Install, source: str, target: str
) -> None:
    module = f"fedloom_test_rowcount_{source}"
    installed(module, _docs_example() if source == "docs" else OLD_STYLE, target)
    spec = registry.get_component("RowCount")
    assert spec.roles == frozenset({"guest", "host"})
    assert registry.Catalog().module_roles("RowCount") == frozenset({"guest", "host"})
    assert registry.Catalog().validate_params("RowCount", {}) == {"need_run": True, "include_guest": True}
    assert _count(spec) == 12


def test_a_custom_component_with_a_duplicate_handler_is_left_out(
    installed: Install, caplog: pytest.LogCaptureFixture
) -> None:
    source = _docs_example().replace("@row_count.guest()", "@row_count.host()")
    installed("fedloom_test_rowcount_dup", source, "row_count")
    with caplog.at_level(logging.ERROR, logger=registry.__name__):
        assert "RowCount" not in registry.all_components()
    assert "RowCount host: handler total registered twice (already send_count)" in caplog.text
    assert "HeteroLR" in registry.all_components()


def test_a_custom_component_named_like_a_builtin_is_refused(
    installed: Install, caplog: pytest.LogCaptureFixture
) -> None:
    installed("fedloom_test_reader", OLD_STYLE.replace('module="RowCount"', 'module="Reader"'), "SPEC")
    with caplog.at_level(logging.ERROR, logger=registry.__name__):
        reader = registry.get_component("Reader")
    assert reader is importlib.import_module("fedloom.components.reader").SPEC
    assert (
        "component Reader from entry point fedloom_test_reader (fedloom_test_reader:SPEC) is refused: "
        "built-in fedloom.components.reader already provides it"
    ) in caplog.text


def test_a_custom_component_named_like_another_entry_point_is_refused(
    installed: Install, caplog: pytest.LogCaptureFixture
) -> None:
    installed("fedloom_test_rowcount_a", OLD_STYLE, "SPEC")
    installed("fedloom_test_rowcount_b", OLD_STYLE, "SPEC")
    with caplog.at_level(logging.ERROR, logger=registry.__name__):
        spec = registry.get_component("RowCount")
    refused = [r.getMessage() for r in caplog.records if "is refused" in r.getMessage()]
    assert len(refused) == 1
    assert "fedloom_test_rowcount_a" in refused[0] and "fedloom_test_rowcount_b" in refused[0]
    kept = spec.run.__module__  # whichever was found first; the other one is named as refused
    assert f"is refused: entry point {kept} ({kept}:SPEC) already provides it" in refused[0]
    assert _count(spec) == 12


def test_peers_are_parties() -> None:
    ctx = _Ctx("guest")
    ctx.parties = {"host": [10000, 10001]}  # type: ignore[attr-defined]
    assert peers(ctx, "host") == [("host", 10000), ("host", 10001)]  # type: ignore[arg-type]
    assert peers(ctx, "host")[1].party_id == 10001  # type: ignore[arg-type]
