"""Byte format of encrypted vectors: a 30-byte header, then fixed-width big-endian ciphertexts. Never pickle.

Header (big-endian): magic "FLPV", version (1 byte), flags (1 byte, bit 0 = magnitude bound present),
frac_bits (uint16), ciphertext width in bytes (uint32), count (uint64), bit length of the magnitude
bound (uint16), and the first 8 bytes of BLAKE2b(n) so a vector is never read under the wrong key.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence

from gmpy2 import mpz

from fedloom.ml.paillier._errors import PaillierInputError

MAGIC = b"FLPV"
VERSION = 1
HEADER = struct.Struct(">4sBBHIQH8s")
_FLAG_BOUND = 1


def key_fingerprint(n: mpz) -> bytes:
    """8 bytes identifying a modulus."""
    n_int = int(n)
    return hashlib.blake2b(n_int.to_bytes((n_int.bit_length() + 7) // 8, "big"), digest_size=8).digest()


def ints_to_bytes(values: Sequence[mpz], width: int) -> bytes:
    """Concatenate non-negative integers as width-byte big-endian fields."""
    return b"".join([int(v).to_bytes(width, "big") for v in values])


def ints_from_bytes(data: bytes | memoryview, width: int) -> list[mpz]:
    """Split width-byte big-endian fields back into integers (the length must be a multiple of width)."""
    if width <= 0 or len(data) % width:
        raise PaillierInputError(f"byte payload of {len(data)} bytes is not a multiple of {width}")
    view = memoryview(data)
    return [mpz(int.from_bytes(view[i : i + width], "big")) for i in range(0, len(view), width)]


def encode(ciphertexts: Sequence[mpz], *, n: mpz, width: int, frac_bits: int, bound: int | None) -> bytes:
    """Header plus body for one encrypted vector."""
    flags = 0 if bound is None else _FLAG_BOUND
    bound_bits = 0 if bound is None else bound.bit_length()
    header = HEADER.pack(
        MAGIC, VERSION, flags, frac_bits, width, len(ciphertexts), bound_bits, key_fingerprint(n)
    )
    return header + ints_to_bytes(ciphertexts, width)


def _check_header(data: bytes, n: mpz, width: int) -> tuple[int, int, int, int]:
    if len(data) < HEADER.size:
        raise PaillierInputError(
            f"encrypted vector: {len(data)} bytes is shorter than the {HEADER.size}-byte header"
        )
    magic, version, flags, frac_bits, got_width, count, bound_bits, fingerprint = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise PaillierInputError("encrypted vector: bad magic, not a fedloom Paillier vector")
    if version != VERSION:
        raise PaillierInputError(f"encrypted vector: unsupported format version {version}")
    if fingerprint != key_fingerprint(n):
        raise PaillierInputError("encrypted vector: encrypted under a different public key")
    if got_width != width:
        raise PaillierInputError(
            f"encrypted vector: ciphertext width {got_width} does not match the key's {width}"
        )
    if flags & ~_FLAG_BOUND or bound_bits > n.bit_length():
        raise PaillierInputError("encrypted vector: malformed header flags or bound")
    if len(data) != HEADER.size + count * width:
        raise PaillierInputError(
            f"encrypted vector: expected {HEADER.size + count * width} bytes for {count} ciphertexts, "
            f"got {len(data)}"
        )
    return frac_bits, count, flags, bound_bits


def decode(data: bytes, *, n: mpz, nsquare: mpz, width: int) -> tuple[list[mpz], int, int | None]:
    """Validate and parse one encrypted vector: (ciphertexts, frac_bits, magnitude bound or None)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise PaillierInputError(f"encrypted vector: expected bytes, got {type(data).__name__}")
    data = bytes(data)
    frac_bits, _count, flags, bound_bits = _check_header(data, n, width)
    ciphertexts = ints_from_bytes(memoryview(data)[HEADER.size :], width)
    for i, c in enumerate(ciphertexts):
        if not 0 < c < nsquare:
            raise PaillierInputError(f"encrypted vector: ciphertext {i} is outside (0, n^2)")
    # The header rounds the bound up to a power of two; never let that rounding alone exceed capacity.
    bound = min((1 << bound_bits) - 1, (n - 1) // 2) if flags & _FLAG_BOUND else None
    return ciphertexts, frac_bits, None if bound is None else int(bound)
