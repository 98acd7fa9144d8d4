"""What the dsl room needs to know about components, supplied by the caller (no imports of components)."""

from __future__ import annotations

from typing import Any, Protocol


class ComponentCatalog(Protocol):
    """Component knowledge. Implementations MUST be pure and fast: parse_job calls them per party."""

    def module_roles(self, module: str) -> frozenset[str] | None:
        """Roles the module runs on (guest, host, arbiter, local); None when the module is unknown."""

    def validate_params(self, module: str, params: dict[str, Any]) -> dict[str, Any]:
        """Normalised parameters (defaults filled), or InvalidInput naming the field.

        The message MUST name the field but not the component, role or party: the caller adds them,
        e.g. `parameter "max_iterr" is not a parameter of HeteroLR`.
        """

    def output_aliases(self, module: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(data aliases, model aliases) the module can produce, in output position order."""
