"""Replicas: several servers share one database; each job is reconciled by one of them at a time.

The one that reconciles a job holds the lease `job:<id>` in the database, renewed at every reconcile
(the safety sweep reconciles every open job, so a lease lives as long as its holder does). A replica
that is stopped or killed stops renewing; once its leases expire another replica takes each job over
at its next sweep, first giving the tasks the old holder ran one more try (they died with it).
"""

from __future__ import annotations

from fedloom.store.leases import Held, LeaseStore


class JobLeases:
    """The leases of one replica (`owner`) on the jobs it reconciles."""

    def __init__(self, store: LeaseStore, owner: str, ttl_seconds: float) -> None:
        self._store = store
        self.owner = owner
        self._ttl_ms = int(ttl_seconds * 1000)

    def hold(self, job_id: str) -> Held:
        held, taken_from = self._store.hold(f"job:{job_id}", self.owner, self._ttl_ms)
        return Held(held, taken_from if taken_from != self.owner else None)

    def release(self, job_id: str) -> None:
        self._store.release(f"job:{job_id}", self.owner)

    def release_all(self) -> None:
        self._store.release_all(self.owner)


__all__ = ["JobLeases"]
