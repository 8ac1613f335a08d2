"""The Connection pane's PROXY / XCLIENT section and the XCLIENT step (Alt+X), under Pilot
against the embedded server."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Collapsible, Input

from smtptui.protocol.errors import CommandError
from smtptui.server import EmbeddedServer
from smtptui.session import Security, SessionSettings
from smtptui.session.export import swaks_lines
from smtptui.ui.app import SmtpTui
from smtptui.ui.panes.connection import ConnectionPane

from support.pilot import choose, settle, step

SIZE = (120, 40)


async def test_the_section_the_header_and_the_step(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server(proxy_protocol=True, xclient=True)
    settings = SessionSettings(
        host=f"{server.host}:{server.port}", security=Security.NONE, helo_name="client.example"
    )
    app = SmtpTui(settings, show_timing=False)
    async with app.run_test(size=SIZE) as pilot:
        section = app.query_one("#proxy-options", Collapsible)
        assert section.collapsed
        section.collapsed = False
        await pilot.pause()
        await choose(pilot, "#proxy-protocol", "v2")
        app.query_one("#proxy-source", Input).value = "192.0.2.1:5555"
        app.query_one("#proxy-dest", Input).value = "198.51.100.2:25"
        app.query_one("#xclient", Input).value = "ADDR=203.0.113.7 NAME=spam.example"
        app.set_focus(None)
        await step(pilot, "f2", "f3", "alt+x")
        await settle(pilot)
        lines = [line for e in app.controller.transcript for line in swaks_lines(e)]
        assert " -> PROXY v2 TCP4 192.0.2.1:5555 → 198.51.100.2:25 (28 bytes)" in lines
        assert " -> XCLIENT ADDR=203.0.113.7 NAME=spam.example" in lines
        assert lines[-1].startswith("<-  220 ")
        assert not app.controller.state.esmtp  # EHLO again, as the new greeting asks
        await step(pilot, "f3")
        assert app.controller.state.esmtp


async def test_a_bad_value_is_named_and_kept() -> None:
    app = SmtpTui(SessionSettings(), show_timing=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ConnectionPane)
        app.query_one("#proxy-source", Input).value = "nowhere:1"
        try:
            pane.apply(SessionSettings())
        except CommandError as error:
            assert error.field == "proxy source"
            assert pane.focus_field(error.field)
        else:
            raise AssertionError("a source without a version was taken")
        await pilot.pause()
        assert not app.query_one("#proxy-options", Collapsible).collapsed
        assert app.focused is app.query_one("#proxy-source")
        assert app.query_one("#proxy-source", Input).value == "nowhere:1"
        pane.load(SessionSettings(proxy_protocol="v1", xclient=("ADDR=192.0.2.1", "PORT=1")))
        assert pane.apply(SessionSettings()).xclient == ("ADDR=192.0.2.1", "PORT=1")
