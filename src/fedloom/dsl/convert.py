"""Legacy v1 documents (FATE ≤ 1.4) rewritten as v2: `args.<key>` inputs become Reader components."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from fedloom.dsl._util import as_dict, fail, optional_dict

ARGS = "args"
_V1_KEYS = ("job_parameters", "role_parameters", "algorithm_parameters")


def v1_reader_names(dsl: Any) -> dict[str, str]:
    """args data key -> Reader component name (`reader_<n>`), in order of first use in the DSL."""
    components = _components(dsl)
    readers: dict[str, str] = {}
    for spec in components.values():
        for refs in _data_inputs(spec).values():
            for ref in refs if isinstance(refs, list) else []:
                head, _, key = str(ref).partition(".")
                if head == ARGS and key not in readers:
                    readers[key] = _free_name(len(readers), components, readers)
    return readers


def convert_dsl_v1(dsl: Any) -> dict[str, Any]:
    """v2 DSL: one Reader per `args.<key>` (output data `[<key>]`), placed first; refs rewired to it."""
    readers = v1_reader_names(dsl)
    converted = {reader: {"module": "Reader", "output": {"data": [key]}} for key, reader in readers.items()}
    for name, spec in _components(dsl).items():
        new_spec = copy.deepcopy(spec)
        data = _data_inputs(new_spec)
        for key, refs in data.items():
            if isinstance(refs, list):
                data[key] = [_rewired(ref, readers) for ref in refs]
        converted[name] = new_spec
    return {**copy.deepcopy(dsl), "components": converted}


def convert_conf_v1(conf: Any, dsl: Any = None) -> dict[str, Any]:
    """v2 conf: algorithm_parameters -> common, role_parameters lists split per party position,
    flat job_parameters -> common. `dsl` (v1) names the Readers; without it they follow the conf."""
    conf = as_dict(conf, "conf")
    readers = v1_reader_names(dsl) if dsl is not None else {}
    v2 = {key: copy.deepcopy(value) for key, value in conf.items() if key not in _V1_KEYS}
    v2["dsl_version"] = 2
    v2["job_parameters"] = _job_parameters(optional_dict(conf, "job_parameters", "conf"))
    component_parameters: dict[str, Any] = {}
    common = optional_dict(conf, "algorithm_parameters", "conf")
    if common:
        component_parameters["common"] = copy.deepcopy(common)
    by_role = _role_blocks(optional_dict(conf, "role_parameters", "conf"), conf, readers)
    if by_role:
        component_parameters["role"] = by_role
    if component_parameters:
        v2["component_parameters"] = component_parameters
    return v2


def _job_parameters(flat: dict[str, Any]) -> dict[str, Any]:
    if flat and set(flat) <= {"common", "role"}:
        return copy.deepcopy(flat)  # already v2-shaped
    return {"common": copy.deepcopy(flat)}


def _role_blocks(
    role_parameters: dict[str, Any], conf: dict[str, Any], readers: dict[str, str]
) -> dict[str, Any]:
    role_table = optional_dict(conf, "role", "conf")
    blocks: dict[str, dict[str, dict[str, Any]]] = {}
    for role, by_component in role_parameters.items():
        parties = role_table.get(role)
        if not isinstance(parties, list) or not parties:
            fail(f"conf.role_parameters.{role}: role.{role} must list its parties")
        per_party: dict[str, dict[str, Any]] = {str(i): {} for i in range(len(parties))}
        for name, values in as_dict(by_component, f"conf.role_parameters.{role}").items():
            where = f"conf.role_parameters.{role}.{name}"
            if name == ARGS:
                _split_args(values, where, readers, per_party)
            else:
                for idx, block in per_party.items():
                    block[name] = _pick(values, int(idx), len(parties), where)
        blocks[role] = {idx: block for idx, block in per_party.items() if block}
    return {role: block for role, block in blocks.items() if block}


def _split_args(
    values: Any, where: str, readers: dict[str, str], per_party: dict[str, dict[str, Any]]
) -> None:
    data = optional_dict(as_dict(values, where), "data", where)
    for key, tables in data.items():
        reader = readers.setdefault(key, f"reader_{len(readers)}")
        for idx, block in per_party.items():
            block[reader] = {"table": _pick(tables, int(idx), len(per_party), f"{where}.data.{key}")}


def _pick(value: Any, idx: int, count: int, where: str) -> Any:
    """v1 role parameters hold one value per party; nested parameter objects are split key by key."""
    if isinstance(value, dict):
        return {key: _pick(inner, idx, count, f"{where}.{key}") for key, inner in value.items()}
    if not isinstance(value, list) or len(value) != count:
        fail(f"{where}: a v1 role parameter must be a list with one value per party ({count})")
    return copy.deepcopy(value[idx])


def _components(dsl: Any) -> dict[str, Any]:
    return as_dict(as_dict(dsl, "dsl").get("components"), "dsl.components")


def _data_inputs(spec: Any) -> dict[str, Any]:
    inputs = spec.get("input") if isinstance(spec, dict) else None
    data = inputs.get("data") if isinstance(inputs, dict) else None
    return data if isinstance(data, dict) else {}


def _rewired(ref: Any, readers: Mapping[str, str]) -> Any:
    head, _, key = str(ref).partition(".")
    return f"{readers[key]}.{key}" if head == ARGS and key in readers else ref


def _free_name(start: int, components: Mapping[str, Any], taken: Mapping[str, str]) -> str:
    n = start
    while f"reader_{n}" in components or f"reader_{n}" in taken.values():
        n += 1
    return f"reader_{n}"
