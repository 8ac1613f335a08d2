"""Certificates made to order with cryptography's x509 builder, and a client that takes any."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator

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


def recording_context(
    ca: trustme.CA,
    *names: str,
    minimum: ssl.TLSVersion | None = None,
    maximum: ssl.TLSVersion | None = None,
) -> tuple[ssl.SSLContext, list[str | None]]:
    """A server context with a certificate from ``ca`` for ``names``, TLS versions from
    ``minimum`` to ``maximum``, and the list its SNI callback appends each client's SNI
    name to (None: the client sent none)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(*names).configure_cert(context)
    if minimum is not None:
        context.minimum_version = minimum
    if maximum is not None:
        context.maximum_version = maximum
    seen: list[str | None] = []
    context.sni_callback = lambda _socket, name, _context: seen.append(name)  # type: ignore[assignment,misc,return-value]
    return context, seen


@contextlib.contextmanager
def threaded_tls_server(context: ssl.SSLContext) -> Iterator[tuple[str, int]]:
    """An implicit-TLS SMTP greeter on 127.0.0.1 made with :mod:`ssl` alone (OpenSSL's
    handshake, alerts and all, as a real server's), one connection at a time in a thread:
    it greets after the handshake and reads until the client leaves. Yields its address."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            raw.settimeout(5)
            with (
                contextlib.suppress(OSError),
                raw,
                context.wrap_socket(raw, server_side=True) as tls,
            ):
                tls.sendall(b"220 tls.example ESMTP\r\n")
                while tls.recv(4096):
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[:2]
    finally:
        stop.set()
        thread.join()
        listener.close()
