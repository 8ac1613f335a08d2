"""A throwaway self-signed certificate for the embedded server."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography import x509

VALIDITY = dt.timedelta(days=30)


@dataclass(frozen=True)
class SelfSigned:
    """A certificate and its key, PEM-encoded; `sha256` is the certificate's fingerprint
    as colon-separated upper-case hex, the way `openssl x509 -fingerprint` prints it."""

    cert_pem: bytes
    key_pem: bytes
    sha256: str

    @property
    def der(self) -> bytes:
        """The certificate in DER, as it goes on the wire."""
        return ssl.PEM_cert_to_DER_cert(self.cert_pem.decode("ascii"))

    def server_context(self) -> ssl.SSLContext:
        """A server-side context presenting this certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
            cert.write_bytes(self.cert_pem)
            key.write_bytes(self.key_pem)
            context.load_cert_chain(cert, key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate and nothing else, checking names."""
        return trusting(self.cert_pem)


def trusting(cert_pem: bytes) -> ssl.SSLContext:
    """A client context that trusts the certificate ``cert_pem`` and nothing else, checking
    names: the one a server's own self-signed certificate needs (no cryptography here)."""
    return ssl.create_default_context(cadata=cert_pem.decode("ascii"))


def make_self_signed(
    hostnames: Sequence[str] = ("localhost", "127.0.0.1", "::1"),
) -> SelfSigned:
    """Make an EC P-256 certificate naming `hostnames` (DNS names or IP addresses),
    valid from a day ago for 30 days."""
    from cryptography import x509  # here: only making a certificate needs it
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])])
    now = dt.datetime.now(dt.UTC)
    public_key = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(_general_names(hostnames)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return SelfSigned(
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        sha256=cert.fingerprint(hashes.SHA256()).hex(":").upper(),
    )


def _general_names(hostnames: Sequence[str]) -> list[x509.GeneralName]:
    from cryptography import x509

    names: list[x509.GeneralName] = []
    for host in hostnames:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names
