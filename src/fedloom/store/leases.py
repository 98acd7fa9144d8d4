"""LeaseStore: named leases in the database, each held by one server until it expires.

Servers sharing one database use them so that one server at a time does a piece of work (such as
reconciling a job). Every change is a compare-and-set in one transaction, so two servers racing for a
lease on SQLite, MariaDB or PostgreSQL never both get it.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from fedloom.store.jobs import now_ms as _clock
from fedloom.store.models import LeaseRow


class Held(NamedTuple):
    """The answer of `LeaseStore.hold`: whether the caller holds the lease now, and from whom it took
    it over (None when the lease was new or already the caller's)."""

    held: bool
    taken_from: str | None


class LeaseStore:
    """Leases by name. A lease whose `expires_ms` is before now is expired: anyone may take it over."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def hold(self, name: str, owner: str, ttl_ms: int, now_ms: int | None = None) -> Held:
        """Acquire `name` for `owner` until now + `ttl_ms`: create it, renew it if `owner` holds it, or
        take it over if it expired. MUST change nothing and return (False, None) while another owner
        holds it unexpired, or when a concurrent hold won the race."""
        now = _clock() if now_ms is None else now_ms
        try:
            with self._sessions.begin() as s:
                return _hold(s, name, owner, now, now + ttl_ms)
        except IntegrityError:  # a concurrent hold created the lease first
            return Held(False, None)

    def release(self, name: str, owner: str) -> bool:
        """Delete the lease if `owner` holds it (expired or not); True if it did."""
        with self._sessions.begin() as s:
            res = s.execute(delete(LeaseRow).where(LeaseRow.name == name, LeaseRow.owner == owner))
            return bool(getattr(res, "rowcount", 0))

    def release_all(self, owner: str) -> int:
        """Delete every lease `owner` holds; return how many."""
        with self._sessions.begin() as s:
            res = s.execute(delete(LeaseRow).where(LeaseRow.owner == owner))
            return int(getattr(res, "rowcount", 0))

    def holder(self, name: str, now_ms: int | None = None) -> str | None:
        """The owner of `name` if its lease has not expired, else None."""
        now = _clock() if now_ms is None else now_ms
        with self._sessions() as s:
            q = select(LeaseRow.owner).where(LeaseRow.name == name, LeaseRow.expires_ms >= now)
            return s.scalar(q)


def _hold(s: Session, name: str, owner: str, now: int, expires: int) -> Held:
    row = s.execute(select(LeaseRow.owner, LeaseRow.expires_ms).where(LeaseRow.name == name)).first()
    if row is None:
        s.execute(insert(LeaseRow).values(name=name, owner=owner, expires_ms=expires, acquired_ms=now))
        return Held(True, None)
    seen, seen_expires = row
    ours = seen == owner
    if not ours and seen_expires >= now:
        return Held(False, None)
    # The condition repeats what was read: a concurrent renewal or takeover since then makes this
    # update match no row, and this hold fails instead of stealing a lease just renewed or taken.
    cond = [LeaseRow.name == name, LeaseRow.owner == seen]
    values: dict[str, object] = {"expires_ms": expires}
    if not ours:
        cond.append(LeaseRow.expires_ms < now)
        values.update(owner=owner, acquired_ms=now)
    res = s.execute(update(LeaseRow).where(*cond).values(**values))
    if not getattr(res, "rowcount", 0):
        return Held(False, None)
    return Held(True, None if ours else seen)


__all__ = ["Held", "LeaseStore"]
