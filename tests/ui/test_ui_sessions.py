"""Several sessions side by side, driven with Pilot against real servers: each its own
controller and transcript, the status line naming the live one, the shared panes following
the switch, the split, closing and quitting with entries never exported, and Esc."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Tabs

from smtptui.server import EmbeddedServer
from smtptui.session import EntryKind, Phase, Security, SessionSettings, swaks_lines
from smtptui.ui.app import SmtpTui
from smtptui.ui.dialog import CloseSessionScreen
from smtptui.ui.export import ExportScreen, QuitScreen
from smtptui.ui.sessions import SessionsView, Workspace
from smtptui.ui.status import StatusBar

from support.entries import visible
from support.pilot import STEP_TIMEOUT, settle, step
from support.scripted import ScriptedServer, dialogue, stall

SIZE = (120, 40)


def settings_for(server: EmbeddedServer | ScriptedServer) -> SessionSettings:
    host = f"{server.host}:{server.port}"
    return SessionSettings(host=host, security=Security.NONE, helo_name="client.example")


def lines(workspace: Workspace) -> list[str]:
    """Every connection's transcript of ``workspace`` as swaks-style lines."""
    transcripts = workspace.controller.transcripts
    return [line for each in transcripts for entry in each for line in swaks_lines(entry)]


def status(app: SmtpTui) -> str:
    return str(app.query_one(StatusBar).render())


async def retype(pilot: Pilot[None], selector: str, text: str) -> None:
    """Click a field, empty it and type ``text``, as a person does."""
    await pilot.click(selector)
    await pilot.press("home", "ctrl+k", *text)


async def two_sessions(pilot: Pilot[None], second: EmbeddedServer) -> None:
    """Session 1 connected and greeted; then a new session (Alt+N) pointed at ``second``,
    connected and greeted too."""
    await step(pilot, "f2", "f3")
    await step(pilot, "alt+n")
    await retype(pilot, "#host", f"{second.host}:{second.port}")
    await step(pilot, "f2", "f3")


async def test_two_sessions_on_two_servers_keep_to_themselves(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    first, second = make_server(), make_server()
    a, b = f"{first.host}:{first.port}", f"{second.host}:{second.port}"
    app = SmtpTui(settings_for(first), show_timing=False)
    async with app.run_test(size=SIZE) as pilot:
        assert not app.query("#session-tabs")  # one session: no tab strip
        assert "1/1" not in status(app)
        await two_sessions(pilot, second)
        one, two = app._sessions
        tabs = app.query_one("#session-tabs", Tabs)
        assert tabs.display and app._active is two
        assert [tab.label.plain for tab in tabs.query("Tab")] == [f"1 {a}", f"2 {b}"]

        # Each session spoke to its own server, and its transcript holds that alone.
        assert f"=== Connected to {a}" in "\n".join(lines(one))
        assert b not in "\n".join(lines(one))
        assert f"=== Connected to {b}" in "\n".join(lines(two))
        assert not any(a in line for line in lines(two) if "Press" not in line)  # the hint
        assert status(app).startswith(f"smtptui  2/2  {b}  ● ready")

        # A step in session 2 reaches its transcript only.
        before = lines(one)
        await step(pilot, "ctrl+o")  # NOOP
        assert lines(one) == before
        assert lines(two)[-2] == " -> NOOP" and lines(two)[-1].startswith("<-  250 ")
        assert any("NOOP" in line for line in visible(two.view))
        assert not any("NOOP" in line for line in visible(one.view))

        # Switching loads each session's host in the Connection pane, and its state.
        await step(pilot, "alt+left")
        assert app._active is one and app.controller is one.controller
        assert app.query_one("#host", Input).value == a
        assert status(app).startswith(f"smtptui  1/2  {a}  ● ready")
        assert one.pane.display and not two.pane.display
        await step(pilot, "alt+right")
        assert app.query_one("#host", Input).value == b
        await step(pilot, "f10")  # QUIT in session 2 leaves session 1 connected
        assert two.controller.state.phase is Phase.CLOSED
        assert one.controller.state.phase is Phase.READY
        assert status(app).startswith(f"smtptui  2/2  {b}  ● disconnected")


async def test_a_bad_field_keeps_the_session_it_belongs_to(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server()
    app = SmtpTui(settings_for(server), show_timing=False)
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "alt+n")
        one, two = app._sessions
        # Not connected yet: the status line names the session's host.
        assert status(app).startswith(f"smtptui  2/2 {server.host}:{server.port}  ● disconn")
        app.query_one("#reply-timeout", Input).value = "-1"
        await step(pilot, "alt+left")
        assert app._active is two and app.query_one("#session-tabs", Tabs).active == "session-2"
        [error] = [e.text for e in two.controller.transcript if e.kind is EntryKind.ERROR]
        assert error.startswith("reply timeout: ")
        assert app.query_one("#reply-timeout", Input).value == "-1"  # nothing typed is lost
        await retype(pilot, "#reply-timeout", "7")
        await step(pilot, "alt+left")
        assert app._active is one
        assert two.controller.settings.reply_timeout == 7


async def test_the_split_shows_two_transcripts_side_by_side(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    first, second = make_server(), make_server()
    app = SmtpTui(settings_for(first), show_timing=False)
    async with app.run_test(size=(160, 40)) as pilot:  # half the transcript shows a port
        await two_sessions(pilot, second)
        one, two = app._sessions
        await step(pilot, "alt+v")
        view = app.query_one(SessionsView)
        assert one.pane.display and two.pane.display
        assert abs(one.pane.size.width - two.pane.size.width) <= 1
        assert one.pane.size.width + two.pane.size.width == view.size.width
        assert two.pane.has_class("-live") and not one.pane.has_class("-live")
        assert any(str(first.port) in line for line in visible(one.view))
        assert any(str(second.port) in line for line in visible(two.view))

        assert two.view.advice.startswith("next: ") and not one.view.advice

        await pilot.click(one.view)  # going to the other transcript makes it live
        await settle(pilot)
        assert app._active is one and "1/2" in status(app)
        assert one.pane.has_class("-live") and two.pane.display
        assert one.view.advice.startswith("next: ")  # the next steps are the live one's
        assert not two.view.advice

        await step(pilot, "alt+v")
        assert one.pane.display and not two.pane.display


async def test_closing_a_session_asks_when_its_entries_were_never_exported(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    first, second = make_server(), make_server()
    app = SmtpTui(settings_for(first), show_timing=False)
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "ctrl+w")  # the last session stays
        assert len(app._sessions) == 1
        await step(pilot, "alt+n", "ctrl+w")  # nothing said in it yet: closed at once
        assert len(app._sessions) == 1

        await two_sessions(pilot, second)
        one, two = app._sessions
        await step(pilot, "ctrl+w")  # in the Host field, where it was typed: a word goes
        assert len(app._sessions) == 2 and not isinstance(app.screen, CloseSessionScreen)
        await step(pilot, "ctrl+n", "ctrl+w")  # from the transcript
        assert isinstance(app.screen, CloseSessionScreen)
        assert app.screen.unsaved == two.unsaved > 0
        await step(pilot, "escape")  # kept
        assert app._sessions == [one, two]

        await step(pilot, "ctrl+w")
        await pilot.click("#close")
        await settle(pilot)
        assert app._sessions == [one] and app._active is one
        assert not two.pane.is_attached and not app.query_one("#session-tabs", Tabs).display
        assert two.controller.client is not None and not two.controller.client.connected
        assert app.query_one("#host", Input).value == f"{first.host}:{first.port}"
        assert status(app).startswith(f"smtptui  {first.host}:{first.port}  ● ready")


async def test_quitting_counts_and_exports_the_entries_of_every_session(
    make_server: Callable[..., EmbeddedServer], tmp_path: Path
) -> None:
    first, second = make_server(), make_server()
    app = SmtpTui(settings_for(first), show_timing=False)
    async with app.run_test(size=SIZE) as pilot:
        await two_sessions(pilot, second)
        one, two = app._sessions
        assert one.unsaved and two.unsaved
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, QuitScreen)
        assert app.screen._unsaved == one.unsaved + two.unsaved

        await pilot.click("#export")  # on the way out, every session's connections
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        assert app.screen.query_one("#everything", Checkbox).value
        path = tmp_path / "both.txt"
        app.screen.query_one("#file", Input).value = str(path)
        await pilot.press("enter")
        await pilot.pause()
    assert app.return_code == 0  # nothing left unsaved: it quit
    exported = path.read_text()
    for server in (first, second):
        assert f"=== Connected to {server.host}:{server.port}" in exported


async def test_escape_cancels_the_active_sessions_step_alone() -> None:
    async def busy(workspace: Workspace) -> bool:
        started = time.monotonic()
        while not workspace.controller.state.busy:
            assert time.monotonic() - started < STEP_TIMEOUT
            await pilot.pause(0.02)
        return True

    async with ScriptedServer(stall) as server:
        app = SmtpTui(settings_for(server), show_timing=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f2")  # session 1 waits for a greeting that never comes
            await busy(app._active)
            await pilot.press("alt+n")
            await pilot.pause()
            one, two = app._sessions
            await pilot.press("f2")  # and session 2 too
            await busy(two)
            assert "⏳ CONNECT" in status(app)

            await pilot.press("escape")
            started = time.monotonic()
            while two.controller.state.busy:
                assert time.monotonic() - started < STEP_TIMEOUT
                await pilot.pause(0.02)
            assert "*** cancelled during CONNECT" in lines(two)
            assert one.controller.state.busy  # session 1 still waits
            assert not any("cancelled" in line for line in lines(one))

            await pilot.press("alt+left", "escape")  # its own Esc
            await settle(pilot)
            assert not one.controller.state.busy
            assert "*** cancelled during CONNECT" in lines(one)


async def test_an_error_in_another_session_says_which() -> None:
    async with ScriptedServer(dialogue({"NOOP": stall})) as server:
        settings = replace(settings_for(server), reply_timeout=1.0)
        app = SmtpTui(settings, show_timing=False)
        async with app.run_test(size=SIZE) as pilot:
            await step(pilot, "f2", "f3")
            await pilot.press("ctrl+o")  # NOOP: no answer comes
            await pilot.press("alt+n")
            one, two = app._sessions
            started = time.monotonic()
            while one.controller.state.busy:  # until its reply timeout passes
                assert time.monotonic() - started < STEP_TIMEOUT
                await pilot.pause(0.05)
            await pilot.pause()
            assert app._active is two
            toasts = [n.message for n in app._notifications if n.severity == "error"]
            assert len(toasts) == 1
            assert toasts[0].startswith(f"Session 1 ({server.host}:{server.port}): ")
            assert "no answer" in toasts[0]
