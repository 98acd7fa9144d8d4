"""Cost of authenticating federation messages: Channel send+recv (sealed, MAC verified) against the same
file mailbox and codec without a MAC, for one 1 MiB ciphertext message and for 10,000 small messages.

    python benchmarks/bench_federation_mac.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fedloom.federation import codec
from fedloom.federation.auth import Tags, seal, session_key, unseal
from fedloom.federation.channel import Channel, Mailbox

G, H = ("guest", 9999), ("host", 10000)
SESSION = "bench.hetero_lr_0.0"
KEY = session_key(os.urandom(32), SESSION)


class PlainChannel:
    """The channel as it was before MACs: codec bytes straight into the mailbox."""

    def __init__(self, box: Mailbox, me: tuple[str, int]) -> None:
        self.box, self.me, self.sent, self.got = box, me, 0, 0

    def send(self, name: str, obj: Any, to: list[tuple[str, int]]) -> None:
        self.box.put(SESSION, name, self.me, to[0], self.sent, codec.dumps(obj))
        self.sent += 1

    def recv(self, name: str, frm: tuple[str, int]) -> Any:
        data = self.box.take(SESSION, name, frm, self.me, self.got, 5.0)
        self.got += 1
        return codec.loads(data)


def _round_trips(make: Callable[[Mailbox], tuple[Any, Any]], obj: Any, count: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        sender, receiver = make(Mailbox(Path(tmp)))
        start = time.perf_counter()
        for _ in range(count):
            sender.send("m", obj, [H])
            receiver.recv("m", G)
        return time.perf_counter() - start


def _plain(box: Mailbox) -> tuple[Any, Any]:
    return PlainChannel(box, G), PlainChannel(box, H)


def _sealed(box: Mailbox) -> tuple[Any, Any]:
    return Channel(box, SESSION, G, 5.0, KEY), Channel(box, SESSION, H, 5.0, KEY)


def _mac_only(payload: bytes, count: int) -> float:
    start = time.perf_counter()
    for seq in range(count):
        tags = Tags(SESSION, "m", G, H, seq)
        unseal(KEY, tags, seal(KEY, tags, payload))
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    big = os.urandom(1 << 20)  # 1 MiB of ciphertext bytes (a PaillierVector on the wire)
    small = {"iter": 7, "loss": 0.693, "converged": False}
    cases = [("1 MiB message", big, 20), ("small message", small, 10_000)]
    for label, obj, count in cases:
        plain = min(_round_trips(_plain, obj, count) for _ in range(args.runs))
        sealed = min(_round_trips(_sealed, obj, count) for _ in range(args.runs))
        mac = min(_mac_only(codec.dumps(obj), count) for _ in range(args.runs))
        print(
            f"{label:14s} x{count:>6}: plain {plain / count * 1e6:9.1f} us  sealed {sealed / count * 1e6:9.1f} us"
            f"  ratio {sealed / plain:5.3f}  (seal+unseal alone {mac / count * 1e6:7.1f} us)"
        )


if __name__ == "__main__":
    main()
