"""The Platform: every service of one fedloom server, built once from Settings and wired together."""

from __future__ import annotations

import logging

from fedloom import datadir
from fedloom.config import Settings
from fedloom.federation.auth import server_secret
from fedloom.paths import tables_dir
from fedloom.scheduler.reconcile import JobLimits, Scheduler
from fedloom.services.party import Party, PartyService
from fedloom.services.plans import PlanCache
from fedloom.storage.tables import TableStore
from fedloom.store import Stores, open_stores
from fedloom.store.models import JobRow

log = logging.getLogger(__name__)


class LocalGateway:
    """Commands to parties this server hosts are plain calls into the PartyService."""

    def __init__(self, party: PartyService) -> None:
        self._party = party

    def start_task(self, job_id: str, component: str, version: int, party: Party) -> None:
        self._party.start_task(job_id, component, version, party)

    def stop_task(self, job_id: str, component: str, version: int, party: Party, status: str) -> None:
        self._party.stop_task(job_id, component, version, party, status)

    def job_ended(self, job_id: str, party: Party, status: str) -> None:
        self._party.job_ended(job_id, party, status)


class Platform:
    """Owns the data dir (an exclusive lock), the stores, the worker pool and the scheduler of one server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        data_dir = settings.resolved_data_dir
        # Before anything else: a second server on this data dir must not open, clean or recover it.
        self._lock = datadir.acquire(data_dir, shown=str(settings.data_dir))
        try:
            datadir.clean_staging(data_dir)
            secret = server_secret(data_dir)
            self.stores: Stores = open_stores(settings.sqlalchemy_url)
            self.tables = TableStore(tables_dir(data_dir))
            self.tables.clean_leftovers()  # half-written tables of a crashed run
            self.plans = PlanCache()
            self.party = PartyService(settings, self.stores, self.tables, self.plans, self._task_ended, secret)
            self.scheduler = Scheduler(
                self.stores.jobs, LocalGateway(self.party),
                JobLimits(settings.max_running_jobs, settings.sweep_interval),
                self.plans.dependencies, on_end=self._job_ended,
            )
        except BaseException:
            self._lock.release()
            raise

    def start(self) -> None:
        recovered = self.party.recover()
        if recovered:
            log.warning("recovered %d task(s) interrupted by the last shutdown", recovered)
        self.party.drop_stale_sessions()
        if self.settings.worker_preload:
            self.party.pool.warm_up()
        self.scheduler.start()

    def close(self) -> None:
        if not self._lock.held:
            return
        try:
            self.scheduler.stop()
            self.party.pool.shutdown()
            self.party.recover()  # tasks we just killed get their retry at the next start
            self.stores.close()
        finally:
            self._lock.release()  # last: the next owner finds the database closed

    def ensure_party(self, party_id: int) -> None:
        self.stores.jobs.ensure_party_resource(party_id, self.settings.total_cores)

    def _task_ended(self, job_id: str) -> None:
        self.scheduler.notify(job_id)

    def _job_ended(self, job: JobRow, status: str) -> None:
        from fedloom.services.models import save_pipeline_models  # models use the platform's stores

        if status == "success":
            save_pipeline_models(self, job.job_id)


__all__ = ["LocalGateway", "Platform"]
