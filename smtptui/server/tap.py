"""Where a connection's events (`events.py`) are taken: a `Watch` per server numbers the
connections and holds the listener; each watched connection gets a `Tap`, which publishes
what it is told and wraps the connection's writer to see every byte written. A server
without a listener makes no `Watch`, and its connections run as if none of this existed."""

from __future__ import annotations

import itertools
import ssl
import time
from typing import Any

from smtptui.engine.hosts import format_host
from smtptui.engine.tls import CertificateInfo, TlsInfo
from smtptui.server.events import (
    ClientBytes,
    ClientConnected,
    ClientGone,
    Listener,
    MessageTaken,
    RuleFired,
    ServerBytes,
    TlsStarted,
)
from smtptui.server.handler import ReceivedMessage

OWN_CERTIFICATE = "the server's own certificate; whether the client checked it, only it knows"
"""A server-side handshake's verify note: the server cannot see the client's verdict."""


class Watch:
    """One server's watching: ``listener`` and the connections' numbers; ``certificate`` is
    the DER of the certificate the server presents, when known (its self-signed one)."""

    def __init__(self, listener: Listener, certificate: bytes | None = None) -> None:
        self.listener = listener
        self._numbers = itertools.count(1)
        self._certificate = certificate
        self._chain: tuple[CertificateInfo, ...] | None = None

    def tap(self) -> Tap:
        """A new connection's tap."""
        return Tap(self, next(self._numbers))

    def chain(self) -> tuple[CertificateInfo, ...]:
        """The certificate presented, as data (read once, on the first handshake)."""
        if self._chain is None:
            der = self._certificate
            self._chain = (CertificateInfo.from_der(der),) if der else ()
        return self._chain


class Tap:
    """One connection's publisher: each method publishes one event, stamped now."""

    def __init__(self, watch: Watch, connection: int) -> None:
        self.watch = watch
        self.connection = connection
        self._publish = watch.listener

    def connected(self, peer: object, local: object, *, lmtp: bool) -> None:
        when = time.monotonic()
        self._publish(ClientConnected(self.connection, when, _at(peer), _at(local), lmtp))

    def received(self, data: bytes) -> None:
        self._publish(ClientBytes(self.connection, time.monotonic(), bytes(data)))

    def sent(self, data: bytes) -> None:
        self._publish(ServerBytes(self.connection, time.monotonic(), bytes(data)))

    def tls(self, ssl_object: ssl.SSLObject | ssl.SSLSocket) -> None:
        name, _, bits = ssl_object.cipher() or ("", "", 0)
        info = TlsInfo(
            version=ssl_object.version() or "",
            cipher=name,
            bits=bits or 0,
            server_hostname=ssl_object.server_hostname,
            chain=self.watch.chain(),
            verified=False,
            verify_note=OWN_CERTIFICATE,
        )
        self._publish(TlsStarted(self.connection, time.monotonic(), info))

    def rule(self, stage: str, label: str, effects: str) -> None:
        self._publish(RuleFired(self.connection, time.monotonic(), stage, label, effects))

    def message(self, message: ReceivedMessage) -> None:
        self._publish(MessageTaken(self.connection, time.monotonic(), message))

    def gone(self, *, by_server: bool, error: BaseException | None) -> None:
        reason = (str(error) or type(error).__name__) if error is not None else ""
        self._publish(ClientGone(self.connection, time.monotonic(), by_server, reason))


class TappedWriter:
    """A StreamWriter whose writes are told to its `Tap` first; what is set on it (aiosmtpd
    sets its transport after STARTTLS) is set on the writer itself."""

    def __init__(self, writer: Any, tap: Tap) -> None:
        object.__setattr__(self, "_inner", writer)
        object.__setattr__(self, "_tap", tap)

    def write(self, data: bytes) -> None:
        self._tap.sent(data)
        self._inner.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)


def _at(address: object) -> str:
    """A socket address in words: ``host:port`` (``[v6]:port``), a UNIX socket's path."""
    if isinstance(address, tuple) and len(address) >= 2:
        return format_host(str(address[0]), int(address[1]))
    return str(address) if address else "a local client"
