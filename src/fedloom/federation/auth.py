"""Authenticated federation messages: a key per job session and a MAC over each message's tags and payload.

A session is the tasks of one component of one job at one task version (`session_name`). Its key is

    session_key = HMAC-SHA256(server secret, b"fedloom-federation-session-v1\\x00" + session)

where the server secret is 32 random bytes made once per data dir (`<data_dir>/federation.key`, 0600).
The server hands the key to its task processes in the TaskSpec, over the zygote's pipe (never on argv,
never in a file the task reads). In cluster mode the parties of a session do not share a server secret:
the initiator makes the session key and sends it with `start_task` over the authenticated server channel
(mTLS + signed commands), and the receiving server checks that a message's source party is the peer it
authenticated; the MAC below is unchanged.

Wire format of one message (version 1), the same in a file mailbox and over the network:

    b"FLM1" | mac: 32 bytes | payload: codec bytes (`fedloom.federation.codec`)

    mac = HMAC-SHA256(session_key,
                      field("fedloom-federation-v1") | field(session) | field(name)
                      | field(src role) | field(src party id) | field(dst role) | field(dst party id)
                      | field(seq) | len(payload): 8 bytes big endian | payload)
    field(s) = len(utf8(s)): 4 bytes big endian | utf8(s)      (party ids and seq in decimal)

The tags are not carried in the message: the receiver computes the MAC over the tags of the slot it
reads (session, name, peer, itself, the next sequence number) and verifies before decoding anything.
A forged message, an altered one, a truncated one, or a valid message copied into another slot
(another sequence number, name, direction or session) therefore fails with AuthenticationFailed naming
the peer and the message name.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from fedloom.errors import AuthenticationFailed
from fedloom.ids import Party

MAGIC = b"FLM1"
MAC_SIZE = 32
HEADER_SIZE = len(MAGIC) + MAC_SIZE
SECRET_FILE = "federation.key"
SECRET_SIZE = 32
_SESSION_LABEL = b"fedloom-federation-session-v1\x00"
_VERSION_TAG = "fedloom-federation-v1"


@dataclass(frozen=True)
class Tags:
    """Where a message belongs: its session, name, sender, receiver and sequence number."""

    session: str
    name: str
    src: Party
    dst: Party
    seq: int

    def encode(self) -> bytes:
        fields = (
            _VERSION_TAG,
            self.session,
            self.name,
            self.src[0],
            str(self.src[1]),
            self.dst[0],
            str(self.dst[1]),
            str(self.seq),
        )
        out = bytearray()
        for text in fields:
            raw = text.encode()
            out += len(raw).to_bytes(4, "big") + raw
        return bytes(out)


def session_key(secret: bytes, session: str) -> bytes:
    """The key of one session, derived from the server secret."""
    return hmac.new(secret, _SESSION_LABEL + session.encode(), hashlib.sha256).digest()


def mac(key: bytes, tags: Tags, payload: bytes | memoryview) -> bytes:
    h = hmac.new(key, tags.encode(), hashlib.sha256)
    h.update(len(payload).to_bytes(8, "big"))
    h.update(payload)
    return h.digest()


def seal(key: bytes, tags: Tags, payload: bytes) -> bytes:
    """The message to deliver for `payload` in the slot `tags`."""
    return MAGIC + mac(key, tags, payload) + payload


def unseal(key: bytes, tags: Tags, message: bytes | memoryview) -> memoryview:
    """The payload of `message` read from the slot `tags` (a view: no copy), or AuthenticationFailed
    naming the peer."""
    if len(message) < HEADER_SIZE:
        _refuse(tags, "truncated")
    view = memoryview(message)
    if view[: len(MAGIC)] != MAGIC:
        _refuse(tags, "unknown format")
    payload = view[HEADER_SIZE:]
    if not hmac.compare_digest(view[len(MAGIC) : HEADER_SIZE], mac(key, tags, payload)):
        _refuse(tags, "wrong MAC")
    return payload


def _refuse(tags: Tags, reason: str) -> NoReturn:
    raise AuthenticationFailed(
        f"federation: message {tags.name!r} #{tags.seq} from {tags.src[0]} {tags.src[1]} failed "
        f"authentication ({reason}): forged, altered, truncated or replayed from another slot"
    )


def server_secret(data_dir: Path) -> bytes:
    """The data dir's federation secret, created (0600) on first use."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        # Written aside then linked into place: a crash never leaves a short secret behind.
        tmp = data_dir / f".{SECRET_FILE}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, secrets.token_bytes(SECRET_SIZE))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # someone else made it first: theirs is the secret
        finally:
            tmp.unlink()
    secret = path.read_bytes()
    if len(secret) != SECRET_SIZE:
        raise AuthenticationFailed(
            f"the federation secret {SECRET_FILE!r} in the data dir is damaged "
            f"(expected {SECRET_SIZE} bytes); delete it and restart to create a new one"
        )
    return secret


__all__ = [
    "HEADER_SIZE",
    "MAGIC",
    "SECRET_FILE",
    "Tags",
    "mac",
    "seal",
    "server_secret",
    "session_key",
    "unseal",
]
