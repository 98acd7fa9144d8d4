"""The unmodified public fate-client 1.11 (`flow` CLI and `pipeline`) against a real fedloom server.

fate-client needs `urllib3<2` and pins old libraries, so it lives in its own virtualenv: set
FEDLOOM_FATE_VENV to it (`.ci/run` makes one). Without it these tests are skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.jobs import hetero_lr_job
from tests.e2e.test_crash_recovery import _port, _start

pytestmark = pytest.mark.slow
VENV = os.environ.get("FEDLOOM_FATE_VENV")
if not VENV:
    pytest.skip("FEDLOOM_FATE_VENV not set: fate-client compatibility not tested", allow_module_level=True)
BIN = Path(str(VENV)) / "bin"


def flow(*args: str) -> dict[str, Any]:
    out = subprocess.run([str(BIN / "flow"), *args], capture_output=True, text=True, timeout=120)
    text = out.stdout[out.stdout.index("{") :] if "{" in out.stdout else out.stdout
    try:
        return json.loads(text)  # type: ignore[no-any-return]
    except json.JSONDecodeError as exc:
        raise AssertionError(f"flow {' '.join(args)}: {out.stdout}\n{out.stderr}") from exc


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Iterator[int]:
    port = _port()
    proc = _start(tmp_path_factory.mktemp("fate-compat"), port)
    subprocess.run(
        [str(BIN / "flow"), "init", "--ip", "127.0.0.1", "--port", str(port)], check=True, capture_output=True
    )
    subprocess.run(
        [str(BIN / "pipeline"), "init", "--ip", "127.0.0.1", "--port", str(port)],
        check=True,
        capture_output=True,
    )
    for name in ("breast_hetero_guest", "breast_hetero_host"):
        res = flow("data", "upload", "-c", str(demo_dir / f"upload_{name}.json"))
        assert res["retcode"] == 0, res
    yield port
    proc.terminate()
    proc.wait(timeout=20)


def _wait(job_id: str) -> str:
    import time

    for _ in range(600):
        rows = flow("job", "query", "-j", job_id, "-r", "guest", "-p", "9999")["data"]
        if rows and rows[0]["f_status"] in ("success", "failed", "canceled", "timeout"):
            return str(rows[0]["f_status"])
        time.sleep(0.2)
    raise AssertionError("job did not end")


def test_flow_cli_train_and_inspect(server: int, tmp_path: Path) -> None:
    dsl, conf = hetero_lr_job(max_iter=5)
    (tmp_path / "dsl.json").write_text(json.dumps(dsl))
    (tmp_path / "conf.json").write_text(json.dumps(conf))
    res = flow("job", "submit", "-c", str(tmp_path / "conf.json"), "-d", str(tmp_path / "dsl.json"))
    assert res["retcode"] == 0, res
    job_id = res["jobId"]
    assert _wait(job_id) == "success"
    common = ["-j", job_id, "-r", "guest", "-p", "9999"]
    assert flow("task", "query", *common)["retcode"] == 0
    assert "train" in flow("tracking", "metrics", *common, "-cpn", "evaluation_0")["data"]
    assert "weight" in flow("tracking", "output-model", *common, "-cpn", "hetero_lr_0")["data"]
    res = flow("tracking", "output-data", *common, "-cpn", "hetero_lr_0", "-o", str(tmp_path / "out"))
    assert res["retcode"] == 0, res
    assert flow("job", "log", "-j", job_id, "-o", str(tmp_path / "log"))["retcode"] == 0
    assert flow("job", "config", *common, "-o", str(tmp_path / "conf"))["retcode"] == 0
    assert flow("component", "list", "-j", job_id)["data"]["components"][0] == "reader_0"
    deployed = flow(
        "model",
        "deploy",
        "--model-id",
        res_model_id(conf),
        "--model-version",
        job_id,
        "--cpn-list",
        "data_transform_0,intersection_0,hetero_lr_0",
    )
    assert deployed["retcode"] == 0, deployed
    assert flow("table", "info", "-n", "experiment", "-t", "breast_hetero_guest")["data"]["count"] == 569
    assert flow("queue", "clean")["retcode"] == 0


def res_model_id(conf: dict[str, Any]) -> str:
    from fedloom.dsl import model_id_for

    return model_id_for(conf["role"])


def test_pipeline_fit_deploy_predict(server: int) -> None:
    script = Path(__file__).with_name("fate_pipeline_script.py")
    out = subprocess.run([str(BIN / "python"), str(script)], capture_output=True, text=True, timeout=300)
    assert out.stdout.rstrip().endswith("OK"), out.stdout[-3000:] + out.stderr[-3000:]
    assert "PREDICT (569, 6)" in out.stdout
