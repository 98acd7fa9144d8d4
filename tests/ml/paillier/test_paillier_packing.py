"""Packing bounded non-negative integers into one plaintext, and adding packed ciphertexts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedloom.ml.paillier import EncryptedVector, PaillierInputError, PrivateKey, PublicKey, pack, unpack

Keys = tuple[PublicKey, PrivateKey]


@settings(max_examples=100, deadline=None)
@given(slot_bits=st.integers(1, 80), data=st.data())
def test_pack_unpack_round_trip(slot_bits: int, data: st.DataObject) -> None:
    values = data.draw(st.lists(st.integers(0, 2**slot_bits - 1), max_size=20))
    packed = pack(values, slot_bits)
    assert packed < 2 ** (slot_bits * max(1, len(values)))
    assert unpack(packed, len(values), slot_bits) == values


def test_first_value_is_the_lowest_slot() -> None:
    assert pack([1, 2], 8) == 1 + (2 << 8)
    assert unpack(0x0201, 2, 8) == [1, 2]


def test_pack_refuses_values_outside_the_slot() -> None:
    with pytest.raises(PaillierInputError, match="index 1"):
        pack([1, 256], 8)
    with pytest.raises(PaillierInputError, match="index 0"):
        pack([-1], 8)
    with pytest.raises(PaillierInputError, match="not an integer"):
        pack([1.5], 8)  # type: ignore[list-item]
    with pytest.raises(PaillierInputError, match="slot_bits"):
        pack([1], 0)


def test_unpack_detects_a_carry_out_of_the_top_slot() -> None:
    with pytest.raises(PaillierInputError, match="overflowed"):
        unpack(1 << 16, 2, 8)
    with pytest.raises(PaillierInputError):
        unpack(-5, 1, 8)


def test_slots_per_plaintext(keys: Keys) -> None:
    pk = keys[0]
    assert pk.slots(72) == (pk.bits - 2) // 72 == 14
    assert pk.slots(pk.bits) == 0
    with pytest.raises(PaillierInputError):
        pk.slots(0)


def test_packed_ciphertexts_add_slot_by_slot(keys: Keys) -> None:
    pk, sk = keys
    slot_bits = 60  # 53-bit values, room for 2^7 additions
    slots = pk.slots(slot_bits)
    rows = [[(r * 7919 + s * 104729) % 2**53 for s in range(slots)] for r in range(100)]
    encrypted = pk.encrypt_ints([pack(row, slot_bits) for row in rows])
    total = sk.decrypt_ints(encrypted.sum())[0]
    assert unpack(total, slots, slot_bits) == [sum(col) for col in zip(*rows, strict=True)]
    wire = EncryptedVector.from_bytes(pk, encrypted[:2].to_bytes())
    assert unpack(sk.decrypt_ints(wire[0] + wire[1])[0], slots, slot_bits) == [
        a + b for a, b in zip(rows[0], rows[1], strict=True)
    ]
