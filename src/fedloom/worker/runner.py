"""The task process: runs one component for one party and records how it ended."""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from pathlib import Path

from pydantic import ValidationError

from fedloom.components.api import mode_for
from fedloom.components.registry import get_component
from fedloom.datadir import OWNER_ONLY_UMASK
from fedloom.errors import AuthenticationFailed, FedloomError
from fedloom.federation.channel import Channel, Mailbox, session_name
from fedloom.federation.forward import ForwardingMailbox
from fedloom.paths import federation_dir, tables_dir, task_log_dir
from fedloom.storage.tables import TableStore
from fedloom.store import Stores, now_ms, open_stores
from fedloom.store.status import TaskStatus
from fedloom.worker.context import TaskContext
from fedloom.worker.spec import TaskSpec


def main(spec_json: str) -> None:
    """Entry point of a task process (forked from the warm pool)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.umask(OWNER_ONLY_UMASK)  # whatever started us: the task's files are its user's only
    spec = TaskSpec.model_validate_json(spec_json)
    stores = open_stores(spec.database_url, run_migrations=False)
    log = _task_logger(spec)
    started = time.monotonic()
    try:
        status, error = _run(spec, stores, log)
    except BaseException as exc:  # the process boundary: record why, then end
        status, error = TaskStatus.FAILED, _describe(exc)
        log.error("task failed:\n%s", traceback.format_exc())
    busy = time.monotonic() - started
    _finish(stores, spec, status, error, busy)
    log.info("task ended: %s (%.3fs busy)", status, busy)
    stores.close()
    logging.shutdown()


def _run(spec: TaskSpec, stores: Stores, log: logging.Logger) -> tuple[TaskStatus, str]:
    if not spec.need_run:
        log.info("need_run is false: task passes")
        return TaskStatus.PASS, ""
    component = get_component(spec.module)
    params = component.params.model_validate(spec.params)
    data_dir = Path(spec.data_dir)
    tables = TableStore(tables_dir(data_dir))
    channel = Channel(
        _mailbox(spec, data_dir),
        session_name(spec.job_id, spec.component_name, spec.task_version),
        spec.key.party,
        spec.federation_timeout,
        _federation_key(spec),
    )
    ctx = TaskContext(spec, params, "transform", stores, tables, channel, log)
    ctx.mode = mode_for(ctx.inputs)
    log.info(
        "running %s (%s) as %s %s, mode %s",
        spec.component_name,
        spec.module,
        spec.role,
        spec.party_id,
        ctx.mode,
    )
    component.run(ctx)
    ctx.progress(1.0, "done")
    log.info(
        "sent %d bytes in %d messages", channel.bytes_sent, sum(1 for d in channel.log if d[0] == "send")
    )
    return TaskStatus.SUCCESS, ""


def _mailbox(spec: TaskSpec, data_dir: Path) -> Mailbox:
    if not spec.local_parties:
        return Mailbox(federation_dir(data_dir))
    return ForwardingMailbox(
        federation_dir(data_dir), frozenset(spec.local_parties), spec.forward_socket, spec.federation_timeout
    )


def _federation_key(spec: TaskSpec) -> bytes:
    try:
        key = bytes.fromhex(spec.federation_key)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise AuthenticationFailed("the task was started without a valid federation key for its session")
    return key


def _finish(stores: Stores, spec: TaskSpec, status: TaskStatus, error: str, busy: float) -> None:
    row = stores.jobs.task(spec.key)
    start = row.start_time if row and row.start_time else now_ms()
    end = now_ms()
    stores.jobs.transition_task(
        spec.key, status, end_time=end, elapsed=end - start, error_report=error[:4000], busy_seconds=busy
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, FedloomError):
        return exc.message
    if isinstance(exc, ValidationError):
        return f"invalid parameters: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}"
    # An unexpected error's text may hold server paths or data: it goes to the task log only.
    return f"unexpected {type(exc).__name__} in the task; its log has the details (job log download)"


def _task_logger(spec: TaskSpec) -> logging.Logger:
    log_dir = task_log_dir(Path(spec.data_dir), spec.job_id, spec.role, spec.party_id, spec.component_name)
    log_dir.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(f"fedloom.task.{spec.component_name}")
    logger.handlers.clear()
    logger.propagate = False
    handler = logging.FileHandler(log_dir / "INFO.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    sys.stdout = sys.stderr = handler.stream  # stray prints go to the task log, not the server's
    return logger


__all__ = ["main"]
