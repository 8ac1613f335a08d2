"""``smtptui open``: a real session's export read back and shown read-only, with the
transcript's keys, the certificate screen, the help and exporting again."""

from __future__ import annotations

import gc
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Static

from smtptui.server import EmbeddedServer
from smtptui.session import (
    Authenticate,
    EntryKind,
    ExportFormat,
    Quit,
    SendMessage,
    SessionController,
    write_export,
)
from smtptui.session.reopen import Reading, read_transcripts
from smtptui.session.transcript import Transcript
from smtptui.ui.certificate import CertificateScreen
from smtptui.ui.export import ExportScreen
from smtptui.ui.help import HelpScreen
from smtptui.ui.reader import ReaderApp
from smtptui.ui.transcript import TranscriptView

from support.entries import entry, received
from support.pilot import settle
from support.sessions import ready, settings_for

SIZE = (100, 30)


async def exported(server: EmbeddedServer, context, path: Path) -> Path:
    """A real session (STARTTLS, AUTH, a message, QUIT, then a second connection) saved
    as JSON Lines at ``path``."""
    controller = SessionController(settings_for(server, context))
    await ready(controller)
    assert (await controller.run(Authenticate("PLAIN"))).ok
    assert (await controller.run(SendMessage("a@example.org", ("b@example.org",), b"Hi\r\n"))).ok
    assert (await controller.run(Quit())).ok
    await ready(controller)
    write_export(path, list(controller.transcripts), ExportFormat.JSONL)
    return path


def status(pilot: Pilot[None]) -> str:
    return str(pilot.app.query_one("#status", Static).render())


async def test_open_shows_the_file_read_only_and_browses_connections(
    server: EmbeddedServer, client_tls_context, tmp_path: Path
) -> None:
    path = await exported(server, client_tls_context, tmp_path / "session.jsonl")
    first, second = read_transcripts(path)
    app = ReaderApp(Reading(path), str(path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        view = app.query_one(TranscriptView)
        assert str(path) in status(pilot) and "read-only" in status(pilot)
        assert "2 connections" in status(pilot)
        assert [entry.text for entry in view.entries] == [entry.text for entry in first]
        assert "connection 1 of 2" in view.heading
        await pilot.press("right_square_bracket")
        assert [entry.text for entry in view.entries] == [entry.text for entry in second]
        assert "connection 2 of 2" in view.heading
        await pilot.press("left_square_bracket")
        assert "connection 1 of 2" in view.heading
        await pilot.press("f")  # the filters
        assert view.filter == "errors"
        await pilot.press("f", "f")
        assert view.filter == "all"
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)


async def test_enter_on_the_handshake_opens_its_certificate(
    server: EmbeddedServer, client_tls_context, tmp_path: Path
) -> None:
    path = await exported(server, client_tls_context, tmp_path / "session.jsonl")
    [tls] = [entry for entry in read_transcripts(path)[0] if entry.kind is EntryKind.TLS]
    app = ReaderApp(Reading(path), str(path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        view = app.query_one(TranscriptView)
        await pilot.press("home")
        while view.selected is None or view.selected.kind is not EntryKind.TLS:
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CertificateScreen)
        assert app.screen.info == tls.tls_info
        assert app.screen.info.leaf is not None and app.screen.info.leaf.der  # PEM can be saved


async def test_searching_finds_a_reply(
    server: EmbeddedServer, client_tls_context, tmp_path: Path
) -> None:
    path = await exported(server, client_tls_context, tmp_path / "session.jsonl")
    app = ReaderApp(Reading(path), str(path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        view = app.query_one(TranscriptView)
        await pilot.press("ctrl+f", *"queued", "enter")
        await pilot.pause()
        assert view.selected is not None and "queued as" in view.selected.text


async def test_exporting_again_gives_the_same_file(
    server: EmbeddedServer, client_tls_context, tmp_path: Path
) -> None:
    path = await exported(server, client_tls_context, tmp_path / "session.jsonl")
    again = tmp_path / "again.jsonl"
    app = ReaderApp(Reading(path), str(path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        await pilot.click("#format-jsonl")
        await pilot.click("#everything")
        assert app.screen.query_one("#everything", Checkbox).value
        field = app.screen.query_one("#file", Input)
        field.value = str(again)
        field.focus()
        await pilot.press("enter")
        await pilot.pause()
    assert again.read_bytes() == path.read_bytes()


def large(path: Path, count: int) -> Transcript:
    """A session of ``count`` entries (commands and their replies) exported to ``path``."""
    transcript = Transcript(1, "mx.example.org:25")
    ok = received(b"250 2.1.5 Ok\r\n", latency=0.002)
    for number in range(count // 2):
        line = f"RCPT TO:<user{number}@example.org>"
        transcript.append(entry(EntryKind.SENT, line, data=f"{line}\r\n".encode()))
        transcript.append(ok)
    write_export(path, [transcript], ExportFormat.JSONL)
    return transcript


async def read_on(pilot: Pilot[None]) -> None:
    """Let the app read the whole file and draw it."""
    app = pilot.app
    assert isinstance(app, ReaderApp)
    while not app.reading.done:
        await pilot.pause()
    await settle(pilot)


async def test_a_large_file_shows_its_first_screen_then_every_entry(tmp_path: Path) -> None:
    path = tmp_path / "large.jsonl"
    saved = large(path, 3000)
    reading = Reading(path)
    reading.step(200)  # as smtptui open does before the UI starts
    app = ReaderApp(reading, str(path))
    [transcript] = reading.transcripts
    shown: list[int] = []  # the lines the view had laid out as each later entry was read
    transcript.subscribe(lambda _: shown.append(app.view.line_count))
    async with app.run_test(size=SIZE) as pilot:
        await read_on(pilot)
        view = app.view
        assert len(shown) == len(saved) - 200 and min(shown) >= 200  # the first screen first
        assert [each.text for each in view.entries] == [each.text for each in saved]
        assert view.line_count == len(saved)
        assert f"{len(saved):,} entries" in status(pilot) and "reading" not in status(pilot)
        await pilot.press("home")
        assert view.selected is not None and view.selected.text == saved[0].text


async def test_a_bad_line_late_in_the_file_is_named_after_what_came_before(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cut.jsonl"
    saved = large(path, 2000)
    with path.open("ab") as file:
        file.write(b'{"kind": "sent", "wall": \x1b[2J\n')
    bad = len(saved) + 1
    app = ReaderApp(Reading(path), str(path))
    async with app.run_test(size=SIZE) as pilot:
        await read_on(pilot)
        assert [each.text for each in app.view.entries] == [each.text for each in saved]
        assert gc.isenabled()  # off while a slice is read, back on after the bad line too
        assert f"stopped at {path}:{bad}: " in status(pilot)
        assert "\x1b" not in status(pilot)
        assert [f"{path}:{bad}: " in note.message for note in app._notifications] == [True]
        await pilot.press("ctrl+s")  # the file is read (as far as it goes): it can be saved
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)


async def test_its_keys_come_from_the_keymap(
    server: EmbeddedServer, client_tls_context, tmp_path: Path, config_dir: Path
) -> None:
    """``[keymap]`` remaps ``smtptui open``'s keys as the main app's; a key no action can
    take is said once."""
    (config_dir / "config.toml").write_text(
        '[keymap]\nfilter = "v"\nhelp = "f11"\nfind = "ctrl+nope"\n'
    )
    path = await exported(server, client_tls_context, tmp_path / "session.jsonl")
    app = ReaderApp(Reading(path), str(path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        view = app.query_one(TranscriptView)
        [problem] = [toast.message for toast in app._notifications]
        assert problem.startswith("[keymap] find: no key named 'ctrl+nope'")
        await pilot.press("f", "f1")  # their default keys are gone
        assert view.filter == "all" and not isinstance(app.screen, HelpScreen)
        await pilot.press("v")
        assert view.filter == "errors"
        await pilot.press("f11")
        assert isinstance(app.screen, HelpScreen)
