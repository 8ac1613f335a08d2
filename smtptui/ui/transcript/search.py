"""The bar a search of the transcript is typed in (what a query matches is the model's:
:mod:`smtptui.session.transcript_model`)."""

from __future__ import annotations

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


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
