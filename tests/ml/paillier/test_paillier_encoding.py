"""Encrypt/decrypt round trips and the fixed-point precision contract (range, rounding, refusals)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedloom.ml.paillier import (
    FRAC_BITS,
    EncryptedVector,
    PaillierInputError,
    PaillierOverflowError,
    PrivateKey,
    PublicKey,
    generate_keypair,
)

Keys = tuple[PublicKey, PrivateKey]
RESOLUTION = 2.0 ** -(FRAC_BITS + 1)  # round-to-nearest at 2^-FRAC_BITS


def test_round_trip_of_typical_values(keys: Keys) -> None:
    pk, sk = keys
    x = np.array([0.0, -0.0, 1.0, -1.0, 3.141592653589793, -2.5e-3, 12345.678, -987654.321])
    out = sk.decrypt(pk.encrypt(x))
    assert out.dtype == np.float64 and out.shape == x.shape
    np.testing.assert_allclose(out, x, rtol=0, atol=RESOLUTION)


def test_tiny_values_keep_absolute_resolution(keys: Keys) -> None:
    pk, sk = keys
    tiny = np.array([1e-9, -1e-9, 1e-12])
    np.testing.assert_allclose(sk.decrypt(pk.encrypt(tiny)), tiny, rtol=0, atol=RESOLUTION)
    # More fraction bits buy more resolution.
    assert sk.decrypt(pk.encrypt(tiny, frac_bits=80)) == pytest.approx(tiny, rel=1e-12)


def test_zero_and_empty(keys: Keys) -> None:
    pk, sk = keys
    assert sk.decrypt(pk.encrypt([0.0]))[0] == 0.0
    empty = pk.encrypt(np.zeros(0))
    assert len(empty) == 0 and sk.decrypt(empty).shape == (0,)


def test_negative_values_are_encoded_as_n_minus_magnitude(keys: Keys) -> None:
    pk, sk = keys
    v = pk.encrypt([-1.0], frac_bits=0)
    assert sk.decrypt_ints(v) == [int(pk.n) - 1]
    assert sk.decrypt(v)[0] == -1.0


def test_huge_values_near_the_documented_bound(keys: Keys) -> None:
    pk, sk = keys
    # The contract: |x| * 2^frac_bits <= (n - 1) / 2. 2^(bits-2) is within it for every key.
    top = math.ldexp(1.0, pk.bits - 2 - FRAC_BITS)
    out = sk.decrypt(pk.encrypt([top, -top, top / 3]))
    assert out[0] == top and out[1] == -top and out[2] == pytest.approx(top / 3, rel=1e-15)
    with pytest.raises(PaillierInputError, match="index 1 is too large"):
        pk.encrypt([1.0, math.ldexp(1.0, pk.bits - FRAC_BITS)])


def test_largest_float_fits_a_2048_bit_key_but_not_a_1024_bit_one(keys: Keys) -> None:
    pk, _ = keys
    with pytest.raises(PaillierInputError, match="too large"):
        pk.encrypt([np.finfo(np.float64).max])


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_inf_refused_naming_the_index(keys: Keys, bad: float) -> None:
    with pytest.raises(ValueError, match=r"index 2 is .*NaN and infinity"):
        keys[0].encrypt([1.0, 2.0, bad, 4.0])


def test_non_vectors_and_non_numbers_refused(keys: Keys) -> None:
    pk = keys[0]
    with pytest.raises(PaillierInputError, match="1-D"):
        pk.encrypt(np.ones((2, 2)))
    with pytest.raises(PaillierInputError, match="numeric"):
        pk.encrypt(["a", "b"])
    with pytest.raises(PaillierInputError, match="frac_bits"):
        pk.encrypt([1.0], frac_bits=-1)
    with pytest.raises(PaillierInputError, match="frac_bits"):
        pk.encrypt([1.0], frac_bits=10_000)


def test_integer_inputs_are_exact(keys: Keys) -> None:
    pk, sk = keys
    ints = np.array([2**60 + 1, -(2**60) - 3, 7], dtype=np.int64)
    v = pk.encrypt(ints, frac_bits=0)
    assert [int(x) for x in sk.decrypt(v)] == [int(float(i)) for i in ints]
    assert sk.decrypt_ints(v)[0] == 2**60 + 1


def test_encrypt_ints_range_checked(keys: Keys) -> None:
    pk, sk = keys
    v = pk.encrypt_ints([0, 5, int(pk.n) - 1])
    assert sk.decrypt_ints(v) == [0, 5, int(pk.n) - 1]
    assert v.frac_bits == 0 and v.bound is None  # n - 1 exceeds max_int: a raw modular vector
    assert pk.encrypt_ints([3, 4]).bound == 4
    with pytest.raises(PaillierInputError, match="index 1 is outside"):
        pk.encrypt_ints([1, int(pk.n)])
    with pytest.raises(PaillierInputError, match="index 0 is outside"):
        pk.encrypt_ints([-1])
    with pytest.raises(PaillierInputError, match="index 0 is not an integer"):
        pk.encrypt_ints([1.5])  # type: ignore[list-item]


def test_decrypt_beyond_float_range_raises() -> None:
    pk, sk = generate_keypair(1280, rng_seed=3)  # a 1024-bit key cannot hold more than float64's range
    huge = pk.encrypt_ints([1 << 1100])
    with pytest.raises(PaillierOverflowError, match="float64 range"):
        sk.decrypt(huge)
    assert sk.decrypt_ints(huge) == [1 << 1100]


def test_textbook_and_fixed_base_obfuscation_both_decrypt(keys: Keys) -> None:
    pk, sk = keys
    x = np.linspace(-5, 5, 7)
    np.testing.assert_allclose(sk.decrypt(pk.encrypt(x, textbook=True)), x, atol=RESOLUTION)
    pk.precompute()  # switch this key to the fixed-base table
    tabled = pk.encrypt(x)
    np.testing.assert_allclose(sk.decrypt(tabled), x, atol=RESOLUTION)
    assert len(set(tabled.ciphertexts)) == len(x)


def test_encryption_is_randomised(keys: Keys) -> None:
    pk, _ = keys
    a, b = pk.encrypt([1.0, 1.0]), pk.encrypt([1.0])
    assert a.ciphertexts[0] != a.ciphertexts[1] != b.ciphertexts[0]


finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(finite, min_size=1, max_size=8), frac_bits=st.integers(0, 60))
def test_round_trip_error_is_half_a_unit_in_the_last_place(
    keys: Keys, values: list[float], frac_bits: int
) -> None:
    pk, sk = keys
    x = np.array(values)
    out = sk.decrypt(pk.encrypt(x, frac_bits=frac_bits))
    expected = np.ldexp(np.rint(np.ldexp(x, frac_bits)), -frac_bits)
    np.testing.assert_array_equal(out, expected)


@settings(max_examples=30, deadline=None)
@given(values=st.lists(st.integers(-(2**200), 2**200), min_size=1, max_size=5))
def test_big_integers_survive_through_python_lists(keys: Keys, values: list[int]) -> None:
    pk, sk = keys
    v = EncryptedVector.from_bytes(pk, pk.encrypt(np.array(values, dtype=object), frac_bits=0).to_bytes())
    np.testing.assert_array_equal(sk.decrypt(v), np.array([float(i) for i in values]))
