"""Signed party-to-party commands: what is signed, how it is checked, and the metadata that carries it.

A command is a JSON body sent to a path of FATE-Flow's `/v1/party/...` or `/v1/initiator/...` shape,
over the federation listener (gRPC over mutual TLS). Besides the TLS identity, every command carries

    signature = hex(HMAC-SHA256(partner key,
                  "fedloom-command-v1\\n" method "\\n" path "\\n" hex(SHA-256(body)) "\\n" timestamp "\\n"
                  nonce "\\n" src party "\\n" dst party "\\n" command id))

where the partner key is the secret the two parties share (`routes.<party>.secret`). The receiver
checks, in this order: the sender's certificate names the claimed source party; the timestamp (ms) is
within WINDOW_SECONDS of its clock; the nonce was not seen in the window; the signature (constant-time
comparison). Any failure is retcode 109 and the command is not run.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fedloom.errors import AuthenticationFailed
from fedloom.signing import MAX_NONCE_CHARS, WINDOW_SECONDS, NonceCache

_LABEL = "fedloom-command-v1"
METHOD = "POST"
# gRPC metadata keys (lower case, as gRPC requires).
PATH = "x-fedloom-path"
TIMESTAMP = "x-fedloom-timestamp"
NONCE = "x-fedloom-nonce"
SRC = "x-fedloom-src-party"
DST = "x-fedloom-dst-party"
COMMAND_ID = "x-fedloom-command-id"
SIGNATURE = "x-fedloom-signature"
FIELDS = (PATH, TIMESTAMP, NONCE, SRC, DST, COMMAND_ID, SIGNATURE)
MAX_PATH_CHARS = 512
MAX_COMMAND_ID_CHARS = 128


@dataclass(frozen=True)
class Envelope:
    """The signed fields of one command (the body travels as the request message)."""

    path: str
    timestamp: str
    nonce: str
    src: int
    dst: int
    command_id: str

    def message(self, body: bytes) -> bytes:
        parts = (
            _LABEL,
            METHOD,
            self.path,
            hashlib.sha256(body).hexdigest(),
            self.timestamp,
            self.nonce,
            str(self.src),
            str(self.dst),
            self.command_id,
        )
        return "\n".join(parts).encode()


def sign(key: bytes, envelope: Envelope, body: bytes) -> str:
    return hmac.new(key, envelope.message(body), hashlib.sha256).hexdigest()


def metadata(
    key: bytes, path: str, body: bytes, src: int, dst: int, command_id: str, *, now: float | None = None
) -> tuple[tuple[str, str], ...]:
    """The gRPC metadata of one signed command (a fresh timestamp and nonce)."""
    env = Envelope(
        path=path,
        timestamp=str(int((time.time() if now is None else now) * 1000)),
        nonce=secrets.token_hex(16),
        src=src,
        dst=dst,
        command_id=command_id,
    )
    return (
        (PATH, env.path),
        (TIMESTAMP, env.timestamp),
        (NONCE, env.nonce),
        (SRC, str(src)),
        (DST, str(dst)),
        (COMMAND_ID, command_id),
        (SIGNATURE, sign(key, env, body)),
    )


class CommandVerifier:
    """Checks commands from partners: `keys` maps a partner party id to the key shared with it."""

    def __init__(
        self,
        keys: Mapping[int, bytes],
        served: frozenset[int],
        *,
        nonces: NonceCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = dict(keys)
        self._served = served
        # One cache per partner: a partner filling its cache cannot lock the others out.
        self._nonces = (
            {pid: NonceCache() for pid in self._keys} if nonces is None else dict.fromkeys(self._keys, nonces)
        )
        self._nonce_lock = threading.Lock()  # gRPC runs handlers on many threads
        self._clock = clock

    def check(self, fields: Mapping[str, str], body: bytes, peer_parties: frozenset[int]) -> Envelope:
        """The verified envelope, or AuthenticationFailed saying which check failed."""
        missing = [name for name in FIELDS if not fields.get(name)]
        if missing:
            raise AuthenticationFailed(f"command refused: metadata {', '.join(missing)} missing")
        env = _envelope(fields)
        if env.src not in peer_parties:
            raise AuthenticationFailed(
                f"command refused: claims to come from party {env.src} but the TLS certificate is "
                f"for {sorted(peer_parties)}"
            )
        if env.dst not in self._served:
            raise AuthenticationFailed(f"command refused: party {env.dst} is not served here")
        key = self._keys.get(env.src)
        if key is None:
            raise AuthenticationFailed(f"command refused: no route (and no key) for party {env.src}")
        now = self._clock()
        if abs(now * 1000 - int(env.timestamp)) > WINDOW_SECONDS * 1000:
            raise AuthenticationFailed(
                f"command refused: timestamp more than {WINDOW_SECONDS} s away from this server's clock "
                "(expired, replayed, or clocks out of sync)"
            )
        if not hmac.compare_digest(fields[SIGNATURE].encode(), sign(key, env, body).encode()):
            raise AuthenticationFailed("command refused: bad signature (tampered, or a wrong partner key)")
        with self._nonce_lock:
            self._nonces[env.src].add(env.nonce, now)  # raises on a replayed nonce
        return env


def _envelope(fields: Mapping[str, str]) -> Envelope:
    ts, nonce, path, cid = fields[TIMESTAMP], fields[NONCE], fields[PATH], fields[COMMAND_ID]
    if not (ts.isascii() and ts.isdigit() and len(ts) <= 16):
        raise AuthenticationFailed("command refused: timestamp must be Unix time in milliseconds")
    if not (nonce.isascii() and nonce.isprintable() and len(nonce) <= MAX_NONCE_CHARS):
        raise AuthenticationFailed(
            f"command refused: nonce must be <= {MAX_NONCE_CHARS} printable characters"
        )
    if not (path.isascii() and path.startswith("/v1/") and len(path) <= MAX_PATH_CHARS):
        raise AuthenticationFailed("command refused: path must be a /v1/ path")
    if not (cid.isascii() and cid.isprintable() and len(cid) <= MAX_COMMAND_ID_CHARS):
        raise AuthenticationFailed("command refused: bad command id")
    src_text, dst_text = fields[SRC], fields[DST]
    if not all(t.isascii() and t.isdigit() and len(t) <= 10 for t in (src_text, dst_text)):
        raise AuthenticationFailed("command refused: party ids must be integers")
    src, dst = int(src_text), int(dst_text)
    return Envelope(path=path, timestamp=ts, nonce=nonce, src=src, dst=dst, command_id=cid)


__all__ = ["FIELDS", "CommandVerifier", "Envelope", "metadata", "sign"]
