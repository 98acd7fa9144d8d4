"""Upload of an N x 30 CSV through the HTTP API exactly as fate-client sends it (multipart), to a
stored table; FATE 1.x needs 13-17 s for 100k x 30 on this machine.

    python benchmarks/bench_upload.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx
from _common import upload

from fedloom.config import load_settings
from fedloom.server import EmbeddedServer
from fedloom.storage.csv_import import write_csv
from fedloom.storage.demo_data import synthetic_hetero

FATE_SECONDS = (13.0, 17.0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        guest, _host = synthetic_hetero(args.rows, n_features=31, guest_features=30)
        path = Path(tmp) / "upload.csv"
        write_csv(guest, path)
        size = path.stat().st_size / 1e6
        settings = load_settings(None, port=0, data_dir=Path(tmp) / "server")
        with EmbeddedServer(settings) as srv, httpx.Client(base_url=f"{srv.url}/v1", timeout=300) as http:
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                upload(http, path, "bench_upload")
                times.append(time.perf_counter() - t0)
        best = min(times)
        print(
            f"upload {args.rows} x 30 + label ({size:.1f} MB) through POST /v1/data/upload: best of {args.runs} "
            f"{best:.2f} s; FATE 1.x here {FATE_SECONDS[0]:.0f}-{FATE_SECONDS[1]:.0f} s "
            f"({FATE_SECONDS[0] / best:.0f}-{FATE_SECONDS[1] / best:.0f}x faster)"
        )


if __name__ == "__main__":
    main()
