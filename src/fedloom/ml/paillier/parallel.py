"""ParallelPaillier: encrypt, decrypt and dot split over worker processes, for callers that own every core.

Encoding, validation and overflow bounds stay in the calling process; workers only do the modular
arithmetic on fixed-width byte strings sent over their stdin/stdout (length-prefixed msgpack frames; no
multiprocessing, so nothing is ever pickled, not even to start a worker). Workers start
on first use and keep their fixed-base tables and CRT constants for the keys they have seen. workers=1
runs everything inline. Two parties sharing two cores should each keep the default inline path instead.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import weakref
from collections.abc import Sequence
from types import TracebackType

import numpy as np
import numpy.typing as npt
from gmpy2 import mpz

from fedloom.errors import OperationFailed
from fedloom.ml.paillier import _multiexp, _worker
from fedloom.ml.paillier._errors import PaillierInputError
from fedloom.ml.paillier._wire import ints_from_bytes, ints_to_bytes
from fedloom.ml.paillier.encoding import FRAC_BITS, decode_vector, encode_raw_ints, encode_vector
from fedloom.ml.paillier.keys import PrivateKey, PublicKey
from fedloom.ml.paillier.vector import EncryptedVector

# Below these sizes a pipe round trip costs more than the work it would spread.
MIN_ENCRYPT_CHUNK = 16
MIN_DECRYPT_CHUNK = 4
MIN_DOT_ROWS = 64
_JOIN_TIMEOUT_S = 5.0
# Not `-m`: the package imports _worker itself, and runpy warns about running an imported module.
_WORKER_MAIN = "from fedloom.ml.paillier._worker import main; main()"


def default_workers() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not every platform has sched_getaffinity
        return os.cpu_count() or 1


def _stop(processes: list[subprocess.Popen[bytes]], conns: list[_worker.StreamConn]) -> None:
    for conn in conns:
        try:
            conn.send_bytes(b"")
        except OSError:
            pass  # the worker is already gone; nothing left to tell it
    for process in processes:
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
        try:
            process.wait(_JOIN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(_JOIN_TIMEOUT_S)


class _Pool:
    """Worker processes, one duplex pipe each."""

    def __init__(self, count: int) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []
        self.conns: list[_worker.StreamConn] = []
        env = dict(os.environ, OMP_NUM_THREADS="1")
        for _ in range(count):
            process = subprocess.Popen(
                [sys.executable, "-c", _WORKER_MAIN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
            )
            assert process.stdin is not None and process.stdout is not None
            self.processes.append(process)
            self.conns.append(_worker.StreamConn(process.stdout, process.stdin))
        self._finalizer = weakref.finalize(self, _stop, self.processes, self.conns)

    def run(self, requests: Sequence[bytes]) -> list[bytes]:
        """Send request i to worker i, then collect the replies in order."""
        try:
            for conn, request in zip(self.conns, requests, strict=False):
                conn.send_bytes(request)
            replies = [_worker.unpack_message(conn.recv_bytes()) for conn in self.conns[: len(requests)]]
        except (EOFError, OSError) as exc:
            self.close()
            raise OperationFailed(f"a Paillier worker process died: {exc!r}") from exc
        except BaseException:
            self.close()  # interrupted mid-exchange: unread replies would desynchronise the pipes
            raise
        failures = [str(message) for ok, message in replies if not ok]
        if failures:
            raise OperationFailed(f"Paillier worker failed: {failures[0]}")
        return [bytes(payload) for _, payload in replies]

    def close(self) -> None:
        self._finalizer()


def _chunks(count: int, parts: int, min_chunk: int) -> list[tuple[int, int]]:
    parts = max(1, min(parts, count // max(1, min_chunk)))
    edges = np.linspace(0, count, parts + 1).round().astype(int).tolist()
    return list(zip(edges[:-1], edges[1:], strict=True))


class ParallelPaillier:
    """Splits encrypt / decrypt / dot over `workers` processes; results equal the serial path."""

    def __init__(self, workers: int | None = None) -> None:
        count = default_workers() if workers is None else workers
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise PaillierInputError(f"workers must be a positive int, got {workers!r}")
        self._workers = count
        self._pool: _Pool | None = None

    @property
    def workers(self) -> int:
        """Number of worker processes (1 = inline)."""
        return self._workers

    def __enter__(self) -> ParallelPaillier:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker processes (they restart on the next parallel call)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def _run(self, requests: list[bytes]) -> list[bytes]:
        if self._pool is None:
            self._pool = _Pool(self._workers)
        pool = self._pool
        try:
            return pool.run(requests)
        finally:
            if pool.processes and not all(p.poll() is None for p in pool.processes):
                self.close()

    def precompute(self, public_key: PublicKey) -> None:
        """Build the key's fixed-base table here and in every worker before timed work starts."""
        public_key.precompute()
        if self._workers > 1:
            key_fields = [_worker.int_bytes(public_key.n), _worker.int_bytes(public_key.hs)]
            self._run([_worker.pack_message(["precompute", *key_fields])] * self._workers)

    def worker_cpu_seconds(self) -> list[float]:
        """CPU seconds each worker has used so far (starts the workers); for load-independent benchmarks."""
        if self._workers == 1:
            return []
        replies = self._run([_worker.pack_message(["cpu_time"])] * self._workers)
        return [struct.unpack(">d", reply)[0] for reply in replies]

    def encrypt(
        self,
        public_key: PublicKey,
        values: npt.ArrayLike,
        *,
        frac_bits: int = FRAC_BITS,
        textbook: bool = False,
    ) -> EncryptedVector:
        """PublicKey.encrypt, spread over the workers."""
        encoded, bound = encode_vector(values, frac_bits, public_key.n, public_key.max_int)
        cts = self._encrypt_residues(public_key, encoded, textbook)
        return EncryptedVector(public_key, cts, frac_bits, bound)

    def encrypt_ints(
        self, public_key: PublicKey, values: Sequence[int], *, textbook: bool = False
    ) -> EncryptedVector:
        """PublicKey.encrypt_ints, spread over the workers."""
        encoded = encode_raw_ints(values, public_key.n)
        top = int(max(encoded, default=0))
        cts = self._encrypt_residues(public_key, encoded, textbook)
        return EncryptedVector(public_key, cts, 0, top if top <= public_key.max_int else None)

    def _encrypt_residues(self, key: PublicKey, residues: list[mpz], textbook: bool) -> list[mpz]:
        spans = _chunks(len(residues), self._workers, MIN_ENCRYPT_CHUNK)
        if len(spans) == 1:
            return key.encrypt_residues(residues, textbook=textbook)
        width = (key.bits + 7) // 8
        head = [_worker.int_bytes(key.n), _worker.int_bytes(key.hs), textbook]
        requests = [
            _worker.pack_message(["encrypt", *head, ints_to_bytes(residues[a:b], width)]) for a, b in spans
        ]
        return [c for reply in self._run(requests) for c in ints_from_bytes(reply, key.ciphertext_bytes)]

    def decrypt(
        self, private_key: PrivateKey, vector: EncryptedVector, *, crt: bool = True
    ) -> npt.NDArray[np.float64]:
        """PrivateKey.decrypt, spread over the workers."""
        residues = self._decrypt_residues(private_key, vector, crt)
        return decode_vector(residues, vector.frac_bits, private_key.public_key.n)

    def decrypt_ints(
        self, private_key: PrivateKey, vector: EncryptedVector, *, crt: bool = True
    ) -> list[int]:
        """PrivateKey.decrypt_ints, spread over the workers."""
        return [int(m) for m in self._decrypt_residues(private_key, vector, crt)]

    def _decrypt_residues(self, private_key: PrivateKey, vector: EncryptedVector, crt: bool) -> list[mpz]:
        key = private_key.public_key
        if vector.public_key.n != key.n:
            raise PaillierInputError("the vector was encrypted under a different public key")
        cts = vector.ciphertexts
        spans = _chunks(len(cts), self._workers, MIN_DECRYPT_CHUNK)
        if len(spans) == 1:
            return private_key.decrypt_residues(cts, crt=crt)
        head = [_worker.int_bytes(v) for v in (key.n, key.hs, *private_key.primes)]
        requests = [
            _worker.pack_message(["decrypt", *head, crt, ints_to_bytes(cts[a:b], key.ciphertext_bytes)])
            for a, b in spans
        ]
        return [m for reply in self._run(requests) for m in ints_from_bytes(reply, (key.bits + 7) // 8)]

    def dot(
        self, vector: EncryptedVector, matrix: npt.ArrayLike, *, frac_bits: int | None = None
    ) -> EncryptedVector:
        """EncryptedVector.dot with the rows split over the workers; partial products are multiplied here."""
        quantized, used_bits = vector.quantize(matrix, frac_bits)
        bound = vector.dot_bound(quantized)
        key, cts = vector.public_key, vector.ciphertexts
        spans = _chunks(len(vector), self._workers, MIN_DOT_ROWS)
        if len(spans) == 1:
            totals = _multiexp.column_products(cts, quantized, key.nsquare)
        else:
            totals = self._dot_spread(key, cts, quantized, spans)
        return EncryptedVector(key, totals, vector.frac_bits + used_bits, bound)

    def _dot_spread(
        self, key: PublicKey, cts: list[mpz], quantized: npt.NDArray[np.int64], spans: list[tuple[int, int]]
    ) -> list[mpz]:
        head = [_worker.int_bytes(key.n), _worker.int_bytes(key.hs)]
        columns = quantized.shape[1]
        requests = [
            _worker.pack_message(
                [
                    "dot",
                    *head,
                    ints_to_bytes(cts[a:b], key.ciphertext_bytes),
                    quantized[a:b].astype("<i8").tobytes(),
                    columns,
                ]
            )
            for a, b in spans
        ]
        totals = [mpz(1)] * columns
        for reply in self._run(requests):
            partial = ints_from_bytes(reply, key.ciphertext_bytes)
            totals = [t * p % key.nsquare for t, p in zip(totals, partial, strict=True)]
        return totals
