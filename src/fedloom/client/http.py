"""FedloomClient: the Python SDK over fedloom's (FATE-Flow compatible) /v1 HTTP API."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from fedloom.client._data import DataApi, TableApi
from fedloom.client._jobs import JobApi, TaskApi
from fedloom.client._models import ComponentApi, ModelApi
from fedloom.client._tracking import TrackingApi
from fedloom.client._transport import Transport

DEFAULT_SERVER = "http://127.0.0.1:9380"


class FedloomClient:
    """One connection pool to one server; every call returns `data` or raises ApiError.

    Groups mirror the API: `job`, `task`, `data`, `table`, `tracking`, `model`, `component`.
    `transport` replaces the network (e.g. `httpx.MockTransport` in tests).
    """

    def __init__(
        self,
        base_url: str = DEFAULT_SERVER,
        *,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._transport = Transport(base_url, timeout=timeout, transport=transport)
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


__all__ = ["DEFAULT_SERVER", "FedloomClient"]
