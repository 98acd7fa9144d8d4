"""DJN obfuscators hs^a from a per-process fixed-base table, instead of one full r^n per encryption.

Damgard-Jurik-Nielsen: hs = h^n mod n^2 for a random h = -x^2 mod n is published with the key, and the
obfuscator of an encryption is hs^a for a random a of |n|/2 bits. With a table of hs^(d * 2^(w*i)) for
every w-bit digit d and window i, hs^a costs one modular multiplication per window (|n|/(2w) of them)
instead of an |n|-bit exponentiation. Tables are built lazily, only once a key has encrypted enough values
to repay the build, and the few most recent ones are kept per process.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections import OrderedDict

import gmpy2
import numpy as np
from gmpy2 import mpz

TABLE_BUDGET_BYTES = 40 * 2**20
"""Memory allowed for one key's table: w=11 at 1024-bit (~29 MB), w=9 at 2048-bit (~32 MB)."""

MAX_CACHED_TABLES = 2
"""Tables kept per process (own key and one peer key); older ones are dropped."""

_MAX_WINDOW = 16
_MPZ_OVERHEAD_BYTES = 40
# An |e|-bit powmod costs about 1.25 * |e| modular products (squarings plus window multiplications).
_POWMOD_COST_PER_BIT = 1.25

ONE = mpz(1)


def exponent_bits(n: mpz) -> int:
    """Length of the DJN random exponent: half the modulus length, rounded up."""
    return (int(n.bit_length()) + 1) // 2


def choose_window(modulus_bits: int, exp_bits: int, budget: int = TABLE_BUDGET_BYTES) -> int:
    """Largest window whose table fits the memory budget (at least 2)."""
    entry = (modulus_bits + 7) // 8 + _MPZ_OVERHEAD_BYTES
    best = 2
    for window in range(2, _MAX_WINDOW + 1):
        windows = -(-exp_bits // window)
        if windows * (1 << window) * entry <= budget:
            best = window
    return best


class FixedBaseTable:
    """Powers hs^(d * 2^(w*i)) for all digits d < 2^w and windows i, modulo n^2."""

    __slots__ = ("modulus", "rows", "window")

    def __init__(self, base: mpz, modulus: mpz, exp_bits: int, window: int) -> None:
        self.modulus = modulus
        self.window = window
        self.rows: list[list[mpz]] = []
        current = base
        for _ in range(-(-exp_bits // window)):
            row = [ONE, current]
            for _ in range(2, 1 << window):
                row.append(row[-1] * current % modulus)
            self.rows.append(row)
            current = row[-1] * current % modulus  # current^(2^w): the base of the next window
        # Digit 0 maps to 1 so the power loop needs no branch; the extra product by 1 is nearly free.

    def random_digits(self, count: int) -> list[list[int]]:
        """Uniform w-bit digits from the OS CSPRNG (numpy only reinterprets the bytes)."""
        windows = len(self.rows)
        raw = np.frombuffer(os.urandom(2 * count * windows), dtype="<u2").reshape(count, windows)
        digits: list[list[int]] = (raw & ((1 << self.window) - 1)).tolist()
        return digits

    def powers(self, digit_rows: list[list[int]]) -> list[mpz]:
        """hs^a for each exponent a given by its base-2^w digits, least significant first."""
        modulus = self.modulus
        first, rest = self.rows[0], self.rows[1:]
        out: list[mpz] = []
        for digits in digit_rows:
            it = iter(digits)
            acc = first[next(it)]
            for row, digit in zip(rest, it, strict=True):
                acc = acc * row[digit] % modulus
            out.append(acc)
        return out

    def build_cost(self) -> int:
        """Modular products spent building the table."""
        return len(self.rows) * (1 << self.window)


_lock = threading.Lock()
_tables: OrderedDict[tuple[int, int], FixedBaseTable] = OrderedDict()
_untabled_uses: dict[tuple[int, int], int] = {}


def _break_even(n: mpz) -> int:
    # Build once the plain short-exponent powmods would have cost as much as the table.
    exp_bits = exponent_bits(n)
    nsquare_bits = 2 * int(n.bit_length())
    window = choose_window(nsquare_bits, exp_bits)
    entries = -(-exp_bits // window) * (1 << window)
    return max(1, int(entries / (_POWMOD_COST_PER_BIT * exp_bits)))


def get_table(n: mpz, hs: mpz, *, build: bool = True) -> FixedBaseTable | None:
    """The cached table of this key, building it when build is true; never more than MAX_CACHED_TABLES."""
    key = (int(n), int(hs))
    with _lock:
        table = _tables.get(key)
        if table is not None:
            _tables.move_to_end(key)
            return table
        if not build:
            return None
        nsquare = n * n
        exp_bits = exponent_bits(n)
        table = FixedBaseTable(hs, nsquare, exp_bits, choose_window(int(nsquare.bit_length()), exp_bits))
        _tables[key] = table
        _untabled_uses.pop(key, None)
        while len(_tables) > MAX_CACHED_TABLES:
            _tables.popitem(last=False)
        return table


def _should_build(n: mpz, hs: mpz, count: int) -> bool:
    key = (int(n), int(hs))
    with _lock:
        used = _untabled_uses.get(key, 0) + count
        if len(_untabled_uses) > 64:  # bound the bookkeeping when many short-lived keys pass through
            _untabled_uses.clear()
        _untabled_uses[key] = used
    return used >= _break_even(n)


def djn_obfuscators(n: mpz, hs: mpz, count: int) -> list[mpz]:
    """count fresh values hs^a mod n^2, with a uniform of |n|/2 bits."""
    if count <= 0:
        return []
    table = get_table(n, hs, build=False)
    if table is None and _should_build(n, hs, count):
        table = get_table(n, hs)
    if table is not None:
        return table.powers(table.random_digits(count))
    exp_bits = exponent_bits(n)
    exponents = [mpz(secrets.randbits(exp_bits)) for _ in range(count)]
    powers: list[mpz] = gmpy2.powmod_exp_list(hs, exponents, n * n)
    return powers


def textbook_obfuscators(n: mpz, count: int) -> list[mpz]:
    """count fresh r^n mod n^2 with r uniform in Z_n^* (textbook Paillier, for comparison)."""
    nsquare = n * n
    bases: list[mpz] = []
    while len(bases) < count:
        r = mpz(secrets.randbelow(int(n) - 1) + 1)
        if gmpy2.gcd(r, n) == 1:
            bases.append(r)
    powers: list[mpz] = gmpy2.powmod_base_list(bases, n, nsquare)
    return powers
