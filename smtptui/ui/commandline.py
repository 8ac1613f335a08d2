"""The command line: any SMTP command or raw line, with history and verb completion."""

from __future__ import annotations

from textual.binding import Binding
from textual.suggester import SuggestFromList
from textual.widgets import Input

from smtptui.session import Raw
from smtptui.ui.messages import RunAction

VERBS = (
    "EHLO",
    "HELO",
    "STARTTLS",
    "AUTH",
    "MAIL FROM:<",
    "RCPT TO:<",
    "DATA",
    "BDAT",
    "RSET",
    "NOOP",
    "VRFY",
    "EXPN",
    "HELP",
    "QUIT",
)
"""What → completes to, in this order of preference (``e`` gives EHLO, not EXPN)."""

HISTORY_SIZE = 500


class CommandLine(Input):
    """Enter sends the line as typed (:class:`Raw`); ↑ and ↓ browse the history, keeping
    the line being typed; → completes a verb, whatever its case."""

    BINDINGS = [
        Binding("up", "history(-1)", "Previous command", show=False),
        Binding("down", "history(1)", "Next command", show=False),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            placeholder="SMTP command, e.g. RCPT TO:<bob@example.org>  (↑↓ history, → completes)",
            suggester=SuggestFromList(VERBS, case_sensitive=False),
            id=id,
            classes=classes,
            compact=True,
        )
        self.history: list[str] = []
        self._index = 0  # into history; len(history): the line being typed
        self._draft = ""

    async def action_submit(self) -> None:
        line = self.value
        if not line:
            return
        if not self.history or self.history[-1] != line:
            self.history.append(line)
            del self.history[:-HISTORY_SIZE]
        self._index = len(self.history)
        self._draft = ""
        self.post_message(RunAction(Raw(line)))
        self.clear()

    def action_history(self, step: int) -> None:
        """Show the previous (-1) or next (1) history line; past the newest, the draft."""
        index = min(max(self._index + step, 0), len(self.history))
        if index == self._index:
            return
        if self._index == len(self.history):
            self._draft = self.value
        self._index = index
        self.value = self.history[index] if index < len(self.history) else self._draft
        self.cursor_position = len(self.value)
