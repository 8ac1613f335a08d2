"""The submission probe: which port, security and AUTH a mail server wants from a client.

Every port is probed at once (:func:`~smtptui.engine.probe.probe_port`); what each said
becomes a row of short texts (:func:`probe_cells`, the matrix the CLI and the TUI draw),
findings in plain words, and a recommendation: the best port, its security and the AUTH
mechanism the session would choose there.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from smtptui.engine.hosts import is_address, parse_host, parse_port
from smtptui.engine.mx import host_addresses, target_domain
from smtptui.engine.probe import PortProbe, PortSecurity, probe_port
from smtptui.engine.tls import VerifyMode
from smtptui.protocol.auth import SMTP_AUTO_ORDER, NoMechanismError, choose_mechanism
from smtptui.protocol.capabilities import Capabilities, human_size
from smtptui.protocol.errors import CommandError
from smtptui.session.findings import Finding, Level
from smtptui.session.visible import decoded, visible

PORT_FIELD = "port"
"""The field a bad port is named by in its :class:`CommandError`."""

HOST_FIELD = "host"
"""The field a bad host is named by."""


@dataclass(frozen=True)
class ProbeTarget:
    """One port to probe and how to speak to it."""

    port: int
    security: PortSecurity

    @property
    def label(self) -> str:
        """``587/starttls``."""
        return f"{self.port}/{self.security.value}"


DEFAULT_PORTS = (
    ProbeTarget(25, PortSecurity.STARTTLS),
    ProbeTarget(587, PortSecurity.STARTTLS),
    ProbeTarget(465, PortSecurity.TLS),
    ProbeTarget(2525, PortSecurity.STARTTLS),
)
"""Where mail clients look for a submission port (Thunderbird's guesses): relay, submission
with STARTTLS, submission with implicit TLS (RFC 8314), and the common alternative."""

SUBMISSION_PORTS = (465, 587)
"""The ports meant for clients that log in (RFC 8314, RFC 6409); 25 is for servers."""

IMPLICIT_TLS_PORT = 465


def parse_probe_target(text: str) -> ProbeTarget:
    """``587``, ``465:tls``, ``2525:plain``, ``25:starttls``: a bare port is spoken to with
    implicit TLS if it is 465, else with STARTTLS. A :class:`CommandError` naming the port
    if ``text`` is not one of these."""
    number, colon, how = text.strip().partition(":")
    try:
        port = parse_port(number, text)
    except ValueError as error:
        raise CommandError(PORT_FIELD, str(error)) from None
    if not colon:
        return ProbeTarget(
            port, PortSecurity.TLS if port == IMPLICIT_TLS_PORT else PortSecurity.STARTTLS
        )
    try:
        return ProbeTarget(port, PortSecurity(how.strip().lower()))
    except ValueError:
        choices = ", ".join(security.value for security in PortSecurity)
        raise CommandError(PORT_FIELD, f"{text!r}: after ':' comes one of {choices}") from None


def parse_probe_host(text: str) -> str:
    """The host to probe: an IP address, or a host name (in ASCII, IDNA). The ports are
    the targets', so ``host:port`` is refused, as is anything else that is not a host: a
    :class:`CommandError` naming the host."""
    try:
        host, port = parse_host(text, 0)
    except ValueError as error:
        raise CommandError(HOST_FIELD, str(error)) from None
    if port:
        raise CommandError(HOST_FIELD, f"{text!r}: the host alone (its ports are probed apart)")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if "@" in host:
        raise CommandError(HOST_FIELD, f"{text!r} is not a host name")
    try:
        return target_domain(host)
    except CommandError as error:  # the same rule, named for the host
        raise CommandError(HOST_FIELD, str(error).partition(": ")[2]) from None


@dataclass(frozen=True)
class ProbeReport:
    """A host's probe: what each port said, in ``probes`` (in the order asked), what that
    means (``findings``), and which port to use (``recommendation``, one sentence);
    ``address``: where the host was found, when it was looked up in a DNS server of the
    user's ("" otherwise: the host was connected to as it is)."""

    host: str
    probes: tuple[PortProbe, ...]
    findings: tuple[Finding, ...]
    recommendation: str
    address: str = ""

    @property
    def best(self) -> PortProbe | None:
        """The port the recommendation names (None when none offers AUTH)."""
        return _best(self.probes)

    @property
    def usable(self) -> bool:
        """Whether some port takes a login inside TLS: a client can submit mail there."""
        best = self.best
        return best is not None and best.tls is not None

    @property
    def answered(self) -> bool:
        """Whether any port connected."""
        return any(probe.connected for probe in self.probes)


async def probe_host(
    host: str,
    targets: Sequence[ProbeTarget] = DEFAULT_PORTS,
    *,
    timeout: float = 10.0,
    verify: VerifyMode = VerifyMode.BOTH,
    cafile: str | None = None,
    sni: str | None = None,
    nameserver: str | None = None,
) -> ProbeReport:
    """Probe every one of ``targets`` on ``host`` at once (``timeout`` seconds a step): the
    whole probe ends within twice the timeout, whatever the ports do. ``nameserver``: a
    host name is looked up there first (within ``timeout``), its first address probed, and
    the name sent in SNI and checked in the certificate unless ``sni`` says otherwise; no
    address: every port reports why."""
    address = ""
    if nameserver is not None and not is_address(host):
        found, error = await host_addresses(host, nameserver=nameserver, timeout=timeout)
        if not found:
            probes = tuple(PortProbe(host, t.port, t.security, error=error) for t in targets)
            findings = tuple(finding for probe in probes for finding in port_findings(probe))
            return ProbeReport(host, probes, findings, recommend(probes))
        address, sni = found[0], host if sni is None else sni
    probes = await asyncio.gather(
        *(
            probe_port(
                address or host,
                target.port,
                target.security,
                sni=sni,
                verify=verify,
                cafile=cafile,
                timeout=timeout,
            )
            for target in targets
        )
    )
    findings = tuple(finding for probe in probes for finding in port_findings(probe))
    return ProbeReport(host, tuple(probes), findings, recommend(probes), address)


# -- findings -------------------------------------------------------------------------------

WHY = {
    "not smtp": "A mail server greets with 220 as soon as a client connects (RFC 5321 3.1); "
    "anything else means another service listens there, or the server turns clients away.",
    "implicit tls": "The port waits for a TLS handshake before it greets (implicit TLS, "
    "RFC 8314): a client set to STARTTLS or no TLS waits there until its timeout.",
    "plaintext": "The port answers in plain text: it expects STARTTLS (or no TLS), and a "
    "client set to implicit TLS fails at the handshake.",
    "no starttls": "Without TLS the password and the message cross the network in clear; "
    "RFC 8314 asks submission servers to require TLS.",
    "starttls refused": "The server offers STARTTLS but will not start it: a client that "
    "insists on TLS cannot go on, and one that does not goes on in clear.",
    "handshake": "No TLS connection could be made: the client and the server share no TLS "
    "version or cipher, or the port does not really speak TLS.",
    "unverified": "A certificate that does not verify could be anyone's: whoever sits between "
    "the client and the server could show it and read the password. Clients refuse it or "
    "ask the user.",
    "auth before tls": "A client that does not insist on TLS may send its password before "
    "STARTTLS, in clear; servers should offer AUTH only inside TLS (RFC 3207 4, RFC 8314).",
    "no auth": "No AUTH means no login: such a port takes mail for its own domains from "
    "other servers (port 25), not a client's mail for the world.",
}
"""Why each finding matters: the one place these words live."""


def port_findings(probe: PortProbe) -> Iterator[Finding]:
    """What ``probe`` means, port by port: each problem once, with why it matters."""
    label = ProbeTarget(probe.port, probe.security).label
    if not probe.connected:
        yield Finding(Level.INFO, f"{label}: no connection ({probe.error})")
        return
    if probe.cause == "implicit-tls":
        yield Finding(
            Level.WARN,
            f"{label}: the port expects implicit TLS (probe it as {probe.port}:tls)",
            WHY["implicit tls"],
        )
        return
    if probe.greeting is None or probe.greeting.code != 220:
        said = _greeting(probe) or "nothing"
        yield Finding(
            Level.FAIL, f"{label}: not an SMTP greeting: {said} ({probe.error})", WHY["not smtp"]
        )
        return
    if probe.cause == "plaintext":
        yield Finding(
            Level.WARN,
            f"{label}: the port answers in plain text, not TLS (probe it as {probe.port}:starttls)",
            WHY["plaintext"],
        )
        return
    yield from _tls_findings(label, probe)
    yield from _auth_findings(label, probe)
    if probe.error and probe.stage not in ("starttls", "handshake"):
        yield Finding(Level.FAIL, f"{label}: stopped at {probe.stage}: {probe.error}")


def _tls_findings(label: str, probe: PortProbe) -> Iterator[Finding]:
    before = probe.before
    if probe.security is PortSecurity.STARTTLS and before is not None and not before.starttls:
        yield Finding(Level.WARN, f"{label}: STARTTLS is not offered", WHY["no starttls"])
    elif probe.stage == "starttls" and probe.error:
        yield Finding(
            Level.FAIL, f"{label}: STARTTLS refused: {probe.error}", WHY["starttls refused"]
        )
    elif probe.stage == "handshake" and probe.tls is None:
        yield Finding(Level.FAIL, f"{label}: {probe.error}", WHY["handshake"])
    if probe.tls is None:
        return
    if probe.verify_error:
        yield Finding(
            Level.WARN,
            f"{label}: {probe.tls.version}, certificate not verified: {probe.verify_error}",
            WHY["unverified"],
        )
    elif probe.tls.verified:
        yield Finding(Level.OK, f"{label}: {probe.tls.version}, certificate verified")
    else:  # verification was turned off (--verify none)
        yield Finding(Level.INFO, f"{label}: {probe.tls.version}, {probe.tls.verify_note}")


def _auth_findings(label: str, probe: PortProbe) -> Iterator[Finding]:
    outside = _mechanisms(probe.before) if probe.security is not PortSecurity.TLS else ()
    inside = _mechanisms(probe.after)
    if outside:
        yield Finding(
            Level.WARN,
            f"{label}: AUTH offered before TLS ({' '.join(outside)})",
            WHY["auth before tls"],
        )
    if inside:
        yield Finding(Level.OK, f"{label}: AUTH offered inside TLS ({' '.join(inside)})")
    elif not outside and probe.capabilities is not None:
        yield Finding(Level.INFO, f"{label}: no AUTH offered", WHY["no auth"])


# -- the recommendation ---------------------------------------------------------------------


def _rank(probe: PortProbe) -> tuple[int, bool, bool]:
    """Better first when sorted in reverse: TLS verified, then unverified, then none; a
    submission port; implicit TLS (RFC 8314 prefers it for submission)."""
    tls = 2 if probe.tls_verified else 1 if probe.tls is not None else 0
    return tls, probe.port in SUBMISSION_PORTS, probe.security is PortSecurity.TLS


def _best(probes: Sequence[PortProbe]) -> PortProbe | None:
    """The port to submit on: one that offers AUTH, ranked by :func:`_rank`."""
    candidates = [probe for probe in probes if _offered(probe)]
    return max(candidates, key=_rank, default=None)


def _offered(probe: PortProbe) -> tuple[str, ...]:
    """The AUTH mechanisms a client would see where it logs in: inside TLS if reached."""
    return _mechanisms(probe.capabilities)


INSIDE_TLS = ("PLAIN", "LOGIN")
"""The mechanisms to recommend inside TLS, first offered first: every mail client and
library speaks them, and TLS protects the password they send (CRAM-MD5, which the session
would pick on its own, is obsolete and needs the server to keep passwords in clear)."""


def mechanism(probe: PortProbe) -> str:
    """The mechanism to use with what ``probe`` offers: inside TLS, one of
    :data:`INSIDE_TLS`; else the one the session would choose, a password one if it can,
    else a token one ("" when it offers none the session knows)."""
    offered = _offered(probe)
    if probe.tls is not None:
        for name in INSIDE_TLS:
            if name in offered:
                return name
    for have_token in (False, True):
        with contextlib.suppress(NoMechanismError):
            return choose_mechanism(offered, have_token=have_token)
    return ""


def recommend(probes: Sequence[PortProbe]) -> str:
    """One sentence: which port, security and mechanism to use, or why there is none."""
    best = _best(probes)
    if best is None:
        return _nothing_usable(probes)
    how = _how(best)
    sentence = f"Use {best.port} with {how} and {_mechanism_words(best)}"
    if best.security is PortSecurity.TLS and best.tls is not None:
        sentence += " (RFC 8314 prefers implicit TLS for submission)"
    others = [
        probe
        for probe in probes
        if probe is not best and _offered(probe) and _rank(probe)[:2] == _rank(best)[:2]
    ]
    sentence += "".join(f"; {other.port} with {_how(other)} works too" for other in others)
    if best.tls is None:
        sentence += ", but without TLS: the password would cross the network in clear"
    elif best.verify_error:
        sentence += f", but its certificate is not verified ({best.verify_error})"
    return visible(sentence + ".", one_line=True)


def _how(probe: PortProbe) -> str:
    if probe.tls is None:
        return "no TLS"
    return "implicit TLS" if probe.security is PortSecurity.TLS else "STARTTLS"


def _mechanism_words(probe: PortProbe) -> str:
    chosen = mechanism(probe)
    if chosen in SMTP_AUTO_ORDER:
        return chosen
    if chosen:
        return f"{chosen} (with a token)"
    return f"AUTH {' '.join(_offered(probe))} (a mechanism smtptui does not know)"


def _nothing_usable(probes: Sequence[PortProbe]) -> str:
    ports = ", ".join(str(probe.port) for probe in probes)
    if not any(probe.connected for probe in probes):
        return f"Nothing answered on {ports}."
    if not any(probe.capabilities is not None for probe in probes):
        return f"No port speaks SMTP as far as EHLO ({ports}): see the findings."
    return f"No port offers AUTH ({ports}): this server takes no client's login from here."


# -- the matrix -----------------------------------------------------------------------------

PROBE_COLUMNS = (
    "port",
    "connects",
    "greeting",
    "TLS",
    "AUTH before TLS",
    "AUTH inside TLS",
    "SIZE",
    "extensions",
)
"""The matrix's header: one row a port, these short texts in each (:func:`probe_cells`)."""

GREETING_WIDTH = 32
"""At most this many characters of a greeting in the matrix (the JSON has it whole)."""

NONE = "—"
"""A cell with nothing to say (the step was not reached, or does not apply)."""


def probe_cells(probe: PortProbe) -> tuple[str, ...]:
    """One row of the matrix, in :data:`PROBE_COLUMNS`' order; every text a server sent is
    :func:`~smtptui.session.visible.visible` and on one line."""
    before = probe.before if probe.security is not PortSecurity.TLS else None
    capabilities = probe.capabilities
    return (
        ProbeTarget(probe.port, probe.security).label,
        "yes" if probe.connected else "no",
        _short(_greeting(probe), GREETING_WIDTH) or NONE,
        _tls_cell(probe),
        _auth_cell(before),
        _auth_cell(probe.after),
        _size_cell(capabilities),
        " ".join(ext.keyword for ext in capabilities.extensions) if capabilities else NONE,
    )


def _greeting(probe: PortProbe) -> str:
    """The greeting's first line, code and all, made visible ("" when none came)."""
    if probe.greeting is None:
        return ""
    first = probe.greeting.lines[0] if probe.greeting.lines else b""
    return visible(f"{probe.greeting.code} {decoded(first)}", one_line=True)


def _tls_cell(probe: PortProbe) -> str:
    if probe.tls is not None:
        if probe.verify_error:
            return f"{probe.tls.version} ✘ {visible(probe.verify_error, one_line=True)}"
        return f"{probe.tls.version} {'✔ verified' if probe.tls.verified else 'not verified'}"
    if probe.security is PortSecurity.PLAIN or not probe.connected:
        return NONE
    if probe.before is not None and not probe.before.starttls:
        return "not offered"
    if probe.stage == "starttls" and probe.error:
        return f"✘ refused ({visible(probe.error, one_line=True)})"
    if probe.stage == "handshake":
        return "✘ handshake failed"
    return NONE


def _auth_cell(capabilities: Capabilities | None) -> str:
    if capabilities is None:
        return NONE
    return " ".join(_mechanisms(capabilities)) or "none"


def _size_cell(capabilities: Capabilities | None) -> str:
    size = capabilities.size if capabilities is not None else None
    if size is None:
        return NONE
    return "no limit" if size == 0 else human_size(size)


def _mechanisms(capabilities: Capabilities | None) -> tuple[str, ...]:
    if capabilities is None:
        return ()
    return tuple(visible(name, one_line=True) for name in capabilities.auth_mechanisms)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# -- JSON -----------------------------------------------------------------------------------


def probe_json(report: ProbeReport) -> dict[str, object]:
    """``smtptui probe --json``'s object: every port with all it said (server texts exact:
    print it with :func:`~smtptui.session.visible.json_line`), the findings, the
    recommendation."""
    best = report.best
    return {
        "host": report.host,
        "address": report.address or None,
        "usable": report.usable,
        "recommendation": report.recommendation,
        "best": None
        if best is None
        else {"port": best.port, "security": best.security.value, "mechanism": mechanism(best)},
        "ports": [_probe_json(probe) for probe in report.probes],
        "findings": [finding.as_json() for finding in report.findings],
        "why": WHY,
    }


def _probe_json(probe: PortProbe) -> dict[str, object]:
    greeting = probe.greeting
    return {
        "port": probe.port,
        "security": probe.security.value,
        "connected": probe.connected,
        "stage": probe.stage,
        "error": probe.error or None,
        "greeting": None
        if greeting is None
        else {"code": greeting.code, "lines": [decoded(line) for line in greeting.lines]},
        "before_tls": _capabilities_json(probe.before),
        "inside_tls": _capabilities_json(probe.after),
        "tls": None
        if probe.tls is None
        else {
            "version": probe.tls.version,
            "cipher": probe.tls.cipher,
            "verified": probe.tls_verified,
            "note": probe.tls.verify_note,
        },
        "verify_error": probe.verify_error or None,
        "elapsed": round(probe.elapsed, 3),
        "cells": dict(zip(PROBE_COLUMNS, probe_cells(probe), strict=True)),
    }


def _capabilities_json(capabilities: Capabilities | None) -> dict[str, object] | None:
    if capabilities is None:
        return None
    return {
        "hostname": capabilities.hostname,
        "extensions": [
            {"keyword": ext.keyword, "params": list(ext.params)} for ext in capabilities.extensions
        ],
        "auth": list(capabilities.auth_mechanisms),
        "size": capabilities.size,
    }
