"""Hetero LR pipeline (reader -> data_transform -> intersection -> hetero_lr -> evaluation), submit to success.

Breast demo data and synthetic make_classification data (guest 10 features + label, host 20), full
batch, 1024-bit Paillier, next to scikit-learn LogisticRegression on the pooled rows and FATE 2.2's
published times on this machine (122 s breast, 416 s for 10k rows).

    python benchmarks/bench_hetero_lr.py [--rows 0 10000] [--max-iter 30]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from _common import upload, wait
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.jobs import hetero_lr_job

from fedloom.config import load_settings
from fedloom.server import EmbeddedServer
from fedloom.storage.demo_data import breast_hetero, synthetic_hetero, write_csv

FATE_SECONDS = {0: 122.0, 10000: 416.0}


def _auc(http: httpx.Client, job_id: str) -> float:
    body = {"job_id": job_id, "component_name": "evaluation_0", "role": "guest", "party_id": 9999}
    for names in http.post("/tracking/component/metric/all", json=body).json()["data"].values():
        for entry in names.values():
            for key, value in entry["data"]:
                if key == "auc":
                    return float(value)
    return float("nan")


def _baseline(guest: object, host: object) -> float:
    g, h = guest, host  # raw frames: guest features = [y, x0..], host = [x0..]
    y = g.features[:, 0]  # type: ignore[attr-defined]
    x = np.hstack([g.features[:, 1:], h.features])  # type: ignore[attr-defined]
    model = LogisticRegression(max_iter=1000).fit(x, y)
    return float(roc_auc_score(y, model.predict_proba(x)[:, 1]))


def run(http: httpx.Client, tmp: Path, rows: int, max_iter: int) -> None:
    guest, host = breast_hetero() if rows == 0 else synthetic_hetero(rows)
    label = "breast (569 rows)" if rows == 0 else f"synthetic {rows} x 30"
    gname, hname = f"bench_guest_{rows}", f"bench_host_{rows}"
    write_csv(guest, tmp / f"{gname}.csv")
    write_csv(host, tmp / f"{hname}.csv")
    upload(http, tmp / f"{gname}.csv", gname)
    upload(http, tmp / f"{hname}.csv", hname)
    dsl, conf = hetero_lr_job(max_iter=max_iter, guest_table=gname, host_table=hname)
    conf["component_parameters"]["common"]["hetero_lr_0"]["tol"] = 0.0
    t0 = time.perf_counter()
    job_id = http.post("/job/submit", json={"job_dsl": dsl, "job_runtime_conf": conf}).json()["jobId"]
    status = wait(http, job_id)
    wall = time.perf_counter() - t0
    auc, base = _auc(http, job_id), _baseline(guest, host)
    fate = FATE_SECONDS.get(rows)
    vs = f"; FATE 2.2 here: {fate:.0f} s -> {fate / wall:.1f}x faster" if fate else ""
    print(f"{label}: {status} in {wall:.2f} s ({max_iter} iterations, full batch, 1024-bit){vs}")
    print(
        f"  AUC {auc:.4f}  vs scikit-learn LogisticRegression on pooled rows {base:.4f} (diff {base - auc:+.4f})"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[0, 10000], help="0 = breast demo data")
    ap.add_argument("--max-iter", type=int, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(None, port=0, data_dir=Path(tmp) / "server")
        with EmbeddedServer(settings) as srv, httpx.Client(base_url=f"{srv.url}/v1", timeout=600) as http:
            for rows in args.rows:
                run(http, Path(tmp), rows, args.max_iter)


if __name__ == "__main__":
    main()
