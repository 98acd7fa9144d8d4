"""The component API: what a component declares, and the Context it runs against."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from fedloom.storage.frame import Frame

Role = Literal["guest", "host", "arbiter", "local"]
Party = tuple[str, int]  # (role, party_id)
RunMode = Literal["fit", "predict", "transform"]


class Params(BaseModel):
    """Base of every component's parameters: unknown keys are refused with their name."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    need_run: bool = True


@dataclass
class ModelArtifact:
    """A component's model: FATE's `<Xxx>Param` (param) and `<Xxx>Meta` (meta), both JSON-able dicts."""

    module: str
    param: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)


class Inputs(Protocol):
    def data(self, key: str = "data") -> list[Frame]:
        """Frames bound to input data key `key` (data, train_data, validate_data, test_data...)."""

    def has(self, key: str) -> bool: ...

    # Models from `input.model` (and `pipeline.<cpn>.model` in predict jobs), and `isometric_model`.
    models: list[ModelArtifact]
    isometric_models: list[ModelArtifact]


class Outputs(Protocol):
    def set_data(self, frame: Frame, alias: str = "data") -> None: ...

    def set_model(self, model: ModelArtifact) -> None: ...

    def set_summary(self, summary: dict[str, Any]) -> None: ...


class Metrics(Protocol):
    def log(
        self,
        namespace: str,
        name: str,
        data: Sequence[tuple[Any, Any]],
        meta: dict[str, Any] | None = None,
    ) -> None:
        """Append `(key, value)` points to metric `namespace/name`; `meta` (with `metric_type`) is merged."""


class Context(Protocol):
    """Everything a running component may touch."""

    job_id: str
    component_name: str
    task_version: int
    role: str
    party_id: int
    parties: dict[str, list[int]]
    params: Any
    mode: RunMode
    inputs: Inputs
    outputs: Outputs
    metrics: Metrics
    log: logging.Logger

    def send(self, name: str, obj: Any, to: Sequence[Party]) -> None:
        """Send `obj` (typed codec values only) as message `name` to the tasks of `to`."""

    def recv(self, name: str, frm: Party) -> Any:
        """Receive message `name` from one peer; raises FederationTimeout naming the peer."""

    def progress(self, fraction: float, message: str = "") -> None: ...

    def cores(self) -> int:
        """Cores this task may use (its `task_cores`)."""


Runner = Callable[[Context], None]


@dataclass(frozen=True)
class ComponentSpec:
    """A registered component: module name, roles it runs on, parameter schema, runner."""

    module: str
    roles: frozenset[str]
    params: type[Params]
    run: Runner
    description: str = ""
    provider: str = "fedloom"
    # Output aliases this component produces (DSL `output`); used to check references.
    outputs_data: tuple[str, ...] = ("data",)
    outputs_model: tuple[str, ...] = ()


def mode_for(inputs: Inputs) -> RunMode:
    """FATE's rule: `train_data` means fit; `test_data` or a model input means predict."""
    if inputs.has("train_data"):
        return "fit"
    if inputs.has("test_data") or inputs.models:
        return "predict"
    return "transform"


def peers(ctx: Context, role: str) -> list[Party]:
    return [(role, pid) for pid in ctx.parties.get(role, [])]


__all__ = [
    "ComponentSpec",
    "Context",
    "Inputs",
    "Metrics",
    "ModelArtifact",
    "Outputs",
    "Params",
    "Party",
    "Role",
    "RunMode",
    "Runner",
    "mode_for",
    "peers",
]
