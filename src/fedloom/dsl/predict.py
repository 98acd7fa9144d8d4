"""Predict jobs: the inference DSL derived from a training DSL (§2.4) and the predict conf (§3.6)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from fedloom.dsl._util import as_dict, deep_merge, fail, optional_dict, to_party_id
from fedloom.dsl.conf import ALL, parse_index_key
from fedloom.dsl.convert import convert_conf_v1
from fedloom.dsl.graph import PIPELINE, ComponentNode, parse_graph

# Training data keys and what they become in the inference DSL; the first one present wins.
_DATA_MAPPING = (
    ("data", "data"),
    ("train_data", "test_data"),
    ("validate_data", "test_data"),
    ("test_data", "test_data"),
)
# A component left out of the deployment passes this input through to its consumers.
_PASSTHROUGH_KEYS = ("train_data", "eval_data", "test_data", "data")
_PREDICT_ROLES = ("guest", "host")

Passthrough = dict[str, dict[str, list[str]]]  # left-out component -> its data alias -> refs it stands for


def generate_predict_dsl(train_dsl: Any, cpn_list: Sequence[str] | None = None) -> dict[str, Any]:
    """Only the listed components (default: all); models become `pipeline.<cpn>.<alias>` inputs."""
    graph = parse_graph(train_dsl, predict=False)
    deploy = _deploy_set(graph.nodes, cpn_list)
    specs: dict[str, Any] = train_dsl["components"]
    passthrough: Passthrough = {}
    components: dict[str, Any] = {}
    for name, node in graph.nodes.items():  # topological: a passthrough is known before it is used
        if name in deploy:
            components[name] = _predict_component(node, specs[name], deploy, passthrough)
        else:
            passthrough[name] = _passthrough(node, deploy, passthrough)
    return {"components": components}


def _deploy_set(nodes: Mapping[str, ComponentNode], cpn_list: Sequence[str] | None) -> frozenset[str]:
    if cpn_list is None:
        return frozenset(nodes)
    if isinstance(cpn_list, str) or not cpn_list:
        fail("cpn_list: must be a non-empty list of component names")
    for name in cpn_list:
        if name not in nodes:
            fail(f'cpn_list: "{name}" is not a component of the training DSL')
    return frozenset(cpn_list)


def _predict_component(
    node: ComponentNode, spec: dict[str, Any], deploy: frozenset[str], passthrough: Passthrough
) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    if node.model_outputs:
        inputs["model"] = [f"{PIPELINE}.{node.name}.{alias}" for alias in node.model_outputs]
    data = _predict_data(node, deploy, passthrough)
    if data:
        inputs["data"] = data
    cache = [str(ref) for ref in node.cache_inputs if ref.component in deploy]
    if cache:
        inputs["cache"] = cache
    result: dict[str, Any] = {"module": node.module}
    if inputs or "input" in spec:  # FATE keeps an (empty) input where training had one
        result["input"] = inputs
    outputs = {
        key: list(value)
        for key, value in (spec.get("output") or {}).items()
        if key != "model" and value is not None
    }
    if outputs:
        result["output"] = outputs
    if "provider" in spec:
        result["provider"] = spec["provider"]
    return result


def _predict_data(
    node: ComponentNode, deploy: frozenset[str], passthrough: Passthrough
) -> dict[str, list[str]]:
    for train_key, predict_key in _DATA_MAPPING:
        refs = node.data_inputs.get(train_key)
        if refs is None:
            continue
        mapped: list[str] = []
        for ref in refs:
            if ref.component in deploy:
                mapped.append(str(ref))
            else:
                mapped += passthrough[ref.component].get(ref.alias, [])
        return {predict_key: mapped} if mapped else {}
    return {}


def _passthrough(
    node: ComponentNode, deploy: frozenset[str], passthrough: Passthrough
) -> dict[str, list[str]]:
    """Each data output of a left-out component stands for its first data input (recursively)."""
    source = next((node.data_inputs[key][0] for key in _PASSTHROUGH_KEYS if node.data_inputs.get(key)), None)
    if source is None:
        return {}
    if source.component in deploy:
        target = [str(source)]
    else:
        target = passthrough[source.component].get(source.alias, [])
    return {alias: list(target) for alias in node.data_outputs}


def merge_predict_conf(train_conf: Any, predict_conf: Any) -> dict[str, Any]:
    """The predict conf deep-merged over the training conf, role blocks re-indexed to predict positions."""
    merged = _as_v2(train_conf, "train conf")
    predict = copy.deepcopy(as_dict(predict_conf, "conf"))
    train_roles = _role_ids(merged, "train conf")
    predict_roles = _role_ids(predict, "conf")
    _check_subset(train_roles, predict_roles)
    for role, train_ids in train_roles.items():
        for section in ("job_parameters", "component_parameters"):
            _rekey_role(merged, section, role, train_ids, predict_roles.get(role))
    merged["role"] = {role: ids for role, ids in train_roles.items() if role in predict_roles}
    predict["role"] = predict_roles
    merged = deep_merge(merged, predict)
    merged["dsl_version"] = 2
    return merged


def _check_subset(train_roles: dict[str, list[int]], predict_roles: dict[str, list[int]]) -> None:
    for role, ids in predict_roles.items():
        if role not in train_roles:
            trained = ", ".join(train_roles)
            fail(f'conf.role.{role}: "{role}" took no part in training (training roles: {trained})')
        for pid in ids:
            if pid not in train_roles[role]:
                listed = train_roles[role]
                fail(f"conf.role.{role}: party {pid} was not a {role} in training ({role}: {listed})")


def _rekey_role(
    conf: dict[str, Any], section: str, role: str, train_ids: list[int], predict_ids: list[int] | None
) -> None:
    by_role = optional_dict(optional_dict(conf, section, "train conf"), "role", f"train conf.{section}")
    if role not in by_role:
        return
    if predict_ids is None:
        del by_role[role]
    elif predict_ids != train_ids:
        where = f"train conf.{section}.role.{role}"
        by_role[role] = _reindexed(as_dict(by_role[role], where), train_ids, predict_ids, where, role)


def _reindexed(
    blocks: dict[str, Any], train_ids: list[int], predict_ids: list[int], where: str, role: str
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, values in blocks.items():
        positions = parse_index_key(key, f'{where}."{key}"', role, len(train_ids))
        if positions is None:
            new_key = ALL
        else:
            kept = sorted(predict_ids.index(train_ids[p]) for p in positions if train_ids[p] in predict_ids)
            if not kept:
                continue
            new_key = "|".join(str(p) for p in kept)
        result[new_key] = deep_merge(result.get(new_key, {}), as_dict(values, f'{where}."{key}"'))
    return result


def predict_conf_template(
    model_id: str, model_version: str, train_conf: Any, inference_dsl: Any
) -> dict[str, Any]:
    """`model/get/predict/conf`: training roles, predict job parameters, a table to fill per Reader."""
    train = _as_v2(train_conf, "train conf")
    if not train.get("role") or not train.get("initiator"):
        fail("train conf: role and initiator are required")
    job_parameters = optional_dict(train, "job_parameters", "train conf")
    common = job_parameters.setdefault("common", {})
    common.update({"model_id": model_id, "model_version": model_version, "job_type": "predict"})
    components = as_dict(as_dict(inference_dsl, "dsl").get("components"), "dsl.components")
    readers = [
        name for name, spec in components.items() if isinstance(spec, dict) and spec.get("module") == "Reader"
    ]
    fill = {
        reader: {"table": {"name": f"name_to_be_filled_{i}", "namespace": f"namespace_to_be_filled_{i}"}}
        for i, reader in enumerate(readers)
    }
    roles = _role_ids(train, "train conf")
    by_role = {
        role: {str(i): copy.deepcopy(fill) for i in range(len(ids))}
        for role, ids in roles.items()
        if role in _PREDICT_ROLES
    }
    return {
        "dsl_version": 2,
        "initiator": train["initiator"],
        "role": roles,
        "job_parameters": job_parameters,
        "component_parameters": {"role": by_role},
    }


def _as_v2(conf: Any, where: str) -> dict[str, Any]:
    conf = as_dict(conf, where)
    version = conf.get("dsl_version")
    legacy = (not isinstance(version, bool) and version in (1, "1")) or (
        version is None and ("role_parameters" in conf or "algorithm_parameters" in conf)
    )
    return convert_conf_v1(conf) if legacy else copy.deepcopy(conf)


def _role_ids(conf: dict[str, Any], where: str) -> dict[str, list[int]]:
    roles = as_dict(conf.get("role"), f"{where}.role")
    result = {}
    for role, ids in roles.items():
        if not isinstance(ids, list):
            fail(f"{where}.role.{role}: must be a list of party ids")
        result[role] = [to_party_id(pid, f"{where}.role.{role}") for pid in ids]
    return result
