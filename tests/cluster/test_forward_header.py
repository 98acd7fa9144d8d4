"""The header of a streamed task message: round trip, what decode refuses, and how `chunks` splits a payload."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedloom.errors import InvalidInput
from fedloom.federation.forward import CHUNK_BYTES, MAX_MESSAGE_BYTES, MessageHeader, chunks
from fedloom.ids import Party

HEADER = MessageHeader("job-1.reader_0.0", "model", Party("guest", 9999), Party("host", 10000), 3, 1234)


def fields(**changed: Any) -> dict[str, Any]:
    doc: dict[str, Any] = msgpack.unpackb(HEADER.encode())
    return {**doc, **changed}


def pack(doc: Any) -> bytes:
    return bytes(msgpack.packb(doc))


def refused(raw: bytes) -> str:
    with pytest.raises(InvalidInput) as info:
        MessageHeader.decode(raw)
    return info.value.message


def test_round_trip() -> None:
    assert MessageHeader.decode(HEADER.encode()) == HEADER


@pytest.mark.parametrize("size", [0, 1, MAX_MESSAGE_BYTES])
@pytest.mark.parametrize("seq", [0, 2**40])
def test_round_trip_bounds(seq: int, size: int) -> None:
    header = MessageHeader("s", "n", Party("arbiter", 0), Party("local", 2**31 - 1), seq, size)
    assert MessageHeader.decode(header.encode()) == header


def test_encoded_fields() -> None:
    assert msgpack.unpackb(HEADER.encode()) == {
        "v": 1,
        "session": "job-1.reader_0.0",
        "name": "model",
        "src": ["guest", 9999],
        "dst": ["host", 10000],
        "seq": 3,
        "size": 1234,
    }


def test_decoded_parties_are_parties() -> None:
    header = MessageHeader.decode(HEADER.encode())
    assert isinstance(header.src, Party) and header.src.party_id == 9999


@pytest.mark.parametrize(
    "raw",
    [b"", b"garbage", b"\xc1", HEADER.encode()[:-1], HEADER.encode() + b"\x00", b"\xdd\xff\xff\xff\xff"],
)
def test_garbage_bytes(raw: bytes) -> None:
    assert refused(raw).startswith("federation: unreadable message header (")


def test_binary_and_extension_values_are_unreadable() -> None:
    assert "unreadable" in refused(pack(fields(session=b"job-1.reader_0.0")))
    assert "unreadable" in refused(pack(fields(name=msgpack.ExtType(1, b"x"))))


def test_non_string_map_keys_are_unreadable() -> None:
    assert "unreadable" in refused(pack({1: 1}))


@pytest.mark.parametrize("version", [None, 0, 2, "1", [1]])
def test_wrong_version(version: Any) -> None:
    doc = fields(v=version) if version is not None else {k: v for k, v in fields().items() if k != "v"}
    assert refused(pack(doc)) == "federation: unknown message header version"


@pytest.mark.parametrize("doc", [[1], 1, "v", None])
def test_not_a_map(doc: Any) -> None:
    assert refused(pack(doc)) == "federation: unknown message header version"


@pytest.mark.parametrize("name", ["session", "name", "src", "dst", "seq", "size"])
def test_missing_field(name: str) -> None:
    doc = {k: v for k, v in fields().items() if k != name}
    assert refused(pack(doc)) == f"federation: message header has no {name}"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("session", ""),
        ("session", "s" * 513),
        ("session", 1),
        ("name", ""),
        ("name", "n" * 257),
        ("name", None),
    ],
)
def test_bad_text(name: str, value: Any) -> None:
    assert refused(pack(fields(**{name: value}))) == "federation: message header field must be a short string"


@pytest.mark.parametrize("name", ["seq", "size"])
@pytest.mark.parametrize("value", [-1, True, False, 1.0, "1", None, [1]])
def test_bad_count(name: str, value: Any) -> None:
    message = refused(pack(fields(**{name: value})))
    assert message == "federation: message header field must be a non-negative integer"


def test_size_over_the_limit() -> None:
    message = refused(pack(fields(size=MAX_MESSAGE_BYTES + 1)))
    assert message == f"federation: message of {MAX_MESSAGE_BYTES + 1} bytes exceeds {MAX_MESSAGE_BYTES}"


@pytest.mark.parametrize("role", ["admin", "Guest", "", "guest ", 1, None])
@pytest.mark.parametrize("side", ["src", "dst"])
def test_bad_role(side: str, role: Any) -> None:
    assert refused(pack(fields(**{side: [role, 9999]}))).startswith("role: ")


@pytest.mark.parametrize("party", ["guest", {"guest": 9999}, ["guest"], ["guest", 9999, 1], 9999, None])
@pytest.mark.parametrize("side", ["src", "dst"])
def test_party_not_a_pair(side: str, party: Any) -> None:
    assert refused(pack(fields(**{side: party}))) == "federation: a party must be [role, party_id]"


@pytest.mark.parametrize("pid", [-1, True, "9999", 9999.0, None])
def test_bad_party_id(pid: Any) -> None:
    message = refused(pack(fields(src=["guest", pid])))
    assert message == "federation: message header field must be a non-negative integer"


# -- properties: decode refuses with InvalidInput, never anything else ---------------------------------

_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.sampled_from(["guest", "host", "arbiter", "local"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_KEYS = st.sampled_from(["v", "session", "name", "src", "dst", "seq", "size", "extra"])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=256))
def test_decode_of_any_bytes(raw: bytes) -> None:
    try:
        header = MessageHeader.decode(raw)
    except InvalidInput:
        return
    assert MessageHeader.decode(header.encode()) == header


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, max_size=8), st.booleans())
def test_decode_of_header_like_maps(doc: dict[str, Any], versioned: bool) -> None:
    if versioned:
        doc["v"] = 1
    try:
        header = MessageHeader.decode(pack(doc))
    except InvalidInput:
        return
    assert MessageHeader.decode(header.encode()) == header


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64), st.integers(min_value=0, max_value=len(HEADER.encode())))
def test_decode_of_damaged_headers(noise: bytes, at: int) -> None:
    raw = HEADER.encode()
    try:
        MessageHeader.decode(raw[:at] + noise + raw[at + len(noise) :])
    except InvalidInput:
        pass


# -- chunks -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size", [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 2 * CHUNK_BYTES, 5 * CHUNK_BYTES // 2]
)
def test_chunks(size: int) -> None:
    payload = (bytes(range(251)) * (size // 251 + 1))[:size]
    header = MessageHeader("s", "n", Party("guest", 1), Party("host", 2), 0, size)
    first, *pieces = chunks(header, payload)
    assert MessageHeader.decode(first) == header
    assert all(0 < len(piece) <= CHUNK_BYTES for piece in pieces)
    assert all(type(piece) is bytes for piece in pieces)
    assert len(pieces) == -(-size // CHUNK_BYTES)
    assert b"".join(pieces) == payload
