"""Development certificates for cluster mode (a CA, one certificate per party) and a party's TLS identity.

A party certificate names its parties as SubjectAlternativeName DNS names `party-<id>.fedloom`: a peer
learns which parties it talks to from the certificate the CA signed, never from what the peer says.
The CA made here is a development CA: its key signs certificates for any party, so it stays off the
servers.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any, TypeVar

import yaml
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fedloom.config import TlsFiles
from fedloom.errors import InvalidInput

SAN_SUFFIX = ".fedloom"
CA_COMMON_NAME = "fedloom development CA"
CA_DAYS = 3650
DEFAULT_DAYS = 825
CLOCK_SKEW = timedelta(minutes=5)  # notBefore slack: a peer whose clock runs a little behind accepts us
CA_KEY_FILE = "ca.key"
CA_CERT_FILE = "ca.pem"
CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"

_PARTY_NAME = re.compile(r"party-([1-9][0-9]*)" + re.escape(SAN_SUFFIX), re.ASCII)
_DNS_NAME = re.compile(
    r"(\*\.)?[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*"
)

Issued = tuple[ec.EllipticCurvePrivateKey, x509.Certificate]
_Ext = TypeVar("_Ext", bound=x509.ExtensionType)


@dataclass(frozen=True)
class TlsPaths:
    """One party's PEM files: the cluster CA, the party's certificate and its key."""

    ca: Path
    cert: Path
    key: Path


@dataclass(frozen=True)
class ClusterCerts:
    """What `init_certs` wrote (absolute paths), and the command key of each pair of parties."""

    out: Path
    ca: Path
    parties: dict[int, TlsPaths]
    pair_secrets: dict[frozenset[int], str] = field(repr=False)


@dataclass(frozen=True)
class Identity:
    """A party's checked federation identity: the PEM bytes grpc takes, and the parties it names."""

    ca: bytes
    cert: bytes
    key: bytes = field(repr=False)
    parties: frozenset[int]


def party_dns_name(party_id: int) -> str:
    """The SubjectAlternativeName DNS name that makes a certificate one of `party_id`'s."""
    return f"party-{party_id}{SAN_SUFFIX}"


# -- issuing -------------------------------------------------------------------------------------------


def new_ca(*, now: datetime | None = None) -> Issued:
    """A new development CA key and self-signed certificate, valid for CA_DAYS from `now`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME)])
    cert = (
        _builder(name, name, key.public_key(), now, CA_DAYS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue_certificate(
    ca: Issued,
    parties: Sequence[int],
    *,
    hosts: Sequence[str] = (),
    days: int = DEFAULT_DAYS,
    now: datetime | None = None,
) -> Issued:
    """A new key and a certificate signed by `ca` for `parties` (TLS server and client), valid `days`."""
    ca_key, ca_cert = ca
    ids = _checked_parties(parties)
    _check_days(days)
    alt_names = _alt_names(ids, hosts)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"party-{ids[0]}")])
    usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    cert = (
        _builder(subject, ca_cert.subject, key.public_key(), now, days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, key_encipherment=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(alt_names, critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: CertificatePublicKeyTypes,
    now: datetime | None,
    days: int,
) -> x509.CertificateBuilder:
    start = now or datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - CLOCK_SKEW)
        .not_valid_after(start + timedelta(days=days))
    )


def _key_usage(**granted: bool) -> x509.KeyUsage:
    flags = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    return x509.KeyUsage(**{**flags, **granted})


def _alt_names(parties: Sequence[int], hosts: Sequence[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = [x509.DNSName(party_dns_name(p)) for p in parties]
    for host in ("localhost", "127.0.0.1", *hosts):
        name = _host_name(host)
        if name not in names:
            names.append(name)
    return x509.SubjectAlternativeName(names)


def _host_name(host: str) -> x509.GeneralName:
    """An IP literal as IPAddress, anything else as a checked DNSName."""
    try:
        return x509.IPAddress(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    name = host.strip().lower().rstrip(".")
    if not name.isascii() or not _DNS_NAME.fullmatch(name):
        raise InvalidInput(f"hosts: {host!r} is not a host name or an IP address")
    if name.endswith(SAN_SUFFIX):  # party names come from the parties list only
        raise InvalidInput(f"hosts: {host!r} ends in {SAN_SUFFIX}, which names parties; list it in parties")
    return x509.DNSName(name)


def _checked_parties(parties: Sequence[int]) -> list[int]:
    ids = list(parties)
    if not ids:
        raise InvalidInput("parties: give at least one party id")
    seen: set[int] = set()
    for pid in ids:
        if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
            raise InvalidInput(f"parties: {pid!r} is not a party id (a positive integer)")
        if pid in seen:
            raise InvalidInput(f"parties: party {pid} is listed more than once")
        seen.add(pid)
    return ids


def _check_days(days: int) -> None:
    if not 1 <= days <= CA_DAYS:
        raise InvalidInput(f"days: {days} is out of range (1 to {CA_DAYS}, the CA's own lifetime)")


# -- writing -------------------------------------------------------------------------------------------


def init_certs(
    out: Path, parties: Sequence[int], hosts: Sequence[str] = (), days: int = DEFAULT_DAYS
) -> ClusterCerts:
    """Make a CA in `out` and a certificate and key per party in `out/<party>/`, and a command key per pair.

    Refuses to replace an existing CA. Every certificate is made before anything is written, so a bad
    argument writes nothing; the CA key is written last, so a run that failed midway can be run again.
    The pair secrets are returned only (the caller puts them in the parties' configs)."""
    out = out.expanduser().absolute()
    ca_key_path = out / CA_KEY_FILE
    if ca_key_path.exists() or ca_key_path.is_symlink():
        raise InvalidInput(
            f"{ca_key_path} already exists: not replacing a CA (choose another output directory)"
        )
    ids = _checked_parties(parties)
    ca = new_ca()
    issued = {pid: issue_certificate(ca, [pid], hosts=hosts, days=days) for pid in ids}
    _private_dir(out, symlink_ok=True)
    paths = {pid: _write_party(out, pid, key, cert) for pid, (key, cert) in issued.items()}
    write_file_atomic(out / CA_CERT_FILE, _cert_pem(ca[1]), mode=0o644)
    write_file_atomic(ca_key_path, _key_pem(ca[0]))
    pair_secrets = {frozenset(pair): secrets.token_hex(32) for pair in combinations(ids, 2)}
    return ClusterCerts(out=out, ca=out / CA_CERT_FILE, parties=paths, pair_secrets=pair_secrets)


def _write_party(out: Path, party: int, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> TlsPaths:
    directory = out / str(party)
    _private_dir(directory)
    paths = TlsPaths(ca=out / CA_CERT_FILE, cert=directory / CERT_FILE, key=directory / KEY_FILE)
    write_file_atomic(paths.key, _key_pem(key))
    write_file_atomic(paths.cert, _cert_pem(cert), mode=0o644)
    return paths


def _private_dir(path: Path, *, symlink_ok: bool = False) -> None:
    """Create `path` 0700; an existing directory is kept as it is (it may be the user's own)."""
    try:
        path.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        if (path.is_symlink() and not symlink_ok) or not path.is_dir():
            raise InvalidInput(f"{path} exists and is not a directory") from None
    else:
        path.chmod(0o700)  # mkdir's mode passes through the umask


def write_file_atomic(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace `path` with `data` atomically (a new file renamed into place), with permissions `mode`.

    The temporary file is created exclusively and without following links, and rename replaces a link
    at `path` rather than writing through it."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        with os.fdopen(fd, "wb") as stream:
            os.fchmod(stream.fileno(), mode)  # the umask may have removed bits a certificate needs
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def config_snippet(
    certs: ClusterCerts,
    party: int,
    *,
    host: str = "127.0.0.1",
    api_port: int,
    federation_ports: Mapping[int, int],
    data_dir: str,
    app_key: str,
    app_secret: str,
) -> str:
    """The YAML server config of `party` (for `fedloom server start --config`); it holds secrets."""
    paths = certs.parties.get(party)
    if paths is None:
        raise InvalidInput(f"party {party}: no certificate in {certs.out}")
    missing = sorted(set(certs.parties) - set(federation_ports))
    if missing:
        raise InvalidInput(f"federation_ports: no port for parties {missing}")
    config: dict[str, Any] = {
        "party_ids": [party],
        "host": host,
        "port": api_port,
        "federation_port": federation_ports[party],
        "data_dir": data_dir,
        "tls": {
            "ca": str(paths.ca.absolute()),
            "cert": str(paths.cert.absolute()),
            "key": str(paths.key.absolute()),
        },
        "routes": {
            other: {
                "host": host,
                "port": federation_ports[other],
                "secret": certs.pair_secrets[frozenset((party, other))],
            }
            for other in certs.parties
            if other != party
        },
        "client_auth": {"enabled": True, "apps": {app_key: app_secret}},
    }
    header = f"# fedloom server config of party {party}. It holds secrets: keep it chmod 600.\n"
    return header + yaml.safe_dump(config, sort_keys=False)


# -- reading -------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def parties_of_certificate(pem: bytes) -> frozenset[int]:
    """The party ids a PEM certificate names (SAN DNS names `party-<id>.fedloom`; others are ignored)."""
    alt = _extension(_parse_certificate(pem, "certificate"), x509.SubjectAlternativeName, "certificate")
    if alt is None:
        return frozenset()
    found = (_PARTY_NAME.fullmatch(name.lower()) for name in alt.get_values_for_type(x509.DNSName))
    return frozenset(int(match.group(1)) for match in found if match)


def load_identity(tls: TlsFiles, party_ids: Sequence[int]) -> Identity:
    """Read and check this party's TLS files: the key is the certificate's, the CA signed it, it is valid
    now, and it names every party in `party_ids`. Errors name the setting, never key material."""
    ca_pem, cert_pem, key_pem = (
        _read(tls.ca, "tls.ca"),
        _read(tls.cert, "tls.cert"),
        _read(tls.key, "tls.key"),
    )
    ca = _parse_certificate(ca_pem, f"tls.ca: {tls.ca}")
    cert = _parse_certificate(cert_pem, f"tls.cert: {tls.cert}")
    key_public = _parse_key(key_pem, tls.key)
    _check_is_ca(ca, tls.ca)
    if _public_der(cert.public_key()) != key_public:
        raise InvalidInput(f"tls.key: {tls.key} is not the key of the certificate in tls.cert ({tls.cert})")
    _check_issued_by(cert, ca, tls)
    now = datetime.now(UTC)
    _check_valid_at(ca, now, f"tls.ca: the CA certificate {tls.ca}")
    _check_valid_at(cert, now, f"tls.cert: the certificate {tls.cert}")
    _check_usage(cert, tls.cert)
    parties = parties_of_certificate(cert_pem)
    if not set(party_ids) <= parties:
        raise InvalidInput(
            f"tls.cert: the certificate is for parties {sorted(parties)} but party_ids is {list(party_ids)}"
        )
    return Identity(ca=ca_pem, cert=cert_pem, key=key_pem, parties=parties)


def _read(path: Path, setting: str) -> bytes:
    try:
        return path.expanduser().read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{setting}: cannot read {path}: {exc.strerror or exc}") from exc


def _parse_certificate(pem: bytes, what: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise InvalidInput(f"{what}: not a PEM certificate") from None


def _parse_key(pem: bytes, path: Path) -> bytes:
    """The DER public key of a PEM private key; parser messages are dropped (they could quote the key)."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except TypeError:
        raise InvalidInput(f"tls.key: {path} is encrypted; give an unencrypted key (chmod 600)") from None
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidInput(f"tls.key: {path} is not a PEM private key") from None
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _public_der(key: CertificatePublicKeyTypes) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _check_is_ca(ca: x509.Certificate, path: Path) -> None:
    constraints = _extension(ca, x509.BasicConstraints, f"tls.ca: {path}")
    if constraints is None or not constraints.ca:
        raise InvalidInput(f"tls.ca: {path} is not a CA certificate (basicConstraints CA:TRUE)")


def _check_issued_by(cert: x509.Certificate, ca: x509.Certificate, tls: TlsFiles) -> None:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        raise InvalidInput(f"tls.cert: {tls.cert} is not signed by the CA in tls.ca ({tls.ca})") from None


def _check_valid_at(cert: x509.Certificate, now: datetime, what: str) -> None:
    if now < cert.not_valid_before_utc:
        raise InvalidInput(f"{what} is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M:%S} UTC")
    if now > cert.not_valid_after_utc:
        raise InvalidInput(f"{what} expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M:%S} UTC")


def _check_usage(cert: x509.Certificate, path: Path) -> None:
    """Each party both serves and calls its peers, so the certificate must allow both (or not restrict)."""
    usages = _extension(cert, x509.ExtendedKeyUsage, f"tls.cert: {path}")
    if usages is not None and not {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH} <= set(
        usages
    ):
        raise InvalidInput(f"tls.cert: {path} is not for both TLS server and client use (extendedKeyUsage)")


def _extension(cert: x509.Certificate, kind: type[_Ext], what: str) -> _Ext | None:
    """The value of one extension of `cert`, None when it has none."""
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None
    except ValueError:  # a malformed or repeated extension
        raise InvalidInput(f"{what}: the certificate's extensions cannot be read") from None


__all__ = [
    "CA_COMMON_NAME",
    "DEFAULT_DAYS",
    "SAN_SUFFIX",
    "ClusterCerts",
    "Identity",
    "TlsPaths",
    "config_snippet",
    "init_certs",
    "issue_certificate",
    "load_identity",
    "new_ca",
    "parties_of_certificate",
    "party_dns_name",
    "write_file_atomic",
]
