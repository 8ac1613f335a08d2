"""The certificate chain a server sent: whether it reaches a root, and its PEM.

A server must send its certificate and every intermediate between it and a root; the root
itself it may leave out, since a client has to trust it already. A missing intermediate
is the classic "works in my browser" failure: browsers fetch or cache intermediates,
OpenSSL (and so Python, Postfix, swaks) does not, and fails with "unable to get local
issuer certificate".
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from smtptui.engine.tls import CertificateInfo, TlsInfo


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """What the chain a server sent lacks, if anything. The text quotes the certificates'
    names: make it visible before showing it."""

    complete: bool | None  # None: cannot tell
    text: str  # one sentence, for the screen
    missing: str = ""  # the subject of the certificate the server should have sent
    urls: tuple[str, ...] = ()  # where that certificate can be fetched (AIA caIssuers)


ONLY_LEAF = (
    "cannot tell: this Python shows only the server's own certificate, "
    "not the intermediates it sent"
)


def check_chain(info: TlsInfo) -> ChainCheck:
    """Follow the issuers from the leaf through what the server sent: complete when the
    path ends at a self-signed root, or verification found a trusted root for its end.

    Unverified, a path ending at a leaf whose issuer was not sent is incomplete (public CAs
    issue server certificates from intermediates) unless that issuer is a root the client
    trusts, which only verification can tell; one ending at a CA certificate is complete."""
    chain = info.chain
    if not chain:
        return ChainCheck(False, "the server sent no certificate")
    if not info.whole_chain:
        return ChainCheck(None, ONLY_LEAF)
    sent = {certificate.subject: certificate for certificate in chain}
    path = [chain[0]]
    while not path[-1].self_signed:
        issuer = sent.get(path[-1].issuer)
        if issuer is None or issuer in path:
            break
        path.append(issuer)
    end = path[-1]
    stray = len(chain) - len(path)
    extra = f"; also sent: {counted(stray)} not in the chain" if stray else ""
    length = counted(len(path))
    if end.self_signed:
        ending = "self-signed" if len(path) == 1 else f"at the root {end.subject}"
        return ChainCheck(True, f"complete: {length}, {ending}{extra}")
    if info.verified or end.is_ca:
        trust = "a trusted root" if info.verified else "a root the client must trust"
        return ChainCheck(True, f"complete: {length}, then {end.issuer}, {trust}{extra}")
    fetch = f" (from {', '.join(end.ca_issuers)})" if end.ca_issuers else ""
    text = (
        f"incomplete: the issuer of {end.subject or 'the last certificate'} was not sent: "
        f"{end.issuer}{fetch}; a client fails unless it trusts that as a root{extra}"
    )
    return ChainCheck(False, text, end.issuer, end.ca_issuers)


def counted(count: int) -> str:
    """``count`` certificates, in words: "1 certificate", "2 certificates"."""
    return "1 certificate" if count == 1 else f"{count} certificates"


def chain_pem(chain: tuple[CertificateInfo, ...]) -> str:
    """The certificates as PEM, in the order given (the server's: leaf first)."""
    return "".join(ssl.DER_cert_to_PEM_cert(certificate.der) for certificate in chain)
