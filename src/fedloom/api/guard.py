"""The HTTP edge, a pure ASGI middleware: who may call (Host, Origin, signature), what may be sent
(Content-Type, body size counted while it streams), and a clean answer for any unexpected error.

Pure ASGI on purpose: BaseHTTPMiddleware buffers and breaks streaming, and Starlette's
ServerErrorMiddleware closes the connection after an error; this one answers inside, so keep-alive holds.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import uuid
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fedloom.api.audit import set_actor
from fedloom.config import Settings, is_loopback
from fedloom.errors import AuthenticationFailed, FedloomError, InvalidInput
from fedloom.signing import HEADERS, Verifier

log = logging.getLogger(__name__)

UPLOAD_PATHS = frozenset({"/v1/data/upload", "/v1/model/import"})
DOWNLOAD_PATHS = frozenset(
    {"/v1/tracking/component/output/data/download", "/v1/model/export", "/v1/job/log/download"}
)
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
JSON = "application/json"
MULTIPART = "multipart/form-data"


class _Answered(Exception):
    """Raised from `receive` when there is nobody left to answer (the client went away)."""


class _OverLimit(Exception):
    """Raised from `receive` the moment the body passes its limit. It unwinds the app first (so a
    route's clean-up, such as removing a staging file, is done before the client hears the answer);
    the guard then answers 101 and closes the connection."""


@dataclass
class _Request:
    """The headers the guard looks at, read once from the ASGI scope."""

    path: str
    path_url: bytes
    hosts: list[str] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    single: dict[str, str] = field(default_factory=dict)
    content_length: int | None = None
    chunked: bool = False

    @classmethod
    def of(cls, scope: Scope) -> _Request:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope.get("query_string", b"")
        req = cls(path=scope["path"], path_url=raw_path + b"?" + query if query else raw_path)
        for name_b, value_b in scope["headers"]:
            name, value = name_b.decode("latin-1").lower(), value_b.decode("latin-1")
            if name == "host":
                req.hosts.append(value)
            elif name == "content-type":
                req.content_types.append(value)
            elif name == "content-length" and value.strip().isdigit():
                req.content_length = int(value)
            elif name == "transfer-encoding":
                req.chunked = req.chunked or "chunked" in value.lower()
            else:
                req.single[name] = value
        return req

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.content_length)

    @property
    def media_type(self) -> str:
        return self.content_types[0].split(";")[0].strip().lower() if self.content_types else ""

    def auth_headers(self) -> dict[str, str]:
        return {name: self.single.get(name.lower(), "") for name in HEADERS}


class _Sender:
    """Wraps `send`: tracks whether the answer started; after the guard answered, drops the app's sends."""

    def __init__(self, send: Send, download: bool) -> None:
        self._send = send
        self._download = download
        self.started = False
        self.guard_answered = False

    async def __call__(self, message: Message) -> None:
        if self.guard_answered:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)

    async def answer(self, retcode: int, message: str, *, close: bool = False) -> None:
        status = 200
        if self._download:  # download clients take any 200 for the file
            status = {101: 400, 109: 401}.get(retcode, 500)
        body = json.dumps({"retcode": retcode, "retmsg": message}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if close:
            headers.append((b"connection", b"close"))
        self.started = self.guard_answered = True
        await self._send({"type": "http.response.start", "status": status, "headers": headers})
        await self._send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware applied to every HTTP request of the API."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._names = _host_names(settings)
        self._any_ip = _is_unspecified(settings.host)
        self._origins = {o.strip().rstrip("/").lower() for o in settings.allowed_origins}
        self._verifier: Verifier | None = None
        if settings.auth_enabled:
            check_exposure(settings)  # fail closed: authentication on but no key means no server
            self._verifier = Verifier(settings.client_apps)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # no websocket route exists; refuse rather than pass one unchecked
            await send({"type": "websocket.close", "code": 1008})
            return
        req = _Request.of(scope)
        sender = _Sender(send, req.path in DOWNLOAD_PATHS)
        try:
            try:
                receive = await self._admit(req, receive, scope)
            except FedloomError as exc:
                await sender.answer(exc.retcode, exc.message, close=_unread_body(req, exc))
                return
            await self.app(scope, receive, sender)
        except _Answered:
            return
        except _OverLimit as exc:
            if not sender.started:
                await sender.answer(101, str(exc), close=True)
            return
        except Exception:
            if sender.started:
                raise
            # The request boundary: operators get the trace, the client an opaque reference only.
            ref = uuid.uuid4().hex[:12]
            log.exception("internal error (reference %s) on %s", ref, req.path)
            await sender.answer(100, f"internal error (reference {ref}; the server log has the details)")

    async def _admit(self, req: _Request, receive: Receive, scope: Scope) -> Receive:
        """Check one request; return the `receive` the app must use (counted, or replaying a read body)."""
        self._check_host(req)
        self._check_origin(req)
        limit, setting = self._check_body(req)
        counted = _Counted(receive, limit, setting)
        if self._verifier is None or (req.path in DOCS_PATHS and self.settings.api_docs):
            return counted
        body = b""
        if req.has_body and req.media_type == JSON:
            body = await counted.read_all()
        headers = req.auth_headers()
        self._verifier.check(headers, req.path_url, body)
        set_actor(scope, headers["APP_KEY"])  # verified: the audit log names this key
        return counted.replay(body) if body else counted

    def _check_host(self, req: _Request) -> None:
        if len(req.hosts) != 1:
            raise AuthenticationFailed(f"Host header: expected exactly one, got {len(req.hosts)}")
        parsed = _split_host(req.hosts[0])
        if parsed is None:
            raise AuthenticationFailed(f"Host header: {req.hosts[0]!r} is not a valid host name")
        name, port = parsed
        if self._host_allowed(name, port, req.hosts[0].strip().lower()):
            return
        raise AuthenticationFailed(
            f"Host header: {req.hosts[0]!r} is not a name of this server (DNS rebinding protection); "
            "add it to the allowed_hosts setting if clients reach the server under that name"
        )

    def _host_allowed(self, name: str, port: int | None, raw: str) -> bool:
        if raw in self._names:  # an allowed_hosts entry with its port
            return True
        port_ok = port is None or self.settings.port in (0, port)
        if not port_ok:
            return False
        return name in self._names or (self._any_ip and _is_ip(name))

    def _check_origin(self, req: _Request) -> None:
        origin = req.single.get("origin")
        if origin is None:
            if req.single.get("sec-fetch-site", "").lower() in ("cross-site", "same-site"):
                raise AuthenticationFailed("Sec-Fetch-Site header: cross-site requests are refused")
            return
        normal = origin.strip().rstrip("/").lower()
        if normal in self._origins:
            return
        scheme, sep, netloc = normal.partition("://")
        if sep and scheme in ("http", "https") and netloc == req.hosts[0].strip().lower():
            return
        raise AuthenticationFailed(
            f"Origin header: {origin!r} is not this server's own origin (cross-site request refused); "
            "add it to the allowed_origins setting to allow that web page"
        )

    def _check_body(self, req: _Request) -> tuple[int, str]:
        """Content-Type rules and the declared length; returns the byte limit for this body."""
        s = self.settings
        is_upload = req.path in UPLOAD_PATHS
        if len(req.content_types) > 1:
            raise InvalidInput("Content-Type header: expected exactly one")
        media = req.media_type
        limit, setting = (
            (s.max_body_bytes, "max_body_bytes")
            if media == MULTIPART
            else (s.max_json_bytes, "max_json_bytes")
        )
        # A declared type must be allowed even without a body: an empty cross-site form still carries one.
        if req.has_body or req.content_types:
            allowed = (JSON, MULTIPART) if is_upload else (JSON,)
            if media not in allowed:
                shown = f"{req.content_types[0]!r}" if req.content_types else "missing"
                raise InvalidInput(
                    f"Content-Type header: {shown} is refused on {req.path}; send {' or '.join(allowed)}"
                )
        if req.content_length is not None and req.content_length > limit:
            raise _TooLarge(_too_large(limit, setting))
        return limit, setting


class _TooLarge(InvalidInput):
    """The declared Content-Length is over the limit."""


def _unread_body(req: _Request, exc: FedloomError) -> bool:
    """Close the connection rather than drain a refused body that may be large (uvicorn drains small ones)."""
    big = req.chunked or (req.content_length or 0) > 64 * 1024
    return req.has_body and (big or isinstance(exc, _TooLarge))


class _Counted:
    """`receive` that counts body bytes as they arrive and answers 101 the moment the limit is passed."""

    def __init__(self, receive: Receive, limit: int, setting: str) -> None:
        self._receive = receive
        self._limit = limit
        self._setting = setting
        self._replay: bytes | None = None
        self.count = 0

    async def __call__(self) -> Message:
        if self._replay is not None:
            body, self._replay = self._replay, None
            return {"type": "http.request", "body": body, "more_body": False}
        message = await self._receive()
        if message["type"] == "http.request":
            self.count += len(message.get("body", b""))
            if self.count > self._limit:
                raise _OverLimit(_too_large(self._limit, self._setting))
        return message

    async def read_all(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            message = await self()
            if message["type"] != "http.request":
                raise _Answered  # the client went away
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)

    def replay(self, body: bytes) -> _Counted:
        self._replay = body
        return self


def _too_large(limit: int, setting: str) -> str:
    return f"request body exceeds the limit of {limit} bytes (setting {setting})"


def _split_host(value: str) -> tuple[str, int | None] | None:
    """`name[:port]` or `[v6][:port]` -> (lower-case name, port); None when malformed."""
    v = value.strip().lower()
    if v.startswith("["):
        end = v.find("]")
        if end < 0:
            return None
        name, rest = v[1:end], v[end + 1 :]
    else:
        name, sep, port = v.partition(":")
        rest = sep + port
    if not name or any(c in name for c in "/\\@ \t"):
        return None
    if not rest:
        return name, None
    if rest.startswith(":") and rest[1:].isdigit() and len(rest) <= 6:
        return name, int(rest[1:])
    return None


def _host_names(settings: Settings) -> frozenset[str]:
    names = set(LOOPBACK_NAMES)
    names.add(settings.host.strip("[]").lower())
    for entry in settings.allowed_hosts:
        e = entry.strip().lower()
        parsed = _split_host(e)
        if parsed is not None and parsed[1] is not None:
            names.add(e)  # kept whole: that name on that port only
        else:
            names.add(e.strip("[]"))
    return frozenset(names)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _is_unspecified(host: str) -> bool:
    """Bound to every interface: any IP-literal Host is one of ours (a rebinding attack needs a name)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def exposure_problem(settings: Settings) -> str | None:
    """Why this server must not start as configured (no key where authentication is needed), or None."""
    command = "create a key pair with `fedloom server keygen` and set app_key and secret_key"
    loopback = is_loopback(settings.host)
    if not loopback and not settings.auth_enabled:
        return (
            f"host {settings.host} is reachable from the network, and auth_required is false (or "
            f"client_auth.enabled): refusing to serve the API unauthenticated; {command} "
            "(and remove auth_required: false)"
        )
    if settings.auth_enabled and not settings.client_apps:
        reason = (
            "client authentication is on"
            if loopback
            else f"host {settings.host} is reachable from the network"
        )
        return f"{reason} but no client key is configured; {command}"
    return None


def check_exposure(settings: Settings) -> None:
    problem = exposure_problem(settings)
    if problem is not None:
        raise InvalidInput(problem)


__all__ = ["DOWNLOAD_PATHS", "UPLOAD_PATHS", "Guard", "check_exposure", "exposure_problem"]
