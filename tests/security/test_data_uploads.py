"""Uploads: reserved namespaces, limits counted while the body streams, staging files never left behind,
hostile CSVs answered with a clear 101 on a connection that stays open, NaN and inf served as strict JSON."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from fedloom.server import EmbeddedServer
from tests.e2e.conftest import Api
from tests.security._checks import assert_refused, table_exists, unchanged
from tests.security.conftest import Fingerprint, start_server

BOUNDARY = "sec0boundary0x"


def _multipart(data: bytes, name: str = "file", extra: bytes = b"") -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="t.csv"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return extra + head + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def _query(namespace: str, table: str, **extra: Any) -> str:
    conf = {"file": "t.csv", "head": 1, "partition": 2, "namespace": namespace, "table_name": table, **extra}
    return quote(json.dumps(conf), safe=":/,&=+#")


def _upload(
    api: Api,
    data: bytes,
    namespace: str = "experiment",
    table: str = "up",
    chunked: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    body = _multipart(data)
    content: Any = body
    if chunked:
        content = (body[i : i + 65536] for i in range(0, len(body), 65536))
    r = api.http.post(
        f"/data/upload?{_query(namespace, table, **extra)}",
        content=content,
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert r.status_code < 500, r.text
    return r.json()  # type: ignore[no-any-return]


def _staging(server: EmbeddedServer) -> list[Path]:
    root = server.settings.resolved_data_dir / "staging"
    return list(root.iterdir()) if root.is_dir() else []


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    srv = start_server(tmp_path_factory.mktemp("small-limit") / "data", max_body_bytes=256 * 1024)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.parametrize("namespace", ["output_data_202611_hetero_lr_0_0", "output_data_x", "fedloom_meta"])
@pytest.mark.parametrize("drop", [0, 1])
def test_reserved_namespaces_take_no_upload(
    sec_api: Api, sec_server: EmbeddedServer, fingerprint: Fingerprint, namespace: str, drop: int
) -> None:
    before = fingerprint.take()
    assert_refused(_upload(sec_api, b"id,x\n1,2\n", namespace, "t", drop=drop), "namespace", namespace)
    json_upload = {
        "file": "/x.csv",
        "namespace": namespace,
        "table_name": "t",
        "use_local_data": 0,
        "drop": drop,
    }
    assert_refused(sec_api.post("/data/upload", json_upload), "namespace", namespace)
    assert_refused(sec_api.post("/table/delete", {"namespace": namespace, "table_name": "t"}), "namespace")
    assert not table_exists(sec_server, namespace, "t")
    assert _staging(sec_server) == []
    unchanged(fingerprint, before)


def test_a_reserved_table_written_by_the_server_cannot_be_replaced_or_deleted(
    sec_api: Api, sec_server: EmbeddedServer, fingerprint: Fingerprint
) -> None:
    from fedloom.storage.csv_import import read_csv

    sec_server.platform.tables.write("output_data_j1_c1_0", "t", read_csv(b"id,x\n1,2\n"), partitions=1)
    before = fingerprint.take()
    assert_refused(_upload(sec_api, b"id,x\n9,9\n", "output_data_j1_c1_0", "t", drop=1), "namespace")
    assert_refused(
        sec_api.post("/table/delete", {"namespace": "output_data_j1_c1_0", "table_name": "t"}), "namespace"
    )
    unchanged(fingerprint, before)
    preview = sec_api.ok("/table/preview", {"namespace": "output_data_j1_c1_0", "table_name": "t"})
    assert preview["data"] == [["1", 2]]  # reading stays allowed


@pytest.mark.parametrize("chunked", [False, True])
def test_an_upload_over_the_limit_is_refused_and_leaves_nothing(small: EmbeddedServer, chunked: bool) -> None:
    api = Api(small.url)
    fp = Fingerprint(small)
    before = fp.take()
    big = b"id,x\n" + b"".join(b"%d,1\n" % i for i in range(60_000))
    assert len(big) > 256 * 1024
    res = _upload(api, big, table="big", chunked=chunked)
    assert_refused(res, "bytes")
    assert not table_exists(small, "experiment", "big")
    assert _staging(small) == []
    unchanged(fp, before)
    assert (
        _upload(api, b"id,x\n1,2\n", table=f"fits{int(chunked)}")["retcode"] == 0
    )  # the server still serves


def test_a_client_that_disconnects_mid_upload_leaves_no_staging_file(small: EmbeddedServer) -> None:
    host, port = small.url.removeprefix("http://").split(":")
    head = (
        f"POST /v1/data/upload?{_query('experiment', 'cut')} HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    part = _multipart(b"id,x\n" + b"1,2\n" * 10_000)[:30_000]
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(head.encode() + b"%x\r\n" % len(part) + part + b"\r\n")
        deadline = time.monotonic() + 10
        while not _staging(small) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _staging(small), "the upload never reached the staging directory"
    deadline = time.monotonic() + 10
    while _staging(small) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _staging(small) == []
    assert not table_exists(small, "experiment", "cut")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"id,x\r1,2\r3,4\r", ["line 1, column 5", "carriage return"]),
        (b"id,x\n" + b"a" * (128 * 1024) + b",1\n", ["line 2, column id"]),
        (b"id,x\n1," + b"z" * (128 * 1024) + b"\n", ["line 2, column x"]),
        (b"id,x\n" + b"a" * (10 * 1024 * 1024) + b",1\n", ["line 2, column 1"]),
        (b"id," + b"x" * (1024 * 1024) + b"\n1,2\n", ["line 1, column 2"]),
        ("id,x\n1,2\n".encode("utf-16"), ["line 1", "UTF-16"]),
        (bytes(range(256)) * 64, ["line 1"]),
        (b"", ["empty"]),
        (b"id,x\n", ["no data rows"]),
        (b"id,x\n1,inf\n2,3\n", ["line 2, column x", "infinite"]),
        (b"id,x\n1,2\n2,-inf\n", ["line 3, column x", "infinite"]),
    ],
)
def test_hostile_csv_uploads_get_a_clear_101_on_a_live_connection(
    sec_api: Api, sec_server: EmbeddedServer, fingerprint: Fingerprint, data: bytes, words: list[str]
) -> None:
    before = fingerprint.take()
    res = _upload(sec_api, data, table="hostile")
    assert res["retcode"] == 101, res
    assert_refused(res, *words)
    assert len(res["retmsg"]) < 400
    assert not table_exists(sec_server, "experiment", "hostile")
    assert _staging(sec_server) == []
    unchanged(fingerprint, before)
    assert sec_api.ok("/table/table_info", {"namespace": "experiment", "table_name": "breast_hetero_guest"})


@pytest.mark.parametrize(
    ("body", "word"),
    [
        (_multipart(b"id,x\n1,2\n", name="other"), "'file' part"),
        (
            _multipart(b"id,x\n1,2\n", extra=_multipart(b"id,x\n3,4\n")[: -len(f"--{BOUNDARY}--\r\n")]),
            "more than one",
        ),
        (b"--" + BOUNDARY.encode() + b"\r\nnot a header\r\n\r\n", "multipart"),
    ],
)
def test_malformed_multipart_is_refused(
    sec_api: Api, sec_server: EmbeddedServer, body: bytes, word: str
) -> None:
    r = sec_api.http.post(
        f"/data/upload?{_query('experiment', 'mp')}",
        content=body,
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert_refused(r.json(), word)
    assert not table_exists(sec_server, "experiment", "mp")
    assert _staging(sec_server) == []


def _strict(text: str) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in a JSON answer")

    return json.loads(text, parse_constant=refuse)


def test_nan_is_stored_as_missing_and_served_as_strict_json(sec_api: Api, sec_server: EmbeddedServer) -> None:
    res = _upload(sec_api, b"id,x,y\n1,nan,1\n2,NaN,\n3,3,NA\n", table="nans")
    assert res["retcode"] == 0, res
    r = sec_api.http.post("/table/preview", json={"namespace": "experiment", "table_name": "nans"})
    assert _strict(r.text)["data"]["data"] == [["1", None, 1], ["2", None, None], ["3", 3, None]]
    r = sec_api.http.post("/table/table_info", json={"namespace": "experiment", "table_name": "nans"})
    assert _strict(r.text)["data"]["count"] == 3
    res = sec_api.post(
        "/data/download", {"namespace": "experiment", "table_name": "nans", "output_path": "n.csv"}
    )
    assert res["retcode"] == 0, res
    assert (sec_server.settings.resolved_export_dir / "n.csv").read_text() == "id,x,y\n1,,1\n2,,\n3,3,\n"


def test_a_component_output_holding_inf_is_served_as_strict_json(
    sec_api: Api, sec_server: EmbeddedServer
) -> None:
    import numpy as np

    from fedloom.storage.frame import Frame

    frame = Frame(
        ids=np.array(["a", "b"], dtype=object),
        features=np.array([[np.inf, 1.0], [-np.inf, np.nan]]),
        feature_names=["x", "y"],
        extra={"predict_detail": np.array([{"0": float("nan")}, {"1": float("inf")}], dtype=object)},
    )
    sec_server.platform.tables.write("experiment", "infs", frame, partitions=1)
    r = sec_api.http.post("/table/preview", json={"namespace": "experiment", "table_name": "infs"})
    rows = _strict(r.text)["data"]["data"]
    assert rows == [["a", "inf", 1, {"0": None}], ["b", "-inf", None, {"1": "inf"}]]
    res = sec_api.post(
        "/data/download", {"namespace": "experiment", "table_name": "infs", "output_path": "i.csv"}
    )
    assert res["retcode"] == 0, res


@pytest.mark.parametrize("ctype", ["Multipart/Form-Data; boundary=x", "MULTIPART/FORM-DATA"])
def test_a_json_body_under_a_capitalised_multipart_type_is_not_taken_as_json(
    sec_server: EmbeddedServer, fingerprint: Fingerprint, ctype: str
) -> None:
    """The guard reads the type case-insensitively and applies the multipart limit; the route must take
    the same branch, or a huge body would be read whole as JSON (and, with a key, go unsigned)."""
    before = fingerprint.take()
    conf = {
        "file": "/etc/hostname",
        "use_local_data": 0,
        "head": 1,
        "partition": 1,
        "namespace": "experiment",
        "table_name": "capitalised",
    }
    res = Api(sec_server.url).http.post(
        "/data/upload", content=json.dumps(conf), headers={"content-type": ctype}
    )
    body = res.json()
    assert body["retcode"] == 101 and "multipart" in body["retmsg"], body
    assert not table_exists(sec_server, "experiment", "capitalised")
    unchanged(fingerprint, before)
