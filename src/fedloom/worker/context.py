"""TaskContext: the Context a component runs against inside a task process."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from typing import Any, Generic

from fedloom.components.api import Inputs, Metrics, ModelArtifact, Outputs, P, Party, RunMode
from fedloom.federation.channel import Channel
from fedloom.paths import output_namespace
from fedloom.storage.frame import Frame
from fedloom.storage.tables import TableStore
from fedloom.store import Stores
from fedloom.worker.spec import ModelBinding, TaskSpec


class TaskInputs:
    def __init__(self, spec: TaskSpec, tables: TableStore, stores: Stores) -> None:
        self._spec = spec
        self._tables = tables
        self._stores = stores
        self._cache: dict[str, list[Frame]] = {}
        self.models = [_load_model(stores, b) for b in spec.model_inputs]
        self.isometric_models = [_load_model(stores, b) for b in spec.isometric_inputs]

    def has(self, key: str) -> bool:
        return bool(self._spec.data_inputs.get(key))

    def data(self, key: str = "data") -> list[Frame]:
        if key not in self._cache:
            bindings = self._spec.data_inputs.get(key, [])
            self._cache[key] = [self._tables.read(b.namespace, b.name) for b in bindings]
        return self._cache[key]


def _load_model(stores: Stores, b: ModelBinding) -> ModelArtifact:
    rows = stores.tracking.models(b.job_id, b.component_name, b.role, b.party_id, b.task_version)
    if not rows:
        raise LookupError(f"no model of {b.component_name} (job {b.job_id}) at {b.role} {b.party_id}")
    row = rows[0]
    return ModelArtifact(module=row.module, param=dict(row.param), meta=dict(row.meta))


class TaskOutputs:
    """Outputs are persisted as they are set, so they are readable while the job still runs."""

    def __init__(self, spec: TaskSpec, tables: TableStore, stores: Stores) -> None:
        self._spec = spec
        self._tables = tables
        self._stores = stores

    def set_data(self, frame: Frame, alias: str = "data") -> None:
        s = self._spec
        ns = output_namespace(s.job_id, s.component_name, s.task_version)
        name = f"{s.role}_{s.party_id}_{alias}"
        self._tables.write(ns, name, frame, partitions=max(1, s.task_cores), overwrite=True)
        self._stores.tracking.save_output_data(s.key, alias, ns, name)

    def set_model(self, model: ModelArtifact) -> None:
        self._stores.tracking.save_model(self._spec.key, "model", model.module, model.param, model.meta)

    def set_summary(self, summary: dict[str, Any]) -> None:
        self._stores.tracking.save_summary(self._spec.key, summary)


class TaskMetrics:
    def __init__(self, spec: TaskSpec, stores: Stores) -> None:
        self._spec = spec
        self._stores = stores

    def log(
        self, namespace: str, name: str, data: Sequence[tuple[Any, Any]], meta: dict[str, Any] | None = None
    ) -> None:
        self._stores.tracking.log_metric(self._spec.key, namespace, name, list(data), meta)


class TaskContext(Generic[P]):
    """The Context of one running task (fedloom.components.api.Context[P])."""

    def __init__(
        self,
        spec: TaskSpec,
        params: P,
        mode: RunMode,
        stores: Stores,
        tables: TableStore,
        channel: Channel,
        log: logging.Logger,
    ) -> None:
        self.job_id = spec.job_id
        self.component_name = spec.component_name
        self.task_version = spec.task_version
        self.role = spec.role
        self.party_id = spec.party_id
        self.parties = spec.parties
        self.params = params
        self.mode = mode
        self.inputs: Inputs = TaskInputs(spec, tables, stores)
        self.outputs: Outputs = TaskOutputs(spec, tables, stores)
        self.metrics: Metrics = TaskMetrics(spec, stores)
        self.log = log
        self._spec = spec
        self._stores = stores
        self._channel = channel
        self._last_progress = (-1, 0.0)

    def send(self, name: str, obj: Any, to: Sequence[Party]) -> None:
        self._channel.send(name, obj, list(to))

    def recv(self, name: str, frm: Party) -> Any:
        return self._channel.recv(name, frm)

    def progress(self, fraction: float, message: str = "") -> None:
        pct = max(0, min(100, int(fraction * 100)))
        last_pct, last_t = self._last_progress
        now = time.monotonic()
        if pct == last_pct and now - last_t < 0.5:
            return  # throttle: progress is for people, not a per-row log
        self._last_progress = (pct, now)
        self._stores.jobs.update_task(self._spec.key, progress=pct, progress_message=message[:500])

    def cores(self) -> int:
        return max(1, min(self._spec.task_cores, os.cpu_count() or 1))


__all__ = ["TaskContext", "TaskInputs", "TaskMetrics", "TaskOutputs"]
