"""Key generation sizes and refusals, CRT decryption constants, public-key dict validation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from fedloom.errors import InvalidInput
from fedloom.ml.paillier import (
    MIN_KEY_BITS,
    PaillierInputError,
    PrivateKey,
    PublicKey,
    generate_keypair,
)


@pytest.mark.parametrize("bits", [1024, 1280, 2048])
def test_keypair_has_requested_size(bits: int) -> None:
    pk, sk = generate_keypair(bits, rng_seed=bits)
    assert pk.bits == bits
    assert pk.n.bit_length() == bits
    assert pk.nsquare == pk.n * pk.n
    assert pk.ciphertext_bytes == (2 * bits + 7) // 8
    p, q = sk.primes
    assert p * q == pk.n and p.bit_length() == q.bit_length() == bits // 2


@pytest.mark.parametrize("bits", [512, 768, 1000, 1023])
def test_keys_below_minimum_refused_naming_it(bits: int) -> None:
    with pytest.raises(ValueError, match=str(MIN_KEY_BITS)):
        generate_keypair(bits)


@pytest.mark.parametrize("bits", [1100, 1536 + 8])
def test_keys_not_a_multiple_of_256_refused(bits: int) -> None:
    with pytest.raises(PaillierInputError, match="multiple of 256"):
        generate_keypair(bits)


def test_errors_are_fedloom_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        generate_keypair(512)


def test_seed_makes_keys_reproducible_and_unseeded_keys_differ() -> None:
    assert generate_keypair(1024, rng_seed=5)[0] == generate_keypair(1024, rng_seed=5)[0]
    assert generate_keypair(1024)[0] != generate_keypair(1024)[0]


def test_private_key_must_match_public_key(keys: tuple[PublicKey, PrivateKey]) -> None:
    pk, sk = keys
    p, q = sk.primes
    with pytest.raises(PaillierInputError):
        PrivateKey(pk, p, q + 2)


def test_repr_does_not_leak_primes(keys: tuple[PublicKey, PrivateKey]) -> None:
    pk, sk = keys
    p, q = sk.primes
    assert str(p) not in repr(sk) and str(q) not in repr(sk)
    assert pk.fingerprint.hex() in repr(pk)


def test_crt_and_textbook_decryption_agree(keys: tuple[PublicKey, PrivateKey]) -> None:
    pk, sk = keys
    v = pk.encrypt([1.25, -3.5, 0.0])
    assert sk.decrypt_ints(v) == sk.decrypt_ints(v, crt=False)


def test_public_key_dict_round_trip(keys: tuple[PublicKey, PrivateKey]) -> None:
    pk, sk = keys
    data = pk.to_dict()
    assert set(data) == {"scheme", "bits", "n", "hs"}
    again = PublicKey.from_dict(data)
    assert again == pk and hash(again) == hash(pk)
    assert sk.decrypt(again.encrypt([2.5]))[0] == 2.5


def _altered(pk: PublicKey, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = dict(pk.to_dict())
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scheme": "rsa"}, "scheme"),
        ({"bits": True}, "bits must be an int"),
        ({"n": "123"}, "n must be an int"),
        ({"hs": 1.5}, "hs must be an int"),
        ({"bits": 512}, "at least 1024"),
        ({"bits": 2048}, "n has 1024 bits"),
        ({"hs": 1}, "hs must be a unit"),
        ({"hs": 0}, "hs must be a unit"),
    ],
)
def test_public_key_dict_validation(
    keys: tuple[PublicKey, PrivateKey], change: dict[str, Any], message: str
) -> None:
    with pytest.raises(PaillierInputError, match=message):
        PublicKey.from_dict(_altered(keys[0], **change))


def test_public_key_dict_refuses_bad_moduli(keys: tuple[PublicKey, PrivateKey]) -> None:
    pk = keys[0]
    with pytest.raises(PaillierInputError, match="hs must be a unit"):
        PublicKey.from_dict(_altered(pk, hs=int(pk.nsquare)))
    with pytest.raises(PaillierInputError, match="two large primes"):
        PublicKey.from_dict(_altered(pk, n=int(pk.n) + 1))  # even
    with pytest.raises(PaillierInputError, match="two large primes"):
        PublicKey.from_dict(_altered(pk, n=int(pk.n) // 3 * 3))  # small factor
    with pytest.raises(PaillierInputError, match="hs must be a unit"):
        PublicKey.from_dict(_altered(pk, hs=int(pk.n) * 5))  # shares n's factors


def test_public_key_dict_names_unknown_and_missing_fields(keys: tuple[PublicKey, PrivateKey]) -> None:
    data = _altered(keys[0], extra=1)
    del data["hs"]
    with pytest.raises(PaillierInputError, match=r"unknown fields \['extra'\], missing fields \['hs'\]"):
        PublicKey.from_dict(data)
    with pytest.raises(PaillierInputError, match="mapping"):
        PublicKey.from_dict([1, 2])  # type: ignore[arg-type]


def test_decrypt_refuses_foreign_vector(
    keys: tuple[PublicKey, PrivateKey], other_keys: tuple[PublicKey, PrivateKey]
) -> None:
    v = other_keys[0].encrypt(np.ones(2))
    with pytest.raises(PaillierInputError, match="different public key"):
        keys[1].decrypt(v)
