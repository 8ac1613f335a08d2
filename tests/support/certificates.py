"""Certificates made to order with cryptography's x509 builder, and a client that takes any."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID


def common_name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def server_context(
    subject: x509.Name,
    *,
    issuer: x509.Name | None = None,
    dns_names: tuple[str, ...] = (),
    ip: str | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    ca_issuers: tuple[str, ...] = (),
) -> ssl.SSLContext:
    """A server context whose certificate is signed by its own key: self-signed unless
    ``issuer`` names someone else; SANs ``dns_names`` and ``ip``; valid from a day ago for a
    year unless told otherwise; its issuer to be fetched from the ``ca_issuers`` URLs."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    if ip is not None:
        names.append(x509.IPAddress(ipaddress.ip_address(ip)))
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(days=1))
        .not_valid_after(not_after or now + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
    )
    if ca_issuers:
        access = [
            x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(url)
            )
            for url in ca_issuers
        ]
        builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
    cert = builder.sign(key, hashes.SHA256())
    return _context(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + cert.public_bytes(serialization.Encoding.PEM)
    )


def chain_context(leaf: trustme.LeafCert, *, intermediates: bool = True) -> ssl.SSLContext:
    """A server context presenting ``leaf`` and the intermediates that issued it (trustme's
    ``create_child_ca``), or, with ``intermediates`` False, the leaf alone: the
    misconfiguration that fails in OpenSSL and works in browsers."""
    pems = leaf.cert_chain_pems if intermediates else leaf.cert_chain_pems[:1]
    return _context(leaf.private_key_pem.bytes() + b"".join(pem.bytes() for pem in pems))


def _context(pem: bytes) -> ssl.SSLContext:
    """A server context with the key and certificates in ``pem``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with trustme.Blob(pem).tempfile() as path:
        context.load_cert_chain(path)
    return context


def unverified() -> ssl.SSLContext:
    """A client context that takes any certificate for any name."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
