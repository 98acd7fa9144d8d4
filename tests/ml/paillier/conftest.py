"""Shared keys for the Paillier tests: 1024-bit and seeded, so the whole suite stays fast and reproducible."""

from __future__ import annotations

import pytest

from fedloom.ml.paillier import PrivateKey, PublicKey, generate_keypair


@pytest.fixture(scope="session")
def keys() -> tuple[PublicKey, PrivateKey]:
    return generate_keypair(1024, rng_seed=20240601)


@pytest.fixture(scope="session")
def other_keys() -> tuple[PublicKey, PrivateKey]:
    return generate_keypair(1024, rng_seed=99)
