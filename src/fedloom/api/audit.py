"""The audit middleware, pure ASGI: one audit entry per HTTP request, recorded after the answer is sent.

It sits outside the Guard so refused requests are recorded too. It reads at most the first
`PEEK_BYTES` of a JSON request body (for its `job_id`) and of a JSON answer (for `retcode`,
`retmsg`, `data.jobId`) while they stream past; larger or non-JSON bodies are not parsed and the
HTTP status stands in for the retcode. Bodies and headers themselves are never recorded.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fedloom.services.audit import AuditService

log = logging.getLogger(__name__)

PEEK_BYTES = 64 * 1024
ANONYMOUS = "anonymous"
_ACTOR = "fedloom_actor"  # key in scope["state"]: who made the request, once someone verified it


def set_actor(scope: Scope, actor: str) -> None:
    """Called by whoever authenticated the request (the Guard: the app key; a command layer: "party:<id>")."""
    scope.setdefault("state", {})[_ACTOR] = actor


class _Peek:
    """The start of a body passing through, kept only while it is JSON and under PEEK_BYTES."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.enabled = True

    def add(self, chunk: bytes) -> None:
        if not self.enabled:
            return
        self.size += len(chunk)
        if self.size > PEEK_BYTES:
            self.enabled, self.chunks = False, []
        else:
            self.chunks.append(chunk)

    def json(self) -> Any:
        if not self.enabled or not self.chunks:
            return None
        try:
            return json.loads(b"".join(self.chunks))
        except (ValueError, RecursionError):  # not JSON after all, or nested too deeply to look into
            return None


class AuditMiddleware:
    def __init__(self, app: ASGIApp, audit: AuditService) -> None:
        self.app = app
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request, answer = _Peek(), _Peek()
        request.enabled = _is_json(scope.get("headers", []))
        status = 500  # what the client sees if the app fails before answering

        async def peek_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request.add(message.get("body", b""))
            return message

        async def peek_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                answer.enabled = _is_json(message.get("headers", []))
            elif message["type"] == "http.response.body":
                answer.add(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, peek_receive, peek_send)
        finally:
            self._record(scope, status, request, answer)

    def _record(self, scope: Scope, status: int, request: _Peek, answer: _Peek) -> None:
        # The request boundary: the answer is already sent, and a failure to audit (a bad body, a full
        # queue, a bug here) must not turn into an error for the client or kill the connection.
        try:
            actor = scope.get("state", {}).get(_ACTOR) or ANONYMOUS
            action = f"{scope.get('method', '?')} {scope.get('path', '?')}"
            sent, got = request.json(), answer.json()
            retcode, detail = _outcome(got, status)
            self.audit.record(actor, action, _job_id(sent, got), retcode, detail)
        except Exception:
            log.exception("audit: could not record %s %s", scope.get("method"), scope.get("path"))


def _is_json(headers: Any) -> bool:
    for name, value in headers:
        if bytes(name).lower() == b"content-type":
            media: bytes = bytes(value).split(b";")[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


def _outcome(answer: Any, status: int) -> tuple[int, str]:
    if isinstance(answer, dict) and type(answer.get("retcode")) is int:
        retmsg = answer.get("retmsg")
        return answer["retcode"], retmsg if isinstance(retmsg, str) else ""
    return status, ""


def _job_id(request: Any, answer: Any) -> str:
    if isinstance(request, dict) and isinstance(request.get("job_id"), str):
        return str(request["job_id"])
    if isinstance(answer, dict):
        for found in (
            answer.get("jobId"),
            _get(answer.get("data"), "jobId"),
            _get(answer.get("data"), "job_id"),
        ):
            if isinstance(found, str):
                return found
    return ""


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


__all__ = ["ANONYMOUS", "PEEK_BYTES", "AuditMiddleware", "set_actor"]
