"""The TLS report of one mail server's port: which TLS versions it accepts and with which
cipher, and whether its certificate would be trusted (chain, dates, name), each a
:class:`~smtptui.session.findings.Finding` in plain words.

The engine connects (:func:`~smtptui.engine.probe.probe_port` and
:func:`~smtptui.engine.tls_versions.probe_versions`, all at once); this module judges what
they saw. Each section is a function of :class:`Seen`: one that judges what the probes saw
goes in :data:`SECTIONS`; one that looks again (DNS, HTTPS: DANE, MTA-STS) in :data:`LOOKS`,
awaited together after the probes, with what it needs as one more field of :class:`Seen`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from smtptui.engine.chain import check_chain
from smtptui.engine.dane import Tlsa
from smtptui.engine.hosts import SMTPS_PORT, format_host, is_address
from smtptui.engine.mx import host_addresses, target_domain
from smtptui.engine.probe import PortProbe, PortSecurity, probe_port
from smtptui.engine.tls import TlsInfo, VerifyMode, certificate_names, names_match
from smtptui.engine.tls_versions import VersionResult, probe_versions
from smtptui.protocol.errors import CommandError
from smtptui.session.certificate import key_text, validity, when
from smtptui.session.findings import Finding, Level, Section
from smtptui.session.policies import dane_section, mta_sts_section
from smtptui.session.routing import Route, route
from smtptui.session.settings import Security, SessionSettings

DEPRECATED = ("1.0", "1.1")
"""TLS versions RFC 8996 forbids."""

WHY = {
    "no starttls": "Without STARTTLS, mail to this server crosses the network in plain "
    "text: anyone on the path can read it, and change it.",
    "deprecated": "TLS 1.0 and 1.1 are deprecated (RFC 8996): their handshakes rest on "
    "MD5 and SHA-1, and modern clients no longer offer them. Turn them off.",
    "no version": "No handshake succeeded: senders either deliver in plain text or not at "
    "all, and mail apps cannot connect securely.",
    "only deprecated": "Only deprecated versions work: modern clients, which offer TLS 1.2 "
    "and 1.3 alone, cannot connect securely.",
    "handshake": "A client with default settings (TLS 1.2 or later) could not complete the "
    "handshake.",
    "verify": "Clients that check certificates (mail apps on 587 and 465, senders that "
    "enforce MTA-STS or DANE on 25) refuse this server; the others encrypt without knowing "
    "whom they talk to.",
    "chain": "The server must send every intermediate certificate between its own and a "
    "root. Browsers fetch a missing one; OpenSSL, and so Postfix, Exim, Python and swaks, "
    "does not, and fails with 'unable to get local issuer certificate'.",
    "expired": "Every client that checks certificates refuses an expired (or not yet valid) one.",
    "expiring": "Renew it soon: once it expires every client that checks it refuses it.",
    "name": "Clients check that the certificate names the host they asked for (the MX "
    "name on port 25, the server set in a mail app); another name fails them as an untrusted "
    "certificate does.",
    "weak key": "Keys under 2048 bits and SHA-1 or MD5 signatures can be forged: clients "
    "and CAs refuse them.",
}
"""Why each problem matters, in plain words; the findings' ``why``."""

_NO_ISSUER = ("unable to get local issuer certificate", "unable to get issuer certificate")
"""OpenSSL's words when it could not build the chain to a root: any other verification
error comes after the chain was built (OpenSSL builds it first)."""

_WEAK_SIGNATURES = ("md5", "sha1")


@dataclass(frozen=True)
class Seen:
    """What the report's connections found, for the sections to judge. ``probe`` is one
    look as a client with default settings takes it, its certificate's chain checked
    (``VerifyMode.CA``; the name is checked here, by the same rule, so that a wrong name
    and an untrusted chain are told apart); ``versions`` one probe per TLS version;
    ``name`` the name the certificate must be for (the SNI, else the host)."""

    host: str
    port: int
    security: PortSecurity
    name: str
    probe: PortProbe
    versions: tuple[VersionResult, ...]
    now: datetime
    nameserver: str | None = None  # the DNS server the looks ask (None: the system's)
    cafile: str | None = None  # trusted for the MTA-STS policy's HTTPS too
    tlsa: tuple[Tlsa, ...] = ()  # TLSA records given: DANE checks these, not DNS's
    domain: str = ""  # whose MTA-STS policy to check ("": none named)
    mx_names: tuple[str, ...] = ()  # the domain's MX hosts, for its policy to allow
    policy_file: str | None = None  # the MTA-STS policy to check instead of the published one

    @property
    def tls(self) -> TlsInfo | None:
        """The handshake whose certificate is judged: the probe's, else (when only other
        versions than a default client's work) the first version accepted."""
        if self.probe.tls is not None:
            return self.probe.tls
        return next(
            (found.probe.tls for found in self.versions if found.probe and found.probe.tls), None
        )

    @property
    def verified(self) -> bool:
        """Whether a client with default settings trusts the certificate: its chain and,
        by :func:`~smtptui.engine.tls.names_match`, its name."""
        tls = self.probe.tls
        if tls is None or tls.leaf is None or self.probe.verify_error:
            return False
        return names_match(tls.leaf, self.name)  # the chain: OpenSSL's, in the handshake


def connection_section(seen: Seen) -> Section:
    """Whether the port answered, greeted, and offered TLS."""
    probe = seen.probe
    where = format_host(seen.host, seen.port)
    if not probe.connected:
        return Section("Connection", (Finding(Level.FAIL, f"could not connect: {probe.error}"),))
    findings: list[Finding] = []
    if probe.greeting is not None:
        text = " ".join(probe.greeting.text.splitlines())  # a greeting of many lines on one
        findings.append(Finding(Level.INFO, f"greeting: {probe.greeting.code} {text}"))
    if seen.security is PortSecurity.TLS:
        if probe.stage != "handshake" or probe.tls is not None:
            findings.append(Finding(Level.OK, f"{where} speaks TLS from the first byte"))
    elif probe.before is not None:
        if probe.before.starttls:
            findings.append(Finding(Level.OK, "STARTTLS offered"))
        else:
            findings.append(Finding(Level.FAIL, "STARTTLS not offered", WHY["no starttls"]))
    if probe.error and not probe.verify_error:
        why = WHY["handshake"] if probe.stage == "handshake" else ""
        level = Level.WARN if probe.stage == "handshake" and seen.tls else Level.FAIL
        findings.append(Finding(level, f"stopped at {probe.stage}: {probe.error}", why))
    return Section("Connection", tuple(findings))


def versions_section(seen: Seen) -> Section | None:
    """Each version: accepted with its cipher, refused, or not tested and why. None when no
    handshake was even tried (the connection section says why)."""
    results = seen.versions
    if not any(found.accepted or found.refused for found in results):
        return None
    accepted = {found.version for found in results if found.accepted}
    findings = [_version_finding(found, accepted) for found in results]
    if not accepted:
        findings.append(Finding(Level.FAIL, "no TLS version accepted", WHY["no version"]))
    elif accepted <= set(DEPRECATED):
        findings.append(
            Finding(Level.FAIL, "only deprecated TLS versions accepted", WHY["only deprecated"])
        )
    return Section("TLS versions", tuple(findings))


def _version_finding(found: VersionResult, accepted: set[str]) -> Finding:
    label = f"TLS {found.version}"
    deprecated = found.version in DEPRECATED
    if found.accepted:
        text = f"{label} accepted: {found.cipher}"
        return (
            Finding(Level.WARN, text, WHY["deprecated"]) if deprecated else Finding(Level.OK, text)
        )
    if not found.refused:
        return Finding(Level.INFO, f"{label} not tested: {found.reason}")
    if deprecated:
        return Finding(Level.OK, f"{label} refused, as it should be")
    if found.version == "1.3" and "1.2" in accepted:
        text = f"{label} refused: 1.2 serves, though 1.3 is faster and hides the certificate"
    elif found.version == "1.2" and "1.3" in accepted:
        text = f"{label} refused: clients without TLS 1.3 cannot use TLS here"
    else:
        text = f"{label} refused: {found.reason}"
    return Finding(Level.INFO, text)


def certificate_section(seen: Seen) -> Section | None:
    """The certificate of :attr:`Seen.tls`: trusted or why not, its chain, dates, names and
    key. None without a handshake."""
    tls = seen.tls
    if tls is None:
        return None
    leaf = tls.leaf
    if leaf is None:
        return Section("Certificate", (Finding(Level.FAIL, "the server sent no certificate"),))
    probe = seen.probe
    named = names_match(leaf, seen.name)
    built = _chain_built(probe)
    findings = [_verification(seen, named)]
    check = check_chain(dataclasses.replace(tls, verified=bool(built)))
    if check.complete:
        findings.append(Finding(Level.OK, f"chain {check.text}"))
    elif check.complete is None or built is None:
        findings.append(Finding(Level.INFO, f"chain not judged: {check.text}"))
    else:
        findings.append(Finding(Level.FAIL, f"chain {check.text}", WHY["chain"]))
    note, level = validity(leaf, seen.now)
    started = seen.now < leaf.not_before
    dates = (
        f"valid from {when(leaf.not_before)}" if started else f"valid until {when(leaf.not_after)}"
    )
    why = {Level.FAIL: WHY["expired"], Level.WARN: WHY["expiring"]}.get(level, "")
    findings.append(Finding(level, f"{dates} ({note})", why))
    names = ", ".join(certificate_names(leaf)) or "no name"
    if named:
        findings.append(Finding(Level.OK, f"for {seen.name} (names: {names})"))
    else:
        findings.append(Finding(Level.FAIL, f"not for {seen.name}: for {names}", WHY["name"]))
    findings.append(Finding(Level.INFO, f"issued to {leaf.subject} by {leaf.issuer}"))
    signature = leaf.signature_algorithm
    key = f"key {key_text(leaf)}, signed with {signature}"
    weak = leaf.key_type in ("RSA", "DSA") and leaf.key_bits < 2048
    weak = weak or any(name in signature.lower() for name in _WEAK_SIGNATURES)
    findings.append(Finding(Level.WARN, key, WHY["weak key"]) if weak else Finding(Level.INFO, key))
    return Section("Certificate", tuple(findings))


def _chain_built(probe: PortProbe) -> bool | None:
    """Whether OpenSSL built the chain to a trusted root, whatever else it refused; None
    when the probe did not verify (its handshake failed)."""
    if probe.tls is None:
        return None
    if not probe.verify_error:
        return True
    return not any(words in probe.verify_error for words in _NO_ISSUER)


def _verification(seen: Seen, named: bool) -> Finding:
    probe, name = seen.probe, seen.name
    if probe.tls is None:
        return Finding(Level.INFO, f"not verified: the handshake failed ({probe.error})")
    reasons = [probe.verify_error] if probe.verify_error else []
    if not named:
        reasons.append(f"not for {name}")
    if not seen.verified:
        return Finding(Level.FAIL, f"not verified: {'; '.join(reasons)}", WHY["verify"])
    return Finding(Level.OK, f"verified: a chain to a trusted root, for {name}")


SECTIONS: tuple[Callable[[Seen], Section | None], ...] = (
    connection_section,
    versions_section,
    certificate_section,
)
"""The sections that judge what the probes saw, in order; one that returns None is left
out."""


async def dane_look(seen: Seen) -> Section | None:
    """DANE: the TLSA records of the host's port (or those given) against the chain it
    sent. None for an address: TLSA records live under a host name."""
    if not seen.tlsa and is_address(seen.host):
        return None
    chain = seen.tls.chain if seen.tls is not None else ()
    return await dane_section(
        seen.host, seen.port, chain, given=seen.tlsa, nameserver=seen.nameserver
    )


async def mta_sts_look(seen: Seen) -> Section | None:
    """MTA-STS: the domain's policy against its MX hosts, when a domain is named; for a host
    name without one, how to name it (None for an address: it has no domain)."""
    if seen.domain:
        return await mta_sts_section(
            seen.domain,
            seen.mx_names,
            policy_file=seen.policy_file,
            nameserver=seen.nameserver,
            cafile=seen.cafile,
        )
    if is_address(seen.host):
        return None
    text = "not checked: report on @DOMAIN to check its policy against its MX hosts"
    return Section("MTA-STS", (Finding(Level.INFO, text),))


LOOKS: tuple[Callable[[Seen], Awaitable[Section | None]], ...] = (dane_look, mta_sts_look)
"""The sections that look again once the probes are done (DANE: the TLSA records against
``Seen.tls.chain``; MTA-STS), awaited together and shown after :data:`SECTIONS`', in order;
one that returns None is left out."""


def mx_section(way: Route, chosen: str) -> Section:
    """How a report on ``@domain`` found its host: the domain's MX hosts as routing says
    them, and the one it reports on (``chosen``; "" when none can take mail)."""
    if way.found.problem:
        return Section("MX", (Finding(Level.FAIL, way.found.problem),))
    findings = [Finding(Level.INFO, note) for note in way.notes]
    findings.append(Finding(Level.INFO, f"reporting on {chosen}, the first with an address"))
    return Section("MX", tuple(findings))


@dataclass(frozen=True)
class TlsReport:
    """The report on ``host``:``port``: its sections, and the facts they judge."""

    host: str
    port: int
    security: PortSecurity
    sections: tuple[Section, ...]
    versions: tuple[VersionResult, ...]
    tls: TlsInfo | None  # the handshake whose certificate was judged (None: no TLS)
    probe: PortProbe
    verified: bool  # a client with default settings trusts the certificate

    @property
    def level(self) -> Level:
        """The worst level of any finding."""
        every = tuple(finding for section in self.sections for finding in section.findings)
        return Section("", every).level

    @property
    def reached(self) -> bool:
        """Whether any TLS handshake succeeded: else nothing of TLS could be judged."""
        return self.tls is not None


async def tls_report(
    host: str,
    port: int | None = None,
    *,
    security: PortSecurity | None = None,
    sni: str | None = None,
    cafile: str | None = None,
    timeout: float = 10.0,
    nameserver: str | None = None,
    tlsa: tuple[Tlsa, ...] = (),
    domain: str | None = None,
    policy_file: str | None = None,
    now: datetime | None = None,
) -> TlsReport:
    """Look at ``host``:``port`` (25, or 465 with implicit TLS) spoken to by ``security``
    (implicit TLS on 465, else STARTTLS), with ``sni`` (None: the host; "": none) and the
    CAs of ``cafile`` (None: the system's), each step within ``timeout`` seconds.

    ``host`` may be ``@domain`` (or an address at it): the report is then on the domain's
    first MX host with an address, and its MTA-STS policy is checked against all its MX
    hosts; ``domain`` names the domain whose policy to check for a host given by name.
    ``nameserver`` is the DNS server for these and for DANE, ``tlsa`` records to check
    instead of DNS's, ``policy_file`` an MTA-STS policy to check instead of the one
    published (to try one before publishing it). Arguments a session would refuse raise
    its :class:`CommandError`, naming the setting, before anything connects."""
    if security is None:
        security = PortSecurity.TLS if port == SMTPS_PORT else PortSecurity.STARTTLS
    security = PortSecurity(security)
    if security is PortSecurity.PLAIN:
        raise CommandError("security", "a TLS report needs STARTTLS or implicit TLS")
    settings = SessionSettings(
        host=host,
        port=port,
        security=Security(security.value),
        sni=sni,
        cafile=cafile,
        connect_timeout=timeout,
        nameserver=nameserver,
    )  # checks every argument, @domain and the nameserver too, naming the culprit
    domain = settings.mx_domain or (target_domain(domain) if domain else "")
    target = await _locate(settings, domain, timeout)
    host, address, port, unknown = target.host, target.address, target.port, target.error
    if target.mx is not None and target.mx.level is Level.FAIL:  # no host to report on
        probe = PortProbe(host, port, security, error=unknown)
        return TlsReport(host, port, security, (target.mx,), (), None, probe, False)
    name = sni or host
    if not unknown:
        probe, versions = await asyncio.gather(
            probe_port(
                address, port, security, sni=name, verify=VerifyMode.CA, cafile=cafile,
                timeout=timeout,
            ),
            probe_versions(address, port, security, sni=name, timeout=timeout),
        )  # fmt: skip
    else:
        probe, versions = PortProbe(host, port, security, error=unknown), ()
    seen = Seen(
        host,
        port,
        security,
        name,
        probe,
        versions,
        now or datetime.now(UTC),
        nameserver=nameserver,
        cafile=cafile,
        tlsa=tlsa,
        domain=domain or "",
        mx_names=target.mx_names,
        policy_file=policy_file,
    )
    judged = [target.mx] + [judge(seen) for judge in SECTIONS]
    judged += await asyncio.gather(*(look(seen) for look in LOOKS))
    sections = tuple(section for section in judged if section is not None)
    return TlsReport(host, port, security, sections, versions, seen.tls, probe, seen.verified)


@dataclass(frozen=True)
class _Target:
    """Where the report connects: ``host`` by name (for SNI, the certificate, DANE) at
    ``address``; ``mx`` how a domain's MX led there (None: not routed), ``mx_names`` the
    domain's MX hosts; ``error`` why there is no address to connect to."""

    host: str
    address: str
    port: int
    mx: Section | None = None
    mx_names: tuple[str, ...] = ()
    error: str = ""


async def _locate(settings: SessionSettings, domain: str, timeout: float) -> _Target:
    """The host to report on: the settings' host, looked up in their nameserver when one
    is named; or, for a host routed by MX, ``domain``'s first MX host with an address (on
    the settings' :attr:`~SessionSettings.mx_port`). ``domain``'s MX names come along, for
    its MTA-STS policy."""
    nameserver = settings.nameserver
    port = settings.mx_port
    way = await route(domain, port, nameserver=nameserver, timeout=timeout) if domain else None
    mx_names = tuple(each.name for each in way.found.hosts) if way else ()
    if settings.mx_domain is not None:
        assert way is not None
        if way.found.problem or not way.targets:
            return _Target(domain, domain, port, mx_section(way, ""), mx_names, way.found.problem)
        first = way.targets[0]
        return _Target(first.name, first.address, port, mx_section(way, first.name), mx_names)
    host, port = settings.address()
    if nameserver is None or is_address(host):
        return _Target(host, host, port, None, mx_names)
    addresses, error = await host_addresses(host, nameserver=nameserver, timeout=timeout)
    return _Target(host, addresses[0] if addresses else host, port, None, mx_names, error)


def report_json(report: TlsReport) -> dict[str, Any]:
    """``smtptui tls-report --json``'s object: the facts, then the sections' findings."""
    leaf = report.tls.leaf if report.tls is not None else None
    greeting = report.probe.greeting
    return {
        "host": report.host,
        "port": report.port,
        "security": report.security.value,
        "level": report.level.value,
        "tls": report.reached,
        "greeting": f"{greeting.code} {greeting.text}" if greeting else None,
        "versions": [
            {
                "version": found.version,
                "accepted": found.accepted,
                "refused": found.refused,
                "cipher": found.cipher or None,
                "reason": found.reason or None,
            }
            for found in report.versions
        ],
        "certificate": None
        if leaf is None
        else {
            "subject": leaf.subject,
            "issuer": leaf.issuer,
            "names": list(certificate_names(leaf)),
            "not_before": leaf.not_before.isoformat(),
            "not_after": leaf.not_after.isoformat(),
            "key": key_text(leaf),
            "signature": leaf.signature_algorithm,
            "sha256": leaf.sha256,
            "verified": report.verified,
        },
        "sections": [section.as_json() for section in report.sections],
    }
