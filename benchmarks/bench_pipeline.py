"""Submit-to-success time of the reader -> data_transform -> intersection job on the breast demo data.

Prints wall time per job, the busy time of the tasks on the critical path, and the scheduling
overhead (wall minus critical-path busy time), next to FATE 2.2's ~15 s for the same job here.

    python benchmarks/bench_pipeline.py [--runs 5] [--jobs 20 --max-running 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _common import upload, wait

from fedloom.config import load_settings
from fedloom.server import EmbeddedServer
from fedloom.storage.demo_data import write_demo

FATE_PSI_SECONDS = 15.0


def psi_job() -> tuple[dict[str, Any], dict[str, Any]]:
    dsl = {
        "components": {
            "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
            "data_transform_0": {
                "module": "DataTransform",
                "input": {"data": {"data": ["reader_0.data"]}},
                "output": {"data": ["data"], "model": ["model"]},
            },
            "intersection_0": {
                "module": "Intersection",
                "input": {"data": {"data": ["data_transform_0.data"]}},
                "output": {"data": ["data"]},
            },
        }
    }
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000]},
        "component_parameters": {
            "role": {
                "guest": {
                    "0": {
                        "reader_0": {"table": {"name": "breast_hetero_guest", "namespace": "experiment"}},
                        "data_transform_0": {"with_label": True},
                    }
                },
                "host": {
                    "0": {"reader_0": {"table": {"name": "breast_hetero_host", "namespace": "experiment"}}}
                },
            }
        },
    }
    return dsl, conf


def critical_busy(http: httpx.Client, job_id: str) -> float:
    """Sum over DAG levels (a chain here) of the slowest party's busy time of that component."""
    tasks = http.post("/job/task/query", json={"job_id": job_id}).json()["data"]
    per_cpn: dict[str, float] = {}
    for t in tasks:
        per_cpn[t["f_component_name"]] = max(per_cpn.get(t["f_component_name"], 0.0), t["f_busy_seconds"])
    return sum(per_cpn.values())


def run_single(http: httpx.Client, runs: int) -> None:
    walls, busies = [], []
    dsl, conf = psi_job()
    for _ in range(runs):
        t0 = time.perf_counter()
        job_id = http.post("/job/submit", json={"job_dsl": dsl, "job_runtime_conf": conf}).json()["jobId"]
        assert wait(http, job_id) == "success"
        walls.append(time.perf_counter() - t0)
        busies.append(critical_busy(http, job_id))
    wall, busy = statistics.median(walls), statistics.median(busies)
    print(f"PSI job (569 rows, guest+host), median of {runs}:")
    print(
        f"  submit -> success     {wall:7.3f} s   (FATE 2.2 here: ~{FATE_PSI_SECONDS:.0f} s; "
        f"{FATE_PSI_SECONDS / wall:.1f}x faster)"
    )
    print(f"  task busy (crit path) {busy:7.3f} s")
    print(f"  scheduling overhead   {wall - busy:7.3f} s   ({(wall - busy) / wall:.0%} of wall)")


def run_burst(http: httpx.Client, n: int) -> None:
    dsl, conf = psi_job()
    t0 = time.perf_counter()
    ids = [
        http.post("/job/submit", json={"job_dsl": dsl, "job_runtime_conf": conf}).json()["jobId"]
        for _ in range(n)
    ]
    statuses = [wait(http, j) for j in ids]
    wall = time.perf_counter() - t0
    print(
        f"{n} jobs submitted at once: {statuses.count('success')}/{n} success in {wall:.2f} s "
        f"({wall / n:.3f} s per job)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=20)
    ap.add_argument("--max-running", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo"
        write_demo(demo)
        settings = load_settings(
            None, port=0, data_dir=Path(tmp) / "server", max_running_jobs=args.max_running
        )
        with EmbeddedServer(settings) as srv, httpx.Client(base_url=f"{srv.url}/v1", timeout=120) as http:
            upload(http, demo / "breast_hetero_guest.csv", "breast_hetero_guest")
            upload(http, demo / "breast_hetero_host.csv", "breast_hetero_host")
            run_single(http, 1)  # warm-up: first fork of each component module
            run_single(http, args.runs)
            run_burst(http, args.jobs)


if __name__ == "__main__":
    main()
