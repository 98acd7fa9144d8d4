"""Per-iteration time of HeteroLR through the harness, against plaintext Taylor LR on the same rows.

Run: PYTHONPATH=. OMP_NUM_THREADS=1 python -m tests.components.bench_hetero_lr [--rows 569 10000]
Breast (569 rows: guest 10 features, host 20) for 569, synthetic_hetero for other sizes. Parties run in
forked processes (as real tasks do) unless --threads is given.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from fedloom.components.hetero_lr import SPEC
from fedloom.ml.lr import taylor_lr_fit
from fedloom.storage.demo_data import breast_hetero, synthetic_hetero
from tests.components.harness import PartySetup, run_component
from tests.components.lr_data import labelled

GUEST, HOST, ARBITER = ("guest", 9999), ("host", 10000), ("arbiter", 10001)


def bench(rows: int, iters: int, processes: bool, key_length: int, precision: int | None) -> None:
    guest_raw, host = breast_hetero() if rows == 569 else synthetic_hetero(rows)
    guest = labelled(guest_raw)
    params = {
        "max_iter": iters,
        "tol": 0.0,
        "init_param": {"init_method": "zeros"},
        "encrypt_param": {"key_length": key_length},
        "floating_point_precision": precision,
    }
    setups = [
        PartySetup(*GUEST, params, {"train_data": [guest]}),
        PartySetup(*HOST, params, {"train_data": [host]}),
        PartySetup(*ARBITER, params),
    ]
    start = time.perf_counter()
    result = run_component(SPEC, setups, component_name="hetero_lr_0", processes=processes)
    total = time.perf_counter() - start
    stamps = [t for t, _, m in result[ARBITER].progress if m.startswith("iteration")]
    per_iter = np.diff(stamps)
    x = np.hstack([guest.features, host.features])
    assert guest.label is not None
    t0 = time.perf_counter()
    taylor_lr_fit(x, guest.label, max_iter=iters, tol=0.0, init_method="zeros")
    plain = (time.perf_counter() - t0) / iters
    print(
        f"rows={rows} iters={len(stamps)} key={key_length} precision={precision} "
        f"mode={'processes' if processes else 'threads'}: total {total:.2f}s, per iteration median "
        f"{np.median(per_iter):.3f}s (min {per_iter.min():.3f}, max {per_iter.max():.3f}); "
        f"plaintext {plain * 1e3:.2f} ms/iter; bytes sent {sum(m.size for m in result.messages) / 1e6:.1f} MB"
    )
    cpu = {p[0]: round(r.cpu_seconds / len(stamps), 3) for p, r in result.parties.items()}
    print(f"  CPU seconds per iteration by party: {cpu}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[569, 10000])
    parser.add_argument("--iters", type=int, default=30)
    parser.add_argument("--threads", action="store_true")
    parser.add_argument("--key-length", type=int, default=1024)
    parser.add_argument("--precision", type=int, default=23)
    args = parser.parse_args()
    for rows in args.rows:
        bench(rows, args.iters, not args.threads, args.key_length, args.precision)


if __name__ == "__main__":
    main()
