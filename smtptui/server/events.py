"""What the embedded server publishes about each connection, as plain data, for whoever
watches (``smtptui serve --ui`` and ``--jsonl``): the bytes each way, exactly as they crossed,
and what they cannot tell (the TLS handshake, a rule that fired, the message taken).

Every event names its ``connection`` (counted from 1 per server) and its ``time``
(``time.monotonic()``). Listeners are called on the server's thread, in order, and must not
block it. A server with no listener publishes nothing and pays nothing (`tap.py`).

Whoever turns events into something else implements `Watcher`; ``event.tell(watcher)``
calls the method for that event, so no reader of events needs a table of their types (the
session layer, which cannot import the server, has one: `session/server_side.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from smtptui.engine.tls import TlsInfo
from smtptui.server.handler import ReceivedMessage


class Watcher(Protocol):
    """What is told each event of one connection, as plain values."""

    def connected(self, time: float, peer: str, local: str, lmtp: bool) -> None: ...
    def client_bytes(self, time: float, data: bytes) -> None: ...
    def server_bytes(self, time: float, data: bytes) -> None: ...
    def tls_started(self, time: float, info: TlsInfo) -> None: ...
    def rule_fired(self, time: float, stage: str, label: str, effects: str) -> None: ...
    def message_taken(self, time: float, message: ReceivedMessage) -> None: ...
    def gone(self, time: float, by_server: bool, error: str) -> None: ...


@dataclass(frozen=True, slots=True)
class ClientConnected:
    """A client connected: its address and the one it reached (``host:port``, or a UNIX
    socket's path)."""

    connection: int
    time: float
    peer: str
    local: str
    lmtp: bool = False

    def tell(self, watcher: Watcher) -> None:
        watcher.connected(self.time, self.peer, self.local, self.lmtp)


@dataclass(frozen=True, slots=True)
class ClientBytes:
    """Bytes read from the client, as they came (any number of lines, or part of one)."""

    connection: int
    time: float
    data: bytes

    def tell(self, watcher: Watcher) -> None:
        watcher.client_bytes(self.time, self.data)


@dataclass(frozen=True, slots=True)
class ServerBytes:
    """Bytes the server wrote to the client (a reply, or part of one when throttled)."""

    connection: int
    time: float
    data: bytes

    def tell(self, watcher: Watcher) -> None:
        watcher.server_bytes(self.time, self.data)


@dataclass(frozen=True, slots=True)
class TlsStarted:
    """The TLS handshake is done (after STARTTLS, or at once under implicit TLS); ``info``
    holds the server's own certificate, as it sent it."""

    connection: int
    time: float
    info: TlsInfo

    def tell(self, watcher: Watcher) -> None:
        watcher.tls_started(self.time, self.info)


@dataclass(frozen=True, slots=True)
class RuleFired:
    """A fault rule fired: at which ``stage``, its ``label`` and its ``effects`` in words."""

    connection: int
    time: float
    stage: str
    label: str
    effects: str

    def tell(self, watcher: Watcher) -> None:
        watcher.rule_fired(self.time, self.stage, self.label, self.effects)


@dataclass(frozen=True, slots=True)
class MessageTaken:
    """A message was accepted and handed on."""

    connection: int
    time: float
    message: ReceivedMessage

    def tell(self, watcher: Watcher) -> None:
        watcher.message_taken(self.time, self.message)


@dataclass(frozen=True, slots=True)
class ClientGone:
    """The connection ended; ``by_server``: the server hung up (after QUIT, a rule, an
    error), else the client did; ``error``: the transport's error, if any."""

    connection: int
    time: float
    by_server: bool
    error: str = ""

    def tell(self, watcher: Watcher) -> None:
        watcher.gone(self.time, self.by_server, self.error)


ServerEvent = (
    ClientConnected | ClientBytes | ServerBytes | TlsStarted | RuleFired | MessageTaken | ClientGone
)
Listener = Callable[[ServerEvent], None]


def fan_out(*listeners: Listener | None) -> Listener | None:
    """One listener telling each of ``listeners`` (those not None) in turn; None if none."""
    chosen = [listener for listener in listeners if listener is not None]
    if len(chosen) <= 1:
        return chosen[0] if chosen else None

    def tell(event: ServerEvent) -> None:
        for listener in chosen:
            listener(event)

    return tell
