"""What the client publishes while it works: raw wire chunks and the dialogue they carry.

Listeners receive every event synchronously, in order, on the event loop's thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from smtptui.engine.tls import TlsInfo
from smtptui.protocol.dialogue import Command, Phase
from smtptui.protocol.replies import Reply


class Direction(StrEnum):
    SENT = "sent"
    RECEIVED = "received"


class SentKind(StrEnum):
    COMMAND = "command"  # one command line built by a builder
    SASL = "sasl"  # a SASL response line (base64); show it through the mechanism's describe()
    BODY = "body"  # message data after 354, its end included
    CHUNK = "chunk"  # the bytes of a BDAT chunk, after their BDAT command
    MESSAGE_LINE = "message line"  # one line of message data after 354, typed: no reply due
    RAW = "raw"  # bytes the user asked to send exactly as typed
    PROXY = "proxy header"  # the PROXY protocol header, before the greeting; note: its words


@dataclass(frozen=True, slots=True)
class WireEvent:
    """One chunk of bytes as it crossed the socket."""

    direction: Direction
    data: bytes
    time: float  # time.monotonic()
    tls: bool


@dataclass(frozen=True, slots=True)
class Connecting:
    """A connection is asked for; ``route`` says the way, as the transcript's first line
    does ("to mx:25 via socks5://proxy:1080", "through `exim -bh 10.0.0.1`"); ``lmtp``:
    to speak LMTP."""

    host: str
    port: int
    implicit_tls: bool
    time: float
    route: str = ""
    lmtp: bool = False


@dataclass(frozen=True, slots=True)
class Connected:
    host: str
    port: int
    peer: tuple[str, int]  # the address actually reached
    elapsed: float  # seconds from the start of connect to the open socket (before any TLS)
    time: float


@dataclass(frozen=True, slots=True)
class Sent:
    """Something the client sent. ``data`` is the command line, or the message (or message
    line) unstuffed. ``command`` is what the dialogue made of it: what its reply will
    answer, with its pipelining group (``None``: no reply is due for it alone)."""

    kind: SentKind
    data: bytes
    time: float
    tls: bool
    note: str = ""  # readable form where the bytes need one (a masked SASL step)
    command: Command | None = None


@dataclass(frozen=True, slots=True)
class Received:
    """A complete reply. ``latency`` runs from the end of what it answers (for the greeting:
    the connection, or its TLS handshake) to the reply's first byte: the server's and the
    network's time, not the time a long reply takes to arrive. ``time`` is its last byte's.
    ``command`` is what it answers (``None``: nothing was waiting for it), ``phase`` where
    it leaves the dialogue."""

    reply: Reply
    time: float
    tls: bool
    latency: float | None
    command: Command | None
    phase: Phase

    @property
    def unsolicited(self) -> bool:
        return self.command is None


@dataclass(frozen=True, slots=True)
class TlsEstablished:
    info: TlsInfo
    time: float


@dataclass(frozen=True, slots=True)
class Finding:
    """Something odd the client noticed, e.g. plaintext injected after STARTTLS's 220."""

    text: str
    data: bytes
    time: float


@dataclass(frozen=True, slots=True)
class Progress:
    """How much of a message larger than one write (DATA) or than one chunk (BDAT) has
    gone: ``sent`` of ``total`` bytes (DATA: the message stuffed and terminated; BDAT: the
    chunks' bytes), counted as the connection takes them (what it still buffers is not),
    published after each write and, for DATA, every ``PROGRESS_EVERY`` seconds while the
    connection holds the client back. The last one has ``sent == total``; the message's
    reply follows. A smaller message goes in one write whose progress the client cannot
    see (the operating system's buffers take it at once)."""

    sent: int
    total: int
    time: float


@dataclass(frozen=True, slots=True)
class Closed:
    reason: str
    time: float


ClientEvent = (
    WireEvent
    | Connecting
    | Connected
    | Sent
    | Received
    | TlsEstablished
    | Finding
    | Progress
    | Closed
)
Listener = Callable[[ClientEvent], None]
