"""Development certificates: what init_certs writes, what load_identity refuses, and a real mTLS handshake."""

from __future__ import annotations

import contextlib
import ipaddress
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fedloom.cluster.certs import (
    CA_COMMON_NAME,
    ClusterCerts,
    Identity,
    Issued,
    TlsPaths,
    config_snippet,
    init_certs,
    issue_certificate,
    load_identity,
    new_ca,
    parties_of_certificate,
    party_dns_name,
)
from fedloom.config import TlsFiles, load_settings
from fedloom.errors import InvalidInput

PARTIES = (9999, 10000, 10001)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> ClusterCerts:
    return init_certs(
        tmp_path_factory.mktemp("cluster") / "certs", PARTIES, hosts=["node1.example", "10.1.2.3"]
    )


@pytest.fixture(scope="module")
def other_cluster(tmp_path_factory: pytest.TempPathFactory) -> ClusterCerts:
    return init_certs(tmp_path_factory.mktemp("other") / "certs", PARTIES)


def tls_files(paths: TlsPaths, **replaced: Path) -> TlsFiles:
    return TlsFiles(**{"ca": paths.ca, "cert": paths.cert, "key": paths.key, **replaced})


def read_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def ca_of(certs: ClusterCerts) -> Issued:
    key = serialization.load_pem_private_key((certs.out / "ca.key").read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key, read_cert(certs.ca)


def write_issued(directory: Path, issued: Issued) -> tuple[Path, Path]:
    """Write a key and certificate made in a test; returns (cert, key) paths."""
    key, cert = issued
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- init_certs ----------------------------------------------------------------------------------------


def test_init_certs_writes_private_files(cluster: ClusterCerts) -> None:
    out = cluster.out
    assert cluster.ca == out / "ca.pem"
    assert mode(out) == 0o700
    assert mode(out / "ca.key") == 0o600
    assert set(cluster.parties) == set(PARTIES)
    for party, paths in cluster.parties.items():
        assert paths == TlsPaths(
            ca=out / "ca.pem", cert=out / str(party) / "cert.pem", key=out / str(party) / "key.pem"
        )
        assert mode(paths.cert.parent) == 0o700
        assert mode(paths.key) == 0o600
        assert paths.key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS8, unencrypted
    assert not list(out.rglob("*.tmp"))


def test_ca_certificate_fields(cluster: ClusterCerts) -> None:
    ca = read_cert(cluster.ca)
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == CA_COMMON_NAME
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    assert ca.not_valid_after_utc - ca.not_valid_before_utc >= timedelta(days=3650)
    assert isinstance(ca.public_key(), ec.EllipticCurvePublicKey)
    assert isinstance(ca.public_key().curve, ec.SECP256R1)


def test_party_certificate_fields(cluster: ClusterCerts) -> None:
    cert = read_cert(cluster.parties[10000].cert)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "party-10000"
    assert cert.issuer == read_cert(cluster.ca).subject
    assert cert.signature_hash_algorithm is not None and cert.signature_hash_algorithm.name == "sha256"
    alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert alt.get_values_for_type(x509.DNSName) == ["party-10000.fedloom", "localhost", "node1.example"]
    assert alt.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("10.1.2.3"),
    ]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment and not usage.key_cert_sign
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.SERVER_AUTH,
        ExtendedKeyUsageOID.CLIENT_AUTH,
    ]
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert lifetime == timedelta(days=825, minutes=5)


def test_pair_secrets_one_per_unordered_pair(cluster: ClusterCerts) -> None:
    pairs = {frozenset(p) for p in [(9999, 10000), (9999, 10001), (10000, 10001)]}
    assert set(cluster.pair_secrets) == pairs
    assert len(set(cluster.pair_secrets.values())) == 3
    assert all(len(bytes.fromhex(s)) == 32 for s in cluster.pair_secrets.values())
    assert "pair_secrets" not in repr(cluster)


def test_refuses_to_replace_a_ca(cluster: ClusterCerts) -> None:
    before = (cluster.out / "ca.key").read_bytes()
    with pytest.raises(InvalidInput, match="ca.key already exists"):
        init_certs(cluster.out, [9999])
    assert (cluster.out / "ca.key").read_bytes() == before


@pytest.mark.parametrize(
    ("parties", "message"),
    [
        ([], "at least one party"),
        ([9999, 0], "0 is not a party id"),
        ([-3], "-3 is not a party id"),
        ([True], "True is not a party id"),
        ([9999, 10000, 9999], "party 9999 is listed more than once"),
    ],
)
def test_refuses_bad_party_ids(tmp_path: Path, parties: list[int], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        init_certs(tmp_path / "certs", parties)
    assert not (tmp_path / "certs").exists()  # nothing written


@pytest.mark.parametrize("host", ["", "bad host", "party-10002.fedloom", "-x.example"])
def test_refuses_bad_hosts(tmp_path: Path, host: str) -> None:
    with pytest.raises(InvalidInput, match="hosts: "):
        init_certs(tmp_path / "certs", [9999], hosts=[host])


@pytest.mark.parametrize("days", [0, 3651])
def test_refuses_days_out_of_range(tmp_path: Path, days: int) -> None:
    with pytest.raises(InvalidInput, match="days: "):
        init_certs(tmp_path / "certs", [9999], days=days)


# -- parties_of_certificate ----------------------------------------------------------------------------


def test_parties_of_certificate(cluster: ClusterCerts) -> None:
    assert parties_of_certificate(cluster.parties[10001].cert.read_bytes()) == {10001}
    assert parties_of_certificate(cluster.ca.read_bytes()) == frozenset()  # no SAN at all
    assert party_dns_name(9999) == "party-9999.fedloom"


def test_parties_of_certificate_names_several_and_ignores_others(cluster: ClusterCerts) -> None:
    _, cert = issue_certificate(ca_of(cluster), [9999, 10000], hosts=["party-x.example", "fedloom"])
    pem = cert.public_bytes(serialization.Encoding.PEM)
    assert parties_of_certificate(pem) == {9999, 10000}
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "party-9999"


def test_parties_of_certificate_refuses_bad_pem() -> None:
    with pytest.raises(InvalidInput, match="not a PEM certificate"):
        parties_of_certificate(b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")


# -- load_identity -------------------------------------------------------------------------------------


def test_load_identity(cluster: ClusterCerts) -> None:
    paths = cluster.parties[9999]
    identity = load_identity(tls_files(paths), [9999])
    assert identity == Identity(
        ca=paths.ca.read_bytes(),
        cert=paths.cert.read_bytes(),
        key=paths.key.read_bytes(),
        parties=frozenset({9999}),
    )
    assert "PRIVATE KEY" not in repr(identity)


def test_load_identity_refuses_missing_file(cluster: ClusterCerts, tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(InvalidInput, match=r"^tls.cert: cannot read .*nope.pem: No such file"):
        load_identity(tls_files(cluster.parties[9999], cert=missing), [9999])


def test_load_identity_refuses_wrong_key(cluster: ClusterCerts) -> None:
    other_key = cluster.parties[10000].key
    with pytest.raises(InvalidInput, match="tls.key: .* is not the key of the certificate") as info:
        load_identity(tls_files(cluster.parties[9999], key=other_key), [9999])
    assert "PRIVATE" not in str(info.value)


def test_load_identity_refuses_garbage_key(cluster: ClusterCerts, tmp_path: Path) -> None:
    garbage = tmp_path / "key.pem"
    garbage.write_bytes(b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n")
    with pytest.raises(InvalidInput, match="tls.key: .* is not a PEM private key") as info:
        load_identity(tls_files(cluster.parties[9999], key=garbage), [9999])
    assert "c2VjcmV0" not in str(info.value)


def test_load_identity_refuses_certificate_of_another_ca(
    cluster: ClusterCerts, other_cluster: ClusterCerts
) -> None:
    foreign = other_cluster.parties[9999]
    with pytest.raises(InvalidInput, match="tls.cert: .* is not signed by the CA in tls.ca"):
        load_identity(tls_files(cluster.parties[9999], cert=foreign.cert, key=foreign.key), [9999])


def test_load_identity_refuses_a_ca_that_is_no_ca(cluster: ClusterCerts) -> None:
    leaf = cluster.parties[10000].cert
    with pytest.raises(InvalidInput, match="tls.ca: .* is not a CA certificate"):
        load_identity(tls_files(cluster.parties[9999], ca=leaf), [9999])


def test_load_identity_refuses_party_mismatch(cluster: ClusterCerts) -> None:
    expected = r"tls.cert: the certificate is for parties \[9999\] but party_ids is \[9999, 10000\]"
    with pytest.raises(InvalidInput, match=expected):
        load_identity(tls_files(cluster.parties[9999]), [9999, 10000])


def test_load_identity_accepts_a_certificate_for_several_parties(
    cluster: ClusterCerts, tmp_path: Path
) -> None:
    cert, key = write_issued(tmp_path, issue_certificate(ca_of(cluster), [9999, 10000]))
    identity = load_identity(tls_files(cluster.parties[9999], cert=cert, key=key), [10000, 9999])
    assert identity.parties == {9999, 10000}


def test_load_identity_refuses_expired_certificate(cluster: ClusterCerts, tmp_path: Path) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=30)
    cert, key = write_issued(tmp_path, issue_certificate(ca_of(cluster), [9999], days=1, now=long_ago))
    with pytest.raises(InvalidInput, match="tls.cert: the certificate .* expired on"):
        load_identity(tls_files(cluster.parties[9999], cert=cert, key=key), [9999])


def test_load_identity_refuses_certificate_not_yet_valid(cluster: ClusterCerts, tmp_path: Path) -> None:
    later = datetime.now(UTC) + timedelta(days=2)
    cert, key = write_issued(tmp_path, issue_certificate(ca_of(cluster), [9999], now=later))
    with pytest.raises(InvalidInput, match="tls.cert: the certificate .* is not valid before"):
        load_identity(tls_files(cluster.parties[9999], cert=cert, key=key), [9999])


def test_load_identity_refuses_expired_ca(tmp_path: Path) -> None:
    ca = new_ca(now=datetime.now(UTC) - timedelta(days=3660))
    ca_path = tmp_path / "ca.pem"
    ca_path.write_bytes(ca[1].public_bytes(serialization.Encoding.PEM))
    cert, key = write_issued(tmp_path, issue_certificate(ca, [9999], days=1, now=datetime.now(UTC)))
    with pytest.raises(InvalidInput, match="tls.ca: the CA certificate .* expired on"):
        load_identity(TlsFiles(ca=ca_path, cert=cert, key=key), [9999])


# -- config_snippet ------------------------------------------------------------------------------------


def test_config_snippet_loads_as_settings(cluster: ClusterCerts, tmp_path: Path) -> None:
    ports = {9999: 9360, 10000: 9361, 10001: 9362}
    text = config_snippet(
        cluster,
        10000,
        api_port=9381,
        federation_ports=ports,
        data_dir=str(tmp_path / "data"),
        app_key="k1",
        app_secret="s1",
    )
    assert (
        text.startswith("# ")
        and "party 10000" in text.splitlines()[0]
        and "chmod 600" in text.splitlines()[0]
    )
    path = tmp_path / "server.yaml"
    path.write_text(text)
    settings = load_settings(path)
    assert settings.party_ids == [10000]
    assert (settings.host, settings.port, settings.federation_port) == ("127.0.0.1", 9381, 9361)
    assert settings.data_dir == tmp_path / "data"
    assert settings.tls == tls_files(cluster.parties[10000])
    assert settings.tls.cert.is_absolute()
    assert {pid: (r.host, r.port) for pid, r in settings.routes.items()} == {
        9999: ("127.0.0.1", 9360),
        10001: ("127.0.0.1", 9362),
    }
    for pid, route in settings.routes.items():
        assert route.secret is not None
        assert route.secret.get_secret_value() == cluster.pair_secrets[frozenset((10000, pid))]
    assert settings.client_auth.enabled is True
    assert settings.client_apps == {"k1": "s1"}
    assert load_identity(settings.tls, settings.party_ids).parties == {10000}


def test_config_snippet_refuses_unknown_party_and_missing_port(cluster: ClusterCerts) -> None:
    common = {"api_port": 1, "data_dir": "d", "app_key": "k", "app_secret": "s"}
    with pytest.raises(InvalidInput, match="party 4: no certificate"):
        config_snippet(cluster, 4, federation_ports={9999: 1, 10000: 2, 10001: 3}, **common)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"no port for parties \[10001\]"):
        config_snippet(cluster, 9999, federation_ports={9999: 1, 10000: 2}, **common)  # type: ignore[arg-type]


# -- a real mutual-TLS handshake -----------------------------------------------------------------------

SERVICE = "fedloom.test.Echo"


@contextlib.contextmanager
def grpc_server(identity: Identity) -> Iterator[tuple[int, list[frozenset[int]]]]:
    """A server that answers with the request and records which parties each caller's certificate names."""
    callers: list[frozenset[int]] = []

    def who(request: bytes, context: grpc.ServicerContext) -> bytes:
        callers.append(parties_of_certificate(context.auth_context()["x509_pem_cert"][0]))
        return request

    handler = grpc.method_handlers_generic_handler(SERVICE, {"Who": grpc.unary_unary_rpc_method_handler(who)})
    creds = grpc.ssl_server_credentials(
        [(identity.key, identity.cert)], root_certificates=identity.ca, require_client_auth=True
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        server = grpc.server(pool, handlers=[handler])
        port = server.add_secure_port("127.0.0.1:0", creds)
        server.start()
        try:
            yield port, callers
        finally:
            server.stop(grace=None).wait()


def call(port: int, identity: Identity, server_party: int) -> bytes:
    creds = grpc.ssl_channel_credentials(identity.ca, identity.key, identity.cert)
    options = [("grpc.ssl_target_name_override", party_dns_name(server_party))]
    with grpc.secure_channel(f"127.0.0.1:{port}", creds, options=options) as channel:
        answer: bytes = channel.unary_unary(f"/{SERVICE}/Who")(b"ping", timeout=10)
        return answer


def identity_of(certs: ClusterCerts, party: int) -> Identity:
    return load_identity(tls_files(certs.parties[party]), [party])


def test_mutual_tls_handshake(cluster: ClusterCerts) -> None:
    with grpc_server(identity_of(cluster, 9999)) as (port, callers):
        assert call(port, identity_of(cluster, 10000), server_party=9999) == b"ping"
        assert call(port, identity_of(cluster, 10001), server_party=9999) == b"ping"
    assert callers == [{10000}, {10001}]


def test_client_of_another_ca_is_refused(cluster: ClusterCerts, other_cluster: ClusterCerts) -> None:
    foreign = identity_of(other_cluster, 10000)
    stranger = Identity(
        ca=cluster.ca.read_bytes(), cert=foreign.cert, key=foreign.key, parties=foreign.parties
    )
    with grpc_server(identity_of(cluster, 9999)) as (port, callers):
        with pytest.raises(grpc.RpcError):
            call(port, stranger, server_party=9999)
    assert callers == []


def test_client_expecting_another_party_refuses_the_server(cluster: ClusterCerts) -> None:
    with grpc_server(identity_of(cluster, 9999)) as (port, callers):
        with pytest.raises(grpc.RpcError):
            call(port, identity_of(cluster, 10000), server_party=10001)
    assert callers == []
