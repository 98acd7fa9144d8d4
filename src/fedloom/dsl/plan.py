"""JobPlan: the validated, immutable result of parsing a DSL and a runtime conf."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from fedloom.dsl.conf import RoleTable
from fedloom.dsl.graph import ComponentNode
from fedloom.dsl.ids import model_id_for
from fedloom.dsl.job_parameters import JobParameters, JobType
from fedloom.dsl.params import ResolvedParams
from fedloom.errors import NotFound
from fedloom.ids import Party


class JobPlan:
    """Read-only view of one job. Built by `parse_job`; dicts handed out are copies."""

    __slots__ = (
        "_components",
        "_conf",
        "_dsl",
        "_job_parameters",
        "_job_type",
        "_providers",
        "_resolved",
        "_roles",
        "_warnings",
    )

    _job_type: JobType
    _dsl: dict[str, Any]
    _conf: dict[str, Any]
    _roles: RoleTable
    _components: Mapping[str, ComponentNode]
    _resolved: ResolvedParams
    _job_parameters: Mapping[Party, JobParameters]
    _providers: Mapping[tuple[str, Party], str | None]
    _warnings: tuple[str, ...]

    def __init__(
        self,
        *,
        job_type: JobType,
        dsl: dict[str, Any],
        conf: dict[str, Any],
        roles: RoleTable,
        components: Mapping[str, ComponentNode],
        resolved: ResolvedParams,
        job_parameters: Mapping[Party, JobParameters],
        providers: Mapping[tuple[str, Party], str | None],
        warnings: Iterable[str],
    ) -> None:
        setattr_ = object.__setattr__  # immutability: __setattr__ below refuses every later assignment
        setattr_(self, "_job_type", job_type)
        setattr_(self, "_dsl", copy.deepcopy(dsl))
        setattr_(self, "_conf", copy.deepcopy(conf))
        setattr_(self, "_roles", roles)
        setattr_(self, "_components", components)
        setattr_(self, "_resolved", resolved)
        setattr_(self, "_job_parameters", job_parameters)
        setattr_(self, "_providers", providers)
        setattr_(self, "_warnings", tuple(dict.fromkeys(warnings)))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"JobPlan is immutable (tried to set {name})")

    # --- documents and roles -------------------------------------------------------------------

    @property
    def job_type(self) -> JobType:
        return self._job_type

    @property
    def dsl(self) -> dict[str, Any]:
        """The DSL as parsed (v1 converted to v2); a fresh copy."""
        return copy.deepcopy(self._dsl)

    @property
    def conf(self) -> dict[str, Any]:
        """The v2 runtime conf with party ids as ints; a fresh copy."""
        return copy.deepcopy(self._conf)

    @property
    def initiator(self) -> Party:
        return self._roles.initiator

    @property
    def roles(self) -> dict[str, list[int]]:
        return self._roles.as_dict()

    @property
    def parties(self) -> list[Party]:
        """Every (role, party_id) of the job, in conf order."""
        return self._roles.parties()

    @property
    def warnings(self) -> tuple[str, ...]:
        return self._warnings

    @property
    def model_id(self) -> str:
        """The predict job's model, or FATE's generated id for a training job."""
        return self._job_parameters[self.initiator].model_id or model_id_for(self.roles)

    # --- graph ---------------------------------------------------------------------------------

    @property
    def components(self) -> Mapping[str, ComponentNode]:
        """Components in topological order."""
        return self._components

    def order(self) -> list[str]:
        return list(self._components)

    def levels(self) -> list[list[str]]:
        """DAG levels: a component sits one level below its deepest upstream."""
        depth: dict[str, int] = {}
        for name, node in self._components.items():
            depth[name] = max((depth[up] + 1 for up in node.upstream), default=0)
        levels: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
        for name in self._components:
            levels[depth[name]].append(name)
        return levels

    def dependencies(self, name: str) -> list[str]:
        """Direct upstream components, in topological order."""
        upstream = self.node(name).upstream
        return [cpn for cpn in self._components if cpn in upstream]

    def downstream(self, names: Iterable[str]) -> set[str]:
        """The named components and everything that depends on them (what a rerun must redo)."""
        found = {self.node(name).name for name in names}
        for name, node in self._components.items():  # topological order: upstream is decided first
            if node.upstream & found:
                found.add(name)
        return found

    def node(self, name: str) -> ComponentNode:
        try:
            return self._components[name]
        except KeyError:
            raise NotFound(f"component {name} is not in this job") from None

    # --- per party -----------------------------------------------------------------------------

    def parties_of(self, component: str) -> list[Party]:
        """Parties that get a task for the component (its module's roles ∩ the job's roles)."""
        self.node(component)
        return list(self._resolved.parties[component])

    def need_run(self, component: str, role: str, party_id: int) -> bool:
        """False for `need_run: false` (the task ends in `pass`) and for parties with no task."""
        return self._resolved.need_run.get((self.node(component).name, Party(role, party_id)), False)

    def params(self, component: str, role: str, party_id: int) -> dict[str, Any]:
        """Validated parameters of the component at that party; a fresh copy."""
        key = (self.node(component).name, Party(role, party_id))
        if key not in self._resolved.params:
            raise NotFound(f"component {component} has no task at {role} {party_id}")
        return copy.deepcopy(self._resolved.params[key])

    def provider(self, component: str, role: str, party_id: int) -> str | None:
        """`name` or `name@version` asked for by the conf or DSL; None means the default provider."""
        return self._providers.get((self.node(component).name, Party(role, party_id)))

    def job_parameters(self, role: str, party_id: int) -> JobParameters:
        try:
            return self._job_parameters[Party(role, party_id)]
        except KeyError:
            raise NotFound(f"party {role} {party_id} is not in this job") from None
