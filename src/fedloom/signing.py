"""fate-client 1.x app-key signing: one function that signs, shared by the server check and our clients.

The scheme (FATE-Flow 1.9+ "client authentication"): headers TIMESTAMP (ms), NONCE, APP_KEY and
SIGNATURE = base64(HMAC-SHA1(secret_key, "\\n".join([timestamp, nonce, app_key, path?query, json body,
sorted url-encoded form]))). Pure standard library, so the SDK can import it without the server's
dependencies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from urllib.parse import quote, urlencode

from fedloom.errors import AuthenticationFailed

HEADERS = ("TIMESTAMP", "NONCE", "APP_KEY", "SIGNATURE")
WINDOW_SECONDS = 60
MAX_NONCE_CHARS = 128


def signature(
    secret_key: str,
    *,
    timestamp: str,
    nonce: str,
    app_key: str,
    path_url: bytes,
    json_body: bytes = b"",
    form: Mapping[str, str] | None = None,
) -> str:
    """base64(HMAC-SHA1) over the six parts, exactly as fate-client 1.11 builds them."""
    form_part = urlencode(sorted(form.items()), quote_via=quote, safe="-._~").encode() if form else b""
    message = b"\n".join(
        [timestamp.encode(), nonce.encode(), app_key.encode(), path_url, json_body, form_part]
    )
    digest = hmac.new(secret_key.encode(), message, hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def sign_headers(
    app_key: str, secret_key: str, path_url: bytes, json_body: bytes = b"", *, now: float | None = None
) -> dict[str, str]:
    """The four headers for one request (`path_url` is the raw path plus `?query`, as sent)."""
    timestamp = str(round((time.time() if now is None else now) * 1000))
    nonce = str(uuid.uuid4())
    sig = signature(
        secret_key, timestamp=timestamp, nonce=nonce, app_key=app_key, path_url=path_url, json_body=json_body
    )
    return {"TIMESTAMP": timestamp, "NONCE": nonce, "APP_KEY": app_key, "SIGNATURE": sig}


class NonceCache:
    """Nonces seen within the replay window. Bounded: when full of live nonces, new requests are refused
    (rather than forgetting a nonce that could then be replayed)."""

    def __init__(self, capacity: int = 100_000, keep_seconds: float = 2 * WINDOW_SECONDS + 1) -> None:
        self.capacity = capacity
        self.keep_seconds = keep_seconds
        self._order: deque[tuple[float, str]] = deque()
        self._seen: set[str] = set()

    def __len__(self) -> int:
        return len(self._seen)

    def add(self, nonce: str, now: float) -> None:
        """Record `nonce`; raise AuthenticationFailed when it was seen in the window or the cache is full."""
        while self._order and self._order[0][0] <= now:
            self._seen.discard(self._order.popleft()[1])
        if nonce in self._seen:
            raise AuthenticationFailed("NONCE was already used: a replayed request is refused")
        if len(self._seen) >= self.capacity:
            raise AuthenticationFailed("too many signed requests in the last two minutes; retry shortly")
        self._seen.add(nonce)
        self._order.append((now + self.keep_seconds, nonce))


class Verifier:
    """The server side: checks the four headers of one request against the configured app keys
    (`apps`: app key -> secret key)."""

    def __init__(
        self,
        apps: Mapping[str, str],
        *,
        nonces: NonceCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._apps = {k.encode(): v for k, v in apps.items()}
        self._nonces = nonces or NonceCache()
        self._clock = clock

    def check(self, headers: Mapping[str, str], path_url: bytes, json_body: bytes) -> None:
        """Raise AuthenticationFailed naming the header and the reason; record the nonce when valid."""
        missing = [name for name in HEADERS if not headers.get(name)]
        if missing:
            raise AuthenticationFailed(
                f"authentication required: header {', '.join(missing)} missing; sign requests with the "
                "app key and secret key (fate-client: `flow init --app-key K --secret-key S`; fedloom: "
                "--app-key/--secret-key or FEDLOOM_APP_KEY/FEDLOOM_SECRET_KEY)"
            )
        timestamp, nonce = headers["TIMESTAMP"], headers["NONCE"]
        now = self._clock()
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 16):
            raise AuthenticationFailed("TIMESTAMP header: must be Unix time in milliseconds")
        if abs(now * 1000 - int(timestamp)) > WINDOW_SECONDS * 1000:
            raise AuthenticationFailed(
                f"TIMESTAMP header: more than {WINDOW_SECONDS} s away from the server's clock "
                "(a stale or replayed request, or a clock out of sync)"
            )
        if not (nonce.isascii() and nonce.isprintable() and len(nonce) <= MAX_NONCE_CHARS):
            raise AuthenticationFailed(f"NONCE header: at most {MAX_NONCE_CHARS} printable ASCII characters")
        given = headers["APP_KEY"].encode()
        # Every known key is compared (constant time each): the answer time says nothing about which matched.
        secret = None
        for key, value in self._apps.items():
            if hmac.compare_digest(given, key):
                secret = value
        if secret is None:
            raise AuthenticationFailed("APP_KEY header: unknown app key")
        if not self._signature_matches(headers, secret, path_url, json_body):
            raise AuthenticationFailed("SIGNATURE header: signature authentication failed")
        self._nonces.add(nonce, now)

    def _signature_matches(
        self, headers: Mapping[str, str], secret: str, path_url: bytes, json_body: bytes
    ) -> bool:
        given = headers["SIGNATURE"].encode()
        # fate-client's SDK signs an empty part when its json argument is `{}` but still sends "{}".
        bodies = [json_body, b""] if json_body.strip() == b"{}" else [json_body]
        found = False
        for body in bodies:
            expected = signature(
                secret,
                timestamp=headers["TIMESTAMP"],
                nonce=headers["NONCE"],
                app_key=headers["APP_KEY"],
                path_url=path_url,
                json_body=body,
            ).encode()
            found |= hmac.compare_digest(given, expected)
        return found


__all__ = ["HEADERS", "WINDOW_SECONDS", "NonceCache", "Verifier", "sign_headers", "signature"]
