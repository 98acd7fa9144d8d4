"""Attack: "any directory downloadable", and every id that becomes a path: job, component, role, party,
namespace, table, model ids and file names echoed in headers are checked at the API boundary, and numbers
that size work are bounded; every refusal is a 1xx naming the field, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Api
from tests.security._checks import assert_refused, unchanged
from tests.security.conftest import Fingerprint

HOSTILE = [
    "../tables",
    "/root",
    "..",
    ".",
    "%2e%2e",
    "..%2F..",
    "%2F",
    "..\\..",
    "C:\\",
    "",
    "a" * 300,
    "ｊｏｂ",
    "job\u2215x",
    "j\x00b",
    "a b",
    "a\r\nSet-Cookie: x=1",
]

TRACKING = [
    "/tracking/component/output/data/download",
    "/tracking/component/output/data",
    "/tracking/component/summary/download",
    "/tracking/component/metric/all",
    "/tracking/component/metrics",
    "/tracking/component/parameters",
    "/tracking/component/output/model",
    "/tracking/component/output/data/table",
]


def _post(api: Api, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = api.http.post(path, json=body)
    assert r.status_code < 500, r.text
    assert r.headers["content-type"].startswith("application/json"), (path, r.headers)  # never an archive
    assert "content-disposition" not in r.headers
    return r.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("job_id", HOSTILE)
def test_job_log_download_refuses_ids_that_are_not_job_ids(
    sec_api: Api, fingerprint: Fingerprint, job_id: str
) -> None:
    before = fingerprint.take()
    for path in ("/job/log/download", "/job/log/path", "/job/clean", "/job/config", "/job/stop"):
        assert_refused(_post(sec_api, path, {"job_id": job_id}), "job_id")
    unchanged(fingerprint, before)


@pytest.mark.parametrize("path", TRACKING)
@pytest.mark.parametrize("field", ["job_id", "component_name", "role"])
def test_tracking_routes_refuse_hostile_ids(
    sec_api: Api, fingerprint: Fingerprint, path: str, field: str
) -> None:
    before = fingerprint.take()
    for value in ("../../tables", "/root", "..", "%2e%2e", "a/b"):
        body = {"job_id": "j1", "component_name": "c1", "role": "guest", "party_id": 9999, field: value}
        assert_refused(_post(sec_api, path, body), field)
    unchanged(fingerprint, before)


@pytest.mark.parametrize("party_id", [-1, 2**31, 2**64, "../9999", "9999/..", 1e30, [1]])
def test_party_ids_are_bounded_integers(sec_api: Api, party_id: object) -> None:
    body = {"job_id": "j1", "component_name": "c1", "role": "guest", "party_id": party_id}
    assert_refused(_post(sec_api, "/tracking/component/output/data/download", body), "party_id")
    assert_refused(
        _post(sec_api, "/table/list", {"job_id": "j1", "role": "guest", "party_id": party_id}), "party_id"
    )


@pytest.mark.parametrize("path", ["/table/table_info", "/table/preview", "/table/delete", "/data/download"])
@pytest.mark.parametrize("field", ["namespace", "table_name"])
def test_table_routes_refuse_hostile_names(
    sec_api: Api, fingerprint: Fingerprint, path: str, field: str
) -> None:
    before = fingerprint.take()
    for value in ("..", "../experiment", "/etc", ".hidden", "a/b", "%2e%2e", "..\\..", "x" * 201):
        body = {
            "namespace": "experiment",
            "table_name": "breast_hetero_guest",
            "output_path": "o.csv",
            field: value,
        }
        assert_refused(_post(sec_api, path, body), field)
    unchanged(fingerprint, before)


@pytest.mark.parametrize(
    "filename",
    ["../../x.json", "/etc/passwd", "a\r\nSet-Cookie: x=1", '"q".json', ".bashrc", "a;b", "x" * 300, "a\\b"],
)
def test_file_names_echoed_in_headers_are_plain_names(sec_api: Api, filename: str) -> None:
    ref = {"model_id": "m", "model_version": "v1", "filename": filename}
    assert_refused(_post(sec_api, "/model/get/predict/dsl", ref), "filename")
    assert_refused(_post(sec_api, "/model/get/predict/conf", ref), "filename")
    summary = {
        "job_id": "j1",
        "component_name": "c1",
        "role": "guest",
        "party_id": 9999,
        "filename": filename,
    }
    assert_refused(_post(sec_api, "/tracking/component/summary/download", summary), "filename")
    assert_refused(
        _post(sec_api, "/job/dsl/generate", {"train_dsl": {}, "cpn_str": "a", "filename": filename}),
        "filename",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("model_id", "../../x"), ("model_version", "../x"), ("model_id", "a/b"), ("model_version", "")],
)
def test_model_ids_are_checked(sec_api: Api, field: str, value: str) -> None:
    body = {"model_id": "m", "model_version": "v1", field: value}
    for path in ("/model/get/predict/dsl", "/model/deploy", "/model/query"):
        assert_refused(_post(sec_api, path, body), field)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/table/preview",
            {"namespace": "experiment", "table_name": "breast_hetero_guest", "limit": 10_001},
            "limit",
        ),
        (
            "/table/preview",
            {"namespace": "experiment", "table_name": "breast_hetero_guest", "limit": 10**30},
            "limit",
        ),
        (
            "/table/preview",
            {"namespace": "experiment", "table_name": "breast_hetero_guest", "limit": -5},
            "limit",
        ),
        ("/job/list/job", {"limit": 10**9}, "limit"),
        ("/job/list/job", {"page": 10**12}, "page"),
        ("/data/upload/history", {"limit": 10**9}, "limit"),
        ("/tracking/component/output/data", {"job_id": "j", "component_name": "c", "limit": 10**7}, "limit"),
        ("/job/task/query", {"task_version": 10**12}, "task_version"),
        (
            "/data/upload",
            {"file": "/x", "namespace": "e", "table_name": "t", "use_local_data": 0, "partition": 1025},
            "partition",
        ),
        (
            "/data/upload",
            {"file": "/x", "namespace": "e", "table_name": "t", "use_local_data": 0, "partition": 0},
            "partition",
        ),
        (
            "/data/upload",
            {"file": "/x", "namespace": "e", "table_name": "t", "use_local_data": 0, "head": 7},
            "head",
        ),
    ],
)
def test_numbers_have_upper_bounds_that_name_themselves(
    sec_api: Api, fingerprint: Fingerprint, path: str, body: dict[str, Any], field: str
) -> None:
    before = fingerprint.take()
    assert_refused(_post(sec_api, path, body), field)
    unchanged(fingerprint, before)


def test_valid_ids_still_work(sec_api: Api) -> None:
    info = sec_api.ok("/table/table_info", {"namespace": "experiment", "table_name": "breast_hetero_guest"})
    assert info["exist"] == 1
    assert (
        sec_api.ok(
            "/table/preview", {"namespace": "experiment", "name": "breast_hetero_guest", "limit": 10_000}
        )["count"]
        == 569
    )
    res = _post(sec_api, "/tracking/component/list", {"job_id": "2026113005333903492100"})
    assert res["retcode"] != 0 and "2026113005333903492100" in res["retmsg"]
