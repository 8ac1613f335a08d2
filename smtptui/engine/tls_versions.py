"""Which TLS versions a server accepts: one probe per version, the client held to that
version alone, the certificate not checked (the TLS report judges it from a probe of its
own, made as the user's settings would make it).

TLS 1.0 and 1.1 need OpenSSL's security level 0 to be offered at all (OpenSSL 3 refuses
their MD5-SHA1 signatures from level 1), so their probes lower it. A version this client
cannot offer, even so, is said to be untested: a refusal is only the server's when the
client asked.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

from smtptui.engine.probe import PortProbe, PortSecurity, probe_port
from smtptui.engine.tls import TLS_VERSIONS, VerifyMode, make_tls_context

LEGACY_CIPHERS = "ALL:@SECLEVEL=0"
"""The cipher string for TLS 1.0 and 1.1: every cipher OpenSSL has but the unencrypted,
at security level 0, so that the probe asks whether the server speaks the version at all."""

CIPHERS: dict[str, str | None] = {"1.0": LEGACY_CIPHERS, "1.1": LEGACY_CIPHERS}
"""Each version's cipher string (None: OpenSSL's default, as a client would offer)."""


@dataclass(frozen=True)
class VersionResult:
    """One version's probe. ``probe`` is None when this client cannot offer the version;
    ``untested`` then says why."""

    version: str  # "1.2", a key of TLS_VERSIONS
    probe: PortProbe | None
    untested: str = ""

    @property
    def accepted(self) -> bool:
        return self.probe is not None and self.probe.tls is not None

    @property
    def refused(self) -> bool:
        """The server refused the handshake (not: it could not be reached, or offers no
        STARTTLS)."""
        probe = self.probe
        return probe is not None and probe.tls is None and probe.stage == "handshake"

    @property
    def cipher(self) -> str:
        return self.probe.tls.cipher if self.probe is not None and self.probe.tls else ""

    @property
    def reason(self) -> str:
        """Why the version was not accepted ("" when it was)."""
        if self.probe is None:
            return self.untested
        if self.accepted:
            return ""
        if self.probe.stage == "done":  # STARTTLS was not offered
            return "the server does not offer STARTTLS"
        return self.probe.error


def client_offers(version: str, ciphers: str | None = None) -> str:
    """Why this machine's OpenSSL cannot offer TLS ``version`` with ``ciphers`` ("" when it
    can): its ClientHello is made in memory, where nothing is sent."""
    try:
        context = make_tls_context(
            verify=VerifyMode.NONE, tls_min=version, tls_max=version, ciphers=ciphers
        )
        context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO()).do_handshake()
    except ssl.SSLWantReadError:  # the ClientHello is written, the answer awaited
        return ""
    except (ssl.SSLError, ValueError) as error:
        reason = getattr(error, "reason", None) or str(error)
        return f"this machine's OpenSSL ({ssl.OPENSSL_VERSION}) cannot offer it: " + (
            reason.replace("_", " ").lower()
        )
    return ""  # pragma: no cover (a handshake cannot finish without a server)


async def probe_versions(
    host: str,
    port: int,
    security: PortSecurity,
    *,
    sni: str | None = None,
    timeout: float = 10.0,
    versions: tuple[str, ...] = tuple(TLS_VERSIONS),
) -> tuple[VersionResult, ...]:
    """Probe ``versions`` of ``host``:``port`` at once, each on its own connection, in
    their order; every failure is data."""

    async def one(version: str) -> VersionResult:
        ciphers = CIPHERS.get(version)
        untested = client_offers(version, ciphers)
        if untested:
            return VersionResult(version, None, untested)
        probe = await probe_port(
            host,
            port,
            security,
            sni=sni,
            verify=VerifyMode.NONE,
            tls_min=version,
            tls_max=version,
            ciphers=ciphers,
            timeout=timeout,
        )
        return VersionResult(version, probe)

    return tuple(await asyncio.gather(*(one(version) for version in versions)))
