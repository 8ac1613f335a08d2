"""The Connection pane's Transport section and a host ``unix:/path``, driven with Pilot:
connecting over a UNIX socket and through a command's pipe, the way on the status line and
the transcript's first line, a bad value naming its field."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Collapsible, Input

from smtptui.protocol.errors import CommandError
from smtptui.server import EmbeddedServer
from smtptui.session import Phase, SessionSettings
from smtptui.ui.app import SmtpTui
from smtptui.ui.panes.connection import ConnectionPane
from smtptui.ui.status import StatusBar

from support.pilot import choose, step
from support.proxies import proxy

SIZE = (120, 40)
STDIO = f"{shlex.quote(sys.executable)} -m smtptui serve --stdio"


def connecting(app: SmtpTui) -> str:
    return next(e.text for e in app.controller.transcript if e.text.startswith("Connecting"))


async def test_connect_over_a_unix_socket(
    make_server: Callable[..., EmbeddedServer], tmp_path: Path
) -> None:
    path = tmp_path / "smtp.sock"
    make_server(unix_path=str(path))
    app = SmtpTui(SessionSettings(), show_timing=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#host")
        await pilot.press(*f"unix:{path}")
        assert app.query_one("#port", Input).placeholder == "none (UNIX socket)"
        await step(pilot, "f2")
        assert app.controller.state.phase is Phase.EHLO
        assert connecting(app) == f"Connecting to unix:{path}…"
        assert f"unix:{path}" in str(app.query_one(StatusBar).render())


async def test_connect_through_a_pipe_from_the_transport_section() -> None:
    app = SmtpTui(SessionSettings(), show_timing=False)
    async with app.run_test(size=SIZE) as pilot:
        section = app.query_one("#transport", Collapsible)
        assert section.collapsed
        await pilot.click("#transport CollapsibleTitle")
        assert not section.collapsed
        await pilot.click("#pipe")
        await pilot.press(*STDIO)
        await step(pilot, "f2")
        assert app.controller.state.phase is Phase.EHLO
        assert connecting(app) == f"Connecting through `{STDIO}`…"
        assert f"`{STDIO}`" in str(app.query_one(StatusBar).render())


async def test_connect_through_a_socks5_proxy_with_a_password(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    """The Via proxy field, a real SOCKS5 proxy (pproxy) that wants a user and password:
    the password takes the connection, and is shown nowhere."""
    server = make_server(starttls=False)
    with proxy("socks5", "user:secret") as url:
        app = SmtpTui(SessionSettings(helo_name="client.example"), show_timing=False)
        async with app.run_test(size=SIZE) as pilot:
            pane = app.query_one(ConnectionPane)
            pane.text("host", f"127.0.0.1:{server.port}")
            pane.text("via", url.replace("://", "://user:secret@"))
            await step(pilot, "f2", "f3")
            assert app.controller.state.phase is Phase.READY
            shown = connecting(app)
            status = str(app.query_one(StatusBar).render())
    assert shown.startswith(f"Connecting to 127.0.0.1:{server.port} via socks5://user@")
    assert "secret" not in shown and "secret" not in status


async def test_transport_fields_load_and_apply() -> None:
    settings = SessionSettings(
        host="mx.example", via="socks5://proxy:1080", source_address="2001:db8::1", family=6
    )
    app = SmtpTui(SessionSettings(), show_timing=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ConnectionPane)
        pane.load(settings)
        await pilot.pause()
        assert pane.apply(SessionSettings()) == settings
        await choose(pilot, "#family", "")
        assert pane.apply(SessionSettings()).family is None


@pytest.mark.parametrize(
    ("field_id", "value", "field"),
    [
        ("via", "ftp://proxy:21", "via"),
        ("source", "not-an-address", "source"),
        ("pipe", "'unclosed", "pipe"),
    ],
)
async def test_bad_transport_value_names_field_and_keeps_it(
    field_id: str, value: str, field: str
) -> None:
    app = SmtpTui(SessionSettings(), show_timing=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ConnectionPane)
        app.query_one(f"#{field_id}", Input).value = value
        with pytest.raises(CommandError) as caught:
            pane.apply(SessionSettings())
        assert str(caught.value).startswith(f"{field}: ")
        assert app.query_one(f"#{field_id}", Input).value == value
        assert pane.focus_field(field)
        await pilot.pause()
        assert not app.query_one("#transport", Collapsible).collapsed
        assert app.focused is app.query_one(f"#{field_id}")
