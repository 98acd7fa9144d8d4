"""Tracking use cases: metrics, parameters, output models and data, summaries, in FATE's shapes."""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass
from typing import BinaryIO

from fedloom.config import Settings
from fedloom.errors import NoData, NotFound
from fedloom.paths import staging_dir
from fedloom.services._json import JsonObject, JsonValue, bounded
from fedloom.services.plans import PlanCache
from fedloom.services.tables import OutputTable
from fedloom.storage.frame import Frame, json_safe
from fedloom.storage.staging import StagingFile, tar_gz
from fedloom.storage.tables import TableStore
from fedloom.store.jobs import JobStore
from fedloom.store.tracking import TrackingStore

_CSV_BATCH = 10_000


@dataclass
class MetricSeries:
    data: list[list[JsonValue]]  # [key, value] points, as the task logged them
    meta: JsonObject


@dataclass(frozen=True)
class ComponentParameters:
    module: str
    params: JsonObject


@dataclass(frozen=True)
class OutputModel:
    module: str
    param: JsonObject
    meta: JsonObject


@dataclass(frozen=True)
class OutputPreview:
    name: str
    header: list[str]
    rows: list[list[JsonValue]]
    total: int


class TrackingService:
    """What tasks recorded (metrics, models, outputs, summaries), read back for the API."""

    def __init__(
        self,
        settings: Settings,
        jobs: JobStore,
        tracking: TrackingStore,
        tables: TableStore,
        plans: PlanCache,
    ) -> None:
        self._settings = settings
        self._jobs = jobs
        self._tracking = tracking
        self._tables = tables
        self._plans = plans

    def metrics(
        self, job_id: str, component: str, role: str, party_id: int
    ) -> dict[str, dict[str, MetricSeries]]:
        """Every metric of the task: namespace -> name -> its points and meta (NaN made JSON-safe)."""
        out: dict[str, dict[str, MetricSeries]] = {}
        for row in self._tracking.metrics(job_id, component, role, party_id):
            series = out.setdefault(row.namespace, {}).setdefault(row.name, MetricSeries([], {}))
            if row.type == 1:
                series.meta.update(json_safe(row.value))
            else:
                series.data.append(json_safe([row.key, row.value]))
        for names in out.values():
            for name, series in names.items():
                series.meta.setdefault("name", name)
        return out

    def metric(
        self, job_id: str, component: str, role: str, party_id: int, namespace: str, name: str
    ) -> MetricSeries:
        found = self.metrics(job_id, component, role, party_id).get(namespace, {}).get(name)
        if found is None:
            raise NotFound(f"no metric {namespace}/{name} for {component} at {role} {party_id}")
        return found

    def parameters(self, job_id: str, component: str, role: str, party_id: int) -> ComponentParameters:
        job = self._jobs.job(job_id, role, party_id)
        if job is None:
            raise NotFound(f"job {job_id} has no {role} {party_id}")
        plan = self._plans.get(job)
        if component not in plan.components:
            raise NotFound(f"job {job_id} has no component {component}")
        return ComponentParameters(plan.components[component].module, plan.params(component, role, party_id))

    def output_model(self, job_id: str, component: str, role: str, party_id: int) -> OutputModel | None:
        rows = self._tracking.models(job_id, component, role, party_id)
        if not rows:
            return None
        row = rows[0]
        return OutputModel(row.module, json_safe(dict(row.param)), json_safe(dict(row.meta)))

    def _frames(self, job_id: str, component: str, role: str, party_id: int) -> list[tuple[str, Frame]]:
        rows = self._tracking.output_data(job_id, component, role, party_id)
        return [(r.data_name, self._tables.read(r.table_namespace, r.table_name)) for r in rows]

    def output_data(
        self, job_id: str, component: str, role: str, party_id: int, limit: int
    ) -> list[OutputPreview]:
        return [
            OutputPreview(name, f.header(), f.rows(bounded(limit)), f.count)
            for name, f in self._frames(job_id, component, role, party_id)
        ]

    def output_data_archive(
        self, job_id: str, component: str, role: str, party_id: int, limit: int
    ) -> StagingFile:
        """FATE's output-data tar.gz (`<name>.csv` + `<name>.meta` per output), written to an owner-only
        staging file that the caller serves and closes. Rows go out in batches, so memory holds the table
        and one batch of text, never the CSV or the archive."""
        frames = self._frames(job_id, component, role, party_id)
        if not frames:
            raise NoData(f"no output data for {component} at {role} {party_id} (job {job_id})")
        staging = staging_dir(self._settings.resolved_data_dir)
        with tar_gz(staging) as (archive, tar):
            for name, frame in frames:
                with StagingFile(staging) as csv:
                    write_fate_csv(csv.stream, frame, limit)
                    tar.add(csv.finish(), arcname=f"{name}.csv", recursive=False)
                _add(tar, f"{name}.meta", json.dumps({"header": frame.header()}).encode())
        return archive

    def output_tables(self, job_id: str, component: str, role: str, party_id: int) -> list[OutputTable]:
        rows = self._tracking.output_data(job_id, component, role, party_id)
        return [OutputTable(r.table_namespace, r.table_name, r.data_name) for r in rows]

    def summary(self, job_id: str, component: str, role: str, party_id: int) -> JsonObject:
        found: JsonObject = json_safe(self._tracking.summary(job_id, component, role, party_id) or {})
        return found


def write_fate_csv(out: BinaryIO, frame: Frame, limit: int = -1) -> None:
    """Output data as FATE wrote it and fate-client's `to_pandas` parses it: bare values, and a value
    holding a comma (predict_detail) wrapped in double quotes with single quotes inside."""
    out.write((",".join(frame.header()) + "\n").encode())
    end = frame.count if limit < 0 else min(limit, frame.count)
    for start in range(0, end, _CSV_BATCH):
        rows = frame.rows(min(_CSV_BATCH, end - start), start=start)
        out.write("".join(",".join(_fate_cell(v) for v in row) + "\n" for row in rows).encode())


def _fate_cell(value: JsonValue) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value)
    text = str(value)
    if "," in text or "\n" in text:
        return '"' + text.replace('"', "'").replace("\n", " ") + '"'
    return text


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


__all__ = [
    "ComponentParameters",
    "MetricSeries",
    "OutputModel",
    "OutputPreview",
    "TrackingService",
    "write_fate_csv",
]
