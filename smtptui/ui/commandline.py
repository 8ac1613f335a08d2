"""The command line: any SMTP command or raw line, with history and verb completion; after
a 354, the message's lines."""

from __future__ import annotations

from textual.binding import Binding
from textual.reactive import reactive
from textual.suggester import SuggestFromList
from textual.widgets import Input

from smtptui.protocol.auth import MASK, split_secret
from smtptui.protocol.data import message_line
from smtptui.protocol.errors import CommandError
from smtptui.session import EndMessage, MessageLine, Phase, Raw, SessionState
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

COMMAND_PLACEHOLDER = "SMTP command, e.g. RCPT TO:<bob@example.org>  (↑↓ history, → completes)"
MESSAGE_PLACEHOLDER = "message line: Enter sends it; a line with only . ends the message; Esc asks"


class CommandLine(Input):
    """Enter sends the line as typed (:class:`Raw`); ↑ and ↓ browse the history, keeping
    the line being typed; → completes a verb, whatever its case.

    In message data (after a 354, see :meth:`show`) Enter sends the line as a line of the
    message (:class:`MessageLine`), an empty one too; a line holding only ``.`` ends it
    (:class:`EndMessage`). Those lines stay out of the history: they are the message, not
    commands to send again (and ↑ still finds the commands). A line that carries AUTH
    credentials is shown in the history masked, as the transcript shows it; recalled and
    sent unchanged, it sends what was typed (kept in memory only, as the transcript keeps it).
    """

    BINDINGS = [
        Binding("up", "history(-1)", "Previous command", show=False),
        Binding("down", "history(1)", "Next command", show=False),
    ]
    DEFAULT_CSS = """
    CommandLine.-message { background: $warning 15%; }
    """

    in_message: reactive[bool] = reactive(False)
    """Whether Enter sends a line of message data: the phase is DATA."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            placeholder=COMMAND_PLACEHOLDER,
            suggester=SuggestFromList(VERBS, case_sensitive=False),
            id=id,
            classes=classes,
            compact=True,
        )
        self._verbs = self.suggester
        self.history: list[str] = []  # as shown: secrets masked
        self._typed: list[str] = []  # what each history line sent
        self._index = 0  # into history; len(history): the line being typed
        self._draft = ""
        self._sasl_due = False

    def show(self, state: SessionState) -> None:
        """Follow the session: message data after a 354; a secret due after a 334 to AUTH.

        Once the dot (or a whole message) is on its way, lines are commands again: typed
        before the reply, they go after it."""
        self._sasl_due = state.sasl_due
        self.in_message = state.phase is Phase.DATA and state.running in ("", MessageLine.label)

    def watch_in_message(self, in_message: bool) -> None:
        """A 354 makes this where the message is typed: it takes the focus, unless a field
        has it (after F8 or Pipeline, keys would otherwise go to the transcript's)."""
        self.placeholder = MESSAGE_PLACEHOLDER if in_message else COMMAND_PLACEHOLDER
        self.suggester = None if in_message else self._verbs
        self.set_class(in_message, "-message")
        if not in_message:
            return
        from textual.widgets import TextArea  # here: the first frame has none (Compose has)

        if not isinstance(self.screen.focused, Input | TextArea):
            self.focus()

    async def action_submit(self) -> None:
        line = self.value
        if self.in_message:
            self.post_message(RunAction(EndMessage() if line == "." else MessageLine(line)))
            try:
                message_line(line)  # the session's check: a line it refuses stays, to fix
            except CommandError:
                return
        elif line:
            recalled = self._index < len(self.history) and line == self.history[self._index]
            if recalled:
                line = self._typed[self._index]
            self._remember(line)
            self.post_message(RunAction(Raw(line)))
        else:
            return
        self._index = len(self.history)
        self._draft = ""
        self.clear()

    def _remember(self, line: str) -> None:
        """Add ``line`` to the history, its SASL secret (if any) masked."""
        secret = split_secret(line.encode("utf-8", "replace"), sasl_due=self._sasl_due)
        shown = line if secret is None else secret[0] + MASK
        if not self._typed or self._typed[-1] != line:
            self.history.append(shown)
            self._typed.append(line)
            del self.history[:-HISTORY_SIZE], self._typed[:-HISTORY_SIZE]

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
