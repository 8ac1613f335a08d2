"""Routing by MX: a domain's mail servers as the addresses a session connects to, in turn
(RFC 5321 §5.1), and their reverse DNS as findings. The one home of the rule that a refusal
or a timeout moves on to the next MX and anything else is the server's answer; both
``smtptui run`` and the TUI connect through the controller, which follows it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from smtptui.engine.hosts import SMTP_PORT, format_host
from smtptui.engine.mx import (
    DNS_TIMEOUT,
    WHY,
    BannerCheck,
    MxResult,
    ReverseCheck,
    banner_all,
    mx_hosts,
    reverse_all,
)
from smtptui.session.exits import Exit, failed_stage
from smtptui.session.findings import Finding, Level

NO_MX_ANSWERED = "no MX host answered"
"""Said when the last MX host did not take the connection either."""


@dataclass(frozen=True)
class Target:
    """One address to connect to: ``address``, found for the MX host ``name`` (the name
    sent in SNI and checked in its certificate), on ``port``."""

    address: str
    port: int
    name: str

    @property
    def host(self) -> str:
        """``address:port``, as the transcript names a connection."""
        return format_host(self.address, self.port)

    @property
    def moved_on(self) -> str:
        """Said between two attempts."""
        return f"{self.name} at {self.host} did not take the connection: the next MX"


@dataclass(frozen=True)
class Route:
    """Where mail for a domain goes: ``found`` (the MX hosts), and ``targets``, each address
    of each host in preference order."""

    found: MxResult
    targets: tuple[Target, ...] = ()

    @property
    def notes(self) -> tuple[str, ...]:
        """What to say before connecting: the hosts, and why one of them has no address."""
        found = self.found
        if found.problem:
            return ()
        missing = (f"{host.name}: {host.error}" for host in found.hosts if host.error)
        return (f"MX for {found.domain}: {found.summary()}", *missing)


async def route(
    domain: str,
    port: int = SMTP_PORT,
    *,
    nameserver: str | None = None,
    timeout: float = DNS_TIMEOUT,
) -> Route:
    """The route to ``domain`` (ASCII, as :func:`~smtptui.engine.mx.target_domain` gives
    it), its MX hosts' addresses on ``port``; a DNS failure is ``found.problem``."""
    found = await mx_hosts(domain, nameserver=nameserver, timeout=timeout)
    if found.problem:
        return Route(found)
    targets = (
        Target(address, port, host.name) for host in found.hosts for address in host.addresses
    )
    return Route(found, tuple(targets))


def moves_on(error: Exception) -> bool:
    """Whether a connection attempt that failed with ``error`` moves on to the next MX: it
    was refused or timed out (``run``'s exit status 2). A greeting refusing or a failed TLS
    handshake is the server's answer, and stays."""
    return failed_stage("CONNECT", error) is Exit.CONNECT


async def in_turn(
    targets: Sequence[Target],
    connect: Callable[[Target], Awaitable[None]],
    moved: Callable[[Target, Exception], None],
) -> Target:
    """Connect to each of ``targets`` in turn until one takes the connection, and return
    it: an attempt that :func:`moves_on` goes to the next (``moved`` is told of it first);
    any other failure, and the last target's, is raised."""
    for target in targets[:-1]:
        try:
            await connect(target)
        except Exception as error:
            if not moves_on(error):
                raise
            moved(target, error)
        else:
            return target
    await connect(targets[-1])
    return targets[-1]


@dataclass(frozen=True)
class MxReport:
    """What the MX view and ``smtptui mx`` show: the hosts, each address's reverse DNS and,
    once :func:`check_banners` has greeted them, the names each server gives (by address).
    :meth:`findings` is the one home of the words for these checks."""

    found: MxResult
    checks: Mapping[str, ReverseCheck] = field(default_factory=dict)
    banners: Mapping[str, BannerCheck] = field(default_factory=dict)

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every address of every host, in preference order."""
        return tuple(address for host in self.found.hosts for address in host.addresses)

    def findings(self, address: str) -> tuple[Finding, ...]:
        """``address``'s PTR, FCrDNS and banner checks as findings, each failure with why it
        matters (no banner finding before :func:`check_banners`)."""
        return (*self._reverse(address), *self._banner(address))

    def _reverse(self, address: str) -> Iterator[Finding]:
        check = self.checks.get(address)
        if check is None:
            return
        if check.error:
            yield Finding(Level.FAIL, f"PTR: none ({check.error})", WHY["ptr"])
            return
        names = ", ".join(check.ptr)
        yield Finding(Level.OK, f"PTR: {names}")
        if check.confirmed:
            yield Finding(Level.OK, f"FCrDNS: {names} resolves back to {address}")
        else:
            yield Finding(Level.FAIL, f"FCrDNS: {names} does not resolve back", WHY["fcrdns"])

    def _banner(self, address: str) -> Iterator[Finding]:
        check = self.banners.get(address)
        if check is None:
            return
        if not check.greeting_name:  # no greeting to judge: the host is down, or mute
            yield Finding(Level.INFO, f"banner: none ({check.error})")
            return
        said = f"banner {check.greeting_name}, EHLO {check.ehlo_name or 'none'}"
        if check.matches:
            yield Finding(Level.OK, f"{said}: the MX or PTR name")
        else:
            yield Finding(Level.WARN, f"{said}: not the MX name nor a PTR name", WHY["banner"])


async def look_up(
    domain: str, *, nameserver: str | None = None, timeout: float = DNS_TIMEOUT
) -> MxReport:
    """The MX hosts of ``domain`` and the reverse DNS of each of their addresses (DNS only:
    :func:`check_banners` connects)."""
    found = await mx_hosts(domain, nameserver=nameserver, timeout=timeout)
    checks = await reverse_all(found, nameserver=nameserver, timeout=timeout)
    return MxReport(found, checks)


async def check_banners(
    report: MxReport, port: int = SMTP_PORT, *, timeout: float = DNS_TIMEOUT
) -> MxReport:
    """``report`` with the banner check of every address, all greeted at once on ``port``
    (``timeout`` seconds a step): apart from :func:`look_up`, so that the DNS answer can be
    shown while a dead or filtered port is still being waited for."""
    banners = await banner_all(report.found, report.checks, port, timeout=timeout)
    return replace(report, banners=banners)
