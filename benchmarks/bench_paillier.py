"""Paillier throughput of fedloom.ml.paillier against the raw gmpy2 bounds measured in the same run.

Usage: python benchmarks/bench_paillier.py [--bits 1024 2048] [--quick] [--workers N]

"per core" is operations per CPU-second of this process (robust to other load on the box); "1 proc" and
"pool" are wall-clock rates of the inline path and of ParallelPaillier with all cores. The raw bounds are
one gmpy2 powmod with an |n|-bit exponent modulo n^2 (what textbook encryption costs) and one modular
product modulo n^2 (what ct+ct costs). --quick finishes in well under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import gmpy2
import numpy as np
from gmpy2 import mpz

from fedloom.ml.paillier import (
    EncryptedVector,
    ParallelPaillier,
    PrivateKey,
    PublicKey,
    _fixed_base,
    _multiexp,
    generate_keypair,
    pack,
    unpack,
)
from fedloom.ml.paillier.parallel import default_workers

PACK_SLOT_BITS = 72  # SecureBoost g/h: 53-bit fixed point + room for 100k additions (perf_limits.md 1b)


@dataclass(frozen=True)
class Sizes:
    """Batch sizes per measurement; quick keeps the whole run under a minute."""

    raw_powmod: int
    modmul: int
    enc_textbook: int
    enc_fixed: int
    dec_textbook: int
    dec_crt: int
    add: int
    mul53: int
    mul16: int
    dot_rows: int
    dot_cols: int
    naive_cells: int
    pool_enc: int
    pool_dec: int

    def scaled(self, bits: int) -> Sizes:
        """Fewer operations for larger keys (cost grows ~ bits^2 to bits^3); the dot shape stays fixed."""
        factor = max(1, (bits // 1024) ** 2)
        fixed = ("dot_rows", "dot_cols")
        return Sizes(**{k: v if k in fixed else max(16, v // factor) for k, v in vars(self).items()})


QUICK = Sizes(30, 20000, 30, 1000, 30, 200, 20000, 300, 1000, 2000, 4, 400, 1500, 300)
FULL = Sizes(200, 200000, 200, 8000, 200, 2000, 200000, 2000, 6000, 20000, 8, 3000, 12000, 2000)


@dataclass
class Row:
    """One line of the result table."""

    key: str
    name: str
    per_core: float
    wall: float
    pool: float | None = None
    projected: float | None = None


def timed(fn: Callable[[], object], count: int) -> tuple[float, float]:
    """(ops per CPU-second, ops per wall-second) of one call doing count operations."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    fn()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return count / max(cpu, 1e-9), count / max(wall, 1e-9)


def bench_raw(pk: PublicKey, s: Sizes) -> tuple[float, float]:
    """Raw bounds: |n|-bit powmod mod n^2 and modular product mod n^2, per CPU-second."""
    n2 = pk.nsquare
    bases = [mpz(secrets.randbits(2 * pk.bits)) % n2 for _ in range(max(s.raw_powmod, 256))]
    exps = [mpz(secrets.randbits(pk.bits)) for _ in range(s.raw_powmod)]
    powmod_rate, _ = timed(
        lambda: [gmpy2.powmod(b, e, n2) for b, e in zip(bases, exps, strict=False)], s.raw_powmod
    )
    pairs = [(bases[i % len(bases)], bases[(i * 7 + 3) % len(bases)]) for i in range(s.modmul)]
    modmul_rate, _ = timed(lambda: [a * b % n2 for a, b in pairs], s.modmul)
    return powmod_rate, modmul_rate


def bench_encrypt(pk: PublicKey, s: Sizes) -> list[Row]:
    x = np.random.default_rng(1).standard_normal(max(s.enc_textbook, s.enc_fixed))
    pk.precompute()
    textbook = timed(lambda: pk.encrypt(x[: s.enc_textbook], textbook=True), s.enc_textbook)
    fixed = timed(lambda: pk.encrypt(x[: s.enc_fixed]), s.enc_fixed)
    window = _fixed_base.choose_window(2 * pk.bits, _fixed_base.exponent_bits(pk.n))
    return [
        Row("enc_textbook", "encrypt textbook r^n", *textbook),
        Row("enc_fixed", f"encrypt DJN fixed-base w={window}", *fixed),
    ]


def bench_decrypt(pk: PublicKey, sk: PrivateKey, s: Sizes) -> list[Row]:
    v = pk.encrypt(np.random.default_rng(2).standard_normal(max(s.dec_textbook, s.dec_crt)))
    textbook = timed(lambda: sk.decrypt(v[: s.dec_textbook], crt=False), s.dec_textbook)
    crt = timed(lambda: sk.decrypt(v[: s.dec_crt]), s.dec_crt)
    return [Row("dec_textbook", "decrypt textbook", *textbook), Row("dec_crt", "decrypt CRT", *crt)]


def bench_arith(pk: PublicKey, s: Sizes) -> list[Row]:
    base = pk.encrypt(np.random.default_rng(3).standard_normal(256))
    v = EncryptedVector.concat([base] * (s.add // 256 + 1))[: s.add]
    add = timed(lambda: v + v, s.add)
    rng = np.random.default_rng(8)
    signs53, signs16 = rng.choice([-1, 1], s.mul53), rng.choice([-1, 1], s.mul16)
    k53 = signs53 * rng.integers(1 << 52, 1 << 53, s.mul53)  # a float mantissa, as phe / FATE use
    k16 = signs16 * rng.integers(1 << 15, 1 << 16, s.mul16)  # MATRIX_FRAC_BITS-style short scalars
    v53, v16 = v[: s.mul53], v[: s.mul16]
    mul53 = timed(lambda: v53.mul(k53), s.mul53)
    mul16 = timed(lambda: v16.mul(k16), s.mul16)
    return [
        Row("add", "ct + ct", *add),
        Row("mul53", "ct * scalar 53-bit (elementwise)", *mul53),
        Row("mul16", "ct * scalar 16-bit (elementwise)", *mul16),
    ]


def _naive_dot(cts: list[mpz], matrix: np.ndarray, n2: mpz) -> list[mpz]:
    out = []
    for column in matrix.T.tolist():
        acc = mpz(1)
        for c, k in zip(cts, column, strict=True):
            acc = acc * gmpy2.powmod(c, k, n2) % n2  # one modexp per cell (negative k: gmpy2 inverts)
        out.append(acc)
    return out


def bench_dot(pk: PublicKey, s: Sizes) -> tuple[list[Row], EncryptedVector, np.ndarray]:
    rng = np.random.default_rng(4)
    x = pk.encrypt(rng.standard_normal(s.dot_rows))
    matrix = rng.standard_normal((s.dot_rows, s.dot_cols))
    quantized, _ = x.quantize(matrix)
    naive_rows = max(1, s.naive_cells // s.dot_cols)
    n2 = pk.nsquare
    naive = timed(
        lambda: _naive_dot(x.ciphertexts[:naive_rows], quantized[:naive_rows], n2), naive_rows * s.dot_cols
    )
    fast = timed(lambda: x.dot(matrix), matrix.size)
    check = _multiexp.column_products(x.ciphertexts[:naive_rows], quantized[:naive_rows], n2)
    assert check == _naive_dot(x.ciphertexts[:naive_rows], quantized[:naive_rows], n2), "multi-exp mismatch"
    label = f"dot multi-exp {s.dot_rows}x{s.dot_cols} (per cell)"
    return [Row("dot_naive", "dot naive modexp (per cell)", *naive), Row("dot", label, *fast)], x, matrix


def bench_packing(pk: PublicKey, sk: PrivateKey, s: Sizes) -> list[Row]:
    slots = pk.slots(PACK_SLOT_BITS)
    count = slots * max(1, s.dec_crt // slots)
    values = [secrets.randbits(53) for _ in range(count)]
    groups = [values[i : i + slots] for i in range(0, count, slots)]
    plain = pk.encrypt_ints(values)
    enc_plain = timed(lambda: pk.encrypt_ints(values), count)
    enc_packed = timed(lambda: pk.encrypt_ints([pack(g, PACK_SLOT_BITS) for g in groups]), count)
    packed = pk.encrypt_ints([pack(g, PACK_SLOT_BITS) for g in groups])
    dec_plain = timed(lambda: sk.decrypt_ints(plain), count)
    dec_packed = timed(lambda: [unpack(m, slots, PACK_SLOT_BITS) for m in sk.decrypt_ints(packed)], count)
    tag = f"{slots}x{PACK_SLOT_BITS}-bit slots"
    return [
        Row("enc_plain", "encrypt 1 value / plaintext", *enc_plain),
        Row("enc_packed", f"encrypt packed {tag} (per value)", *enc_packed),
        Row("dec_plain", "decrypt 1 value / plaintext", *dec_plain),
        Row("dec_packed", f"decrypt packed {tag} (per value)", *dec_packed),
    ]


def pooled(pool: ParallelPaillier, fn: Callable[[], object], count: int, row: Row) -> None:
    """Set row.pool (wall rate) and row.projected: count / (own CPU + busiest worker's CPU), the rate on
    an idle box, which the wall rate under other sessions' load understates."""
    before = pool.worker_cpu_seconds()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    fn()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    busiest = max(a - b for a, b in zip(pool.worker_cpu_seconds(), before, strict=True))
    row.pool, row.projected = count / wall, count / (cpu + busiest)


def bench_pool(pool: ParallelPaillier, pk: PublicKey, sk: PrivateKey, s: Sizes, rows: dict[str, Row]) -> None:
    """Rates through the process pool, attached to the matching inline rows."""
    pool.precompute(pk)
    x = np.random.default_rng(5).standard_normal(s.pool_enc)
    pooled(pool, lambda: pool.encrypt(pk, x), s.pool_enc, rows["enc_fixed"])
    v = pk.encrypt(x[: s.pool_dec])
    pooled(pool, lambda: pool.decrypt(sk, v), s.pool_dec, rows["dec_crt"])
    xd = pk.encrypt(np.random.default_rng(6).standard_normal(s.dot_rows))
    matrix = np.random.default_rng(7).standard_normal((s.dot_rows, s.dot_cols))
    pooled(pool, lambda: pool.dot(xd, matrix), matrix.size, rows["dot"])


def _fmt(rate: float | None) -> str:
    if rate is None:
        return "-"
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if rate >= scale * 10:
            return f"{rate / scale:,.1f}{unit}"
    return f"{rate:,.0f}"


def print_table(bits: int, workers: int, raw: tuple[float, float], rows: list[Row]) -> None:
    powmod_rate, modmul_rate = raw
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    versions = f"gmpy2 {gmpy2.version()} / {gmpy2.mp_version()}"
    print(f"\n== {bits}-bit key, pool of {workers}, {versions}, load average {load} ==")
    print(f"raw bound per core: powmod |n|-bit exponent mod n^2 {_fmt(powmod_rate)}/s; ", end="")
    print(f"{2 * bits}-bit modmul {_fmt(modmul_rate)}/s")
    head = ("per core", "1 proc", "pool", "pool proj", "x powmod", "/ modmul")
    print(f"{'operation (ops/s)':44s}" + "".join(f"{h:>10s}" for h in head))
    for r in rows:
        rates = "".join(f"{_fmt(v):>10s}" for v in (r.per_core, r.wall, r.pool, r.projected))
        print(f"{r.name:44s}{rates}{r.per_core / powmod_rate:>9.1f}x{r.per_core / modmul_rate:>10.3f}")


def print_speedups(rows: dict[str, Row]) -> None:
    pairs = [
        ("fixed-base vs textbook encrypt", "enc_fixed", "enc_textbook"),
        ("CRT vs textbook decrypt", "dec_crt", "dec_textbook"),
        ("16-bit vs 53-bit scalar", "mul16", "mul53"),
        ("multi-exp vs naive dot", "dot", "dot_naive"),
        ("packed vs plain encrypt", "enc_packed", "enc_plain"),
        ("packed vs plain decrypt", "dec_packed", "dec_plain"),
    ]
    print(
        "speed-ups per core: "
        + "; ".join(f"{t} {rows[a].per_core / rows[b].per_core:.1f}x" for t, a, b in pairs)
    )
    parts = []
    for key, r in rows.items():
        if r.pool is not None and r.projected is not None:
            parts.append(f"{key} wall {r.pool / r.wall:.2f}x, projected {r.projected / r.per_core:.2f}x")
    if parts:
        print("pool vs 1 proc: " + "; ".join(parts))


def run(bits: int, sizes: Sizes, workers: int) -> None:
    s = sizes.scaled(bits)
    started = time.perf_counter()
    pk, sk = generate_keypair(bits)
    raw = bench_raw(pk, s)
    ordered = bench_encrypt(pk, s) + bench_decrypt(pk, sk, s) + bench_arith(pk, s)
    dot_rows, _, _ = bench_dot(pk, s)
    ordered += dot_rows + bench_packing(pk, sk, s)
    rows = {r.key: r for r in ordered}
    if workers > 1:
        with ParallelPaillier(workers) as pool:
            bench_pool(pool, pk, sk, s, rows)
    print_table(bits, workers, raw, ordered)
    print_speedups(rows)
    print(f"({time.perf_counter() - started:.1f} s for {bits}-bit)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, nargs="+", default=[1024, 2048])
    parser.add_argument("--quick", action="store_true", help="small batches, < 60 s in total")
    parser.add_argument("--workers", type=int, default=default_workers(), help="pool size (1 = no pool)")
    args = parser.parse_args()
    for bits in args.bits:
        run(bits, QUICK if args.quick else FULL, args.workers)


if __name__ == "__main__":
    main()
