"""The `/pipeline/dag/dependency` view of a plan for one party."""

from __future__ import annotations

from typing import Any

from fedloom.dsl.graph import ComponentNode
from fedloom.dsl.plan import JobPlan
from fedloom.errors import NotFound

_INPUT_TYPES = {"model": "model", "isometric_model": "model", "cache": "cache"}


def dependency_view(plan: JobPlan, role: str, party_id: int) -> dict[str, Any]:
    """component_list (topological), dependencies, component_module, component_need_run at that party."""
    if (role, party_id) not in plan.parties:
        raise NotFound(f"party {role} {party_id} is not in this job")
    components = plan.components
    dependencies = {
        name: deps for name, node in components.items() if (deps := _dependencies(node, components))
    }
    return {
        "component_list": plan.order(),
        "dependencies": dependencies,
        "component_module": {name: node.module for name, node in components.items()},
        "component_need_run": {name: plan.need_run(name, role, party_id) for name in components},
    }


def _dependencies(node: ComponentNode, components: Any) -> list[dict[str, Any]]:
    result = []
    for kind, ref in node.edges():
        up: ComponentNode = components[ref.component]
        output_kind = _INPUT_TYPES.get(kind, "data")
        aliases = {"data": up.data_outputs, "model": up.model_outputs, "cache": up.cache_outputs}[output_kind]
        result.append(
            {
                "component_name": ref.component,
                "type": _type_of(kind),
                "up_output_info": [output_kind, aliases.index(ref.alias) if ref.alias in aliases else 0],
            }
        )
    return result


def _type_of(kind: str) -> str:
    """FATE's names: data and train_data as is, any other data key is validate_data."""
    if kind in _INPUT_TYPES:
        return _INPUT_TYPES[kind]
    return kind if kind in ("data", "train_data") else "validate_data"
