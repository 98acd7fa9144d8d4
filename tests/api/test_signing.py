"""The one signing function against fate-client 1.11's own computation, and the server-side checks."""

from __future__ import annotations

import base64
import hmac
from urllib.parse import quote, urlencode

import pytest

from fedloom.errors import AuthenticationFailed
from fedloom.signing import NonceCache, Verifier, sign_headers, signature

APP_KEY, SECRET = "app", "secret"
NOW = 1_700_000_000.0


def _fate_client(
    secret: str,
    ts: str,
    nonce: str,
    app_key: str,
    path_url: str,
    body: bytes | None,
    data: dict[str, str] | None,
) -> str:
    """flow_sdk/client/base.py of fate-client 1.11.3, transcribed."""
    return base64.b64encode(
        hmac.HMAC(
            secret.encode("ascii"),
            b"\n".join(
                [
                    ts.encode("ascii"),
                    nonce.encode("ascii"),
                    app_key.encode("ascii"),
                    path_url.encode("ascii"),
                    body if body is not None else b"",
                    urlencode(sorted(data.items()), quote_via=quote, safe="-._~").encode("ascii")
                    if data
                    else b"",
                ]
            ),
            "sha1",
        ).digest()
    ).decode("ascii")


@pytest.mark.parametrize(
    ("path_url", "body", "form"),
    [
        ("/v1/job/query", b'{"job_id": "1"}', None),
        ("/v1/data/upload?%7B%22file%22:%20%22/d/a.csv%22%7D", None, None),
        ("/v1/job/clean/queue", None, None),
        ("/v1/model/import", None, {"b": "x y/z", "a": "~1"}),
    ],
)
def test_signature_matches_fate_client(
    path_url: str, body: bytes | None, form: dict[str, str] | None
) -> None:
    ours = signature(
        SECRET,
        timestamp="1700000000000",
        nonce="n-1",
        app_key=APP_KEY,
        path_url=path_url.encode(),
        json_body=body or b"",
        form=form,
    )
    assert ours == _fate_client(SECRET, "1700000000000", "n-1", APP_KEY, path_url, body, form)


def _verifier(capacity: int = 100) -> Verifier:
    return Verifier({APP_KEY: SECRET}, nonces=NonceCache(capacity), clock=lambda: NOW)


def test_verifier_accepts_a_signed_request_once() -> None:
    v = _verifier()
    headers = sign_headers(APP_KEY, SECRET, b"/v1/job/query", b"{}", now=NOW)
    v.check(headers, b"/v1/job/query", b"{}")
    with pytest.raises(AuthenticationFailed, match="replayed"):
        v.check(headers, b"/v1/job/query", b"{}")


def test_empty_object_body_signed_as_empty_is_accepted() -> None:
    """fate-client's SDK signs an empty body part when its json argument is `{}` but sends `{}`."""
    headers = sign_headers(APP_KEY, SECRET, b"/v1/job/list/job", b"", now=NOW)
    _verifier().check(headers, b"/v1/job/list/job", b"{}")


@pytest.mark.parametrize("skew", [-61.0, 61.0, -3600.0])
def test_timestamp_outside_the_window_is_refused(skew: float) -> None:
    headers = sign_headers(APP_KEY, SECRET, b"/v1/x", now=NOW + skew)
    with pytest.raises(AuthenticationFailed, match="TIMESTAMP"):
        _verifier().check(headers, b"/v1/x", b"")


@pytest.mark.parametrize(
    ("change", "header"),
    [
        ({"TIMESTAMP": "abc"}, "TIMESTAMP"),
        ({"TIMESTAMP": "9" * 40}, "TIMESTAMP"),
        ({"NONCE": "x" * 500}, "NONCE"),
        ({"APP_KEY": "other"}, "APP_KEY"),
        ({"SIGNATURE": "AAAA"}, "SIGNATURE"),
        ({"NONCE": ""}, "missing"),
    ],
)
def test_bad_headers_are_named(change: dict[str, str], header: str) -> None:
    headers = {**sign_headers(APP_KEY, SECRET, b"/v1/x", now=NOW), **change}
    with pytest.raises(AuthenticationFailed, match=header):
        _verifier().check(headers, b"/v1/x", b"")


def test_signature_covers_path_query_and_body() -> None:
    v = _verifier()
    headers = sign_headers(APP_KEY, SECRET, b"/v1/x?a", b'{"a": 1}', now=NOW)
    for path, body in ((b"/v1/x?b", b'{"a": 1}'), (b"/v1/x", b'{"a": 1}'), (b"/v1/x?a", b'{"a": 2}')):
        with pytest.raises(AuthenticationFailed, match="SIGNATURE"):
            v.check(headers, path, body)


def test_nonce_cache_forgets_after_the_window_and_is_bounded() -> None:
    cache = NonceCache(capacity=2, keep_seconds=10)
    cache.add("a", 0.0)
    cache.add("b", 1.0)
    with pytest.raises(AuthenticationFailed, match="too many"):
        cache.add("c", 2.0)
    with pytest.raises(AuthenticationFailed, match="replayed"):
        cache.add("a", 5.0)
    cache.add("c", 10.5)  # "a" expired: room again
    assert len(cache) == 2
    cache.add("a", 11.5)
