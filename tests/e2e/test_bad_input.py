"""Every malformed request gets a JSON error with a non-zero retcode, never a 5xx, and changes nothing."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Api
from tests.e2e.jobs import psi_job

pytestmark = pytest.mark.slow

ENDPOINTS = [
    "/job/submit",
    "/job/stop",
    "/job/rerun",
    "/job/query",
    "/job/list/job",
    "/job/task/query",
    "/job/config",
    "/job/update",
    "/job/parameter/update",
    "/job/clean",
    "/job/log/download",
    "/job/dsl/generate",
    "/pipeline/dag/dependency",
    "/data/upload",
    "/data/download",
    "/data/upload/history",
    "/table/table_info",
    "/table/delete",
    "/table/preview",
    "/table/list",
    "/tracking/component/metric/all",
    "/tracking/component/metrics",
    "/tracking/component/metric_data",
    "/tracking/component/parameters",
    "/tracking/component/output/model",
    "/tracking/component/output/data",
    "/tracking/component/output/data/download",
    "/tracking/component/output/data/table",
    "/tracking/component/summary/download",
    "/tracking/component/list",
    "/model/deploy",
    "/model/get/predict/dsl",
    "/model/get/predict/conf",
    "/model/query",
    "/version/get",
    "/component/list",
]


def _job_count(api: Api) -> int:
    return int(api.ok("/job/list/job", {})["count"])


@pytest.mark.parametrize("path", ENDPOINTS)
def test_not_json_and_wrong_types_get_json_errors(api: Api, path: str) -> None:
    before = _job_count(api)
    for body in (b"{not json", b"[1, 2]", b'{"job_id": {"x": 1}, "namespace": 5, "component_name": []}'):
        r = api.http.post(path, content=body, headers={"content-type": "application/json"})
        assert r.status_code < 500, (path, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/json"), (path, r.text)
    assert _job_count(api) == before


@pytest.mark.parametrize(
    "path", ["/job/stop", "/job/rerun", "/job/config", "/tracking/component/list", "/job/log/download"]
)
def test_unknown_job_ids(api: Api, path: str) -> None:
    res = api.http.post(path, json={"job_id": "nope", "component_name": "x"})
    assert res.status_code < 500
    body = res.json()
    assert body["retcode"] != 0 and "nope" in body["retmsg"]


def test_huge_body_refused(api: Api) -> None:
    r = api.http.post(
        "/job/submit",
        content=b"{" + b" " * (8 * 1024 * 1024) + b"}",
        headers={"content-type": "application/json"},
    )
    assert r.status_code < 500
    assert r.json()["retcode"] == 101


def test_dsl_with_a_cycle_is_refused_and_nothing_stored(api: Api) -> None:
    dsl, conf = psi_job()
    dsl["components"]["data_transform_0"]["input"]["data"]["data"] = ["intersection_0.data"]
    before = _job_count(api)
    res = api.post("/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 101 and "cycle" in res["retmsg"]
    assert _job_count(api) == before


@pytest.mark.parametrize(
    "mutate, words",
    [
        (lambda d, c: d["components"]["reader_0"].update(module="NoSuchModule"), ["NoSuchModule"]),
        (
            lambda d, c: c["component_parameters"]["role"]["guest"]["0"]["data_transform_0"].update(bogus=1),
            ["data_transform_0", "bogus"],
        ),
        (lambda d, c: c["role"].update(host=[]), ["host"]),
        (
            lambda d, c: c["component_parameters"]["role"]["guest"]["0"]["reader_0"].update(
                table={"name": "missing", "namespace": "experiment"}
            ),
            ["missing"],
        ),
        (
            lambda d, c: d["components"]["intersection_0"]["input"]["data"].update(data=["ghost.data"]),
            ["ghost"],
        ),
    ],
)
def test_invalid_jobs_name_the_problem(api: Api, mutate: object, words: list[str]) -> None:
    dsl, conf = psi_job()
    mutate(dsl, conf)  # type: ignore[operator]
    res = api.post("/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] != 0
    for w in words:
        assert w in res["retmsg"], res["retmsg"]


def test_bad_csv_upload_leaves_no_table(api: Api, tmp_path: object) -> None:
    from pathlib import Path

    bad = Path(str(tmp_path)) / "bad.csv"
    bad.write_text("id,y,x0\n1,0,0.5\n2,1,abc\n")
    res = api.upload(bad, "experiment", "bad_table")
    assert res["retcode"] != 0 and "abc" in res["retmsg"]
    info = api.ok("/table/table_info", {"namespace": "experiment", "table_name": "bad_table"})
    assert info["exist"] == 0


def test_reupload_without_drop_is_refused(api: Api, demo_dir: object) -> None:
    from pathlib import Path

    res = api.upload(Path(str(demo_dir)) / "breast_hetero_guest.csv", "experiment", "breast_hetero_guest")
    assert res["retcode"] != 0 and "drop" in res["retmsg"]


def test_a_job_larger_than_a_party_is_refused_with_the_numbers(api: Api) -> None:
    dsl, conf = psi_job()
    conf["job_parameters"] = {"common": {"task_cores": 10_000}}
    res = api.post("/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 101
    assert "10000 cores" in res["retmsg"] and "in total" in res["retmsg"]
