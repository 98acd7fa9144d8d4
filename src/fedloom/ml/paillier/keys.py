"""Paillier key pairs: public keys with a DJN obfuscation base (n, hs) and CRT private keys (p, q).

g = n + 1, so g^m = 1 + m*n mod n^2 costs one product. Encryption is (1 + m*n) * hs^a mod n^2 with hs = h^n,
h = -x^2 mod n random, and a random of |n|/2 bits (Damgard-Jurik-Nielsen): semantically secure under DJN's
assumption that such short-exponent n-th residues are indistinguishable from random ones, as used by
pypaillier and SecretFlow HEU. textbook=True keeps the r^n obfuscator of plain Paillier.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gmpy2
import numpy as np
import numpy.typing as npt
from gmpy2 import mpz

from fedloom.ml.paillier import _fixed_base
from fedloom.ml.paillier._errors import PaillierInputError
from fedloom.ml.paillier._wire import key_fingerprint
from fedloom.ml.paillier.encoding import FRAC_BITS, decode_vector, encode_raw_ints, encode_vector
from fedloom.ml.paillier.vector import EncryptedVector

MIN_KEY_BITS = 1024
KEY_BITS_STEP = 256
SCHEME = "paillier-djn-v1"
_KEY_FIELDS = frozenset({"scheme", "bits", "n", "hs"})
# Product of the odd primes below 200: a modulus sharing one of them is corrupt.
_SMALL_PRIMES = mpz(1)
for _p in range(3, 200, 2):
    if gmpy2.is_prime(_p):
        _SMALL_PRIMES *= _p


def check_key_bits(bits: int) -> None:
    """Refuse key sizes below MIN_KEY_BITS or not a multiple of KEY_BITS_STEP."""
    if isinstance(bits, bool) or not isinstance(bits, int):
        raise PaillierInputError(f"bits must be an int, got {type(bits).__name__}")
    if bits < MIN_KEY_BITS:
        raise PaillierInputError(f"Paillier keys must have at least {MIN_KEY_BITS} bits, got {bits}")
    if bits % KEY_BITS_STEP:
        raise PaillierInputError(f"Paillier key bits must be a multiple of {KEY_BITS_STEP}, got {bits}")


class PublicKey:
    """Modulus n and DJN base hs; anyone holding it can encrypt and compute on ciphertexts."""

    __slots__ = ("bits", "ciphertext_bytes", "fingerprint", "hs", "max_int", "n", "nsquare")

    def __init__(self, n: int, hs: int) -> None:
        """Trusted constructor (no checks); use from_dict for keys received from elsewhere."""
        self.n = mpz(n)
        self.nsquare = self.n * self.n
        self.hs = mpz(hs)
        self.bits = int(self.n.bit_length())
        self.max_int = int((self.n - 1) // 2)
        self.ciphertext_bytes = (int(self.nsquare.bit_length()) + 7) // 8
        self.fingerprint = key_fingerprint(self.n)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and self.n == other.n and self.hs == other.hs

    def __hash__(self) -> int:
        return hash((int(self.n), int(self.hs)))

    def __repr__(self) -> str:
        return f"PublicKey(bits={self.bits}, fingerprint={self.fingerprint.hex()})"

    def encrypt(
        self, values: npt.ArrayLike, *, frac_bits: int = FRAC_BITS, textbook: bool = False
    ) -> EncryptedVector:
        """Encrypt a 1-D real vector at 2^-frac_bits resolution (NaN/inf and oversize values refused)."""
        encoded, bound = encode_vector(values, frac_bits, self.n, self.max_int)
        return EncryptedVector(self, self.encrypt_residues(encoded, textbook=textbook), frac_bits, bound)

    def encrypt_ints(self, values: Sequence[int], *, textbook: bool = False) -> EncryptedVector:
        """Encrypt raw plaintexts 0 <= v < n (e.g. packed slots); frac_bits is 0.

        Values up to max_int keep overflow checking; larger ones make a raw modular vector (bound None).
        """
        encoded = encode_raw_ints(values, self.n)
        top = int(max(encoded, default=0))
        bound = top if top <= self.max_int else None
        return EncryptedVector(self, self.encrypt_residues(encoded, textbook=textbook), 0, bound)

    def encrypt_residues(self, residues: Sequence[mpz], *, textbook: bool = False) -> list[mpz]:
        """Ciphertexts of already-encoded residues in [0, n): (1 + m*n) * obfuscator mod n^2."""
        n, n2 = self.n, self.nsquare
        fresh = self.obfuscators(len(residues), textbook=textbook)
        return [(m * n + 1) * r % n2 for m, r in zip(residues, fresh, strict=True)]

    def obfuscators(self, count: int, *, textbook: bool = False) -> list[mpz]:
        """count fresh encryptions of zero: hs^a (DJN, table-driven) or r^n (textbook)."""
        if textbook:
            return _fixed_base.textbook_obfuscators(self.n, count)
        return _fixed_base.djn_obfuscators(self.n, self.hs, count)

    def precompute(self) -> None:
        """Build this process's fixed-base table now rather than after the first few hundred encryptions."""
        _fixed_base.get_table(self.n, self.hs)

    def slots(self, slot_bits: int) -> int:
        """How many slot_bits-wide slots one plaintext holds while staying below 2^(bits-2) <= max_int."""
        if isinstance(slot_bits, bool) or not isinstance(slot_bits, int) or slot_bits < 1:
            raise PaillierInputError(f"slot_bits must be a positive int, got {slot_bits!r}")
        return (self.bits - 2) // slot_bits

    def to_dict(self) -> dict[str, int | str]:
        """Plain dict for the wire codec or JSON (Python ints of any size)."""
        return {"scheme": SCHEME, "bits": self.bits, "n": int(self.n), "hs": int(self.hs)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PublicKey:
        """Validate and rebuild a key from to_dict output; unknown or missing fields are named."""
        if not isinstance(data, Mapping):
            raise PaillierInputError(f"public key: expected a mapping, got {type(data).__name__}")
        unknown, missing = set(data) - _KEY_FIELDS, _KEY_FIELDS - set(data)
        if unknown or missing:
            raise PaillierInputError(
                f"public key: unknown fields {sorted(map(str, unknown))}, missing fields {sorted(missing)}"
            )
        if data["scheme"] != SCHEME:
            raise PaillierInputError(f"public key: scheme must be {SCHEME!r}, got {data['scheme']!r}")
        for field in ("bits", "n", "hs"):
            if isinstance(data[field], bool) or not isinstance(data[field], int):
                raise PaillierInputError(f"public key: {field} must be an int")
        _check_modulus(data["bits"], mpz(data["n"]), mpz(data["hs"]))
        return cls(data["n"], data["hs"])


def _check_modulus(bits: int, n: mpz, hs: mpz) -> None:
    check_key_bits(bits)
    if n.bit_length() != bits:
        raise PaillierInputError(f"public key: n has {n.bit_length()} bits, the key says {bits}")
    if gmpy2.gcd(n, _SMALL_PRIMES) != 1 or n % 2 == 0 or gmpy2.is_square(n):
        raise PaillierInputError("public key: n is not a product of two large primes")
    if not 1 < hs < n * n or gmpy2.gcd(hs, n) != 1:
        raise PaillierInputError("public key: hs must be a unit in (1, n^2)")


class PrivateKey:
    """The factors p, q of n, with CRT decryption constants."""

    __slots__ = ("_hp", "_hq", "_lam", "_mu", "_p", "_p2", "_q", "_q2", "_q_inv", "public_key")

    def __init__(self, public_key: PublicKey, p: int, q: int) -> None:
        self._p, self._q = mpz(p), mpz(q)
        if self._p * self._q != public_key.n or self._p == self._q:
            raise PaillierInputError("private key: p * q does not match the public key")
        self.public_key = public_key
        self._p2, self._q2 = self._p * self._p, self._q * self._q
        g = public_key.n + 1
        self._hp = _crt_constant(g, self._p, self._p2)
        self._hq = _crt_constant(g, self._q, self._q2)
        self._q_inv = gmpy2.invert(self._q, self._p)
        self._lam = gmpy2.lcm(self._p - 1, self._q - 1)
        self._mu = gmpy2.invert(
            (gmpy2.powmod(g, self._lam, public_key.nsquare) - 1) // public_key.n, public_key.n
        )

    def __repr__(self) -> str:
        return f"PrivateKey(bits={self.public_key.bits}, fingerprint={self.public_key.fingerprint.hex()})"

    @property
    def primes(self) -> tuple[int, int]:
        """(p, q): secret; for handing the key to this process's own workers only."""
        return int(self._p), int(self._q)

    def _check_vector(self, vector: EncryptedVector) -> None:
        if not isinstance(vector, EncryptedVector):
            raise PaillierInputError(f"expected an EncryptedVector, got {type(vector).__name__}")
        if vector.public_key.n != self.public_key.n:
            raise PaillierInputError("the vector was encrypted under a different public key")

    def decrypt(self, vector: EncryptedVector, *, crt: bool = True) -> npt.NDArray[np.float64]:
        """Decrypt and decode to float64 (residues above n/2 are negative; divided by 2^frac_bits)."""
        self._check_vector(vector)
        residues = self.decrypt_residues(vector.ciphertexts, crt=crt)
        return decode_vector(residues, vector.frac_bits, self.public_key.n)

    def decrypt_ints(self, vector: EncryptedVector, *, crt: bool = True) -> list[int]:
        """Raw plaintext residues in [0, n), ignoring frac_bits and sign (e.g. packed slots)."""
        self._check_vector(vector)
        return [int(m) for m in self.decrypt_residues(vector.ciphertexts, crt=crt)]

    def decrypt_residues(self, ciphertexts: Sequence[mpz], *, crt: bool = True) -> list[mpz]:
        """Plaintexts in [0, n): CRT halves modulo p^2 and q^2, or textbook L(c^lambda) * mu."""
        if not crt:
            n, n2 = self.public_key.n, self.public_key.nsquare
            raised = gmpy2.powmod_base_list(list(ciphertexts), self._lam, n2)
            return [(x - 1) // n * self._mu % n for x in raised]
        p, q = self._p, self._q
        xp = gmpy2.powmod_base_list([c % self._p2 for c in ciphertexts], p - 1, self._p2)
        xq = gmpy2.powmod_base_list([c % self._q2 for c in ciphertexts], q - 1, self._q2)
        out: list[mpz] = []
        for a, b in zip(xp, xq, strict=True):
            mp = (a - 1) // p * self._hp % p
            mq = (b - 1) // q * self._hq % q
            out.append(mq + (mp - mq) * self._q_inv % p * q)
        return out


def _crt_constant(g: mpz, prime: mpz, prime_square: mpz) -> mpz:
    # h_p = L_p(g^(p-1) mod p^2)^-1 mod p, with L_p(x) = (x - 1) / p.
    return gmpy2.invert((gmpy2.powmod(g, prime - 1, prime_square) - 1) // prime, prime)


def _randbits_source(rng_seed: int | None) -> Callable[[int], int]:
    if rng_seed is None:
        return secrets.randbits
    return random.Random(rng_seed).getrandbits  # reproducible keys, for tests only


def _random_prime(half_bits: int, randbits: Callable[[int], int]) -> mpz:
    while True:
        # The two top bits set make the product of two such primes exactly 2 * half_bits long.
        candidate = mpz(randbits(half_bits)) | (mpz(3) << (half_bits - 2)) | 1
        prime = gmpy2.next_prime(candidate)
        if prime.bit_length() == half_bits:
            return mpz(prime)


def _djn_base(n: mpz, randbits: Callable[[int], int]) -> mpz:
    while True:
        x = mpz(randbits(int(n.bit_length()) + 64)) % n  # 64 extra bits: statistically uniform mod n
        if x > 1 and gmpy2.gcd(x, n) == 1:
            h = (-x * x) % n
            return mpz(gmpy2.powmod(h, n, n * n))


def generate_keypair(bits: int = 1024, *, rng_seed: int | None = None) -> tuple[PublicKey, PrivateKey]:
    """A fresh key pair with |n| = bits (>= 1024, multiple of 256); rng_seed makes it reproducible (tests)."""
    check_key_bits(bits)
    randbits = _randbits_source(rng_seed)
    while True:
        p, q = _random_prime(bits // 2, randbits), _random_prime(bits // 2, randbits)
        n = p * q
        if p != q and n.bit_length() == bits and gmpy2.gcd(n, (p - 1) * (q - 1)) == 1:
            break
    public_key = PublicKey(n, _djn_base(n, randbits))
    return public_key, PrivateKey(public_key, p, q)
