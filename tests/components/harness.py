"""In-memory multi-party runner: one component's `run` per party, every message through the real codec.

Each party runs in its own thread (default) or its own forked process (`processes=True`, for timing:
the parties then compute in parallel as they do in real tasks, instead of sharing one GIL). Messages
travel per ordered (src, dst) pair in FIFO order, as `fedloom.federation.channel` delivers them, and
every one is recorded as (name, src, dst, decoded payload, size). Process mode returns recorded
messages, progress and metrics but not output frames (only codec values cross the process boundary).
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

from fedloom.components.api import (
    ComponentSpec,
    Inputs,
    Metrics,
    ModelArtifact,
    Outputs,
    Party,
    RunMode,
    mode_for,
)
from fedloom.federation import codec
from fedloom.storage.frame import Frame

RECV_TIMEOUT = 300.0


class Aborted(RuntimeError):
    """Another party failed: stop waiting for its messages."""


@dataclass(frozen=True)
class Message:
    name: str
    src: Party
    dst: Party
    payload: Any
    size: int


@dataclass
class PartySetup:
    """One party of the run: its parameters (raw dict, validated by the spec) and inputs."""

    role: str
    party_id: int
    params: dict[str, Any] = field(default_factory=dict)
    data: dict[str, list[Frame]] = field(default_factory=dict)
    models: list[ModelArtifact] = field(default_factory=list)

    @property
    def party(self) -> Party:
        return (self.role, self.party_id)


@dataclass
class PartyResult:
    """What one party's run produced."""

    data: dict[str, Frame] = field(default_factory=dict)
    model: ModelArtifact | None = None
    summary: dict[str, Any] | None = None
    metrics: list[tuple[str, str, list[tuple[Any, Any]], dict[str, Any]]] = field(default_factory=list)
    progress: list[tuple[float, float, str]] = field(default_factory=list)  # (time, fraction, message)
    error: str | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # CPU time of this party's thread (or process): contention-free cost


@dataclass
class RunResult:
    parties: dict[Party, PartyResult]
    messages: list[Message]

    def __getitem__(self, party: Party) -> PartyResult:
        return self.parties[party]

    def between(self, a: str, b: str) -> list[Message]:
        """Messages from role a to role b."""
        return [m for m in self.messages if m.src[0] == a and m.dst[0] == b]


class _Flag(Protocol):
    def set(self) -> None: ...

    def is_set(self) -> bool: ...


class _Pipe(Protocol):
    def put(self, data: bytes) -> None: ...

    def get(self, abort: _Flag) -> bytes: ...

    def flush(self) -> None: ...


def _wait(ready: Callable[[], bytes | None], abort: _Flag) -> bytes:
    deadline = time.monotonic() + RECV_TIMEOUT
    while time.monotonic() < deadline:
        if abort.is_set():
            raise Aborted("another party failed")
        data = ready()
        if data is not None:
            return data
    raise TimeoutError(f"no message after {RECV_TIMEOUT}s")


class _ThreadPipe:
    def __init__(self) -> None:
        self._q: queue.Queue[bytes] = queue.Queue()

    def put(self, data: bytes) -> None:
        self._q.put(data)

    def get(self, abort: _Flag) -> bytes:
        return _wait(self._ready, abort)

    def flush(self) -> None:
        pass

    def _ready(self) -> bytes | None:
        try:
            return self._q.get(timeout=0.05)
        except queue.Empty:
            return None


class _ProcessPipe:
    """One direction of a multiprocessing Pipe: raw bytes only (send_bytes), nothing pickled."""

    def __init__(self) -> None:
        self._recv, self._send = multiprocessing.get_context("fork").Pipe(duplex=False)
        self._outbox: queue.Queue[bytes] | None = None

    def put(self, data: bytes) -> None:
        # A pipe holds 64 KiB: two parties writing big messages to each other at once would block
        # forever, so a writer thread in the sending process buffers like a real mailbox does.
        if self._outbox is None:
            self._outbox = queue.Queue()
            threading.Thread(target=self._drain, args=(self._outbox,), daemon=True).start()
        self._outbox.put(data)

    def _drain(self, outbox: queue.Queue[bytes]) -> None:
        while True:
            self._send.send_bytes(outbox.get())
            outbox.task_done()

    def flush(self) -> None:
        """Wait until the writer thread has written everything (before the sending process exits)."""
        if self._outbox is not None:
            self._outbox.join()

    def get(self, abort: _Flag) -> bytes:
        return _wait(self._ready, abort)

    def _ready(self) -> bytes | None:
        return self._recv.recv_bytes() if self._recv.poll(0.05) else None


class _Network:
    """Per-pair FIFO pipes; each receiver buffers messages of other names until they are asked for."""

    def __init__(self, parties: Sequence[Party], processes: bool) -> None:
        make = _ProcessPipe if processes else _ThreadPipe
        self.pipes: dict[tuple[Party, Party], _Pipe] = {
            (a, b): make() for a in parties for b in parties if a != b
        }
        self.abort: _Flag = multiprocessing.get_context("fork").Event() if processes else threading.Event()
        self.log: list[Message] = []
        self._lock = threading.Lock()

    def send(self, src: Party, name: str, obj: Any, to: Sequence[Party]) -> None:
        payload = codec.dumps(obj)  # refuses anything the real wire refuses
        decoded = codec.loads(payload)
        for dst in to:
            with self._lock:
                self.log.append(Message(name, src, tuple(dst), decoded, len(payload)))  # type: ignore[arg-type]
            self.pipes[(src, tuple(dst))].put(codec.dumps([name, payload]))  # type: ignore[index]


class _Endpoint:
    def __init__(self, net: _Network, me: Party) -> None:
        self._net = net
        self._me = me
        self._buffer: dict[tuple[str, Party], list[bytes]] = defaultdict(list)

    def recv(self, name: str, frm: Party) -> Any:
        frm = (frm[0], frm[1])
        pending = self._buffer[(name, frm)]
        while not pending:
            got_name, payload = codec.loads(self._net.pipes[(frm, self._me)].get(self._net.abort))
            self._buffer[(got_name, frm)].append(payload)
        return codec.loads(pending.pop(0))


class _Inputs:
    def __init__(self, data: dict[str, list[Frame]], models: list[ModelArtifact]) -> None:
        self._data = data
        self.models = list(models)
        self.isometric_models: list[ModelArtifact] = []

    def data(self, key: str = "data") -> list[Frame]:
        return list(self._data.get(key, []))

    def has(self, key: str) -> bool:
        return bool(self._data.get(key))


class _Outputs:
    def __init__(self, result: PartyResult) -> None:
        self._r = result

    def set_data(self, frame: Frame, alias: str = "data") -> None:
        self._r.data[alias] = frame

    def set_model(self, model: ModelArtifact) -> None:
        codec.dumps([model.param, model.meta])  # models must be plain values (they are stored as JSON)
        self._r.model = model

    def set_summary(self, summary: dict[str, Any]) -> None:
        self._r.summary = summary


class _Metrics:
    def __init__(self, result: PartyResult) -> None:
        self._r = result

    def log(
        self, namespace: str, name: str, data: Sequence[tuple[Any, Any]], meta: dict[str, Any] | None = None
    ) -> None:
        self._r.metrics.append((namespace, name, list(data), dict(meta or {})))


class FakeContext:
    """The Context a component sees, backed by the in-memory network."""

    def __init__(
        self,
        setup: PartySetup,
        spec: ComponentSpec,
        parties: dict[str, list[int]],
        net: _Network,
        result: PartyResult,
        component_name: str,
    ) -> None:
        self.job_id = "harness_job"
        self.component_name = component_name
        self.task_version = 0
        self.role = setup.role
        self.party_id = setup.party_id
        self.parties = parties
        self.params = spec.params.model_validate(setup.params)
        self.inputs: Inputs = _Inputs(setup.data, setup.models)
        self.mode: RunMode = mode_for(self.inputs)
        self.outputs: Outputs = _Outputs(result)
        self.metrics: Metrics = _Metrics(result)
        self.log = logging.getLogger(f"harness.{setup.role}.{setup.party_id}")
        self._net = net
        self._me = setup.party
        self._endpoint = _Endpoint(net, setup.party)
        self._result = result

    def send(self, name: str, obj: Any, to: Sequence[Party]) -> None:
        self._net.send(self._me, name, obj, to)

    def recv(self, name: str, frm: Party) -> Any:
        return self._endpoint.recv(name, frm)

    def progress(self, fraction: float, message: str = "") -> None:
        self._result.progress.append((time.perf_counter(), fraction, message))

    def cores(self) -> int:
        return 1


def _parties_of(setups: Sequence[PartySetup]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for s in setups:
        out[s.role].append(s.party_id)
    return dict(out)


def _run_one(ctx: FakeContext, spec: ComponentSpec, result: PartyResult, net: _Network) -> None:
    start, cpu_start = time.perf_counter(), time.thread_time()
    try:
        spec.run(ctx)
    except Aborted:
        result.error = "aborted: another party failed"
    except BaseException:  # the harness reports every failure of a party rather than hanging the others
        result.error = traceback.format_exc()
        net.abort.set()
    result.seconds = time.perf_counter() - start
    result.cpu_seconds = time.thread_time() - cpu_start


def run_component(
    spec: ComponentSpec,
    setups: Sequence[PartySetup],
    *,
    component_name: str = "cpn_0",
    processes: bool = False,
) -> RunResult:
    """Run `spec` at every party; raise AssertionError with the tracebacks if any party failed."""
    parties = _parties_of(setups)
    net = _Network([s.party for s in setups], processes)
    if processes:
        results = _run_processes(spec, setups, parties, net, component_name)
    else:
        results = _run_threads(spec, setups, parties, net, component_name)
    errors = {p: r.error for p, r in results.items() if r.error}
    if errors:
        raise AssertionError("\n".join(f"{p}: {e}" for p, e in errors.items()))
    return RunResult(results, net.log)


def _run_threads(
    spec: ComponentSpec,
    setups: Sequence[PartySetup],
    parties: dict[str, list[int]],
    net: _Network,
    component_name: str,
) -> dict[Party, PartyResult]:
    results = {s.party: PartyResult() for s in setups}
    threads = []
    for s in setups:
        ctx = FakeContext(s, spec, parties, net, results[s.party], component_name)
        threads.append(
            threading.Thread(target=_run_one, args=(ctx, spec, results[s.party], net), daemon=True)
        )
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _run_processes(
    spec: ComponentSpec,
    setups: Sequence[PartySetup],
    parties: dict[str, list[int]],
    net: _Network,
    component_name: str,
) -> dict[Party, PartyResult]:
    mp = multiprocessing.get_context("fork")
    channels: dict[Party, tuple[Connection, Connection]] = {s.party: mp.Pipe(duplex=False) for s in setups}
    procs = []
    for s in setups:
        ctx = FakeContext(s, spec, parties, net, PartyResult(), component_name)
        proc = mp.Process(target=_child, args=(ctx, spec, net, channels[s.party][1]), daemon=True)
        proc.start()
        procs.append(proc)
    pending = {conn: party for party, (conn, _) in channels.items()}
    results: dict[Party, PartyResult] = {}
    while pending:  # read reports as they come: a large one blocks its sender until it is read
        ready = wait(list(pending), timeout=RECV_TIMEOUT * 2)
        if not ready:
            raise AssertionError(f"no report from {sorted(pending.values())}")
        for conn in ready:
            assert isinstance(conn, Connection)
            results[pending.pop(conn)] = _collect(conn, net)
    for proc in procs:
        proc.join(timeout=10)
    return results


def _child(ctx: FakeContext, spec: ComponentSpec, net: _Network, out: Connection) -> None:
    result = ctx._result
    _run_one(ctx, spec, result, net)
    for pipe in net.pipes.values():
        pipe.flush()
    model = None if result.model is None else [result.model.module, result.model.param, result.model.meta]
    report = {
        "model": model,
        "summary": result.summary,
        "metrics": result.metrics,
        "progress": result.progress,
        "error": result.error,
        "seconds": result.seconds,
        "cpu_seconds": result.cpu_seconds,
        "messages": [[m.name, m.src, m.dst, m.payload, m.size] for m in net.log],
    }
    out.send_bytes(codec.dumps(report))


def _collect(conn: Connection, net: _Network) -> PartyResult:
    report = codec.loads(conn.recv_bytes())
    model = None if report["model"] is None else ModelArtifact(*report["model"])
    net.log.extend(Message(n, tuple(s), tuple(d), p, z) for n, s, d, p, z in report["messages"])
    return PartyResult(
        model=model,
        summary=report["summary"],
        error=report["error"],
        seconds=report["seconds"],
        cpu_seconds=report["cpu_seconds"],
        metrics=[(a, b, [tuple(x) for x in c], d) for a, b, c, d in report["metrics"]],
        progress=[tuple(x) for x in report["progress"]],
    )


__all__ = ["FakeContext", "Message", "PartySetup", "PartyResult", "RunResult", "run_component"]
