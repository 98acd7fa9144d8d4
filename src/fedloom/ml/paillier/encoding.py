"""Fixed-point encoding of real vectors into Z_n and back: the precision contract of the Paillier room.

A real x is encoded as the integer round(x * 2^f) (round half to even), reduced modulo n, so a negative
integer -|m| becomes n - |m|. Decoding maps a residue m > n/2 to the negative m - n and divides by 2^f.
The signed integer behind every ciphertext must therefore stay within +-max_int = (n - 1) // 2; every
vector tracks an upper bound on it and each operation that could exceed it raises PaillierOverflowError.
Scalars and matrices for products are quantized to int64 with at most 62 significant bits.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from gmpy2 import mpz

from fedloom.ml.paillier._errors import PaillierInputError, PaillierOverflowError

FRAC_BITS = 32
"""Default fraction bits of encrypted values: absolute resolution 2^-33 after rounding."""

MATRIX_FRAC_BITS = 16
"""Default fraction bits of float plaintext scalars and matrices (short exponents keep products fast)."""

MAX_FRAC_BITS = 512
"""Largest fraction-bit count accepted when encoding (ldexp stays finite for every |x| < 2^52)."""

SCALAR_LIMIT_BITS = 62
"""Quantized scalars must satisfy |k| < 2^62 so that int64 arithmetic on them never wraps."""

_FAST_LIMIT = float(2**62)
_EXACT_FLOAT = float(2**52)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def check_frac_bits(frac_bits: int) -> int:
    """Return frac_bits if it is an int within [0, MAX_FRAC_BITS], else raise."""
    if isinstance(frac_bits, bool) or not isinstance(frac_bits, int | np.integer):
        raise PaillierInputError(f"frac_bits must be an int, got {type(frac_bits).__name__}")
    if not 0 <= frac_bits <= MAX_FRAC_BITS:
        raise PaillierInputError(f"frac_bits must be within [0, {MAX_FRAC_BITS}], got {frac_bits}")
    return int(frac_bits)


def as_array(values: npt.ArrayLike, what: str) -> npt.NDArray[np.generic]:
    """Convert to a numeric numpy array (bool, int, uint or float); refuse anything else."""
    try:
        arr = np.asarray(values)
        if arr.dtype.kind == "O":
            arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise PaillierInputError(f"{what}: not a numeric array ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise PaillierInputError(f"{what}: dtype {arr.dtype} is not numeric")
    return arr


def _index_text(arr: npt.NDArray[np.generic], flat_index: int) -> str:
    if arr.ndim == 1:
        return str(flat_index)
    return str(tuple(int(i) for i in np.unravel_index(flat_index, arr.shape)))


def check_finite(arr: npt.NDArray[np.generic], what: str) -> None:
    """Refuse NaN and +-inf, naming the first offending index."""
    if arr.dtype.kind != "f":
        return
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        first = int(bad[0])
        raise PaillierInputError(
            f"{what}: value at index {_index_text(arr, first)} is {arr.reshape(-1)[first]}; "
            "NaN and infinity cannot be encoded"
        )


def _exact_scaled(x: float, frac_bits: int) -> int:
    # Floats of magnitude >= 2^52 are integers, so the shift is exact; smaller ones scale without overflow.
    if abs(x) >= _EXACT_FLOAT:
        return int(x) << frac_bits
    return int(np.rint(np.ldexp(x, frac_bits)))


def _scaled_ints(arr: npt.NDArray[np.generic], frac_bits: int) -> list[int]:
    if arr.dtype.kind in "biu":
        return [int(v) << frac_bits for v in arr.tolist()]
    floats = arr.astype(np.float64, copy=False)
    with np.errstate(over="ignore"):  # overflow to inf just routes the value to the exact slow path
        scaled = np.ldexp(floats, frac_bits)
    if floats.size and bool(np.all(np.abs(scaled) < _FAST_LIMIT)):
        ints: list[int] = np.rint(scaled).astype(np.int64).tolist()
        return ints
    return [_exact_scaled(float(x), frac_bits) for x in floats.tolist()]


def encode_vector(values: npt.ArrayLike, frac_bits: int, n: mpz, max_int: int) -> tuple[list[mpz], int]:
    """Encode a 1-D real vector as residues mod n; return them and the largest |integer| encoded."""
    frac_bits = check_frac_bits(frac_bits)
    arr = as_array(values, "values")
    if arr.ndim != 1:
        raise PaillierInputError(f"values: expected a 1-D vector, got shape {arr.shape}")
    check_finite(arr, "values")
    ints = _scaled_ints(arr, frac_bits)
    bound = max((abs(v) for v in ints), default=0)
    if bound > max_int:
        first = next(i for i, v in enumerate(ints) if abs(v) > max_int)
        raise PaillierInputError(
            f"values: value at index {first} is too large for this key: |x| * 2^{frac_bits} must not "
            f"exceed (n - 1) / 2 (about 2^{max_int.bit_length()})"
        )
    return [mpz(v) % n for v in ints], bound


def encode_raw_ints(values: Sequence[int], n: mpz) -> list[mpz]:
    """Validate raw plaintexts 0 <= v < n (e.g. packed slots) and return them as mpz."""
    out: list[mpz] = []
    for i, value in enumerate(values):
        try:
            v = mpz(operator.index(value))
        except TypeError:
            raise PaillierInputError(f"ints: value at index {i} is not an integer") from None
        if not 0 <= v < n:
            raise PaillierInputError(f"ints: value at index {i} is outside [0, n)")
        out.append(v)
    return out


def encode_scalars(values: npt.ArrayLike, frac_bits: int | None, what: str) -> tuple[IntArray, int]:
    """Quantize plaintext scalars to int64 fixed point; return them and the fraction bits used.

    frac_bits None picks 0 for integer input (exact) and MATRIX_FRAC_BITS for floats.
    """
    arr = as_array(values, what)
    check_finite(arr, what)
    if frac_bits is None:
        frac_bits = 0 if arr.dtype.kind in "biu" else MATRIX_FRAC_BITS
    frac_bits = check_frac_bits(frac_bits)
    with np.errstate(over="ignore"):  # inf fails the range check below, which names the index
        scaled = np.ldexp(arr.astype(np.float64), frac_bits)
    too_big = np.flatnonzero(~(np.abs(scaled) < _FAST_LIMIT))
    if too_big.size:
        first = int(too_big[0])
        raise PaillierInputError(
            f"{what}: value at index {_index_text(arr, first)} times 2^{frac_bits} does not fit in "
            f"{SCALAR_LIMIT_BITS} bits"
        )
    if arr.dtype.kind in "biu":
        return np.left_shift(arr.astype(np.int64), frac_bits), frac_bits
    return np.rint(scaled).astype(np.int64), frac_bits


def signed(residue: mpz, n: mpz) -> int:
    """Map a residue in [0, n) to the signed integer in (-n/2, n/2]."""
    value = int(residue)
    return value - int(n) if value > int(n) >> 1 else value


def decode_vector(residues: Sequence[mpz], frac_bits: int, n: mpz) -> FloatArray:
    """Decode residues to float64 (correctly rounded); raise if a value exceeds the float64 range."""
    half = n >> 1
    ints = [int(m - n) if m > half else int(m) for m in residues]
    if not ints:
        return np.zeros(0, dtype=np.float64)
    if -(2**63) < min(ints) and max(ints) < 2**63:
        return np.ldexp(np.array(ints, dtype=np.int64).astype(np.float64), -frac_bits)
    scale = 1 << frac_bits
    out = np.empty(len(ints), dtype=np.float64)
    for i, v in enumerate(ints):
        try:
            out[i] = v / scale
        except OverflowError:
            raise PaillierOverflowError(
                f"decrypted value at index {i} exceeds the float64 range; use decrypt_ints"
            ) from None
    return out


def bound_after(bound: int | None, factor: int, max_int: int, op: str) -> int | None:
    """Multiply a tracked magnitude bound by factor; raise if the result may wrap modulo n."""
    if bound is None:
        return None
    return check_bound(bound * factor, max_int, op)


def check_bound(bound: int | None, max_int: int, op: str) -> int | None:
    """Return bound, raising PaillierOverflowError when it exceeds the key's signed capacity."""
    if bound is not None and bound > max_int:
        raise PaillierOverflowError(
            f"{op}: the result may reach 2^{bound.bit_length()} in magnitude, beyond this key's "
            f"capacity of 2^{max_int.bit_length()}; reduce values, scalars, rows or frac_bits"
        )
    return bound


__all__ = [
    "FRAC_BITS",
    "MATRIX_FRAC_BITS",
    "MAX_FRAC_BITS",
    "SCALAR_LIMIT_BITS",
    "bound_after",
    "check_bound",
    "check_frac_bits",
    "decode_vector",
    "encode_raw_ints",
    "encode_scalars",
    "encode_vector",
    "signed",
]
