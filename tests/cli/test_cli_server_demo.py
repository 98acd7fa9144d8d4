"""`fedloom server ...` and `fedloom demo`, with the server module and the demo data replaced by fakes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import numpy as np
import pytest

from fedloom.cli import _runtime, demo
from fedloom.cli._demo_results import baseline_auc_ks, evaluation_scores
from fedloom.config import Settings
from tests.cli.cli_fakes import FakeFlow, envelope, job_record, run, task_record


class FakeEmbedded:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.running = False

    @property
    def url(self) -> str:
        return "http://demo.test:1"

    def __enter__(self) -> FakeEmbedded:
        self.running = True
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.running = False


class FakeServerModule:
    EmbeddedServer = FakeEmbedded

    def __init__(self, running: dict[str, Any] | None = None) -> None:
        self.running = running
        self.served: list[Settings] = []
        self.stopped: list[Path] = []

    def serve(self, settings: Settings, on_ready: Callable[[], None] | None = None) -> None:
        self.served.append(settings)
        if on_ready is not None:
            on_ready()

    def stop(self, data_dir: Path) -> bool:
        self.stopped.append(data_dir)
        return self.running is not None

    def status(self, data_dir: Path) -> dict[str, Any] | None:
        return self.running


def test_server_start_builds_settings_from_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = FakeServerModule()
    monkeypatch.setattr(_runtime, "server_module", lambda: fake)
    result = run(FakeFlow(), ["server", "start", "--port", "9555", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (fake.served[0].port, fake.served[0].resolved_data_dir) == (9555, tmp_path.resolve())
    assert "http://127.0.0.1:9555" in result.stderr


def test_server_status_of_a_running_server_probes_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(
        _runtime, "server_module", lambda: FakeServerModule({"pid": 1, "host": "h", "port": 2})
    )
    flow = FakeFlow()
    flow.on("version/get", data={"API": "v1"})
    result = run(flow, ["--json", "server", "status", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["running"] is True and report["version"] == {"API": "v1"}
    assert str(flow.requests[0].url) == "http://h:2/v1/version/get"


def test_server_status_when_nothing_runs_exits_3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(_runtime, "server_module", lambda: FakeServerModule(None))
    assert run(FakeFlow(), ["server", "status", "--data-dir", str(tmp_path)]).exit_code == 3


def test_server_stop_is_idempotent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = FakeServerModule(None)
    monkeypatch.setattr(_runtime, "server_module", lambda: fake)
    result = run(FakeFlow(), ["server", "stop", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0 and "no server was running" in result.stdout
    assert fake.stopped == [tmp_path.resolve()]


def test_real_server_status_on_an_empty_data_dir(tmp_path: Path) -> None:
    pytest.importorskip("fedloom.server")
    result = run(FakeFlow(), ["--json", "server", "status", "--data-dir", str(tmp_path)])
    assert result.exit_code == 3
    assert json.loads(result.stdout)["running"] is False


def _write_demo_files(out_dir: Path, rows: int = 60) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    x = rng.normal(size=(rows, 3))
    y = (x[:, 0] + 0.5 * x[:, 2] + rng.normal(scale=0.5, size=rows) > 0).astype(int)
    guest, host = out_dir / "breast_hetero_guest.csv", out_dir / "breast_hetero_host.csv"
    guest.write_text("id,y,x0\n" + "".join(f"{i},{y[i]},{x[i, 0]}\n" for i in range(rows)))
    host.write_text("id,x0,x1\n" + "".join(f"{i},{x[i, 1]},{x[i, 2]}\n" for i in range(rows)))
    return [guest, host, out_dir / "upload_breast_hetero_guest.json"]


def _demo_flow(metrics: dict[str, Any]) -> FakeFlow:
    flow = FakeFlow()
    uploads = iter(["U1", "U2"])
    flow.on("data/upload", lambda _r: httpx.Response(200, json=envelope({"code": 0}, job_id=next(uploads))))
    flow.on("job/submit", job_id="J1", data={"model_info": {"model_id": "m", "model_version": "J1"}})
    flow.on(
        "job/query",
        lambda r: httpx.Response(
            200, json=envelope([job_record(json.loads(r.content)["job_id"], "success")])
        ),
    )
    flow.on("job/task/query", data=[task_record("intersection_0", "success")])
    flow.on("table/table_info", data={"count": 60})
    flow.on("tracking/component/summary/download", data={"intersect_num": 60, "intersect_rate": 1.0})
    flow.on(
        "tracking/component/output/data",
        data=[[["0", 1, 0.5]]],
        meta={"header": [["id", "y", "x0"]], "total": [60], "names": ["data"]},
    )
    flow.on("tracking/component/metric/all", data=metrics)
    return flow


def test_demo_runs_the_psi_job_and_says_where_to_look_next(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from fedloom.cli import demo as demo_module

    monkeypatch.setattr(demo_module, "DEMO_PIPELINE", demo_module._psi)  # the flow mechanics, on PSI
    monkeypatch.setattr(_runtime, "server_module", lambda: FakeServerModule())
    monkeypatch.setattr(_runtime, "write_demo", lambda out, rows=None: _write_demo_files(out))
    flow = _demo_flow({})
    result = run(flow, ["demo", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "intersection: 60 shared ids (rate 1.000)" in result.stdout
    assert "fedloom job query -j J1" in result.stdout
    assert f"fedloom server start --data-dir {tmp_path.resolve()}" in result.stdout
    assert sum(r.url.path == "/v1/data/upload" for r in flow.requests) == 2
    submitted = next(json.loads(r.content) for r in flow.requests if r.url.path == "/v1/job/submit")
    assert list(submitted["job_dsl"]["components"]) == ["reader_0", "data_transform_0", "intersection_0"]


def test_demo_with_hetero_lr_prints_auc_ks_next_to_sklearn(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(_runtime, "server_module", lambda: FakeServerModule())
    monkeypatch.setattr(_runtime, "write_demo", lambda out, rows=None: _write_demo_files(out))
    monkeypatch.setattr(demo, "DEMO_PIPELINE", demo._hetero_lr)
    summary = {
        "train": {
            "hetero_lr_0": {
                "data": [["auc", 0.91], ["ks", 0.7]],
                "meta": {"metric_type": "EVALUATION_SUMMARY"},
            }
        }
    }
    result = run(_demo_flow(summary), ["demo", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    auc_line = next(line for line in result.stdout.splitlines() if "AUC" in line)
    assert "0.9100" in auc_line and len([t for t in auc_line.split() if t.startswith("0.")]) == 2


def test_demo_removes_its_temporary_data_dir_unless_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    made: list[Path] = []

    def write(out: Path, rows: int | None = None) -> list[Path]:
        made.append(out)
        return _write_demo_files(out)

    monkeypatch.setattr(_runtime, "server_module", lambda: FakeServerModule())
    monkeypatch.setattr(_runtime, "write_demo", write)
    assert run(_demo_flow({}), ["demo"]).exit_code == 0
    assert not made[0].exists()
    assert run(_demo_flow({}), ["demo", "--keep"]).exit_code == 0
    assert made[1].exists()
    shutil.rmtree(made[1].parent)


def test_evaluation_scores_and_baseline(tmp_path: Path) -> None:
    guest, host, _ = _write_demo_files(tmp_path, rows=200)
    auc, ks = baseline_auc_ks(guest, host)
    assert 0.8 < auc <= 1.0 and 0.4 < ks <= 1.0
    scores = evaluation_scores(
        {
            "train": {
                "lr": {
                    "data": [["auc", 0.9], ["ks", 0.6], ["note", "x"]],
                    "meta": {"metric_type": "EVALUATION_SUMMARY"},
                }
            }
        }
    )
    assert scores == {"auc": 0.9, "ks": 0.6}


def test_data_demo_writes_the_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[tuple[Path, int | None]] = []

    def write(out: Path, rows: int | None = None) -> list[Path]:
        calls.append((out, rows))
        return _write_demo_files(out)

    monkeypatch.setattr(_runtime, "write_demo", write)
    result = run(FakeFlow(), ["--json", "data", "demo", "--out", str(tmp_path), "--synthetic-rows", "1000"])
    assert result.exit_code == 0, result.output
    assert calls == [(tmp_path, 1000)]
    assert json.loads(result.stdout)[0].endswith("breast_hetero_guest.csv")
