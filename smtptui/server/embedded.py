"""The embedded mail server: aiosmtpd on its own thread, for the demo, `smtptui serve`
and the tests."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, syntax

from smtptui.engine.hosts import format_host
from smtptui.server.certs import SelfSigned, make_self_signed
from smtptui.server.handler import DEMO_USERS, DemoHandler, ReceivedMessage


class _HideOwnDeprecations(logging.Filter):
    """aiosmtpd warns on every AUTH about an attribute it sets itself; nobody can act on it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_HideOwnDeprecations())

__all__ = ["DEMO_USERS", "EmbeddedServer", "ReceivedMessage", "describe", "serve"]


class EmbeddedServer:
    """A demo SMTP server listening on `host`:`port` (port 0: any free port).

    It binds its listening socket itself, in `start()`, and hands it to aiosmtpd: the
    real port is known before aiosmtpd's start-up probe connects to it, bind errors are
    raised at once, and no other process can take the port in between (as it could if
    a free port were looked up and released first). It binds the first address `host`
    resolves to, the one clients try first.

    `tls_context` is the server's certificate (None: a fresh self-signed one, kept in
    `self_signed`); it is used for implicit TLS, else for STARTTLS if `starttls`.
    AUTH (PLAIN, LOGIN, CRAM-MD5, XOAUTH2 against `users`) is only offered inside TLS
    if `auth_require_tls`. Accepted messages are appended to `messages`, then passed to
    `on_message` on the server's thread.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tls_context: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        starttls: bool = True,
        require_starttls: bool = False,
        auth_require_tls: bool = True,
        users: Mapping[str, str] = DEMO_USERS,
        hostname: str = "smtptui.demo",
        data_size_limit: int = 33_554_432,
        enable_smtputf8: bool = True,
        on_message: Callable[[ReceivedMessage], None] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.self_signed: SelfSigned | None = None
        if tls_context is None:
            self.self_signed = make_self_signed()
            tls_context = self.self_signed.server_context()
        self.messages: list[ReceivedMessage] = []
        self._on_message = on_message
        self._handler = DemoHandler(users, self._receive)
        self._ssl_context = tls_context if implicit_tls else None
        starttls_context = tls_context if starttls and not implicit_tls else None
        self._smtp_kwargs: dict[str, Any] = {
            "server_hostname": hostname,
            "ident": "ESMTP smtptui",
            "data_size_limit": data_size_limit,
            "enable_SMTPUTF8": enable_smtputf8,
            "decode_data": False,
            "tls_context": starttls_context,
            "require_starttls": require_starttls,
            # aiosmtpd only counts STARTTLS as TLS: under implicit TLS, AUTH is safe as is.
            "auth_require_tls": auth_require_tls and not implicit_tls,
            "authenticator": self._handler.authenticator,
        }
        self._controller: _Controller | None = None

    def start(self) -> None:
        """Bind, then serve on a background thread until `stop()`."""
        if self._controller is not None:
            raise RuntimeError("the server is already running")
        sock = _listen(self.host, self.port)
        controller = _Controller(
            self._handler, sock, ssl_context=self._ssl_context, **self._smtp_kwargs
        )
        try:
            controller.start()
        except BaseException:
            controller.stop(no_assert=True)
            sock.close()
            raise
        self.port = controller.port
        self._controller = controller

    def stop(self) -> None:
        """Stop serving and join the thread; a no-op when not running."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _receive(self, message: ReceivedMessage) -> None:
        self.messages.append(message)
        if self._on_message is not None:
            self._on_message(message)


class _Controller(Controller):
    """aiosmtpd's threaded controller, serving on a socket bound beforehand."""

    def __init__(self, handler: DemoHandler, sock: socket.socket, **kwargs: Any) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **kwargs)
        self._sock = sock

    def factory(self) -> SMTP:
        return _SMTP(self.handler, **self.SMTP_kwargs)

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


class _SMTP(SMTP):
    """aiosmtpd's SMTP, refusing STARTTLS inside TLS like Postfix; aiosmtpd itself would
    start a second handshake inside the first one and drop the connection."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Turn Nagle's algorithm off, as asyncio does only on sockets it made itself (not
        on those accepted from the one bound in ``_listen``): aiosmtpd writes a reply a
        line at a time, and with it on, every line after the first waits for the client's
        ACK of the one before, which the client may delay by ~40 ms."""
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)

    @syntax("STARTTLS", when="tls_context")
    async def smtp_STARTTLS(self, arg: str) -> None:
        if self._tls_protocol is not None:
            await self.push("554 5.5.1 Error: TLS already active")
        else:
            await super().smtp_STARTTLS(arg)


def _listen(host: str, port: int) -> socket.socket:
    family, _, _, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    return socket.create_server(address, family=family)


def describe(message: ReceivedMessage) -> str:
    """One line about a message: time, peer, sender, recipients, size, subject. The text is
    the client's, as it sent it: whoever prints it makes it safe to print."""
    line = (
        f"{message.received_at.astimezone():%H:%M:%S} {message.peer} "
        f"{message.mail_from} -> {', '.join(message.rcpt_tos)} {len(message.data)} bytes"
    )
    subject = BytesHeaderParser(policy=default_policy).parsebytes(message.data)["subject"]
    if subject is not None:
        line += " Subject: " + " ".join(str(subject).split())
    return line


def serve(host: str, port: int, *, implicit_tls: bool, echo: Callable[[str], None]) -> None:
    """Run a demo server with a self-signed certificate until KeyboardInterrupt, echoing
    where it listens and one line per message received (as :func:`describe` has it: ``echo``
    makes it safe to print)."""
    server = EmbeddedServer(
        host, port, implicit_tls=implicit_tls, on_message=lambda m: echo(describe(m))
    )
    assert server.self_signed is not None
    credentials = ", ".join(f"{user} / {password}" for user, password in DEMO_USERS.items())
    try:
        with server:
            where = format_host(host, server.port)
            mode = "implicit TLS" if implicit_tls else "STARTTLS"
            echo(
                f"Listening on {where} ({mode}); log in as {credentials}; "
                f"certificate SHA-256 {server.self_signed.sha256}"
            )
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
