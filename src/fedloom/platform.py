"""The Platform assembles one server from Settings: data dir lock, stores, worker pool, scheduler, services,
and in cluster mode the node that talks to the other parties' servers."""

from __future__ import annotations

import logging

from fedloom import datadir
from fedloom.cluster.node import ClusterNode, forward_socket_path
from fedloom.config import Settings
from fedloom.federation.auth import server_secret
from fedloom.federation.channel import Mailbox
from fedloom.paths import federation_dir, tables_dir
from fedloom.scheduler.leases import JobLeases
from fedloom.scheduler.reconcile import JobLimits, Scheduler
from fedloom.services.audit import AuditService
from fedloom.services.catalog import LocalGateway, Services
from fedloom.services.components import ComponentService
from fedloom.services.jobs import JobService
from fedloom.services.models import ModelService
from fedloom.services.party import PartyService
from fedloom.services.permissions import PermissionService
from fedloom.services.plans import PlanCache
from fedloom.services.tables import TableService
from fedloom.services.tracking import TrackingService
from fedloom.storage.tables import TableStore
from fedloom.store import Stores, open_stores

log = logging.getLogger(__name__)
REPLICA_LEFTOVER_SECONDS = 24 * 3600.0  # replicas clean only what no live upload can still be writing


class Platform:
    """Owns the data dir (an exclusive lock), the stores, the worker pool and the scheduler of one server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        data_dir = settings.resolved_data_dir
        # Before anything else: a second server on this data dir must not open, clean or recover it.
        # Replicas (server_id) share the data dir: each locks its own directory in it.
        self._shared = (
            datadir.acquire_shared(data_dir, shown=str(settings.data_dir)) if settings.replica else None
        )
        try:
            self._lock = datadir.acquire(settings.run_dir, shown=str(settings.data_dir))
        except BaseException:
            self._release_shared()
            raise
        leftovers = REPLICA_LEFTOVER_SECONDS if settings.replica else 0.0  # another replica may be writing
        try:
            datadir.clean_staging(data_dir, older_than=leftovers)
            secret = server_secret(data_dir)
            self.stores: Stores = open_stores(settings.sqlalchemy_url)
            self.tables = TableStore(tables_dir(data_dir))
            self.tables.clean_leftovers(older_than=leftovers)  # half-written tables of a crashed run
            self.plans = PlanCache()
            mailbox = Mailbox(federation_dir(data_dir))
            socket = forward_socket_path(settings.run_dir) if settings.cluster else ""
            self.party = PartyService(
                settings,
                self.stores.jobs,
                self.stores.tracking,
                self.tables,
                mailbox,
                self.plans,
                self._task_ended,
                secret,
                forward_socket=socket,
            )
            # Cluster mode: parties served elsewhere are reached over the network (fedloom.cluster).
            self.cluster = (
                ClusterNode(settings, self.stores.jobs, self.party, mailbox, socket)
                if settings.cluster
                else None
            )
            gateway = self.cluster.gateway if self.cluster is not None else LocalGateway(self.party)
            remote = self.cluster.gateway if self.cluster is not None else None
            models = ModelService(self.stores.jobs, self.stores.tracking, remote)
            self.scheduler = Scheduler(
                self.stores.jobs,
                gateway,
                JobLimits(settings.max_running_jobs, settings.sweep_interval),
                self.plans.dependencies,
                on_end=models.job_ended,
                hosts=gateway.is_local,
                leases=self._leases(settings),
                on_takeover=self.party.adopt,
            )
            self.services = self._services(models)
            if self.cluster is not None:
                s = self.services
                self.cluster.attach(s.jobs, self.scheduler, s.permissions, s.audit, s.models)
        except BaseException:
            self._lock.release()
            self._release_shared()
            raise

    def _leases(self, settings: Settings) -> JobLeases | None:
        if settings.server_id is None:
            return None
        return JobLeases(self.stores.leases, settings.server_id, settings.lease_seconds)

    def start(self) -> None:
        recovered = self.party.recover()
        if recovered:
            log.warning("recovered %d task(s) interrupted by the last shutdown", recovered)
        self.party.drop_stale_sessions()
        if self.settings.worker_preload:
            self.party.pool.warm_up()
        self.scheduler.start()
        if self.cluster is not None:
            self.cluster.start()  # its first sweep reports what recovery changed to the initiators

    def close(self) -> None:
        if not self._lock.held:
            return
        try:
            if self.cluster is not None:
                self.cluster.stop()
            self.scheduler.stop()
            self.services.audit.close()
            self.party.pool.shutdown()
            self.party.recover()  # tasks we just killed get their retry at the next start
            self.stores.close()
        finally:
            self._lock.release()  # last: the next owner finds the database closed
            self._release_shared()

    def _release_shared(self) -> None:
        if self._shared is not None:
            self._shared.release()

    def _services(self, models: ModelService) -> Services:
        s, jobs, tracking = self.settings, self.stores.jobs, self.stores.tracking
        return Services(
            jobs=JobService(
                s,
                jobs,
                tracking,
                self.tables,
                self.plans,
                self.scheduler,
                self.party,
                models,
                remote=self.cluster.gateway if self.cluster is not None else None,
            ),
            tables=TableService(s, self.tables, jobs, tracking),
            tracking=TrackingService(s, jobs, tracking, self.tables, self.plans),
            models=models,
            components=ComponentService(),
            permissions=PermissionService(self.stores.permissions),
            audit=AuditService(self.stores.audit),
        )

    def _task_ended(self, job_id: str) -> None:
        if self.cluster is not None:
            self.cluster.task_ended(job_id)  # a job initiated elsewhere: its initiator hears of it
        else:
            self.scheduler.notify(job_id)


__all__ = ["Platform"]
