"""Channels: tagged messages, exactly-once delivery per sequence, time-outs that name the peer."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from fedloom.errors import FederationTimeout, InvalidInput
from fedloom.federation.auth import Tags, seal
from fedloom.federation.channel import Channel, Mailbox

G, H = ("guest", 9999), ("host", 10000)
KEY = bytes(range(32))


def _pair(tmp_path: Path, timeout: float = 5.0) -> tuple[Channel, Channel]:
    box = Mailbox(tmp_path)
    return Channel(box, "job.cpn.0", G, timeout, KEY), Channel(box, "job.cpn.0", H, timeout, KEY)


def test_messages_arrive_in_order_once(tmp_path: Path) -> None:
    g, h = _pair(tmp_path)
    for i in range(5):
        g.send("loss", {"iter": i}, [H])
    assert [h.recv("loss", G)["iter"] for _ in range(5)] == list(range(5))


def test_a_resent_message_is_delivered_once(tmp_path: Path) -> None:
    box = Mailbox(tmp_path)
    message = seal(KEY, Tags("s", "w", G, H, 0), b"\xa1a")
    box.put("s", "w", G, H, 0, message)
    box.put("s", "w", G, H, 0, message)  # a retry of the same message
    h = Channel(box, "s", H, 0.2, KEY)
    assert h.recv("w", G) == "a"
    with pytest.raises(FederationTimeout):
        h.recv("w", G)


def test_recv_waits_for_a_late_sender(tmp_path: Path) -> None:
    g, h = _pair(tmp_path)
    timer = threading.Timer(0.1, lambda: g.send("key", b"pk", [H]))
    timer.start()
    assert h.recv("key", G) == b"pk"
    timer.join()


def test_timeout_names_peer_and_message(tmp_path: Path) -> None:
    _, h = _pair(tmp_path, timeout=0.05)
    with pytest.raises(FederationTimeout, match=r"'gradient'.*guest 9999"):
        h.recv("gradient", G)


def test_tags_cannot_escape_the_mailbox(tmp_path: Path) -> None:
    g, _ = _pair(tmp_path)
    with pytest.raises(InvalidInput):
        g.send("../../etc", 1, [H])
