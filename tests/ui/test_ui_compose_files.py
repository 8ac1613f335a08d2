"""The Compose pane's files, driven with Pilot against the embedded server: a message file
loaded into the fields or sent whole, attachments, the body in $EDITOR, and the preview of
the bytes DATA sends."""

from __future__ import annotations

import email
import email.policy
import hashlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static, TabbedContent, TextArea

from smtptui.server import EmbeddedServer
from smtptui.session import Security
from smtptui.ui.app import Draft, SmtpTui
from smtptui.ui.help import HelpScreen
from smtptui.ui.panes.compose import ComposePane
from smtptui.ui.path import AttachScreen, PathScreen
from smtptui.ui.preview import PreviewScreen

from support.pilot import STEP_TIMEOUT, settle, step
from support.sessions import settings_for

SIZE = (120, 40)
DRAFT = Draft("alice@example.org", ("bob@example.org",), "Hi", "Hello\n")

SIMPLE = (
    b"From: Carol <carol@example.org>\r\n"
    b"To: dave@example.org, erin@example.org\r\n"
    b"Cc: frank@example.org\r\n"
    b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
    b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    b"Message-ID: <old@example.org>\r\n"
    b"X-Mailer: hand\r\n"
    b"\r\n"
    b"Hello Dave,\r\n.a dot\r\n"
)

MULTIPART = (
    b"From: carol@example.org\r\n"
    b"To: dave@example.org\r\n"
    b"Cc: erin@example.org\r\n"
    b"Subject: parts\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/alternative; boundary="XX"\r\n'
    b"\r\n"
    b"--XX\r\n"
    b"Content-Type: text/plain\r\n"
    b"\r\n"
    b"plain\r\n.leading dot\r\n"
    b"--XX\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<p>html</p>\r\n"
    b"--XX--\r\n"
)


def app_for(server: EmbeddedServer, draft: Draft | None = DRAFT) -> SmtpTui:
    settings = settings_for(server, None, security=Security.NONE)  # type: ignore[arg-type]
    return SmtpTui(settings, draft=draft, show_timing=False)


def value(app: SmtpTui, id: str) -> str:
    widget = app.query_one(f"#{id}")
    return widget.text if isinstance(widget, TextArea) else app.query_one(f"#{id}", Input).value


async def open_compose(pilot: Pilot[None]) -> ComposePane:
    pilot.app.query_one(TabbedContent).active = "tab-compose"
    await pilot.pause()
    pilot.app.query_one("#from", Input).focus()
    await pilot.pause()
    return pilot.app.query_one(ComposePane)


async def wait_for(pilot: Pilot[None], kind: type) -> object:
    started = time.monotonic()
    while not isinstance(pilot.app.screen, kind):
        assert time.monotonic() - started < STEP_TIMEOUT, f"no {kind.__name__}"
        await pilot.pause(0.02)
    return pilot.app.screen


async def give_path(pilot: Pilot[None], key: str, path: str, **more: str) -> PathScreen:
    """Press ``key``, type ``path`` (and the other inputs) in the dialog, press Enter."""
    await pilot.press(key)
    screen = await wait_for(pilot, PathScreen)
    assert isinstance(screen, PathScreen)
    screen.query_one("#path", Input).value = path
    for id, text in more.items():
        screen.query_one(f"#{id}", Input).value = text
    screen.query_one("#path", Input).focus()
    await pilot.press("enter")
    await pilot.pause()
    return screen


def error_text(screen: PathScreen) -> str:
    return str(screen.query_one("#error", Static).render())


async def test_a_simple_message_fills_the_fields(
    make_server: Callable[..., EmbeddedServer], tmp_path: Path
) -> None:
    (tmp_path / "simple.eml").write_bytes(SIMPLE)
    server = make_server()
    app = app_for(server)
    async with app.run_test(size=SIZE) as pilot:
        await open_compose(pilot)
        await give_path(pilot, "alt+l", str(tmp_path / "simple.eml"))
        assert not isinstance(app.screen, PathScreen)
        assert value(app, "from") == "Carol <carol@example.org>"
        assert value(app, "to") == "dave@example.org, erin@example.org"
        assert value(app, "cc") == "frank@example.org"
        assert value(app, "subject") == "Grüße"
        assert value(app, "headers") == "X-Mailer: hand"  # Date, Message-ID made afresh
        assert value(app, "body") == "Hello Dave,\n.a dot\n"
        assert not app.query_one(ComposePane).has_class("-whole")
        await step(pilot, "f2", "f3", "f9")
    [message] = server.messages
    assert message.mail_from == "carol@example.org"
    assert message.rcpt_tos == ("dave@example.org", "erin@example.org", "frank@example.org")
    received = email.message_from_bytes(message.data, policy=email.policy.default)
    assert received["Subject"] == "Grüße"
    assert received["X-Mailer"] == "hand"
    assert received["Message-ID"] != "<old@example.org>" and received["Date"]
    assert received.get_content() == "Hello Dave,\r\n.a dot\r\n"


async def test_a_multipart_message_is_sent_whole_byte_for_byte(
    make_server: Callable[..., EmbeddedServer], tmp_path: Path
) -> None:
    path = tmp_path / "parts.eml"
    path.write_bytes(MULTIPART)
    server = make_server()
    app = app_for(server)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_compose(pilot)
        await pilot.click("#load")
        screen = await wait_for(pilot, PathScreen)
        screen.query_one("#path", Input).value = str(path)
        await pilot.click("#open")
        await pilot.pause()
        assert pane.has_class("-whole")
        shown = str(app.query_one("#whole", Static).render())
        assert "parts.eml" in shown and f"{len(MULTIPART)} B" in shown
        assert "only MAIL FROM and RCPT TO are used" in shown
        for id in ("from", "to", "subject", "body", "headers", "attach"):
            assert app.query_one(f"#{id}").disabled, id
        assert value(app, "from") == "alice@example.org"  # kept for when it is cleared
        await step(pilot, "f2", "f3", "f9")
        [message] = server.messages
        assert message.data == MULTIPART
        assert message.mail_from == "carol@example.org"
        assert message.rcpt_tos == ("dave@example.org", "erin@example.org")

        await pilot.click("#clear-whole")
        await pilot.pause()
        assert not pane.has_class("-whole") and pane.whole is None
        assert not app.query_one("#from").disabled
        assert b"Subject: Hi" in pane.message()


async def test_an_attached_binary_file_arrives_byte_for_byte(
    make_server: Callable[..., EmbeddedServer], tmp_path: Path
) -> None:
    blob = tmp_path / "blob.dat"
    blob.write_bytes(os.urandom(10 * 1024 * 1024))
    small = tmp_path / "notes.txt"
    small.write_text("notes\n")
    server = make_server()
    app = app_for(server)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_compose(pilot)
        await give_path(pilot, "alt+a", str(blob), type="application/x-test", name="data.bin")
        await pilot.click("#attach")
        screen = await wait_for(pilot, AttachScreen)
        screen.query_one("#path", Input).value = str(small)
        await pilot.click("#open")
        await pilot.pause()
        listed = app.query_one("#attachments", OptionList)
        rows = [str(listed.get_option_at_index(i).prompt) for i in range(listed.option_count)]
        assert rows == ["data.bin · application/x-test · 10.0 MB", "notes.txt · type guessed · 6 B"]
        listed.highlighted = 1
        await pilot.click("#detach")
        await pilot.pause()
        assert [each.path for each in pane.attachments] == [blob]
        await step(pilot, "f2", "f3", "f9")
    [message] = server.messages
    received = email.message_from_bytes(message.data, policy=email.policy.default)
    [part] = received.iter_attachments()  # type: ignore[attr-defined]
    assert (part.get_content_type(), part.get_filename()) == ("application/x-test", "data.bin")
    payload = part.get_payload(decode=True)
    assert hashlib.sha256(payload).digest() == hashlib.sha256(blob.read_bytes()).digest()


def editor_script(tmp_path: Path, body: str) -> str:
    """An $EDITOR that notes the file it was given and writes ``body`` into it."""
    script = tmp_path / "editor.py"
    script.write_text(
        "import pathlib, sys\n"
        "path = pathlib.Path(sys.argv[1])\n"
        f"pathlib.Path({str(tmp_path / 'seen')!r}).write_text(str(path))\n"
        f"path.write_text(path.read_text() + {body!r})\n"
    )
    return f"{sys.executable} {script}"


async def test_the_body_round_trips_through_editor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", editor_script(tmp_path, "edited ü\n"))
    app = SmtpTui(draft=DRAFT, show_timing=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_compose(pilot)
        app.query_one("#body", TextArea).focus()
        await pilot.press("alt+e")
        await pilot.pause()
        assert value(app, "body") == "Hello\nedited ü\n"
        seen = Path((tmp_path / "seen").read_text())
        assert not seen.exists()  # the temporary file is gone

        await pilot.click("#editor")  # the button, and the key with the focus elsewhere
        await pilot.pause()
        assert value(app, "body") == "Hello\nedited ü\nedited ü\n"
        for editor, words in (("false", "exited with status 1"), ("/no/such/editor", "cannot")):
            monkeypatch.setenv("EDITOR", editor)
            await pilot.press("alt+e")
            await pilot.pause()
            assert value(app, "body") == "Hello\nedited ü\nedited ü\n"
            [*_, toast] = app._notifications
            assert words in toast.message and toast.severity == "error"


async def test_the_preview_shows_stuffing_crlf_and_the_final_dot() -> None:
    app = SmtpTui(draft=Draft("a@example.org", ("b@example.org",), "Hi", ".dot\nbare\n"))
    async with app.run_test(size=SIZE) as pilot:
        await open_compose(pilot)
        await pilot.press("alt+p")
        screen = await wait_for(pilot, PreviewScreen)
        assert isinstance(screen, PreviewScreen)
        lines = str(screen.query_one("#lines", Static).render()).split("\n")
        assert "From: a@example.org\\r\\n" in lines
        assert "..dot\\r\\n" in lines and "bare\\r\\n" in lines
        assert lines[-1] == ".\\r\\n"
        summary = str(screen.query(Static).first().render())
        assert f"bytes after the 354 · {len(lines)} lines · 7-bit" in summary
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, PreviewScreen)


async def test_a_bad_field_sends_the_preview_to_it() -> None:
    app = SmtpTui(draft=Draft("a@example.org", (), "Hi", "x\n"), show_timing=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_compose(pilot)
        await pilot.press("alt+p")
        await pilot.pause()
        assert not isinstance(app.screen, PreviewScreen)
        assert app.focused is app.query_one("#to")


async def test_bad_paths_are_named_and_what_was_typed_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\nnot a message")
    (tmp_path / "ok.eml").write_bytes(SIMPLE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    app = SmtpTui(draft=DRAFT, show_timing=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_compose(pilot)
        cases = [
            ("missing.eml", "no such file"),
            (str(tmp_path), "is a directory"),
            ("picture.png", "is not a message"),
            ("   ", "type the path"),
        ]
        for typed, words in cases:
            screen = await give_path(pilot, "alt+l", typed)
            assert app.screen is screen
            assert words in error_text(screen)
            assert screen.query_one("#path", Input).value == typed
            await pilot.press("escape")
            await pilot.pause()
        screen = await give_path(pilot, "alt+a", "ok.eml", type="nonsense")
        assert "type/subtype" in error_text(screen)
        await pilot.press("escape")
        await pilot.pause()
        await give_path(pilot, "alt+l", "~/ok.eml")  # ~ and relative paths both work
        assert value(app, "from") == "Carol <carol@example.org>"
        assert value(app, "to") == "dave@example.org, erin@example.org"


async def test_help_and_palette_list_the_compose_actions() -> None:
    app = SmtpTui(show_timing=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        help_screen = await wait_for(pilot, HelpScreen)
        text = " ".join(str(static.render()) for static in help_screen.query(Static))
        for key in ("Alt+L", "Alt+A", "Alt+E", "Alt+P"):
            assert key in text
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        palette = await wait_for(pilot, CommandPalette)
        await pilot.press(*"Compose: Load")
        prompts: list[str] = []
        started = time.monotonic()
        while not prompts and time.monotonic() - started < STEP_TIMEOUT:
            await pilot.pause(0.05)
            options = palette.query_one("CommandList")
            prompts = [
                str(options.get_option_at_index(i).prompt).split("\n")[0]
                for i in range(options.option_count)
            ]
        assert prompts[0] == "Compose: Load .eml… (Alt+L)"
        await pilot.press("enter")
        await wait_for(pilot, PathScreen)
        assert app.query_one(TabbedContent).active == "tab-compose"
        await settle(pilot)
