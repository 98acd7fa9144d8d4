"""A scheduler over a real SQLite store, with a gateway that records commands and plays the parties."""

from __future__ import annotations

from collections.abc import Mapping

from fedloom.ids import Party, TaskKey
from fedloom.scheduler.reconcile import JobLimits, Scheduler
from fedloom.scheduler.status import JobStatus, TaskStatus
from fedloom.store import JobStore, Stores, now_ms
from fedloom.store.models import JobRow, TaskRow

PARTIES: list[Party] = [Party("guest", 9999), Party("host", 10000)]
Dag = Mapping[str, frozenset[str]]


class RecordingGateway:
    """Applies each command to the store the way a party would, and records it."""

    def __init__(self, jobs: JobStore) -> None:
        self.jobs = jobs
        self.started: list[tuple[str, int, Party]] = []
        self.stopped: list[tuple[str, int, Party, str]] = []
        self.ended: list[tuple[Party, str]] = []

    def start_task(self, job_id: str, component: str, version: int, party: Party) -> None:
        if self.jobs.transition_task(TaskKey(job_id, component, version, *party), TaskStatus.RUNNING):
            self.started.append((component, version, party))

    def stop_task(self, job_id: str, component: str, version: int, party: Party, status: TaskStatus) -> None:
        self.stopped.append((component, version, party, status))
        self.jobs.transition_task(TaskKey(job_id, component, version, *party), status)

    def job_ended(self, job_id: str, party: Party, status: JobStatus) -> None:
        self.ended.append((party, status))

    @property
    def commands(self) -> int:
        return len(self.started) + len(self.stopped) + len(self.ended)


def make_job(
    stores: Stores,
    job_id: str,
    components: Dag,
    *,
    parallelism: int = 1,
    auto_retries: int = 0,
    status: JobStatus = JobStatus.WAITING,
    task_status: TaskStatus = TaskStatus.WAITING,
    timeout: int | None = None,
) -> None:
    """A job of `components` at every party of PARTIES, created with the given job and task statuses."""
    t = now_ms()
    jp: dict[str, int] = {"task_cores": 1, "task_parallelism": parallelism, "auto_retries": auto_retries}
    if timeout is not None:
        jp["timeout"] = timeout
    jobs = [
        JobRow(
            job_id=job_id,
            role=role,
            party_id=pid,
            is_initiator=role == "guest",
            initiator_role="guest",
            initiator_party_id=9999,
            status=status,
            dsl={},
            runtime_conf={},
            runtime_conf_on_party={"job_parameters": jp},
            train_runtime_conf={},
            roles={},
            create_time=t,
            update_time=t,
        )
        for role, pid in PARTIES
    ]
    tasks = [
        TaskRow(
            job_id=job_id,
            component_name=c,
            task_version=0,
            role=role,
            party_id=pid,
            task_id=f"{job_id}_{c}",
            component_module="DataTransform",
            status=task_status,
            party_status=task_status,
            auto_retries=auto_retries,
            create_time=t,
            update_time=t,
        )
        for c in components
        for role, pid in PARTIES
    ]
    stores.jobs.create_job(jobs, tasks)


def make_scheduler(stores: Stores, components: Dag) -> tuple[Scheduler, RecordingGateway]:
    gw = RecordingGateway(stores.jobs)
    sched = Scheduler(
        stores.jobs, gw, JobLimits(max_running_jobs=4, sweep_interval=60), lambda job: components
    )
    return sched, gw
