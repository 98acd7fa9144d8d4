"""EncryptedVector: a 1-D vector of Paillier ciphertexts under one key with one fixed-point exponent.

Homomorphisms: ct+ct and ct+plain add plaintexts; ct*plain and dot multiply by plaintext scalars. After a
product the fraction bits add up (values at 2^-32 times matrix entries at 2^-16 give 2^-48) and decryption
divides by the combined scale. Every vector carries an upper bound on |plaintext integer| so that an
operation which could wrap modulo n raises PaillierOverflowError instead of silently returning garbage.

Products and plaintext additions are deterministic functions of their inputs: call obfuscate() on a
result before it leaves the party, so the key owner cannot relate its randomness to the inputs' randomness.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from gmpy2 import mpz

from fedloom.ml.paillier import _multiexp, _wire
from fedloom.ml.paillier._errors import PaillierInputError
from fedloom.ml.paillier.encoding import (
    as_array,
    bound_after,
    check_bound,
    encode_scalars,
    encode_vector,
)

if TYPE_CHECKING:
    from fedloom.ml.paillier.keys import PublicKey

IndexLike = int | slice | Sequence[int] | npt.NDArray[np.integer[Any]] | npt.NDArray[np.bool_]
Plain = float | int | npt.ArrayLike


def _max_abs(values: npt.NDArray[np.int64]) -> int:
    return int(np.abs(values).max()) if values.size else 0


def _negated(values: Plain) -> npt.NDArray[Any]:
    arr = as_array(values, "plaintext")
    if arr.dtype.kind == "b" or (arr.dtype.kind == "u" and (arr.size == 0 or int(arr.max()) < 2**63)):
        arr = arr.astype(np.int64)
    elif arr.dtype.kind == "u":
        arr = arr.astype(np.float64)
    negated: npt.NDArray[Any] = np.negative(arr)
    return negated


class EncryptedVector:
    """Ciphertexts c_i = (1 + m_i n) r_i^n mod n^2 sharing one public key and one fraction-bit count."""

    __slots__ = ("_bound", "_cts", "frac_bits", "public_key")
    __array_ufunc__ = None  # make numpy hand `array + vector` and `array * vector` to our reflected operators

    def __init__(
        self, public_key: PublicKey, ciphertexts: list[mpz], frac_bits: int, bound: int | None
    ) -> None:
        """Wrap trusted ciphertexts; use PublicKey.encrypt or EncryptedVector.from_bytes to make one."""
        self.public_key = public_key
        self.frac_bits = frac_bits
        self._cts = ciphertexts
        self._bound = bound

    @property
    def bound(self) -> int | None:
        """Upper bound on |plaintext integer| of every element, or None for raw modular vectors."""
        return self._bound

    @property
    def ciphertexts(self) -> list[mpz]:
        """The ciphertexts (a copy of the list; the mpz values are immutable)."""
        return list(self._cts)

    def __len__(self) -> int:
        return len(self._cts)

    def __repr__(self) -> str:
        return (
            f"EncryptedVector(len={len(self)}, key_bits={self.public_key.bits}, frac_bits={self.frac_bits})"
        )

    def _like(self, ciphertexts: list[mpz], frac_bits: int, bound: int | None) -> EncryptedVector:
        return EncryptedVector(self.public_key, ciphertexts, frac_bits, bound)

    def __getitem__(self, key: IndexLike) -> EncryptedVector:
        if isinstance(key, slice):
            return self._like(self._cts[key], self.frac_bits, self._bound)
        if isinstance(key, int | np.integer):
            index = operator.index(key)
            return self._like([self._cts[index]], self.frac_bits, self._bound)
        arr = np.asarray(key)
        if arr.dtype.kind == "b":
            if arr.shape != (len(self),):
                raise PaillierInputError(
                    f"boolean mask of shape {arr.shape} for a vector of length {len(self)}"
                )
            arr = np.flatnonzero(arr)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise PaillierInputError("index must be an int, a slice, a 1-D integer array or a boolean mask")
        return self._like([self._cts[i] for i in arr.tolist()], self.frac_bits, self._bound)

    # -- additions --------------------------------------------------------------------------------

    def align(self, frac_bits: int) -> EncryptedVector:
        """The same values at a finer exponent: multiply the plaintexts by 2^(frac_bits - self.frac_bits)."""
        diff = frac_bits - self.frac_bits
        if diff < 0:
            raise PaillierInputError(f"cannot align {self.frac_bits} fraction bits down to {frac_bits}")
        if diff == 0:
            return self
        bound = bound_after(self._bound, 1 << diff, self.public_key.max_int, "align")
        return self._like(
            _multiexp.scalar_power(self._cts, 1 << diff, self.public_key.nsquare), frac_bits, bound
        )

    def _check_same_key(self, other: EncryptedVector) -> None:
        if other.public_key.n != self.public_key.n:
            raise PaillierInputError("cannot combine vectors encrypted under different public keys")

    def _broadcast(self, other: EncryptedVector) -> tuple[list[mpz], list[mpz]]:
        if len(self) == len(other):
            return self._cts, other._cts
        if len(other) == 1:
            return self._cts, other._cts * len(self)
        if len(self) == 1:
            return self._cts * len(other), other._cts
        raise PaillierInputError(f"length mismatch: {len(self)} and {len(other)}")

    def _add_encrypted(self, other: EncryptedVector) -> EncryptedVector:
        self._check_same_key(other)
        target = max(self.frac_bits, other.frac_bits)
        left, right = self.align(target), other.align(target)
        a, b = left._broadcast(right)
        bound = None if left._bound is None or right._bound is None else left._bound + right._bound
        bound = check_bound(bound, self.public_key.max_int, "add")
        n2 = self.public_key.nsquare
        return self._like([x * y % n2 for x, y in zip(a, b, strict=True)], target, bound)

    def _add_plain(self, other: Plain) -> EncryptedVector:
        key = self.public_key
        arr = as_array(other, "plaintext")
        arr = arr.reshape(1) if arr.ndim == 0 else arr  # a scalar adds to every element
        if arr.shape not in ((1,), (len(self),)):
            raise PaillierInputError(
                f"plaintext of shape {arr.shape} added to a vector of length {len(self)}"
            )
        encoded, plain_bound = encode_vector(arr, self.frac_bits, key.n, key.max_int)
        bound = None if self._bound is None else self._bound + plain_bound
        bound = check_bound(bound, key.max_int, "add")
        n, n2 = key.n, key.nsquare
        factors = [m * n + 1 for m in encoded]  # g^m = 1 + m*n mod n^2 when g = n + 1
        if len(factors) == 1:
            factors = factors * len(self)
        return self._like(
            [c * f % n2 for c, f in zip(self._cts, factors, strict=True)], self.frac_bits, bound
        )

    def __add__(self, other: EncryptedVector | Plain) -> EncryptedVector:
        if isinstance(other, EncryptedVector):
            return self._add_encrypted(other)
        return self._add_plain(other)

    __radd__ = __add__

    def __neg__(self) -> EncryptedVector:
        return self._like(
            _multiexp.batch_invert(self._cts, self.public_key.nsquare), self.frac_bits, self._bound
        )

    def __sub__(self, other: EncryptedVector | Plain) -> EncryptedVector:
        if isinstance(other, EncryptedVector):
            return self._add_encrypted(-other)
        return self._add_plain(_negated(other))

    def __rsub__(self, other: Plain) -> EncryptedVector:
        return (-self)._add_plain(other)

    # -- products ---------------------------------------------------------------------------------

    def mul(self, other: Plain, *, frac_bits: int | None = None) -> EncryptedVector:
        """Multiply by a plaintext scalar or elementwise by a 1-D array.

        frac_bits None quantizes floats at MATRIX_FRAC_BITS and keeps integers exact; the result's
        fraction bits are self.frac_bits plus the ones used for the plaintext.
        """
        if isinstance(other, EncryptedVector):
            raise TypeError("Paillier cannot multiply two ciphertexts")
        scalars, used_bits = encode_scalars(other, frac_bits, "scalar")
        key = self.public_key
        if scalars.ndim == 0 or scalars.shape == (1,):
            k = int(scalars.reshape(-1)[0])
            bound = bound_after(self._bound, abs(k), key.max_int, "mul")
            cts = _multiexp.scalar_power(self._cts, k, key.nsquare)
        elif scalars.shape == (len(self),):
            bound = bound_after(self._bound, _max_abs(scalars), key.max_int, "mul")
            cts = _multiexp.powers(self._cts, scalars.tolist(), key.nsquare)
        else:
            raise PaillierInputError(
                f"scalar array of shape {scalars.shape} for a vector of length {len(self)}"
            )
        return self._like(cts, self.frac_bits + used_bits, bound)

    def __mul__(self, other: Plain) -> EncryptedVector:
        return self.mul(other)

    __rmul__ = __mul__

    def sum(self) -> EncryptedVector:
        """The encrypted sum of all elements, as a vector of length 1."""
        n2 = self.public_key.nsquare
        total = _multiexp.ONE
        for c in self._cts:
            total = total * c % n2
        bound = bound_after(self._bound, len(self), self.public_key.max_int, "sum")
        return self._like([total], self.frac_bits, bound)

    def dot(self, matrix: npt.ArrayLike, *, frac_bits: int | None = None) -> EncryptedVector:
        """matrix.T @ self for a plaintext matrix of shape (len(self), k): k ciphertexts.

        One bucket multi-exponentiation per column over all rows (about ceil(b/w) modular products per
        cell for b-bit quantized entries), not one modexp per cell. frac_bits as in mul.
        """
        quantized, used_bits = self.quantize(matrix, frac_bits)
        cts = _multiexp.column_products(self._cts, quantized, self.public_key.nsquare)
        return self._like(cts, self.frac_bits + used_bits, self.dot_bound(quantized))

    def quantize(
        self, matrix: npt.ArrayLike, frac_bits: int | None = None
    ) -> tuple[npt.NDArray[np.int64], int]:
        """Fixed-point int64 form of a dot operand (a 1-D array counts as one column), with its frac bits."""
        quantized, used_bits = encode_scalars(matrix, frac_bits, "matrix")
        if quantized.ndim == 1:
            quantized = quantized.reshape(-1, 1)
        if quantized.ndim != 2 or quantized.shape[0] != len(self):
            raise PaillierInputError(f"matrix of shape {quantized.shape} for a vector of length {len(self)}")
        return quantized, used_bits

    def dot_bound(self, quantized: npt.NDArray[np.int64]) -> int | None:
        """Bound of matrix.T @ self: this vector's bound times the largest column L1 norm."""
        if self._bound is None:
            return None
        # Float sums of non-negative terms err by < 1e-9 relative here; the margin keeps the bound safe.
        l1 = float(np.abs(quantized).astype(np.float64).sum(axis=0).max()) if quantized.size else 0.0
        l1_bound = int(l1 * (1 + 1e-9)) + 1
        return bound_after(self._bound, l1_bound, self.public_key.max_int, "dot")

    # -- randomness and bytes -------------------------------------------------------------------

    def obfuscate(self) -> EncryptedVector:
        """Re-randomise every ciphertext (multiply by a fresh encryption of zero); plaintexts unchanged."""
        n2 = self.public_key.nsquare
        fresh = self.public_key.obfuscators(len(self))
        return self._like(
            [c * r % n2 for c, r in zip(self._cts, fresh, strict=True)], self.frac_bits, self._bound
        )

    def to_bytes(self) -> bytes:
        """Compact wire form: 30-byte header then fixed-width big-endian ciphertexts."""
        key = self.public_key
        return _wire.encode(
            self._cts, n=key.n, width=key.ciphertext_bytes, frac_bits=self.frac_bits, bound=self._bound
        )

    @classmethod
    def from_bytes(cls, public_key: PublicKey, data: bytes) -> EncryptedVector:
        """Parse to_bytes output, refusing truncated, padded, foreign-key or out-of-range data."""
        cts, frac_bits, bound = _wire.decode(
            data, n=public_key.n, nsquare=public_key.nsquare, width=public_key.ciphertext_bytes
        )
        return cls(public_key, cts, frac_bits, bound)

    @classmethod
    def concat(cls, parts: Sequence[EncryptedVector]) -> EncryptedVector:
        """Join vectors under one key, aligning them to the largest exponent."""
        if not parts:
            raise PaillierInputError("concat needs at least one vector")
        first = parts[0]
        target = max(p.frac_bits for p in parts)
        cts: list[mpz] = []
        bounds: list[int | None] = []
        for part in parts:
            first._check_same_key(part)
            aligned = part.align(target)
            cts.extend(aligned._cts)
            bounds.append(aligned._bound)
        bound = None if any(b is None for b in bounds) else max((b or 0) for b in bounds)
        return cls(first.public_key, cts, target, bound)
