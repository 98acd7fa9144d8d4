"""Control-plane latency under load: job/query and job/stop on an idle server, under 30 concurrent
jobs, and while a 10,000-component job runs; ratios against the idle baseline of the same run.

The issue's targets: job/query p99 under 200 ms and job/stop under 1 s in both loaded cases.

    python benchmarks/bench_control_plane.py [--queries 200] [--jobs 30] [--components 10000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from _common import upload, wait
from bench_pipeline import psi_job

from fedloom.config import load_settings
from fedloom.server import EmbeddedServer
from fedloom.storage.demo_data import write_demo

QUERY_TARGET = 0.200
STOP_TARGET = 1.0


def slow_job() -> tuple[dict[str, Any], dict[str, Any]]:
    """The host's intersection does not run: the guest's waits for it until stopped."""
    dsl, conf = psi_job()
    conf["component_parameters"]["role"]["host"]["0"]["intersection_0"] = {"need_run": False}
    return dsl, conf


def fan_job(count: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """reader_0 feeding count - 1 parallel DataTransforms (task_parallelism 1, FATE's default)."""
    dsl, conf = psi_job()
    comps: dict[str, Any] = {"reader_0": dsl["components"]["reader_0"]}
    for i in range(count - 1):
        comps[f"dt_{i}"] = {
            "module": "DataTransform",
            "input": {"data": {"data": ["reader_0.data"]}},
            "output": {"data": ["data"]},
        }
    roles = conf["component_parameters"]["role"]
    conf["component_parameters"]["role"] = {r: {"0": {"reader_0": roles[r]["0"]["reader_0"]}} for r in roles}
    return {"components": comps}, conf


def submit(http: httpx.Client, job: tuple[dict[str, Any], dict[str, Any]]) -> str:
    res = http.post("/job/submit", json={"job_dsl": job[0], "job_runtime_conf": job[1]}).json()
    assert res["retcode"] == 0, res
    return str(res["jobId"])


def status(http: httpx.Client, job_id: str) -> str:
    rows = http.post("/job/query", json={"job_id": job_id, "role": "guest"}).json()["data"]
    return str(rows[0]["f_status"])


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def query_latencies(http: httpx.Client, job_id: str, n: int) -> list[float]:
    def one() -> None:
        r = http.post("/job/query", json={"job_id": job_id})
        assert r.json()["retcode"] == 0, r.text

    out = []
    for _ in range(n):
        out.append(timed(one))
        time.sleep(0.01)
    return out


def stop_latencies(http: httpx.Client, n: int) -> list[float]:
    """Submit a job that blocks, wait until it runs, stop it: the time of the stop request."""
    out = []
    for _ in range(n):
        job_id = submit(http, slow_job())
        deadline = time.monotonic() + 120
        while status(http, job_id) == "waiting" and time.monotonic() < deadline:
            time.sleep(0.02)
        t0 = time.perf_counter()
        res = http.post("/job/stop", json={"job_id": job_id}).json()
        out.append(time.perf_counter() - t0)
        assert res["retcode"] == 0, res
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(
    name: str, queries: list[float], stops: list[float], base: tuple[float, float, float] | None
) -> None:
    p50, p99, stop = statistics.median(queries), pct(queries, 0.99), max(stops)
    line = f"{name:<28} query p50 {p50 * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms   stop max {stop * 1000:7.1f} ms"
    if base is not None:
        line += f"   (x{p50 / base[0]:.1f} / x{p99 / base[1]:.1f} / x{stop / base[2]:.1f} of idle)"
        ok = p99 < QUERY_TARGET and stop < STOP_TARGET
        line += "  target met" if ok else "  TARGET MISSED"
    print(line, flush=True)


def run_concurrent(
    http: httpx.Client, url: str, jobs: int, probe: str, n: int, stops: int
) -> tuple[list[float], list[float]]:
    ids: list[str] = []

    def client() -> None:
        with httpx.Client(base_url=url, timeout=120) as own:
            ids.append(submit(own, psi_job()))

    threads = [threading.Thread(target=client) for _ in range(jobs)]
    for t in threads:
        t.start()
    queries = query_latencies(http, probe, n)
    stop = stop_latencies(http, stops)
    for t in threads:
        t.join()
    finished = [wait(http, j) for j in ids]
    print(f"  {jobs} concurrent jobs: {finished.count('success')}/{jobs} success", flush=True)
    return queries, stop


def run_large(
    http: httpx.Client, components: int, probe: str, n: int, stops: int
) -> tuple[list[float], list[float], float]:
    t0 = time.perf_counter()
    big = submit(http, fan_job(components))
    print(f"  {components}-component job submitted in {time.perf_counter() - t0:.2f} s", flush=True)
    while status(http, big) != "running":
        time.sleep(0.05)
    queries = query_latencies(http, probe, n)
    stop = stop_latencies(http, stops)
    assert status(http, big) == "running"
    big_stop = timed(lambda: http.post("/job/stop", json={"job_id": big}))
    assert status(http, big) == "canceled"
    return queries, stop, big_stop


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--stops", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=30)
    ap.add_argument("--components", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo"
        write_demo(demo)
        settings = load_settings(None, port=0, data_dir=Path(tmp) / "server")
        with EmbeddedServer(settings) as srv, httpx.Client(base_url=f"{srv.url}/v1", timeout=120) as http:
            upload(http, demo / "breast_hetero_guest.csv", "breast_hetero_guest")
            upload(http, demo / "breast_hetero_host.csv", "breast_hetero_host")
            probe = submit(http, psi_job())
            assert wait(http, probe) == "success"
            stop_latencies(http, 1)  # warm-up
            q, s = query_latencies(http, probe, args.queries), stop_latencies(http, args.stops)
            base = (statistics.median(q), pct(q, 0.99), max(s))
            print(
                f"job/query and job/stop latency (max_running_jobs {settings.max_running_jobs}, "
                f"{args.queries} queries, {args.stops} stops per case)"
            )
            report("idle (baseline)", q, s, None)
            q, s = run_concurrent(http, f"{srv.url}/v1", args.jobs, probe, args.queries, args.stops)
            report(f"{args.jobs} concurrent jobs", q, s, base)
            q, s, big_stop = run_large(http, args.components, probe, args.queries, args.stops)
            report(f"{args.components}-component job", q, s, base)
            print(
                f"  stop of the {args.components}-component job itself: {big_stop * 1000:.1f} ms "
                f"(x{big_stop / base[2]:.1f} of idle)"
            )


if __name__ == "__main__":
    main()
