"""TrackingStore: metrics, output data, output models and summaries of tasks; the model registry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from fedloom.ids import TaskKey
from fedloom.store.jobs import now_ms
from fedloom.store.models import MetricRow, ModelRow, OutputDataRow, OutputModelRow, SummaryRow


class TrackingStore:
    """What tasks record. Reads without a version take the newest version that recorded anything."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # ---- metrics ----------------------------------------------------------------------------
    def log_metric(
        self,
        ref: TaskKey,
        namespace: str,
        name: str,
        points: Sequence[tuple[Any, Any]],
        meta: dict[str, Any] | None,
    ) -> None:
        job_id, cpn, ver, role, pid = ref
        t = now_ms()
        rows = [
            MetricRow(
                job_id=job_id,
                component_name=cpn,
                task_version=ver,
                role=role,
                party_id=pid,
                namespace=namespace,
                name=name,
                type=0,
                key=k,
                value=v,
                create_time=t,
            )
            for k, v in points
        ]
        if meta is not None:
            rows.append(
                MetricRow(
                    job_id=job_id,
                    component_name=cpn,
                    task_version=ver,
                    role=role,
                    party_id=pid,
                    namespace=namespace,
                    name=name,
                    type=1,
                    key="meta",
                    value=meta,
                    create_time=t,
                )
            )
        with self._sessions.begin() as s:
            s.add_all(rows)

    def metrics(self, job_id: str, component: str, role: str, party_id: int) -> list[MetricRow]:
        with self._sessions() as s:
            q = (
                select(MetricRow)
                .where(
                    MetricRow.job_id == job_id,
                    MetricRow.component_name == component,
                    MetricRow.role == role,
                    MetricRow.party_id == party_id,
                )
                .order_by(MetricRow.id)
            )
            rows = list(s.scalars(q))
        if not rows:
            return rows
        newest = max(r.task_version for r in rows)
        return [r for r in rows if r.task_version == newest]

    def delete_metrics(self, job_id: str, component: str | None = None) -> None:
        conds = [MetricRow.job_id == job_id]
        if component:
            conds.append(MetricRow.component_name == component)
        with self._sessions.begin() as s:
            s.execute(delete(MetricRow).where(*conds))

    # ---- output data ------------------------------------------------------------------------
    def save_output_data(self, ref: TaskKey, data_name: str, namespace: str, name: str) -> None:
        job_id, cpn, ver, role, pid = ref
        with self._sessions.begin() as s:
            s.merge(
                OutputDataRow(
                    job_id=job_id,
                    component_name=cpn,
                    task_version=ver,
                    role=role,
                    party_id=pid,
                    data_name=data_name,
                    table_namespace=namespace,
                    table_name=name,
                    create_time=now_ms(),
                )
            )

    def output_data(
        self, job_id: str, component: str, role: str, party_id: int, version: int | None = None
    ) -> list[OutputDataRow]:
        with self._sessions() as s:
            q = (
                select(OutputDataRow)
                .where(
                    OutputDataRow.job_id == job_id,
                    OutputDataRow.component_name == component,
                    OutputDataRow.role == role,
                    OutputDataRow.party_id == party_id,
                )
                .order_by(OutputDataRow.create_time)
            )
            rows = list(s.scalars(q))
        return _newest(rows, version)

    # ---- output models ----------------------------------------------------------------------
    def save_model(
        self, ref: TaskKey, alias: str, module: str, param: dict[str, Any], meta: dict[str, Any]
    ) -> None:
        job_id, cpn, ver, role, pid = ref
        with self._sessions.begin() as s:
            s.merge(
                OutputModelRow(
                    job_id=job_id,
                    component_name=cpn,
                    task_version=ver,
                    role=role,
                    party_id=pid,
                    alias=alias,
                    module=module,
                    param=param,
                    meta=meta,
                    create_time=now_ms(),
                )
            )

    def models(
        self, job_id: str, component: str, role: str, party_id: int, version: int | None = None
    ) -> list[OutputModelRow]:
        with self._sessions() as s:
            q = select(OutputModelRow).where(
                OutputModelRow.job_id == job_id,
                OutputModelRow.component_name == component,
                OutputModelRow.role == role,
                OutputModelRow.party_id == party_id,
            )
            rows = list(s.scalars(q))
        return _newest(rows, version)

    # ---- summaries --------------------------------------------------------------------------
    def save_summary(self, ref: TaskKey, summary: dict[str, Any]) -> None:
        job_id, cpn, ver, role, pid = ref
        with self._sessions.begin() as s:
            s.merge(
                SummaryRow(
                    job_id=job_id,
                    component_name=cpn,
                    task_version=ver,
                    role=role,
                    party_id=pid,
                    summary=summary,
                )
            )

    def summary(self, job_id: str, component: str, role: str, party_id: int) -> dict[str, Any] | None:
        with self._sessions() as s:
            q = (
                select(SummaryRow)
                .where(
                    SummaryRow.job_id == job_id,
                    SummaryRow.component_name == component,
                    SummaryRow.role == role,
                    SummaryRow.party_id == party_id,
                )
                .order_by(SummaryRow.task_version.desc())
            )
            row = s.scalars(q).first()
            return None if row is None else dict(row.summary)

    # ---- model registry ---------------------------------------------------------------------
    def save_pipeline_model(self, row: ModelRow) -> None:
        with self._sessions.begin() as s:
            s.merge(row)

    def pipeline_models(self, **filters: Any) -> list[ModelRow]:
        conds = [getattr(ModelRow, k) == v for k, v in filters.items() if v is not None]
        with self._sessions() as s:
            return list(s.scalars(select(ModelRow).where(*conds).order_by(ModelRow.create_time.desc())))


def _newest(rows: list[Any], version: int | None) -> list[Any]:
    if not rows:
        return rows
    want = max(r.task_version for r in rows) if version is None else version
    return [r for r in rows if r.task_version == want]


__all__ = ["TrackingStore"]
