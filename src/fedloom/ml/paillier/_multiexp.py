"""Multi-exponentiation (bucket method) and batch inversion mod n^2: the engine of dot and scalar products.

prod_i c_i^k_i is computed window by window: every base goes into the bucket of its w-bit digit (one modular
product each), then the buckets are folded with two products per bucket. That is about ceil(b/w) products
per (base, exponent) pair instead of the ~1.2*b of a separate powmod for a b-bit exponent. Negative
exponents go to a second set of buckets whose product is inverted once per column.
"""

from __future__ import annotations

from collections.abc import Sequence

import gmpy2
import numpy as np
import numpy.typing as npt
from gmpy2 import mpz

from fedloom.ml.paillier._errors import PaillierInputError

ONE = mpz(1)
_MAX_WINDOW = 16

IntArray = npt.NDArray[np.int64]


def choose_window(count: int, bits: int, signed_buckets: bool) -> int:
    """Window minimising windows * (bucket fills + bucket folds) for count bases of bits-bit exponents."""
    sets = 2 if signed_buckets else 1
    best_window, best_cost = 1, None
    for window in range(1, min(bits, _MAX_WINDOW) + 1):
        windows = -(-bits // window)
        cost = windows * (count + 2 * sets * (1 << window)) + bits
        if best_cost is None or cost < best_cost:
            best_window, best_cost = window, cost
    return best_window


def _fill(bases: Sequence[mpz], keys: list[int], size: int, modulus: mpz) -> list[mpz | None]:
    buckets: list[mpz | None] = [None] * size
    for base, key in zip(bases, keys, strict=True):
        if key:
            current = buckets[key]
            buckets[key] = base if current is None else current * base % modulus
    return buckets


def _fold(buckets: list[mpz | None], offset: int, size: int, modulus: mpz) -> mpz:
    """prod_d buckets[offset + d]^d for d in [1, size), with two products per bucket."""
    running: mpz | None = None
    total: mpz | None = None
    for digit in range(size - 1, 0, -1):
        bucket = buckets[offset + digit]
        if bucket is not None:
            running = bucket if running is None else running * bucket % modulus
        if running is not None:
            total = running if total is None else total * running % modulus
    return ONE if total is None else total


def _shift_up(acc: mpz, window: int, modulus: mpz) -> mpz:
    return acc if acc == ONE else gmpy2.powmod(acc, 1 << window, modulus)


def signed_multi_power(bases: Sequence[mpz], exponents: IntArray, modulus: mpz) -> mpz:
    """prod_i bases[i]^exponents[i] mod modulus for int64 exponents of either sign."""
    magnitudes = np.abs(exponents)
    bits = int(magnitudes.max()).bit_length() if magnitudes.size else 0
    if bits == 0:
        return ONE
    negative = exponents < 0
    has_negative = bool(negative.any())
    window = choose_window(int(np.count_nonzero(magnitudes)), bits, has_negative)
    size = 1 << window
    offsets = np.where(negative, size, 0)
    positive_acc, negative_acc = ONE, ONE
    for shift in range(window * ((bits - 1) // window), -1, -window):
        digits = (magnitudes >> shift) & (size - 1)
        keys: list[int] = np.where(digits != 0, digits + offsets, 0).tolist()
        buckets = _fill(bases, keys, 2 * size, modulus)
        positive_acc = _shift_up(positive_acc, window, modulus) * _fold(buckets, 0, size, modulus) % modulus
        if has_negative:
            negative_acc = _shift_up(negative_acc, window, modulus) * _fold(buckets, size, size, modulus)
            negative_acc %= modulus
    if negative_acc == ONE:
        return positive_acc
    return positive_acc * _invert(negative_acc, modulus) % modulus


def column_products(bases: Sequence[mpz], matrix: IntArray, modulus: mpz) -> list[mpz]:
    """For each column j: prod_i bases[i]^matrix[i, j] mod modulus (matrix has one row per base)."""
    if matrix.ndim != 2 or matrix.shape[0] != len(bases):
        raise PaillierInputError(f"matrix: expected shape ({len(bases)}, k), got {matrix.shape}")
    return [signed_multi_power(bases, matrix[:, j], modulus) for j in range(matrix.shape[1])]


def _invert(value: mpz, modulus: mpz) -> mpz:
    try:
        return gmpy2.invert(value, modulus)
    except ZeroDivisionError:
        raise PaillierInputError(
            "a ciphertext is not invertible modulo n^2 (it shares a factor with n)"
        ) from None


def batch_invert(values: Sequence[mpz], modulus: mpz) -> list[mpz]:
    """Inverses of all values with one modular inversion and three products each (Montgomery's trick)."""
    if not values:
        return []
    prefix = [values[0]]
    for value in values[1:]:
        prefix.append(prefix[-1] * value % modulus)
    inverse = _invert(prefix[-1], modulus)
    out = [ONE] * len(values)
    for i in range(len(values) - 1, 0, -1):
        out[i] = inverse * prefix[i - 1] % modulus
        inverse = inverse * values[i] % modulus
    out[0] = inverse
    return out


def powers(bases: Sequence[mpz], exponents: Sequence[int], modulus: mpz) -> list[mpz]:
    """[bases[i]^exponents[i]] elementwise; negative exponents share one batch inversion."""
    out = [gmpy2.powmod(base, abs(e), modulus) for base, e in zip(bases, exponents, strict=True)]
    negative = [i for i, e in enumerate(exponents) if e < 0]
    if negative:
        inverted = batch_invert([out[i] for i in negative], modulus)
        for i, value in zip(negative, inverted, strict=True):
            out[i] = value
    return out


def scalar_power(bases: Sequence[mpz], exponent: int, modulus: mpz) -> list[mpz]:
    """[base^exponent] for one shared exponent, in one GIL-free gmpy2 call."""
    out: list[mpz] = gmpy2.powmod_base_list(list(bases), abs(exponent), modulus)
    return batch_invert(out, modulus) if exponent < 0 else out
