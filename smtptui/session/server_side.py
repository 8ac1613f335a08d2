"""A connection to the embedded server, seen from the server, as a transcript that reads as
the client's would: the client's lines sent (`` -> ``), the server's replies received
(``<- ``), ``~>``/``<~`` inside TLS, ``===`` notes for the connection, the handshake, a
message taken and the close; a fault rule that fired is a ``***`` entry where it fired,
flagged (it stands out, ``e`` finds it, and the flag says which entries are rules in a
saved file).

The server tells what happened as plain values (the methods of `ServerSide`, which is what
`smtptui.server.events.Watcher` asks for; the session cannot import the server). The bytes
go through a protocol `Dialogue` as if this side had sent the client's lines and received
the server's replies, and its answers become the client's own events (`engine.events`),
turned into entries by the client's `recorder`: each reply knows its command, secrets are
masked, and every explanation and marker works as in the client's view.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from smtptui.engine.events import ClientEvent, Closed, Received, Sent, SentKind, TlsEstablished
from smtptui.engine.tls import TlsInfo
from smtptui.protocol.data import unstuff
from smtptui.protocol.dialogue import END_OF_DATA, Command, Dialogue, Phase
from smtptui.protocol.errors import ProtocolError
from smtptui.session.export import ExportFormat, file_safe, write_export
from smtptui.session.recorder import entry
from smtptui.session.transcript import Entry, EntryKind, Transcript, wall_clock
from smtptui.session.visible import decoded, visible_bytes

FLAG_RULE = "fault rule"
"""The flag on a rule's entry."""
FLAG_UNENDED = "no line end: the connection ended first"
LONGEST_LINE = 65536
"""Bytes without a line end taken as a line of their own (aiosmtpd refuses them anyway)."""
_GREETINGS = frozenset({"EHLO", "HELO", "LHLO"})


class Delivered(Protocol):
    """What the converter reads of a message the server took (the server's
    ``ReceivedMessage``)."""

    @property
    def mail_from(self) -> str: ...
    @property
    def rcpt_tos(self) -> tuple[str, ...]: ...
    @property
    def data(self) -> bytes: ...


class Told(Protocol):
    """A server event (`smtptui.server.events`), as read here: its connection, and
    ``tell``, which calls the `ServerSide` method for it."""

    @property
    def connection(self) -> int: ...
    def tell(self, watcher: ServerSide) -> None: ...


class ServerSide:
    """One connection to the embedded server as a `Transcript` (numbered ``number``), with
    what a list of sessions shows: the client's address, its EHLO name, the phase, the
    messages taken and the rules fired. ``on_end`` is called once the connection is over."""

    def __init__(self, number: int, *, on_end: Callable[[ServerSide], None] | None = None):
        self.transcript = Transcript(number)
        self.peer = ""
        self.local = ""
        self.ehlo = ""  # the client's name, made visible
        self.messages: list[Delivered] = []
        self.rules = 0
        self.started: float | None = None
        self.ended = False
        self._on_end = on_end
        self._dialogue = Dialogue()
        self._tls = False
        self._pending = bytearray()  # client bytes not yet a whole line (or chunk)
        self._body = bytearray()  # message lines after 354, dot-stuffed, until the dot
        self._chunk = bytearray()  # a BDAT chunk's bytes, until all have come
        self._chunk_left = 0
        self._asked: deque[float] = deque()  # when each line awaiting its reply came

    @property
    def number(self) -> int:
        return self.transcript.number

    @property
    def state(self) -> str:
        """Where the dialogue stands, in a word: the protocol's phase, "closed" at the end."""
        return "closed" if self.ended else self._dialogue.phase.value

    # -- what the server tells (smtptui.server.events.Watcher) ----------------------------

    def connected(self, time: float, peer: str, local: str, lmtp: bool) -> None:
        self.peer, self.local, self.started = peer, local, time
        self.transcript.title = peer
        self._dialogue = Dialogue(lmtp=lmtp)
        self._asked.append(time)  # the greeting answers the connection
        how = " (LMTP)" if lmtp else ""
        self._note(time, f"Connection from {peer} to {local}{how}")

    def client_bytes(self, time: float, data: bytes) -> None:
        pending = self._pending
        pending += data
        while pending:
            if self._chunk_left:
                taken = pending[: self._chunk_left]
                del pending[: len(taken)]
                self._chunk += taken
                self._chunk_left -= len(taken)
                if not self._chunk_left:
                    self._send(time, SentKind.CHUNK, bytes(self._chunk), None)
                    self._chunk.clear()
                continue
            end = pending.find(b"\n") + 1 or (len(pending) if len(pending) > LONGEST_LINE else 0)
            if not end:
                return
            line = bytes(pending[:end])
            del pending[:end]
            self._line(time, line)

    def server_bytes(self, time: float, data: bytes) -> None:
        dialogue = self._dialogue
        dialogue.receive_data(data)
        while True:
            try:
                answer = dialogue.next_event()
            except ProtocolError as error:
                self._add(Entry(EntryKind.ERROR, time, wall_clock(time), str(error), error.data))
                return
            if answer is None:
                return
            command = answer.command
            latency = None
            if command is not None and self._asked and not _repeated(command, dialogue):
                latency = time - self._asked.popleft()
            self._event(Received(answer.reply, time, self._tls, latency, command, answer.phase))

    def tls_started(self, time: float, info: TlsInfo) -> None:
        if self._dialogue.phase is Phase.TLS:
            self._dialogue.tls_started()
        else:  # implicit TLS: before the greeting
            self._dialogue.tls_begun()
        self._tls = True
        self._event(TlsEstablished(info, time))

    def rule_fired(self, time: float, stage: str, label: str, effects: str) -> None:
        self.rules += 1
        text = f"Rule fired at {stage}: {effects}, {label}"
        self._add(Entry(EntryKind.ERROR, time, wall_clock(time), text, flags=(FLAG_RULE,)))

    def message_taken(self, time: float, message: Delivered) -> None:
        self.messages.append(message)
        self._note(time, f"Message taken: {describe(message)}")

    def gone(self, time: float, by_server: bool, error: str) -> None:
        if self._pending or self._body or self._chunk:  # every byte shown, even unended
            unended = bytes(self._body + self._chunk + self._pending)
            self._add(
                Entry(
                    EntryKind.SENT,
                    time,
                    wall_clock(time),
                    decoded(unended),
                    unended,
                    self._tls,
                    flags=(FLAG_UNENDED,),
                )
            )
            self._pending.clear()
        if self._dialogue.phase is Phase.QUIT:
            reason = "after QUIT"
        elif error:
            reason = error
        else:
            reason = "the server hung up" if by_server else "the client hung up"
        self._dialogue.closed()
        self.ended = True
        self._event(Closed(reason, time))
        if self._on_end is not None:
            self._on_end(self)

    # -- how -------------------------------------------------------------------------------

    def _line(self, time: float, line: bytes) -> None:
        """One line from the client: a command (noted in the dialogue), or message data."""
        command = self._dialogue.send(line)
        if command is None:  # a line of the message, after 354
            self._body += line
            return
        if command.verb == END_OF_DATA:  # the final dot
            message = unstuff(bytes(self._body) + line)
            self._body.clear()
            self._send(time, SentKind.BODY, message, command)
            return
        if command.verb in _GREETINGS:
            words = line.split(None, 1)
            self.ehlo = visible_bytes(words[1].strip(), one_line=True) if len(words) > 1 else ""
        self._send(time, SentKind.COMMAND, line, command)
        if command.verb == "BDAT":
            size = command.argument.split(" ", 1)[0]
            self._chunk_left = int(size) if size.isdigit() else 0

    def _send(self, time: float, kind: SentKind, data: bytes, command: Command | None) -> None:
        if command is not None:
            self._asked.append(time)
        self._event(Sent(kind, data, time, self._tls, command=command))

    def _event(self, event: ClientEvent) -> None:
        made = entry(event)
        if made is not None:
            self._add(made)

    def _note(self, time: float, text: str) -> None:
        self._add(Entry(EntryKind.INFO, time, wall_clock(time), text))

    def _add(self, made: Entry) -> None:
        self.transcript.append(made)


def _repeated(command: Command, dialogue: Dialogue) -> bool:
    """An LMTP reply to a message after the first: it answers the same dot as the first."""
    firsts = dialogue.for_recipients[:1]
    return bool(command.recipient) and command.recipient not in firsts


def describe(message: Delivered) -> str:
    """A message in a line: sender, recipients, size (the client's text: the entry, or
    whoever shows it, makes it visible)."""
    recipients = ", ".join(message.rcpt_tos)
    return f"from <{message.mail_from}> for {recipients}, {len(message.data):,} bytes"


class ServerSessions:
    """Every connection to a server, by number, each a `ServerSide` made when first named;
    ``on_new`` and ``on_end`` are told of each as it starts and ends; unless ``keep``, a
    session is forgotten once ``on_end`` has had it (a server that runs for long)."""

    def __init__(
        self,
        *,
        on_new: Callable[[ServerSide], None] | None = None,
        on_end: Callable[[ServerSide], None] | None = None,
        keep: bool = True,
    ) -> None:
        self.sessions: dict[int, ServerSide] = {}
        self._on_new = on_new
        self._on_end = on_end
        self._keep = keep

    def take(self, event: Told) -> ServerSide:
        """Tell ``event`` to its connection's session; returns that session."""
        session = self.of(event.connection)
        event.tell(session)
        return session

    def of(self, connection: int) -> ServerSide:
        """The session of ``connection``, made if new."""
        session = self.sessions.get(connection)
        if session is None:
            session = self.sessions[connection] = ServerSide(connection, on_end=self._ended)
            if self._on_new is not None:
                self._on_new(session)
        return session

    def _ended(self, session: ServerSide) -> None:
        if self._on_end is not None:
            self._on_end(session)
        if not self._keep:
            del self.sessions[session.number]


def session_file(directory: Path, session: ServerSide, *, redact: bool = True) -> Path:
    """Write ``session`` to ``directory`` as JSON Lines (the export format, which ``smtptui
    open`` reads), passwords redacted unless not ``redact``; returns the file's path. The
    name starts with the connection's time (UTC, to the microsecond), so the files sort by
    it: ``serve-20261206-161500.123456-7-127.0.0.1-37180.jsonl``. Raises OSError."""
    started = wall_clock(session.started if session.started is not None else 0.0)
    peer = file_safe(session.peer) or "local"
    name = f"serve-{started:%Y%m%d-%H%M%S.%f}-{session.number}-{peer}.jsonl"
    path = directory / name
    write_export(path, [session.transcript], ExportFormat.JSONL, redact=redact)
    return path


class SessionFiles:
    """``smtptui serve --jsonl DIR``: each session written to ``directory`` as it ends
    (:func:`session_file`), then forgotten; a file that cannot be written is told to
    ``failed`` in a sentence, and the server goes on. :meth:`take` is the server's listener
    (on the server's thread)."""

    def __init__(
        self, directory: Path, *, redact: bool = True, failed: Callable[[str], None]
    ) -> None:
        self.directory = directory
        self.redact = redact
        self._failed = failed
        self._sessions = ServerSessions(on_end=self._write, keep=False)
        self.take = self._sessions.take

    def _write(self, session: ServerSide) -> None:
        try:
            session_file(self.directory, session, redact=self.redact)
        except OSError as error:
            where = f"{self.directory}: {error.strerror or error}"
            self._failed(f"Cannot write session {session.number}'s transcript to {where}")
