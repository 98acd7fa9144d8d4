"""Attacks on the permission and audit routes: bad input is a 101 naming the field and changes nothing;
with client authentication on, unsigned calls are refused (109) and audited; the audit log holds no
secret, header or request body."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fedloom.client import FedloomClient
from fedloom.client._access import permissions
from fedloom.server import EmbeddedServer
from fedloom.signing import sign_headers
from tests.security._checks import assert_refused
from tests.security.conftest import Api, Fingerprint, start_server

APP_KEY = "audit-app-key"
SECRET = "audit-secret-not-for-answers"
BODY_MARKER = "body-marker-7f3a"
TABLE = {"namespace": "experiment", "name": "breast_hetero_host"}


def _state(fingerprint: Fingerprint) -> dict[str, Any]:
    """What the server owns, less the audit log (which records the refused requests by design)."""
    taken = fingerprint.take()
    taken["rows"].pop("audit", None)
    return taken


BAD_GRANTS: list[tuple[dict[str, Any], str]] = [
    ({"party_id": "9999"}, "party_id"),
    ({"party_id": 9999.5}, "party_id"),
    ({"party_id": True}, "party_id"),
    ({"party_id": None}, "party_id"),
    ({"party_id": [9999]}, "party_id"),
    ({"party_id": -1}, "party_id"),
    ({"party_id": 2**31}, "party_id"),
    ({"party_id": "../9999"}, "party_id"),
    ({"component": "reader"}, "party_id"),
    ({"party_id": 9999, "components": "reader"}, "components"),
    ({"party_id": 9999, "component": 5}, "component"),
    ({"party_id": 9999, "component": ["reader", 5]}, "component"),
    ({"party_id": 9999, "component": {"reader": 1}}, "component"),
    ({"party_id": 9999, "component": "../../etc"}, "component"),
    ({"party_id": 9999, "component": "reader," * 65}, "component"),
    ({"party_id": 9999, "component": "r" * 10_000}, "component"),
    ({"party_id": 9999, "component": ","}, "component"),
    ({"party_id": 9999, "dataset": 5}, "dataset"),
    ({"party_id": 9999, "dataset": []}, "dataset"),
    ({"party_id": 9999, "dataset": [5]}, "dataset[0]"),
    ({"party_id": 9999, "dataset": "experiment"}, "dataset"),
    ({"party_id": 9999, "dataset": {"namespace": "experiment"}}, "dataset"),
    ({"party_id": 9999, "dataset": {**TABLE, "path": "/etc"}}, "dataset"),
    ({"party_id": 9999, "dataset": {"namespace": "../etc", "name": "x"}}, "dataset.namespace"),
    ({"party_id": 9999, "dataset": {"namespace": "..", "name": "x"}}, "dataset.namespace"),
    ({"party_id": 9999, "dataset": [TABLE, {"namespace": "a", "name": "../../x"}]}, "dataset[1].name"),
    ({"party_id": 9999, "dataset": {"namespace": "a/b", "name": "x"}}, "dataset.namespace"),
    ({"party_id": 9999, "dataset": {"namespace": "a\\b", "name": "x"}}, "dataset.namespace"),
    ({"party_id": 9999, "dataset": {"namespace": "a\x00", "name": "x"}}, "dataset.namespace"),
    ({"party_id": 9999, "dataset": {"namespace": 5, "name": "x"}}, "dataset.namespace"),
    ({"party_id": 9999, "dataset": {"namespace": "n" * 201, "name": "x"}}, "dataset.namespace"),
    ({"party_id": 9999, "dataset": [TABLE] * 101}, "dataset"),
]


@pytest.mark.parametrize("route", ["grant", "delete"])
@pytest.mark.parametrize(("body", "field"), BAD_GRANTS)
def test_bad_grant_bodies_are_refused_and_change_nothing(
    sec_api: Api, fingerprint: Fingerprint, route: str, body: dict[str, Any], field: str
) -> None:
    sec_api.ok("/permission/grant", {"party_id": 9999, "component": "reader", "dataset": TABLE})
    before = _state(fingerprint)
    res = sec_api.post(f"/permission/{route}", body)
    assert res["retcode"] == 101, res
    assert_refused(res, field)
    assert _state(fingerprint) == before
    assert sec_api.ok("/permission/query", {"party_id": 9999})["grants"] == [{"component": "reader", **TABLE}]


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "party_id"), ({"party_id": "1"}, "party_id"), ({"party_id": 1, "component": "*"}, "component")],
)
def test_bad_query_bodies_are_refused(sec_api: Api, body: dict[str, Any], field: str) -> None:
    res = sec_api.post("/permission/query", body)
    assert res["retcode"] == 101
    assert_refused(res, field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"limit": 10**6}, "limit"),
        ({"limit": True}, "limit"),
        ({"since": -1}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"job_id": "../../etc"}, "job_id"),
        ({"job_id": 5}, "job_id"),
        ({"actor": "a" * 1000}, "actor"),
        ({"action": ["POST"]}, "action"),
        ({"sql": "1; DROP TABLE audit"}, "sql"),
    ],
)
def test_bad_audit_queries_are_refused(
    sec_api: Api, fingerprint: Fingerprint, body: dict[str, Any], field: str
) -> None:
    before = _state(fingerprint)
    res = sec_api.post("/audit/query", body)
    assert res["retcode"] == 101
    assert_refused(res, field)
    assert _state(fingerprint) == before


def test_non_object_bodies_are_refused(sec_api: Api) -> None:
    for raw in (b"[1]", b'"x"', b"null", b"{" * 200 + b"}" * 200):
        r = sec_api.http.post("/permission/grant", content=raw, headers={"Content-Type": "application/json"})
        assert r.json()["retcode"] == 101, r.text


def test_a_deep_request_body_does_not_break_the_audit(sec_server: EmbeddedServer, sec_api: Api) -> None:
    deep = b'{"job_id": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    r = sec_api.http.post("/permission/grant", content=deep, headers={"Content-Type": "application/json"})
    assert r.json()["retcode"] == 101
    assert sec_api.ok("/version/get", {})  # the server still answers


# ---- with client authentication on -----------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    srv = start_server(tmp_path_factory.mktemp("keyed-audit"), app_key=APP_KEY, secret_key=SECRET)
    try:
        yield srv
    finally:
        srv.stop()


def _signed_client(srv: EmbeddedServer) -> FedloomClient:
    return FedloomClient(srv.url, app_key=APP_KEY, secret_key=SECRET)


def _audit(srv: EmbeddedServer, **body: Any) -> tuple[list[dict[str, Any]], str]:
    """The audit entries (signed query) and the raw answer text."""
    raw = json.dumps(body).encode()
    headers = sign_headers(APP_KEY, SECRET, b"/v1/audit/query", raw)
    with httpx.Client(base_url=srv.url) as http:
        r = http.post("/v1/audit/query", content=raw, headers={"Content-Type": "application/json", **headers})
    res = r.json()
    assert res["retcode"] == 0, res
    return res["data"], r.text


def _wait_for(srv: EmbeddedServer, action: str, **match: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        entries, _ = _audit(srv, action=action)
        hits = [e for e in entries if all(e[k] == v for k, v in match.items())]
        if hits:
            return hits[0]
        assert time.monotonic() < deadline, entries
        time.sleep(0.02)


@pytest.mark.parametrize("route", ["grant", "delete", "query"])
def test_unsigned_permission_calls_are_refused_and_audited(keyed: EmbeddedServer, route: str) -> None:
    fingerprint = Fingerprint(keyed)
    before = _state(fingerprint)
    with httpx.Client(base_url=keyed.url) as http:
        r = http.post(f"/v1/permission/{route}", json={"party_id": 4242, "component": "*"})
    assert r.json()["retcode"] == 109, r.text
    assert _state(fingerprint) == before
    e = _wait_for(keyed, f"POST /v1/permission/{route}", retcode=109)
    assert e["actor"] == "anonymous" and "authentication required" in e["detail"]


def test_a_wrongly_signed_call_is_audited_as_anonymous(keyed: EmbeddedServer) -> None:
    raw = json.dumps({"party_id": 4243}).encode()
    headers = sign_headers("not-our-key", "guess", b"/v1/permission/grant", raw)
    with httpx.Client(base_url=keyed.url) as http:
        r = http.post(
            "/v1/permission/grant", content=raw, headers={"Content-Type": "application/json", **headers}
        )
    assert r.json()["retcode"] == 109
    e = _wait_for(keyed, "POST /v1/permission/grant", retcode=109)
    assert e["actor"] == "anonymous"  # a key is named only once verified


def test_signed_calls_are_audited_under_the_app_key(keyed: EmbeddedServer) -> None:
    with _signed_client(keyed) as client:
        permissions(client).grant(4244, ["reader"], [("experiment", "t")])
    e = _wait_for(keyed, "POST /v1/permission/grant", retcode=0)
    assert e["actor"] == APP_KEY


def test_the_audit_answer_holds_no_secret_header_or_body(keyed: EmbeddedServer) -> None:
    raw = json.dumps({"party_id": 4245, "component": "reader", "note": BODY_MARKER}).encode()
    headers = sign_headers(APP_KEY, SECRET, b"/v1/permission/grant", raw)
    with httpx.Client(base_url=keyed.url) as http:
        http.post(
            "/v1/permission/grant", content=raw, headers={"Content-Type": "application/json", **headers}
        )
        http.post(
            "/v1/table/delete",
            json={"namespace": "experiment", "table_name": "nothing", "comment": BODY_MARKER},
            headers={"APP_KEY": APP_KEY, "SIGNATURE": "forged-signature-value", "NONCE": "nonce-value-1"},
        )
    _wait_for(keyed, "POST /v1/table/delete", retcode=109)
    _wait_for(keyed, "POST /v1/permission/grant", retcode=101)
    _, text = _audit(keyed, limit=1000)
    for leaked in (SECRET, BODY_MARKER, headers["SIGNATURE"], headers["NONCE"], "forged-signature-value"):
        assert leaked not in text, leaked


def test_audit_query_needs_a_signature_too(keyed: EmbeddedServer) -> None:
    with httpx.Client(base_url=keyed.url) as http:
        r = http.post("/v1/audit/query", json={})
    assert r.json()["retcode"] == 109
    assert "data" not in r.json()


def test_the_audit_log_survives_a_restart(tmp_path: Path) -> None:
    srv = start_server(tmp_path / "restart", worker_preload=False)
    try:
        Api(srv.url).ok("/permission/query", {"party_id": 1})
    finally:
        srv.stop()  # the queued entry is written at shutdown
    srv = start_server(tmp_path / "restart", worker_preload=False)
    try:
        entries = Api(srv.url).ok("/audit/query", {"action": "POST /v1/permission/query"})
        assert len(entries) == 1
    finally:
        srv.stop()
