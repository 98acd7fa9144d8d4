"""Authenticated federation: a forged, altered, truncated or replayed message fails naming the peer."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from fedloom.errors import AuthenticationFailed, InvalidInput
from fedloom.federation.auth import HEADER_SIZE, SECRET_FILE, Tags, seal, server_secret, session_key, unseal
from fedloom.federation.channel import Channel, Mailbox, session_job, session_name

G, H, A = ("guest", 9999), ("host", 10000), ("arbiter", 10000)
SECRET = b"s" * 32
SESSION = session_name("202601010000000000", "hetero_lr_0", 0)
KEY = session_key(SECRET, SESSION)
PEER = r"'gradient' #\d+ from host 10000"


def _channels(root: Path, session: str = SESSION) -> tuple[Mailbox, Channel, Channel]:
    box = Mailbox(root)
    key = session_key(SECRET, session)
    return box, Channel(box, session, H, 1.0, key), Channel(box, session, G, 1.0, key)


def _slot(
    box: Mailbox,
    name: str,
    seq: int,
    src: tuple[str, int] = H,
    dst: tuple[str, int] = G,
    session: str = SESSION,
) -> Path:
    return box.path(session, name, src, dst, seq)


def test_a_correct_exchange_still_works(tmp_path: Path) -> None:
    _, host, guest = _channels(tmp_path)
    arr = np.arange(12, dtype=np.float64).reshape(3, 4)
    host.send("gradient", {"g": arr, "big": 2**300}, [G])
    host.send("gradient", [1, 2], [G])
    got = guest.recv("gradient", H)
    assert np.array_equal(got["g"], arr) and got["big"] == 2**300
    assert guest.recv("gradient", H) == [1, 2]


def test_a_forged_message_fails_naming_the_peer(tmp_path: Path) -> None:
    box, _, guest = _channels(tmp_path)
    forged = seal(b"k" * 32, Tags(SESSION, "gradient", H, G, 0), b"\xa1x")  # right tags, wrong key
    box.put(SESSION, "gradient", H, G, 0, forged)
    with pytest.raises(AuthenticationFailed, match=PEER + r".*wrong MAC"):
        guest.recv("gradient", H)


def test_an_unsealed_payload_fails(tmp_path: Path) -> None:
    box, _, guest = _channels(tmp_path)
    box.put(SESSION, "gradient", H, G, 0, b"\xa1x" * 40)  # a bare codec payload, as before MACs
    with pytest.raises(AuthenticationFailed, match=PEER + r".*unknown format"):
        guest.recv("gradient", H)


def test_an_altered_payload_fails(tmp_path: Path) -> None:
    box, host, guest = _channels(tmp_path)
    host.send("gradient", [0.5, 0.25], [G])
    slot = _slot(box, "gradient", 0)
    data = bytearray(slot.read_bytes())
    data[-1] ^= 0x01
    slot.write_bytes(bytes(data))
    with pytest.raises(AuthenticationFailed, match=PEER):
        guest.recv("gradient", H)


@pytest.mark.parametrize("keep", [0, 3, HEADER_SIZE - 1, HEADER_SIZE, -1])
def test_a_truncated_message_fails(tmp_path: Path, keep: int) -> None:
    box, host, guest = _channels(tmp_path)
    host.send("gradient", list(range(50)), [G])
    slot = _slot(box, "gradient", 0)
    slot.write_bytes(slot.read_bytes()[:keep])
    with pytest.raises(AuthenticationFailed, match=PEER):
        guest.recv("gradient", H)


def test_a_message_replayed_into_the_next_slot_fails(tmp_path: Path) -> None:
    box, host, guest = _channels(tmp_path)
    host.send("gradient", [1.0], [G])
    first = _slot(box, "gradient", 0).read_bytes()
    assert guest.recv("gradient", H) == [1.0]
    _slot(box, "gradient", 1).parent.mkdir(parents=True, exist_ok=True)
    _slot(box, "gradient", 1).write_bytes(first)  # the attacker's copy of a valid message
    with pytest.raises(AuthenticationFailed, match=r"'gradient' #1 from host 10000"):
        guest.recv("gradient", H)


def test_a_message_under_another_name_fails(tmp_path: Path) -> None:
    box, host, guest = _channels(tmp_path)
    host.send("loss", [1.0], [G])
    moved = _slot(box, "gradient", 0)
    moved.parent.mkdir(parents=True)
    os.replace(_slot(box, "loss", 0), moved)
    with pytest.raises(AuthenticationFailed, match=PEER):
        guest.recv("gradient", H)


def test_a_message_from_another_peer_or_direction_fails(tmp_path: Path) -> None:
    box, host, guest = _channels(tmp_path)
    arbiter = Channel(box, SESSION, A, 1.0, KEY)
    arbiter.send("gradient", [1.0], [G])  # valid from the arbiter, copied as if the host sent it
    host.send("gradient", [2.0], [A])  # valid host -> arbiter, copied into host -> guest
    for src, dst in ((A, G), (H, A)):
        target = _slot(box, "gradient", 0)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(_slot(box, "gradient", 0, src, dst), target)
        with pytest.raises(AuthenticationFailed, match=PEER):
            Channel(box, SESSION, G, 1.0, KEY).recv("gradient", H)


def test_a_message_of_another_session_fails(tmp_path: Path) -> None:
    other = session_name("202601010000000000", "hetero_lr_0", 1)  # the same job, an older task version
    box, host, _ = _channels(tmp_path, other)
    host.send("gradient", [1.0], [G])
    target = _slot(box, "gradient", 0)
    target.parent.mkdir(parents=True)
    os.replace(_slot(box, "gradient", 0, session=other), target)
    with pytest.raises(AuthenticationFailed, match=PEER):
        Channel(box, SESSION, G, 1.0, KEY).recv("gradient", H)
    # Even with the other session's key the slot's tags do not match.
    with pytest.raises(AuthenticationFailed):
        unseal(
            session_key(SECRET, other),
            Tags(SESSION, "gradient", H, G, 0),
            seal(session_key(SECRET, other), Tags(other, "gradient", H, G, 0), b"\xc0"),
        )


def test_tags_are_unambiguous() -> None:
    a = Tags("s", "ab", ("guest", 1), ("host", 2), 3).encode()
    b = Tags("sa", "b", ("guest", 1), ("host", 2), 3).encode()
    assert a != b
    with pytest.raises(InvalidInput):
        session_name("job.1", "cpn", 0)  # a dot would make session names ambiguous


def test_session_keys_differ_per_session_and_secret() -> None:
    keys = {
        session_key(SECRET, SESSION),
        session_key(SECRET, session_name("202601010000000000", "hetero_lr_0", 1)),
        session_key(b"t" * 32, SESSION),
    }
    assert len(keys) == 3 and all(len(k) == 32 for k in keys)


def test_server_secret_is_created_once_owner_only(tmp_path: Path) -> None:
    first = server_secret(tmp_path)
    assert server_secret(tmp_path) == first and len(first) == 32
    assert stat.S_IMODE((tmp_path / SECRET_FILE).stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [SECRET_FILE]  # no temp file left
    (tmp_path / SECRET_FILE).write_bytes(b"short")
    with pytest.raises(AuthenticationFailed, match="damaged"):
        server_secret(tmp_path)


def test_drop_session_removes_only_that_job(tmp_path: Path) -> None:
    box = Mailbox(tmp_path)
    for job in ("job1", "job1_x"):
        for cpn in ("a", "b"):
            Channel(box, session_name(job, cpn, 0), H, 1.0, KEY).send("m", 1, [G])
    assert box.job_sessions("job1") == ["job1.a.0", "job1.b.0"]
    for session in box.job_sessions("job1"):
        box.drop_session(session)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job1_x.a.0", "job1_x.b.0"]
    box.drop_session("job1.a.0")  # twice: nothing to do
    assert box.job_sessions("nothing") == []
    assert box.sessions() == ["job1_x.a.0", "job1_x.b.0"]
    assert [session_job(s) for s in box.sessions()] == ["job1_x", "job1_x"]
    assert session_job("job_cpn_0") is None  # not a session name: dropped at start


def test_mailbox_files_are_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        box, host, _ = _channels(tmp_path / "fed")
        host.send("gradient", [1.0], [G])
    finally:
        os.umask(old)
    slot = _slot(box, "gradient", 0)
    assert stat.S_IMODE(slot.stat().st_mode) == 0o600
    assert stat.S_IMODE(slot.parent.stat().st_mode) == 0o700


def test_the_mailbox_drops_a_job_and_the_jobs_that_ended(tmp_path: Path) -> None:
    box = Mailbox(tmp_path)
    for job in ("done", "open", "gone"):
        Channel(box, session_name(job, "a", 0), H, 1.0, KEY).send("m", 1, [G])
    (tmp_path / "not_a_session").mkdir()
    box.drop_job("gone")
    assert box.sessions() == ["done.a.0", "not_a_session", "open.a.0"]
    asked: list[str] = []

    def job_open(job_id: str) -> bool:
        asked.append(job_id)
        return job_id == "open"

    assert box.drop_jobs_except(job_open) == 2
    assert box.sessions() == ["open.a.0"]
    assert asked == ["done", "open"]  # once per job, never for a name that is not a session
