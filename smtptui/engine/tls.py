"""TLS details as data: protocol, cipher, the peer's certificates and the verification result."""

from __future__ import annotations

import _ssl
import hashlib
import ipaddress
import os
import ssl
import sys
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from smtptui.protocol.errors import CommandError

if TYPE_CHECKING:
    from cryptography import x509


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """One certificate as the transcript, the certificate screen and the checks read it."""

    subject: str
    issuer: str
    common_name: str
    sans: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    serial: int
    sha256: str  # upper-case hex, no separators (see .fingerprint for AB:CD:…)
    self_signed: bool
    key_type: str  # "RSA", "EC", "Ed25519", …
    key_bits: int  # the RSA modulus's, the EC curve's
    curve: str  # an EC key's, "secp256r1"; "" for other keys
    signature_algorithm: str  # "sha256WithRSAEncryption", "ecdsa-with-SHA256", …
    is_ca: bool  # basic constraints say it may issue certificates
    ca_issuers: tuple[str, ...]  # where its issuer can be fetched (AIA caIssuers URLs)
    der: bytes = field(repr=False, compare=False)  # as sent, to save the chain

    @classmethod
    def from_der(cls, der: bytes) -> CertificateInfo:
        from cryptography import x509  # here: only describing a certificate needs it
        from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

        cert = x509.load_der_x509_certificate(der)
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            sans = tuple(
                [f"DNS:{name}" for name in san.get_values_for_type(x509.DNSName)]
                + [f"IP:{ip}" for ip in san.get_values_for_type(x509.IPAddress)]
            )
        except x509.ExtensionNotFound:
            sans = ()
        try:
            is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        try:
            access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
            ca_issuers = tuple(
                str(where.access_location.value)
                for where in access.value
                if where.access_method == AuthorityInformationAccessOID.CA_ISSUERS
                and isinstance(where.access_location, x509.UniformResourceIdentifier)
            )
        except x509.ExtensionNotFound:
            ca_issuers = ()
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        key_type, key_bits, curve = _public_key(cert)
        algorithm = cert.signature_algorithm_oid
        name = algorithm._name  # OpenSSL's short name, as `openssl x509 -text` prints it
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
            key_type=key_type,
            key_bits=key_bits,
            curve=curve,
            signature_algorithm=algorithm.dotted_string if name == "Unknown OID" else name,
            is_ca=is_ca,
            ca_issuers=ca_issuers,
            der=der,
        )

    @property
    def fingerprint(self) -> str:
        """The SHA-256 fingerprint as ``AB:CD:…``."""
        return ":".join(self.sha256[i : i + 2] for i in range(0, len(self.sha256), 2))


def _public_key(cert: x509.Certificate) -> tuple[str, int, str]:
    """The certificate's key: its type, size in bits, and curve (EC keys only)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    try:
        key = cert.public_key()
    except (UnsupportedAlgorithm, ValueError):  # a key type cryptography does not know
        return "unknown", 0, ""
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size, ""
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size, key.curve.name
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size, ""
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256, ""
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456, ""
    return type(key).__name__.removesuffix("PublicKey"), 0, ""


@dataclass(frozen=True, slots=True)
class TlsInfo:
    """A finished handshake: protocol, cipher, the chain the server sent and whether it
    was verified."""

    version: str  # "TLSv1.3"
    cipher: str  # "TLS_AES_256_GCM_SHA384"
    bits: int
    server_hostname: str | None  # the SNI / name checked
    chain: tuple[CertificateInfo, ...]  # leaf first, as the server sent them
    verified: bool
    verify_note: str  # "certificate verified", or why it was not
    whole_chain: bool = True  # False: only the leaf, where Python hides the rest

    @classmethod
    def from_ssl_object(
        cls, ssl_object: ssl.SSLObject | ssl.SSLSocket, *, verified: bool, note: str
    ) -> TlsInfo:
        name, _, bits = ssl_object.cipher() or ("", "", 0)
        ders = _sent_chain(ssl_object)
        whole = ders is not None
        if ders is None:
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
            whole_chain=whole,
        )

    @property
    def leaf(self) -> CertificateInfo | None:
        return self.chain[0] if self.chain else None


def _sent_chain(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> list[bytes] | None:
    """The DER of every certificate the server sent, leaf first; None where this Python
    does not tell. Public from 3.13; before, from 3.10, the C object has it privately."""
    public = getattr(ssl_object, "get_unverified_chain", None)
    if public is not None:
        return list(public() or ())
    private = getattr(getattr(ssl_object, "_sslobj", None), "get_unverified_chain", None)
    if private is None:
        return None
    return [cert.public_bytes(_ssl.ENCODING_DER) for cert in private() or ()]


class VerifyMode(StrEnum):
    """What the client checks of the server's certificate."""

    BOTH = "both"  # a chain to a trusted CA, and the name
    CA = "ca"  # a chain to a trusted CA, for whatever name
    HOST = "host"  # the name, whoever issued the certificate
    NONE = "none"

    @classmethod
    def of(cls, value: VerifyMode | bool | str) -> VerifyMode:
        """``value`` as a mode; True and False (the old on/off flag) are BOTH and NONE."""
        if isinstance(value, bool):
            return cls.BOTH if value else cls.NONE
        return cls(value)

    @property
    def checks_chain(self) -> bool:
        return self in (VerifyMode.BOTH, VerifyMode.CA)

    @property
    def checks_name(self) -> bool:
        return self in (VerifyMode.BOTH, VerifyMode.HOST)


TLS_VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}
"""The TLS versions a client may be held to, by the names the settings and ``run`` use."""


def tls_version(label: str, version: str) -> ssl.TLSVersion:
    """``version`` ("1.2") as ssl's; another is a :class:`CommandError` naming ``label``."""
    try:
        return TLS_VERSIONS[version]
    except KeyError:
        known = ", ".join(TLS_VERSIONS)
        raise CommandError(label, f"must be one of {known}, not {version!r}") from None


def set_ciphers(context: ssl.SSLContext, ciphers: str) -> None:
    """Give ``context`` the OpenSSL cipher string ``ciphers`` (TLS 1.2 and older: OpenSSL
    keeps its TLS 1.3 suites); one that selects nothing is a :class:`CommandError`."""
    try:
        context.set_ciphers(ciphers)
    except ssl.SSLError:
        raise CommandError("ciphers", f"{ciphers!r} selects no cipher OpenSSL knows") from None


def check_ciphers(ciphers: str) -> None:
    """Refuse a cipher string before a connection would (see :func:`set_ciphers`)."""
    set_ciphers(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), ciphers)


def names_match(certificate: CertificateInfo, name: str) -> bool:
    """Whether ``certificate`` is for ``name`` (a host name or an IP address), by the rules
    OpenSSL applies for a client (RFC 6125): an address matches an IP SAN; a host name a DNS
    SAN, case aside, ``*`` standing for the whole first label of at least three; the
    common name only when there is no DNS SAN.

    Here, not in OpenSSL, so that a name other than the SNI can be checked, and a
    certificate whose chain is not checked (``VerifyMode.HOST``) can have its name checked."""
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        address = None
    if address is not None:
        return f"IP:{address}" in certificate.sans
    dns = [san.removeprefix("DNS:") for san in certificate.sans if san.startswith("DNS:")]
    if not dns and certificate.common_name:
        dns = [certificate.common_name]
    try:
        wanted = name.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return False
    return any(_dns_match(pattern.rstrip(".").lower(), wanted) for pattern in dns)


def _dns_match(pattern: str, name: str) -> bool:
    if pattern == name:
        return True
    star, _, parent = pattern.partition(".")
    label, _, rest = name.partition(".")
    return star == "*" and parent.count(".") >= 1 and bool(label) and rest == parent


def certificate_names(certificate: CertificateInfo) -> tuple[str, ...]:
    """The names ``certificate`` is for, as :func:`names_match` reads them."""
    if any(san.startswith("DNS:") for san in certificate.sans) or not certificate.common_name:
        return certificate.sans
    return (*certificate.sans, f"CN:{certificate.common_name}")


def make_tls_context(
    *,
    verify: VerifyMode | bool = VerifyMode.BOTH,
    cafile: str | None = None,
    client_cert: str | None = None,
    client_key: str | None = None,
    tls_min: str | None = None,
    tls_max: str | None = None,
    ciphers: str | None = None,
) -> ssl.SSLContext:
    """A client context: the system's CAs (only ``cafile``'s when given, as
    :func:`ssl.create_default_context` does), the chain checked when ``verify`` asks for it,
    a client certificate when given, TLS versions from ``tls_min`` to ``tls_max`` ("1.2")
    and an OpenSSL cipher string.

    OpenSSL checks no name (``check_hostname`` is off): the client checks the name it is
    told to, which need not be the SNI, with :func:`names_match` after the handshake.
    Without the chain checked, the context is :func:`ssl.create_default_context`'s without
    loading the system's CA store (about 20-50 ms, for certificates nothing would check)."""
    if VerifyMode.of(verify).checks_chain:
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
    context.check_hostname = False
    with warnings.catch_warnings():  # TLS 1.0 and 1.1 are deprecated: here, asked for
        warnings.simplefilter("ignore", DeprecationWarning)
        if tls_min:
            context.minimum_version = tls_version("TLS min", tls_min)
        if tls_max:
            context.maximum_version = tls_version("TLS max", tls_max)
    if ciphers:
        set_ciphers(context, ciphers)
    if client_cert:
        context.load_cert_chain(client_cert, client_key)
    return context
