"""The federation listener under attack: real gRPC servers on 127.0.0.1 with certificates from init_certs.

Party 10000's server is the target; 9999 and 10001 are its partners. Every refused command must come
back as retcode 109 without reaching the command handler; every refused push must leave the mailbox
empty.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr

from fedloom.cluster import wire
from fedloom.cluster.certs import (
    ClusterCerts,
    Identity,
    Issued,
    init_certs,
    issue_certificate,
    load_identity,
    party_dns_name,
)
from fedloom.cluster.transport import (
    COMMAND_METHOD,
    PUSH_METHOD,
    PUSH_ONE_METHOD,
    FederationServer,
    Handlers,
    Links,
)
from fedloom.config import PartyRoute, TlsFiles
from fedloom.errors import FedloomError, PartyUnreachable
from fedloom.federation.channel import Mailbox
from fedloom.federation.forward import FORWARD_METHOD, ForwardingMailbox, MessageHeader, chunks, frame
from fedloom.ids import Party

PARTIES = (9999, 10000, 10001)
PATH = "/v1/party/job-1/host/10000/ping"
BODY = {"hello": "host"}
RAW_BODY = json.dumps(BODY, separators=(",", ":")).encode()
GUEST, HOST = Party("guest", 9999), Party("host", 10000)
SESSION = "job-1.reader_0.0"
TIMEOUT = 10.0


# -- certificates --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> ClusterCerts:
    return init_certs(tmp_path_factory.mktemp("cluster") / "certs", PARTIES)


@pytest.fixture(scope="module")
def other_certs(tmp_path_factory: pytest.TempPathFactory) -> ClusterCerts:
    return init_certs(tmp_path_factory.mktemp("other") / "certs", PARTIES)


def identity_of(certs: ClusterCerts, party: int) -> Identity:
    paths = certs.parties[party]
    return load_identity(TlsFiles(ca=paths.ca, cert=paths.cert, key=paths.key), [party])


def pair_key(certs: ClusterCerts, a: int, b: int) -> bytes:
    return certs.pair_secrets[frozenset((a, b))].encode()


def issued_identity(certs: ClusterCerts, issued: Issued, parties: frozenset[int]) -> Identity:
    """An identity with a certificate made in a test, trusting `certs`' CA."""
    key, cert = issued
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return Identity(
        ca=certs.ca.read_bytes(),
        cert=cert.public_bytes(serialization.Encoding.PEM),
        key=key_pem,
        parties=parties,
    )


def ca_of(certs: ClusterCerts) -> Issued:
    key = serialization.load_pem_private_key((certs.out / "ca.key").read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key, x509.load_pem_x509_certificate(certs.ca.read_bytes())


# -- the server under test ------------------------------------------------------------------------------


@dataclass
class Recorder:
    """Handlers that record what reached them; pushes go into a real mailbox."""

    mailbox: Mailbox
    commands: list[tuple[wire.Envelope, bytes]] = field(default_factory=list)
    pushes: list[tuple[MessageHeader, frozenset[int]]] = field(default_factory=list)
    forwards: list[tuple[MessageHeader, bytes]] = field(default_factory=list)
    push_ended: threading.Event = field(default_factory=threading.Event)
    push_failure: Exception | None = None  # raised by the push handler, as a broken disk or database would

    def command(self, env: wire.Envelope, body: bytes) -> dict[str, Any]:
        self.commands.append((env, body))
        return {"retcode": 0, "retmsg": "success", "data": {"src": env.src, "echo": json.loads(body)}}

    def push(self, header: MessageHeader, parties: frozenset[int], stream: Iterator[bytes]) -> None:
        self.pushes.append((header, parties))
        if self.push_failure is not None:
            raise self.push_failure
        try:
            self.mailbox.put_stream(
                header.session, header.name, header.src, header.dst, header.seq, stream, header.size
            )
        finally:
            self.push_ended.set()

    def forward(self, header: MessageHeader, stream: Iterator[bytes]) -> None:
        self.forwards.append((header, b"".join(stream)))

    def files(self) -> list[Path]:
        return sorted(p for p in self.mailbox.root.rglob("*") if p.is_file())


@dataclass
class Running:
    server: FederationServer
    recorder: Recorder
    socket_path: str
    target: str


@pytest.fixture
def host(certs: ClusterCerts, tmp_path: Path) -> Iterator[Running]:
    """Party 10000's federation listener, made (as the real server is) under umask 077."""
    recorder = Recorder(Mailbox(tmp_path / "mailbox"))
    verifier = wire.CommandVerifier(
        {9999: pair_key(certs, 9999, 10000), 10001: pair_key(certs, 10000, 10001)}, frozenset({10000})
    )
    socket_dir = tempfile.mkdtemp(prefix="fedloom-test-")  # as node.forward_socket_path makes it
    socket_path = os.path.join(socket_dir, "federation.sock")
    try:
        previous = os.umask(0o077)
        try:
            server = FederationServer(
                identity_of(certs, 10000),
                verifier,
                Handlers(recorder.command, recorder.push, recorder.forward),
                "127.0.0.1",
                0,
                socket_path,
            )
            server.start()
        finally:
            os.umask(previous)
        try:
            yield Running(server, recorder, socket_path, f"127.0.0.1:{server.port}")
        finally:
            server.stop(grace=0.5)
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)


# -- clients ----------------------------------------------------------------------------------------------


@pytest.fixture
def links() -> Iterator[list[Links]]:
    """Every Links made by a test is closed after it."""
    made: list[Links] = []
    yield made
    for link in made:
        link.close()


def make_links(made: list[Links], identity: Identity, port: int, secret: bytes | str | None) -> Links:
    value = secret.decode() if isinstance(secret, bytes) else secret
    route = PartyRoute(host="127.0.0.1", port=port, secret=SecretStr(value) if value else None)
    link = Links(identity, {10000: route})
    made.append(link)
    return link


@pytest.fixture
def channels() -> Iterator[list[grpc.Channel]]:
    made: list[grpc.Channel] = []
    yield made
    for channel in made:
        channel.close()


def tls_channel(
    made: list[grpc.Channel],
    target: str,
    identity: Identity | None,
    ca: bytes,
    server_party: int = 10000,
) -> grpc.Channel:
    """A raw channel to `target`; `identity` None means no client certificate at all."""
    if identity is None:
        creds = grpc.ssl_channel_credentials(root_certificates=ca)
    else:
        creds = grpc.ssl_channel_credentials(ca, identity.key, identity.cert)
    options = [("grpc.ssl_target_name_override", party_dns_name(server_party))]
    channel = grpc.secure_channel(target, creds, options=options)
    made.append(channel)
    return channel


def raw_command(channel: grpc.Channel, body: bytes, meta: Iterable[tuple[str, str]] | None) -> Any:
    call: grpc.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(COMMAND_METHOD)
    return json.loads(call(body, metadata=tuple(meta) if meta is not None else None, timeout=TIMEOUT))


def stream_call(channel: grpc.Channel, method: str) -> grpc.StreamUnaryMultiCallable[bytes, bytes]:
    return channel.stream_unary(method)


def raw_push(channel: grpc.Channel, messages: list[bytes]) -> None:
    stream_call(channel, PUSH_METHOD)(iter(messages), timeout=TIMEOUT)


def signed(certs: ClusterCerts, body: bytes = RAW_BODY, **kw: Any) -> tuple[tuple[str, str], ...]:
    return wire.metadata(pair_key(certs, 9999, 10000), PATH, body, 9999, 10000, "ping:1", **kw)


def assert_refused(answer: Any, reason: str, recorder: Recorder) -> None:
    assert answer["retcode"] == 109, answer
    assert reason in answer["retmsg"]
    assert "data" not in answer
    assert recorder.commands == []


def rpc_error(call: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value


# -- commands -----------------------------------------------------------------------------------------


def test_valid_command_reaches_the_handler(certs: ClusterCerts, host: Running, links: list[Links]) -> None:
    link = make_links(links, identity_of(certs, 9999), host.server.port, pair_key(certs, 9999, 10000))
    answer = link.command(9999, 10000, PATH, BODY, "ping:1", deadline=TIMEOUT)
    assert answer == {"retcode": 0, "retmsg": "success", "data": {"src": 9999, "echo": BODY}}
    [(env, body)] = host.recorder.commands
    assert (env.src, env.dst, env.path, env.command_id, body) == (9999, 10000, PATH, "ping:1", RAW_BODY)


def test_second_partner_with_its_own_key(certs: ClusterCerts, host: Running, links: list[Links]) -> None:
    link = make_links(links, identity_of(certs, 10001), host.server.port, pair_key(certs, 10000, 10001))
    answer = link.command(10001, 10000, PATH, BODY, "ping:2", deadline=TIMEOUT)
    assert answer["retcode"] == 0 and answer["data"]["src"] == 10001


def test_unsigned_command(certs: ClusterCerts, host: Running, channels: list[grpc.Channel]) -> None:
    channel = tls_channel(channels, host.target, identity_of(certs, 9999), certs.ca.read_bytes())
    answer = raw_command(channel, RAW_BODY, None)
    assert_refused(answer, "metadata x-fedloom-path, x-fedloom-timestamp", host.recorder)


def test_tampered_body(certs: ClusterCerts, host: Running, channels: list[grpc.Channel]) -> None:
    channel = tls_channel(channels, host.target, identity_of(certs, 9999), certs.ca.read_bytes())
    meta = signed(certs, RAW_BODY)
    answer = raw_command(channel, b'{"hello":"evil"}', meta)
    assert_refused(answer, "bad signature", host.recorder)


def test_replayed_command(certs: ClusterCerts, host: Running, channels: list[grpc.Channel]) -> None:
    channel = tls_channel(channels, host.target, identity_of(certs, 9999), certs.ca.read_bytes())
    meta = signed(certs)
    assert raw_command(channel, RAW_BODY, meta)["retcode"] == 0
    again = raw_command(channel, RAW_BODY, meta)
    assert again["retcode"] == 109 and "replayed" in again["retmsg"]
    assert len(host.recorder.commands) == 1


def test_concurrent_replays_run_once(
    certs: ClusterCerts, host: Running, channels: list[grpc.Channel]
) -> None:
    channel = tls_channel(channels, host.target, identity_of(certs, 9999), certs.ca.read_bytes())
    meta = signed(certs)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: raw_command(channel, RAW_BODY, meta), range(8)))
    assert sorted(a["retcode"] for a in answers) == [0] + [109] * 7
    assert len(host.recorder.commands) == 1


def test_replay_on_a_new_connection(certs: ClusterCerts, host: Running, channels: list[grpc.Channel]) -> None:
    meta = signed(certs)
    first = tls_channel(channels, host.target, identity_of(certs, 9999), certs.ca.read_bytes())
    assert raw_command(first, RAW_BODY, meta)["retcode"] == 0
    first.close()
    second = tls_channel(channels, host.target, identity_of(certs, 9999), certs.ca.read_bytes())
    assert raw_command(second, RAW_BODY, meta)["retcode"] == 109
    assert len(host.recorder.commands) == 1


def test_expired_command(certs: ClusterCerts, host: Running, channels: list[grpc.Channel]) -> None:
    channel = tls_channel(channels, host.target, identity_of(certs, 9999), certs.ca.read_bytes())
    answer = raw_command(channel, RAW_BODY, signed(certs, now=time.time() - 120))
    assert_refused(answer, "timestamp more than", host.recorder)


def test_wrong_partner_key(certs: ClusterCerts, host: Running, links: list[Links]) -> None:
    link = make_links(links, identity_of(certs, 9999), host.server.port, "0" * 64)
    answer = link.command(9999, 10000, PATH, BODY, "ping:1", deadline=TIMEOUT)
    assert_refused(answer, "bad signature", host.recorder)


def test_route_without_secret(certs: ClusterCerts, host: Running, links: list[Links]) -> None:
    link = make_links(links, identity_of(certs, 9999), host.server.port, None)
    answer = link.command(9999, 10000, PATH, BODY, "ping:1", deadline=TIMEOUT)
    assert_refused(answer, "bad signature", host.recorder)


def test_another_pairs_key(certs: ClusterCerts, host: Running, links: list[Links]) -> None:
    """9999 holding the 10000-10001 key still cannot sign as 9999 with it."""
    link = make_links(links, identity_of(certs, 9999), host.server.port, pair_key(certs, 10000, 10001))
    answer = link.command(9999, 10000, PATH, BODY, "ping:1", deadline=TIMEOUT)
    assert_refused(answer, "bad signature", host.recorder)


def test_certificate_of_10001_signing_as_9999(certs: ClusterCerts, host: Running, links: list[Links]) -> None:
    """Even with 9999's key, the party a command claims must be the one its certificate names."""
    link = make_links(links, identity_of(certs, 10001), host.server.port, pair_key(certs, 9999, 10000))
    answer = link.command(9999, 10000, PATH, BODY, "ping:1", deadline=TIMEOUT)
    assert_refused(
        answer, "claims to come from party 9999 but the TLS certificate is for [10001]", host.recorder
    )


def test_partner_without_a_key(certs: ClusterCerts, host: Running, links: list[Links]) -> None:
    """A certificate of the cluster CA for a party 10000 has no route to is refused."""
    stranger = issued_identity(certs, issue_certificate(ca_of(certs), [10002]), frozenset({10002}))
    link = make_links(links, stranger, host.server.port, "0" * 64)
    answer = link.command(10002, 10000, PATH, BODY, "ping:1", deadline=TIMEOUT)
    assert_refused(answer, "no route (and no key) for party 10002", host.recorder)


def test_command_for_a_party_not_served(
    certs: ClusterCerts, host: Running, channels: list[grpc.Channel]
) -> None:
    channel = tls_channel(channels, host.target, identity_of(certs, 9999), certs.ca.read_bytes())
    meta = wire.metadata(pair_key(certs, 9999, 10000), PATH, RAW_BODY, 9999, 10001, "ping:1")
    assert_refused(raw_command(channel, RAW_BODY, meta), "party 10001 is not served here", host.recorder)


# -- who may connect --------------------------------------------------------------------------------------


def test_client_certificate_of_another_ca(
    certs: ClusterCerts, other_certs: ClusterCerts, host: Running, channels: list[grpc.Channel]
) -> None:
    foreign = identity_of(other_certs, 9999)
    channel = tls_channel(channels, host.target, foreign, certs.ca.read_bytes())
    error = rpc_error(lambda: raw_command(channel, RAW_BODY, signed(certs)))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert host.recorder.commands == []


def test_client_of_another_cluster_trusting_its_own_ca(
    other_certs: ClusterCerts, host: Running, channels: list[grpc.Channel]
) -> None:
    foreign = identity_of(other_certs, 9999)
    channel = tls_channel(channels, host.target, foreign, foreign.ca)
    error = rpc_error(lambda: raw_command(channel, RAW_BODY, None))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert host.recorder.commands == []


def test_client_without_a_certificate(
    certs: ClusterCerts, host: Running, channels: list[grpc.Channel]
) -> None:
    channel = tls_channel(channels, host.target, None, certs.ca.read_bytes())
    error = rpc_error(lambda: raw_command(channel, RAW_BODY, signed(certs)))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert host.recorder.commands == []


def test_expired_client_certificate(certs: ClusterCerts, host: Running, channels: list[grpc.Channel]) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=30)
    issued = issue_certificate(ca_of(certs), [9999], days=1, now=long_ago)
    expired = issued_identity(certs, issued, frozenset({9999}))
    channel = tls_channel(channels, host.target, expired, certs.ca.read_bytes())
    error = rpc_error(lambda: raw_command(channel, RAW_BODY, signed(certs)))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert host.recorder.commands == []


def test_server_that_is_not_the_expected_party(
    certs: ClusterCerts, host: Running, channels: list[grpc.Channel]
) -> None:
    channel = tls_channel(
        channels, host.target, identity_of(certs, 9999), certs.ca.read_bytes(), server_party=10001
    )
    error = rpc_error(lambda: raw_command(channel, RAW_BODY, signed(certs)))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert host.recorder.commands == []


def test_links_refuse_a_route_to_the_wrong_party(
    certs: ClusterCerts, host: Running, links: list[Links]
) -> None:
    """A route for 10001 that points at 10000's listener fails: Links expect 10001's certificate."""
    route = PartyRoute(host="127.0.0.1", port=host.server.port, secret=SecretStr("0" * 64))
    link = Links(identity_of(certs, 9999), {10001: route})
    links.append(link)
    with pytest.raises(PartyUnreachable, match="party 10001 unreachable"):
        link.command(9999, 10001, PATH, BODY, "ping:1", deadline=0.3)
    assert host.recorder.commands == []


def test_plain_text_connection(host: Running, channels: list[grpc.Channel]) -> None:
    channel = grpc.insecure_channel(host.target)
    channels.append(channel)
    error = rpc_error(lambda: raw_command(channel, RAW_BODY, None))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert host.recorder.commands == []


def test_forward_is_not_offered_on_the_federation_port(
    certs: ClusterCerts, host: Running, channels: list[grpc.Channel]
) -> None:
    channel = tls_channel(channels, host.target, identity_of(certs, 9999), certs.ca.read_bytes())
    header = MessageHeader(SESSION, "x", HOST, Party("guest", 9999), 0, 3)
    call = stream_call(channel, FORWARD_METHOD)
    error = rpc_error(lambda: call(chunks(header, b"abc"), timeout=TIMEOUT))
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED
    assert host.recorder.forwards == []


# -- pushes -------------------------------------------------------------------------------------------


def guest_channel(certs: ClusterCerts, host: Running, channels: list[grpc.Channel]) -> grpc.Channel:
    return tls_channel(channels, host.target, identity_of(certs, 9999), certs.ca.read_bytes())


def test_valid_push_writes_exactly_the_payload(
    certs: ClusterCerts, host: Running, links: list[Links]
) -> None:
    payload = os.urandom(2 * (1 << 20) + 12345)  # three chunks
    header = MessageHeader(SESSION, "model", GUEST, HOST, 7, len(payload))
    link = make_links(links, identity_of(certs, 9999), host.server.port, None)
    pieces = list(chunks(header, payload))[1:]
    link.push(header, iter(pieces), timeout=TIMEOUT)
    assert host.recorder.pushes == [(header, frozenset({9999}))]
    assert host.recorder.files() == [host.recorder.mailbox.path(SESSION, "model", GUEST, HOST, 7)]
    assert host.recorder.mailbox.take(SESSION, "model", GUEST, HOST, 7, timeout=0) == payload


def test_empty_payload_push(certs: ClusterCerts, host: Running, channels: list[grpc.Channel]) -> None:
    header = MessageHeader(SESSION, "empty", GUEST, HOST, 0, 0)
    raw_push(guest_channel(certs, host, channels), [header.encode()])
    assert host.recorder.mailbox.take(SESSION, "empty", GUEST, HOST, 0, timeout=0) == b""


def test_push_claiming_another_party(
    certs: ClusterCerts, host: Running, channels: list[grpc.Channel]
) -> None:
    header = MessageHeader(SESSION, "model", Party("guest", 10001), HOST, 0, 3)
    channel = guest_channel(certs, host, channels)
    error = rpc_error(lambda: raw_push(channel, list(chunks(header, b"abc"))))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "claims party 10001, certificate is for [9999]" in (error.details() or "")
    assert host.recorder.pushes == [] and host.recorder.files() == []


def test_links_report_a_refused_push(certs: ClusterCerts, host: Running, links: list[Links]) -> None:
    header = MessageHeader(SESSION, "model", Party("guest", 10001), HOST, 0, 3)
    link = make_links(links, identity_of(certs, 9999), host.server.port, None)
    with pytest.raises(FedloomError, match="party 10000 refused the message: federation: message claims"):
        link.push(header, iter([b"abc"]), timeout=TIMEOUT)
    assert host.recorder.files() == []


@pytest.mark.parametrize(
    "first", [b"", b"garbage", b"\xc1", MessageHeader(SESSION, "m", GUEST, HOST, 0, 1).encode()[:-1]]
)
def test_garbage_header(
    certs: ClusterCerts, host: Running, channels: list[grpc.Channel], first: bytes
) -> None:
    channel = guest_channel(certs, host, channels)
    error = rpc_error(lambda: raw_push(channel, [first, b"x"]))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "federation: " in (error.details() or "")
    assert host.recorder.pushes == [] and host.recorder.files() == []


def test_empty_stream(certs: ClusterCerts, host: Running, channels: list[grpc.Channel]) -> None:
    channel = guest_channel(certs, host, channels)
    error = rpc_error(lambda: raw_push(channel, []))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == "federation: empty stream"


@pytest.mark.parametrize(
    ("size", "pieces", "reason"),
    [
        (10, [b"12345"], "ended after 5 of 10 bytes"),
        (10, [], "ended after 0 of 10 bytes"),
        (5, [b"1234567890"], "longer than announced"),
        (5, [b"123", b"456"], "longer than announced"),
        (0, [b"1"], "longer than announced"),
    ],
)
def test_push_of_the_wrong_length_leaves_no_file(
    certs: ClusterCerts,
    host: Running,
    channels: list[grpc.Channel],
    size: int,
    pieces: list[bytes],
    reason: str,
) -> None:
    header = MessageHeader(SESSION, "model", GUEST, HOST, 1, size)
    channel = guest_channel(certs, host, channels)
    error = rpc_error(lambda: raw_push(channel, [header.encode(), *pieces]))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason in (error.details() or "")
    assert len(host.recorder.pushes) == 1
    assert host.recorder.files() == []


def test_wrong_length_does_not_replace_an_earlier_message(
    certs: ClusterCerts, host: Running, channels: list[grpc.Channel]
) -> None:
    channel = guest_channel(certs, host, channels)
    good = MessageHeader(SESSION, "model", GUEST, HOST, 1, 3)
    raw_push(channel, list(chunks(good, b"abc")))
    short = MessageHeader(SESSION, "model", GUEST, HOST, 1, 10)
    rpc_error(lambda: raw_push(channel, [short.encode(), b"xyz"]))
    assert host.recorder.mailbox.take(SESSION, "model", GUEST, HOST, 1, timeout=0) == b"abc"


def test_push_cancelled_midway_leaves_no_file(
    certs: ClusterCerts, host: Running, channels: list[grpc.Channel]
) -> None:
    """A sending task that dies mid-message: the receiver keeps nothing of it."""
    header = MessageHeader(SESSION, "model", GUEST, HOST, 2, 1 << 20)

    def dying_stream() -> Iterator[bytes]:
        yield header.encode()
        yield b"x" * 1000
        for _ in range(1000):  # until the server has the header (bounded: 10 s)
            if host.recorder.pushes:
                break
            time.sleep(0.01)
        raise RuntimeError("the sending task died")

    channel = guest_channel(certs, host, channels)
    call = stream_call(channel, PUSH_METHOD)
    rpc_error(lambda: call(dying_stream(), timeout=TIMEOUT))
    assert host.recorder.push_ended.wait(TIMEOUT)
    assert host.recorder.files() == []


def test_unexpected_push_failure_is_opaque_to_the_peer(
    certs: ClusterCerts, host: Running, channels: list[grpc.Channel]
) -> None:
    """Like a command, a push that fails inside this server tells the partner nothing of its insides."""
    secret_path = "/srv/fedloom-data/federation/job-1.reader_0.0/model/guest-9999__host-10000/00000004.msg"
    host.recorder.push_failure = OSError(28, "No space left on device", secret_path)
    header = MessageHeader(SESSION, "model", GUEST, HOST, 4, 3)
    channel = guest_channel(certs, host, channels)
    error = rpc_error(lambda: raw_push(channel, list(chunks(header, b"abc"))))
    details = error.details() or ""
    assert "fedloom-data" not in details and "No space left" not in details, details


@pytest.mark.parametrize(("session", "name"), [("..", "m"), (SESSION, ".."), (SESSION, "a/../../escape")])
def test_push_cannot_leave_the_mailbox(
    certs: ClusterCerts, host: Running, channels: list[grpc.Channel], session: str, name: str
) -> None:
    header = MessageHeader(session, name, GUEST, HOST, 0, 3)
    channel = guest_channel(certs, host, channels)
    error = rpc_error(lambda: raw_push(channel, list(chunks(header, b"abc"))))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    root = host.recorder.mailbox.root
    assert [p for p in root.parent.rglob("*") if p.is_file()] == []


# -- the local forwarding socket ---------------------------------------------------------------------------


def test_forwarding_socket_is_owner_only(host: Running) -> None:
    socket_file = Path(host.socket_path)
    assert stat.S_ISSOCK(socket_file.lstat().st_mode)
    assert stat.S_IMODE(socket_file.lstat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(socket_file.parent.stat().st_mode) & 0o077 == 0
    assert socket_file.parent.stat().st_uid == os.getuid()


def test_forwarding_socket_delivers_to_the_forward_handler(host: Running, tmp_path: Path) -> None:
    outbox = ForwardingMailbox(tmp_path / "task", frozenset({10000}), host.socket_path, timeout=TIMEOUT)
    try:
        outbox.put(SESSION, "model", HOST, GUEST, 3, b"payload")
    finally:
        outbox.close()
    assert host.recorder.forwards == [(MessageHeader(SESSION, "model", HOST, GUEST, 3, 7), b"payload")]


def test_federation_methods_are_not_offered_on_the_socket(
    certs: ClusterCerts, host: Running, channels: list[grpc.Channel]
) -> None:
    channel = grpc.insecure_channel(f"unix:{host.socket_path}")
    channels.append(channel)
    error = rpc_error(lambda: raw_command(channel, RAW_BODY, signed(certs)))
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED
    header = MessageHeader(SESSION, "m", GUEST, HOST, 0, 1)
    error = rpc_error(lambda: raw_push(channel, list(chunks(header, b"x"))))
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED
    assert host.recorder.commands == [] and host.recorder.pushes == []


# -- one-frame pushes (messages of at most CHUNK_BYTES) ---------------------------------------------


def push_one(channel: grpc.Channel, raw: bytes) -> Any:
    return channel.unary_unary(PUSH_ONE_METHOD)(raw, timeout=TIMEOUT)


def test_one_frame_push_claiming_another_party(
    certs: ClusterCerts, host: Running, channels: list[grpc.Channel]
) -> None:
    header = MessageHeader(SESSION, "model", Party("guest", 10001), HOST, 0, 3)
    channel = guest_channel(certs, host, channels)
    error = rpc_error(lambda: push_one(channel, frame(header, b"abc")))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert host.recorder.pushes == [] and host.recorder.files() == []


@pytest.mark.parametrize("raw", [b"", b"\x00\x00", b"\x00\x00\xff\xffabc", b"\x00\x00\x00\x03abc"])
def test_one_frame_push_garbage(
    certs: ClusterCerts, host: Running, channels: list[grpc.Channel], raw: bytes
) -> None:
    error = rpc_error(lambda: push_one(guest_channel(certs, host, channels), raw))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert host.recorder.pushes == [] and host.recorder.files() == []


@pytest.mark.parametrize("payload", [b"ab", b"abcd"])
def test_one_frame_push_of_the_wrong_length_leaves_no_file(
    certs: ClusterCerts, host: Running, channels: list[grpc.Channel], payload: bytes
) -> None:
    header = MessageHeader(SESSION, "model", GUEST, HOST, 0, 3)
    rpc_error(lambda: push_one(guest_channel(certs, host, channels), frame(header, payload)))
    assert host.recorder.files() == []


def test_one_frame_push_writes_exactly_the_payload(
    certs: ClusterCerts, host: Running, channels: list[grpc.Channel]
) -> None:
    header = MessageHeader(SESSION, "model", GUEST, HOST, 3, 5)
    push_one(guest_channel(certs, host, channels), frame(header, b"hello"))
    assert host.recorder.mailbox.take(SESSION, "model", GUEST, HOST, 3, timeout=0) == b"hello"
