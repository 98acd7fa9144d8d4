"""`PermissionApi` and `AuditApi`: a host's grants to other parties (/v1/permission/*) and the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fedloom.client._transport import Transport, drop_none
from fedloom.client.http import FedloomClient

ANY = "*"


def _body(
    party_id: int, components: Sequence[str] | None, tables: Sequence[tuple[str, str]] | None
) -> dict[str, Any]:
    return {
        "party_id": party_id,
        "component": ANY if components is None else ",".join(components),
        "dataset": ANY if tables is None else [{"namespace": ns, "name": n} for ns, n in tables],
    }


class PermissionApi:
    """What other parties may run here. None for `components` or `tables` means every one ("*")."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def grant(
        self,
        party_id: int,
        components: Sequence[str] | None = None,
        tables: Sequence[tuple[str, str]] | None = None,
    ) -> dict[str, Any]:
        """Let `party_id` run `components` on `tables`; `{"added": n}` (granting again is not an error)."""
        return dict(self._t.call("permission/grant", _body(party_id, components, tables)) or {})

    def revoke(
        self,
        party_id: int,
        components: Sequence[str] | None = None,
        tables: Sequence[tuple[str, str]] | None = None,
    ) -> dict[str, Any]:
        """Delete those grants (None: every component / every table); `{"deleted": n}`."""
        return dict(self._t.call("permission/delete", _body(party_id, components, tables)) or {})

    def query(self, party_id: int) -> dict[str, Any]:
        """`{"component": [...], "dataset": [{namespace, name}], "grants": [{component, namespace, name}]}`."""
        return dict(self._t.call("permission/query", {"party_id": party_id}) or {})


class AuditApi:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def query(
        self,
        *,
        job_id: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        since: int | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Audit entries, newest first: `{time, actor, action, job_id, retcode, detail}`."""
        body = drop_none(job_id=job_id, actor=actor, action=action, since=since, limit=limit)
        return list(self._t.call("audit/query", body) or [])


def permissions(client: FedloomClient) -> PermissionApi:
    return PermissionApi(client._transport)


def audit(client: FedloomClient) -> AuditApi:
    return AuditApi(client._transport)


__all__ = ["AuditApi", "PermissionApi", "audit", "permissions"]
