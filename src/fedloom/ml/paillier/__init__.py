"""Paillier homomorphic encryption for fedloom's federated algorithms: pure computation, no I/O.

Keys: generate_keypair(bits) -> (PublicKey, PrivateKey); g = n + 1, DJN fixed-base obfuscation, CRT
decryption. Values are fixed-point: x -> round(x * 2^frac_bits) mod n (FRAC_BITS = 32 by default),
negatives as n - |m|, decoded back by mapping residues above n/2 to negatives. Products with plaintext
scalars or matrices (MATRIX_FRAC_BITS = 16 for floats) add their fraction bits. Each vector tracks a bound
on its plaintext integers; an operation that could leave (-n/2, n/2) raises PaillierOverflowError, and
NaN / inf are refused with PaillierInputError (a ValueError) naming the index. See docs/paillier.md.
"""

from fedloom.ml.paillier._errors import PaillierInputError, PaillierOverflowError
from fedloom.ml.paillier.encoding import FRAC_BITS, MATRIX_FRAC_BITS
from fedloom.ml.paillier.keys import MIN_KEY_BITS, PrivateKey, PublicKey, generate_keypair
from fedloom.ml.paillier.packing import pack, unpack
from fedloom.ml.paillier.parallel import ParallelPaillier
from fedloom.ml.paillier.vector import EncryptedVector

__all__ = [
    "FRAC_BITS",
    "MATRIX_FRAC_BITS",
    "MIN_KEY_BITS",
    "EncryptedVector",
    "PaillierInputError",
    "PaillierOverflowError",
    "ParallelPaillier",
    "PrivateKey",
    "PublicKey",
    "generate_keypair",
    "pack",
    "unpack",
]
