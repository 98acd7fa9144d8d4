"""Signed party-to-party commands: what `CommandVerifier.check` accepts and why it refuses the rest."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from fedloom.cluster import wire
from fedloom.errors import AuthenticationFailed
from fedloom.signing import MAX_NONCE_CHARS, WINDOW_SECONDS

KEY = b"a" * 64  # the key 9999 and 10000 share
OTHER_KEY = b"b" * 64  # the key 10001 and 10000 share
PATH = "/v1/party/job-1/guest/9999/create"
BODY = b'{"dsl":{"components":{}}}'
NOW = 1_700_000_000.0
GUEST = frozenset({9999})


def verifier(clock: float = NOW) -> wire.CommandVerifier:
    return wire.CommandVerifier({9999: KEY, 10001: OTHER_KEY}, frozenset({10000}), clock=lambda: clock)


def fields(
    key: bytes = KEY,
    path: str = PATH,
    body: bytes = BODY,
    src: int = 9999,
    dst: int = 10000,
    command_id: str = "create:1",
    now: float = NOW,
) -> dict[str, str]:
    return dict(wire.metadata(key, path, body, src, dst, command_id, now=now))


def refused(
    check: wire.CommandVerifier, meta: dict[str, str], body: bytes = BODY, peer: frozenset[int] = GUEST
) -> str:
    with pytest.raises(AuthenticationFailed) as info:
        check.check(meta, body, peer)
    assert info.value.retcode == 109
    return info.value.message


def test_metadata_carries_every_field_in_lower_case() -> None:
    meta = wire.metadata(KEY, PATH, BODY, 9999, 10000, "create:1", now=NOW)
    assert tuple(name for name, _ in meta) == wire.FIELDS
    assert all(name == name.lower() for name in wire.FIELDS)
    values = dict(meta)
    assert values[wire.TIMESTAMP] == str(int(NOW * 1000))
    assert (values[wire.SRC], values[wire.DST], values[wire.COMMAND_ID]) == ("9999", "10000", "create:1")


def test_fresh_nonce_per_call() -> None:
    assert fields()[wire.NONCE] != fields()[wire.NONCE]


def test_signature_is_hmac_sha256_over_the_documented_message() -> None:
    meta = fields()
    message = "\n".join(
        [
            "fedloom-command-v1",
            "POST",
            PATH,
            hashlib.sha256(BODY).hexdigest(),
            meta[wire.TIMESTAMP],
            meta[wire.NONCE],
            "9999",
            "10000",
            "create:1",
        ]
    ).encode()
    assert meta[wire.SIGNATURE] == hmac.new(KEY, message, hashlib.sha256).hexdigest()


def test_valid_command_passes() -> None:
    meta = fields()
    env = verifier().check(meta, BODY, GUEST)
    assert env == wire.Envelope(
        path=PATH,
        timestamp=meta[wire.TIMESTAMP],
        nonce=meta[wire.NONCE],
        src=9999,
        dst=10000,
        command_id="create:1",
    )


def test_each_partner_signs_with_its_own_key() -> None:
    env = verifier().check(fields(key=OTHER_KEY, src=10001), BODY, frozenset({10001}))
    assert env.src == 10001
    message = refused(verifier(), fields(key=KEY, src=10001), peer=frozenset({10001}))
    assert "bad signature" in message


def test_certificate_naming_several_parties_may_sign_for_either() -> None:
    both = frozenset({9999, 10001})
    assert verifier().check(fields(), BODY, both).src == 9999
    assert verifier().check(fields(key=OTHER_KEY, src=10001), BODY, both).src == 10001


@pytest.mark.parametrize("name", wire.FIELDS)
def test_missing_metadata_field(name: str) -> None:
    meta = fields()
    del meta[name]
    assert refused(verifier(), meta) == f"command refused: metadata {name} missing"


@pytest.mark.parametrize("name", wire.FIELDS)
def test_empty_metadata_field_counts_as_missing(name: str) -> None:
    meta = {**fields(), name: ""}
    assert refused(verifier(), meta) == f"command refused: metadata {name} missing"


def test_no_metadata_names_every_field() -> None:
    message = refused(verifier(), {})
    assert all(name in message for name in wire.FIELDS)


def test_src_not_in_the_certificate() -> None:
    message = refused(verifier(), fields(), peer=frozenset({10001}))
    assert message == (
        "command refused: claims to come from party 9999 but the TLS certificate is for [10001]"
    )


def test_certificate_without_parties() -> None:
    assert "the TLS certificate is for []" in refused(verifier(), fields(), peer=frozenset())


def test_dst_not_served() -> None:
    assert refused(verifier(), fields(dst=10001)) == "command refused: party 10001 is not served here"


def test_unknown_partner_has_no_key() -> None:
    message = refused(verifier(), fields(src=10002), peer=frozenset({10002}))
    assert message == "command refused: no route (and no key) for party 10002"


def test_tampered_body() -> None:
    message = refused(verifier(), fields(), body=b'{"dsl":{"components":{"x":{}}}}')
    assert message == "command refused: bad signature (tampered, or a wrong partner key)"


@pytest.mark.parametrize(
    ("name", "value"),
    [(wire.PATH, "/v1/party/job-1/guest/9999/stop"), (wire.COMMAND_ID, "create:2")],
)
def test_tampered_signed_field(name: str, value: str) -> None:
    meta = {**fields(), name: value}
    assert "bad signature" in refused(verifier(), meta)


def test_tampered_timestamp_within_window() -> None:
    meta = fields()
    meta[wire.TIMESTAMP] = str(int(meta[wire.TIMESTAMP]) + 1)
    assert "bad signature" in refused(verifier(), meta)


def test_tampered_nonce() -> None:
    meta = {**fields(), wire.NONCE: "0" * 32}
    assert "bad signature" in refused(verifier(), meta)


def test_tampered_signature() -> None:
    meta = fields()
    sig = meta[wire.SIGNATURE]
    meta[wire.SIGNATURE] = ("0" if sig[0] != "0" else "1") + sig[1:]
    assert "bad signature" in refused(verifier(), meta)


def test_signature_in_upper_case_is_refused() -> None:
    meta = fields()
    meta[wire.SIGNATURE] = meta[wire.SIGNATURE].upper()
    assert "bad signature" in refused(verifier(), meta)


def test_wrong_key() -> None:
    assert "bad signature" in refused(verifier(), fields(key=b"c" * 64))


def test_empty_key_does_not_verify() -> None:
    """`Links` signs with b"" when its route has no secret: such a command must not pass."""
    assert "bad signature" in refused(verifier(), fields(key=b""))


@pytest.mark.parametrize("offset", [-(WINDOW_SECONDS + 1), WINDOW_SECONDS + 1, -3600, 3600])
def test_timestamp_outside_the_window(offset: float) -> None:
    meta = fields(now=NOW + offset)
    message = refused(verifier(clock=NOW), meta)
    assert message.startswith(f"command refused: timestamp more than {WINDOW_SECONDS} s away")


@pytest.mark.parametrize("offset", [-(WINDOW_SECONDS - 1), WINDOW_SECONDS - 1, 0])
def test_timestamp_inside_the_window(offset: float) -> None:
    assert verifier(clock=NOW).check(fields(now=NOW + offset), BODY, GUEST).src == 9999


def test_replayed_nonce() -> None:
    check = verifier()
    meta = fields()
    check.check(meta, BODY, GUEST)
    assert refused(check, meta) == "NONCE was already used: a replayed request is refused"


def test_replay_later_in_the_window_is_refused() -> None:
    """The nonce is remembered for as long as its timestamp stays acceptable."""
    now = [NOW]
    check = wire.CommandVerifier({9999: KEY}, frozenset({10000}), clock=lambda: now[0])
    meta = fields(now=NOW + WINDOW_SECONDS - 1)  # a sender clock ahead of ours
    check.check(meta, BODY, GUEST)
    now[0] = NOW + 2 * WINDOW_SECONDS - 2  # the timestamp is still within the window
    assert "already used" in refused(check, meta)


def test_refused_command_does_not_use_up_its_nonce() -> None:
    """A forgery carrying a genuine command's nonce must not make the genuine one fail."""
    check = verifier()
    genuine = fields()
    forged = {**genuine, wire.SIGNATURE: "0" * 64}
    assert "bad signature" in refused(check, forged)
    assert check.check(genuine, BODY, GUEST).nonce == genuine[wire.NONCE]


@pytest.mark.parametrize("value", ["abc", "17e11", "-1700000000000", "1.5", "１７００", " 1700000000000"])
def test_timestamp_not_milliseconds(value: str) -> None:
    meta = {**fields(), wire.TIMESTAMP: value}
    assert refused(verifier(), meta) == "command refused: timestamp must be Unix time in milliseconds"


def test_timestamp_too_long() -> None:
    meta = {**fields(), wire.TIMESTAMP: "1" * 17}
    assert "timestamp must be Unix time in milliseconds" in refused(verifier(), meta)


@pytest.mark.parametrize("value", ["n" * (MAX_NONCE_CHARS + 1), "bad\nnonce", "nonce\u00e9"])
def test_bad_nonce(value: str) -> None:
    meta = {**fields(), wire.NONCE: value}
    assert refused(verifier(), meta) == (
        f"command refused: nonce must be <= {MAX_NONCE_CHARS} printable characters"
    )


@pytest.mark.parametrize(
    "path", ["/v2/party/x", "/internal/x", "v1/party/x", "/v1", "/v1/" + "x" * wire.MAX_PATH_CHARS]
)
def test_path_not_a_v1_path(path: str) -> None:
    """Refused even when correctly signed: the verifier, not the signer, decides what may be called."""
    assert refused(verifier(), fields(path=path)) == "command refused: path must be a /v1/ path"


@pytest.mark.parametrize("command_id", ["c" * (wire.MAX_COMMAND_ID_CHARS + 1), "a\tb", "id\u00e9"])
def test_bad_command_id(command_id: str) -> None:
    assert refused(verifier(), fields(command_id=command_id)) == "command refused: bad command id"


@pytest.mark.parametrize("name", [wire.SRC, wire.DST])
def test_party_id_not_an_integer(name: str) -> None:
    meta = {**fields(), name: "guest"}
    assert refused(verifier(), meta) == "command refused: party ids must be integers"


def test_real_clock_default() -> None:
    check = wire.CommandVerifier({9999: KEY}, frozenset({10000}))
    meta = dict(wire.metadata(KEY, PATH, BODY, 9999, 10000, "c"))
    assert check.check(meta, BODY, GUEST).command_id == "c"
    stale = dict(wire.metadata(KEY, PATH, BODY, 9999, 10000, "c", now=time.time() - 2 * WINDOW_SECONDS))
    assert "timestamp more than" in refused(check, stale)
