"""The component API: what a component declares, and the Context it runs against."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from fedloom.errors import InvalidInput
from fedloom.ids import Party
from fedloom.storage.frame import Frame

Role = Literal["guest", "host", "arbiter", "local"]
ROLES: tuple[Role, ...] = ("guest", "host", "arbiter", "local")
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


P = TypeVar("P", bound=Params)


class Context(Protocol[P]):
    """Everything a running component may touch; `params` is the component's own parameter model."""

    job_id: str
    component_name: str
    task_version: int
    role: str
    party_id: int
    parties: dict[str, list[int]]
    params: P
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


Runner = Callable[[Context[Any]], None]
Handler = Callable[[Context[P]], None]
HandlerKey = tuple[str, RunMode | None]  # (role, mode); mode None serves every mode without its own handler


class ComponentDefinitionError(TypeError):
    """A component is declared wrongly (a handler registered twice, no handler...): found at import."""


@dataclass(frozen=True)
class ComponentSpec:
    """A registered component: module name, roles it runs on, parameter schema, runner.

    Build it with `Component(...).spec()` from role handlers; a spec written by hand with one `run`
    function that dispatches on `ctx.role` itself is still accepted.
    """

    module: str
    roles: frozenset[str]
    params: type[Params]
    run: Runner
    description: str = ""
    provider: str = "fedloom"
    # Output aliases this component produces (DSL `output`); used to check references.
    outputs_data: tuple[str, ...] = ("data",)
    outputs_model: tuple[str, ...] = ()
    # True for a component whose input is the stored table named by its `table` parameter (Reader):
    # the party checks that table at submit and binds it as input "table" at start.
    reads_table: bool = False


class Component(Generic[P]):
    """A component declared by one handler per role (and optionally per mode), registered by decorator.

    ```
    count = Component("RowCount", CountParams)

    @count.host()
    def send_count(ctx: Context[CountParams]) -> None: ...

    SPEC = count.spec()
    ```

    The roles it runs on are the roles that have a handler. A handler registered with a mode
    (`@c.guest("predict")`) serves only that mode; one without serves every other mode.
    Registering a second handler for the same role and mode raises ComponentDefinitionError.
    """

    def __init__(
        self,
        module: str,
        params: type[P],
        *,
        description: str = "",
        provider: str = "fedloom",
        outputs_data: tuple[str, ...] = ("data",),
        outputs_model: tuple[str, ...] = (),
        reads_table: bool = False,
    ) -> None:
        self.module = module
        self.params = params
        self._info = (description, provider, outputs_data, outputs_model, reads_table)
        self._handlers: dict[HandlerKey, Handler[P]] = {}
        self._built = False

    def guest(self, mode: RunMode | None = None) -> Callable[[Handler[P]], Handler[P]]:
        return self.handler("guest", mode)

    def host(self, mode: RunMode | None = None) -> Callable[[Handler[P]], Handler[P]]:
        return self.handler("host", mode)

    def arbiter(self, mode: RunMode | None = None) -> Callable[[Handler[P]], Handler[P]]:
        return self.handler("arbiter", mode)

    def local(self, mode: RunMode | None = None) -> Callable[[Handler[P]], Handler[P]]:
        return self.handler("local", mode)

    def handler(self, role: Role, mode: RunMode | None = None) -> Callable[[Handler[P]], Handler[P]]:
        """Decorator: `fn` runs the tasks of this component at `role` (in `mode`, or in any mode)."""

        def register(fn: Handler[P]) -> Handler[P]:
            self._add((role, mode), fn)
            return fn

        return register

    def _add(self, key: HandlerKey, fn: Handler[P]) -> None:
        role, mode = key
        where = f"{self.module} {role}" + (f" ({mode})" if mode else "")
        if role not in ROLES:
            raise ComponentDefinitionError(f"{where}: unknown role {role!r}; roles are {', '.join(ROLES)}")
        if self._built:
            raise ComponentDefinitionError(
                f"{where}: handler {fn.__qualname__} registered after spec() was built"
            )
        old = self._handlers.get(key)
        if old is not None:
            raise ComponentDefinitionError(
                f"{where}: handler {fn.__qualname__} registered twice (already {old.__qualname__})"
            )
        self._handlers[key] = fn

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(role for role, _ in self._handlers)

    def handler_for(self, role: str, mode: RunMode) -> Handler[P]:
        """The handler of a task at `role` in `mode`: its own mode's, else the role's any-mode one."""
        fn = self._handlers.get((role, mode)) or self._handlers.get((role, None))
        if fn is None:
            if role not in self.roles:
                raise InvalidInput(
                    f"{self.module} does not run as {role}; it runs as {', '.join(sorted(self.roles))}"
                )
            modes = sorted(str(m) for r, m in self._handlers if r == role)
            raise InvalidInput(
                f"{self.module} has no {mode} handler at {role}; it runs there in {', '.join(modes)}"
            )
        return fn

    def run(self, ctx: Context[P]) -> None:
        self.handler_for(ctx.role, ctx.mode)(ctx)

    def spec(self) -> ComponentSpec:
        """The registry entry; the component takes no more handlers after this."""
        if not self._handlers:
            raise ComponentDefinitionError(f"{self.module}: no role handler registered")
        self._built = True
        description, provider, outputs_data, outputs_model, reads_table = self._info
        return ComponentSpec(
            module=self.module,
            roles=self.roles,
            params=self.params,
            run=self.run,
            description=description,
            provider=provider,
            outputs_data=outputs_data,
            outputs_model=outputs_model,
            reads_table=reads_table,
        )


def mode_for(inputs: Inputs) -> RunMode:
    """FATE's rule: `train_data` means fit; `test_data` or a model input means predict."""
    if inputs.has("train_data"):
        return "fit"
    if inputs.has("test_data") or inputs.models:
        return "predict"
    return "transform"


def peers(ctx: Context[Any], role: str) -> list[Party]:
    return [Party(role, pid) for pid in ctx.parties.get(role, [])]


__all__ = [
    "ROLES",
    "Component",
    "ComponentDefinitionError",
    "ComponentSpec",
    "Context",
    "Inputs",
    "Metrics",
    "ModelArtifact",
    "Outputs",
    "Handler",
    "Params",
    "Party",
    "Role",
    "RunMode",
    "Runner",
    "mode_for",
    "peers",
]
