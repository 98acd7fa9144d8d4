"""One httpx client speaking FATE-Flow's /v1 envelope: JSON calls, multipart upload, tar downloads."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from fedloom.client._archive import extract_tar_gz
from fedloom.client.errors import ApiError, ServerUnreachable
from fedloom.errors import InvalidInput
from fedloom.signing import sign_headers

_SPOOL_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Envelope:
    """FATE's response envelope; `job_id` is the top-level `jobId`."""

    retcode: int
    retmsg: str
    data: Any = None
    job_id: str | None = None
    meta: Any = None

    def raise_for_retcode(self) -> Envelope:
        if self.retcode != 0:
            raise ApiError(self.retcode, self.retmsg, self.data)
        return self


def drop_none(**fields: Any) -> dict[str, Any]:
    """A request body with the unset (None) fields left out, as FATE's clients send it."""
    return {k: v for k, v in fields.items() if v is not None}


class Transport:
    """Sends requests to `<base_url>/v1/<path>` and turns every failure into an ApiError.

    With `app_key` and `secret_key`, every request is signed as fate-client 1.x signs it.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
        app_key: str | None = None,
        secret_key: str | None = None,
    ) -> None:
        if (app_key is None) != (secret_key is None):
            raise InvalidInput("app_key and secret_key go together")
        self.base_url = base_url.rstrip("/")
        self._keys = (app_key, secret_key) if app_key and secret_key else None
        self._http = httpx.Client(base_url=f"{self.base_url}/v1/", timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def call(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """POST a JSON body; return `data` or raise ApiError."""
        return self.post(path, body).raise_for_retcode().data

    def post(self, path: str, body: Mapping[str, Any] | None = None) -> Envelope:
        """POST a JSON body; return the envelope whatever its retcode."""
        request = self._request("POST", path, _json_bytes(body or {}))
        with self._errors(path):
            response = self._http.send(request)
        return parse_envelope(response)

    def post_multipart(self, path: str, query: str, name: str, file: IO[bytes]) -> Envelope:
        """POST one multipart part `file` with a raw (already encoded) query string."""
        files = {"file": (name, file, "application/octet-stream")}
        request = self._http.build_request("POST", f"{path}?{query}", files=files)
        self._sign(request, b"")  # FATE's scheme: a multipart body is not signed
        with self._errors(path):
            response = self._http.send(request)
        return parse_envelope(response)

    def download(self, method: str, path: str, body: Mapping[str, Any], dest: Path) -> Path:
        """Fetch a tar.gz (HTTP 200 only) and extract it into `dest`; errors come as non-200 JSON."""
        request = self._request(method, path, _json_bytes(body))
        with self._errors(path), tempfile.SpooledTemporaryFile(_SPOOL_BYTES) as spool:
            response = self._http.send(request, stream=True)
            try:
                if response.status_code != 200 or _is_json(response):
                    response.read()
                    raise _download_error(response)
                for chunk in response.iter_bytes():
                    spool.write(chunk)
            finally:
                response.close()
            spool.seek(0)
            extract_tar_gz(spool, dest)
        return dest

    def _request(self, method: str, path: str, content: bytes) -> httpx.Request:
        headers = {"Content-Type": "application/json"}
        request = self._http.build_request(method, path, content=content, headers=headers)
        self._sign(request, content)
        return request

    def _sign(self, request: httpx.Request, json_body: bytes) -> None:
        if self._keys is not None:
            app_key, secret_key = self._keys
            request.headers.update(sign_headers(app_key, secret_key, request.url.raw_path, json_body))

    @contextmanager
    def _errors(self, path: str) -> Iterator[None]:
        url = f"{self.base_url}/v1/{path}"
        try:
            yield
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ServerUnreachable(
                f"cannot reach the fedloom server at {self.base_url} ({_reason(exc)}); start one with "
                "`fedloom server start`, or point --server / FEDLOOM_SERVER at a running server"
            ) from exc
        except httpx.TimeoutException as exc:
            raise ApiError(100, f"no answer from {url} in time ({_reason(exc)})") from exc
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"connection to {url} failed: {_reason(exc)}") from exc


def _json_bytes(body: Mapping[str, Any]) -> bytes:
    return json.dumps(dict(body), allow_nan=False).encode()


def parse_envelope(response: httpx.Response) -> Envelope:
    """Read FATE's envelope from any HTTP status (clients never look at the status of JSON routes)."""
    try:
        body = response.json()
    except ValueError:
        raise ApiError(100, _not_json(response)) from None
    if not isinstance(body, dict) or not isinstance(body.get("retcode"), int):
        raise ApiError(100, _not_json(response))
    return Envelope(
        retcode=body["retcode"],
        retmsg=str(body.get("retmsg", "")),
        data=body.get("data"),
        job_id=body.get("jobId"),
        meta=body.get("meta"),
    )


def _download_error(response: httpx.Response) -> ApiError:
    if not _is_json(response) and response.status_code != 200:
        return ApiError(response.status_code, _not_json(response))
    envelope = parse_envelope(response)
    if envelope.retcode == 0:
        return ApiError(100, f"{response.url} answered JSON instead of an archive")
    return ApiError(envelope.retcode, envelope.retmsg, envelope.data)


def _is_json(response: httpx.Response) -> bool:
    content_type = str(response.headers.get("content-type", ""))
    return content_type.split(";")[0].strip() == "application/json"


def _not_json(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")[:200]
    return f"{response.url} answered HTTP {response.status_code} without a fedloom envelope: {text!r}"


def _reason(exc: httpx.HTTPError) -> str:
    return str(exc) or type(exc).__name__


__all__ = ["Envelope", "Transport", "drop_none", "parse_envelope"]
