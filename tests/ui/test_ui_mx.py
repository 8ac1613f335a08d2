"""The MX view and Connect routed by MX, driven with Pilot against a real DNS server on
127.0.0.1 (support.dns.ZONE) and the embedded server: mail.test's first MX (127.0.0.2) has
nothing listening, its second (127.0.0.1) is the embedded server, on the Port field's port
(the port the view greets each address on, for the banner check)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from smtptui.engine.mx import WHY
from smtptui.server import EmbeddedServer
from smtptui.session import EntryKind, Security, SessionSettings
from smtptui.session.export import swaks_lines
from smtptui.ui.app import SmtpTui
from smtptui.ui.mx import GREETING, MxScreen
from smtptui.ui.panes.connection import ConnectionPane

from support.pilot import STEP_TIMEOUT, settle, step, until

SIZE = (100, 40)


def tui(**settings: object) -> SmtpTui:
    given: dict[str, object] = {"security": Security.NONE, "helo_name": "client.example"}
    return SmtpTui(SessionSettings(**(given | settings)), show_timing=False)  # type: ignore[arg-type]


def shown(app: SmtpTui) -> list[str]:
    """Every connection's transcript as swaks-style lines."""
    return [
        line for each in app.controller.transcripts for entry in each for line in swaks_lines(entry)
    ]


def static(screen: MxScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def looked_up(pilot: Pilot[None], screen: MxScreen) -> None:
    """Wait until the view's lookup is over (a report, or a problem said)."""
    started = time.monotonic()
    while static(screen, "#state").startswith("Looking up"):
        assert time.monotonic() - started < STEP_TIMEOUT, "the lookup never ended"
        await pilot.pause(0.05)
    await pilot.pause()


def listed(screen: MxScreen) -> list[str]:
    """The list's rows, as text."""
    hosts = screen.query_one("#hosts", OptionList)
    return [str(hosts.get_option_at_index(i).prompt) for i in range(hosts.option_count)]


async def greeted(pilot: Pilot[None], screen: MxScreen) -> None:
    """Wait until every address's server has been greeted (or has not answered)."""
    started = time.monotonic()
    while any(GREETING in row for row in listed(screen)):
        assert time.monotonic() - started < STEP_TIMEOUT, "the greetings never ended"
        await pilot.pause(0.05)
    await pilot.pause()


async def open_mx(pilot: Pilot[None], domain: str = "") -> MxScreen:
    """Alt+M, and a domain typed and looked up if given."""
    await pilot.press("alt+m")
    screen = pilot.app.screen
    assert isinstance(screen, MxScreen)
    if domain:
        screen.query_one("#domain", Input).value = domain
        screen.query_one("#domain", Input).focus()
        await pilot.press("enter")
        await looked_up(pilot, screen)
    return screen


@pytest.fixture
def dead_dns() -> Iterator[str]:
    """A UDP port on 127.0.0.1 that takes DNS questions and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


async def test_the_mx_view_lists_the_hosts_with_reverse_dns_and_enter_fills_the_host(
    nameserver: str,
) -> None:
    app = tui(nameserver=nameserver)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mx(pilot, "bob@mail.test")
        assert static(screen, "#state") == "MX for mail.test: 2 hosts, by preference"
        hosts = screen.query_one("#hosts", OptionList)
        rows = [str(hosts.get_option_at_index(i).prompt) for i in range(hosts.option_count)]
        assert [row.splitlines()[0].strip() for row in rows] == [
            "10 mx1.mail.test",
            "127.0.0.2",
            "20 mx2.mail.test",
            "127.0.0.1",
        ]
        assert "✘ FCrDNS: liar.test does not resolve back" in rows[1]
        assert "✔ FCrDNS: mx2.mail.test resolves back to 127.0.0.1" in rows[3]
        assert WHY["fcrdns"] in static(screen, "#why")
        assert screen.query_one("#hosts") is app.focused
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, MxScreen)
        assert app.query_one("#host", Input).value == "mx2.mail.test"


async def test_route_by_mx_puts_the_domain_and_the_view_opens_on_the_host_fields_domain(
    nameserver: str,
) -> None:
    app = tui(host="@mail.test", nameserver=nameserver)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mx(pilot)
        assert screen.query_one("#domain", Input).value == "mail.test"
        await looked_up(pilot, screen)
        assert static(screen, "#state").startswith("MX for mail.test")
        await pilot.click("#route")
        await pilot.pause()
        assert app.query_one("#host", Input).value == "@mail.test"


async def test_connect_to_a_domain_goes_to_the_next_mx_when_the_first_refuses(
    nameserver: str, make_server: Callable[..., EmbeddedServer]
) -> None:
    server = make_server(starttls=False)
    port = server.port
    app = tui()
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ConnectionPane)
        pane.text("host", "@mail.test")
        pane.text("nameserver", nameserver)
        port_field = app.query_one("#port", Input)
        await until(pilot, lambda: port_field.placeholder == "25 (MX)", "the port from MX")
        pane.text("port", str(port))
        await step(pilot, "f2")
        lines = shown(app)
        assert "=== MX for mail.test: 10 mx1.mail.test, 20 mx2.mail.test" in lines
        moved = f"=== mx1.mail.test at 127.0.0.2:{port} did not take the connection: the next MX"
        assert lines.index(f"=== Connecting to 127.0.0.2:{port}…") < lines.index(moved)
        assert lines.index(moved) < lines.index(f"=== Connecting to 127.0.0.1:{port}…")
        assert app.controller.state.address == f"127.0.0.1:{port}"
        assert any(line.startswith("<-  220") for line in lines)
        assert app.query_one("#host", Input).value == "@mail.test"  # kept as typed


async def test_a_bad_domain_and_a_dead_dns_server_are_said_on_screen(
    nameserver: str, dead_dns: str
) -> None:
    app = tui(nameserver=nameserver)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mx(pilot, "exa mple.org")
        assert static(screen, "#state") == "✘ domain: 'exa mple.org' is not a domain name"
        assert screen.query_one("#domain", Input).value == "exa mple.org"
        screen.query_one("#domain", Input).value = "null.test"
        await pilot.press("enter")
        await looked_up(pilot, screen)
        assert static(screen, "#state") == (
            "✘ null.test accepts no mail: its MX is the null MX '0 .' (RFC 7505)"
        )
        await pilot.press("escape")
        assert not isinstance(app.screen, MxScreen)
    app = tui(nameserver=dead_dns, connect_timeout=0.5)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mx(pilot, "mail.test")
        assert static(screen, "#state") == (
            "✘ no answer from DNS for mail.test MX within the timeout"
        )
        await pilot.press("escape")
        app.query_one(ConnectionPane).text("host", "@mail.test")
        await step(pilot, "f2")
        [error] = [e.text for e in app.controller.transcript if e.kind is EntryKind.ERROR]
        assert error.startswith("no answer from DNS for mail.test MX within the timeout")
        assert app.query_one("#host", Input).value == "@mail.test"


async def test_esc_cancels_a_lookup_under_way(dead_dns: str) -> None:
    app = tui(nameserver=dead_dns, connect_timeout=30)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("alt+m")
        screen = app.screen
        assert isinstance(screen, MxScreen)
        await pilot.press(*"mail.test", "enter")
        await pilot.pause()
        assert static(screen, "#state") == "Looking up the MX hosts of mail.test…"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and static(screen, "#state") == "Lookup cancelled."
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, MxScreen)


async def test_a_bad_dns_server_field_names_it() -> None:
    app = tui()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(ConnectionPane).text("nameserver", "dns.example")
        await pilot.press("alt+m")
        await pilot.pause()
        assert not isinstance(app.screen, MxScreen)
        assert app.focused is app.query_one("#nameserver", Input)
        [error] = [e.text for e in app.controller.transcript if e.kind is EntryKind.ERROR]
        assert error.startswith("nameserver: 'dns.example' is not IP or IP:PORT")


async def test_the_mx_view_greets_each_address_on_the_port_field_for_the_banner_check(
    nameserver: str, make_server: Callable[..., EmbeddedServer]
) -> None:
    named = make_server(hostname="mx2.mail.test")
    app = tui(nameserver=nameserver, port=named.port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mx(pilot, "mail.test")
        await greeted(pilot, screen)
        rows = listed(screen)
        assert "✔ banner mx2.mail.test, EHLO mx2.mail.test: the MX or PTR name" in rows[3]
        assert "· banner: none (connection refused" in rows[1]  # nothing on 127.0.0.2
        assert WHY["banner"] not in static(screen, "#why")
    other = make_server()
    app = tui(nameserver=nameserver, port=other.port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mx(pilot, "mail.test")
        await greeted(pilot, screen)
        assert (
            "⚠ banner smtptui.demo, EHLO smtptui.demo: not the MX name nor a PTR name"
            in (listed(screen)[3])
        )
        assert WHY["banner"] in static(screen, "#why")


@pytest.fixture
def mute_port() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that takes connections and never greets."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


async def test_a_mute_server_does_not_hold_up_the_dns_answer_and_esc_cancels_the_greeting(
    nameserver: str, mute_port: int
) -> None:
    app = tui(nameserver=nameserver, port=mute_port, connect_timeout=30)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mx(pilot, "mail.test")
        assert static(screen, "#state") == "MX for mail.test: 2 hosts, by preference"
        rows = listed(screen)
        assert "✔ FCrDNS: mx2.mail.test resolves back to 127.0.0.1" in rows[3]
        assert GREETING in rows[3]
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        assert static(screen, "#state").endswith("· greeting cancelled")
        rows = listed(screen)
        assert not any(GREETING in row for row in rows)
        assert "✔ FCrDNS: mx2.mail.test resolves back to 127.0.0.1" in rows[3]
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, MxScreen)
