"""SQLAlchemy models of the metadata store (jobs, tasks, tracking, model registry, resources)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class JobRow(Base):
    """One job as seen by one party (FATE's t_job)."""

    __tablename__ = "job"
    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    party_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    is_initiator: Mapped[bool] = mapped_column(Boolean, default=False)
    initiator_role: Mapped[str] = mapped_column(String(16))
    initiator_party_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    tag: Mapped[str] = mapped_column(String(32), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status_message: Mapped[str] = mapped_column(Text, default="")
    dsl: Mapped[dict[str, Any]] = mapped_column(JSON)
    runtime_conf: Mapped[dict[str, Any]] = mapped_column(JSON)
    runtime_conf_on_party: Mapped[dict[str, Any]] = mapped_column(JSON)
    train_runtime_conf: Mapped[dict[str, Any]] = mapped_column(JSON)
    roles: Mapped[dict[str, Any]] = mapped_column(JSON)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    cancel_signal: Mapped[bool] = mapped_column(Boolean, default=False)
    cores: Mapped[int] = mapped_column(Integer, default=0)
    resource_in_use: Mapped[bool] = mapped_column(Boolean, default=False)
    create_time: Mapped[int] = mapped_column(BigInteger)
    update_time: Mapped[int] = mapped_column(BigInteger)
    start_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    end_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    elapsed: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("ix_job_initiator_status", "is_initiator", "status"),)


class TaskRow(Base):
    """One component of one job at one party, one version (FATE's t_task)."""

    __tablename__ = "task"
    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    component_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    task_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    party_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[str] = mapped_column(String(256))
    component_module: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    party_status: Mapped[str] = mapped_column(String(16))
    need_run: Mapped[bool] = mapped_column(Boolean, default=True)
    auto_retries: Mapped[int] = mapped_column(Integer, default=0)
    run_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The server (replica) whose machine runs the task's process: only it can see or kill the pid.
    run_server: Mapped[str] = mapped_column(String(64), default="", server_default="")
    run_ip: Mapped[str] = mapped_column(String(64), default="127.0.0.1")
    worker_id: Mapped[str] = mapped_column(String(64), default="")
    kill_status: Mapped[bool] = mapped_column(Boolean, default=False)
    error_report: Mapped[str] = mapped_column(Text, default="")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    progress_message: Mapped[str] = mapped_column(Text, default="")
    busy_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    create_time: Mapped[int] = mapped_column(BigInteger)
    update_time: Mapped[int] = mapped_column(BigInteger)
    start_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    end_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    elapsed: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("ix_task_job_party", "job_id", "role", "party_id"),)


class MetricRow(Base):
    """A tracked metric point or meta (FATE's t_tracking_metric, type 0 = data, 1 = meta)."""

    __tablename__ = "metric"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(64))
    component_name: Mapped[str] = mapped_column(String(128))
    task_version: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    party_id: Mapped[int] = mapped_column(Integer)
    namespace: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128))
    type: Mapped[int] = mapped_column(Integer)
    key: Mapped[Any] = mapped_column(JSON)
    value: Mapped[Any] = mapped_column(JSON)
    create_time: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_metric_task", "job_id", "component_name", "role", "party_id"),)


class OutputDataRow(Base):
    """A table a task produced (FATE's output_data_info)."""

    __tablename__ = "output_data"
    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    component_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    task_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    party_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    data_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    table_namespace: Mapped[str] = mapped_column(String(256))
    table_name: Mapped[str] = mapped_column(String(256))
    create_time: Mapped[int] = mapped_column(BigInteger)


class OutputModelRow(Base):
    """A component model a task produced: FATE's Param (param) and Meta (meta) as JSON."""

    __tablename__ = "output_model"
    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    component_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    task_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    party_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    module: Mapped[str] = mapped_column(String(64))
    param: Mapped[dict[str, Any]] = mapped_column(JSON)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON)
    create_time: Mapped[int] = mapped_column(BigInteger)


class SummaryRow(Base):
    """A component's summary (FATE's t_component_summary)."""

    __tablename__ = "summary"
    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    component_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    task_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    party_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)


class ModelRow(Base):
    """A registered pipeline model of one party (FATE's t_machine_learning_model_info)."""

    __tablename__ = "model"
    model_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    party_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64))
    parent: Mapped[bool] = mapped_column(Boolean, default=True)
    parent_version: Mapped[str] = mapped_column(String(64), default="")
    initiator_role: Mapped[str] = mapped_column(String(16))
    initiator_party_id: Mapped[int] = mapped_column(Integer)
    roles: Mapped[dict[str, Any]] = mapped_column(JSON)
    train_dsl: Mapped[dict[str, Any]] = mapped_column(JSON)
    train_runtime_conf: Mapped[dict[str, Any]] = mapped_column(JSON)
    inference_dsl: Mapped[dict[str, Any]] = mapped_column(JSON)
    # component name -> {"job_id", "task_version"}: where the fitted component models live.
    components: Mapped[dict[str, Any]] = mapped_column(JSON)
    loaded_times: Mapped[int] = mapped_column(Integer, default=0)
    create_time: Mapped[int] = mapped_column(BigInteger)


class PartyResourceRow(Base):
    """Cores a hosted party may reserve, and how many are left."""

    __tablename__ = "party_resource"
    party_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    total_cores: Mapped[int] = mapped_column(Integer)
    remaining_cores: Mapped[int] = mapped_column(Integer)


class CommandRow(Base):
    """Answers of idempotent party-to-party commands: a repeated command id returns the first answer."""

    __tablename__ = "command"
    command_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    create_time: Mapped[int] = mapped_column(BigInteger)


class PermissionRow(Base):
    """A host's consent: party `party_id` may run `component` on table `namespace.name` ("*" = any)."""

    __tablename__ = "permission"
    party_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    component: Mapped[str] = mapped_column(String(64), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    create_time: Mapped[int] = mapped_column(BigInteger)


class AuditRow(Base):
    """One API call or party-to-party command: who, what, for which job, with which retcode."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[int] = mapped_column(BigInteger, index=True)
    actor: Mapped[str] = mapped_column(String(128), index=True)
    action: Mapped[str] = mapped_column(String(256))
    job_id: Mapped[str] = mapped_column(String(64), index=True)
    retcode: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(String(256))


class LeaseRow(Base):
    """A lease: `owner` (a server id) holds `name` until `expires_ms`, unless it renews it."""

    __tablename__ = "lease"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    expires_ms: Mapped[int] = mapped_column(BigInteger)
    acquired_ms: Mapped[int] = mapped_column(BigInteger)


__all__ = [
    "AuditRow",
    "Base",
    "CommandRow",
    "JobRow",
    "LeaseRow",
    "MetricRow",
    "ModelRow",
    "OutputDataRow",
    "OutputModelRow",
    "PartyResourceRow",
    "PermissionRow",
    "SummaryRow",
    "TaskRow",
]
