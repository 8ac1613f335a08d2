"""DANE for SMTP (RFC 6698, RFC 7671, RFC 7672): a mail server's TLSA records, looked up or
given, and whether they match the certificates it sent.

DANE means nothing without DNSSEC: a record an attacker could have forged proves nothing.
The lookup asks with DNSSEC OK and reports whether the resolver said the answer was
validated (its AD bit), which is only as trustworthy as the path to that resolver.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.resolver

from smtptui.engine.mx import DNS_TIMEOUT, dns_failure, make_resolver
from smtptui.engine.tls import CertificateInfo, certificate_names
from smtptui.protocol.errors import CommandError

TLSA_FIELD = "tlsa"
"""The field a bad record is named by in its :class:`CommandError` (``--tlsa``)."""

USAGES = {0: "PKIX-TA", 1: "PKIX-EE", 2: "DANE-TA", 3: "DANE-EE"}
SELECTORS = {0: "Cert", 1: "SPKI"}
MATCHING = {0: "Full", 1: "SHA2-256", 2: "SHA2-512"}
"""The fields' values by their RFC 7218 names."""

_DIGEST_SIZES = {1: 32, 2: 64}
_HEX = re.compile(r"[0-9A-Fa-f]+")


@dataclass(frozen=True)
class Tlsa:
    """One TLSA record: certificate usage, selector, matching type, association data."""

    usage: int
    selector: int
    matching: int
    data: bytes

    @property
    def text(self) -> str:
        """The record's presentation form, ``3 1 1 ab12…``."""
        return f"{self.usage} {self.selector} {self.matching} {self.data.hex()}"

    @property
    def problem(self) -> str:
        """Why an SMTP client cannot use this record ("" when it can): a PKIX usage (RFC
        7672 §3.1.3), an unknown field or a digest of the wrong size (RFC 7671 §5)."""
        if self.usage in (0, 1):
            return (
                f"{USAGES[self.usage]} is unusable for SMTP (RFC 7672 §3.1.3): "
                "mail servers have no agreed CAs, so senders ignore this record"
            )
        if self.usage not in USAGES:
            return f"certificate usage {self.usage} is unknown: unusable"
        if self.selector not in SELECTORS:
            return f"selector {self.selector} is unknown: unusable"
        if self.matching not in MATCHING:
            return f"matching type {self.matching} is unknown: unusable"
        size = _DIGEST_SIZES.get(self.matching)
        if size is not None and len(self.data) != size:
            return (
                f"a {MATCHING[self.matching]} digest is {size} bytes, "
                f"this one {len(self.data)}: unusable"
            )
        return ""

    @property
    def names(self) -> str:
        """``DANE-EE SPKI SHA2-256``: the fields by name (a number where unknown)."""
        return " ".join(
            table.get(value, str(value))
            for table, value in (
                (USAGES, self.usage),
                (SELECTORS, self.selector),
                (MATCHING, self.matching),
            )
        )


@dataclass(frozen=True)
class TlsaLookup:
    """The TLSA records at ``name`` (``_25._tcp.mx.example.org``). ``authenticated``: the
    resolver set AD, it validated the answer with DNSSEC. ``error`` says why there are no
    records (none published, or the lookup failed)."""

    name: str
    records: tuple[Tlsa, ...]
    authenticated: bool
    error: str = ""

    @property
    def absent(self) -> bool:
        """The name has no TLSA record (the lookup itself did not fail)."""
        return self.error == _none_at(self.name)


@dataclass(frozen=True)
class TlsaMatch:
    """What one record made of the chain: ``matched``, the index in the chain of the
    certificate it matched (0 the server's own), and a note in words."""

    record: Tlsa
    matched: bool
    certificate: int | None
    note: str


def parse_tlsa(text: str) -> Tlsa:
    """A record as typed, ``3 1 1 HEX`` (the hex may hold spaces, as zone files split it);
    a :class:`CommandError` naming ``tlsa`` if it is not one."""
    words = text.split()
    if len(words) < 4:
        raise CommandError(TLSA_FIELD, f"{text!r} is not 'USAGE SELECTOR MATCHING HEX'")
    values = []
    for name, value in zip(("usage", "selector", "matching type"), words[:3], strict=True):
        if not (value.isascii() and value.isdigit()) or int(value) > 255:
            raise CommandError(TLSA_FIELD, f"the {name} must be a number 0-255, not {value!r}")
        values.append(int(value))
    hexdigits = "".join(words[3:])
    if not _HEX.fullmatch(hexdigits) or len(hexdigits) % 2:
        raise CommandError(TLSA_FIELD, f"the data must be hex digits in pairs, not {hexdigits!r}")
    return Tlsa(*values, bytes.fromhex(hexdigits))


def tlsa_name(host: str, port: int = 25) -> str:
    """Where ``host``'s TLSA records for ``port`` live: ``_25._tcp.HOST``."""
    return f"_{port}._tcp.{host.rstrip('.')}"


async def tlsa_records(
    host: str, port: int = 25, *, nameserver: str | None = None, timeout: float = DNS_TIMEOUT
) -> TlsaLookup:
    """The TLSA records of ``host``'s ``port``, asked with DNSSEC OK, and whether the
    resolver said it validated them (AD). Failures are data, in ``error``."""
    name = tlsa_name(host, port)
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return TlsaLookup(name, (), False, f"{host} is an address: DANE needs a host name")
    resolver = make_resolver(nameserver, timeout)
    resolver.use_edns(0, dns.flags.DO, 1232)
    resolver.flags = dns.flags.RD | dns.flags.AD  # AD asks for the AD bit (RFC 6840 §5.7)
    try:
        answer = await resolver.resolve(name, "TLSA")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer) as error:
        return TlsaLookup(name, (), _authenticated(_response(error)), _none_at(name))
    except dns.exception.DNSException as error:
        return TlsaLookup(name, (), False, dns_failure(name, "TLSA", error))
    records = tuple(
        Tlsa(record.usage, record.selector, record.mtype, record.cert) for record in answer
    )
    return TlsaLookup(name, records, _authenticated(answer.response))


def match_tlsa(
    records: tuple[Tlsa, ...], chain: tuple[CertificateInfo, ...]
) -> tuple[TlsaMatch, ...]:
    """Each record against ``chain`` (the server's certificates, its own first), as an SMTP
    client reads them (RFC 7672 §3.1): DANE-EE against the server's certificate, DANE-TA
    against those sent after it, PKIX-TA and PKIX-EE unusable."""
    return tuple(_match(record, chain) for record in records)


def tlsa_for(
    certificate: CertificateInfo, usage: int = 3, selector: int = 1, matching: int = 1
) -> Tlsa:
    """The record of this usage, selector and matching type that ``certificate`` matches."""
    return Tlsa(usage, selector, matching, _associated(certificate, selector, matching))


def _match(record: Tlsa, chain: tuple[CertificateInfo, ...]) -> TlsaMatch:
    if record.problem:
        return TlsaMatch(record, False, None, record.problem)
    if not chain:
        return TlsaMatch(record, False, None, "no certificate to check it against")
    if record.usage == 3:
        candidates = {0: chain[0]}
        where, miss = "the server's certificate", "does not match the server's certificate"
    else:
        candidates = dict(enumerate(chain))
        del candidates[0]
        where = "a certificate the server sent after its own"
        miss = "matches no certificate the server sent after its own"
        if not candidates:
            return TlsaMatch(
                record,
                False,
                None,
                "the server sent only its own certificate (or only it is known), "
                "so a DANE-TA record has no issuer to match",
            )
    for index, certificate in candidates.items():
        if _associated(certificate, record.selector, record.matching) == record.data:
            who = ", ".join(certificate_names(certificate)) or certificate.subject
            note = f"matches {where} ({who})"
            if index:  # RFC 7672 §3.2.2: a trust anchor vouches only for a chain and a name
                note += "; senders also want the chain up to it valid and the host's name on it"
            return TlsaMatch(record, True, index, note)
    return TlsaMatch(record, False, None, miss)


def _associated(certificate: CertificateInfo, selector: int, matching: int) -> bytes:
    """The association data of ``certificate``: the whole certificate (selector 0) or its
    SubjectPublicKeyInfo (1), as is (matching 0) or hashed (1 SHA-256, 2 SHA-512)."""
    from cryptography import x509  # here: only matching a certificate needs it
    from cryptography.hazmat.primitives import serialization

    if selector == 0:
        selected = certificate.der
    else:
        key = x509.load_der_x509_certificate(certificate.der).public_key()
        selected = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    if matching == 1:
        return hashlib.sha256(selected).digest()
    if matching == 2:
        return hashlib.sha512(selected).digest()
    return selected


def _none_at(name: str) -> str:
    return f"no TLSA record at {name}"


def _response(error: dns.exception.DNSException) -> dns.message.Message | None:
    """The DNS response a negative answer came in, if dnspython kept it."""
    if isinstance(error, dns.resolver.NXDOMAIN):
        responses = error.responses()
        return next(iter(responses.values()), None)
    return error.kwargs.get("response")


def _authenticated(response: dns.message.Message | None) -> bool:
    return response is not None and bool(response.flags & dns.flags.AD)
