"""`client.tracking`: a component's metrics, parameters, model and output data (/v1/tracking/*)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fedloom.client._transport import Transport, drop_none
from fedloom.client.results import DataWithMeta


def component_body(
    job_id: str, component_name: str, role: str | None, party_id: int | None, **extra: Any
) -> dict[str, Any]:
    """The body of every tracking route; role/party left out = the initiator's (FATE's rule)."""
    return drop_none(job_id=job_id, component_name=component_name, role=role, party_id=party_id, **extra)


class TrackingApi:
    """What a component produced. `role`/`party_id` default to the job initiator's."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def metric_all(
        self, job_id: str, component_name: str, role: str | None = None, party_id: int | None = None
    ) -> dict[str, Any]:
        """`{namespace: {name: {"data": [[key, value], ...], "meta": {...}}}}`."""
        body = component_body(job_id, component_name, role, party_id)
        return dict(self._t.call("tracking/component/metric/all", body) or {})

    def metrics(
        self, job_id: str, component_name: str, role: str | None = None, party_id: int | None = None
    ) -> dict[str, Any]:
        """`{namespace: [metric names]}`."""
        body = component_body(job_id, component_name, role, party_id)
        return dict(self._t.call("tracking/component/metrics", body) or {})

    def metric_data(
        self,
        job_id: str,
        component_name: str,
        role: str | None = None,
        party_id: int | None = None,
        *,
        namespace: str,
        name: str,
    ) -> DataWithMeta:
        body = component_body(
            job_id, component_name, role, party_id, metric_namespace=namespace, metric_name=name
        )
        envelope = self._t.post("tracking/component/metric_data", body).raise_for_retcode()
        return DataWithMeta(envelope.data, envelope.meta)

    def parameters(
        self, job_id: str, component_name: str, role: str | None = None, party_id: int | None = None
    ) -> dict[str, Any]:
        """`{"module": ..., "<Module>Param": {...resolved parameters}}`."""
        body = component_body(job_id, component_name, role, party_id)
        return dict(self._t.call("tracking/component/parameters", body) or {})

    def output_model(
        self, job_id: str, component_name: str, role: str | None = None, party_id: int | None = None
    ) -> DataWithMeta:
        """`data` = the model's Param JSON, `meta` = `{meta_data, module_name, ...}`."""
        body = component_body(job_id, component_name, role, party_id)
        envelope = self._t.post("tracking/component/output/model", body).raise_for_retcode()
        return DataWithMeta(envelope.data, envelope.meta)

    def output_data(
        self, job_id: str, component_name: str, role: str | None = None, party_id: int | None = None
    ) -> DataWithMeta:
        """Preview: `data` = rows per output, `meta` = `{header, total, names}` per output."""
        body = component_body(job_id, component_name, role, party_id)
        envelope = self._t.post("tracking/component/output/data", body).raise_for_retcode()
        return DataWithMeta(envelope.data, envelope.meta)

    def output_data_download(
        self,
        job_id: str,
        component_name: str,
        role: str,
        party_id: int,
        out_dir: Path,
        limit: int = -1,
    ) -> Path:
        """All output rows as `<name>.csv` + `<name>.meta`, extracted into
        `<out_dir>/job_<job>_<cpn>_<role>_<pid>_output_data/` (FATE's layout), which is returned."""
        body = component_body(job_id, component_name, role, party_id, limit=limit)
        dest = Path(out_dir) / f"job_{job_id}_{component_name}_{role}_{party_id}_output_data"
        return self._t.download("GET", "tracking/component/output/data/download", body, dest)

    def output_data_table(
        self, job_id: str, component_name: str, role: str, party_id: int
    ) -> list[dict[str, Any]]:
        """`[{data_name, table_name, table_namespace}]`."""
        body = component_body(job_id, component_name, role, party_id)
        return list(self._t.call("tracking/component/output/data/table", body) or [])

    def summary(
        self, job_id: str, component_name: str, role: str | None = None, party_id: int | None = None
    ) -> dict[str, Any]:
        body = component_body(job_id, component_name, role, party_id)
        return dict(self._t.call("tracking/component/summary/download", body) or {})

    def component_list(self, job_id: str) -> list[str]:
        """The job's component names in DSL order."""
        data = self._t.call("tracking/component/list", {"job_id": job_id}) or {}
        return [str(name) for name in data.get("components", [])]


__all__ = ["TrackingApi", "component_body"]
