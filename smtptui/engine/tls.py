"""TLS details as data: protocol, cipher, the peer's certificates and the verification result."""

from __future__ import annotations

import hashlib
import os
import ssl
import sys
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    subject: str
    issuer: str
    common_name: str
    sans: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    serial: int
    sha256: str  # upper-case hex, no separators (see .fingerprint for AB:CD:…)
    self_signed: bool

    @classmethod
    def from_der(cls, der: bytes) -> CertificateInfo:
        from cryptography import x509  # here: only describing a certificate needs it
        from cryptography.x509.oid import NameOID

        cert = x509.load_der_x509_certificate(der)
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            sans = tuple(
                [f"DNS:{name}" for name in san.get_values_for_type(x509.DNSName)]
                + [f"IP:{ip}" for ip in san.get_values_for_type(x509.IPAddress)]
            )
        except x509.ExtensionNotFound:
            sans = ()
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return cls(
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            common_name=str(names[0].value) if names else "",
            sans=sans,
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            serial=cert.serial_number,
            sha256=hashlib.sha256(der).hexdigest().upper(),
            self_signed=cert.issuer == cert.subject,
        )

    @property
    def fingerprint(self) -> str:
        """The SHA-256 fingerprint as ``AB:CD:…``."""
        return ":".join(self.sha256[i : i + 2] for i in range(0, len(self.sha256), 2))


@dataclass(frozen=True, slots=True)
class TlsInfo:
    version: str  # "TLSv1.3"
    cipher: str  # "TLS_AES_256_GCM_SHA384"
    bits: int
    server_hostname: str | None  # the SNI / name checked
    chain: tuple[CertificateInfo, ...]  # leaf first; only the leaf where Python cannot show more
    verified: bool
    verify_note: str  # "certificate verified", or why it was not

    @classmethod
    def from_ssl_object(
        cls, ssl_object: ssl.SSLObject | ssl.SSLSocket, *, verified: bool, note: str
    ) -> TlsInfo:
        name, _, bits = ssl_object.cipher() or ("", "", 0)
        get_chain = getattr(ssl_object, "get_unverified_chain", None)  # Python 3.13+
        if get_chain is not None:
            ders = [
                cert if isinstance(cert, bytes) else cert.public_bytes() for cert in get_chain()
            ]
        else:
            leaf = ssl_object.getpeercert(binary_form=True)
            ders = [leaf] if leaf else []
        return cls(
            version=ssl_object.version() or "",
            cipher=name,
            bits=bits or 0,
            server_hostname=ssl_object.server_hostname,
            chain=tuple(CertificateInfo.from_der(der) for der in ders),
            verified=verified,
            verify_note=note,
        )

    @property
    def leaf(self) -> CertificateInfo | None:
        return self.chain[0] if self.chain else None


def make_tls_context(
    *,
    verify: bool = True,
    cafile: str | None = None,
    client_cert: str | None = None,
    client_key: str | None = None,
) -> ssl.SSLContext:
    """A client context: the system's CAs (only ``cafile``'s when given, as
    :func:`ssl.create_default_context` does), hostname checks unless ``verify`` is False,
    and a client certificate when given.

    With verification off, the context is :func:`ssl.create_default_context`'s without
    loading the system's CA store (about 20-50 ms, for certificates nothing would check)."""
    if verify:
        context = ssl.create_default_context(cafile=cafile)
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # create_default_context's options
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        if cafile:  # loaded all the same: a missing or bad file is still an error
            context.load_verify_locations(cafile)
        keylog = os.environ.get("SSLKEYLOGFILE")  # as create_default_context honours it
        if keylog and not sys.flags.ignore_environment:
            context.keylog_filename = keylog
    if client_cert:
        context.load_cert_chain(client_cert, client_key)
    return context
