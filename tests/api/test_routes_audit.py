"""/v1/audit/query and the audit middleware: every request is recorded, after its answer, with its outcome."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fedloom.platform import Platform
from tests.api.conftest import Client
from tests.services.conftest import psi_job

Entry = dict[str, Any]


def _entries(client: Client, **body: Any) -> list[Entry]:
    found: list[Entry] = client.ok("/audit/query", body)
    return found


def _wait(client: Client, matches: Callable[[Entry], bool], **body: Any) -> Entry:
    """The newest entry that matches; the middleware records after the answer, so allow it a moment."""
    deadline = time.monotonic() + 5
    while True:
        hits = [e for e in _entries(client, **body) if matches(e)]
        if hits or time.monotonic() > deadline:
            assert hits, _entries(client)
            return hits[0]
        time.sleep(0.02)


def test_a_call_is_recorded_with_its_retcode(client: Client) -> None:
    client.ok("/permission/grant", {"party_id": 9999, "component": "reader"})
    e = _wait(client, lambda e: e["action"] == "POST /v1/permission/grant")
    assert e["actor"] == "anonymous" and e["retcode"] == 0 and e["job_id"] == "" and e["detail"] == "success"
    assert set(e) == {"time", "actor", "action", "job_id", "retcode", "detail"}


def test_a_refusal_is_recorded_with_its_retcode_and_message(client: Client) -> None:
    client.post("/permission/grant", {"party_id": 9999, "component": "dataio"})
    e = _wait(client, lambda e: e["retcode"] == 101, action="POST /v1/permission/grant")
    assert "'dataio'" in e["detail"]


def test_job_id_comes_from_the_body(client: Client) -> None:
    client.post("/job/query", {"job_id": "202601010000000000001"})
    e = _wait(client, lambda e: e["action"] == "POST /v1/job/query")
    assert e["job_id"] == "202601010000000000001"
    assert _entries(client, job_id="202601010000000000001")[0]["action"] == "POST /v1/job/query"


def test_job_id_comes_from_the_answer(client: Client) -> None:
    dsl, conf = psi_job()
    res = client.post("/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 0, res
    e = _wait(client, lambda e: e["action"] == "POST /v1/job/submit")
    assert e["job_id"] == res["jobId"] != ""


def test_unknown_paths_and_non_json_answers_record_the_http_status(client: Client) -> None:
    client.http.post("/v1/no/such/route", json={})
    client.http.get("/v1/job/query")  # method not allowed
    e = _wait(client, lambda e: e["action"] == "GET /v1/job/query")
    assert e["retcode"] in (100, 405)
    e = _wait(client, lambda e: e["action"] == "POST /v1/no/such/route")
    assert e["retcode"] == 404


def test_refusals_of_the_guard_are_recorded(client: Client) -> None:
    client.http.post("/v1/job/query", content=b"{}", headers={"Content-Type": "text/plain"})
    e = _wait(client, lambda e: e["retcode"] == 101, action="POST /v1/job/query")
    assert "Content-Type" in e["detail"] and e["actor"] == "anonymous"


def test_filters_and_limit(client: Client) -> None:
    for _ in range(3):
        client.ok("/permission/query", {"party_id": 1})
    _wait(client, lambda e: True, action="POST /v1/permission/query")
    assert len(_entries(client, action="POST /v1/permission/query", limit=2)) == 2
    assert _entries(client, actor="nobody") == []
    future = int(time.time() * 1000) + 60_000
    assert _entries(client, since=future) == []


def test_newest_first(client: Client) -> None:
    client.ok("/permission/query", {"party_id": 1})
    client.ok("/permission/query", {"party_id": 2})
    _wait(client, lambda e: True, action="POST /v1/audit/query")
    times = [e["time"] for e in _entries(client, limit=1000)]
    assert times == sorted(times, reverse=True)


def test_bad_query_bodies_are_101(client: Client) -> None:
    for body, field in (({"limit": 0}, "limit"), ({"limit": "5"}, "limit"), ({"jobid": "x"}, "jobid")):
        res = client.post("/audit/query", body)
        assert res["retcode"] == 101 and field in res["retmsg"], res


def test_large_answers_are_not_parsed(client: Client, platform: Platform) -> None:
    for _ in range(300):  # an audit answer well over 64 KiB
        platform.services.audit.record("k", "x" * 200, "", 0, "y" * 200)
    data = client.ok("/audit/query", {"limit": 300})
    assert len(data) == 300
    e = _wait(client, lambda e: e["action"] == "POST /v1/audit/query", actor="anonymous")
    assert e["retcode"] == 200 and e["detail"] == ""  # the HTTP status stood in for the retcode
