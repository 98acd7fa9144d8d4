"""End-to-end overhead of cluster mode against standalone on the Hetero LR demo job, in the same run.

Standalone (the baseline): one `fedloom server start` subprocess on SQLite hosting guest 9999, host 10000
and arbiter 10001. Cluster: three `fedloom server start` subprocesses in cluster mode on 127.0.0.1
(mutual TLS between them, signed client requests): the guest on SQLite, the host on MariaDB, the
arbiter on PostgreSQL (`--sqlite-only`: all three on SQLite). Both are subprocesses, so neither shares
a process with the benchmark; both sweep every 0.5 s and preload their worker pools.

Uploads and consent come before timing. A run is the wall time from job/submit at the guest to the
guest's initiator row showing `success` (job/query at the guest polled every 50 ms; one query per poll
in both modes); "all parties" is until the host's and arbiter's rows there show `success` too. After
each run, each party's own row at its own server is checked to have ended `success` (untimed). One
warm-up job per mode (not timed), then the modes take turns. The per-task breakdown of each mode's
median run comes from job/task/query at each party's server, and the hetero_lr_0 message counts from
the task logs.

    python benchmarks/bench_cluster.py [--runs 3] [--max-iter 30] [--sqlite-only]

The machine's cores are shared with whatever else runs there: its load average is printed before and
after, and the figures are only as steady as that load.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import sqlalchemy as sa
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.cluster.harness import MARIADB_ADMIN, POSTGRES_ADMIN, Cluster, free_port, new_database
from tests.e2e.conftest import Api
from tests.e2e.jobs import hetero_lr_job
from tests.e2e.test_hetero_lr_job import _auc

from fedloom.storage.demo_data import write_demo

GUEST, HOST, ARBITER = 9999, 10000, 10001
PARTIES = {GUEST: "guest", HOST: "host", ARBITER: "arbiter"}
COMPONENTS = ("reader_0", "data_transform_0", "intersection_0", "hetero_lr_0", "evaluation_0")
POLL = 0.05
ENDS = frozenset({"success", "failed", "canceled", "timeout"})
SERVER_SETTINGS = {"sweep_interval": 0.5, "worker_preload": True}  # as the cluster harness sets them
SENT = re.compile(r"sent (\d+) bytes in (\d+) messages")  # the last line of a task's log


class Client(Protocol):
    def post(self, path: str, body: Any = None, **kw: Any) -> dict[str, Any]: ...

    def ok(self, path: str, body: Any = None) -> Any: ...


@dataclass
class Mode:
    name: str
    servers: dict[int, Client]  # party -> the server that serves it (one and the same in standalone)
    data_dirs: dict[int, Path]


@dataclass
class Run:
    guest_s: float  # submit -> the guest's initiator row shows success
    all_s: float  # submit -> every party's row at the guest shows success
    auc: float
    submitted_ms: float  # wall clock at submit, to place the task times
    tasks: list[dict[str, Any]]  # each party's own task rows, from its server
    lr_sent: tuple[int, int]  # messages and bytes sent by the hetero_lr_0 tasks


# ---- servers ------------------------------------------------------------------------------------
def start_standalone(stack: ExitStack, root: Path) -> Api:
    """One `fedloom server start` subprocess in standalone mode; an unsigned client of it."""
    root.mkdir()
    port, config, log = free_port(), root / "server.yaml", root / "server.log"
    config.write_text(yaml.safe_dump({"port": port, "data_dir": str(root / "data"), **SERVER_SETTINGS}))
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from fedloom.cli.main import main; main()", "server", "start"]
            + ["--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    stack.callback(_stop, proc)
    api = Api(f"http://127.0.0.1:{port}")
    stack.callback(api.http.close)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"standalone server exited:\n{log.read_text()[-4000:]}")
        try:
            api.post("/version/get", {})
            return api
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"standalone server did not answer in 60 s:\n{log.read_text()[-4000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def drop_database(url: str) -> None:
    """Drop a database made by `new_database` (its servers stopped first)."""
    parsed = sa.engine.make_url(url)
    postgres = parsed.get_backend_name() == "postgresql"
    admin = POSTGRES_ADMIN if postgres else MARIADB_ADMIN
    force = " WITH (FORCE)" if postgres else ""  # a connection left by a dying task must not block it
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {parsed.database}{force}"))
    finally:
        engine.dispose()


def start_cluster(stack: ExitStack, root: Path, sqlite_only: bool) -> Cluster:
    databases: dict[int, str] = {}
    if not sqlite_only:
        for pid, kind in ((HOST, "mariadb"), (ARBITER, "postgres")):
            databases[pid] = new_database(kind)
            stack.callback(drop_database, databases[pid])  # after the servers stop: LIFO
    cluster = Cluster(root, list(PARTIES), databases)
    stack.callback(cluster.close)
    cluster.start_all()
    return cluster


def standalone_mode(stack: ExitStack, root: Path, demo: Path) -> Mode:
    api = start_standalone(stack, root)
    for name in ("breast_hetero_guest", "breast_hetero_host"):
        res = api.upload(demo / f"{name}.csv", "experiment", name)
        assert res["retcode"] == 0, res
    return Mode("standalone", dict.fromkeys(PARTIES, api), dict.fromkeys(PARTIES, root / "data"))


def cluster_mode(stack: ExitStack, root: Path, demo: Path, sqlite_only: bool) -> Mode:
    cluster = start_cluster(stack, root, sqlite_only)
    apis: dict[int, Client] = {pid: cluster.api(pid) for pid in PARTIES}
    for pid, name in ((GUEST, "breast_hetero_guest"), (HOST, "breast_hetero_host")):
        res = cluster.api(pid).upload(demo / f"{name}.csv", "experiment", name)
        assert res["retcode"] == 0, res
    for pid in (HOST, ARBITER):
        apis[pid].ok("/permission/grant", {"party_id": GUEST})
    return Mode("cluster", apis, {pid: root / f"data-{pid}" for pid in PARTIES})  # the harness's layout


# ---- one job ------------------------------------------------------------------------------------
def statuses(api: Client, job_id: str) -> dict[int, str]:
    """Party -> status of its row in `api`'s job/query; empty while the server does not know the job."""
    res = api.post("/job/query", {"job_id": job_id})
    rows = (res.get("data") or []) if res["retcode"] == 0 else []
    return {int(r["f_party_id"]): str(r["f_status"]) for r in rows}


def wait_all(mode: Mode, job_id: str, t0: float, timeout: float = 900.0) -> dict[int, float]:
    """Seconds from t0 until each party's row at the guest shows success. One query per poll in both
    modes: the initiator holds every party's row, and more polling would load the servers it times."""
    done: dict[int, float] = {}
    while len(done) < len(PARTIES):
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError(f"{mode.name}: job {job_id} not done in {timeout:.0f} s")
        for pid, status in statuses(mode.servers[GUEST], job_id).items():
            if status in ENDS and status != "success":
                raise RuntimeError(f"{mode.name}: job {job_id} ended {status} at party {pid}")
            if status == "success":
                done.setdefault(pid, time.perf_counter() - t0)
        time.sleep(POLL)
    return done


def confirm_own_rows(mode: Mode, job_id: str, timeout: float = 60.0) -> None:
    """Each party's own row at its own server ends `success` too (untimed, after the run)."""
    deadline = time.monotonic() + timeout
    for pid, api in mode.servers.items():
        while (status := statuses(api, job_id).get(pid)) != "success":
            if status in ENDS or time.monotonic() > deadline:
                raise RuntimeError(f"{mode.name}: job {job_id} is {status} at party {pid}'s own server")
            time.sleep(POLL)


def own_tasks(mode: Mode, job_id: str) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = []
    for pid, api in mode.servers.items():
        rows = api.ok("/job/task/query", {"job_id": job_id, "party_id": pid})
        tasks += [t for t in rows if t["f_party_id"] == pid]
    return tasks


def run_job(mode: Mode, max_iter: int) -> Run:
    dsl, conf = hetero_lr_job(GUEST, HOST, ARBITER, max_iter=max_iter)
    submitted_ms, t0 = time.time() * 1000, time.perf_counter()
    res = mode.servers[GUEST].post("/job/submit", {"dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 0, res
    job_id = res["jobId"]
    done = wait_all(mode, job_id, t0)
    confirm_own_rows(mode, job_id)
    auc = _auc(mode.servers[GUEST], job_id)  # type: ignore[arg-type]  # either client has .ok
    tasks = own_tasks(mode, job_id)
    return Run(done[GUEST], max(done.values()), auc, submitted_ms, tasks, lr_sent(mode, job_id))


def lr_sent(mode: Mode, job_id: str) -> tuple[int, int]:
    """Messages and bytes the hetero_lr_0 tasks of all parties sent, from their task logs."""
    messages = size = 0
    for pid, role in PARTIES.items():
        log = mode.data_dirs[pid] / "logs" / job_id / role / str(pid) / "hetero_lr_0" / "INFO.log"
        found = SENT.search(log.read_text()) if log.exists() else None
        if found:
            size, messages = size + int(found[1]), messages + int(found[2])
    return messages, size


# ---- report -------------------------------------------------------------------------------------
def median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda r: r.guest_s)[(len(runs) - 1) // 2]


def components(run: Run) -> dict[tuple[str, str], tuple[float, float, float, float]]:
    """Per (component, role) that ran: start and end (s from submit), busy time, and the gap from the
    previous component's end at its last party to this start (dispatch; the first: from submit)."""
    ran = [t for t in run.tasks if t["f_start_time"] and t["f_end_time"]]
    out: dict[tuple[str, str], tuple[float, float, float, float]] = {}
    previous_end = 0.0
    for name in COMPONENTS:
        mine = [t for t in ran if t["f_component_name"] == name]
        for t in mine:
            start = (t["f_start_time"] - run.submitted_ms) / 1000
            end = (t["f_end_time"] - run.submitted_ms) / 1000
            out[(name, t["f_role"])] = (start, end, float(t["f_busy_seconds"] or 0), start - previous_end)
        if mine:
            previous_end = max(end for (n, _), (_, end, _, _) in out.items() if n == name)
    return out


def summary(results: dict[str, list[Run]]) -> dict[str, float]:
    base, cl = results["standalone"], results["cluster"]
    out = {
        "standalone_median_s": statistics.median(r.guest_s for r in base),
        "standalone_min_s": min(r.guest_s for r in base),
        "cluster_median_s": statistics.median(r.guest_s for r in cl),
        "cluster_min_s": min(r.guest_s for r in cl),
        "cluster_all_parties_median_s": statistics.median(r.all_s for r in cl),
        "cluster_all_parties_min_s": min(r.all_s for r in cl),
        "standalone_auc": base[0].auc,
        "cluster_auc": cl[0].auc,
    }
    aucs = [r.auc for runs in results.values() for r in runs]
    out["auc_spread"] = max(aucs) - min(aucs)
    out["ratio"] = out["cluster_median_s"] / out["standalone_median_s"]
    out["overhead_s"] = out["cluster_median_s"] - out["standalone_median_s"]
    out["overhead_pct"] = 100 * out["overhead_s"] / out["standalone_median_s"]
    return out


def print_table(args: argparse.Namespace, s: dict[str, float], results: dict[str, list[Run]]) -> None:
    dbs = "all SQLite" if args.sqlite_only else "guest SQLite, host MariaDB, arbiter PostgreSQL"
    print(
        f"Hetero LR demo job (breast, 569 rows; {args.max_iter} iterations, full batch, 1024-bit Paillier),"
        f" submit -> success at the guest; runs: {args.runs} per mode after 1 warm-up each, alternating"
    )
    print("  standalone: one `fedloom server start` subprocess hosting all three parties (SQLite)")
    print(f"  cluster:    three `fedloom server start` subprocesses, mutual TLS, signed requests ({dbs})")
    print(f"\n  {'mode':<22} {'median s':>9} {'min s':>8} {'AUC':>10} {'cluster/standalone':>19}")
    base = s["standalone_median_s"]
    for label, key, auc in (
        ("standalone", "standalone", "standalone_auc"),
        ("cluster", "cluster", "cluster_auc"),
        ("cluster, all parties", "cluster_all_parties", "cluster_auc"),
    ):
        med, low = s[f"{key}_median_s"], s[f"{key}_min_s"]
        print(f"  {label:<22} {med:9.2f} {low:8.2f} {s[auc]:10.6f} {med / base:19.2f}")
    equal = "yes" if s["auc_spread"] < 1e-9 else f"NO (spread {s['auc_spread']:.3g})"
    print(
        f"\n  cluster overhead: {s['overhead_s']:+.2f} s ({s['overhead_pct']:+.1f}%) at the median, "
        f"{s['cluster_min_s'] - s['standalone_min_s']:+.2f} s at the min; AUC equal in every run: {equal}"
    )
    for mode, runs in results.items():
        print(f"  {mode} runs, s: " + " ".join(f"{r.guest_s:.2f}" for r in runs))


def print_breakdown(results: dict[str, list[Run]]) -> None:
    print("\nper task, median run of each mode (s from submit; busy = the task's own time; gap = start -")
    print("end of the previous component at its last party, i.e. dispatch; first component: from submit):")
    spans = {m: components(median_run(runs)) for m, runs in results.items()}
    print(f"  {'component':<17} {'role':<8}" + "".join(f"  {m:>31}" for m in spans))
    print(f"  {'':<26}" + "  {:>7} {:>7} {:>7} {:>7}".format("start", "end", "busy", "gap") * len(spans))
    roles = list(PARTIES.values())
    keys = sorted(
        {k for span in spans.values() for k in span},
        key=lambda k: (COMPONENTS.index(k[0]), roles.index(k[1])),
    )
    for key in keys:
        cells = "".join(
            "  {:7.2f} {:7.2f} {:7.2f} {:7.2f}".format(*span.get(key, (float("nan"),) * 4))
            for span in spans.values()
        )
        print(f"  {key[0]:<17} {key[1]:<8}{cells}")
    tails = "".join(
        f"  {median_run(results[m]).guest_s - max(v[1] for v in span.values()):31.2f}"
        for m, span in spans.items()
    )
    print(f"  {'last end -> success seen':<26}{tails}")
    for mode, runs in results.items():
        sent = median_run(runs).lr_sent
        print(f"  hetero_lr_0, {mode}: {sent[0]} messages, {sent[1] / 1e6:.2f} MB sent by all parties")


def report(
    results: dict[str, list[Run]], args: argparse.Namespace, load: list[tuple[float, ...]]
) -> dict[str, float]:
    s = summary(results)
    print_table(args, s, results)
    print_breakdown(results)
    before, after = (" ".join(f"{x:.2f}" for x in avg) for avg in load)
    print(f"\nload average (1/5/15 min): before {before}, after {after}; {os.cpu_count()} cores")
    return s


def measure(modes: list[Mode], runs: int, max_iter: int) -> dict[str, list[Run]]:
    for mode in modes:
        run_job(mode, max_iter)  # warm-up: first fork of each component module, first connections
    results: dict[str, list[Run]] = {m.name: [] for m in modes}
    for _ in range(runs):
        for mode in modes:
            results[mode.name].append(run_job(mode, max_iter))
    return results


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark and print its table; the medians, mins, ratio, overhead and AUCs."""
    ap = argparse.ArgumentParser(description="Cluster mode against standalone on the Hetero LR demo job.")
    ap.add_argument("--runs", type=int, default=3, help="timed jobs per mode; the median is reported")
    ap.add_argument("--max-iter", type=int, default=30, help="Hetero LR iterations")
    ap.add_argument("--sqlite-only", action="store_true", help="every cluster server on SQLite")
    args = ap.parse_args(argv)
    args.runs = max(1, args.runs)
    load_before = os.getloadavg()
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="fedloom-bench-cluster-"))
        stack.callback(shutil.rmtree, tmp, True)
        write_demo(tmp / "demo")
        modes = [
            standalone_mode(stack, tmp / "standalone", tmp / "demo"),
            cluster_mode(stack, tmp / "cluster", tmp / "demo", args.sqlite_only),
        ]
        results = measure(modes, args.runs, args.max_iter)
    return report(results, args, [load_before, os.getloadavg()])


if __name__ == "__main__":
    main()
