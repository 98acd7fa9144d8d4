"""The components this server can run (built in and installed), as the API lists them."""

from __future__ import annotations

from dataclasses import dataclass

from fedloom.components.registry import all_components
from fedloom.services._json import JsonObject


@dataclass(frozen=True)
class ComponentInfo:
    module: str
    roles: list[str]
    provider: str
    description: str
    parameters: JsonObject  # the parameters' JSON schema


class ComponentService:
    def list_components(self) -> list[ComponentInfo]:
        """Every registered component, in registration order."""
        return [
            ComponentInfo(s.module, sorted(s.roles), s.provider, s.description, s.params.model_json_schema())
            for s in all_components().values()
        ]


__all__ = ["ComponentInfo", "ComponentService"]
