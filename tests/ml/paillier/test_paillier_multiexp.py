"""The multi-exponentiation engine and the fixed-base table against plain gmpy2 powmod."""

from __future__ import annotations

import gmpy2
import numpy as np
from gmpy2 import mpz
from hypothesis import given, settings
from hypothesis import strategies as st

from fedloom.ml.paillier import PrivateKey, PublicKey
from fedloom.ml.paillier._fixed_base import FixedBaseTable, choose_window, exponent_bits
from fedloom.ml.paillier._multiexp import batch_invert, column_products, powers, signed_multi_power

Keys = tuple[PublicKey, PrivateKey]


def _naive(bases: list[mpz], exponents: list[int], modulus: mpz) -> mpz:
    acc = mpz(1)
    for b, e in zip(bases, exponents, strict=True):
        acc = acc * gmpy2.powmod(b, e, modulus) % modulus
    return acc


@settings(max_examples=60, deadline=None)
@given(exponents=st.lists(st.integers(-(2**40), 2**40), max_size=60))
def test_signed_multi_power_equals_naive_products(keys: Keys, exponents: list[int]) -> None:
    pk = keys[0]
    bases = [mpz(3 + 2 * i) ** 5 % pk.nsquare for i in range(len(exponents))]
    got = signed_multi_power(bases, np.array(exponents, dtype=np.int64), pk.nsquare)
    assert got == _naive(bases, exponents, pk.nsquare)


def test_column_products_over_many_rows(keys: Keys) -> None:
    pk = keys[0]
    ciphertexts = pk.encrypt(np.linspace(-1, 1, 700)).ciphertexts
    matrix = np.random.default_rng(3).integers(-(2**20), 2**20, size=(700, 2))
    got = column_products(ciphertexts, matrix, pk.nsquare)
    assert got == [_naive(ciphertexts, matrix[:, j].tolist(), pk.nsquare) for j in range(2)]


def test_batch_invert_and_powers(keys: Keys) -> None:
    n2 = keys[0].nsquare
    values = keys[0].encrypt([1.0, 2.0, 3.0]).ciphertexts
    assert batch_invert(values, n2) == [gmpy2.invert(v, n2) for v in values]
    assert powers(values, [5, -7, 0], n2) == [
        gmpy2.powmod(v, e, n2) for v, e in zip(values, [5, -7, 0], strict=True)
    ]


def test_fixed_base_table_matches_powmod(keys: Keys) -> None:
    pk = keys[0]
    bits = exponent_bits(pk.n)
    table = FixedBaseTable(pk.hs, pk.nsquare, bits, window=5)
    digits = table.random_digits(4)
    for row, value in zip(digits, table.powers(digits), strict=True):
        exponent = sum(d << (5 * i) for i, d in enumerate(row))
        assert value == gmpy2.powmod(pk.hs, exponent, pk.nsquare)
    assert all(0 <= d < 32 for row in digits for d in row)


def test_table_window_respects_the_memory_budget() -> None:
    assert choose_window(2048, 512) == 11
    assert choose_window(4096, 1024) == 9
    assert choose_window(4096, 1024, budget=1) == 2
