"""FedloomClient: the Python SDK over fedloom's (FATE-Flow compatible) /v1 HTTP API."""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any

import httpx

from fedloom.client._data import DataApi, TableApi
from fedloom.client._jobs import JobApi, TaskApi
from fedloom.client._models import ComponentApi, ModelApi
from fedloom.client._tracking import TrackingApi
from fedloom.client._transport import Transport
from fedloom.errors import InvalidInput

DEFAULT_SERVER = "http://127.0.0.1:9380"
APP_KEY_ENV = "FEDLOOM_APP_KEY"
SECRET_KEY_ENV = "FEDLOOM_SECRET_KEY"


class FedloomClient:
    """One connection pool to one server; every call returns `data` or raises ApiError.

    Groups mirror the API: `job`, `task`, `data`, `table`, `tracking`, `model`, `component`.
    `transport` replaces the network (e.g. `httpx.MockTransport` in tests). With `app_key` and
    `secret_key` (default: env FEDLOOM_APP_KEY and FEDLOOM_SECRET_KEY) every request is signed.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_SERVER,
        *,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        app_key: str | None = None,
        secret_key: str | None = None,
    ) -> None:
        if app_key is None and secret_key is None:
            app_key, secret_key = os.environ.get(APP_KEY_ENV), os.environ.get(SECRET_KEY_ENV)
        if bool(app_key) != bool(secret_key):
            raise InvalidInput(f"app_key and secret_key go together ({APP_KEY_ENV}, {SECRET_KEY_ENV})")
        self._transport = Transport(
            base_url,
            timeout=timeout,
            transport=transport,
            app_key=app_key or None,
            secret_key=secret_key or None,
        )
        self.task = TaskApi(self._transport)
        self.job = JobApi(self._transport, self.task)
        self.data = DataApi(self._transport)
        self.table = TableApi(self._transport)
        self.tracking = TrackingApi(self._transport)
        self.model = ModelApi(self._transport)
        self.component = ComponentApi(self._transport)

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    def version(self) -> dict[str, Any]:
        """The server's versions (`{"FATEFlow": ..., "API": "v1", ...}`)."""
        return dict(self._transport.call("version/get", {}) or {})

    def dependency(self, job_id: str, role: str, party_id: int) -> dict[str, Any]:
        """`{component_list, dependencies, component_module, component_need_run}` of a job's DAG."""
        body = {"job_id": job_id, "role": role, "party_id": party_id}
        return dict(self._transport.call("pipeline/dag/dependency", body) or {})

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> FedloomClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


__all__ = ["APP_KEY_ENV", "DEFAULT_SERVER", "SECRET_KEY_ENV", "FedloomClient"]
