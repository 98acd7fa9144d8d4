"""TaskSpec: everything a task process needs to run one component, as one JSON document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fedloom.ids import TaskKey


class TableBinding(BaseModel):
    model_config = ConfigDict(extra="forbid")
    namespace: str
    name: str


class ModelBinding(BaseModel):
    """Where a fitted component model lives: the task that produced it."""

    model_config = ConfigDict(extra="forbid")
    job_id: str
    component_name: str
    task_version: int | None = None
    role: str
    party_id: int


class TaskSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job_id: str
    component_name: str
    module: str
    task_version: int
    role: str
    party_id: int
    parties: dict[str, list[int]]
    params: dict[str, Any]
    need_run: bool = True
    data_inputs: dict[str, list[TableBinding]] = {}
    model_inputs: list[ModelBinding] = []
    isometric_inputs: list[ModelBinding] = []
    task_cores: int = 1
    # Runtime environment of the hosting server.
    database_url: str
    data_dir: str
    federation_timeout: float  # Settings.federation_timeout of the hosting server
    # The session's federation key (hex). Travels only over the zygote's pipe; kept out of repr and logs.
    federation_key: str = Field("", repr=False)
    # Cluster mode: the parties served by this task's server (messages to others go through it, over
    # its forwarding socket). Empty in standalone mode: every party's mailbox is local.
    local_parties: list[int] = []
    forward_socket: str = ""

    @property
    def task_id(self) -> str:
        return f"{self.job_id}_{self.component_name}"

    @property
    def key(self) -> TaskKey:
        return TaskKey(self.job_id, self.component_name, self.task_version, self.role, self.party_id)


__all__ = ["ModelBinding", "TableBinding", "TaskSpec"]
