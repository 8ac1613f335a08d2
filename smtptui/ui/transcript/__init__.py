"""The transcript pane: virtualised swaks-style lines, explanations, search and filters."""

from smtptui.session.transcript_lines import FOLD_AT, entry_lines, format_latency, format_size
from smtptui.ui.transcript.search import SearchBar
from smtptui.ui.transcript.view import TranscriptPane, TranscriptView

__all__ = [
    "FOLD_AT",
    "SearchBar",
    "TranscriptPane",
    "TranscriptView",
    "entry_lines",
    "format_latency",
    "format_size",
]
