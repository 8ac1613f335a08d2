"""The transcript: an append-only list of entries that tells its subscribers what is added."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from smtptui.engine.tls import TlsInfo
from smtptui.protocol.dialogue import Command
from smtptui.protocol.replies import Reply
from smtptui.session.visible import decoded, visible


class EntryKind(StrEnum):
    INFO = "info"  # what the session did: connecting, connected, closed
    SENT = "sent"
    RECEIVED = "received"
    TLS = "tls"  # a TLS handshake and its result
    ERROR = "error"  # what failed and what to try; also the engine's findings


DIALOGUE = frozenset({EntryKind.SENT, EntryKind.RECEIVED, EntryKind.TLS})
"""The kinds of entry that record the dialogue with a server (what is worth saving)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One line (or block) of the transcript.

    ``text`` is for display: a reply's raw lines without line endings, a command without
    CRLF, a message body with LF line ends; bytes that are not UTF-8 and control characters
    appear as ``\\xNN``. ``data`` holds the exact bytes. A secret entry (a SASL response) has
    ``redacted``, its masked form; ``text`` and ``data`` then hold the secret, so show
    :meth:`shown`. ``note`` is a gloss shown beside the text (a decoded 334 challenge).
    A message body is one entry: ``data`` is the message as given (before dot-stuffing).
    A message typed line by line after 354 is a ``body`` entry per line, each ``typed``;
    the ``.`` that ends it is a command entry of its own.
    ``revealed`` is a secret decoded for reading, shown only when the user asks; ``flags``
    name the protocol oddities seen in the entry (bare LF, text that is not UTF-8, …);
    ``tls_info`` is a handshake's details, on TLS entries. ``command`` is what the dialogue
    made of a line sent (its pipelining group, whether it is out of order) or, on a reply,
    the command it answers (``None``: unsolicited). ``chunk``: a BDAT chunk's bytes.

    Whoever makes an entry, its text, note, redacted and revealed forms are made
    :func:`~smtptui.session.visible.visible` here: they quote servers, certificates and
    exception messages, and every way of showing a transcript (the TUI, ``smtptui run``,
    the swaks-text export) shows these fields. ``data`` and ``tls_info`` stay exact.

    A message body made from what was sent is given ``text=None``: its text is then made
    from ``data`` (:func:`body_text`) each time it is read, so a 20 MB message is held once,
    as its bytes, not a second time as text.
    """

    kind: EntryKind
    time: float  # time.monotonic()
    wall: datetime  # aware, UTC
    text: str | None  # None: made from data when read (a message body; see above)
    data: bytes = b""
    tls: bool = False
    latency: float | None = None  # seconds, for replies to a command
    reply: Reply | None = None
    redacted: str | None = None
    note: str = ""
    body: bool = False  # message data sent after DATA's 354 (one entry, however long)
    revealed: str | None = None
    flags: tuple[str, ...] = ()
    tls_info: TlsInfo | None = None
    typed: bool = False  # a body entry holding one line of message data typed after 354
    command: Command | None = None
    chunk: bool = False

    def __post_init__(self) -> None:
        # Each field by name, not in a loop: a 100,000-entry file makes as many entries.
        # isprintable() is visible()'s own shortcut, tried here first to spare the call.
        text = _given.__get__(self)  # the text given: None for a body made from its data
        note, redacted, revealed = self.note, self.redacted, self.revealed
        if text is not None and not text.isprintable():
            object.__setattr__(self, "text", visible(text))
        if not note.isprintable():
            object.__setattr__(self, "note", visible(note))
        if redacted is not None and not redacted.isprintable():
            object.__setattr__(self, "redacted", visible(redacted))
        if revealed is not None and not revealed.isprintable():
            object.__setattr__(self, "revealed", visible(revealed))

    @classmethod
    def now(cls, kind: EntryKind, text: str, data: bytes = b"") -> Entry:
        """An entry stamped now: what the session itself says (and the bytes it is about)."""
        when = time.monotonic()
        return cls(kind, when, wall_clock(when), text, data)

    @property
    def dotted(self) -> bool:
        """A message sent whole: shown followed by the ``.`` that ended it on the wire."""
        return self.body and not self.typed and not self.chunk

    @property
    def text_from_data(self) -> bool:
        """Whether :attr:`text` is made from :attr:`data` when read (a message body sent),
        not held: a reader that needs a part of it can make that part alone."""
        return _given.__get__(self) is None

    @property
    def secret(self) -> bool:
        return self.redacted is not None

    def shown(self, redact: bool = True) -> str:
        """The text to show: the masked form of a secret unless ``redact`` is False."""
        return self.redacted if redact and self.redacted is not None else self.text


_given = Entry.text  # type: ignore[attr-defined]
"""The slot that holds the text an entry was given (None: made from its data)."""


def _text(entry: Entry) -> str:
    text = _given.__get__(entry)
    return body_text(entry.data) if text is None else text


# Set after the class is made: dataclass(slots=True) drops a class attribute named as a
# field, so the property wraps the field's slot from outside. Constructor, fields, replace()
# and equality are unchanged; reading the text of a body given None makes it.
Entry.text = property(_text, _given.__set__)  # type: ignore[assignment, method-assign]


def body_text(data: bytes) -> str:
    """A message body's text: LF line ends, the last one dropped, made visible."""
    lines = data.replace(b"\r\n", b"\n")
    end = len(lines) - lines.endswith(b"\n")
    return visible(decoded(memoryview(lines)[:end]))


def wall_clock(when: float) -> datetime:
    """The UTC wall-clock time of monotonic time ``when``."""
    return datetime.now(UTC) - timedelta(seconds=time.monotonic() - when)


def display_line(data: bytes) -> str:
    """One line for an entry, its CRLF (or bare LF) removed."""
    return decoded(data.removesuffix(b"\n").removesuffix(b"\r"))


def reply_text(reply: Reply) -> str:
    """A reply as received, one line per line, without line endings."""
    lines = reply.raw.removesuffix(b"\n").split(b"\n")
    return "\n".join(display_line(line) for line in lines)


class Transcript:
    """One connection's entries in the order they happened. Subscribers are called with each
    new entry.

    ``number`` counts the connections of a run from 1; ``title`` names the server (empty until
    the connection starts). It is :attr:`unsaved` once it holds dialogue not yet saved.
    """

    def __init__(self, number: int = 1, title: str = "") -> None:
        self.number = number
        self.title = title
        self._entries: list[Entry] = []
        self._subscribers: list[Callable[[Entry], None]] = []
        self._dialogue = False
        self._unsaved = False
        self._saved = 0  # entries saved (the first ones)

    @property
    def title(self) -> str:
        """Made visible on one line when set, as an entry's text is: a peer's name, an MX
        host from DNS or a saved file's heading is anyone's text, drawn in tabs and titles."""
        return self._title

    @title.setter
    def title(self, value: str) -> None:
        self._title = visible(value, one_line=True)

    def append(self, entry: Entry) -> None:
        self.extend([entry])

    def extend(self, entries: list[Entry]) -> None:
        """Append ``entries`` (a chunk of a file read back, or one entry): each subscriber is
        told of them all in order, one subscriber after the other."""
        self._entries += entries
        if not self._unsaved and any(entry.kind in DIALOGUE for entry in entries):
            self._dialogue = self._unsaved = True
        for subscriber in list(self._subscribers):
            for entry in entries:
                subscriber(entry)

    @property
    def has_dialogue(self) -> bool:
        """Whether it holds an entry of the dialogue (sent, received or TLS)."""
        return self._dialogue

    @property
    def unsaved(self) -> int:
        """How many entries were appended since it was created, cleared or saved, when
        dialogue is among them (0 otherwise)."""
        return len(self._entries) - self._saved if self._unsaved else 0

    def mark_saved(self) -> None:
        """Note that everything in it so far was saved (exported to a file)."""
        self._unsaved = False
        self._saved = len(self._entries)

    def subscribe(self, callback: Callable[[Entry], None]) -> Callable[[], None]:
        """Call ``callback`` with every entry appended from now on; returns an unsubscribe."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def clear(self) -> None:
        """Forget every entry (subscribers are not told: whoever clears redraws)."""
        self._entries.clear()
        self._dialogue = self._unsaved = False
        self._saved = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)

    def __getitem__(self, index: int) -> Entry:
        return self._entries[index]
