"""The byte format of encrypted vectors: round trip, and refusal of truncated, padded or foreign data."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedloom.ml.paillier import EncryptedVector, PaillierInputError, PrivateKey, PublicKey
from fedloom.ml.paillier._wire import HEADER

Keys = tuple[PublicKey, PrivateKey]


@pytest.fixture(scope="module")
def vector(keys: Keys) -> EncryptedVector:
    return keys[0].encrypt(np.array([1.5, -2.0, 3.25])) * 0.5


def test_round_trip_keeps_ciphertexts_exponent_and_bound(keys: Keys, vector: EncryptedVector) -> None:
    data = vector.to_bytes()
    assert len(data) == HEADER.size + 3 * keys[0].ciphertext_bytes
    again = EncryptedVector.from_bytes(keys[0], data)
    assert again.ciphertexts == vector.ciphertexts
    assert again.frac_bits == vector.frac_bits
    assert (
        vector.bound is not None
        and again.bound is not None
        and vector.bound <= again.bound < 2 * vector.bound
    )
    np.testing.assert_allclose(keys[1].decrypt(again), [0.75, -1.0, 1.625])


def test_empty_and_modular_vectors_round_trip(keys: Keys) -> None:
    pk = keys[0]
    empty = EncryptedVector.from_bytes(pk, pk.encrypt(np.zeros(0)).to_bytes())
    assert len(empty) == 0
    raw = EncryptedVector.from_bytes(pk, pk.encrypt_ints([int(pk.n) - 1]).to_bytes())
    assert raw.bound is None and keys[1].decrypt_ints(raw) == [int(pk.n) - 1]


def test_truncated_or_padded_data_refused(keys: Keys, vector: EncryptedVector) -> None:
    data = vector.to_bytes()
    for bad in (data[:-1], data + b"\0", data[: HEADER.size], data[:10], b""):
        with pytest.raises(PaillierInputError):
            EncryptedVector.from_bytes(keys[0], bad)


def test_wrong_key_magic_version_and_width_refused(
    keys: Keys, other_keys: Keys, vector: EncryptedVector
) -> None:
    data = vector.to_bytes()
    with pytest.raises(PaillierInputError, match="different public key"):
        EncryptedVector.from_bytes(other_keys[0], data)
    with pytest.raises(PaillierInputError, match="magic"):
        EncryptedVector.from_bytes(keys[0], b"XXXX" + data[4:])
    with pytest.raises(PaillierInputError, match="version"):
        EncryptedVector.from_bytes(keys[0], data[:4] + b"\x09" + data[5:])
    with pytest.raises(PaillierInputError, match="width"):
        EncryptedVector.from_bytes(keys[0], data[:8] + struct.pack(">I", 3) + data[12:])


def test_out_of_range_ciphertexts_refused(keys: Keys, vector: EncryptedVector) -> None:
    data = vector.to_bytes()
    width = keys[0].ciphertext_bytes
    too_big = data[: HEADER.size] + b"\xff" * width + data[HEADER.size + width :]
    with pytest.raises(PaillierInputError, match="ciphertext 0 is outside"):
        EncryptedVector.from_bytes(keys[0], too_big)
    zero = data[: HEADER.size + width] + b"\0" * width + data[HEADER.size + 2 * width :]
    with pytest.raises(PaillierInputError, match="ciphertext 1 is outside"):
        EncryptedVector.from_bytes(keys[0], zero)


def test_non_bytes_refused(keys: Keys) -> None:
    with pytest.raises(PaillierInputError, match="expected bytes"):
        EncryptedVector.from_bytes(keys[0], "FLPV")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(garbage=st.binary(max_size=400))
def test_garbage_only_ever_raises_input_errors(keys: Keys, garbage: bytes) -> None:
    with pytest.raises(PaillierInputError):
        EncryptedVector.from_bytes(keys[0], garbage)


@settings(max_examples=100, deadline=None)
@given(position=st.integers(0, HEADER.size - 1), value=st.integers(0, 255))
def test_corrupted_headers_are_refused_or_harmless(
    keys: Keys, vector: EncryptedVector, position: int, value: int
) -> None:
    data = bytearray(vector.to_bytes())
    data[position] = value
    try:
        again = EncryptedVector.from_bytes(keys[0], bytes(data))
    except PaillierInputError:
        return
    assert again.ciphertexts == vector.ciphertexts  # only frac_bits / bound fields can change silently
