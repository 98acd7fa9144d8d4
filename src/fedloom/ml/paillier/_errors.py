"""Typed errors of the Paillier room; they are also ValueError / OverflowError for plain-Python callers."""

from __future__ import annotations

from fedloom.errors import InvalidInput


class PaillierInputError(InvalidInput, ValueError):
    """A key, value, matrix or byte string handed to the Paillier room is malformed; says what and where."""


class PaillierOverflowError(InvalidInput, OverflowError):
    """An operation could make a plaintext leave the signed range (-n/2, n/2) and silently wrap modulo n."""


__all__ = ["PaillierInputError", "PaillierOverflowError"]
