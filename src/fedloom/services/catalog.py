"""The use cases the API calls (`Services`), and the gateway to parties this server hosts."""

from __future__ import annotations

from dataclasses import dataclass

from fedloom.ids import Party
from fedloom.scheduler.status import JobStatus, TaskStatus
from fedloom.services.audit import AuditService
from fedloom.services.components import ComponentService
from fedloom.services.jobs import JobService
from fedloom.services.models import ModelService
from fedloom.services.party import PartyService
from fedloom.services.permissions import PermissionService
from fedloom.services.tables import TableService
from fedloom.services.tracking import TrackingService


class LocalGateway:
    """Commands to parties this server hosts are plain calls into the PartyService (a `PartyGateway`)."""

    def __init__(self, party: PartyService) -> None:
        self._party = party

    def is_local(self, party_id: int) -> bool:
        return True

    def start_task(self, job_id: str, component: str, version: int, party: Party) -> None:
        self._party.start_task(job_id, component, version, party)

    def stop_task(self, job_id: str, component: str, version: int, party: Party, status: TaskStatus) -> None:
        self._party.stop_task(job_id, component, version, party, status)

    def job_ended(self, job_id: str, party: Party, status: JobStatus) -> None:
        self._party.job_ended(job_id, party, status)


@dataclass(frozen=True)
class Services:
    """The use cases the API calls, each holding only the parts it needs."""

    jobs: JobService
    tables: TableService
    tracking: TrackingService
    models: ModelService
    components: ComponentService
    permissions: PermissionService
    audit: AuditService


__all__ = ["LocalGateway", "Services"]
