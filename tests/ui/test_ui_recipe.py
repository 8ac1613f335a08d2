"""The session as a command, from the app: the palette copies it (and the copied command,
run, sends the same message again), the export dialog writes it to a file."""

from __future__ import annotations

import os
import shlex
import ssl
import subprocess
import sys
import time
from pathlib import Path

from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input

from smtptui.server import EmbeddedServer
from smtptui.session import EntryKind, as_python, as_run
from smtptui.ui.app import Draft, SmtpTui
from smtptui.ui.export import ExportScreen

from support.pilot import STEP_TIMEOUT, settle, step
from support.sessions import settings_for

SIZE = (120, 40)
WORKTREE = Path(__file__).resolve().parents[2]
DRAFT = Draft("alice@smtptui.demo", ("bob@smtptui.demo",), "Again", "Hello.\n.dot\n")


def app_for(server: EmbeddedServer, context: ssl.SSLContext, **changes: object) -> SmtpTui:
    return SmtpTui(settings_for(server, context, **changes), draft=DRAFT, show_timing=False)


async def palette(pilot: Pilot[None], title: str) -> None:
    """Run the palette command whose title starts with ``title``."""
    await pilot.press("ctrl+p", *title)
    screen = pilot.app.screen
    assert isinstance(screen, CommandPalette)
    started = time.monotonic()
    while time.monotonic() - started < STEP_TIMEOUT:
        await pilot.pause(0.05)
        options = screen.query_one("CommandList")
        if options.option_count:
            first = str(options.get_option_at_index(0).prompt).split("\n")[0]
            assert first.startswith(title)
            break
    await pilot.press("enter")
    await settle(pilot)


async def test_the_palette_copies_the_run_command_of_the_message_sent(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    app = app_for(server, client_tls_context)
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3", "f4", "f3", "f5", "f9")
        recipe = app.controller.recipe
        assert recipe is not None and len(server.messages) == 1
        await palette(pilot, "Session: Copy as smtptui run command")
        assert app.clipboard == as_run(recipe)
        assert "wonderland" not in app.clipboard
        assert any(
            note.message.startswith("Copied the smtptui run command for the last message sent")
            for note in app._notifications
        )
    program = f"{shlex.quote(sys.executable)} -m smtptui run"
    command = app.clipboard.replace("| smtptui run", f"| {program}")
    env = {**os.environ, "PYTHONPATH": str(WORKTREE), "SMTPTUI_PASSWORD": "wonderland"}
    done = subprocess.run(
        ["bash", "-c", command], env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    first, again = server.messages
    assert again.data == first.data and again.rcpt_tos == first.rcpt_tos
    assert again.authenticated_as == "alice" and again.tls


async def test_before_any_message_the_panes_are_copied(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    app = app_for(server, client_tls_context)
    async with app.run_test(size=SIZE) as pilot:
        await palette(pilot, "Session: Copy as Python (smtplib) script")
        script = app.clipboard
        compile(script, "again.py", "exec")
        assert "as configured." in script and "wonderland" not in script
        assert "SENDER = 'alice@smtptui.demo'" in script
        assert "smtp.starttls(context=context)" in script


async def test_a_bad_field_is_reported_and_nothing_copied(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    app = app_for(server, client_tls_context)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#to", Input).value = "not an address, <>"
        await palette(pilot, "Session: Copy as swaks command")
        assert app.clipboard == ""
        errors = [e.text for e in app.controller.transcript if e.kind is EntryKind.ERROR]
        assert errors and errors[-1].endswith("nothing was sent")
        assert app.query_one("#to", Input).value == "not an address, <>"  # nothing lost


async def test_the_export_dialog_writes_the_python_script(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext, tmp_path: Path
) -> None:
    app = app_for(server, client_tls_context)
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3", "f4", "f3", "f5", "f9")
        recipe = app.controller.recipe
        assert recipe is not None
        await pilot.press("ctrl+s")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        options = screen.query_one("#transcript-options")
        assert options.display  # the transcript has a secret: whether to keep it
        await pilot.click("#format-python")
        assert not options.display  # a command holds no secret
        file = screen.query_one("#file", Input)
        assert file.value.endswith(".py") and f"-{server.port}-" in file.value
        file.value = str(tmp_path / "again.py")
        await pilot.click("#export")
        await pilot.pause()
        assert not isinstance(app.screen, ExportScreen)
        written = tmp_path / "again.py"
        assert written.read_text() == as_python(recipe)
        assert written.stat().st_mode & 0o777 == 0o644
        assert "wonderland" not in written.read_text()
        assert app.controller.unsaved  # the transcript itself was not saved
