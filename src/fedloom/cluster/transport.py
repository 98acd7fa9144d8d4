"""The party-to-party transport: a gRPC server (mutual TLS; a Unix socket for this server's tasks) and
the client links to the partners' servers.

Methods (bytes in, bytes out; no protobuf):
- `/fedloom.Federation/Command` (unary): a signed command (`cluster.wire`), JSON body, JSON answer.
- `/fedloom.Federation/Push` (client stream): a task message, `MessageHeader` then payload chunks.
- `/fedloom.Local/Forward` (client stream, Unix socket only): a task of this server hands a message
  for a remote party to its server, which streams it on with `Push`.

gRPC was chosen on measurements (`reference/perf_limits.md` §4): client streams of 1-4 MiB chunks move
~2.4 GB/s on loopback where HTTP/1.1 through uvicorn and httpx moves ~0.13 GB/s.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import grpc

from fedloom.cluster import wire
from fedloom.cluster.certs import Identity, parties_of_certificate, party_dns_name
from fedloom.config import PartyRoute
from fedloom.errors import AuthenticationFailed, FedloomError, PartyUnreachable
from fedloom.federation.forward import CHUNK_BYTES, GRPC_OPTIONS, MessageHeader, frame, unframe

log = logging.getLogger(__name__)
COMMAND_METHOD = "/fedloom.Federation/Command"
PUSH_METHOD = "/fedloom.Federation/Push"
PUSH_ONE_METHOD = "/fedloom.Federation/PushOne"  # a message of at most CHUNK_BYTES, in one frame
MAX_COMMAND_BYTES = 64 << 20  # a job's DSL and conf travel in `create`
_RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
_LINK_OPTIONS = (
    ("grpc.max_send_message_length", MAX_COMMAND_BYTES),
    ("grpc.max_receive_message_length", MAX_COMMAND_BYTES),
    ("grpc.keepalive_time_ms", 20_000),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2_000),
)

JsonObject = dict[str, Any]
CommandHandler = Callable[[wire.Envelope, bytes], JsonObject]
PushHandler = Callable[[MessageHeader, frozenset[int], Iterator[bytes]], None]
ForwardHandler = Callable[[MessageHeader, Iterator[bytes]], None]


@dataclass(frozen=True)
class Handlers:
    """What the server does with each method (the cluster node provides them)."""

    command: CommandHandler
    push: PushHandler
    forward: ForwardHandler
    # A request refused before any handler ran (authentication): who it claimed to be, what, why.
    refused: Callable[[str, str, int, str], None] = lambda who, what, retcode, why: None


def peer_parties(context: grpc.ServicerContext) -> frozenset[int]:
    """The parties named by the client certificate of this call (empty without one)."""
    pems: bytes | list[bytes] = context.auth_context().get("x509_pem_cert") or []
    pem = pems if isinstance(pems, bytes) else (pems[0] if pems else b"")
    return parties_of_certificate(pem) if pem else frozenset()


class FederationServer:
    """The federation listener (mutual TLS only) and the local forwarding socket of one fedloom server."""

    def __init__(
        self,
        identity: Identity,
        verifier: wire.CommandVerifier,
        handlers: Handlers,
        bind: str,
        port: int,
        socket_path: str,
    ) -> None:
        self._verifier = verifier
        self._handlers = handlers
        self._executor = ThreadPoolExecutor(max_workers=32, thread_name_prefix="federation")
        self._remote = grpc.server(self._executor, options=_LINK_OPTIONS, maximum_concurrent_rpcs=256)
        self._remote.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(
                    "fedloom.Federation",
                    {
                        "Command": grpc.unary_unary_rpc_method_handler(self._command),
                        "Push": grpc.stream_unary_rpc_method_handler(self._push),
                        "PushOne": grpc.unary_unary_rpc_method_handler(self._push_one),
                    },
                ),
            )
        )
        creds = grpc.ssl_server_credentials(
            [(identity.key, identity.cert)], root_certificates=identity.ca, require_client_auth=True
        )
        self.port = self._remote.add_secure_port(f"{bind}:{port}", creds)
        if self.port == 0:
            raise FedloomError(f"federation_port: cannot listen on {bind}:{port}")
        self._local = grpc.server(self._executor, options=GRPC_OPTIONS)
        self._local.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(
                    "fedloom.Local",
                    {
                        "Forward": grpc.stream_unary_rpc_method_handler(self._forward),
                        "ForwardOne": grpc.unary_unary_rpc_method_handler(self._forward_one),
                    },
                ),
            )
        )
        self._local.add_insecure_port(f"unix:{socket_path}")

    def start(self) -> None:
        self._remote.start()
        self._local.start()

    def stop(self, grace: float = 2.0) -> None:
        self._remote.stop(grace).wait(grace + 1)
        self._local.stop(grace).wait(grace + 1)
        self._executor.shutdown(wait=False, cancel_futures=True)

    # ---- handlers ---------------------------------------------------------------------------
    def _command(self, body: bytes, context: grpc.ServicerContext) -> bytes:
        fields = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        try:
            env = self._verifier.check(fields, body, peer_parties(context))
        except FedloomError as exc:
            claimed = f"unverified:party:{fields.get(wire.SRC, '?')[:16]}"
            self._handlers.refused(
                claimed, f"command {fields.get(wire.PATH, '?')[:200]}", exc.retcode, exc.message
            )
            return json.dumps({"retcode": exc.retcode, "retmsg": exc.message}).encode()
        try:
            answer = self._handlers.command(env, body)
        except FedloomError as exc:
            answer = {"retcode": exc.retcode, "retmsg": exc.message}
        except Exception:  # a request boundary: the partner gets an opaque answer, the log the cause
            log.exception("federation command %s failed", fields.get(wire.PATH, "?"))
            answer = {"retcode": 100, "retmsg": "internal error at the receiving party (see its server log)"}
        return json.dumps(answer, separators=(",", ":")).encode()

    def _push(self, stream: Iterator[bytes], context: grpc.ServicerContext) -> bytes:
        parties = peer_parties(context)

        def receive(header: MessageHeader) -> None:
            if header.src.party_id not in parties:
                why = f"federation: message claims party {header.src.party_id}, certificate is for {sorted(parties)}"
                self._handlers.refused(f"unverified:party:{header.src.party_id}", "push", 109, why)
                raise AuthenticationFailed(why)
            self._handlers.push(header, parties, stream)

        return _stream_boundary("push", stream, context, receive)

    def _forward(self, stream: Iterator[bytes], context: grpc.ServicerContext) -> bytes:
        return _stream_boundary("forward", stream, context, lambda h: self._handlers.forward(h, stream))

    def _push_one(self, raw: bytes, context: grpc.ServicerContext) -> bytes:
        return self._push(unframe(raw), context)

    def _forward_one(self, raw: bytes, context: grpc.ServicerContext) -> bytes:
        return self._forward(unframe(raw), context)


def _stream_boundary(
    what: str,
    stream: Iterator[bytes],
    context: grpc.ServicerContext,
    handle: Callable[[MessageHeader], None],
) -> bytes:
    """Run a message stream's handler; the sender gets a status and a reason of ours, never an
    internal error's text (the server log has that)."""
    try:
        handle(MessageHeader.decode(next(stream)))
    except StopIteration:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "federation: empty stream")
    except PartyUnreachable as exc:
        context.abort(grpc.StatusCode.UNAVAILABLE, exc.message)
    except AuthenticationFailed as exc:
        context.abort(grpc.StatusCode.PERMISSION_DENIED, exc.message)
    except FedloomError as exc:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, exc.message)
    except grpc.RpcError:
        raise  # the sender went away: nothing to answer
    except Exception:  # a request boundary: an opaque answer, the cause in our log
        log.exception("federation %s failed", what)
        context.abort(grpc.StatusCode.INTERNAL, "internal error at the receiving party (see its server log)")
    return b""


class Links:
    """This server's channels to its partners' federation listeners (one per party, made on first use)."""

    def __init__(self, identity: Identity, routes: dict[int, PartyRoute]) -> None:
        self._creds = grpc.ssl_channel_credentials(identity.ca, identity.key, identity.cert)
        self._routes = routes
        self._keys = {pid: r.secret.get_secret_value().encode() for pid, r in routes.items() if r.secret}
        self._channels: dict[int, grpc.Channel] = {}
        self._lock = threading.Lock()

    def _channel(self, party_id: int) -> grpc.Channel:
        with self._lock:
            return self._channels.get(party_id) or self._open(party_id)

    def _open(self, party_id: int) -> grpc.Channel:
        route = self._routes.get(party_id)
        if route is None:
            raise PartyUnreachable(f"party {party_id}: no route configured (routes.{party_id})")
        # The server must present a certificate naming this party: a route pointing elsewhere fails.
        options = (*_LINK_OPTIONS, ("grpc.ssl_target_name_override", party_dns_name(party_id)))
        channel = grpc.secure_channel(f"{route.host}:{route.port}", self._creds, options=options)
        self._channels[party_id] = channel
        return channel

    def command(
        self,
        src: int,
        dst: int,
        path: str,
        body: JsonObject,
        command_id: str,
        deadline: float,
        attempt_timeout: float = 10.0,
    ) -> JsonObject:
        """Send a signed command and return the partner's answer envelope. Transport failures are
        retried with jittered backoff until `deadline` seconds have passed, then PartyUnreachable."""
        raw = json.dumps(body, separators=(",", ":")).encode()
        call: grpc.UnaryUnaryMultiCallable[bytes, bytes] = self._channel(dst).unary_unary(COMMAND_METHOD)
        end = time.monotonic() + deadline
        delay = 0.05
        while True:
            left = end - time.monotonic()
            meta = wire.metadata(self._keys.get(dst, b""), path, raw, src, dst, command_id)
            try:
                answer = call(raw, metadata=meta, timeout=max(min(attempt_timeout, left), 0.05))
                return _envelope(answer, dst)
            except grpc.RpcError as exc:
                if exc.code() not in _RETRYABLE or time.monotonic() + delay >= end:
                    raise PartyUnreachable(
                        f"party {dst} unreachable: {exc.details() or exc.code()}"
                    ) from None
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 2.0)

    def push(self, header: MessageHeader, stream: Iterator[bytes], timeout: float) -> None:
        """Stream one message on to the server of `header.dst` (no retry: the task resends)."""
        channel = self._channel(header.dst.party_id)
        try:
            if header.size <= CHUNK_BYTES:  # one frame: about half the latency of a stream
                one: grpc.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(PUSH_ONE_METHOD)
                one(frame(header, _joined(stream, header.size)), timeout=timeout)
            else:
                call: grpc.StreamUnaryMultiCallable[bytes, bytes] = channel.stream_unary(PUSH_METHOD)
                call(_with_header(header, stream), timeout=timeout)
        except grpc.RpcError as exc:
            if exc.code() in _RETRYABLE:
                raise PartyUnreachable(
                    f"party {header.dst.party_id} unreachable: {exc.details() or exc.code()}"
                ) from None
            raise FedloomError(f"party {header.dst.party_id} refused the message: {exc.details()}") from None

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()


def _joined(stream: Iterator[bytes], size: int) -> bytes:
    """A small message's payload in one piece (refused if longer than announced)."""
    out = bytearray()
    for chunk in stream:
        out += chunk
        if len(out) > size:
            raise FedloomError("federation: message longer than announced")
    return bytes(out)


def _with_header(header: MessageHeader, stream: Iterator[bytes]) -> Iterator[bytes]:
    yield header.encode()
    for chunk in stream:
        if len(chunk) > CHUNK_BYTES:
            raise FedloomError("federation: chunk larger than CHUNK_BYTES")
        yield chunk


def _envelope(raw: bytes, party: int) -> JsonObject:
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or not isinstance(answer.get("retcode"), int):
        raise FedloomError(f"party {party} sent an answer that is not a fedloom envelope")
    return answer


__all__ = ["COMMAND_METHOD", "PUSH_METHOD", "FederationServer", "Handlers", "Links", "peer_parties"]
