"""``smtptui serve --ui``: the embedded server's side in the TUI.

A list of the client sessions as they come (the newest last: address, EHLO name, phase,
messages, rules fired), the chosen one's transcript in the transcript view (the client's
lines `` -> ``, the server's replies ``<- ``, explanations, the certificate screen, a rule
that fired flagged where it fired) and its messages (``m``). The server tells its events on
its own thread; they wait in an inbox and are read on the app's, turned into transcripts by
`session.server_side`.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from smtptui.server import ReceivedMessage
from smtptui.server.events import ServerEvent
from smtptui.session.keymap import ALSO, Scope
from smtptui.session.server_side import ServerSessions, ServerSide
from smtptui.session.visible import visible
from smtptui.ui.certificate import CertificateScreen
from smtptui.ui.help import HelpScreen
from smtptui.ui.keys import bindings_of
from smtptui.ui.reader import SavedSessionApp
from smtptui.ui.received import MessagesScreen
from smtptui.ui.transcript import TranscriptPane, TranscriptView

SERVE_KEYS = (*ALSO[Scope.SERVE], "serve_messages", "serve_next_pane")
"""The actions of the table (``session.keymap``) the serve UI binds (with the transcript's;
its messages screen binds ``serve_close_messages``)."""

DRAIN_EVERY = 0.5
"""Seconds between looks at the inbox besides the wake-ups (one could be missed at start)."""


class ServeApp(SavedSessionApp):
    """The server's sessions, live; :meth:`take` is its listener (any thread)."""

    TITLE = "smtptui serve"

    CSS = """
    #sessions { width: 34; border: round $primary 50%; }
    #sessions:focus { border: round $primary; }
    """

    BINDINGS = bindings_of(SERVE_KEYS)

    class Drain(Message):
        """Events are waiting in the inbox."""

    class Told(Message):
        """Something went wrong beside the sessions (a transcript file not written)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, theme: str | None = None) -> None:
        super().__init__(theme)
        self.listening = ""
        self.sessions = ServerSessions(on_new=self._added)
        self.showing: ServerSide | None = None
        self._inbox: deque[ServerEvent] = deque()
        self._waking = threading.Event()  # a Drain is on its way
        self._picked = False  # the user chose a session: new ones do not take the view
        self._unsubscribe = lambda: None

    # -- the server's side (any thread) ----------------------------------------------------

    def take(self, event: ServerEvent) -> None:
        """The server's listener: keep ``event`` and wake the app (at most one wake-up
        waits at a time)."""
        self._inbox.append(event)
        if not self._waking.is_set() and self.is_running:
            self._waking.set()
            self.post_message(self.Drain())

    def tell(self, text: str) -> None:
        """Say ``text`` as an error on screen (from any thread): what ``serve`` prints
        without ``--ui``."""
        self.post_message(self.Told(text))

    def hold(self, listening: str) -> None:
        """Run until quit, saying ``listening`` (where the server listens) on top."""
        self.listening = listening
        self.run()

    # -- the app's side --------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self._status(), id="status", markup=False)
        with Horizontal():
            yield OptionList(id="sessions")
            yield TranscriptPane(id="transcript-pane")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.view = self.query_one(TranscriptView)
        chosen = self.themes.get(self.theme)
        self.view.set_marks(chosen.marks if chosen else {})
        self.query_one("#sessions", OptionList).border_title = "Sessions"
        self.set_interval(DRAIN_EVERY, self._drain)
        self._drain()

    @on(Drain)
    def _drain(self) -> None:
        self._waking.clear()
        changed: dict[int, ServerSide] = {}
        while self._inbox:
            session = self.sessions.take(self._inbox.popleft())
            changed[session.number] = session
        if changed:
            listing = self.query_one("#sessions", OptionList)
            for session in changed.values():
                listing.replace_option_prompt(str(session.number), _row(session))
            self.query_one("#status", Static).update(self._status())

    @on(Told)
    def _told(self, message: Told) -> None:
        self.notify(message.text, severity="error", timeout=10, markup=False)

    def _added(self, session: ServerSide) -> None:
        listing = self.query_one("#sessions", OptionList)
        listing.add_option(Option(_row(session), id=str(session.number)))
        if not self._picked:
            self._show(session)
            listing.highlighted = listing.option_count - 1

    def _status(self) -> str:
        count = len(self.sessions.sessions)
        messages = sum(len(session.messages) for session in self.sessions.sessions.values())
        told = f"{count} session{'s' * (count != 1)} · {messages} message{'s' * (messages != 1)}"
        return visible(f"{self.listening or 'smtptui serve'}  ·  {told}", one_line=True)

    def _show(self, session: ServerSide) -> None:
        self._unsubscribe()
        self.showing = session
        self.view.load(session.transcript)
        self._unsubscribe = session.transcript.subscribe(self.view.add)
        self.view.heading = visible(f"session {session.number}: {session.peer}", one_line=True)

    @on(OptionList.OptionSelected, "#sessions")
    @on(OptionList.OptionHighlighted, "#sessions")
    def _chosen(self, message: OptionList.OptionSelected | OptionList.OptionHighlighted) -> None:
        session = self.sessions.sessions.get(int(message.option.id or 0))
        if session is not None and session is not self.showing:
            self._picked = self._picked or self.query_one("#sessions").has_focus
            self._show(session)

    @on(TranscriptView.CertificateRequested)
    def _certificate(self, message: TranscriptView.CertificateRequested) -> None:
        message.stop()
        self.push_screen(CertificateScreen(message.info))

    @on(TranscriptView.Browse)
    def _browse(self, message: TranscriptView.Browse) -> None:
        """``[`` ``]`` in the transcript: the previous or next session."""
        message.stop()
        listing = self.query_one("#sessions", OptionList)
        index = (listing.highlighted or 0) + message.step
        if 0 <= index < listing.option_count:
            self._picked = True
            listing.highlighted = index

    def action_messages(self) -> None:
        session = self.showing
        if session is None:
            self.notify("No session yet: connect a client to the server", severity="warning")
            return
        messages = cast(list[ReceivedMessage], session.messages)
        title = f"Messages of session {session.number} ({session.peer})"
        self.push_screen(MessagesScreen(messages, title))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(only=(*SERVE_KEYS, "serve_close_messages")))


def _row(session: ServerSide) -> Text:
    """A session in the list: number, client, EHLO name, phase, messages and rules; plain
    text (no markup), every character visible."""
    parts = [f"{session.number:>3} {session.peer}"]
    detail = [session.ehlo or "-", session.state]
    if session.messages:
        detail.append(f"{len(session.messages)} msg")
    if session.rules:
        detail.append(f"{session.rules} rule{'s' * (session.rules != 1)}")
    parts.append("    " + " · ".join(detail))
    return Text("\n".join(visible(part, one_line=True) for part in parts))
