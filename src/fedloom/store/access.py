"""Who may do what: a host's grants to other parties (PermissionStore) and the audit log (AuditStore)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, delete, false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from fedloom.store.jobs import now_ms
from fedloom.store.models import AuditRow, PermissionRow

ANY = "*"


class Grant(NamedTuple):
    """Party-independent part of a permission row; any field may be ANY."""

    component: str
    namespace: str
    name: str


class AuditEntry(NamedTuple):
    time: int
    actor: str
    action: str
    job_id: str
    retcode: int
    detail: str


class PermissionStore:
    """Rows (party_id, component, namespace, name), each field but party_id possibly ANY; no duplicates."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def add(self, party_id: int, grants: Iterable[Grant]) -> int:
        """Store every grant not stored yet; return how many were new. MUST NOT fail on an existing one."""
        wanted = set(grants)
        if not wanted:
            return 0
        try:
            return self._add(party_id, wanted)
        except IntegrityError:  # a concurrent grant stored some of them first: they are now visible
            return self._add(party_id, wanted)

    def _add(self, party_id: int, wanted: set[Grant]) -> int:
        t = now_ms()
        with self._sessions.begin() as s:
            new = wanted - set(self._rows(s, party_id))
            s.add_all(
                PermissionRow(
                    party_id=party_id,
                    component=g.component,
                    namespace=g.namespace,
                    name=g.name,
                    create_time=t,
                )
                for g in new
            )
        return len(new)

    def remove(
        self, party_id: int, components: Sequence[str] | None, tables: Sequence[tuple[str, str]] | None
    ) -> int:
        """Delete the party's rows whose component is in `components` and whose (namespace, name) is in
        `tables`; None matches every value (ANY rows included). Return how many were deleted."""
        where: list[ColumnElement[bool]] = [PermissionRow.party_id == party_id]
        if components is not None:
            where.append(PermissionRow.component.in_(components) if components else false())
        if tables is not None:
            where.append(_tables_in(tables))
        with self._sessions.begin() as s:
            res = s.execute(delete(PermissionRow).where(*where))
            return int(getattr(res, "rowcount", 0))

    def grants(self, party_id: int, components: Iterable[str] | None = None) -> list[Grant]:
        """The party's rows, sorted; with `components`, only rows for those components or ANY."""
        with self._sessions() as s:
            return self._rows(s, party_id, None if components is None else [*components, ANY])

    @staticmethod
    def _rows(s: Session, party_id: int, components: list[str] | None = None) -> list[Grant]:
        q = select(PermissionRow.component, PermissionRow.namespace, PermissionRow.name).where(
            PermissionRow.party_id == party_id
        )
        if components is not None:
            q = q.where(PermissionRow.component.in_(components))
        q = q.order_by(PermissionRow.component, PermissionRow.namespace, PermissionRow.name)
        return [Grant(*r) for r in s.execute(q)]


def _tables_in(tables: Sequence[tuple[str, str]]) -> ColumnElement[bool]:
    # An OR of pairs rather than a row-value IN: the same SQL on SQLite, MariaDB and PostgreSQL.
    if not tables:
        return false()
    return or_(*(and_(PermissionRow.namespace == ns, PermissionRow.name == n) for ns, n in tables))


class AuditStore:
    """An append-only log bounded to the newest `retention` entries (trimmed every `trim_every` inserts)."""

    def __init__(
        self, sessions: sessionmaker[Session], retention: int = 100_000, trim_every: int = 1000
    ) -> None:
        self._sessions = sessions
        self._retention = retention
        self._trim_every = trim_every
        self._since_trim = 0

    def record(self, entries: Sequence[AuditEntry]) -> None:
        """Append `entries` in one transaction, fields cut to their column sizes; MUST keep the newest
        `retention` entries and MAY drop older ones."""
        if not entries:
            return
        with self._sessions.begin() as s:
            s.add_all(_row(e) for e in entries)
        self._since_trim += len(entries)
        if self._since_trim >= self._trim_every:
            self._since_trim = 0
            self.trim()

    def trim(self) -> int:
        """Delete all but the newest `retention` entries; return how many were deleted."""
        with self._sessions.begin() as s:
            q = select(AuditRow.id).order_by(AuditRow.id.desc()).offset(self._retention).limit(1)
            oldest_kept_too_many = s.scalar(q)
            if oldest_kept_too_many is None:
                return 0
            res = s.execute(delete(AuditRow).where(AuditRow.id <= oldest_kept_too_many))
            return int(getattr(res, "rowcount", 0))

    def query(
        self,
        *,
        job_id: str | None = None,
        actor: str | None = None,
        action_prefix: str | None = None,
        since_ms: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Entries matching every given filter, newest first, at most `limit`."""
        q = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if job_id is not None:
            q = q.where(AuditRow.job_id == job_id)
        if actor is not None:
            q = q.where(AuditRow.actor == actor)
        if action_prefix is not None:
            q = q.where(AuditRow.action.startswith(action_prefix, autoescape=True))
        if since_ms is not None:
            q = q.where(AuditRow.time >= since_ms)
        with self._sessions() as s:
            return [
                AuditEntry(r.time, r.actor, r.action, r.job_id, r.retcode, r.detail) for r in s.scalars(q)
            ]


def _row(e: AuditEntry) -> AuditRow:
    return AuditRow(
        time=e.time,
        actor=e.actor[:128],
        action=e.action[:256],
        job_id=e.job_id[:64],
        retcode=e.retcode,
        detail=e.detail[:256],
    )


__all__ = ["ANY", "AuditEntry", "AuditStore", "Grant", "PermissionStore"]
