"""/v1/job routes over the real JobService: FATE's field names and order, the filters, the errors."""

from __future__ import annotations

from typing import Any

from fedloom.platform import Platform
from tests.api.conftest import Client
from tests.services.conftest import psi_job

JOB_FIELDS = [
    "job_id",
    "role",
    "party_id",
    "status",
    "is_initiator",
    "initiator_role",
    "initiator_party_id",
    "tag",
    "description",
    "dsl",
    "runtime_conf",
    "runtime_conf_on_party",
    "train_runtime_conf",
    "roles",
    "progress",
    "cancel_signal",
    "cores",
    "resource_in_use",
    "create_time",
    "update_time",
    "start_time",
    "end_time",
    "elapsed",
    "status_message",
    "status_code",
    "name",
    "user_id",
]
TASK_FIELDS = [
    "job_id",
    "task_id",
    "task_version",
    "component_name",
    "component_module",
    "role",
    "party_id",
    "status",
    "party_status",
    "auto_retries",
    "run_pid",
    "run_ip",
    "error_report",
    "progress",
    "progress_message",
    "create_time",
    "update_time",
    "start_time",
    "end_time",
    "elapsed",
    "need_run",
    "run_on_this_party",
    "kill_status",
    "busy_seconds",
]


def _submit(client: Client) -> dict[str, Any]:
    dsl, conf = psi_job()
    res = client.post("/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 0, res
    return res


def test_submit_answers_in_fates_shape(client: Client, platform: Platform) -> None:
    res = _submit(client)
    job_id = res["jobId"]
    assert res["retmsg"] == "success"
    assert list(res["data"]) == [
        "job_id",
        "code",
        "message",
        "model_info",
        "board_url",
        "logs_directory",
        "dsl_path",
        "runtime_conf_path",
        "runtime_conf_on_party_path",
        "train_runtime_conf_path",
        "pipeline_dsl_path",
    ]
    assert res["data"]["model_info"] == {"model_id": "guest-9999#host-10000#model", "model_version": job_id}
    assert res["data"]["board_url"] == f"{platform.settings.base_url}/board/#/job/{job_id}"
    assert res["data"]["logs_directory"] == f"logs/{job_id}"


def test_submit_of_an_invalid_job_is_refused_with_101(client: Client) -> None:
    dsl, conf = psi_job(guest_table="absent")
    res = client.post("/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 101 and "table experiment.absent not found at guest 9999" in res["retmsg"]
    assert client.post("/job/query", {"role": "guest"}) == {
        "retcode": 0,
        "retmsg": "no job could be found",
        "data": [],
    }


def test_query_answers_f_columns_and_filters_on_the_body(client: Client) -> None:
    job_id = _submit(client)["jobId"]
    rows = client.ok("/job/query", {"job_id": job_id})
    assert [list(r) for r in rows] == [[f"f_{k}" for k in JOB_FIELDS]] * 2
    assert [r["f_role"] for r in client.ok("/job/query", {"job_id": job_id, "is_initiator": True})] == [
        "guest"
    ]
    res = client.post("/job/query", {"job_id": job_id, "no_such_column": 1})  # unknown keys are ignored
    assert len(res["data"]) == 2


def test_list_job_has_plain_keys_and_partners(client: Client) -> None:
    job_id = _submit(client)["jobId"]
    data = client.ok("/job/list/job", {"role": "guest"})
    assert data["count"] == 1
    [job] = data["jobs"]
    assert list(job) == [*JOB_FIELDS, "partners"]
    assert (job["job_id"], job["partners"]) == (job_id, [10000])
    res = client.post("/job/list/job", {"order_by": "f_status"})
    assert (res["retcode"], res["retmsg"]) == (101, "order_by: unknown column 'f_status'")


def test_task_query_and_list(client: Client) -> None:
    job_id = _submit(client)["jobId"]
    rows = client.ok("/job/task/query", {"job_id": job_id, "role": "host"})
    assert len(rows) == 3 and list(rows[0]) == [f"f_{k}" for k in TASK_FIELDS]
    assert client.post("/job/task/query", {"job_id": job_id, "component_name": "nope"})["retcode"] == 102
    data = client.ok("/job/list/task", {"job_id": job_id, "component_name": "reader_0"})
    assert data["count"] == 2 and list(data["tasks"][0]) == TASK_FIELDS


def test_config_update_and_parameter_update(client: Client) -> None:
    job_id = _submit(client)["jobId"]
    data = client.ok("/job/config", {"job_id": job_id, "role": "guest", "party_id": 9999})
    assert list(data) == ["job_id", "dsl", "runtime_conf", "train_runtime_conf", "model_info"]
    assert data["model_info"] == {"model_id": "guest-9999#host-10000#model", "model_version": job_id}
    assert client.post("/job/config", {"job_id": job_id, "role": "arbiter"})["retcode"] == 102
    assert client.post("/job/update", {"job_id": job_id, "notes": "hello"}) == {
        "retcode": 0,
        "retmsg": "success",
    }
    assert client.ok("/job/query", {"job_id": job_id})[0]["f_description"] == "hello"
    res = client.post(
        "/job/parameter/update", {"job_id": job_id, "job_parameters": {"common": {"task_cores": 2}}}
    )
    assert res["jobId"] == job_id
    assert list(res["data"]) == ["job_parameters", "component_parameters", "components"]


def test_stop_and_clean_queue(client: Client) -> None:
    first, second = _submit(client)["jobId"], _submit(client)["jobId"]
    res = client.post("/job/stop", {"job_id": first})
    assert res == {
        "retcode": 0,
        "jobId": first,
        "retmsg": "stop job on this party success; stop job on all party success",
    }
    assert client.post("/job/stop", {"job_id": first})["retcode"] == 103
    assert client.ok("/job/clean/queue") == {second: 0}


def test_logs_and_clean_need_a_known_job(client: Client) -> None:
    job_id = _submit(client)["jobId"]
    assert client.ok("/job/log/path", {"job_id": job_id}) == {"logs_directory": f"logs/{job_id}"}
    assert client.post("/job/log/path", {"job_id": "unknown_job"})["retcode"] == 102
    r = client.http.post("/v1/job/log/download", json={"job_id": job_id})
    assert r.status_code == 404 and r.json()["retmsg"] == f"no logs for job {job_id}"
    assert client.post("/job/clean", {"job_id": job_id}) == {
        "retcode": 0,
        "retmsg": "clean job success",
        "jobId": job_id,
    }


def test_dsl_generate_splits_the_component_string(client: Client) -> None:
    dsl, _ = psi_job()
    one = client.ok("/job/dsl/generate", {"train_dsl": dsl, "cpn_str": "reader_0, data_transform_0,"})
    two = client.ok("/job/dsl/generate", {"train_dsl": dsl, "cpn_list": ["reader_0", "data_transform_0"]})
    assert one == two and list(one["components"]) == ["reader_0", "data_transform_0"]


def test_dependency_of_a_job_and_of_documents(client: Client) -> None:
    dsl, conf = psi_job()
    job_id = _submit(client)["jobId"]
    stored = client.ok("/pipeline/dag/dependency", {"job_id": job_id, "role": "guest", "party_id": 9999})
    given = client.ok(
        "/pipeline/dag/dependency",
        {"job_dsl": dsl, "job_runtime_conf": conf, "role": "guest", "party_id": 9999},
    )
    assert stored == given
