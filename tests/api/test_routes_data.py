"""/v1/data and /v1/table routes over the real TableService: upload (multipart as fate-client sends it),
table info, preview, history, list, delete, download."""

from __future__ import annotations

import json
from urllib.parse import quote

from tests.api.conftest import Client
from tests.services.conftest import GUEST_CSV

UPLOAD_FIELDS = [
    "job_id",
    "code",
    "message",
    "namespace",
    "table_name",
    "count",
    "partition",
    "model_info",
    "board_url",
    "logs_directory",
    "dsl_path",
    "runtime_conf_path",
    "runtime_conf_on_party_path",
    "train_runtime_conf_path",
    "pipeline_dsl_path",
]


def _upload(client: Client, name: str) -> dict[str, object]:
    conf = {"file": "t.csv", "head": 1, "partition": 2, "namespace": "exp", "table_name": name}
    r = client.http.post(f"/v1/data/upload?{quote(json.dumps(conf))}", files={"file": ("t.csv", GUEST_CSV)})
    found: dict[str, object] = r.json()
    return found


def test_multipart_upload_answers_in_fates_shape(client: Client) -> None:
    res = _upload(client, "t1")
    assert res["retcode"] == 0, res
    data = res["data"]
    assert isinstance(data, dict) and list(data) == UPLOAD_FIELDS
    assert (data["count"], data["partition"], res["jobId"]) == (3, 2, data["job_id"])
    assert data["model_info"] == {"model_id": "local-0#model", "model_version": data["job_id"]}
    again = _upload(client, "t1")
    assert again["retcode"] == 103 and "already exists" in str(again["retmsg"])


def test_a_json_upload_needs_use_local_data_0(client: Client) -> None:
    res = client.post("/data/upload", {"file": "/etc/hosts", "namespace": "exp", "table_name": "t"})
    assert res["retcode"] == 101 and "use_local_data" in res["retmsg"]


def test_table_info_preview_and_delete(client: Client) -> None:
    info = client.ok("/table/table_info", {"namespace": "experiment", "table_name": "guest_t"})
    assert list(info) == [
        "table_name",
        "namespace",
        "exist",
        "count",
        "partition",
        "schema",
        "enable",
        "origin",
        "extend_sid",
        "address",
    ]
    assert (info["exist"], info["count"], info["address"]) == (1, 3, {"path": "tables/experiment/guest_t"})
    assert client.ok("/table/table_info", {"namespace": "experiment", "name": "absent"}) == {
        "table_name": "absent",
        "namespace": "experiment",
        "exist": 0,
    }
    preview = client.ok("/table/preview", {"namespace": "experiment", "table_name": "guest_t", "limit": 1})
    assert list(preview) == ["header", "data", "count"] and len(preview["data"]) == 1
    assert client.ok("/table/delete", {"namespace": "experiment", "table_name": "guest_t"}) == {
        "table_name": "guest_t",
        "namespace": "experiment",
    }
    assert (
        client.post("/table/delete", {"namespace": "experiment", "table_name": "guest_t"})["retcode"] == 102
    )
    assert client.post("/table/delete", {"namespace": "output_data_x", "table_name": "t"})["retcode"] == 108


def test_history_and_table_list_of_an_upload_job(client: Client) -> None:
    history = client.ok("/data/upload/history", {"limit": 1})
    [[job_id, entry]] = [next(iter(h.items())) for h in history]
    assert list(entry) == ["upload_info", "notes", "schema"]
    assert entry["upload_info"] == {
        "table_name": "host_t",
        "namespace": "experiment",
        "partition": 2,
        "upload_count": 3,
    }
    tables = client.ok("/table/list", {"job_id": job_id, "role": "local", "party_id": 0})
    assert tables == {
        "upload_0": {"output": [{"namespace": "experiment", "name": "host_t", "data_name": "data"}]}
    }


def test_download_shows_the_callers_path(client: Client) -> None:
    data = client.ok(
        "/data/download", {"namespace": "experiment", "table_name": "host_t", "output_path": "d/"}
    )
    assert data == {
        "output_path": "d/experiment_host_t.csv",
        "count": 3,
        "namespace": "experiment",
        "table_name": "host_t",
    }
    res = client.post(
        "/data/download", {"namespace": "experiment", "table_name": "host_t", "output_path": "/etc/x.csv"}
    )
    assert res["retcode"] == 108
