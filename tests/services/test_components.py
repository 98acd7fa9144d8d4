"""ComponentService: the registered components with their roles and parameter schemas."""

from __future__ import annotations

from fedloom.services.catalog import Services


def test_every_builtin_component_is_listed_with_its_schema(services: Services) -> None:
    found = {c.module: c for c in services.components.list_components()}
    assert {"Reader", "DataTransform", "Intersection", "HeteroLR", "Evaluation"} <= set(found)
    lr = found["HeteroLR"]
    assert lr.roles == ["arbiter", "guest", "host"]
    assert "max_iter" in lr.parameters["properties"]
