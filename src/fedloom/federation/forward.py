"""Cluster mode, the task's side: messages for a party of another server go through this server.

A task sends to a peer hosted by another server by streaming the sealed message to its own server
(a gRPC stream over a Unix socket in the data dir: `Forward`), which streams it on to the peer's
server over mutual TLS (`Push`); the peer's server writes it into its mailbox, where the peer task
reads it as in standalone mode. The first message of each stream is a `MessageHeader`; the payload
follows in chunks of at most CHUNK_BYTES, so no hop holds a second copy of a large message. Messages
for parties hosted here go straight into the local mailbox.

gRPC is imported only here and only when a task first sends to a remote party: the worker zygote
forks tasks and must not hold gRPC state.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack

from fedloom.errors import FederationTimeout, InvalidInput
from fedloom.federation.channel import Mailbox
from fedloom.ids import Party
from fedloom.paths import check_id

CHUNK_BYTES = (
    4 << 20
)  # fewer, larger gRPC messages: less per-message Python work (benchmarks/bench_federation.py)
MAX_MESSAGE_BYTES = 8 << 30  # one message; a larger payload is an error, not a disk filler
FORWARD_METHOD = "/fedloom.Local/Forward"
FORWARD_ONE_METHOD = "/fedloom.Local/ForwardOne"  # a message of at most CHUNK_BYTES, in one frame
GRPC_OPTIONS = (
    ("grpc.max_send_message_length", 2 * CHUNK_BYTES),
    ("grpc.max_receive_message_length", 2 * CHUNK_BYTES),
)


@dataclass(frozen=True)
class MessageHeader:
    """Where a streamed message goes, and its size in bytes."""

    session: str
    name: str
    src: Party
    dst: Party
    seq: int
    size: int

    def encode(self) -> bytes:
        return bytes(
            msgpack.packb(
                {
                    "v": 1,
                    "session": self.session,
                    "name": self.name,
                    "src": [self.src.role, self.src.party_id],
                    "dst": [self.dst.role, self.dst.party_id],
                    "seq": self.seq,
                    "size": self.size,
                }
            )
        )

    @classmethod
    def decode(cls, raw: bytes) -> MessageHeader:
        """The header of a stream, or InvalidInput naming what is wrong (never a partial header)."""
        try:
            doc = msgpack.unpackb(raw, raw=False, strict_map_key=True, max_bin_len=0, max_ext_len=0)
        except Exception as exc:  # any malformed bytes from the network: refuse, do not crash
            raise InvalidInput(f"federation: unreadable message header ({type(exc).__name__})") from None
        if not isinstance(doc, dict) or type(doc.get("v")) is not int or doc["v"] != 1:
            raise InvalidInput("federation: unknown message header version")
        try:
            header = cls(
                session=_text(doc["session"], 512),
                name=_text(doc["name"], 256),
                src=_party(doc["src"]),
                dst=_party(doc["dst"]),
                seq=_count(doc["seq"]),
                size=_count(doc["size"]),
            )
        except KeyError as exc:
            raise InvalidInput(f"federation: message header has no {exc.args[0]}") from None
        if header.size > MAX_MESSAGE_BYTES:
            raise InvalidInput(f"federation: message of {header.size} bytes exceeds {MAX_MESSAGE_BYTES}")
        return header


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise InvalidInput("federation: message header field must be a short string")
    return value


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInput("federation: message header field must be a non-negative integer")
    return value


def _party(value: Any) -> Party:
    if not (isinstance(value, list) and len(value) == 2):
        raise InvalidInput("federation: a party must be [role, party_id]")
    role, pid = value
    check_id("role", role)
    return Party(role, _count(pid))


def chunks(header: MessageHeader, payload: bytes) -> Iterator[bytes]:
    """The stream of one message: its header, then the payload in CHUNK_BYTES pieces."""
    yield header.encode()
    view = memoryview(payload)
    for start in range(0, len(view), CHUNK_BYTES):
        yield bytes(view[start : start + CHUNK_BYTES])


def frame(header: MessageHeader, payload: bytes | memoryview) -> bytes:
    """A small message as one gRPC message (a unary call costs about half a stream's latency):
    len(header): 4 bytes big endian | header | payload."""
    raw = header.encode()
    return len(raw).to_bytes(4, "big") + raw + bytes(payload)


def unframe(raw: bytes) -> Iterator[bytes]:
    """The stream of a framed message (its header, then its payload), checked as it is read."""
    size = int.from_bytes(raw[:4], "big")
    if len(raw) < 4 or size > len(raw) - 4:
        raise InvalidInput("federation: truncated message frame")
    yield raw[4 : 4 + size]
    yield raw[4 + size :]


class ForwardingMailbox(Mailbox):
    """A task's mailbox in cluster mode: local parties as before, the others through its server."""

    def __init__(self, root: Path, local_parties: frozenset[int], socket_path: str, timeout: float) -> None:
        super().__init__(root)
        self._local = local_parties
        self._target = f"unix:{socket_path}"
        self._timeout = timeout
        self._channel: Any = None
        self._calls: tuple[Any, Any] | None = None

    def put(self, session: str, name: str, src: Party, dst: Party, seq: int, payload: bytes) -> None:
        if dst.party_id in self._local:
            super().put(session, name, src, dst, seq, payload)
            return
        header = MessageHeader(session, name, src, dst, seq, len(payload))
        self._send(header, payload)

    def _send(self, header: MessageHeader, payload: bytes) -> None:
        """Deliver or raise FederationTimeout; a resend after a lost answer lands in the same slot."""
        import grpc

        stream, one = self._forward_calls()
        deadline = time.monotonic() + self._timeout
        delay = 0.05
        while True:
            left = deadline - time.monotonic()
            try:
                if len(payload) <= CHUNK_BYTES:
                    one(frame(header, payload), timeout=max(left, 0.001))
                else:
                    stream(chunks(header, payload), timeout=max(left, 0.001))
                return
            except grpc.RpcError as exc:
                code = exc.code()
                if code not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                    raise FederationTimeout(
                        f"federation: message {header.name!r} to {header.dst.role} {header.dst.party_id} "
                        f"refused: {exc.details()}"
                    ) from None
                if time.monotonic() + delay > deadline:
                    raise FederationTimeout(
                        f"federation: could not deliver {header.name!r} to {header.dst.role} "
                        f"{header.dst.party_id} within {self._timeout:.0f}s ({exc.details()})"
                    ) from None
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 2.0)

    def _forward_calls(self) -> tuple[Any, Any]:
        if self._calls is None:
            import grpc

            self._channel = grpc.insecure_channel(self._target, options=GRPC_OPTIONS)
            self._calls = (
                self._channel.stream_unary(FORWARD_METHOD),
                self._channel.unary_unary(FORWARD_ONE_METHOD),
            )
        return self._calls

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = self._calls = None


__all__ = [
    "CHUNK_BYTES",
    "FORWARD_METHOD",
    "FORWARD_ONE_METHOD",
    "ForwardingMailbox",
    "MessageHeader",
    "chunks",
    "frame",
    "unframe",
]
