"""Homomorphic operations: additions, products, dot, exponent alignment, overflow guard, indexing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fedloom.ml.paillier import (
    FRAC_BITS,
    MATRIX_FRAC_BITS,
    EncryptedVector,
    PaillierInputError,
    PaillierOverflowError,
    PrivateKey,
    PublicKey,
)

Keys = tuple[PublicKey, PrivateKey]
ATOL = 2.0**-FRAC_BITS


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    return np.array([1.5, -2.25, 0.0, 1e-6, 1234.5])


@pytest.fixture(scope="module")
def vx(keys: Keys, x: np.ndarray) -> EncryptedVector:
    return keys[0].encrypt(x)


def test_add_encrypted(keys: Keys, x: np.ndarray, vx: EncryptedVector) -> None:
    y = np.array([0.5, 0.25, -1.0, 2.0, -1234.5])
    out = keys[1].decrypt(vx + keys[0].encrypt(y))
    np.testing.assert_allclose(out, x + y, atol=2 * ATOL)


def test_add_and_subtract_plain(keys: Keys, x: np.ndarray, vx: EncryptedVector) -> None:
    sk = keys[1]
    np.testing.assert_allclose(sk.decrypt(vx + 1.0), x + 1.0, atol=2 * ATOL)
    np.testing.assert_allclose(sk.decrypt(vx + np.arange(5)), x + np.arange(5), atol=2 * ATOL)
    np.testing.assert_allclose(sk.decrypt(np.arange(5.0) + vx), x + np.arange(5), atol=2 * ATOL)
    np.testing.assert_allclose(sk.decrypt(vx - 2.5), x - 2.5, atol=2 * ATOL)
    np.testing.assert_allclose(sk.decrypt(10 - vx), 10 - x, atol=2 * ATOL)
    np.testing.assert_allclose(
        sk.decrypt(vx - np.array([1, 2, 3, 4, 5], dtype=np.uint8)), x - [1, 2, 3, 4, 5], atol=2 * ATOL
    )


def test_negate_and_subtract_encrypted(keys: Keys, x: np.ndarray, vx: EncryptedVector) -> None:
    sk = keys[1]
    np.testing.assert_allclose(sk.decrypt(-vx), -x, atol=ATOL)
    np.testing.assert_allclose(sk.decrypt(vx - vx), np.zeros(5), atol=ATOL)


def test_length_one_vectors_broadcast(keys: Keys, x: np.ndarray, vx: EncryptedVector) -> None:
    pk, sk = keys
    np.testing.assert_allclose(sk.decrypt(vx + pk.encrypt([2.0])), x + 2.0, atol=2 * ATOL)
    np.testing.assert_allclose(sk.decrypt(pk.encrypt([2.0]) + vx), x + 2.0, atol=2 * ATOL)
    with pytest.raises(PaillierInputError, match="length mismatch"):
        vx + pk.encrypt([1.0, 2.0])
    with pytest.raises(PaillierInputError, match="shape"):
        vx + np.ones(3)
    np.testing.assert_allclose(sk.decrypt(vx + np.array([2.0])), x + 2.0, atol=2 * ATOL)


def test_multiply_by_scalars(keys: Keys, x: np.ndarray, vx: EncryptedVector) -> None:
    sk = keys[1]
    three = vx * 3
    assert three.frac_bits == FRAC_BITS  # integers stay exact
    np.testing.assert_allclose(sk.decrypt(three), 3 * x, atol=3 * ATOL)
    np.testing.assert_allclose(sk.decrypt(-2 * vx), -2 * x, atol=2 * ATOL)
    half = vx * 0.5
    assert half.frac_bits == FRAC_BITS + MATRIX_FRAC_BITS
    np.testing.assert_allclose(sk.decrypt(half), x / 2, atol=ATOL)
    np.testing.assert_allclose(sk.decrypt(vx * -0.75), -0.75 * x, atol=ATOL)
    third = vx.mul(1 / 3, frac_bits=40)
    np.testing.assert_allclose(sk.decrypt(third), x / 3, rtol=1e-11, atol=ATOL)
    np.testing.assert_allclose(sk.decrypt(vx * 0), np.zeros(5))


def test_multiply_elementwise(keys: Keys, x: np.ndarray, vx: EncryptedVector) -> None:
    w = np.array([2.0, -1.5, 7.0, -3.0, 0.001])
    out = keys[1].decrypt(vx * w)
    quantized = np.rint(w * 2**MATRIX_FRAC_BITS) / 2**MATRIX_FRAC_BITS
    np.testing.assert_allclose(out, x * quantized, atol=8 * ATOL)
    np.testing.assert_allclose(
        keys[1].decrypt(vx * np.array([1, -2, 3, -4, 5])), x * [1, -2, 3, -4, 5], atol=8 * ATOL
    )
    with pytest.raises(PaillierInputError, match="shape"):
        vx * np.ones(2)


def test_ciphertext_products_refused(vx: EncryptedVector) -> None:
    with pytest.raises(TypeError):
        vx * vx  # type: ignore[operator]


def test_sum(keys: Keys, x: np.ndarray, vx: EncryptedVector) -> None:
    total = vx.sum()
    assert len(total) == 1
    assert keys[1].decrypt(total)[0] == pytest.approx(x.sum(), abs=5 * ATOL)
    assert keys[1].decrypt(vx[:0].sum())[0] == 0.0


def test_exponents_are_aligned_before_adding(keys: Keys, x: np.ndarray, vx: EncryptedVector) -> None:
    scaled = vx * 0.5  # 48 fraction bits
    both = scaled + vx  # vx is raised to 2^48 first
    assert both.frac_bits == FRAC_BITS + MATRIX_FRAC_BITS
    np.testing.assert_allclose(keys[1].decrypt(both), 1.5 * x, atol=2 * ATOL)
    np.testing.assert_allclose(keys[1].decrypt(vx + scaled), 1.5 * x, atol=2 * ATOL)
    assert vx.align(FRAC_BITS + 8).frac_bits == FRAC_BITS + 8
    with pytest.raises(PaillierInputError, match="align"):
        vx.align(FRAC_BITS - 1)


def test_dot_matches_numpy_within_fixed_point_error(keys: Keys) -> None:
    pk, sk = keys
    rng = np.random.default_rng(0)
    x = rng.standard_normal(300)
    matrix = rng.standard_normal((300, 5))
    result = pk.encrypt(x).dot(matrix)
    assert len(result) == 5 and result.frac_bits == FRAC_BITS + MATRIX_FRAC_BITS
    # Each matrix entry is off by at most 2^-17 and each value by 2^-33.
    tolerance = np.abs(x).sum() * 2.0 ** -(MATRIX_FRAC_BITS + 1) + np.abs(matrix).sum(axis=0) * 2.0**-33
    assert np.all(np.abs(sk.decrypt(result) - matrix.T @ x) <= tolerance + 1e-9)


def test_dot_with_integer_matrix_is_exact(keys: Keys) -> None:
    pk, sk = keys
    values = np.array([3, -7, 11, 0, 5])
    matrix = np.array([[1, -2], [0, 3], [-4, 5], [9, 9], [2, -1]])
    result = pk.encrypt(values, frac_bits=0).dot(matrix)
    assert result.frac_bits == 0
    np.testing.assert_array_equal(sk.decrypt(result), matrix.T @ values)
    single = pk.encrypt(values, frac_bits=0).dot(matrix[:, 1])  # a 1-D operand is one column
    np.testing.assert_array_equal(sk.decrypt(single), [matrix[:, 1] @ values])


def test_dot_refuses_bad_matrices(vx: EncryptedVector) -> None:
    with pytest.raises(PaillierInputError, match="shape"):
        vx.dot(np.ones((4, 2)))
    with pytest.raises(PaillierInputError, match=r"index \(1, 0\)"):
        vx.dot(np.array([[1.0], [np.nan], [1.0], [1.0], [1.0]]))
    with pytest.raises(PaillierInputError, match="62 bits"):
        vx.dot(np.full((5, 1), 1e30))


@settings(max_examples=25, deadline=None)
@given(
    matrix=hnp.arrays(
        np.int64, st.tuples(st.integers(1, 40), st.integers(1, 3)), elements=st.integers(-(2**40), 2**40)
    ),
    data=st.data(),
)
def test_dot_property_exact_on_integers(keys: Keys, matrix: np.ndarray, data: st.DataObject) -> None:
    pk, sk = keys
    values = data.draw(st.lists(st.integers(-(2**30), 2**30), min_size=len(matrix), max_size=len(matrix)))
    result = pk.encrypt(np.array(values, dtype=np.int64), frac_bits=0).dot(matrix)
    expected = [sum(int(m) * v for m, v in zip(column, values, strict=True)) for column in matrix.T]
    assert [v if v <= pk.max_int else v - int(pk.n) for v in sk.decrypt_ints(result)] == expected


def test_overflow_is_detected_instead_of_wrapping(keys: Keys) -> None:
    pk = keys[0]
    big = pk.encrypt([2.0**960], frac_bits=32)  # the integer is 2^992; capacity is about 2^1022
    with pytest.raises(PaillierOverflowError, match="capacity"):
        big.dot(np.full((1, 1), 2.0**40), frac_bits=0)
    with pytest.raises(PaillierOverflowError):
        big * (2**40)
    with pytest.raises(PaillierOverflowError):
        big.align(big.frac_bits + 40)
    assert keys[1].decrypt(big * (2**20))[0] == 2.0**980
    doubled = big
    with pytest.raises(PaillierOverflowError, match="add"):
        for _ in range(200):
            doubled = doubled + doubled
    assert isinstance(PaillierOverflowError("x"), OverflowError)


def test_raw_modular_vectors_skip_the_guard(keys: Keys) -> None:
    pk, sk = keys
    wrap = pk.encrypt_ints([int(pk.n) - 1])  # bound unknown: arithmetic is plainly modulo n
    assert wrap.bound is None
    assert sk.decrypt_ints(wrap + pk.encrypt_ints([2])) == [1]


def test_different_keys_do_not_mix(vx: EncryptedVector, other_keys: Keys) -> None:
    with pytest.raises(PaillierInputError, match="different public keys"):
        vx + other_keys[0].encrypt(np.ones(5))


def test_indexing(keys: Keys, x: np.ndarray, vx: EncryptedVector) -> None:
    sk = keys[1]
    np.testing.assert_allclose(sk.decrypt(vx[1:4]), x[1:4], atol=ATOL)
    np.testing.assert_allclose(sk.decrypt(vx[np.array([4, 0, 0])]), x[[4, 0, 0]], atol=ATOL)
    np.testing.assert_allclose(sk.decrypt(vx[[2]]), x[[2]], atol=ATOL)
    np.testing.assert_allclose(sk.decrypt(vx[-1]), x[[-1]], atol=ATOL)
    mask = x > 0
    np.testing.assert_allclose(sk.decrypt(vx[mask]), x[mask], atol=ATOL)
    with pytest.raises(IndexError):
        vx[7]
    with pytest.raises(PaillierInputError, match="mask"):
        vx[np.array([True, False])]
    with pytest.raises(PaillierInputError, match="index"):
        vx[np.array([0.5])]


def test_obfuscate_changes_ciphertexts_not_plaintexts(keys: Keys, x: np.ndarray, vx: EncryptedVector) -> None:
    fresh = vx.obfuscate()
    assert all(a != b for a, b in zip(fresh.ciphertexts, vx.ciphertexts, strict=True))
    assert keys[1].decrypt_ints(fresh) == keys[1].decrypt_ints(vx)
    assert fresh.frac_bits == vx.frac_bits and fresh.bound == vx.bound


def test_concat(keys: Keys, x: np.ndarray, vx: EncryptedVector) -> None:
    joined = EncryptedVector.concat([vx, vx * 0.5])
    assert len(joined) == 10 and joined.frac_bits == FRAC_BITS + MATRIX_FRAC_BITS
    np.testing.assert_allclose(keys[1].decrypt(joined), np.concatenate([x, x / 2]), atol=ATOL)
    with pytest.raises(PaillierInputError):
        EncryptedVector.concat([])
