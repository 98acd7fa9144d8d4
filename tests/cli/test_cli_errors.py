"""CLI error rendering and exit codes: one red line, 0 ok / 1 failed / 2 invalid / 3 unreachable."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from fedloom.cli._errors import EXIT_FAILED, EXIT_UNREACHABLE, EXIT_USAGE
from tests.cli.cli_fakes import FakeFlow, job_record, run


def test_server_error_is_one_red_line_with_the_retcode_and_exit_1() -> None:
    flow = FakeFlow()
    flow.on("job/stop", retcode=102, retmsg="can not found job")
    result = run(flow, ["job", "stop", "-j", "123"])
    assert result.exit_code == EXIT_FAILED
    assert result.stderr.strip() == "error: can not found job (retcode 102)"
    assert "Traceback" not in result.output


def test_argument_error_from_the_server_exits_2(tmp_path: Path) -> None:
    flow = FakeFlow()
    flow.on("job/submit", retcode=101, retmsg="component hetero_lr_0: unknown parameter foo")
    result = run(flow, ["job", "submit", "-c", str(_write(tmp_path, "conf.json", {"dsl_version": 2}))])
    assert result.exit_code == EXIT_USAGE
    assert "unknown parameter foo (retcode 101)" in result.stderr


def test_unreachable_server_exits_3_and_says_how_to_start_one() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    result = run(httpx.MockTransport(refuse), ["--server", "http://10.0.0.9:9380", "job", "query"])
    assert result.exit_code == EXIT_UNREACHABLE
    assert "http://10.0.0.9:9380" in result.stderr and "fedloom server start" in result.stderr
    assert "Traceback" not in result.output


def test_invalid_conf_file_exits_2_naming_the_file(tmp_path: Path) -> None:
    conf = tmp_path / "conf.json"
    conf.write_text("{not json")
    result = run(FakeFlow(), ["job", "submit", "-c", str(conf)])
    assert result.exit_code == EXIT_USAGE
    assert f"conf {conf}: not valid JSON" in result.stderr


def test_missing_conf_file_exits_2(tmp_path: Path) -> None:
    result = run(FakeFlow(), ["job", "submit", "-c", str(tmp_path / "nope.json")])
    assert result.exit_code == EXIT_USAGE
    assert "error:" in result.stderr


def test_missing_required_option_is_a_usage_error() -> None:
    assert run(FakeFlow(), ["job", "stop"]).exit_code == EXIT_USAGE


def test_json_flag_prints_raw_data_globally_or_per_command() -> None:
    flow = FakeFlow()
    flow.on("job/query", data=[job_record("1", "running")])
    for args in (["--json", "job", "query", "-j", "1"], ["job", "query", "-j", "1", "--json"]):
        result = run(flow, args)
        assert result.exit_code == 0
        assert json.loads(result.stdout) == [job_record("1", "running")]


def test_server_url_comes_from_the_environment() -> None:
    flow = FakeFlow()
    flow.on("job/query", data=[])
    result = run(flow, ["job", "query"], env={"FEDLOOM_SERVER": "http://flow.example:9999"})
    assert result.exit_code == 0
    assert str(flow.requests[0].url) == "http://flow.example:9999/v1/job/query"


def _write(directory: Path, name: str, content: object) -> Path:
    path = directory / name
    path.write_text(json.dumps(content))
    return path


def test_ctrl_c_exits_130_saying_jobs_keep_running() -> None:
    def interrupted(_request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt

    result = run(httpx.MockTransport(interrupted), ["job", "watch", "J1"])
    assert result.exit_code == 130
    assert "keep running" in result.stderr
