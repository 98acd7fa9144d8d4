"""Worker-process side of ParallelPaillier: msgpack requests and replies over stdin/stdout, never pickle.

A request is [op, n, hs, ...] with integers as big-endian bytes and ciphertexts / plaintexts as fixed-width
byte strings (the body of the vector wire format). The reply is [True, payload] or [False, message].
"""

from __future__ import annotations

import struct
import sys
import time
from collections.abc import Callable
from typing import IO, Any, Protocol

import msgpack
import numpy as np
from gmpy2 import mpz

from fedloom.ml.paillier import _multiexp
from fedloom.ml.paillier._wire import ints_from_bytes, ints_to_bytes
from fedloom.ml.paillier.keys import PrivateKey, PublicKey

_MAX_CACHED_KEYS = 4


def int_bytes(value: int | mpz) -> bytes:
    """Minimal big-endian bytes of a non-negative integer."""
    v = int(value)
    return v.to_bytes((v.bit_length() + 7) // 8 or 1, "big")


def bytes_int(data: bytes) -> mpz:
    """Inverse of int_bytes."""
    return mpz(int.from_bytes(data, "big"))


def pack_message(items: list[Any]) -> bytes:
    """msgpack-encode a flat list of bytes / str / int / bool."""
    packed: bytes = msgpack.packb(items, use_bin_type=True)
    return packed


def unpack_message(data: bytes) -> list[Any]:
    """Decode a message made by pack_message."""
    items: list[Any] = msgpack.unpackb(data, raw=False)
    return items


class _Keys:
    """Keys this worker has seen, so fixed-base tables and CRT constants are built once per key."""

    def __init__(self) -> None:
        self.public: dict[bytes, PublicKey] = {}
        self.private: dict[bytes, PrivateKey] = {}

    def public_key(self, n: bytes, hs: bytes) -> PublicKey:
        key = self.public.get(n + hs)
        if key is None:
            if len(self.public) >= _MAX_CACHED_KEYS:
                self.public.clear()
            key = self.public[n + hs] = PublicKey(bytes_int(n), bytes_int(hs))
        return key

    def private_key(self, public_key: PublicKey, p: bytes, q: bytes) -> PrivateKey:
        key = self.private.get(p + q)
        if key is None:
            if len(self.private) >= _MAX_CACHED_KEYS:
                self.private.clear()
            key = self.private[p + q] = PrivateKey(public_key, bytes_int(p), bytes_int(q))
        return key


def _encrypt(keys: _Keys, args: list[Any]) -> bytes:
    n, hs, textbook, residues = args
    key = keys.public_key(n, hs)
    plain = ints_from_bytes(residues, (key.bits + 7) // 8)
    return ints_to_bytes(key.encrypt_residues(plain, textbook=textbook), key.ciphertext_bytes)


def _decrypt(keys: _Keys, args: list[Any]) -> bytes:
    n, hs, p, q, crt, ciphertexts = args
    public_key = keys.public_key(n, hs)
    private_key = keys.private_key(public_key, p, q)
    cts = ints_from_bytes(ciphertexts, public_key.ciphertext_bytes)
    return ints_to_bytes(private_key.decrypt_residues(cts, crt=crt), (public_key.bits + 7) // 8)


def _dot(keys: _Keys, args: list[Any]) -> bytes:
    n, hs, ciphertexts, matrix, columns = args
    key = keys.public_key(n, hs)
    cts = ints_from_bytes(ciphertexts, key.ciphertext_bytes)
    quantized = np.frombuffer(matrix, dtype="<i8").reshape(len(cts), columns)
    return ints_to_bytes(_multiexp.column_products(cts, quantized, key.nsquare), key.ciphertext_bytes)


def _precompute(keys: _Keys, args: list[Any]) -> bytes:
    n, hs = args
    keys.public_key(n, hs).precompute()
    return b""


def _cpu_time(keys: _Keys, args: list[Any]) -> bytes:
    return struct.pack(">d", time.process_time())


_HANDLERS: dict[str, Callable[[_Keys, list[Any]], bytes]] = {
    "encrypt": _encrypt,
    "decrypt": _decrypt,
    "dot": _dot,
    "precompute": _precompute,
    "cpu_time": _cpu_time,
}


def handle(keys: _Keys, request: bytes) -> bytes:
    """Run one request and build its reply; failures become an error reply, never a dead worker."""
    try:
        op, *args = unpack_message(request)
        return pack_message([True, _HANDLERS[op](keys, args)])
    except Exception as exc:  # process boundary: report every failure to the parent, which raises it
        return pack_message([False, f"{type(exc).__name__}: {exc}"])


class Conn(Protocol):
    def send_bytes(self, data: bytes) -> None: ...

    def recv_bytes(self) -> bytes: ...


class StreamConn:
    """Length-prefixed frames (8-byte big-endian size, then the bytes) over two byte streams."""

    def __init__(self, reader: IO[bytes], writer: IO[bytes]) -> None:
        self._reader = reader
        self._writer = writer

    def send_bytes(self, data: bytes) -> None:
        self._writer.write(struct.pack(">Q", len(data)) + data)
        self._writer.flush()

    def recv_bytes(self) -> bytes:
        size = struct.unpack(">Q", self._read_exact(8))[0]
        return self._read_exact(size)

    def _read_exact(self, size: int) -> bytes:
        chunks, left = [], size
        while left:
            chunk = self._reader.read(left)
            if not chunk:
                raise EOFError("the other side closed the stream")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)


def serve(conn: Conn) -> None:
    """Worker main loop: answer requests until the parent sends b"" or closes the pipe."""
    keys = _Keys()
    while True:
        try:
            request = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if not request:
            return
        conn.send_bytes(handle(keys, request))


def main() -> None:
    """Entry point of a worker process started by ParallelPaillier."""
    serve(StreamConn(sys.stdin.buffer, sys.stdout.buffer))
