"""Where mail for a domain goes: its MX hosts (RFC 5321 §5.1, RFC 7505) and their reverse
DNS. (Connecting to them in turn is the session's: each attempt is a connection of its own.)

Every DNS failure is data (an ``error`` text), never an exception: the CLI prints it and the
UI shows it, as they show a reply.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.name
import dns.resolver
import dns.reversename

from smtptui.engine.hosts import parse_host
from smtptui.engine.probe import PortSecurity, probe_port
from smtptui.protocol.errors import CommandError

DNS_TIMEOUT = 5.0
"""Seconds to wait for the answer to one DNS question, unless told."""

DOMAIN_FIELD = "domain"
"""The field a bad domain is named by in its :class:`CommandError`."""

NAMESERVER_FIELD = "nameserver"

_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")

WHY = {
    "ptr": "Many receivers refuse or score down mail from an address with no reverse DNS "
    "(PTR) name: it is the first sign of a home connection or a hijacked machine.",
    "fcrdns": "Forward-confirmed reverse DNS: the PTR name must resolve back to the address, "
    "or anyone could claim any name; spam filters check it, and Gmail requires it of senders.",
    "banner": "A server names itself in its greeting (RFC 5321 4.3.1) and in its reply to "
    "EHLO (4.1.1.1); receivers and spam filters compare those names with its PTR and MX "
    "names, and a mismatch reads as a misconfigured or hijacked machine.",
}
"""Why receivers care about each check: the one place these words live."""


@dataclass(frozen=True)
class MxHost:
    """One mail exchanger: its preference, its name (no trailing dot) and its A/AAAA
    addresses, A first; ``error`` says why there are none."""

    preference: int
    name: str
    addresses: tuple[str, ...]
    error: str = ""


@dataclass(frozen=True)
class MxResult:
    """A domain's MX hosts, lowest preference first (ties in the DNS order).

    ``implicit``: it has no MX, so its own A/AAAA stand in (RFC 5321 §5.1). ``null``: its MX
    is ``0 .`` (RFC 7505), it accepts no mail. ``error``: why there are no hosts at all.
    """

    domain: str
    hosts: tuple[MxHost, ...] = ()
    implicit: bool = False
    null: bool = False
    error: str = ""

    @property
    def problem(self) -> str:
        """Why no mail can go to the domain ("" when some host may take it)."""
        if self.null:
            return f"{self.domain} accepts no mail: its MX is the null MX '0 .' (RFC 7505)"
        if self.error:
            return self.error
        if not any(host.addresses for host in self.hosts):
            return f"{self.domain}: none of its MX hosts has an address"
        return ""

    def summary(self) -> str:
        """``10 mx1.example.org, 20 mx2.example.org`` (or the problem)."""
        if self.problem and not self.hosts:
            return self.problem
        hosts = ", ".join(f"{host.preference} {host.name}" for host in self.hosts)
        return f"{hosts} (no MX: the domain's own address)" if self.implicit else hosts


@dataclass(frozen=True)
class ReverseCheck:
    """The reverse DNS of ``address`` (an MX host's ``name``): its PTR names; ``confirmed``
    if one of them resolves back to the address (FCrDNS); ``matches`` if one is ``name``;
    ``error`` says why there is no PTR. :data:`WHY` says why each matters."""

    address: str
    name: str
    ptr: tuple[str, ...] = ()
    confirmed: bool = False
    matches: bool = False
    error: str = ""


@dataclass(frozen=True)
class BannerCheck:
    """What the server at ``address`` (an MX host's ``name``) calls itself: the first word
    of its greeting and the host name in its reply to EHLO; ``matches`` if each is the MX
    name or a PTR name of the address (any case); ``error`` says why one is missing."""

    address: str
    name: str
    greeting_name: str = ""
    ehlo_name: str = ""
    matches: bool = False
    error: str = ""


def target_domain(text: str) -> str:
    """The domain of ``text``, a domain or an address (``bob@example.org``), in ASCII (IDNA);
    a bad one is a :class:`CommandError` naming the domain."""
    domain = text.strip().rpartition("@")[2].removesuffix(".")
    if not domain:
        raise CommandError(DOMAIN_FIELD, f"no domain in {text!r}")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise CommandError(DOMAIN_FIELD, f"{domain!r} is not a domain name") from None
    labels = ascii_domain.split(".")
    if len(ascii_domain) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise CommandError(DOMAIN_FIELD, f"{domain!r} is not a domain name")
    return ascii_domain


def make_resolver(nameserver: str | None, timeout: float) -> dns.asyncresolver.Resolver:
    """A resolver asking ``nameserver`` ("IP" or "IP:PORT"; None: the system's), giving up
    after ``timeout`` seconds a question."""
    if nameserver is None:
        resolver = dns.asyncresolver.Resolver()
    else:
        resolver = dns.asyncresolver.Resolver(configure=False)
        address, port = parse_nameserver(nameserver)
        resolver.nameservers = [address]
        resolver.port = port
    resolver.lifetime = timeout
    return resolver


def parse_nameserver(text: str) -> tuple[str, int]:
    """``IP`` or ``IP:PORT`` (``[v6]:PORT``) as address and port; a :class:`CommandError`
    naming the nameserver if it is not one."""
    try:
        address, port = parse_host(text, 53)
        ipaddress.ip_address(address)
    except ValueError as error:
        raise CommandError(NAMESERVER_FIELD, f"{text!r} is not IP or IP:PORT ({error})") from None
    return address, port


async def mx_hosts(
    domain: str, *, nameserver: str | None = None, timeout: float = DNS_TIMEOUT
) -> MxResult:
    """The MX hosts of ``domain`` (see :class:`MxResult`), each with its addresses."""
    resolver = make_resolver(nameserver, timeout)
    try:
        answer = await resolver.resolve(domain, "MX")
    except dns.resolver.NoAnswer:
        addresses, error = await addresses_of(resolver, domain)
        if not addresses:
            return MxResult(domain, error=f"no MX record, and {error}")
        return MxResult(domain, (MxHost(0, domain, addresses),), implicit=True)
    except dns.exception.DNSException as error:
        return MxResult(domain, error=dns_failure(domain, "MX", error))
    records = [(record.preference, record.exchange) for record in answer]
    if len(records) == 1 and records[0][1] == dns.name.root:
        return MxResult(domain, null=True)
    records.sort(key=lambda record: record[0])  # stable: ties stay in the DNS order
    names = [exchange.to_text(omit_final_dot=True) for _, exchange in records]
    found = await asyncio.gather(*(addresses_of(resolver, name) for name in names))
    hosts = tuple(
        MxHost(preference, name, addresses, error)
        for (preference, _), name, (addresses, error) in zip(records, names, found, strict=True)
    )
    return MxResult(domain, hosts)


async def reverse_checks(
    address: str, name: str, *, nameserver: str | None = None, timeout: float = DNS_TIMEOUT
) -> ReverseCheck:
    """The PTR names of ``address``, and whether one resolves back to it (FCrDNS) and is
    ``name``, the host it was found for."""
    resolver = make_resolver(nameserver, timeout)
    try:
        answer = await resolver.resolve(dns.reversename.from_address(address), "PTR")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return ReverseCheck(address, name, error=f"{address} has no PTR record")
    except dns.exception.DNSException as error:
        return ReverseCheck(address, name, error=dns_failure(address, "PTR", error))
    ptr = tuple(record.target.to_text(omit_final_dot=True) for record in answer)
    found = await asyncio.gather(*(addresses_of(resolver, each) for each in ptr))
    confirmed = any(address in addresses for addresses, _ in found)
    matches = name.lower().rstrip(".") in (each.lower() for each in ptr)
    return ReverseCheck(address, name, ptr, confirmed, matches)


async def banner_check(
    address: str, name: str, ptr: tuple[str, ...], port: int = 25, *, timeout: float = 10.0
) -> BannerCheck:
    """Greet the server at ``address``:``port`` (EHLO, no TLS) and compare the names it
    gives with ``name`` and the address's ``ptr`` names."""
    probe = await probe_port(address, port, PortSecurity.PLAIN, timeout=timeout)
    first = probe.greeting.lines[0] if probe.greeting and probe.greeting.lines else b""
    words = first.decode("utf-8", "backslashreplace").split(None, 1)
    greeting_name = words[0] if words and probe.greeting and probe.greeting.code == 220 else ""
    ehlo_name = probe.before.hostname if probe.before is not None else ""
    known = {each.lower().rstrip(".") for each in (name, *ptr)}
    names = (greeting_name, ehlo_name)
    matches = all(each and each.lower().rstrip(".") in known for each in names)
    error = probe.error or ("" if greeting_name else "the greeting names no host")
    return BannerCheck(address, name, greeting_name, ehlo_name, matches, error)


async def banner_all(
    result: MxResult,
    checks: Mapping[str, ReverseCheck],
    port: int = 25,
    *,
    timeout: float = 10.0,
) -> dict[str, BannerCheck]:
    """The :func:`banner_check` of every address of ``result``'s hosts at once, by
    address, each against its reverse DNS in ``checks``."""
    names = {address: host.name for host in result.hosts for address in host.addresses}
    found = await asyncio.gather(
        *(
            banner_check(each, name, checks[each].ptr, port, timeout=timeout)
            for each, name in names.items()
        )
    )
    return {check.address: check for check in found}


async def reverse_all(
    result: MxResult, *, nameserver: str | None = None, timeout: float = DNS_TIMEOUT
) -> dict[str, ReverseCheck]:
    """The :func:`reverse_checks` of every address of ``result``'s hosts, by address."""
    names = {address: host.name for host in result.hosts for address in host.addresses}
    checks = await asyncio.gather(
        *(
            reverse_checks(each, name, nameserver=nameserver, timeout=timeout)
            for each, name in names.items()
        )
    )
    return {check.address: check for check in checks}


async def host_addresses(
    name: str, *, nameserver: str | None = None, timeout: float = DNS_TIMEOUT
) -> tuple[tuple[str, ...], str]:
    """``name``'s addresses as ``nameserver`` (None: the system's) gives them, A first, and
    why there are none: a host is looked up in the DNS server the user named, not only the
    system's."""
    return await addresses_of(make_resolver(nameserver, timeout), name)


async def addresses_of(
    resolver: dns.asyncresolver.Resolver, name: str
) -> tuple[tuple[str, ...], str]:
    """The A then AAAA addresses of ``name``, and why there are none ("" when some)."""
    found: list[str] = []
    errors: list[dns.exception.DNSException] = []
    for kind in ("A", "AAAA"):
        try:
            answer = await resolver.resolve(name, kind)
        except dns.exception.DNSException as error:
            errors.append(error)
        else:
            found.extend(record.to_text() for record in answer)
    if found:
        return tuple(found), ""
    if all(isinstance(error, dns.resolver.NoAnswer) for error in errors):
        return (), f"{name} has no address (no A or AAAA record)"
    failure = next(e for e in errors if not isinstance(e, dns.resolver.NoAnswer))
    return (), dns_failure(name, "A", failure)


def dns_failure(name: str, kind: str, error: dns.exception.DNSException) -> str:
    """A DNS failure in words (every DNS check says its failures this way)."""
    if isinstance(error, dns.resolver.NXDOMAIN):
        return f"{name} does not exist (NXDOMAIN)"
    if isinstance(error, dns.resolver.NoAnswer):
        return f"{name} has no {kind} record"
    if isinstance(error, dns.exception.Timeout):
        return f"no answer from DNS for {name} {kind} within the timeout"
    if isinstance(error, dns.resolver.NoNameservers):
        return f"no DNS server answered for {name} {kind} (SERVFAIL or refused)"
    return f"DNS lookup of {name} {kind} failed: {error}"
