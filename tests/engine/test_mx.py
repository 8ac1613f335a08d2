"""MX routing, reverse DNS and the banner check, asked of a real DNS server on 127.0.0.1
(support.dns.ZONE) and real SMTP servers."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from smtptui.engine.mx import (
    WHY,
    BannerCheck,
    MxHost,
    banner_check,
    mx_hosts,
    parse_nameserver,
    reverse_checks,
    target_domain,
)
from smtptui.protocol.errors import CommandError
from smtptui.server import EmbeddedServer

from support.scripted import ScriptedServer, dialogue


def _free_port(kind: socket.SocketKind) -> int:
    """A port on 127.0.0.1 where nothing listens (for ``kind``) once this returns."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def free_udp_port() -> int:
    return _free_port(socket.SOCK_DGRAM)


@pytest.fixture
def free_tcp_port() -> int:
    return _free_port(socket.SOCK_STREAM)


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("example.org", "example.org"),
        ("bob@Example.ORG", "example.org"),
        (" example.org. ", "example.org"),
        ("jörg@bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_target_domain_takes_a_domain_or_an_address(text: str, domain: str) -> None:
    assert target_domain(text) == domain


@pytest.mark.parametrize("text", ["", "bob@", "exa mple.org", "a..b", "-a.org", "a\r\nb.org"])
def test_a_bad_domain_is_an_error_naming_the_field(text: str) -> None:
    with pytest.raises(CommandError) as caught:
        target_domain(text)
    assert caught.value.field == "domain"


@pytest.mark.parametrize("text", ["localhost", "1.2.3.4:x", "1.2.3.4:70000", ""])
def test_a_bad_nameserver_is_an_error_naming_the_field(text: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_nameserver(text)
    assert caught.value.field == "nameserver"


def test_a_nameserver_is_an_address_and_a_port() -> None:
    assert parse_nameserver("192.0.2.1") == ("192.0.2.1", 53)
    assert parse_nameserver("[::1]:5353") == ("::1", 5353)


async def test_mx_hosts_by_preference_with_their_addresses(nameserver: str) -> None:
    found = await mx_hosts("mail.test", nameserver=nameserver)
    assert found.hosts == (
        MxHost(10, "mx1.mail.test", ("127.0.0.2",)),
        MxHost(20, "mx2.mail.test", ("127.0.0.1",)),
    )
    assert not found.problem
    assert found.summary() == "10 mx1.mail.test, 20 mx2.mail.test"


async def test_ties_keep_the_dns_order(nameserver: str) -> None:
    found = await mx_hosts("tie.test", nameserver=nameserver)
    assert [(host.preference, host.name) for host in found.hosts] == [
        (5, "c.tie.test"),
        (10, "b.tie.test"),
        (10, "a.tie.test"),
    ]
    assert found.hosts[0].addresses == ("::1",)


async def test_null_mx_accepts_no_mail(nameserver: str) -> None:
    found = await mx_hosts("null.test", nameserver=nameserver)
    assert found.null and not found.hosts
    assert "accepts no mail" in found.problem and "RFC 7505" in found.problem


async def test_no_mx_means_the_domains_own_address(nameserver: str) -> None:
    found = await mx_hosts("implicit.test", nameserver=nameserver)
    assert found.implicit
    assert found.hosts == (MxHost(0, "implicit.test", ("127.0.0.1",)),)
    assert not found.problem


async def test_no_mx_and_no_address_is_said(nameserver: str) -> None:
    found = await mx_hosts("nothing.test", nameserver=nameserver)
    assert not found.hosts
    assert found.problem == ("no MX record, and nothing.test has no address (no A or AAAA record)")


async def test_nxdomain_is_said(nameserver: str) -> None:
    found = await mx_hosts("missing.test", nameserver=nameserver)
    assert found.problem == "missing.test does not exist (NXDOMAIN)"


async def test_no_dns_answer_within_the_timeout_is_said(free_udp_port: int) -> None:
    found = await mx_hosts("mail.test", nameserver=f"127.0.0.1:{free_udp_port}", timeout=0.5)
    assert not found.hosts
    assert "mail.test MX" in found.problem


async def test_a_ptr_that_resolves_back_is_confirmed(nameserver: str) -> None:
    check = await reverse_checks("127.0.0.1", "mx2.mail.test", nameserver=nameserver)
    assert check.ptr == ("mx2.mail.test",)
    assert check.confirmed and check.matches and not check.error


async def test_a_ptr_that_does_not_resolve_back_is_not_confirmed(nameserver: str) -> None:
    check = await reverse_checks("127.0.0.2", "mx1.mail.test", nameserver=nameserver)
    assert check.ptr == ("liar.test",)
    assert not check.confirmed and not check.matches


async def test_a_missing_ptr_is_said(nameserver: str) -> None:
    check = await reverse_checks("127.0.0.3", "mx.test", nameserver=nameserver)
    assert check.ptr == () and not check.confirmed
    assert check.error == "127.0.0.3 has no PTR record"
    assert set(WHY) == {"ptr", "fcrdns", "banner"}


async def test_banner_check_matches_the_mx_or_a_ptr_name_in_any_case(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server(hostname="Mail.Example.ORG")
    by_ptr = await banner_check(
        "127.0.0.1", "mx.example.org", ("mail.example.org.",), server.port, timeout=2
    )
    assert by_ptr == BannerCheck(
        "127.0.0.1", "mx.example.org", "Mail.Example.ORG", "Mail.Example.ORG", True, ""
    )
    by_name = await banner_check("127.0.0.1", "mail.example.org", (), server.port, timeout=2)
    assert by_name.matches


async def test_banner_check_a_mismatch(server: EmbeddedServer) -> None:
    check = await banner_check(
        "127.0.0.1", "mx2.mail.test", ("mx2.mail.test",), server.port, timeout=2
    )
    assert (check.greeting_name, check.ehlo_name) == ("smtptui.demo", "smtptui.demo")
    assert not check.matches and check.error == ""


async def test_banner_check_a_server_that_is_not_there(free_tcp_port: int) -> None:
    check = await banner_check("127.0.0.1", "mx.example", (), free_tcp_port, timeout=2)
    assert not check.matches and check.greeting_name == "" and "refused" in check.error


async def test_banner_check_a_greeting_and_ehlo_that_disagree() -> None:
    """The greeting names the MX, EHLO another host: not a match."""
    script = dialogue({"EHLO": b"250 elsewhere.example\r\n"}, greeting=b"220 mx.example ESMTP\r\n")
    async with ScriptedServer(script) as server:
        check = await banner_check("127.0.0.1", "mx.example", (), server.port, timeout=2)
    assert (check.greeting_name, check.ehlo_name, check.matches) == (
        "mx.example",
        "elsewhere.example",
        False,
    )
