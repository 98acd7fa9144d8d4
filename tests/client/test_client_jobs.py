"""client.job / client.task: request bodies, submit result, waiting with progress, log download."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from fedloom.client import ApiError, FedloomClient, JobFailed, JobProgress, WaitTimeout
from tests.client.fake_flow import FakeServer, envelope, job_record, task_record


def test_submit_sends_job_dsl_and_runtime_conf_and_reads_fate_answer(
    server: FakeServer, client: FedloomClient
) -> None:
    data = {
        "job_id": "202401",
        "board_url": "http://board/x",
        "code": 0,
        "model_info": {"model_id": "guest-9999#host-10000#model", "model_version": "202401"},
    }
    server.on("job/submit", data=data, job_id="202401")
    result = client.job.submit({"components": {}}, {"dsl_version": 2})
    assert server.body() == {"job_dsl": {"components": {}}, "job_runtime_conf": {"dsl_version": 2}}
    assert (result.job_id, result.model_id, result.model_version, result.board_url) == (
        "202401",
        "guest-9999#host-10000#model",
        "202401",
        "http://board/x",
    )


def test_submit_without_dsl_sends_an_empty_dsl(server: FakeServer, client: FedloomClient) -> None:
    server.on("job/submit", data={"model_info": {}}, job_id="7")
    assert client.job.submit(None, {"dsl_version": 2}).job_id == "7"
    assert server.body()["job_dsl"] == {}


def test_query_sends_only_the_given_filters(server: FakeServer, client: FedloomClient) -> None:
    server.on("job/query", data=[job_record("1", "running")])
    records = client.job.query(job_id="1", party_id=9999)
    assert server.body() == {"job_id": "1", "party_id": 9999}
    assert records[0]["f_status"] == "running"


def test_query_of_nothing_is_an_empty_list(server: FakeServer, client: FedloomClient) -> None:
    server.on("job/query", data=[], retmsg="no job could be found")
    assert client.job.query(job_id="nope") == []


@pytest.mark.parametrize(
    ("call", "path", "body"),
    [
        (lambda c: c.job.rerun("1"), "job/rerun", {"job_id": "1", "force": False}),
        (
            lambda c: c.job.rerun("1", "lr_0", True),
            "job/rerun",
            {"job_id": "1", "component_name": "lr_0", "force": True},
        ),
        (lambda c: c.job.stop("1"), "job/stop", {"job_id": "1"}),
        (
            lambda c: c.job.config("1", "guest", 9999),
            "job/config",
            {"job_id": "1", "role": "guest", "party_id": 9999},
        ),
        (
            lambda c: c.job.list(limit=5, status=["running", "waiting"]),
            "job/list/job",
            {"limit": 5, "status": ["running", "waiting"]},
        ),
        (
            lambda c: c.job.update("1", "guest", 9999, "hi"),
            "job/update",
            {"job_id": "1", "role": "guest", "party_id": 9999, "notes": "hi"},
        ),
        (lambda c: c.job.clean("1"), "job/clean", {"job_id": "1"}),
        (
            lambda c: c.job.parameter_update("1", component_parameters={"common": {}}),
            "job/parameter/update",
            {"job_id": "1", "component_parameters": {"common": {}}},
        ),
        (
            lambda c: c.task.query(job_id="1", status="running"),
            "job/task/query",
            {"job_id": "1", "status": "running"},
        ),
        (lambda c: c.task.list(limit=3), "job/list/task", {"limit": 3}),
    ],
)
def test_request_bodies(
    server: FakeServer, client: FedloomClient, call: object, path: str, body: dict[str, Any]
) -> None:
    server.on(path, data={})
    call(client)  # type: ignore[operator]
    assert server.requests[-1].url.path == f"/v1/{path}"
    assert server.body() == body


def test_dsl_generate_sends_the_train_dsl_as_a_json_string(server: FakeServer, client: FedloomClient) -> None:
    server.on("job/dsl/generate", data={"components": {"a": {}}})
    assert client.job.dsl_generate({"components": {"a": {}}}, ["a"]) == {"components": {"a": {}}}
    body = server.body()
    assert json.loads(body["train_dsl"]) == {"components": {"a": {}}}
    assert body["cpn_str"] == ["a"] and body["version"] == "2"


def _lifecycle(server: FakeServer, statuses: list[str], tasks: list[list[dict[str, Any]]]) -> None:
    polls = {"job": 0, "task": 0}

    def job_query(_request: httpx.Request) -> httpx.Response:
        status = statuses[min(polls["job"], len(statuses) - 1)]
        polls["job"] += 1
        host = job_record("1", status, f_is_initiator=False, f_role="host", f_party_id=10000)
        return httpx.Response(200, json=envelope([host, job_record("1", status, progress=33)]))

    def task_query(_request: httpx.Request) -> httpx.Response:
        rows = tasks[min(polls["task"], len(tasks) - 1)]
        polls["task"] += 1
        return httpx.Response(
            200, json=envelope(rows) if rows else envelope(retcode=101, retmsg="find task failed")
        )

    server.on("job/query", job_query)
    server.on("job/task/query", task_query)


def test_wait_polls_until_the_job_ends_and_reports_progress(
    server: FakeServer, client: FedloomClient
) -> None:
    running = [
        task_record("intersection_0", "waiting"),
        task_record("reader_0", "success"),
        task_record("reader_0", "success", role="host", party_id=10000),
        task_record("data_transform_0", "running", f_progress=40, f_progress_message="parsing"),
        task_record("data_transform_0", "running", role="host", party_id=10000, f_progress=60),
    ]
    done = [task_record(name, "success") for name in ("reader_0", "data_transform_0", "intersection_0")]
    _lifecycle(server, ["waiting", "running", "success"], [[], running, done])
    seen: list[JobProgress] = []
    assert client.job.wait("1", interval=0.001, on_progress=seen.append) == "success"
    assert [s.status for s in seen] == ["waiting", "running", "success"]
    assert seen[0].tasks == ()
    middle = {t.component: t for t in seen[1].tasks}
    assert [t.component for t in seen[1].tasks] == ["reader_0", "data_transform_0", "intersection_0"]
    assert (middle["data_transform_0"].status, middle["data_transform_0"].progress) == ("running", 50)
    assert middle["data_transform_0"].message == "parsing"
    assert (middle["reader_0"].progress, middle["intersection_0"].status) == (100, "waiting")
    assert seen[1].progress == 33 and seen[1].role == "guest"


def test_wait_success_raises_job_failed_naming_the_component(
    server: FakeServer, client: FedloomClient
) -> None:
    error = "Traceback (most recent call last):\n  ...\nValueError: label column y not found"
    failed = [
        task_record("reader_0", "success"),
        task_record("data_transform_0", "failed", f_error_report=error),
    ]
    _lifecycle(server, ["failed"], [failed])
    with pytest.raises(JobFailed) as raised:
        client.job.wait_success("1", interval=0.001)
    assert raised.value.status == "failed"
    assert "data_transform_0 (guest 9999)" in raised.value.message
    assert raised.value.message.endswith("ValueError: label column y not found")


def test_wait_timeout_raises_and_says_the_job_keeps_running(
    server: FakeServer, client: FedloomClient
) -> None:
    _lifecycle(server, ["running"], [[task_record("reader_0", "running")]])
    with pytest.raises(WaitTimeout, match="keeps running"):
        client.job.wait("1", timeout=0.01, interval=0.001)


def test_wait_on_an_unknown_job_is_retcode_102(server: FakeServer, client: FedloomClient) -> None:
    server.on("job/query", data=[])
    with pytest.raises(ApiError) as raised:
        client.job.wait("missing")
    assert raised.value.retcode == 102


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def test_log_download_extracts_into_job_log_dir(
    server: FakeServer, client: FedloomClient, tmp_path: Path
) -> None:
    archive = _tar_gz({"fate_flow_schedule.log": b"scheduled\n", "guest/9999/INFO.log": b"hello\n"})
    server.on(
        "job/log/download",
        lambda _r: httpx.Response(200, content=archive, headers={"Content-Type": "application/gzip"}),
    )
    path = client.job.log_download("42", tmp_path)
    assert path == tmp_path / "job_42_log"
    assert (path / "guest/9999/INFO.log").read_text() == "hello\n"
    assert server.body() == {"job_id": "42"}


def test_download_error_is_a_non_200_json_envelope(
    server: FakeServer, client: FedloomClient, tmp_path: Path
) -> None:
    server.on("job/log/download", lambda _r: httpx.Response(404, json={"retcode": 404, "retmsg": "no log"}))
    with pytest.raises(ApiError, match="no log") as raised:
        client.job.log_download("42", tmp_path)
    assert raised.value.retcode == 404


def test_download_refuses_members_outside_the_output_dir(
    server: FakeServer, client: FedloomClient, tmp_path: Path
) -> None:
    archive = _tar_gz({"../escape.txt": b"x"})
    server.on("job/log/download", lambda _r: httpx.Response(200, content=archive))
    with pytest.raises(ApiError, match="outside"):
        client.job.log_download("42", tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()


def test_download_of_a_broken_archive_is_an_api_error(
    server: FakeServer, client: FedloomClient, tmp_path: Path
) -> None:
    server.on("job/log/download", lambda _r: httpx.Response(200, content=b"not a tar"))
    with pytest.raises(ApiError, match="broken archive"):
        client.job.log_download("42", tmp_path)
