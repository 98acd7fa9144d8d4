"""ParallelPaillier gives the same results as the inline path; workers=1 never starts a process."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from fedloom.errors import OperationFailed
from fedloom.ml.paillier import PaillierInputError, ParallelPaillier, PrivateKey, PublicKey
from fedloom.ml.paillier._worker import pack_message

Keys = tuple[PublicKey, PrivateKey]


@pytest.fixture(scope="module")
def pool() -> Iterator[ParallelPaillier]:
    with ParallelPaillier(workers=2) as parallel:
        yield parallel


def test_parallel_encrypt_decrypts_to_the_same_values(keys: Keys, pool: ParallelPaillier) -> None:
    pk, sk = keys
    x = np.random.default_rng(0).standard_normal(100)
    parallel = pool.encrypt(pk, x)
    serial = pk.encrypt(x)
    assert parallel.frac_bits == serial.frac_bits and parallel.bound == serial.bound
    np.testing.assert_array_equal(sk.decrypt(parallel), sk.decrypt(serial))
    np.testing.assert_array_equal(pool.decrypt(sk, parallel), sk.decrypt(parallel))
    assert pool.decrypt_ints(sk, serial) == sk.decrypt_ints(serial)
    assert pool.decrypt(sk, serial, crt=False).tolist() == sk.decrypt(serial).tolist()


def test_parallel_encrypt_ints(keys: Keys, pool: ParallelPaillier) -> None:
    pk, sk = keys
    values = list(range(0, 3000, 30))
    assert sk.decrypt_ints(pool.encrypt_ints(pk, values)) == values
    assert sk.decrypt_ints(pool.encrypt(pk, np.ones(40), textbook=True)) == [1 << 32] * 40


def test_parallel_dot_is_bit_identical(keys: Keys, pool: ParallelPaillier) -> None:
    pk, sk = keys
    rng = np.random.default_rng(1)
    v = pk.encrypt(rng.standard_normal(257))
    matrix = rng.standard_normal((257, 3))
    parallel, serial = pool.dot(v, matrix), v.dot(matrix)
    assert parallel.ciphertexts == serial.ciphertexts
    assert parallel.frac_bits == serial.frac_bits and parallel.bound == serial.bound
    small = pool.dot(v[:10], matrix[:10], frac_bits=20)  # below the chunk size: inline
    assert small.ciphertexts == v[:10].dot(matrix[:10], frac_bits=20).ciphertexts


def test_small_inputs_and_one_worker_stay_inline(keys: Keys) -> None:
    pk, sk = keys
    inline = ParallelPaillier(workers=1)
    v = inline.encrypt(pk, np.arange(50.0))
    np.testing.assert_array_equal(inline.decrypt(sk, v), np.arange(50.0))
    assert inline.worker_cpu_seconds() == []
    assert inline._pool is None  # no process was started
    inline.close()


def test_worker_errors_surface_as_operation_failed(pool: ParallelPaillier) -> None:
    with pytest.raises(OperationFailed, match="KeyError"):
        pool._run([pack_message(["no-such-op"])])  # drive the worker protocol directly
    assert len(pool.worker_cpu_seconds()) == 2  # the workers survived the failure


def test_invalid_arguments(keys: Keys, other_keys: Keys, pool: ParallelPaillier) -> None:
    with pytest.raises(PaillierInputError, match="workers"):
        ParallelPaillier(workers=0)
    with pytest.raises(PaillierInputError, match="different public key"):
        pool.decrypt(keys[1], other_keys[0].encrypt(np.ones(3)))
