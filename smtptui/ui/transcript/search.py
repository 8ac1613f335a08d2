"""Searching the transcript: what a query matches, and the bar it is typed in."""

from __future__ import annotations

import re

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


def compile_query(query: str) -> re.Pattern[str] | None:
    """The pattern for ``query``: literal text, case-insensitive unless it has a capital
    (smart case); None for an empty query."""
    if not query:
        return None
    flags = 0 if any(char.isupper() for char in query) else re.IGNORECASE
    return re.compile(re.escape(query), flags)


def spans(pattern: re.Pattern[str] | None, text: str) -> list[tuple[int, int]]:
    """Where ``pattern`` matches in ``text``, as (start, end) pairs."""
    if pattern is None:
        return []
    return [match.span() for match in pattern.finditer(text)]


class SearchBar(Input):
    """The search line under the transcript: every keystroke searches again; Enter keeps
    the matches highlighted and goes back to the transcript, Esc forgets them."""

    BINDINGS = [Binding("escape", "forget", "Clear search", show=False)]

    DEFAULT_CSS = """
    SearchBar {
        display: none;
        margin: 0 1;
        &.-open { display: block; }
    }
    """

    class QueryChanged(Message):
        """The query changed (an empty query clears the search)."""

        def __init__(self, query: str) -> None:
            super().__init__()
            self.query = query

    class Closed(Message):
        """The bar closed; ``keep`` tells whether the matches stay highlighted."""

        def __init__(self, keep: bool) -> None:
            super().__init__()
            self.keep = keep

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            placeholder="search the transcript (Enter keeps the matches, Esc clears them)",
            compact=True,
            id=id,
        )

    def open(self) -> None:
        self.add_class("-open")
        self.focus()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.QueryChanged(event.value))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.remove_class("-open")
        self.post_message(self.Closed(keep=True))

    def action_forget(self) -> None:
        self.value = ""
        self.remove_class("-open")
        self.post_message(self.Closed(keep=False))
