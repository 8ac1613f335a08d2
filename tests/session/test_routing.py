"""Routing by MX in the session, against a real DNS server on 127.0.0.1 (support.dns.ZONE) and
the embedded server: mail.test's first MX (127.0.0.2) has nothing listening, its second
(127.0.0.1) is the embedded server, on the port the settings give."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator

import pytest

from smtptui.engine import errors
from smtptui.engine.mx import WHY
from smtptui.protocol.errors import CommandError
from smtptui.server import EmbeddedServer
from smtptui.session import (
    Connect,
    EntryKind,
    Exit,
    Risk,
    RunAll,
    Security,
    SendMessage,
    SessionController,
    SessionSettings,
)
from smtptui.session.findings import Finding, Level
from smtptui.session.routing import Target, check_banners, in_turn, look_up, route


def routed(
    nameserver: str, port: int, host: str = "@mail.test", **changes: object
) -> SessionSettings:
    given: dict[str, object] = {"security": Security.NONE, "helo_name": "client.example"}
    return SessionSettings(
        host=host,
        port=port,
        nameserver=nameserver,
        **(given | changes),  # type: ignore[arg-type]
    )


def texts(controller: SessionController) -> list[tuple[EntryKind, str]]:
    return [(entry.kind, entry.text) for t in controller.transcripts for entry in t]


@pytest.fixture
def dead_dns() -> Iterator[str]:
    """A UDP port on 127.0.0.1 that takes DNS questions and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


def test_a_host_written_as_a_domain_or_an_address_routes_by_mx() -> None:
    assert SessionSettings(host="@Example.ORG").mx_domain == "example.org"
    assert SessionSettings(host="bob@example.org").mx_domain == "example.org"
    assert SessionSettings(host="mail.example.org").mx_domain is None  # connected to as is
    assert SessionSettings(host="@example.org").mx_port == 25
    written = SessionSettings(host="bob@example.org:2525")
    assert (written.mx_domain, written.mx_port) == ("example.org", 2525)
    assert SessionSettings(host="@example.org:2525", port=587).mx_port == 587  # the Port field
    with pytest.raises(CommandError, match="routes by MX") as error:
        SessionSettings(host="@example.org").address()
    assert error.value.field == "host"


def test_a_bad_domain_or_nameserver_names_its_field() -> None:
    with pytest.raises(CommandError, match="is not a domain name") as error:
        SessionSettings(host="@exa mple.org")
    assert error.value.field == "host"
    with pytest.raises(CommandError, match="port") as error:
        SessionSettings(host="@example.org:99999")
    assert error.value.field == "host"
    with pytest.raises(CommandError, match=r"'dns\.example' is not IP or IP:PORT") as error:
        SessionSettings(nameserver="dns.example")
    assert error.value.field == "nameserver"


async def test_the_route_lists_each_address_in_preference_order(nameserver: str) -> None:
    found = await route("mail.test", 2525, nameserver=nameserver)
    assert found.targets == (
        Target("127.0.0.2", 2525, "mx1.mail.test"),
        Target("127.0.0.1", 2525, "mx2.mail.test"),
    )
    assert found.notes == ("MX for mail.test: 10 mx1.mail.test, 20 mx2.mail.test",)
    ties = await route("tie.test", nameserver=nameserver)
    assert [(t.name, t.host) for t in ties.targets] == [
        ("c.tie.test", "[::1]:25"),
        ("b.tie.test", "127.0.0.1:25"),  # one preference: the DNS order
        ("a.tie.test", "127.0.0.1:25"),
    ]


async def test_connect_falls_back_to_the_next_mx_and_sends_there(
    nameserver: str, make_server: Callable[..., EmbeddedServer]
) -> None:
    server = make_server(starttls=False)
    controller = SessionController(routed(nameserver, server.port))
    send = SendMessage("alice@example.org", ("bob@mail.test",), "Subject: hi\r\n\r\nhi\r\n")
    outcome = await controller.run(RunAll(send))
    assert outcome.ok, outcome.error
    port = server.port
    said = texts(controller)
    first = [
        (EntryKind.INFO, "MX for mail.test: 10 mx1.mail.test, 20 mx2.mail.test"),
        (EntryKind.INFO, f"Connecting to 127.0.0.2:{port}…"),
    ]
    assert said[:2] == first
    assert said[2][0] is EntryKind.ERROR and f"refused by 127.0.0.2:{port}" in said[2][1]
    moved = f"mx1.mail.test at 127.0.0.2:{port} did not take the connection: the next MX"
    assert said[3:5] == [
        (EntryKind.INFO, moved),
        (EntryKind.INFO, f"Connecting to 127.0.0.1:{port}…"),
    ]
    [message] = server.messages
    assert message.rcpt_tos == ("bob@mail.test",)
    recipe = controller.recipe
    assert recipe is not None and recipe.where() == f"127.0.0.1:{port}"  # the host that took it


async def test_the_certificate_is_checked_for_the_mx_name_unless_sni_is_set(
    nameserver: str, make_server: Callable[..., EmbeddedServer], client_tls_context: ssl.SSLContext
) -> None:
    """The test certificate is for localhost: mx2.mail.test's name does not match it."""
    server = make_server()
    tls = {"security": Security.STARTTLS, "ssl_context": client_tls_context}
    controller = SessionController(routed(nameserver, server.port, **tls))
    outcome = await controller.run(RunAll(None))
    assert outcome.stage is Exit.TLS
    assert "mx2.mail.test" in outcome.error
    named = SessionController(routed(nameserver, server.port, sni="localhost", **tls))
    outcome = await named.run(RunAll(None))
    assert outcome.ok, outcome.error
    [info] = [e.tls_info for e in named.transcript if e.tls_info is not None]
    assert info.verified and info.server_hostname == "localhost"


async def test_an_unverified_certificate_accepted_holds_for_the_mx_that_takes_the_connection(
    nameserver: str, make_server: Callable[..., EmbeddedServer], client_tls_context: ssl.SSLContext
) -> None:
    """The first MX refuses: the acceptance is not spent on it."""
    server = make_server()
    tls = {"security": Security.STARTTLS, "ssl_context": client_tls_context}
    controller = SessionController(routed(nameserver, server.port, **tls))
    assert (await controller.run(RunAll(None))).risk is Risk.UNVERIFIED_TLS
    controller.accept(Risk.UNVERIFIED_TLS)
    outcome = await controller.run(RunAll(None))
    assert outcome.ok, outcome.error
    [info] = [e.tls_info for e in controller.transcript if e.tls_info is not None]
    assert not info.verified and info.server_hostname == "mx2.mail.test"


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("@null.test", "null.test accepts no mail: its MX is the null MX '0 .' (RFC 7505)"),
        ("bob@nothing.test", "no MX record, and nothing.test has no address"),
        ("@missing.test", "missing.test does not exist (NXDOMAIN)"),
    ],
)
async def test_a_domain_with_no_host_to_use_is_an_error_and_no_connection(
    nameserver: str, host: str, problem: str
) -> None:
    controller = SessionController(routed(nameserver, 2525, host))
    outcome = await controller.run(Connect())
    assert not outcome.ok and outcome.stage is Exit.CONNECT
    assert problem in outcome.error
    [(kind, text)] = texts(controller)
    assert kind is EntryKind.ERROR and problem in text
    assert controller.client is None


async def test_when_no_mx_answers_each_attempt_is_said_then_that_none_did(
    nameserver: str,
) -> None:
    controller = SessionController(routed(nameserver, 9, "@mail.test", connect_timeout=2))
    outcome = await controller.run(Connect())
    assert outcome.stage is Exit.CONNECT
    assert outcome.error.startswith("no MX host answered for mail.test")
    errors_said = [text for kind, text in texts(controller) if kind is EntryKind.ERROR]
    assert [("127.0.0.2:9" in e, "127.0.0.1:9" in e) for e in errors_said[:2]] == [
        (True, False),
        (False, True),
    ]
    assert len(errors_said) == 3


async def test_a_silent_dns_server_is_an_error_entry_not_an_exception(dead_dns: str) -> None:
    controller = SessionController(routed(dead_dns, 25, connect_timeout=0.5))
    outcome = await controller.run(Connect())
    assert outcome.stage is Exit.CONNECT
    assert "no answer from DNS for mail.test MX within the timeout" in outcome.error


async def test_only_a_refusal_or_a_timeout_moves_on() -> None:
    """A failure after the connection (here a TLS handshake's) is the server's answer."""
    tried: list[str] = []
    first, second = Target("192.0.2.1", 25, "a"), Target("192.0.2.2", 25, "b")

    async def refused(target: Target) -> None:
        tried.append(target.name)
        if target is first:
            raise errors.SMTPConnectError.at("refused", "refused", target.address, 25)

    moved: list[str] = []
    assert await in_turn([first, second], refused, lambda t, e: moved.append(t.name)) is second
    assert (tried, moved) == (["a", "b"], ["a"])

    async def handshake_fails(target: Target) -> None:
        raise errors.SMTPTLSError.at("unknown issuer", target.address, 25, "TLS", part="chain")

    with pytest.raises(errors.SMTPTLSError):
        await in_turn([first, second], handshake_fails, lambda t, e: moved.append(t.name))
    assert moved == ["a"]


async def test_the_mx_report_explains_each_addresses_reverse_dns(nameserver: str) -> None:
    report = await look_up("mail.test", nameserver=nameserver)
    good = report.findings("127.0.0.1")
    assert [(f.level, f.text) for f in good] == [
        (Level.OK, "PTR: mx2.mail.test"),
        (Level.OK, "FCrDNS: mx2.mail.test resolves back to 127.0.0.1"),
    ]
    liar = report.findings("127.0.0.2")
    assert liar[1].level is Level.FAIL and liar[1].why == WHY["fcrdns"]
    ties = await look_up("tie.test", nameserver=nameserver)
    [missing] = ties.findings("::1")
    assert (missing.level, missing.why) == (Level.FAIL, WHY["ptr"])
    assert "::1 has no PTR record" in missing.text


async def test_the_banner_findings_say_whether_each_server_names_itself_as_its_mx(
    nameserver: str, make_server: Callable[..., EmbeddedServer]
) -> None:
    """mx2.mail.test (127.0.0.1) greets by its name, then by another; nothing listens on
    mx1's address: no greeting to judge, said as information."""
    report = await look_up("mail.test", nameserver=nameserver)
    assert report.banners == {}
    named = make_server(hostname="mx2.mail.test")
    checked = await check_banners(report, named.port, timeout=5)
    assert checked.found is report.found and checked.checks == report.checks
    assert checked.findings("127.0.0.1")[-1] == Finding(
        Level.OK, "banner mx2.mail.test, EHLO mx2.mail.test: the MX or PTR name"
    )
    down = checked.findings("127.0.0.2")[-1]
    assert down.level is Level.INFO and down.text.startswith("banner: none (connection refused")
    other = await check_banners(report, make_server().port, timeout=5)
    mismatch = other.findings("127.0.0.1")[-1]
    assert (mismatch.level, mismatch.why) == (Level.WARN, WHY["banner"])
    assert mismatch.text == (
        "banner smtptui.demo, EHLO smtptui.demo: not the MX name nor a PTR name"
    )
