"""A small builder for FATE v2 DSL + runtime conf, with `fit()` and ready-made PSI / hetero-LR jobs."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fedloom.client._jobs import ProgressCallback
from fedloom.client.http import FedloomClient
from fedloom.client.results import DataWithMeta, SubmitResult
from fedloom.errors import InvalidInput

PartyKey = tuple[str, int | str]  # (role, party_id), or (role, "all") for every party of the role
Refs = str | Sequence[str]
Table = tuple[str, str]  # (namespace, name)

_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_DATA_KEYS = ("data", "train_data", "validate_data", "test_data", "eval_data")
_LIST_KEYS = {"model": "model", "isometric_model": "model", "cache": "cache"}  # key -> default alias
_DATA_ONLY = frozenset({"Reader", "Intersection", "Evaluation", "Union", "Upload", "Download"})
_SPLIT = frozenset({"HeteroDataSplit", "HomoDataSplit"})


def inputs(
    *,
    data: Refs | None = None,
    train_data: Refs | None = None,
    validate_data: Refs | None = None,
    test_data: Refs | None = None,
    model: Refs | None = None,
    isometric_model: Refs | None = None,
    cache: Refs | None = None,
) -> dict[str, Any]:
    """A DSL `input` block; a bare component name means its default output (`x` -> `x.data`)."""
    raw: dict[str, Any] = {"data": {}}
    for key, refs in (
        ("data", data),
        ("train_data", train_data),
        ("validate_data", validate_data),
        ("test_data", test_data),
    ):
        if refs is not None:
            raw["data"][key] = refs
    for key, refs in (("model", model), ("isometric_model", isometric_model), ("cache", cache)):
        if refs is not None:
            raw[key] = refs
    return normalize_inputs(raw)


def normalize_inputs(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Lists everywhere and explicit aliases; drops an empty `data` block."""
    result: dict[str, Any] = {}
    data = raw.get("data") or {}
    if not isinstance(data, Mapping):
        raise InvalidInput("inputs: 'data' must map data keys (data, train_data...) to references")
    if data:
        result["data"] = {key: _refs(refs, "data") for key, refs in data.items()}
    for key, alias in _LIST_KEYS.items():
        if raw.get(key):
            result[key] = _refs(raw[key], alias)
    unknown = sorted(set(raw).difference({"data", *_LIST_KEYS}))
    if unknown:
        raise InvalidInput(f"inputs: unknown key(s) {', '.join(unknown)}")
    return result


def default_outputs(module: str) -> dict[str, list[str]]:
    """FATE's usual outputs: data only for Reader/Intersection/Evaluation, data + model otherwise."""
    if module in _SPLIT:
        return {"data": ["train_data", "validate_data", "test_data"]}
    if module in _DATA_ONLY:
        return {"data": ["data"]}
    return {"data": ["data"], "model": ["model"]}


def _refs(refs: Refs, alias: str) -> list[str]:
    items = [refs] if isinstance(refs, str) else list(refs)
    return [ref if "." in ref else f"{ref}.{alias}" for ref in items]


@dataclass
class _Component:
    name: str
    module: str
    input: dict[str, Any]
    output: dict[str, list[str]]
    provider: str | None = None

    def upstream(self) -> list[str]:
        refs = [r for refs in self.input.get("data", {}).values() for r in refs]
        refs += [r for key in _LIST_KEYS for r in self.input.get(key, [])]
        return [r.split(".")[0] for r in refs if not r.startswith("pipeline.")]

    def to_dsl(self) -> dict[str, Any]:
        body: dict[str, Any] = {"module": self.module}
        if self.input:
            body["input"] = copy.deepcopy(self.input)
        body["output"] = copy.deepcopy(self.output)
        if self.provider:
            body["provider"] = self.provider
        return body


@dataclass
class JobResult:
    """A finished job, read from the initiator's point of view."""

    client: FedloomClient
    job_id: str
    model_id: str
    model_version: str
    status: str
    role: str
    party_id: int

    def metrics(self, component: str) -> dict[str, Any]:
        return self.client.tracking.metric_all(self.job_id, component, self.role, self.party_id)

    def output_data(self, component: str) -> DataWithMeta:
        return self.client.tracking.output_data(self.job_id, component, self.role, self.party_id)

    def summary(self, component: str) -> dict[str, Any]:
        return self.client.tracking.summary(self.job_id, component, self.role, self.party_id)

    def parameters(self, component: str) -> dict[str, Any]:
        return self.client.tracking.parameters(self.job_id, component, self.role, self.party_id)

    def output_model(self, component: str) -> DataWithMeta:
        return self.client.tracking.output_model(self.job_id, component, self.role, self.party_id)


class Pipeline:
    """Components in DAG order plus who runs them; `dsl()` and `conf()` give FATE's v2 documents."""

    def __init__(self, initiator: tuple[str, int] = ("guest", 9999)) -> None:
        self.initiator = (initiator[0], int(initiator[1]))
        self._roles: dict[str, list[int]] = {}
        self._components: dict[str, _Component] = {}
        self._common: dict[str, dict[str, Any]] = {}
        self._party: dict[PartyKey, dict[str, dict[str, Any]]] = {}
        self._job_common: dict[str, Any] = {"job_type": "train"}

    def roles(self, **parties: int | Sequence[int]) -> Pipeline:
        """`roles(guest=[9999], host=[10000, 10001], arbiter=[10000])`; positions give conf indexes."""
        for role, ids in parties.items():
            self._roles[role] = [int(ids)] if isinstance(ids, int) else [int(i) for i in ids]
        return self

    def add(
        self,
        name: str,
        module: str,
        inputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, Sequence[str]] | None = None,
        params: Mapping[str, Any] | None = None,
        party_params: Mapping[PartyKey, Mapping[str, Any]] | None = None,
        provider: str | None = None,
    ) -> Pipeline:
        """Add a component after the ones it reads from. `params` go to every party."""
        if not _NAME.match(name):
            raise InvalidInput(f"component name {name!r}: use only letters, digits, '_' and '-'")
        if name in self._components:
            raise InvalidInput(f"component {name} is already in the pipeline")
        out = {k: list(v) for k, v in outputs.items()} if outputs is not None else default_outputs(module)
        component = _Component(name, module, normalize_inputs(inputs or {}), out, provider)
        missing = [up for up in component.upstream() if up not in self._components]
        if missing:
            raise InvalidInput(f"component {name} reads from {', '.join(missing)}, which is not added yet")
        self._components[name] = component
        if params:
            self._common[name] = copy.deepcopy(dict(params))
        for party, values in (party_params or {}).items():
            self._party.setdefault(party, {})[name] = copy.deepcopy(dict(values))
        return self

    def job_parameters(self, **common: Any) -> Pipeline:
        """Merge into `job_parameters.common` (task_cores, timeout, job_type...)."""
        self._job_common.update(common)
        return self

    @property
    def components(self) -> list[str]:
        return list(self._components)

    def dsl(self) -> dict[str, Any]:
        return {"components": {name: c.to_dsl() for name, c in self._components.items()}}

    def conf(self) -> dict[str, Any]:
        role, party_id = self.initiator
        if party_id not in self._roles.get(role, []):
            raise InvalidInput(f"initiator {role} {party_id} is not in roles {self._roles}")
        component_parameters: dict[str, Any] = {}
        if self._common:
            component_parameters["common"] = copy.deepcopy(self._common)
        by_role = self._role_parameters()
        if by_role:
            component_parameters["role"] = by_role
        return {
            "dsl_version": 2,
            "initiator": {"role": role, "party_id": party_id},
            "role": {r: list(ids) for r, ids in self._roles.items()},
            "job_parameters": {"common": dict(self._job_common)},
            "component_parameters": component_parameters,
        }

    def submit(self, client: FedloomClient) -> SubmitResult:
        return client.job.submit(self.dsl(), self.conf())

    def fit(
        self,
        client: FedloomClient,
        *,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> JobResult:
        """Submit, wait, and raise JobFailed (with the failing component's error) unless it succeeded."""
        submitted = self.submit(client)
        client.job.wait_success(submitted.job_id, timeout=timeout, on_progress=on_progress)
        role, party_id = self.initiator
        return JobResult(
            client, submitted.job_id, submitted.model_id, submitted.model_version, "success", role, party_id
        )

    def _role_parameters(self) -> dict[str, dict[str, dict[str, Any]]]:
        result: dict[str, dict[str, dict[str, Any]]] = {}
        for (role, party), by_component in self._party.items():
            index = self._index(role, party)
            slot = result.setdefault(role, {}).setdefault(index, {})
            for name, values in by_component.items():
                slot.setdefault(name, {}).update(copy.deepcopy(values))
        return result

    def _index(self, role: str, party: int | str) -> str:
        if party == "all":
            return "all"
        ids = self._roles.get(role, [])
        if int(party) not in ids:
            raise InvalidInput(f"party_params for ({role}, {party}): {role} {party} is not in roles")
        return str(ids.index(int(party)))


def psi_pipeline(
    guest: int,
    host: int,
    guest_table: Table,
    host_table: Table,
    *,
    intersection_params: Mapping[str, Any] | None = None,
) -> Pipeline:
    """reader_0 -> data_transform_0 -> intersection_0 between a labelled guest and a host."""
    pipeline = Pipeline(initiator=("guest", guest)).roles(guest=[guest], host=[host])
    return _hetero_front(pipeline, guest, host, guest_table, host_table, intersection_params)


def hetero_lr_pipeline(
    guest: int,
    host: int,
    arbiter: int,
    guest_table: Table,
    host_table: Table,
    *,
    intersection_params: Mapping[str, Any] | None = None,
    **lr_params: Any,
) -> Pipeline:
    """FATE's §3.3 hetero LR job: PSI, then hetero_lr_0 (keyword args override its defaults), then
    evaluation_0 (binary; not run at the host, which has no labels)."""
    pipeline = Pipeline(initiator=("guest", guest)).roles(guest=[guest], host=[host], arbiter=[arbiter])
    _hetero_front(pipeline, guest, host, guest_table, host_table, intersection_params)
    params = {**copy.deepcopy(HETERO_LR_DEFAULTS), **lr_params}
    pipeline.add("hetero_lr_0", "HeteroLR", inputs(train_data="intersection_0"), params=params)
    return pipeline.add(
        "evaluation_0",
        "Evaluation",
        inputs(data="hetero_lr_0"),
        params={"eval_type": "binary"},
        party_params={("host", host): {"need_run": False}},
    )


HETERO_LR_DEFAULTS: dict[str, Any] = {
    "penalty": "L2",
    "tol": 0.0001,
    "alpha": 0.01,
    "optimizer": "rmsprop",
    "batch_size": 320,
    "learning_rate": 0.15,
    "max_iter": 30,
    "early_stop": "diff",
    "init_param": {"init_method": "zeros"},
    "encrypt_param": {"method": "Paillier", "key_length": 1024},
}


def _hetero_front(
    pipeline: Pipeline,
    guest: int,
    host: int,
    guest_table: Table,
    host_table: Table,
    intersection_params: Mapping[str, Any] | None,
) -> Pipeline:
    pipeline.add(
        "reader_0",
        "Reader",
        party_params={
            ("guest", guest): {"table": {"name": guest_table[1], "namespace": guest_table[0]}},
            ("host", host): {"table": {"name": host_table[1], "namespace": host_table[0]}},
        },
    )
    pipeline.add(
        "data_transform_0",
        "DataTransform",
        inputs(data="reader_0"),
        params={"output_format": "dense"},
        party_params={
            ("guest", guest): {"with_label": True, "label_name": "y", "label_type": "int"},
            ("host", host): {"with_label": False},
        },
    )
    return pipeline.add(
        "intersection_0", "Intersection", inputs(data="data_transform_0"), params=intersection_params
    )


__all__ = [
    "HETERO_LR_DEFAULTS",
    "JobResult",
    "PartyKey",
    "Pipeline",
    "Table",
    "default_outputs",
    "hetero_lr_pipeline",
    "inputs",
    "normalize_inputs",
    "psi_pipeline",
]
