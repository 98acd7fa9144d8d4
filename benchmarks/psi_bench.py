"""ECDH PSI throughput: points/s per step and whole-protocol time, against a raw-hash baseline."""

# Run: python benchmarks/psi_bench.py [n ...]  (default 569 10000 100000). One process, one core;
# half of each side's ids are shared. The baseline is FATE's `raw` method (salted SHA-256 of every
# id, intersected as sets) on the same ids, so the ratio is what the privacy costs.

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable

from fedloom.ml.psi import PsiGuest, PsiHost, hash_to_points, random_scalar, scalarmult_points

SALT = b"benchmark-salt"


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def raw_hash_intersection(guest: list[str], host: list[str]) -> int:
    digest = [{hashlib.sha256(SALT + i.encode()).digest() for i in ids} for ids in (guest, host)]
    return len(digest[0] & digest[1])


def protocol(guest_ids: list[str], host_ids: list[str]) -> int:
    guest, host = PsiGuest(guest_ids, SALT), PsiHost(host_ids, SALT)
    host_blinded = host.blind()
    match = guest.match(host.reblind(guest.blind()), host_blinded)
    result, positions = guest.intersect([match])
    host.resolve(positions[0])
    return len(result.ids)


def run(n: int) -> None:
    guest_ids = [f"id-{k:09d}" for k in range(n)]
    host_ids = [f"id-{k:09d}" for k in range(n // 2, n + n // 2)]
    points = hash_to_points(guest_ids, SALT)
    key = random_scalar()
    t_hash = timed(lambda: hash_to_points(guest_ids, SALT))
    t_mult = timed(lambda: scalarmult_points(key, points))
    t_proto = timed(lambda: protocol(guest_ids, host_ids))
    t_raw = timed(lambda: raw_hash_intersection(guest_ids, host_ids))
    print(
        f"n={n:>7}  hash_to_points {n / t_hash:>9,.0f}/s  scalarmult {n / t_mult:>8,.0f}/s  "
        f"protocol {t_proto:7.2f}s ({2 * n / t_proto:>6,.0f} ids/s, 4n mults + 2n hashes)  "
        f"raw-hash baseline {t_raw:6.3f}s  ratio {t_proto / t_raw:6.0f}x"
    )


if __name__ == "__main__":
    for size in [int(a) for a in sys.argv[1:]] or [569, 10_000, 100_000]:
        run(size)
