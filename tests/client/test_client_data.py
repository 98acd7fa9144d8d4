"""client.data / client.table / client.tracking / client.model: request shapes FATE's clients send."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from fedloom.client import ApiError, DataWithMeta, FedloomClient
from tests.client.fake_flow import FakeServer


def _upload_route(server: FakeServer, job_id: str = "u1") -> None:
    data = {"job_id": job_id, "code": 0, "board_url": "x", "namespace": "experiment", "table_name": "t"}
    server.on("data/upload", data=data, job_id=job_id)


def test_upload_query_string_is_one_percent_encoded_json_document(
    server: FakeServer, client: FedloomClient, tmp_path: Path
) -> None:
    csv = tmp_path / "guest #1&2+.csv"  # characters that break naive query parsing
    csv.write_text("id,y,x0\n1,0,0.5\n")
    _upload_route(server)
    assert client.data.upload(csv, "experiment", "t", partition=8, drop=True) == "u1"
    raw = server.requests[0].url.query.decode()
    assert "=" not in raw and "&" not in raw and "#" not in raw and "+" not in raw
    conf = json.loads(unquote(raw))
    assert conf == {
        "file": str(csv.resolve()),
        "namespace": "experiment",
        "table_name": "t",
        "head": 1,
        "partition": 8,
        "id_delimiter": ",",
        "drop": 1,
        "extend_sid": False,
        "auto_increasing_sid": False,
    }


def test_upload_sends_exactly_one_multipart_part_named_file(
    server: FakeServer, client: FedloomClient, tmp_path: Path
) -> None:
    csv = tmp_path / "host.csv"
    csv.write_bytes(b"id,x0\n1,0.25\n")
    _upload_route(server)
    client.data.upload(csv, "experiment", "host", head=False, delimiter=";", extra={"with_meta": True})
    request = server.requests[0]
    content_type = request.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    boundary = content_type.split("boundary=")[1].encode()
    parts = [p for p in request.content.split(b"--" + boundary) if p.strip(b"-\r\n")]
    assert len(parts) == 1
    headers, _, payload = parts[0].partition(b"\r\n\r\n")
    assert b'name="file"; filename="host.csv"' in headers
    assert payload.rstrip(b"\r\n") == b"id,x0\n1,0.25"
    conf = json.loads(unquote(request.url.query.decode()))
    assert (conf["head"], conf["id_delimiter"], conf["with_meta"]) == (0, ";", True)


def test_upload_of_a_missing_file_is_invalid_input(client: FedloomClient, tmp_path: Path) -> None:
    with pytest.raises(ApiError, match="cannot read") as raised:
        client.data.upload(tmp_path / "nope.csv", "experiment", "t")
    assert raised.value.retcode == 101


def test_upload_failure_reported_in_data_code_is_raised(
    server: FakeServer, client: FedloomClient, tmp_path: Path
) -> None:
    (tmp_path / "a.csv").write_text("id\n1\n")
    server.on("data/upload", data={"code": 103, "message": "table exists"})
    with pytest.raises(ApiError, match="table exists") as raised:
        client.data.upload(tmp_path / "a.csv", "experiment", "t")
    assert raised.value.retcode == 103


def test_upload_server_path_is_json_with_use_local_data_0(server: FakeServer, client: FedloomClient) -> None:
    _upload_route(server, "u2")
    assert client.data.upload_server_path("/srv/data.csv", "experiment", "t") == "u2"
    body = server.body()
    assert body["use_local_data"] == 0 and body["file"] == "/srv/data.csv"
    assert server.requests[0].headers["content-type"] == "application/json"


def test_download_and_history(server: FakeServer, client: FedloomClient) -> None:
    server.on("data/download", data={"job_id": "d1", "code": 0}, job_id="d1")
    server.on("data/upload/history", data=[{"u1": {"upload_info": {"table_name": "t"}}}])
    assert client.data.download("experiment", "t", "/srv/out.csv") == "d1"
    assert server.body() == {"namespace": "experiment", "table_name": "t", "output_path": "/srv/out.csv"}
    assert client.data.upload_history(limit=3) == [{"u1": {"upload_info": {"table_name": "t"}}}]
    assert server.body() == {"limit": 3}


def test_table_routes(server: FakeServer, client: FedloomClient) -> None:
    server.on("table/table_info", data={"exist": 1, "count": 569})
    server.on("table/preview", data={"header": ["id"], "data": [[1]]})
    server.on("table/delete", data={"table_name": "t", "namespace": "n"})
    server.on("table/list", data={})
    assert client.table.info("n", "t")["count"] == 569
    assert server.body() == {"namespace": "n", "table_name": "t"}
    client.table.preview("n", "t", 5)
    assert server.body() == {"namespace": "n", "name": "t", "limit": 5}
    client.table.delete("n", "t")
    client.table.list("1", "guest", 9999)
    assert server.body() == {"job_id": "1", "role": "guest", "party_id": 9999}


def test_tracking_routes_leave_out_role_and_party_when_not_given(
    server: FakeServer, client: FedloomClient
) -> None:
    server.on("tracking/component/metric/all", data={"train": {}})
    assert client.tracking.metric_all("1", "evaluation_0") == {"train": {}}
    assert server.body() == {"job_id": "1", "component_name": "evaluation_0"}


def test_output_data_preview_keeps_data_and_meta(server: FakeServer, client: FedloomClient) -> None:
    meta = {"header": [["id", "y"]], "total": [2], "names": ["data"]}
    server.on("tracking/component/output/data", data=[[[1, 0], [2, 1]]], meta=meta)
    preview = client.tracking.output_data("1", "intersection_0", "guest", 9999)
    assert preview == DataWithMeta([[[1, 0], [2, 1]]], meta)
    assert server.body()["role"] == "guest"


def test_metric_data_names_the_metric(server: FakeServer, client: FedloomClient) -> None:
    server.on("tracking/component/metric_data", data=[["auc", 0.9]], meta={"metric_type": "X"})
    result = client.tracking.metric_data("1", "evaluation_0", namespace="train", name="hetero_lr_0")
    assert result.data == [["auc", 0.9]]
    assert server.body() == {
        "job_id": "1",
        "component_name": "evaluation_0",
        "metric_namespace": "train",
        "metric_name": "hetero_lr_0",
    }


def test_output_data_download_is_a_get_with_a_json_body(
    server: FakeServer, client: FedloomClient, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in (("data.csv", b"id,y\n1,0\n"), ("data.meta", b'{"header": ["id", "y"]}')):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    server.on(
        "tracking/component/output/data/download",
        lambda _r: httpx.Response(200, content=buffer.getvalue()),
        method="GET",
    )
    path = client.tracking.output_data_download("1", "intersection_0", "guest", 9999, tmp_path, limit=10)
    assert path == tmp_path / "job_1_intersection_0_guest_9999_output_data"
    assert (path / "data.csv").read_text() == "id,y\n1,0\n"
    request = server.requests[0]
    assert request.method == "GET" and request.headers["content-type"] == "application/json"
    assert server.body() == {
        "job_id": "1",
        "component_name": "intersection_0",
        "role": "guest",
        "party_id": 9999,
        "limit": 10,
    }


def test_component_list_of_a_job(server: FakeServer, client: FedloomClient) -> None:
    server.on("tracking/component/list", data={"components": ["reader_0", "intersection_0"]})
    assert client.tracking.component_list("1") == ["reader_0", "intersection_0"]


def test_model_deploy_sends_cpn_list_or_predict_dsl(server: FakeServer, client: FedloomClient) -> None:
    server.on("model/deploy", data={"model_id": "m", "model_version": "v2"})
    assert client.model.deploy("m", "v1", cpn_list=["a", "b"])["model_version"] == "v2"
    assert server.body() == {"model_id": "m", "model_version": "v1", "cpn_list": ["a", "b"]}
    client.model.deploy("m", "v1", predict_dsl={"components": {}})
    assert server.body() == {"model_id": "m", "model_version": "v1", "predict_dsl": {"components": {}}}


def test_model_templates_and_query(server: FakeServer, client: FedloomClient) -> None:
    server.on("model/get/predict/dsl", data={"components": {}})
    server.on("model/get/predict/conf", data={"dsl_version": 2})
    server.on("model/query", data=[{"f_model_id": "m"}])
    assert client.model.predict_dsl("m", "v") == {"components": {}}
    assert client.model.predict_conf("m", "v") == {"dsl_version": 2}
    assert client.model.query(model_id="m") == [{"f_model_id": "m"}]
    assert server.body() == {"model_id": "m"}
