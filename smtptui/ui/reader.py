"""``smtptui open FILE``: a saved session read-only in the transcript view.

No steps and no panes: the transcript (``[`` ``]`` between connections, as in the app) with
its search, filters, explanations and certificate screen, the help, and Ctrl+S to export
again; a status line says which file is open and that it is read-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.widgets import Footer, Static

from smtptui.config import remembered_theme
from smtptui.session.export import ExportFormat, default_filename, write_export
from smtptui.session.transcript import Transcript
from smtptui.session.visible import visible
from smtptui.ui.certificate import CertificateScreen
from smtptui.ui.export import ExportRequest, ExportScreen
from smtptui.ui.help import HelpScreen
from smtptui.ui.keys import bindings_of
from smtptui.ui.themes import DEFAULT, ThemedApp, load_themes
from smtptui.ui.transcript import TranscriptPane, TranscriptView

READER_KEYS = ("help", "find", "export", "exit")
"""The app keys of the table of actions a saved session offers (with the transcript's)."""


class SavedSessionApp(ThemedApp):
    """An app showing what was saved, never a live session: smtptui's themes (``theme``, or
    the one the UI remembered), a one-line status and a footer."""

    CSS = """
    #status { height: 1; background: $panel; color: $text; padding: 0 1;
              text-wrap: nowrap; text-overflow: ellipsis; }
    TranscriptView { border: round $primary 50%; border-title-color: $text-muted; }
    TranscriptView:focus { border: round $primary; }
    """

    def __init__(self, theme: str | None = None) -> None:
        super().__init__()
        self.themes, self._problems = load_themes()
        themes = self.themes
        for loaded in themes.values():
            self.register_theme(loaded.theme)
        wanted = [name for name in (theme, remembered_theme()) if name in themes]
        self.theme = wanted[0] if wanted else DEFAULT
        if theme is not None and theme not in themes:
            self._problems.append(f"No theme named {theme!r}")

    def on_mount(self) -> None:
        for problem in self._problems:
            self.notify(visible(problem), severity="warning", markup=False)


class ReaderApp(SavedSessionApp):
    """``smtptui open FILE``: ``transcripts`` read from ``name``, read-only."""

    TITLE = "smtptui open"

    BINDINGS = bindings_of(READER_KEYS)

    def __init__(
        self, transcripts: Sequence[Transcript], name: str, *, theme: str | None = None
    ) -> None:
        super().__init__(theme)
        self.transcripts = list(transcripts) or [Transcript(1)]
        self.file_name = visible(name, one_line=True)
        self.showing = 1

    def compose(self) -> ComposeResult:
        yield Static(self._status(), id="status", markup=False)
        yield TranscriptPane(id="transcript-pane")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.view = self.query_one(TranscriptView)
        self.view.focus()
        chosen = self.themes.get(self.theme)
        self.view.set_marks(chosen.marks if chosen else {})
        self._show(1)

    def _status(self) -> str:
        entries = sum(len(transcript) for transcript in self.transcripts)
        count = len(self.transcripts)
        connections = f"{count} connection{'s' * (count != 1)}"
        return f"smtptui  {self.file_name}  read-only · {connections} · {entries:,} entries"

    def _show(self, number: int) -> None:
        number = min(max(number, 1), len(self.transcripts))
        shown = self.transcripts[number - 1]
        if number != self.showing or not self.view.entries:
            self.showing = number
            self.view.load(shown)
        parts = [shown.title] if shown.title else []
        if len(self.transcripts) > 1:
            parts.insert(0, f"connection {number} of {len(self.transcripts)} ([ ] for others)")
        self.view.heading = " · ".join(parts)

    @on(TranscriptView.Browse)
    def _browse(self, message: TranscriptView.Browse) -> None:
        message.stop()
        self._show(self.showing + message.step)

    @on(TranscriptView.CertificateRequested)
    def _certificate(self, message: TranscriptView.CertificateRequested) -> None:
        message.stop()
        self.push_screen(CertificateScreen(message.info))  # saved: no server to ask for OCSP

    def action_find(self) -> None:
        self.view.action_search()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(only=READER_KEYS))

    def action_export(self) -> None:
        shown = self.transcripts[self.showing - 1]
        when = datetime.now(UTC)
        names = {fmt: default_filename(shown, fmt, when) for fmt in ExportFormat}
        screen = ExportScreen(Path.cwd(), names, len(self.transcripts), secrets=False)
        self.push_screen(screen, self._write)

    def _write(self, request: ExportRequest | None) -> None:
        if request is None:
            return
        if request.fmt.command:
            self.notify(
                "A saved transcript cannot be sent again: export it as swaks text or JSON Lines",
                severity="warning",
            )
            return
        chosen = self.transcripts if request.everything else [self.transcripts[self.showing - 1]]
        try:
            count = write_export(request.path, chosen, request.fmt, redact=request.redact)
        except OSError as error:
            reason = visible(f"{request.path}: {error.strerror or error}", one_line=True)
            self.notify(f"Cannot export to {reason}", severity="error", markup=False)
            return
        where = visible(str(request.path), one_line=True)
        self.notify(f"Exported {count:,} entries to {where}", timeout=5, markup=False)
