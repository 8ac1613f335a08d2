"""No byte from a server, a certificate or a saved file reaches the terminal raw: every
character the screen draws, pane by pane and dialog by dialog, against a hostile server, a
hostile certificate and a hostile file opened and compared."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.app import App

from smtptui.server import EmbeddedServer
from smtptui.session import EntryKind, SessionSettings
from smtptui.session.diff import diff_sessions
from smtptui.session.reopen import Reading, read_transcripts
from smtptui.ui.app import Draft, SmtpTui
from smtptui.ui.certificate import CertificateScreen
from smtptui.ui.diff import DiffApp
from smtptui.ui.reader import ReaderApp
from smtptui.ui.transcript import TranscriptView

from support.certificates import server_context, unverified
from support.hostile import (
    HOSTILE_ASCII,
    HOSTILE_TEXT,
    hostile_export,
    hostile_name,
    hostile_server,
    raw,
    screen_text,
)
from support.pilot import step, until
from support.scripted import ScriptedServer
from support.sessions import settings_for

SIZE = (120, 40)
SHOWN = r"pwned\x07\x1b[2J"
"""How the hostile text looks once written out (RFC 4514 escapes the ``;`` before it)."""


def shows_no_control(app: App[object]) -> str:
    """The screen's text, once it is checked to hold no character a terminal acts on."""
    text = screen_text(app)
    assert raw(text, keep="\n") == set(), text
    return text


async def test_a_hostile_server_reaches_no_pane() -> None:
    async with ScriptedServer(hostile_server()) as server:
        settings = SessionSettings(host=f"{server.host}:{server.port}", helo_name="c.example")
        draft = Draft("alice@example.org", ("bob@example.org",), "Hi", "Hi\n")
        app = SmtpTui(settings, draft=draft, show_timing=False)
        async with app.run_test(size=SIZE) as pilot:
            await step(pilot, "f2", "f3", "f6", "f7")  # the RCPT is refused
            shown = shows_no_control(app)  # transcript, status line, toast
            assert shown.count(SHOWN) >= 4
            app.query_one(TranscriptView).focus()
            await pilot.press("end", "enter")  # the error, explained
            await pilot.pause()
            assert shows_no_control(app).count(SHOWN) > shown.count(SHOWN)
            for tab, there in (
                ("server", r" X \x1b]0;pwned\x07\x1b[2J"),  # the greeting and EHLO, explained
                ("auth", r"\x1b]0;PWNED\x07\x1b[2J"),  # offered mechanisms, upper case
            ):
                await pilot.click(f"#--content-tab-tab-{tab}")
                await until(pilot, lambda there=there: there in screen_text(app), repr(there))
                shows_no_control(app)


async def test_a_hostile_certificate_reaches_no_screen_nor_the_clipboard(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    context = server_context(
        hostile_name(),
        issuer=hostile_name(HOSTILE_TEXT[::-1]),  # named again on the Chain line, missing
        dns_names=(f"mx{HOSTILE_ASCII}.example",),
        ip="127.0.0.1",
        ca_issuers=(f"http://ca{HOSTILE_ASCII}.example/issuer.der",),
    )
    server = make_server(tls_context=context)
    app = SmtpTui(settings_for(server, unverified()), show_timing=False)
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3", "f4")
        assert SHOWN in shows_no_control(app)  # the transcript's TLS line
        await pilot.press("ctrl+f", *"TLS established", "enter", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CertificateScreen)
        assert shows_no_control(app).count(SHOWN) >= 3  # subject, issuer, SANs
        await pilot.press("c")
        assert raw(app.clipboard) == set() and SHOWN in app.clipboard
        words = " ".join(app.clipboard.split())
        assert r"(from http://ca\x1b]0;pwned" in words  # the Chain line's URL


async def test_a_hostile_file_reaches_no_screen_opened_or_compared(tmp_path: Path) -> None:
    """A saved session is as hostile as the server it came from: its flags, the command a
    reply answers and the handshake's names are drawn by ``open`` and ``diff`` too."""
    path = hostile_export(tmp_path / "hostile.jsonl")
    app = ReaderApp(Reading(path), str(path))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert r"⚠ \x1b]0;pwned" in shows_no_control(app)  # the flag, written out
        view = app.query_one(TranscriptView)
        while view.selected is None or view.selected.kind is not EntryKind.TLS:
            await pilot.press("down")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CertificateScreen), "the certificate")
        assert "pwned" in shows_no_control(app)
    clean = read_transcripts(hostile_export(tmp_path / "clean.jsonl", ""))
    aligned = diff_sessions(clean, read_transcripts(path))
    diff = DiffApp(aligned, "clean.jsonl", "hostile.jsonl", "")
    async with diff.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "pwned" in shows_no_control(diff)
