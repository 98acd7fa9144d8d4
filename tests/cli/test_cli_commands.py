"""CLI commands against a fake server: what they send, what they print, where they write."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

from tests.cli.cli_fakes import FakeFlow, envelope, job_record, run, task_record


def _submit_routes(flow: FakeFlow, final: str, tasks: list[dict[str, Any]]) -> None:
    flow.on(
        "job/submit",
        job_id="J1",
        data={"model_info": {"model_id": "m", "model_version": "J1"}, "board_url": "http://board/J1"},
    )
    flow.on("job/query", lambda _r: httpx.Response(200, json=envelope([job_record("J1", final)])))
    flow.on("job/task/query", data=tasks)


def test_job_submit_sends_the_files_and_prints_the_job_id(tmp_path: Path) -> None:
    conf, dsl = tmp_path / "conf.json", tmp_path / "dsl.json"
    conf.write_text(json.dumps({"dsl_version": 2}))
    dsl.write_text(json.dumps({"components": {}}))
    flow = FakeFlow()
    _submit_routes(flow, "running", [])
    result = run(flow, ["job", "submit", "-c", str(conf), "-d", str(dsl)])
    assert result.exit_code == 0, result.output
    assert flow.body() == {"job_dsl": {"components": {}}, "job_runtime_conf": {"dsl_version": 2}}
    assert "J1" in result.stdout and "fedloom job watch J1" in result.stdout


def test_job_submit_watch_success_exits_0(tmp_path: Path) -> None:
    conf = tmp_path / "conf.json"
    conf.write_text("{}")
    flow = FakeFlow()
    _submit_routes(
        flow, "success", [task_record("reader_0", "success"), task_record("intersection_0", "success")]
    )
    result = run(flow, ["job", "submit", "-c", str(conf), "--watch"])
    assert result.exit_code == 0, result.output
    assert "intersection_0" in result.stdout and "job J1 succeeded" in result.stdout


def test_job_watch_of_a_failed_job_exits_1_with_the_components_error() -> None:
    flow = FakeFlow()
    tasks = [
        task_record("reader_0", "success"),
        task_record("intersection_0", "failed", f_error_report="Traceback...\nKeyError: 'id'"),
    ]
    _submit_routes(flow, "failed", tasks)
    result = run(flow, ["job", "watch", "J1"])
    assert result.exit_code == 1
    assert "job J1 ended failed: component intersection_0 (guest 9999): KeyError: 'id'" in result.stderr
    assert "failed" in result.stdout  # the live view shows the final state


def test_job_watch_json_prints_the_final_snapshot_even_when_failed() -> None:
    flow = FakeFlow()
    _submit_routes(flow, "canceled", [task_record("reader_0", "success")])
    result = run(flow, ["--json", "job", "watch", "J1"])
    assert result.exit_code == 1
    snapshot = json.loads(result.stdout)
    assert snapshot["status"] == "canceled" and snapshot["tasks"][0]["component"] == "reader_0"


def test_job_rerun_accepts_fate_style_component_flags() -> None:
    flow = FakeFlow()
    flow.on("job/rerun", data={})
    for flag in ("-c", "--component", "--component-name", "-cpn"):
        assert run(flow, ["job", "rerun", "-j", "1", flag, "lr_0", "--force"]).exit_code == 0
        assert flow.body() == {"job_id": "1", "component_name": "lr_0", "force": True}


def test_job_config_writes_one_file_per_key(tmp_path: Path) -> None:
    flow = FakeFlow()
    flow.on("job/config", data={"job_id": "1", "dsl": {"components": {}}, "runtime_conf": {"a": 1}})
    result = run(flow, ["job", "config", "-j", "1", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "job_1_config"
    assert json.loads((folder / "runtime_conf.json").read_text()) == {"a": 1}
    assert sorted(p.name for p in folder.iterdir()) == ["dsl.json", "runtime_conf.json"]


def test_job_log_extracts_the_archive(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("guest/9999/INFO.log")
        info.size = 3
        archive.addfile(info, io.BytesIO(b"hi\n"))
    flow = FakeFlow()
    flow.on("job/log/download", lambda _r: httpx.Response(200, content=buffer.getvalue()))
    result = run(flow, ["job", "log", "-j", "1", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "job_1_log/guest/9999/INFO.log").read_text() == "hi\n"


def test_job_dsl_sends_the_training_dsl_as_text(tmp_path: Path) -> None:
    train = tmp_path / "train.json"
    train.write_text(json.dumps({"components": {"a": {"module": "Reader"}}}))
    flow = FakeFlow()
    flow.on("job/dsl/generate", data={"components": {}})
    result = run(flow, ["--json", "job", "dsl", "--train-dsl", str(train), "--cpn-list", "a, b"])
    assert result.exit_code == 0, result.output
    assert flow.body()["cpn_str"] == ["a", "b"]
    assert json.loads(flow.body()["train_dsl"]) == {"components": {"a": {"module": "Reader"}}}


def test_job_query_table_shows_whole_job_ids() -> None:
    flow = FakeFlow()
    flow.on("job/query", data=[job_record("202611231449322611250012", "running")])
    result = run(flow, ["job", "query", "-j", "202611231449322611250012"])
    assert result.exit_code == 0
    assert "202611231449322611250012" in result.stdout and "running" in result.stdout


def test_task_query_sends_the_filters() -> None:
    flow = FakeFlow()
    flow.on("job/task/query", data=[task_record("reader_0", "success")])
    result = run(flow, ["task", "query", "-j", "1", "-r", "guest", "-p", "9999", "-c", "reader_0"])
    assert result.exit_code == 0, result.output
    assert flow.body() == {"job_id": "1", "role": "guest", "party_id": 9999, "component_name": "reader_0"}
    assert "reader_0" in result.stdout


def test_data_upload_sends_multipart_with_the_json_query(tmp_path: Path) -> None:
    csv = tmp_path / "g.csv"
    csv.write_text("id,y\n1,0\n")
    flow = FakeFlow()
    flow.on("data/upload", job_id="U1", data={"job_id": "U1", "code": 0})
    result = run(
        flow, ["data", "upload", str(csv), "-n", "experiment", "-t", "g", "--drop", "--partition", "2"]
    )
    assert result.exit_code == 0, result.output
    conf = json.loads(unquote(flow.requests[0].url.query.decode()))
    assert (conf["namespace"], conf["table_name"], conf["drop"], conf["partition"]) == (
        "experiment",
        "g",
        1,
        2,
    )
    assert b'name="file"; filename="g.csv"' in flow.requests[0].content
    assert "U1" in result.stdout


def test_data_upload_from_a_fate_conf_file(tmp_path: Path) -> None:
    csv = tmp_path / "h.csv"
    csv.write_text("id,x0\n1,0.5\n")
    conf = tmp_path / "upload.json"
    conf.write_text(
        json.dumps(
            {
                "file": str(csv),
                "head": 1,
                "partition": 8,
                "namespace": "experiment",
                "table_name": "h",
                "id_delimiter": ",",
                "extend_sid": True,
            }
        )
    )
    flow = FakeFlow()
    flow.on("data/upload", job_id="U2", data={"job_id": "U2", "code": 0})
    result = run(flow, ["--json", "data", "upload", "-c", str(conf)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"job_id": "U2"}
    sent = json.loads(unquote(flow.requests[0].url.query.decode()))
    assert (sent["partition"], sent["table_name"], sent["extend_sid"]) == (8, "h", True)


def test_data_upload_without_a_table_name_is_a_usage_error(tmp_path: Path) -> None:
    result = run(FakeFlow(), ["data", "upload", str(tmp_path / "x.csv"), "-n", "experiment"])
    assert result.exit_code == 2
    assert "-t/--table-name" in result.stderr


def test_table_info_and_preview() -> None:
    flow = FakeFlow()
    flow.on("table/table_info", data={"table_name": "t", "namespace": "n", "exist": 1, "count": 569})
    flow.on("table/preview", data={"header": ["id", "x0"], "data": [["1", 0.123456789]]})
    info = run(flow, ["table", "info", "-n", "n", "-t", "t"])
    assert info.exit_code == 0 and "569" in info.stdout
    preview = run(flow, ["table", "preview", "-n", "n", "-t", "t", "-l", "1"])
    assert preview.exit_code == 0 and "0.1235" in preview.stdout


def test_tracking_metric_all_renders_each_metric() -> None:
    flow = FakeFlow()
    metrics = {
        "train": {
            "hetero_lr_0": {
                "data": [["auc", 0.98], ["ks", 0.9]],
                "meta": {"metric_type": "EVALUATION_SUMMARY"},
            }
        }
    }
    flow.on("tracking/component/metric/all", data=metrics)
    result = run(flow, ["tracking", "metric-all", "-j", "1", "-cpn", "evaluation_0"])
    assert result.exit_code == 0, result.output
    assert "EVALUATION_SUMMARY" in result.stdout and "0.98" in result.stdout
    assert flow.body() == {"job_id": "1", "component_name": "evaluation_0"}


def test_tracking_output_data_download_fills_in_the_initiator(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("data.csv")
        info.size = 5
        archive.addfile(info, io.BytesIO(b"id,y\n"))
    flow = FakeFlow()
    flow.on("job/query", data=[job_record("1", "success")])
    flow.on(
        "tracking/component/output/data/download",
        lambda _r: httpx.Response(200, content=buffer.getvalue()),
        method="GET",
    )
    result = run(flow, ["tracking", "output-data", "-j", "1", "-c", "intersection_0", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "job_1_intersection_0_guest_9999_output_data" / "data.csv").exists()
    assert flow.body()["role"] == "guest" and flow.body()["party_id"] == 9999


def test_tracking_output_data_preview() -> None:
    flow = FakeFlow()
    flow.on(
        "tracking/component/output/data",
        data=[[["1", 0, 0.5]]],
        meta={"header": [["id", "y", "x0"]], "total": [569], "names": ["data"]},
    )
    result = run(flow, ["tracking", "output-data", "-j", "1", "-c", "intersection_0"])
    assert result.exit_code == 0, result.output
    assert "intersection_0.data" in result.stdout and "1 of 569 rows" in result.stdout


def test_component_list_of_the_registry_and_of_a_job() -> None:
    flow = FakeFlow()
    flow.on(
        "component/list",
        data={
            "components": ["reader"],
            "detail": {
                "Reader": {
                    "roles": ["guest", "host"],
                    "provider": "fate_flow",
                    "description": "Bind a table.",
                }
            },
        },
    )
    flow.on("tracking/component/list", data={"components": ["reader_0", "intersection_0"]})
    registry = run(flow, ["component", "list"])
    assert registry.exit_code == 0 and "Bind a table." in registry.stdout
    job = run(flow, ["--json", "component", "list", "-j", "1"])
    assert json.loads(job.stdout) == ["reader_0", "intersection_0"]


def test_model_deploy_and_predict_conf(tmp_path: Path) -> None:
    flow = FakeFlow()
    flow.on("model/deploy", data={"model_id": "m", "model_version": "v2"})
    flow.on("model/get/predict/conf", data={"dsl_version": 2})
    result = run(flow, ["model", "deploy", "--model-id", "m", "--model-version", "v1", "--cpn-list", "a,b"])
    assert result.exit_code == 0 and "v2" in result.stdout
    assert flow.body() == {"model_id": "m", "model_version": "v1", "cpn_list": ["a", "b"]}
    written = run(
        flow, ["model", "predict-conf", "--model-id", "m", "--model-version", "v2", "-o", str(tmp_path)]
    )
    assert written.exit_code == 0
    assert json.loads((tmp_path / "predict_conf.json").read_text()) == {"dsl_version": 2}


def test_version_shows_client_and_server() -> None:
    flow = FakeFlow()
    flow.on("version/get", data={"FATE": "1.11.2", "API": "v1"})
    result = run(flow, ["--json", "version"])
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["server"] == {"FATE": "1.11.2", "API": "v1"} and report["client"]
