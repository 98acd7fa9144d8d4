"""ECDH PSI: correctness against set intersection, edge cases, and that no id ever crosses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedloom.errors import InvalidInput
from fedloom.federation import codec
from fedloom.ml.psi import (
    POINT_BYTES,
    PsiGuest,
    PsiHost,
    PsiResult,
    hash_to_points,
    new_salt,
    random_scalar,
    scalarmult_points,
)

SALT = b"job-202411231200-salt"


def run_protocol(
    guest_ids: list[str], hosts_ids: list[list[str]], salt: bytes = SALT
) -> tuple[PsiResult, list[PsiResult], list[list[np.ndarray]]]:
    """The whole exchange, every message through the wire codec; returns what each side sent."""
    guest = PsiGuest(guest_ids, salt)
    hosts = [PsiHost(ids, salt) for ids in hosts_ids]
    sent: list[list[np.ndarray]] = [[], []]  # [guest's messages, hosts' messages]

    def wire(msg: np.ndarray, side: int) -> np.ndarray:
        sent[side].append(msg)
        out: np.ndarray = codec.loads(codec.dumps(msg))
        return out

    guest_blinded = wire(guest.blind(), 0)
    matches = []
    for host in hosts:
        host_blinded = wire(host.blind(), 1)
        own_reblinded = wire(host.reblind(guest_blinded), 1)
        matches.append(guest.match(own_reblinded, host_blinded))
    guest_result, positions = guest.intersect(matches)
    host_results = [h.resolve(wire(p, 0)) for h, p in zip(hosts, positions, strict=True)]
    return guest_result, host_results, sent


def check_result(result: PsiResult, ids: list[str], expected: set[str]) -> None:
    assert set(result.ids) == expected
    assert len(result.ids) == len(expected)
    first_seen = list(dict.fromkeys(ids))
    assert result.ids == [i for i in first_seen if i in expected]
    assert result.indices.tolist() == [k for k, i in enumerate(ids) if i in expected]


ids_lists = st.lists(st.sampled_from([f"id-{k}" for k in range(40)]) | st.text(max_size=6), max_size=25)


@settings(max_examples=40, deadline=None)
@given(guest_ids=ids_lists, host_ids=ids_lists)
def test_matches_set_intersection(guest_ids: list[str], host_ids: list[str]) -> None:
    guest_result, (host_result,), _ = run_protocol(guest_ids, [host_ids])
    expected = set(guest_ids) & set(host_ids)
    check_result(guest_result, guest_ids, expected)
    check_result(host_result, host_ids, expected)


def test_multi_host_intersection_is_common_to_all() -> None:
    guest_ids = [f"u{k}" for k in range(30)]
    hosts_ids = [[f"u{k}" for k in range(0, 40, 2)], [f"u{k}" for k in range(0, 40, 3)]]
    guest_result, host_results, _ = run_protocol(guest_ids, hosts_ids)
    expected = set(guest_ids) & set(hosts_ids[0]) & set(hosts_ids[1])
    check_result(guest_result, guest_ids, expected)
    for ids, res in zip(hosts_ids, host_results, strict=True):
        check_result(res, ids, expected)


@pytest.mark.parametrize(
    ("guest_ids", "host_ids"),
    [([], []), ([], ["a", "b"]), (["a", "b"], []), (["a"], ["b"])],
)
def test_empty_sets_and_no_overlap(guest_ids: list[str], host_ids: list[str]) -> None:
    guest_result, (host_result,), _ = run_protocol(guest_ids, [host_ids])
    assert guest_result.ids == [] and guest_result.indices.size == 0
    assert host_result.ids == [] and host_result.indices.size == 0


def test_duplicates_keep_every_row_and_are_not_revealed() -> None:
    guest_ids = ["a", "b", "a", "c", "a"]
    host_ids = ["a", "a", "d", "b", "b"]
    guest_result, (host_result,), sent = run_protocol(guest_ids, [host_ids])
    assert guest_result.ids == ["a", "b"] and guest_result.indices.tolist() == [0, 1, 2, 4]
    assert host_result.ids == ["a", "b"] and host_result.indices.tolist() == [0, 1, 3, 4]
    guest_blinded, host_blinded = sent[0][0], sent[1][0]
    # One point per distinct id: the peer cannot count repeats.
    assert guest_blinded.shape == (3, POINT_BYTES) and host_blinded.shape == (3, POINT_BYTES)
    assert len({row.tobytes() for row in host_blinded}) == 3


def test_messages_carry_no_raw_id() -> None:
    guest_ids = [f"customer-{k:06d}@example.com" for k in range(0, 300, 2)]
    host_ids = [f"customer-{k:06d}@example.com" for k in range(0, 300, 3)] + ["13800138000", "ID:4711-ABCD"]
    _, _, sent = run_protocol(guest_ids, [host_ids])
    payloads = [m.tobytes() for side in sent for m in side]
    assert len(payloads) == 4  # guest: blinded, positions; host: blinded, reblinded
    for payload in payloads:
        for raw in {*guest_ids, *host_ids}:
            assert raw.encode() not in payload
            assert raw.encode("utf-16-le") not in payload


def test_wire_types_are_codec_values() -> None:
    _, _, sent = run_protocol(["a", "b"], [["b", "c"]])
    points, positions = sent[1][0], sent[0][1]
    assert points.dtype == np.uint8 and points.shape[1] == POINT_BYTES
    assert positions.dtype == np.int64


def test_host_message_is_in_a_secret_order() -> None:
    ids = [f"h{k}" for k in range(50)]
    key = random_scalar()
    sent = PsiHost(ids, SALT, key=key, seed=1).blind()
    table_order = scalarmult_points(key, hash_to_points(ids, SALT))
    assert not np.array_equal(sent, table_order)
    assert sorted(r.tobytes() for r in sent) == sorted(r.tobytes() for r in table_order)


def test_positions_sent_to_the_host_are_sorted() -> None:
    _, (host_result,), sent = run_protocol(["h31", "h7"], [[f"h{k}" for k in range(50)]])
    assert host_result.ids == ["h7", "h31"]
    positions = sent[0][1].tolist()
    assert len(positions) == 2 and positions == sorted(positions)


def test_blinding_commutes_and_depends_on_salt() -> None:
    a, b = random_scalar(), random_scalar()
    points = hash_to_points(["x", "y"], SALT)
    ab = scalarmult_points(b, scalarmult_points(a, points))
    ba = scalarmult_points(a, scalarmult_points(b, points))
    assert np.array_equal(ab, ba)
    assert not np.array_equal(points, hash_to_points(["x", "y"], b"another-salt"))


def test_different_salts_find_nothing() -> None:
    guest = PsiGuest(["a", "b"], new_salt())
    host = PsiHost(["a", "b"], new_salt())
    match = guest.match(host.reblind(guest.blind()), host.blind())
    result, _ = guest.intersect([match])
    assert result.ids == []


def test_fixed_key_and_seed_are_deterministic() -> None:
    key = random_scalar()
    one = PsiHost(["a", "b", "c"], SALT, key=key, seed=3).blind()
    two = PsiHost(["a", "b", "c"], SALT, key=key, seed=3).blind()
    assert np.array_equal(one, two)


def test_invalid_peer_points_are_refused() -> None:
    guest = PsiGuest(["a"], SALT)
    host = PsiHost(["a"], SALT)
    bad = np.full((1, POINT_BYTES), 0xFF, dtype=np.uint8)  # not a canonical encoding
    with pytest.raises(InvalidInput, match="element 0"):
        host.reblind(bad)
    with pytest.raises(InvalidInput, match="shape"):
        host.reblind(np.zeros((1, 16), dtype=np.uint8))
    with pytest.raises(InvalidInput, match="returned 0 points"):
        guest.match(np.zeros((0, POINT_BYTES), dtype=np.uint8), host.blind())


@pytest.mark.parametrize(
    "positions",
    [np.array([3]), np.array([-1]), np.array([0, 0]), np.array([[0]]), np.array([0.0])],
)
def test_host_refuses_bad_positions(positions: np.ndarray) -> None:
    host = PsiHost(["a", "b"], SALT)
    with pytest.raises(InvalidInput):
        host.resolve(positions)


def test_bad_inputs() -> None:
    with pytest.raises(InvalidInput, match="position 1"):
        PsiHost(["a", 7], SALT)  # type: ignore[list-item]
    with pytest.raises(InvalidInput, match="salt"):
        PsiHost(["a"], b"")
    with pytest.raises(InvalidInput, match="key"):
        PsiHost(["a"], SALT, key=b"short")
    with pytest.raises(InvalidInput, match="at least one"):
        PsiGuest(["a"], SALT).intersect([])
