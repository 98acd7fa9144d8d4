"""Cluster-mode federation throughput against raw HTTPS on loopback, measured in the same run.

100 MB of ciphertexts (512-byte Paillier ciphertexts, random bytes) go from a task of party 9999 through
its server (gRPC `Forward` on a Unix socket) to party 10000's server (gRPC `Push`, mutual TLS) into its
mailbox file, and the receiving task reads them back. The baseline is an HTTPS POST of the same bytes,
with the same certificates (mutual TLS), to a stdlib server that writes them to a file. The other rows
split the fedloom path into its hops to show where the time goes.

    python benchmarks/bench_federation.py [--mb 100] [--runs 3]

Goal (tracker): fedloom / raw HTTPS >= 0.5. Both servers, the task and the HTTPS peers run in this one
process (threads sharing the GIL and the machine's cores, where a deployment has three processes);
connections are warmed up before timing, and the paths take turns within each run.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import itertools
import os
import shutil
import socket
import ssl
import statistics
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np

from fedloom.cluster.certs import TlsPaths, init_certs, load_identity, party_dns_name
from fedloom.cluster.transport import FederationServer, Handlers, Links
from fedloom.cluster.wire import CommandVerifier
from fedloom.config import PartyRoute, TlsFiles
from fedloom.errors import InvalidInput
from fedloom.federation.channel import Mailbox, session_name
from fedloom.federation.forward import ForwardingMailbox, MessageHeader, chunks
from fedloom.ids import Party

GUEST, HOST = Party("guest", 9999), Party("host", 10000)
SESSION = session_name("job1", "cpn", 0)
CT_BYTES = 512  # one 2048-bit Paillier ciphertext (mod n^2), fixed width
READ_BYTES = 1 << 20
TIMEOUT = 120.0
GOAL = 0.5
DROP_PUSH = "drop_push"  # B's push handler reads these messages and keeps nothing
DROP_FORWARD = "drop_forward"  # A's forward handler reads these messages and keeps nothing

Lap = tuple[float, float]  # (wall seconds, CPU seconds of this process: every thread, both ends)
Measure = Callable[[bytes, int], Lap]


class Stopwatch:
    """Wall and process CPU time since it was made: on a shared 2-core box the CPU seconds are the
    steadier figure, the wall seconds the one the goal is about."""

    def __init__(self) -> None:
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def lap(self) -> Lap:
        return time.perf_counter() - self._wall, time.process_time() - self._cpu


def ciphertexts(mb: float) -> bytes:
    """`mb` MB of ciphertext-shaped random bytes (N x 512 uint8, as a batch goes on the wire)."""
    count = max(1, int(mb * 1e6) // CT_BYTES)
    batch = np.random.default_rng(7).integers(0, 256, size=(count, CT_BYTES), dtype=np.uint8)
    return batch.tobytes()


# ---- the two fedloom servers --------------------------------------------------------------------


@dataclass
class Federation:
    """Server A (party 9999) with its task's mailbox, server B (party 10000) with its inbox."""

    task: ForwardingMailbox
    links: Links
    inbox: Mailbox
    local: Mailbox  # a mailbox without any network hop, for the disk-only row


def _drain(stream: Iterator[bytes]) -> None:
    collections.deque(stream, maxlen=0)


def _no_command(*_: Any) -> dict[str, Any]:
    return {"retcode": 0}


def _refuse(header: MessageHeader, *_: Any) -> None:
    raise InvalidInput(f"bench: unexpected message {header.name!r}")


def _server(
    tls: TlsPaths, party: int, peer: int, secret: str, handlers: Handlers, sock: Path
) -> FederationServer:
    identity = load_identity(TlsFiles(ca=tls.ca, cert=tls.cert, key=tls.key), [party])
    verifier = CommandVerifier({peer: secret.encode()}, frozenset({party}))
    return FederationServer(identity, verifier, handlers, "127.0.0.1", 0, str(sock))


def start_federation(certs: dict[int, TlsPaths], secret: str, data: Path, stack: ExitStack) -> Federation:
    sockets = Path(tempfile.mkdtemp(prefix="flb-"))  # a Unix socket path must be short
    stack.callback(shutil.rmtree, sockets, True)
    inbox = Mailbox(data / "b")

    def store(header: MessageHeader, _parties: frozenset[int], stream: Iterator[bytes]) -> None:
        if header.name == DROP_PUSH:
            return _drain(stream)
        inbox.put_stream(header.session, header.name, header.src, header.dst, header.seq, stream, header.size)

    server_b = _server(
        certs[10000], 10000, 9999, secret, Handlers(_no_command, store, _refuse), sockets / "b"
    )
    server_b.start()
    stack.callback(server_b.stop, 0.5)
    identity_a = load_identity(
        TlsFiles(ca=certs[9999].ca, cert=certs[9999].cert, key=certs[9999].key), [9999]
    )
    links = Links(identity_a, {10000: PartyRoute(host="127.0.0.1", port=server_b.port, secret=secret)})
    stack.callback(links.close)

    def forward(header: MessageHeader, stream: Iterator[bytes]) -> None:
        if header.name == DROP_FORWARD:
            return _drain(stream)
        links.push(header, stream, timeout=TIMEOUT)

    server_a = _server(
        certs[9999], 9999, 10000, secret, Handlers(_no_command, _refuse, forward), sockets / "a"
    )
    server_a.start()
    stack.callback(server_a.stop, 0.5)
    task = ForwardingMailbox(data / "a", frozenset({9999}), str(sockets / "a"), TIMEOUT)
    stack.callback(task.close)
    return Federation(task, links, inbox, Mailbox(data / "local"))


def timed_fedloom(fed: Federation) -> Measure:
    """Task put (Unix socket, mTLS push, mailbox file) until the receiving task's take returns the bytes."""

    def run(payload: bytes, seq: int) -> Lap:
        watch = Stopwatch()
        fed.task.put(SESSION, "ct", GUEST, HOST, seq, payload)
        got = fed.inbox.take(SESSION, "ct", GUEST, HOST, seq, TIMEOUT)
        elapsed = watch.lap()
        if got != payload:
            raise AssertionError("fedloom delivered other bytes than were sent")
        return elapsed

    return run


def timed_put(fed: Federation) -> Measure:
    """The task's put alone: it returns once B's server has written the mailbox file (as the HTTPS
    baseline answers once its file is written)."""

    def run(payload: bytes, seq: int) -> Lap:
        watch = Stopwatch()
        fed.task.put(SESSION, "ct", GUEST, HOST, seq, payload)
        elapsed = watch.lap()
        fed.inbox.path(SESSION, "ct", GUEST, HOST, seq).unlink()
        return elapsed

    return run


def timed_push(fed: Federation, name: str = "ct") -> Measure:
    """The network hop alone: A's link streams the message to B, which stores it (or drops it)."""

    def run(payload: bytes, seq: int) -> Lap:
        header = MessageHeader(SESSION, name, GUEST, HOST, seq, len(payload))
        watch = Stopwatch()
        fed.links.push(header, itertools.islice(chunks(header, payload), 1, None), timeout=TIMEOUT)
        elapsed = watch.lap()
        if name != DROP_PUSH:
            fed.inbox.path(SESSION, name, GUEST, HOST, seq).unlink()
        return elapsed

    return run


def timed_forward_only(fed: Federation) -> Measure:
    """The Unix-socket hop alone: the task streams to its server, which drops the bytes."""

    def run(payload: bytes, seq: int) -> Lap:
        watch = Stopwatch()
        fed.task.put(SESSION, DROP_FORWARD, GUEST, HOST, seq, payload)
        return watch.lap()

    return run


def timed_disk(fed: Federation) -> Measure:
    """The mailbox alone: put_stream in 1 MiB chunks (temp file, rename) and take."""

    def run(payload: bytes, seq: int) -> Lap:
        header = MessageHeader(SESSION, "ct", GUEST, HOST, seq, len(payload))
        watch = Stopwatch()
        body = itertools.islice(chunks(header, payload), 1, None)
        fed.local.put_stream(SESSION, "ct", GUEST, HOST, seq, body, len(payload))
        fed.local.take(SESSION, "ct", GUEST, HOST, seq, TIMEOUT)
        return watch.lap()

    return run


# ---- the baselines: stdlib HTTPS and a bare TLS socket, same certificates ---------------------------


def server_context(tls: TlsPaths) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tls.cert, tls.key)
    ctx.load_verify_locations(tls.ca)
    ctx.verify_mode = ssl.CERT_REQUIRED  # mutual TLS, as between fedloom servers
    return ctx


def client_context(tls: TlsPaths) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(tls.ca)
    ctx.load_cert_chain(tls.cert, tls.key)
    return ctx


class FileSink(BaseHTTPRequestHandler):
    """POST body → a file in the server's directory (temp file + rename, as the mailbox does)."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        left = int(self.headers["Content-Length"])
        target: Path = self.server.out / "body"  # type: ignore[attr-defined]
        tmp = target.with_suffix(".tmp")
        with tmp.open("wb") as f:
            while left:
                chunk = self.rfile.read(min(left, READ_BYTES))
                if not chunk:
                    raise ConnectionError("client went away mid-body")
                f.write(chunk)
                left -= len(chunk)
        os.replace(tmp, target)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def start_https(tls: TlsPaths, out: Path, stack: ExitStack) -> int:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FileSink)
    httpd.out = out  # type: ignore[attr-defined]
    httpd.socket = server_context(tls).wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    stack.callback(httpd.server_close)
    stack.callback(httpd.shutdown)
    return int(httpd.server_address[1])


def timed_https(port: int, tls: TlsPaths, out: Path, stack: ExitStack) -> Measure:
    """One kept-alive HTTPS connection; POST with Content-Length until the server answers (file written)."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=TIMEOUT, context=client_context(tls))
    stack.callback(conn.close)

    def run(payload: bytes, _seq: int) -> Lap:
        watch = Stopwatch()
        conn.request("POST", "/msg", body=payload, headers={"Content-Type": "application/octet-stream"})
        response = conn.getresponse()
        response.read()
        elapsed = watch.lap()
        if response.status != 200 or (out / "body").stat().st_size != len(payload):
            raise AssertionError(f"HTTPS baseline failed: {response.status}")
        (out / "body").unlink()
        return elapsed

    return run


def _tls_sink(listener: ssl.SSLSocket) -> None:
    """Serve one connection until it closes: [8-byte length][body] read in 1 MiB reads and dropped,
    then a 1-byte acknowledgement."""
    conn, _ = listener.accept()
    buf = memoryview(bytearray(READ_BYTES))
    with conn:
        while (header := _recv_exact(conn, 8)) is not None:
            left = struct.unpack("!Q", header)[0]
            while left:
                got = conn.recv_into(buf, min(left, READ_BYTES))
                if not got:
                    return
                left -= got
            conn.sendall(b"k")


def _recv_exact(conn: ssl.SSLSocket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        more = conn.recv(size - len(data))
        if not more:
            return None
        data += more
    return data


def timed_tls(server: TlsPaths, client: TlsPaths, stack: ExitStack) -> tuple[Measure, str]:
    """A bare TLS socket: sendall of the payload until the peer acknowledges it (no HTTP, no disk)."""
    listener = server_context(server).wrap_socket(socket.create_server(("127.0.0.1", 0)), server_side=True)
    stack.callback(listener.close)
    thread = threading.Thread(target=_tls_sink, args=(listener,), daemon=True)
    thread.start()
    stack.callback(thread.join, 5)
    raw = socket.create_connection(listener.getsockname()[:2])
    sock = client_context(client).wrap_socket(raw, server_hostname=party_dns_name(10000))
    stack.callback(sock.close)  # the sink sees the end of the stream and returns

    def run(payload: bytes, _seq: int) -> Lap:
        watch = Stopwatch()
        sock.sendall(struct.pack("!Q", len(payload)))
        sock.sendall(payload)
        if sock.recv(1) != b"k":
            raise AssertionError("TLS baseline: no acknowledgement")
        return watch.lap()

    cipher = sock.cipher()
    return run, f"{cipher[1]} {cipher[0]}" if cipher else "?"


# ---- the run --------------------------------------------------------------------------------------

FEDLOOM, HTTPS = "fedloom", "https"
LABELS = {
    FEDLOOM: "fedloom: task -> A (unix) -> B (mTLS) -> file -> task",
    "put": "  task put until B's file is written (no read-back)",
    "push": "  hop A -> B: Push (mTLS gRPC) + mailbox write",
    "push_drop": "  hop A -> B: Push (mTLS gRPC), dropped",
    "forward_drop": "  hop task -> A: Forward (unix gRPC), dropped",
    "disk": "  mailbox put_stream + take (disk only)",
    HTTPS: "raw HTTPS POST -> file (baseline)",
    "tls": "raw TLS sendall, dropped",
}


def measures(stack: ExitStack, tmp: Path) -> tuple[dict[str, Measure], str]:
    out = init_certs(tmp / "certs", [9999, 10000])
    secret = out.pair_secrets[frozenset({9999, 10000})]
    fed = start_federation(out.parties, secret, tmp, stack)
    sink = tmp / "https"
    sink.mkdir()
    https_port = start_https(out.parties[10000], sink, stack)
    tls, cipher = timed_tls(out.parties[10000], out.parties[9999], stack)
    paths = {
        FEDLOOM: timed_fedloom(fed),
        "put": timed_put(fed),
        "push": timed_push(fed),
        "push_drop": timed_push(fed, DROP_PUSH),
        "forward_drop": timed_forward_only(fed),
        "disk": timed_disk(fed),
        HTTPS: timed_https(https_port, out.parties[9999], sink, stack),
        "tls": tls,
    }
    return paths, cipher


def run_all(paths: dict[str, Measure], payload: bytes, runs: int) -> dict[str, Lap]:
    """Median wall and CPU seconds per path; one small message through each path first (connections)."""
    for measure in paths.values():
        measure(payload[:CT_BYTES], 0)
    laps: dict[str, list[Lap]] = {key: [] for key in paths}
    for run in range(runs):  # paths take turns, so background load falls on all of them alike
        for key, measure in paths.items():
            laps[key].append(measure(payload, run + 1))
    return {
        key: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
        for key, values in laps.items()
    }


def report(laps: dict[str, Lap], size: int, runs: int, cipher: str) -> dict[str, float]:
    """Print the table and the goal line; the MB/s (wall) of each path."""
    mb = size / 1e6
    rates = {key: mb / wall for key, (wall, _) in laps.items()}
    print(f"{mb:.1f} MB of {CT_BYTES}-byte ciphertexts, median of {runs} run(s); loopback, one process")
    print(f"{'path':54s} {'wall s':>7s} {'MB/s':>7s} {'vs HTTPS':>8s} {'CPU s':>7s} {'vs HTTPS':>8s}")
    base_cpu = laps[HTTPS][1]
    for key, label in LABELS.items():
        wall, cpu = laps[key]
        print(
            f"{label:54s} {wall:7.3f} {rates[key]:7.1f} {rates[key] / rates[HTTPS]:8.2f}"
            f" {cpu:7.3f} {base_cpu / cpu:8.2f}"
        )
    ratio = rates[FEDLOOM] / rates[HTTPS]
    print("vs HTTPS: the baseline's seconds / the path's (above 1: faster, or cheaper in CPU); CPU s: all")
    print(f"threads of this process, both ends. stdlib TLS negotiated {cipher}; gRPC has its own BoringSSL.")
    print(f"goal: fedloom/raw HTTPS >= {GOAL}: {ratio:.2f} -> {'met' if ratio >= GOAL else 'NOT met'}")
    return rates


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark and print its table; the MB/s of each path, keyed as in LABELS."""
    ap = argparse.ArgumentParser(description="Cluster-mode federation throughput against raw HTTPS.")
    ap.add_argument("--mb", type=float, default=100.0, help="payload size in MB (10^6 bytes)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per path; the median is reported")
    args = ap.parse_args(argv)
    payload = ciphertexts(args.mb)
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="fedloom-bench-"))
        stack.callback(shutil.rmtree, tmp, True)
        paths, cipher = measures(stack, tmp)
        laps = run_all(paths, payload, max(1, args.runs))
    return report(laps, len(payload), max(1, args.runs), cipher)


if __name__ == "__main__":
    main()
