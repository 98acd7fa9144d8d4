"""Property tests: any acyclic DSL parses in a valid topological order; any back edge is named as a cycle."""

from __future__ import annotations

import re
from typing import Any

import pytest
from dsl_fakes import FakeCatalog
from hypothesis import given
from hypothesis import strategies as st

from fedloom.dsl import parse_job
from fedloom.errors import InvalidInput

Edges = set[tuple[int, int]]
CONF = {
    "dsl_version": 2,
    "initiator": {"role": "guest", "party_id": 9999},
    "role": {"guest": [9999], "host": [10000]},
}
CATALOG = FakeCatalog()


@st.composite
def dags(draw: st.DrawFn) -> tuple[int, Edges, list[int]]:
    """(size, edges i -> j with i < j, DSL order)."""
    size = draw(st.integers(min_value=1, max_value=20))
    edges: Edges = set()
    for j in range(1, size):
        edges |= {(i, j) for i in draw(st.sets(st.integers(0, j - 1), max_size=3))}
    return size, edges, draw(st.permutations(range(size)))


def _dsl(size: int, edges: Edges, order: list[int]) -> dict[str, Any]:
    components = {}
    for j in order:
        ups = sorted(i for i, k in edges if k == j)
        spec: dict[str, Any] = {"module": "Intersection", "output": {"data": ["data"]}}
        if ups:
            spec["input"] = {"data": {"data": [f"c{i}.data" for i in ups]}}
        components[f"c{j}"] = spec
    return {"components": components}


def _depths(size: int, edges: Edges) -> list[int]:
    depth = [0] * size
    for j in range(size):  # i < j for every edge, so plain index order is topological
        depth[j] = max((depth[i] + 1 for i, k in edges if k == j), default=0)
    return depth


@given(dags())
def test_acyclic_dsls_parse_in_topological_order(dag: tuple[int, Edges, list[int]]) -> None:
    size, edges, order = dag

    plan = parse_job(_dsl(size, edges, order), CONF, CATALOG)

    position = {name: i for i, name in enumerate(plan.order())}
    assert sorted(position) == sorted(f"c{i}" for i in range(size))
    assert all(position[f"c{i}"] < position[f"c{j}"] for i, j in edges)
    depths = _depths(size, edges)
    for level, names in enumerate(plan.levels()):
        assert all(depths[int(name[1:])] == level for name in names)
    for j in range(size):
        assert set(plan.dependencies(f"c{j}")) == {f"c{i}" for i, k in edges if k == j}


@given(dags(), st.data())
def test_back_edges_are_refused_as_cycles(dag: tuple[int, Edges, list[int]], data: st.DataObject) -> None:
    size, edges, order = dag
    if size < 2:
        order, size = [0, 1], 2
    low = data.draw(st.integers(0, size - 2))
    high = data.draw(st.integers(low + 1, size - 1))
    looped = edges | {(low, high), (high, low)}

    with pytest.raises(InvalidInput) as caught:
        parse_job(_dsl(size, looped, order), CONF, CATALOG)

    match = re.fullmatch(r"dsl: cycle (.*)", caught.value.message)
    assert match is not None
    loop = [int(name[1:]) for name in match.group(1).split(" -> ")]
    assert loop[0] == loop[-1] and len(loop) >= 3
    assert all((a, b) in looped for a, b in zip(loop, loop[1:], strict=False))


def test_self_reference_is_a_cycle() -> None:
    with pytest.raises(InvalidInput, match="dsl: cycle c0 -> c0"):
        parse_job(_dsl(1, {(0, 0)}, [0]), CONF, CATALOG)
