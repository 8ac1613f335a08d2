"""A large send shows its progress under the transcript, until the message's reply: the
server holds the message unread (so the client's writes back up) until the test lets it
go, so the bar is seen however fast the machine."""

from __future__ import annotations

import asyncio
import time

from textual.widgets import Label, ProgressBar

from smtptui.session import Security, SessionSettings
from smtptui.session.transcript_lines import format_size
from smtptui.ui.app import Draft, SmtpTui
from smtptui.ui.progress import SendProgress

from support.pilot import STEP_TIMEOUT, settle, step
from support.scripted import ScriptedServer, dialogue, held_message

BODY = "A line of a message large enough to be sent in several writes.\n" * 16_000
"""About 1 MB: more than one write."""


async def test_a_large_send_shows_its_progress_until_the_reply() -> None:
    gate = asyncio.Event()
    async with ScriptedServer(dialogue({"DATA": held_message(gate)})) as server:
        settings = SessionSettings(host=f"{server.host}:{server.port}", security=Security.NONE)
        draft = Draft("alice@example.org", ("bob@example.org",), "Big", BODY)
        app = SmtpTui(settings, draft=draft, show_timing=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await step(pilot, "f2")
            assert not app.query(SendProgress)  # not built before a large send
            await pilot.press("f9")
            started = time.monotonic()
            while not app.query(SendProgress) or not app.query_one(SendProgress).display:
                assert time.monotonic() - started < STEP_TIMEOUT, "no progress bar"
                await pilot.pause(0.02)
            bar = app.query_one(SendProgress)
            transfer = app.controller.state.transfer
            assert transfer is not None and transfer.total > len(BODY)
            words = f"Sending {format_size(transfer.sent)} of {format_size(transfer.total)}"
            assert str(bar.query_one(Label).content).startswith(words)
            assert bar.query_one(ProgressBar).total == transfer.total
            assert app.controller.state.busy  # the reply has not come
            gate.set()
            await settle(pilot)
            assert not bar.display  # gone with the reply
            assert app.controller.state.transfer is None
            assert app.controller.state.last_reply is not None
            assert app.controller.state.last_reply.code == 250
        [peer] = server.peers
        assert peer.message_sizes[0] >= len(BODY)
