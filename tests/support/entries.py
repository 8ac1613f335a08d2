"""Transcript entries made by hand, and an app holding the transcript pane, to draw them."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult

from smtptui.protocol.replies import ReplyParser
from smtptui.session import Entry, EntryKind
from smtptui.session.transcript import reply_text
from smtptui.ui.themes import ThemedApp
from smtptui.ui.transcript import TranscriptPane, TranscriptView

_WALL = Entry.now(EntryKind.INFO, "").wall


def entry(kind: EntryKind, text: str, **fields: object) -> Entry:
    return Entry(kind, 0.0, _WALL, text, **fields)  # type: ignore[arg-type]


def received(raw: bytes, latency: float | None = None, **fields: object) -> Entry:
    [reply] = ReplyParser().feed(raw)
    return entry(
        EntryKind.RECEIVED, reply_text(reply), data=raw, latency=latency, reply=reply, **fields
    )


def visible(view: TranscriptView) -> list[str]:
    """The text of every line in the view, trailing blanks removed."""
    return [view.render_line(y).text.rstrip() for y in range(view.scrollable_content_region.height)]


class PaneApp(ThemedApp):
    """The transcript with its search bar, holding ``entries``; records the messages the
    transcript sends up."""

    CSS = "TranscriptPane { height: 1fr; }"

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        super().__init__()
        self.entries = list(entries)
        self.posted: list[object] = []

    def compose(self) -> ComposeResult:
        pane = TranscriptPane(show_timing=False)
        yield pane

    def on_mount(self) -> None:
        view = self.query_one(TranscriptView)
        for item in self.entries:
            view.add(item)
        view.flush()
        view.focus()

    def on_transcript_view_certificate_requested(self, message: object) -> None:
        self.posted.append(message)

    def on_transcript_view_browse(self, message: object) -> None:
        self.posted.append(message)
