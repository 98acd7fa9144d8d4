"""The DSL graph: components, their references to each other, and a topological order."""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from fedloom.dsl._util import as_dict, fail, is_name, quoted, type_name

DATA_KEYS = ("data", "train_data", "validate_data", "test_data", "eval_data")
_INPUT_KEYS = ("data", "model", "isometric_model", "cache")
_OUTPUT_KEYS = ("data", "model", "cache")
_COMPONENT_KEYS = frozenset({"module", "input", "output", "provider"})
# FATE writes these into DSLs itself (v1 deploy flag, per-role predict DSL); they carry no meaning here.
_TOLERATED_COMPONENT_KEYS = frozenset({"need_deploy", "CodePath"})
_DSL_KEYS = frozenset({"components", "provider"})
PIPELINE = "pipeline"


@dataclass(frozen=True, order=True)
class Ref:
    """`<component>.<alias>`: one output of one component."""

    component: str
    alias: str

    def __str__(self) -> str:
        return f"{self.component}.{self.alias}"


def _empty_inputs() -> Mapping[str, tuple[Ref, ...]]:
    return MappingProxyType({})


@dataclass(frozen=True)
class ComponentNode:
    """One component of the DSL, with its references already checked."""

    name: str
    module: str
    data_inputs: Mapping[str, tuple[Ref, ...]] = field(default_factory=_empty_inputs)
    model_inputs: tuple[Ref, ...] = ()
    isometric_model_inputs: tuple[Ref, ...] = ()
    cache_inputs: tuple[Ref, ...] = ()
    # Predict DSLs: `pipeline.<cpn>.<alias>`, a model of the deployed training job, not an edge.
    pipeline_model_refs: tuple[Ref, ...] = ()
    data_outputs: tuple[str, ...] = ()
    model_outputs: tuple[str, ...] = ()
    cache_outputs: tuple[str, ...] = ()
    provider: str | None = None
    upstream: frozenset[str] = frozenset()

    def __hash__(self) -> int:
        # The generated hash would fail on the data_inputs mapping; name + module is consistent with ==.
        return hash((self.name, self.module))

    @property
    def is_warm_start(self) -> bool:
        """FATE: `train_data` plus a model input means "continue training", not "reuse parameters"."""
        return "train_data" in self.data_inputs and bool(self.model_inputs)

    def edges(self) -> Iterator[tuple[str, Ref]]:
        """(input kind, reference) for every edge into this component; kind is a data key or model/cache."""
        for key, refs in self.data_inputs.items():
            for ref in refs:
                yield key, ref
        for kind, refs in (
            ("model", self.model_inputs),
            ("isometric_model", self.isometric_model_inputs),
            ("cache", self.cache_inputs),
        ):
            for ref in refs:
                yield kind, ref


@dataclass(frozen=True)
class DslGraph:
    nodes: Mapping[str, ComponentNode]  # in topological order
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class _Outputs:
    data: tuple[str, ...]
    model: tuple[str, ...]
    cache: tuple[str, ...]


def parse_graph(dsl: Any, *, predict: bool) -> DslGraph:
    """Check the DSL's shape and references (§2.2 rules 1-6) and order its components."""
    specs = _component_specs(dsl)
    warnings = [f'dsl: unknown key "{key}" ignored' for key in dsl if key not in _DSL_KEYS]
    default_provider = parse_provider(dsl.get("provider"), "dsl.provider")
    outputs = {name: _parse_outputs(name, spec) for name, spec in specs.items()}
    nodes = {
        name: _build_node(name, spec, outputs, predict, default_provider, warnings)
        for name, spec in specs.items()
    }
    order = topological_order(nodes)
    return DslGraph(MappingProxyType({name: nodes[name] for name in order}), tuple(warnings))


def _component_specs(dsl: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(dsl, dict) or not dsl:
        fail(f"dsl: must be a non-empty object, got {type_name(dsl)}")
    components = dsl.get("components")
    if not isinstance(components, dict) or not components:
        fail('dsl: "components" must be a non-empty object')
    for name, spec in components.items():
        if not is_name(name):
            fail(f'dsl: component name "{name}" may only use letters, digits, "_" and "-"')
        as_dict(spec, f"component {name}")
        if spec.get("module") is None:
            fail(f'component {name}: "module" is missing')
        if not isinstance(spec["module"], str) or not spec["module"]:
            fail(f'component {name}: "module" must be a module name like "HeteroLR", got {spec["module"]!r}')
    return components


def _check_component_keys(name: str, spec: dict[str, Any], warnings: list[str]) -> None:
    for key in spec:
        if key not in _COMPONENT_KEYS and key not in _TOLERATED_COMPONENT_KEYS:
            warnings.append(f'component {name}: unknown key "{key}" ignored')


def _parse_outputs(name: str, spec: dict[str, Any]) -> _Outputs:
    raw = spec.get("output")
    raw = {} if raw is None else as_dict(raw, f"component {name}: output")
    unknown = [key for key in raw if key not in _OUTPUT_KEYS]
    if unknown:
        fail(f"component {name}: output has unknown key {quoted(unknown)} (allowed: data, model, cache)")
    lists = {key: _alias_list(name, raw.get(key), f"output.{key}") for key in _OUTPUT_KEYS}
    return _Outputs(lists["data"], lists["model"], lists["cache"])


def _alias_list(name: str, value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        fail(f"component {name}: {where} must be a list, got {type_name(value)}")
    for alias in value:
        if not is_name(alias):
            fail(f'component {name}: {where} alias "{alias}" may only use letters, digits, "_" and "-"')
    if len(set(value)) != len(value):
        fail(f"component {name}: {where} lists an alias twice")
    return tuple(value)


def _build_node(
    name: str,
    spec: dict[str, Any],
    outputs: dict[str, _Outputs],
    predict: bool,
    default_provider: str | None,
    warnings: list[str],
) -> ComponentNode:
    _check_component_keys(name, spec, warnings)
    inputs = _input_dict(name, spec.get("input"))
    data = _data_inputs(name, inputs.get("data"), outputs, warnings)
    models, pipeline_refs = _model_inputs(name, inputs.get("model"), "model", outputs, predict)
    isometric, _ = _model_inputs(name, inputs.get("isometric_model"), "isometric_model", outputs, predict)
    cache_texts = _ref_list(name, "cache", inputs.get("cache"))
    cache = tuple(_checked(name, "input.cache", text, "cache", outputs) for text in cache_texts)
    own = outputs[name]
    refs = [ref for refs in data.values() for ref in refs] + [*models, *isometric, *cache]
    return ComponentNode(
        name=name,
        module=spec["module"],
        data_inputs=MappingProxyType(data),
        model_inputs=models,
        isometric_model_inputs=isometric,
        cache_inputs=cache,
        pipeline_model_refs=pipeline_refs,
        data_outputs=own.data,
        model_outputs=own.model,
        cache_outputs=own.cache,
        provider=parse_provider(spec.get("provider"), f"component {name}: provider") or default_provider,
        upstream=frozenset(ref.component for ref in refs),
    )


def _input_dict(name: str, raw: Any) -> dict[str, Any]:
    inputs = {} if raw is None else as_dict(raw, f"component {name}: input")
    unknown = [key for key in inputs if key not in _INPUT_KEYS]
    if unknown:
        fail(f"component {name}: input has unknown key {quoted(unknown)} (allowed: {', '.join(_INPUT_KEYS)})")
    return inputs


def _ref_list(name: str, key: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        fail(f"component {name}: input.{key} must be a list, got {type_name(value)}")
    return value


def _data_inputs(
    name: str, raw: Any, outputs: dict[str, _Outputs], warnings: list[str]
) -> dict[str, tuple[Ref, ...]]:
    data = {} if raw is None else as_dict(raw, f"component {name}: input.data")
    result: dict[str, tuple[Ref, ...]] = {}
    for key, texts in data.items():
        where = f"input.data.{key}"
        if key not in DATA_KEYS:
            warnings.append(f"component {name}: {where} is not a known data key ({', '.join(DATA_KEYS)})")
        if not isinstance(texts, list):
            fail(f"component {name}: {where} must be a list, got {type_name(texts)}")
        result[key] = tuple(_checked(name, where, text, "data", outputs) for text in texts)
    return result


def _model_inputs(
    name: str, raw: Any, key: str, outputs: dict[str, _Outputs], predict: bool
) -> tuple[tuple[Ref, ...], tuple[Ref, ...]]:
    edges: list[Ref] = []
    pipeline_refs: list[Ref] = []
    for text in _ref_list(name, key, raw):
        if isinstance(text, str) and text.startswith(f"{PIPELINE}.") and text.count(".") == 2:
            pipeline_refs.append(_pipeline_ref(name, key, text, predict))
        else:
            edges.append(_checked(name, f"input.{key}", text, "model", outputs))
    return tuple(edges), tuple(pipeline_refs)


def _pipeline_ref(name: str, key: str, text: str, predict: bool) -> Ref:
    if key != "model":
        fail(f'component {name}: input.{key} "{text}": deployed-model references belong in input.model')
    if not predict:
        fail(f'component {name}: input.{key} "{text}" names a deployed model; only predict jobs may')
    _, component, alias = text.split(".")
    if not (is_name(component) and is_name(alias)):
        fail(f'component {name}: input.{key} "{text}" must look like "pipeline.<component>.<alias>"')
    return Ref(component, alias)


def _checked(name: str, where: str, text: Any, kind: str, outputs: dict[str, _Outputs]) -> Ref:
    """Parse `<component>.<alias>` and check that component declares that alias in output.<kind>."""
    ref = _split(name, where, text)
    up = outputs.get(ref.component)
    if up is None:
        fail(f'component {name}: {where} refers to "{text}" but there is no component {ref.component}')
    declared: tuple[str, ...] = getattr(up, kind)
    if ref.alias in declared:
        return ref
    fail(f'component {name}: {where} refers to "{text}" but {_mismatch(ref, kind, up)}')


def _mismatch(ref: Ref, kind: str, up: _Outputs) -> str:
    for other in _OUTPUT_KEYS:
        if other != kind and ref.alias in getattr(up, other):
            return (
                f"that is a {other} output of {ref.component}; input.{_input_for(kind)} takes {kind} outputs"
            )
    declared: tuple[str, ...] = getattr(up, kind)
    if not declared:
        return f"{ref.component} declares no output.{kind}"
    return f"{ref.component}.output.{kind} is [{quoted(declared)}]"


def _input_for(kind: str) -> str:
    return {"data": "data.<key>", "model": "model / isometric_model", "cache": "cache"}[kind]


def _split(name: str, where: str, text: Any) -> Ref:
    parts = text.split(".") if isinstance(text, str) else []
    if len(parts) != 2 or not all(is_name(part) for part in parts):
        fail(f'component {name}: {where} entry {text!r} must look like "<component>.<alias>"')
    return Ref(parts[0], parts[1])


def parse_provider(value: Any, where: str) -> str | None:
    """`name` or `name@version` (§2.6); None when absent."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or value.startswith("@") or value.count("@") > 1:
        fail(f'{where} must look like "<name>" or "<name>@<version>", got {value!r}')
    return value


def topological_order(nodes: Mapping[str, ComponentNode]) -> list[str]:
    """Kahn's order, ties broken by DSL position so the order is stable; a cycle is named."""
    position = {name: i for i, name in enumerate(nodes)}
    downstream: dict[str, list[str]] = {name: [] for name in nodes}
    waiting = {name: len(node.upstream) for name, node in nodes.items()}
    for name, node in nodes.items():
        for up in node.upstream:
            downstream[up].append(name)
    ready = [position[name] for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    names = list(nodes)
    order: list[str] = []
    while ready:
        name = names[heapq.heappop(ready)]
        order.append(name)
        for down in downstream[name]:
            waiting[down] -= 1
            if waiting[down] == 0:
                heapq.heappush(ready, position[down])
    if len(order) != len(nodes):
        fail(f"dsl: cycle {' -> '.join(_find_cycle(nodes, set(order)))}")
    return order


def _find_cycle(nodes: Mapping[str, ComponentNode], done: set[str]) -> list[str]:
    """Walk upstream through unsorted components (each has an unsorted upstream) until one repeats."""
    position = {name: i for i, name in enumerate(nodes)}
    current = next(name for name in nodes if name not in done)
    path: list[str] = []
    seen: dict[str, int] = {}
    while current not in seen:
        seen[current] = len(path)
        path.append(current)
        current = min((up for up in nodes[current].upstream if up not in done), key=position.__getitem__)
    loop = list(reversed(path[seen[current] :]))  # downstream direction
    start = min(range(len(loop)), key=lambda i: position[loop[i]])
    loop = loop[start:] + loop[:start]
    return [*loop, loop[0]]
