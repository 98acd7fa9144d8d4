"""Metadata store: SQLAlchemy models, Alembic migrations and the stores built on them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from fedloom.store.access import AuditStore, PermissionStore
from fedloom.store.database import make_engine, migrate, session_factory
from fedloom.store.jobs import JobStore, now_ms
from fedloom.store.leases import Held, LeaseStore
from fedloom.store.tracking import TrackingStore


@dataclass
class Stores:
    engine: Engine
    jobs: JobStore
    tracking: TrackingStore
    permissions: PermissionStore
    audit: AuditStore
    leases: LeaseStore

    def close(self) -> None:
        self.engine.dispose()


def open_stores(url: str, *, run_migrations: bool = True) -> Stores:
    """Connect to the metadata database at `url`, migrating its schema to the newest revision."""
    engine = make_engine(url)
    if run_migrations:
        migrate(engine)
    sessions = session_factory(engine)
    return Stores(
        engine=engine,
        jobs=JobStore(sessions),
        tracking=TrackingStore(sessions),
        permissions=PermissionStore(sessions),
        audit=AuditStore(sessions),
        leases=LeaseStore(sessions),
    )


__all__ = [
    "AuditStore",
    "Held",
    "JobStore",
    "LeaseStore",
    "PermissionStore",
    "Stores",
    "TrackingStore",
    "now_ms",
    "open_stores",
]
