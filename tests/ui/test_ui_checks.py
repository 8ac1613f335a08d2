"""The probe and TLS report screens (Alt+O, Alt+T), driven with Pilot against the embedded
server with trustme certificates and scripted misbehaving servers: what they show, a bad
target, a check stopped, hostile bytes made visible."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest
import trustme
from textual.widgets import Input, Static

from smtptui.server import EmbeddedServer
from smtptui.session import Security, SessionSettings
from smtptui.ui.app import SmtpTui
from smtptui.ui.checks import CheckScreen
from smtptui.ui.probe import ProbeScreen
from smtptui.ui.tls_report import TlsReportScreen

from support.pilot import checked
from support.scripted import ScriptedServer, dialogue
from support.tls_servers import tls_context

MakeServer = Callable[..., EmbeddedServer]
SIZE = (110, 50)


def tui(**settings: object) -> SmtpTui:
    return SmtpTui(SessionSettings(**settings), show_timing=False)  # type: ignore[arg-type]


def texts(screen: CheckScreen) -> list[str]:
    """What the results show, a string per widget."""
    return [str(widget.render()) for widget in screen.query("#results Static")]


def status(screen: CheckScreen) -> str:
    widget = screen.query_one("#status", Static)
    return str(widget.render()) if widget.display else ""


async def test_alt_o_probes_the_pane_s_port_and_recommends(
    make_server: MakeServer, ca: trustme.CA, cafile: str
) -> None:
    server = make_server(tls_context=tls_context(ca))
    app = tui(host=f"127.0.0.1:{server.port}", cafile=cafile)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("alt+o")
        screen = await checked(pilot)
        assert isinstance(screen, ProbeScreen)
        assert screen.query_one("#target", Input).value == f"127.0.0.1 {server.port}:starttls"
        shown = texts(screen)
        assert f"{server.port}/starttls" in shown
        assert "220 smtptui.demo ESMTP smtptui" in shown
        assert "TLSv1.3 ✔ verified" in shown
        assert "CRAM-MD5 LOGIN OAUTHBEARER PLAIN SCRAM-SHA-256 XOAUTH2" in shown
        assert any(text.startswith(f"Use {server.port} with STARTTLS") for text in shown)
        await pilot.press("escape")
        assert not isinstance(app.screen, CheckScreen)


async def test_a_bad_probe_target_is_said_and_kept() -> None:
    app = tui()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("alt+o")
        await pilot.pause()
        box = app.screen.query_one("#target", Input)
        assert box.value == ""
        box.value = "127.0.0.1 99999"
        await pilot.press("enter")
        screen = await checked(pilot)
        assert "port" in status(screen) and "99999" in status(screen)
        assert box.value == "127.0.0.1 99999" and texts(screen) == []


async def test_a_hostile_greeting_shows_written_out() -> None:
    evil = b"220 evil\x1b]0;pwned\x07\x9b ESMTP\r\n"
    async with ScriptedServer(dialogue(greeting=evil)) as server:
        app = tui(host=f"127.0.0.1:{server.port}", security=Security.NONE)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("alt+o")
            screen = await checked(pilot)
            shown = "\n".join(texts(screen))
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "220 evil\\x1b]0;pwned\\x07\\x9b ES…" in shown  # shortened to fit


async def test_esc_stops_a_check_then_closes() -> None:
    with socket.socket() as silent:  # accepts, never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        app = tui(host=f"127.0.0.1:{port}", connect_timeout=5.0)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("alt+o")
            await pilot.pause(0.2)
            screen = app.screen
            assert isinstance(screen, ProbeScreen) and "probing" in status(screen)
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is screen and status(screen) == "stopped: Enter runs it again"
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, CheckScreen)


async def test_alt_t_reports_on_the_pane_s_server(
    make_server: MakeServer, ca: trustme.CA, cafile: str
) -> None:
    server = make_server(tls_context=tls_context(ca, days=10))
    app = tui(host=f"127.0.0.1:{server.port}", cafile=cafile)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("alt+t")
        screen = await checked(pilot)
        assert isinstance(screen, TlsReportScreen)
        shown = texts(screen)
    assert shown[0] == f"127.0.0.1:{server.port} (starttls)"
    headings = [text for text in shown if text[2:] in ("Connection", "TLS versions", "Certificate")]
    assert headings == ["✔ Connection", "✔ TLS versions", "⚠ Certificate"]
    assert "  ✔ STARTTLS offered" not in shown and "✔ STARTTLS offered" in shown
    assert any(text.startswith("⚠ valid until") for text in shown)
    assert "Renew it soon: once it expires every client that checks it refuses it." in shown


@pytest.mark.parametrize(
    ("target", "said"),
    [("[::1", "host"), ("@not a domain", "host: 'not a domain' is not a domain name")],
)
async def test_a_bad_report_target_is_said(target: str, said: str) -> None:
    app = tui()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("alt+t")
        await pilot.pause()
        app.screen.query_one("#target", Input).value = target
        await pilot.press("enter")
        screen = await checked(pilot)
        assert said in status(screen)
        assert screen.query_one("#target", Input).value == target


async def test_the_palette_lists_both() -> None:
    app = tui()
    async with app.run_test(size=SIZE):
        titles = [command.title for command in app.get_system_commands(app.screen)]
    assert "Probe: which port, TLS and AUTH… (Alt+O)" in titles
    assert "TLS report… (Alt+T)" in titles


async def test_a_dead_dns_server_is_a_clear_error_in_the_report() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as dead:
        dead.bind(("127.0.0.1", 0))
        nameserver = f"127.0.0.1:{dead.getsockname()[1]}"
        app = tui(host="@mail.test", nameserver=nameserver, connect_timeout=1.0)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("alt+t")
            screen = await asyncio.wait_for(checked(pilot), 20)
            shown = texts(screen)
    assert shown[1:3] == ["✘ MX", "✘ no answer from DNS for mail.test MX within the timeout"]
