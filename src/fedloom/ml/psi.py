"""ECDH private set intersection (FATE's `intersect_method: ecdh`) as pure, message-sized steps."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from nacl import bindings as sodium

from fedloom.errors import InvalidInput

# Group: the prime-order subgroup of edwards25519, through PyNaCl's public bindings. PyNaCl exposes
# no ristretto255 functions, so hash-to-group is the random-oracle construction
# from_uniform(h[:32]) + from_uniform(h[32:]) (two Elligator-2 maps: the shape of ristretto's
# from_hash) with h = SHA-512(domain || len(salt) || salt || id). libsodium's from_uniform clears
# the cofactor and scalarmult_ed25519_noclamp refuses points outside the prime-order subgroup, so
# every element has one encoding and blinding commutes: (P^a)^b == (P^b)^a byte for byte.
POINT_BYTES = 32
SCALAR_BYTES = 32
SALT_BYTES = 32
_DOMAIN = b"fedloom/psi/ecdh-edwards25519-ro/v1"

Points = npt.NDArray[np.uint8]
Positions = npt.NDArray[np.int64]
Indices = npt.NDArray[np.intp]


def new_salt() -> bytes:
    """A fresh per-job salt; one party draws it and sends it to the others before step 1."""
    return secrets.token_bytes(SALT_BYTES)


def random_scalar() -> bytes:
    """A secret scalar, uniform modulo the group order (64 random bytes reduced, no bias)."""
    return bytes(sodium.crypto_core_ed25519_scalar_reduce(secrets.token_bytes(64)))


def hash_to_points(ids: Sequence[str], salt: bytes) -> Points:
    """Map ids to group elements; both parties must use the same salt."""
    prefix = hashlib.sha512(_DOMAIN + len(salt).to_bytes(4, "big") + salt)
    from_uniform = sodium.crypto_core_ed25519_from_uniform
    add = sodium.crypto_core_ed25519_add
    out = bytearray()
    for raw in ids:
        h = prefix.copy()
        h.update(raw.encode("utf-8", "surrogatepass"))  # never fails, same bytes on both sides
        digest = h.digest()
        out += add(from_uniform(digest[:32]), from_uniform(digest[32:]))
    return _as_points(bytes(out))


def scalarmult_points(key: bytes, points: Points) -> Points:
    """Raise every point to `key`. Pure and chunkable, so a caller may spread it over processes."""
    _check_points(points, "points")
    mult = sodium.crypto_scalarmult_ed25519_noclamp
    raw = points.tobytes()
    out = bytearray()
    try:
        for i in range(0, len(raw), POINT_BYTES):
            out += mult(key, raw[i : i + POINT_BYTES])
    except RuntimeError as exc:  # libsodium refuses non-canonical or small-subgroup points
        bad = len(out) // POINT_BYTES
        raise InvalidInput(f"psi: element {bad} is not a valid group element") from exc
    return _as_points(bytes(out))


@dataclass(frozen=True)
class PsiResult:
    """What one party learns: the common ids and the rows of its own input that carry them."""

    ids: list[str]  # unique, in first-seen input order (what `only_output_key` outputs)
    indices: Indices  # ascending positions in the input, duplicates included (for Frame.take)


@dataclass(frozen=True)
class HostMatch:
    """Guest-side result of matching against one host (kept by the guest, never sent)."""

    guest_unique: Indices  # guest's unique-id index of each common element
    host_positions: Positions  # the same element's position in that host's blinded message


class PsiParty:
    """One side's state: its ids, the job salt and a secret scalar that never leaves it.

    Protocol between guest G (ids Y, key a) and host H (ids X, key b). Every message is an
    ``(n, 32)`` uint8 array of group elements or an int64 array of positions, never an id:

    1. ``H.blind()`` -> G: H(x)^b; ``G.blind()`` -> H: H(y)^a (each in a secret random order)
    2. ``H.reblind(from_g)`` -> G: H(y)^ab, in the order G sent them
    3. ``G.match(from_h_step2, from_h_step1)`` per host, then ``G.intersect(matches)``: G's result
       and, per host, the positions of the common ids in that host's step-1 message. With
       ``sync_intersect_ids`` G sends them and ``H.resolve(positions)`` gives H its rows.

    Only the host returns re-blinded points: if G sent back H(x)^ab, H could match by itself and
    would learn the intersection even with ``sync_intersect_ids: false`` (FATE does the same).
    Ids are deduplicated before hashing, since equal points would show the peer how often an id
    repeats; the message order is a secret permutation, so positions say nothing of table order.
    """

    def __init__(
        self, ids: Iterable[str], salt: bytes, *, key: bytes | None = None, seed: int | None = None
    ) -> None:
        if len(salt) == 0:
            raise InvalidInput("psi: salt must not be empty")
        self._ids = _as_str_list(ids)
        self._unique = list(dict.fromkeys(self._ids))
        self._salt = salt
        self._key = key if key is not None else random_scalar()
        if len(self._key) != SCALAR_BYTES:
            raise InvalidInput(f"psi: key must be {SCALAR_BYTES} bytes")
        # order[j] = unique-id index sent at position j of our blinded message
        self._order: Indices = np.random.default_rng(seed).permutation(len(self._unique)).astype(np.intp)
        self._blinded: Points | None = None

    @property
    def unique_count(self) -> int:
        return len(self._unique)

    def blind(self) -> Points:
        """Step 1: H(id)^key for our unique ids, in our secret order."""
        if self._blinded is None:
            ordered = [self._unique[i] for i in self._order]
            self._blinded = scalarmult_points(self._key, hash_to_points(ordered, self._salt))
        return self._blinded

    def reblind(self, peer_points: Points) -> Points:
        """Step 2: the peer's points raised to our key, in the order received."""
        return scalarmult_points(self._key, peer_points)

    def _result(self, unique_hits: Indices) -> PsiResult:
        hit = np.zeros(len(self._unique), dtype=bool)
        hit[unique_hits] = True
        inverse = _inverse_index(self._ids, self._unique)
        return PsiResult(
            ids=[self._unique[i] for i in np.flatnonzero(hit)],
            indices=np.flatnonzero(hit[inverse]).astype(np.intp),
        )


class PsiGuest(PsiParty):
    """The side that computes the intersection (FATE's guest)."""

    def match(self, own_reblinded: Points, host_blinded: Points) -> HostMatch:
        """Step 3 for one host: `own_reblinded` is H(y)^ab from that host, `host_blinded` is H(x)^b."""
        if own_reblinded.shape[0] != self.unique_count:
            raise InvalidInput(
                f"psi: host returned {own_reblinded.shape[0]} points for {self.unique_count} sent"
            )
        _check_points(own_reblinded, "own_reblinded")
        host_double = self.reblind(host_blinded)
        _, own_pos, host_pos = np.intersect1d(
            _as_keys(own_reblinded), _as_keys(host_double), assume_unique=True, return_indices=True
        )
        return HostMatch(guest_unique=self._order[own_pos], host_positions=host_pos.astype(np.int64))

    def intersect(self, matches: Sequence[HostMatch]) -> tuple[PsiResult, list[Positions]]:
        """Ids common to us and every host, and per host the positions to send it (ascending)."""
        if not matches:
            raise InvalidInput("psi: intersect needs at least one host match")
        common = np.arange(self.unique_count, dtype=np.intp)
        for m in matches:
            common = np.intersect1d(common, m.guest_unique, assume_unique=True)
        positions = [np.sort(m.host_positions[np.isin(m.guest_unique, common)]) for m in matches]
        return self._result(common), positions


class PsiHost(PsiParty):
    """The side that learns the intersection only if the guest syncs it."""

    def resolve(self, positions: Positions) -> PsiResult:
        """Turn positions in our blinded message (sent by the guest) into our common ids and rows."""
        pos = np.asarray(positions)
        if pos.ndim != 1 or pos.dtype.kind not in "iu":
            raise InvalidInput("psi: positions must be a 1-D integer array")
        if pos.size and (pos.min() < 0 or pos.max() >= self.unique_count):
            raise InvalidInput(f"psi: positions must lie in [0, {self.unique_count})")
        if np.unique(pos).size != pos.size:
            raise InvalidInput("psi: positions must not repeat")
        return self._result(self._order[pos.astype(np.intp)])


def _as_str_list(ids: Iterable[str]) -> list[str]:
    out = list(ids)
    for i, value in enumerate(out):
        if not isinstance(value, str):
            raise InvalidInput(f"psi: id at position {i} is {type(value).__name__}, expected str")
    return out


def _inverse_index(ids: list[str], unique: list[str]) -> Indices:
    where = {v: i for i, v in enumerate(unique)}
    return np.fromiter((where[v] for v in ids), dtype=np.intp, count=len(ids))


def _as_points(raw: bytes) -> Points:
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, POINT_BYTES).copy()


def _check_points(points: Points, name: str) -> None:
    if points.ndim != 2 or points.shape[1] != POINT_BYTES or points.dtype != np.uint8:
        raise InvalidInput(f"psi: {name} must be a uint8 array of shape (n, {POINT_BYTES})")


def _as_keys(points: Points) -> npt.NDArray[np.void]:
    # One opaque 32-byte scalar per row, so numpy can sort and match points without Python loops.
    return np.ascontiguousarray(points).view(np.dtype((np.void, POINT_BYTES))).ravel()


__all__ = [
    "POINT_BYTES",
    "HostMatch",
    "Indices",
    "Points",
    "Positions",
    "PsiGuest",
    "PsiHost",
    "PsiParty",
    "PsiResult",
    "hash_to_points",
    "new_salt",
    "random_scalar",
    "scalarmult_points",
]
