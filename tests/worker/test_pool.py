"""The warm pool and the task runner, with real forked task processes over a SQLite store: a task that
succeeds, one that fails, one that is killed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from fedloom.ids import TaskKey
from fedloom.paths import tables_dir, task_log_dir
from fedloom.storage.frame import Frame
from fedloom.storage.tables import TableStore
from fedloom.store import Stores, now_ms, open_stores
from fedloom.store.models import JobRow, TaskRow
from fedloom.store.status import TaskStatus
from fedloom.worker.pool import WorkerPool
from fedloom.worker.spec import TableBinding, TaskSpec

KEY = "cd" * 32
PARTIES = {"guest": [9999], "host": [10000]}


class Exits:
    """The pool's exit handler: the exit code of each task, and a way to wait for one."""

    def __init__(self) -> None:
        self.codes: dict[TaskKey, int | None] = {}
        self._cond = threading.Condition()

    def __call__(self, spec: TaskSpec, code: int | None) -> None:
        with self._cond:
            self.codes[spec.key] = code
            self._cond.notify_all()

    def wait(self, key: TaskKey) -> int | None:
        with self._cond:
            assert self._cond.wait_for(lambda: key in self.codes, timeout=60), f"{key} did not exit"
            return self.codes[key]


@pytest.fixture(scope="module")
def pool() -> Iterator[tuple[WorkerPool, Exits]]:
    exits = Exits()
    p = WorkerPool(exits)
    yield p, exits
    p.shutdown()


@pytest.fixture
def data(tmp_path: Path) -> Iterator[tuple[Path, Stores]]:
    stores = open_stores(f"sqlite:///{tmp_path / 'fedloom.db'}")
    frame = Frame(
        ids=np.array(["a", "b", "c"], dtype=object), features=np.ones((3, 2)), feature_names=["x0", "x1"]
    )
    TableStore(tables_dir(tmp_path)).write("ns", "t", frame)
    yield tmp_path, stores
    stores.close()


def _running_task(stores: Stores, key: TaskKey, module: str) -> None:
    """The rows a party has once it started the task (what PartyService.start_task writes)."""
    t = now_ms()
    job = JobRow(
        job_id=key.job_id,
        role=key.role,
        party_id=key.party_id,
        is_initiator=True,
        initiator_role="guest",
        initiator_party_id=9999,
        status="running",
        dsl={},
        runtime_conf={},
        runtime_conf_on_party={"job_parameters": {}},
        train_runtime_conf={},
        roles=PARTIES,
        create_time=t,
        update_time=t,
    )
    task = TaskRow(
        job_id=key.job_id,
        component_name=key.component_name,
        task_version=key.task_version,
        role=key.role,
        party_id=key.party_id,
        task_id=f"{key.job_id}_{key.component_name}",
        component_module=module,
        status=TaskStatus.RUNNING,
        party_status=TaskStatus.RUNNING,
        start_time=t,
        create_time=t,
        update_time=t,
    )
    stores.jobs.create_job([job], [task])


def _spec(data_dir: Path, key: TaskKey, module: str, **fields: object) -> TaskSpec:
    base: dict[str, object] = {
        "job_id": key.job_id,
        "component_name": key.component_name,
        "module": module,
        "task_version": key.task_version,
        "role": key.role,
        "party_id": key.party_id,
        "parties": PARTIES,
        "params": {},
        "database_url": f"sqlite:///{data_dir / 'fedloom.db'}",
        "data_dir": str(data_dir),
        "federation_key": KEY,
        "federation_timeout": 5.0,
    }
    return TaskSpec.model_validate({**base, **fields})


def _run(
    pool: tuple[WorkerPool, Exits], data: tuple[Path, Stores], key: TaskKey, module: str, **fields: object
) -> int | None:
    workers, exits = pool
    data_dir, stores = data
    _running_task(stores, key, module)
    workers.start(_spec(data_dir, key, module, **fields))
    code = exits.wait(key)
    assert key not in workers.running()
    return code


def test_a_task_that_succeeds(pool: tuple[WorkerPool, Exits], data: tuple[Path, Stores]) -> None:
    key = TaskKey("job_ok", "reader_0", 0, "guest", 9999)
    table = {"namespace": "ns", "name": "t"}
    code = _run(
        pool, data, key, "Reader", params={"table": table}, data_inputs={"table": [TableBinding(**table)]}
    )
    data_dir, stores = data
    row = stores.jobs.task(key)
    assert code == 0
    assert row is not None and (row.party_status, row.error_report) == (TaskStatus.SUCCESS, "")
    assert row.end_time is not None and row.elapsed is not None
    assert [r.data_name for r in stores.tracking.output_data("job_ok", "reader_0", "guest", 9999)] == ["data"]
    assert (
        "task ended: success"
        in (task_log_dir(data_dir, "job_ok", "guest", 9999, "reader_0") / "INFO.log").read_text()
    )


def test_a_task_that_fails_records_why(pool: tuple[WorkerPool, Exits], data: tuple[Path, Stores]) -> None:
    key = TaskKey("job_bad", "reader_0", 0, "guest", 9999)
    code = _run(
        pool, data, key, "Reader", params={"table": {"namespace": "ns", "name": "t"}}
    )  # bound no input
    data_dir, stores = data
    row = stores.jobs.task(key)
    assert code == 0  # the runner recorded the failure and ended normally
    assert row is not None and row.party_status == TaskStatus.FAILED
    # An unexpected exception: its class in the report, its text and trace only in the task log.
    assert row.error_report.startswith("unexpected IndexError") and str(data_dir) not in row.error_report
    log = (task_log_dir(data_dir, "job_bad", "guest", 9999, "reader_0") / "INFO.log").read_text()
    assert "Traceback" in log and "IndexError" in log


def test_a_task_without_need_run_passes(pool: tuple[WorkerPool, Exits], data: tuple[Path, Stores]) -> None:
    key = TaskKey("job_pass", "reader_0", 0, "guest", 9999)
    assert _run(pool, data, key, "Reader", need_run=False) == 0
    row = data[1].jobs.task(key)
    assert row is not None and row.party_status == TaskStatus.PASS


def test_a_killed_task_exits_without_an_end_status(
    pool: tuple[WorkerPool, Exits], data: tuple[Path, Stores]
) -> None:
    workers, exits = pool
    data_dir, stores = data
    key = TaskKey("job_kill", "intersection_0", 0, "host", 10000)
    _running_task(stores, key, "Intersection")
    # The host waits for the guest's first message, which never comes.
    workers.start(
        _spec(
            data_dir,
            key,
            "Intersection",
            data_inputs={"data": [TableBinding(namespace="ns", name="t")]},
            federation_timeout=600.0,
        )
    )
    assert key in workers.running()
    assert workers.kill(key)
    assert exits.wait(key) == -9
    assert key not in workers.running()
    assert not workers.kill(key)  # nothing left to kill
    row = stores.jobs.task(key)
    assert row is not None and row.party_status == TaskStatus.RUNNING  # the party service decides what it was
