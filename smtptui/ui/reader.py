"""``smtptui open FILE``: a saved session read-only in the transcript view.

No steps and no panes: the transcript (``[`` ``]`` between connections, as in the app) with
its search, filters, explanations and certificate screen, the help, and Ctrl+S to export
again; a status line says which file is open and that it is read-only.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Footer, Static

from smtptui.config import remembered_theme
from smtptui.session.export import ExportFormat, default_filename, write_export
from smtptui.session.reopen import ReadError, Reading
from smtptui.session.transcript import Entry, Transcript
from smtptui.session.visible import visible
from smtptui.ui.certificate import CertificateScreen
from smtptui.ui.export import ExportRequest, ExportScreen
from smtptui.ui.help import HelpScreen
from smtptui.ui.keys import apply_keymap, bindings_of, configured_keymap
from smtptui.ui.themes import DEFAULT, ThemedApp, load_themes
from smtptui.ui.transcript import TranscriptPane, TranscriptView

READER_KEYS = ("help", "find", "export", "exit")
"""The app keys of the table of actions a saved session offers (with the transcript's)."""

STATUS_EVERY = 0.2
"""Seconds between two updates of the status line and the transcript while a file is read:
each lays out what was read and draws a screen of new lines, which costs as much as reading
a few thousand entries."""

SLICE = 0.01
"""Seconds of reading in one turn of the event loop: a key pressed meanwhile is answered
within a frame or two."""


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
        self.remapped, problems = configured_keymap()  # its keys are the table's
        self._problems += problems
        themes = self.themes
        for loaded in themes.values():
            self.register_theme(loaded.theme)
        wanted = [name for name in (theme, remembered_theme()) if name in themes]
        self.theme = wanted[0] if wanted else DEFAULT
        if theme is not None and theme not in themes:
            self._problems.append(f"No theme named {theme!r}")

    def on_mount(self) -> None:  # Textual runs it after a subclass's own: never call it
        apply_keymap(self, self.remapped)
        for problem in self._problems:
            self.notify(visible(problem), severity="warning", markup=False)


class ReaderApp(SavedSessionApp):
    """``smtptui open FILE``: the file ``reading`` reads, shown read-only as it is read.

    A worker reads the rest of the file a chunk of lines at a time, between frames, so the
    first entries show at once and keys are answered meanwhile; the transcript shown is
    subscribed to, as the live session's is, and the status line says how far it got. A bad
    line stops the reading: it is named, and what was read before it stays shown."""

    TITLE = "smtptui open"

    BINDINGS = bindings_of(READER_KEYS)

    def __init__(self, reading: Reading, name: str, *, theme: str | None = None) -> None:
        super().__init__(theme)
        self.reading = reading
        self.file_name = visible(name, one_line=True)
        self.problem = ""  # why the reading stopped before the end
        self._nothing = Transcript(1)  # shown until the file gives a transcript
        self.shown = self._nothing
        self._unsubscribe: Callable[[], None] = lambda: None
        self._arrived: list[Entry] = []  # read of the transcript shown, not yet in the view

    @property
    def transcripts(self) -> list[Transcript]:
        """The transcripts read so far (an empty one for a file that holds none)."""
        return self.reading.transcripts or [self._nothing]

    @property
    def showing(self) -> int:
        """The number (from 1) of the transcript shown, among :attr:`transcripts`."""
        return next(
            (number for number, each in enumerate(self.transcripts, 1) if each is self.shown), 1
        )

    def compose(self) -> ComposeResult:
        yield Static(self._status(), id="status", markup=False)
        yield TranscriptPane(id="transcript-pane")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.view = self.query_one(TranscriptView)
        self.view.focus()
        chosen = self.themes.get(self.theme)
        self.view.set_marks(chosen.marks if chosen else {})
        self._show(1)
        if not self.reading.done:
            self.call_after_refresh(self._read)  # the first screen first

    @work(group="read")
    async def _read(self) -> None:
        """The rest of the file, :data:`SLICE` at a time between turns of the event loop.

        What is read reaches the transcript shown every :data:`STATUS_EVERY` seconds, in a
        turn of its own, not as it is read.

        What is read lives as long as the app and makes no cycles: the cyclic collector is
        off while a slice reads (its passes over the young entries were a tenth of the
        time), and each slice is then moved out of its reach (``gc.freeze``), whose full
        passes would otherwise go over every entry read so far, again and again (for 100,000
        entries a fifth of the time, and pauses of a tenth of a second); it is handed back
        when the app ends."""
        reading, told = self.reading, time.monotonic()
        while True:
            if reading.done or time.monotonic() - told > STATUS_EVERY:
                self._hand_over()
                self._update()
                told = time.monotonic()
                if reading.done:
                    return
            else:
                self._read_slice()
            await asyncio.sleep(0)

    def _read_slice(self) -> None:
        """Read for :data:`SLICE` seconds (or to the end, or a bad line), the collector off,
        then freeze what was read."""
        reading, until = self.reading, time.monotonic() + SLICE
        collecting = gc.isenabled()
        gc.disable()
        try:
            while not reading.done and time.monotonic() < until:
                reading.step()
        except ReadError as error:
            self.problem = str(error)
            self.notify(self.problem, title="Cannot read on", severity="error", markup=False)
        finally:
            if collecting:
                gc.enable()
            gc.freeze()
        if self.shown is self._nothing and reading.transcripts:
            self._show(1)

    def _hand_over(self) -> None:
        """Lay out in the view what was read of the transcript shown since last time."""
        self.view.extend(self._arrived)
        self._arrived.clear()

    def on_unmount(self) -> None:
        gc.unfreeze()

    def _status(self) -> str:
        entries = sum(len(transcript) for transcript in self.transcripts)
        count = len(self.transcripts)
        connections = f"{count} connection{'s' * (count != 1)}"
        status = f"smtptui  {self.file_name}  read-only · {connections} · {entries:,} entries"
        if self.problem:
            return f"{status} · stopped at {self.problem}"
        if not self.reading.done:
            return f"{status} · reading {self.reading.progress:.0%} …"
        return status

    def _update(self) -> None:
        """The status line and the heading, as the reading goes on."""
        self.query_one("#status", Static).update(self._status(), layout=False)  # one line
        parts = [self.shown.title] if self.shown.title else []
        count = len(self.transcripts)
        if count > 1:
            parts.insert(0, f"connection {self.showing} of {count} ([ ] for others)")
        self.view.heading = " · ".join(parts)

    def _show(self, number: int) -> None:
        """Show transcript ``number`` (from 1), and what is read of it from now on."""
        shown = self.transcripts[min(max(number, 1), len(self.transcripts)) - 1]
        if shown is not self.shown or not self.view.entries:
            self._unsubscribe()
            self.shown = shown
            self._arrived.clear()
            self.view.load(shown)
            self._unsubscribe = shown.subscribe(self._arrived.append)
        self._update()

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
        if not self.reading.done:
            self.notify(
                f"Still reading the file ({self.reading.progress:.0%}): export once it is read",
                severity="warning",
            )
            return
        shown = self.shown
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
        chosen = self.transcripts if request.everything else [self.shown]
        try:
            count = write_export(request.path, chosen, request.fmt, redact=request.redact)
        except OSError as error:
            reason = visible(f"{request.path}: {error.strerror or error}", one_line=True)
            self.notify(f"Cannot export to {reason}", severity="error", markup=False)
            return
        where = visible(str(request.path), one_line=True)
        self.notify(f"Exported {count:,} entries to {where}", timeout=5, markup=False)
