"""Transcript: Clear asks first, against the embedded server: Esc or "Keep them" keeps every
entry, "Clear" forgets them, and an empty transcript is not asked about."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from smtptui.server import EmbeddedServer
from smtptui.session import SessionSettings
from smtptui.ui.app import SmtpTui
from smtptui.ui.dialog import ClearScreen

from support.pilot import step

SIZE = (100, 30)


def tui(server: EmbeddedServer) -> SmtpTui:
    settings = SessionSettings(host=f"127.0.0.1:{server.port}", helo_name="client.example")
    return SmtpTui(settings, show_timing=False)


@pytest.mark.parametrize("key", ["escape", "enter"])  # Enter: on "Keep them", focused first
async def test_esc_or_the_default_keeps_the_entries(server: EmbeddedServer, key: str) -> None:
    app = tui(server)
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3")
        before = len(app.controller.transcript)
        app.action_clear_transcript()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ClearScreen)
        said = str(screen.query_one(Static).render())
        assert f"The {before} entries shown will be gone for good." in said
        assert "never exported (Ctrl+S saves them)" in said
        await pilot.press(key)
        await pilot.pause()
        assert not isinstance(app.screen, ClearScreen)
        assert len(app.controller.transcript) == before


async def test_clear_forgets_them(server: EmbeddedServer) -> None:
    app = tui(server)
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2")
        app.action_clear_transcript()
        await pilot.pause()
        await pilot.click("#clear")
        await pilot.pause()
        assert len(app.controller.transcript) == 0
        app.action_clear_transcript()  # nothing left to ask about
        await pilot.pause()
        assert not isinstance(app.screen, ClearScreen)
