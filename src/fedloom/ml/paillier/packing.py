"""Plaintext packing: several bounded non-negative integers in one Paillier plaintext, for add-only protocols.

values[0] sits in the lowest slot: pack([a, b], s) = a + b * 2^s. Adding packed ciphertexts adds slot by
slot, which stays exact as long as no slot ever carries: **every slot's final sum must stay below
2^slot_bits**. For k additions of values below 2^v, choose slot_bits >= v + ceil(log2(k + 1)). One
plaintext holds PublicKey.slots(slot_bits) = (key bits - 2) // slot_bits slots; e.g. SecureBoost g and h
in 53-bit fixed point summed over 100k rows need 72-bit slots: 14 per 1024-bit key, 28 per 2048-bit key.
Negative values must be shifted first (e.g. g + 1 for gradients in [-1, 1]).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

from fedloom.ml.paillier._errors import PaillierInputError


def _check_slot_bits(slot_bits: int) -> None:
    if isinstance(slot_bits, bool) or not isinstance(slot_bits, int) or slot_bits < 1:
        raise PaillierInputError(f"slot_bits must be a positive int, got {slot_bits!r}")


def pack(values: Sequence[int], slot_bits: int) -> int:
    """sum(values[i] << (i * slot_bits)); each value must be an int in [0, 2^slot_bits)."""
    _check_slot_bits(slot_bits)
    limit = 1 << slot_bits
    packed = 0
    for i in range(len(values) - 1, -1, -1):
        try:
            value = operator.index(values[i])
        except TypeError:
            raise PaillierInputError(f"pack: value at index {i} is not an integer") from None
        if not 0 <= value < limit:
            raise PaillierInputError(f"pack: value at index {i} is outside [0, 2^{slot_bits})")
        packed = (packed << slot_bits) | value
    return packed


def unpack(m: int, count: int, slot_bits: int) -> list[int]:
    """The count slots of a packed plaintext; refuses bits above the top slot (a slot overflowed)."""
    _check_slot_bits(slot_bits)
    m = operator.index(m)
    if count < 0 or m < 0:
        raise PaillierInputError("unpack: count and m must be non-negative")
    if m >> (count * slot_bits):
        raise PaillierInputError(
            f"unpack: value has {m.bit_length()} bits, more than {count} slots of {slot_bits} bits; "
            "a slot overflowed or the value was negative"
        )
    mask = (1 << slot_bits) - 1
    return [(m >> (i * slot_bits)) & mask for i in range(count)]
