"""A server that, like Postfix or OpenSMTPD, holds its first reply inside TLS 1.3 until the
client has acknowledged the session tickets.

It is OpenSSL on a blocking socket with Nagle's algorithm on, as those servers' sockets
are: the handshake ends with the server writing its session tickets, and its next reply (to
the first command after STARTTLS; the greeting, with implicit TLS), one small write, then
waits in the server's kernel for the tickets' ACK. A client that has nothing to send when
the tickets come (it sent that command with its last handshake message, as uvloop does,
or just after it; or it awaits the greeting) acknowledges them late, with a delayed ACK
(~40 ms on Linux).
"""

from __future__ import annotations

import socket
import ssl
import threading
from types import TracebackType

EHLO_REPLY = b"250-mx.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 STARTTLS\r\n"


class TicketServer:
    """Serves on 127.0.0.1 and a free port, one connection at a time, on its own thread,
    until closed: 220, then EHLO, STARTTLS (TLS 1.3 with ``context``), NOOP and QUIT; with
    ``implicit_tls``, TLS from the first byte."""

    def __init__(self, context: ssl.SSLContext, *, implicit_tls: bool = False) -> None:
        self.context = context
        self.implicit_tls = implicit_tls
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = self._listener.getsockname()[:2]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> TicketServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType
    ) -> None:
        self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join(5)

    def _serve(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:  # closed
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
            try:
                self._converse(sock)
            except (OSError, ValueError):
                pass  # the client went away
            finally:
                sock.close()

    def _converse(self, sock: socket.socket) -> None:
        conn = self.context.wrap_socket(sock, server_side=True) if self.implicit_tls else sock
        conn.sendall(b"220 mx.example ESMTP\r\n")
        lines = conn.makefile("rb")
        while line := lines.readline():
            verb = line.split(None, 1)[0].upper() if line.strip() else b""
            if verb == b"EHLO":
                conn.sendall(EHLO_REPLY)
            elif verb == b"STARTTLS":
                conn.sendall(b"220 ready\r\n")
                conn = self.context.wrap_socket(sock, server_side=True)  # tickets sent here
                lines = conn.makefile("rb")
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 ok\r\n")
