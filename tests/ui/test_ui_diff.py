"""``smtptui diff --ui``: two real sessions' exports side by side, what changed marked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.widgets import DataTable, Static
from textual.widgets._footer import FooterKey

from smtptui.server import EmbeddedServer
from smtptui.session import (
    Connect,
    Ehlo,
    ExportFormat,
    Quit,
    SendMessage,
    SessionController,
    write_export,
)
from smtptui.session.diff import Status, Threshold, diff_sessions
from smtptui.session.reopen import read_transcripts
from smtptui.ui.certificate import CertificateScreen
from smtptui.ui.diff import DiffApp
from smtptui.ui.help import HelpScreen

from support.pilot import help_words
from support.sessions import ready, settings_for

MakeServer = Callable[..., EmbeddedServer]
QUIET = Threshold(0.0, 60_000.0)


async def saved(server: EmbeddedServer, context, path: Path, *, tls: bool) -> Path:
    controller = SessionController(settings_for(server, context))
    if tls:
        await ready(controller)
    else:
        for action in (Connect(), Ehlo()):
            assert (await controller.run(action)).ok
    await controller.run(SendMessage("a@example.org", ("b@example.org",), b"Hi\r\n"))
    assert (await controller.run(Quit())).ok
    write_export(path, list(controller.transcripts), ExportFormat.JSONL)
    return path


async def test_both_sides_aligned_with_changes_marked(
    server: EmbeddedServer, make_server: MakeServer, client_tls_context, tmp_path: Path
) -> None:
    a = await saved(server, client_tls_context, tmp_path / "a.jsonl", tls=True)
    other = make_server(starttls=False, data_size_limit=1000)
    b = await saved(other, client_tls_context, tmp_path / "b.jsonl", tls=False)
    aligned = diff_sessions(read_transcripts(a), read_transcripts(b), QUIET)
    app = DiffApp(aligned, str(a), str(b), str(QUIET))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        status = str(app.query_one("#status", Static).render())
        assert "read-only" in status and "only in A" in status
        table = app.query_one(DataTable)
        rows = [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]
        changes = sum(max(len(each.changes), 1) for each in aligned)
        assert table.row_count == changes
        assert ["-", "STARTTLS  220 Ready to start TLS", "", ""] in rows
        assert any(row[3] == "capability: SIZE 33554432 → SIZE 1000" for row in rows)
        tls = next(i for i, each in enumerate(app.rows) if each.label == "TLS handshake")
        table.move_cursor(row=tls)
        await pilot.press("b")  # B has no handshake: said, nothing opens
        await pilot.pause()
        assert not isinstance(app.screen, CertificateScreen)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, CertificateScreen)
        assert app.screen.info == app.rows[tls].a.tls_info  # type: ignore[union-attr]
        await pilot.press("escape", "d")
        await pilot.pause()
        assert all(each.status is not Status.SAME for each in app.rows)
        assert table.row_count < changes


async def test_its_keys_come_from_the_keymap_and_its_help_lists_them(
    server: EmbeddedServer, client_tls_context, tmp_path: Path, config_dir: Path
) -> None:
    """``[keymap]`` remaps diff's keys (a key no action can take is named): the footer and
    F1 help show them as remapped; the help lists diff's keys, not the transcript's."""
    (config_dir / "config.toml").write_text(
        '[keymap]\ndiff_only_changes = "o"\nhelp = "f11"\ndiff_certificate_a = "ctrl+nope"\n'
        'diff_next_step = "n"\n'
    )
    a = await saved(server, client_tls_context, tmp_path / "a.jsonl", tls=False)
    aligned = diff_sessions(read_transcripts(a), read_transcripts(a), QUIET)  # the same
    app = DiffApp(aligned, str(a), str(a), str(QUIET))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        table = app.query_one(DataTable)
        assert table.row_count == len(aligned) > 0
        keys = [f"{key.key_display} {key.description}" for key in app.query(FooterKey)]
        assert keys == ["F11 All keys", "o Only differences", "Ctrl+P palette"]
        [problem] = [toast.message for toast in app._notifications]
        assert problem.startswith("[keymap] diff_certificate_a: no key named 'ctrl+nope'")
        await pilot.press("j", "d", "f1")  # their default keys are gone
        assert table.row_count == len(aligned) and not isinstance(app.screen, HelpScreen)
        assert table.cursor_row == 0
        await pilot.press("n", "n", "k")
        assert table.cursor_row == 1
        await pilot.press("o")
        assert table.row_count == 0  # nothing differs
        text = await help_words(pilot, "f11")
        for shown in (
            "F11 This help",
            "o Show only the steps that differ, or every step",
            "a A's TLS certificate",
            "b B's TLS certificate",
            "Ctrl+Q Quit smtptui",
            "↑, k Move to the previous step",
            "n Move to the next step",
        ):
            assert shown in text, shown
        for not_here in ("Move to the next entry", "sent to the server", "Connect to the"):
            assert not_here not in text, not_here
