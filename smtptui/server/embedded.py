"""The embedded mail server: aiosmtpd on its own thread, for the demo, `smtptui serve`
and the tests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller, UnixSocketController
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, syntax

from smtptui.engine.hosts import format_host
from smtptui.protocol.errors import CommandError
from smtptui.protocol.proxy import proxy_v1
from smtptui.protocol.xclient import ATTRIBUTES, parse_xclient
from smtptui.server.certs import SelfSigned, make_self_signed
from smtptui.server.events import Listener
from smtptui.server.faults import RuledSMTP
from smtptui.server.handler import (
    DEMO_TOKENS,
    DEMO_USERS,
    DemoHandler,
    ReceivedMessage,
)
from smtptui.server.rules import Rule, Rules, Stage, default_rules
from smtptui.server.tap import Tap, TappedWriter, Watch


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
    With `unix_path`, it listens on that UNIX socket instead (made at start, removed at
    stop).
    `proxy_protocol` expects a PROXY header (v1 or v2) before anything else, as a server
    behind HAProxy does; the client it tells of is kept on each message (`proxied`).
    `xclient` offers Postfix's XCLIENT to anyone (Postfix limits it to trusted hosts); the
    attributes set are kept on each message (`xclient`).
    AUTH (PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256 and XOAUTH2 against `users`, OAUTHBEARER
    against `DEMO_TOKENS`) is only offered inside TLS if `auth_require_tls`. Besides
    aiosmtpd's extensions it offers PIPELINING and CHUNKING (BDAT). Accepted messages are
    appended to `messages` (unless not `keep_messages`: `smtptui serve`, which runs for
    long, and the UI demo's), then passed to `on_message`
    on the server's thread.

    `lmtp` serves LMTP (RFC 2033, aiosmtpd's ``LMTP``): LHLO instead of EHLO and HELO, and
    a reply per recipient to each message.

    `rules` are the fault rules it applies (`rules.py`; None: the shipped ones, which
    refuse ``reject…`` and ``unknown…`` addresses, and ``full…`` recipients under LMTP);
    `seed` makes their chances the same on every run; `on_rule` is told of each rule that
    fires, in words, on the server's thread.

    `on_event` is told what happens on each connection (`events.py`: the bytes each way, the
    handshake, the rules that fire, the messages), on the server's thread; without it,
    nothing is published and nothing is spent on it.
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
        lmtp: bool = False,
        unix_path: str | None = None,
        proxy_protocol: bool = False,
        xclient: bool = False,
        rules: Sequence[Rule] | None = None,
        seed: int | None = None,
        on_rule: Callable[[str], None] | None = None,
        keep_messages: bool = True,
        on_event: Listener | None = None,
    ) -> None:
        if proxy_protocol and implicit_tls:  # aiosmtpd would read the header inside TLS
            raise ValueError("a PROXY header comes before TLS: not with implicit TLS here")
        self.host = host
        self.unix_path = unix_path
        self.port = port
        self.self_signed: SelfSigned | None = None
        if tls_context is None:
            self.self_signed = make_self_signed()
            tls_context = self.self_signed.server_context()
        self.messages: list[ReceivedMessage] = []
        self._keep = keep_messages
        self._on_message = on_message
        extensions = (*_SMTP.EXTENSIONS, _XCLIENT) if xclient else _SMTP.EXTENSIONS
        self._handler = DemoHandler(users, self._receive, extensions=extensions)
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
            # aiosmtpd reads a PROXY header (v1 or v2) before its greeting, if one comes in time
            "proxy_protocol_timeout": _PROXY_TIMEOUT if proxy_protocol else None,
            "xclient": xclient,
            "rules": Rules(default_rules() if rules is None else rules, seed=seed),
            "on_rule": on_rule,
        }
        if on_event is not None:
            der = self.self_signed.der if self.self_signed is not None else None
            self._smtp_kwargs["watch"] = Watch(on_event, der)
        self._protocol: type[_SMTP] = _LMTP if lmtp else _SMTP
        self._controller: _Controller | _UnixController | None = None

    def start(self) -> None:
        """Bind, then serve on a background thread until `stop()`."""
        if self._controller is not None:
            raise RuntimeError("the server is already running")
        if self.unix_path is not None:
            unix = _UnixController(
                self._handler,
                self.unix_path,
                self._protocol,
                ssl_context=self._ssl_context,
                **self._smtp_kwargs,
            )
            unix.start()
            self._controller = unix
            return
        sock = _listen(self.host, self.port)
        controller = _Controller(
            self._handler, sock, self._protocol, ssl_context=self._ssl_context, **self._smtp_kwargs
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
            if self.unix_path is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.unix_path)

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

    async def serve_stdio(self) -> None:
        """Speak SMTP on stdin and stdout for one session, in this thread's loop (the other
        end of a client's ``--pipe``). The session runs on one end of a socket pair; threads
        copy the bytes to and from the standard streams with blocking reads and writes,
        which work whatever those are (pipes, a socket, a terminal, a file)."""
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        kwargs = dict(self._smtp_kwargs, hostname=self._smtp_kwargs["server_hostname"])
        del kwargs["server_hostname"]  # the controller's name for SMTP's hostname
        smtp = self._protocol(self._handler, **kwargs)
        await loop.connect_accepted_socket(lambda: smtp, sock=theirs)
        threading.Thread(target=_stdin_to, args=(ours,), daemon=True).start()
        await loop.run_in_executor(None, _to_stdout, ours)  # until the session ends
        ours.close()

    def _receive(self, message: ReceivedMessage, server: SMTP) -> None:
        if isinstance(server, _SMTP) and server.tap is not None:
            server.tap.message(message)
        if self._keep:
            self.messages.append(message)
        if self._on_message is not None:
            self._on_message(message)


class _Sessions:
    """What both controllers add to aiosmtpd's: a connection's SMTP made here (with fault
    rules, but for the start-up probe's) and kept, weakly, for ``stop`` to close."""

    handler: DemoHandler
    SMTP_kwargs: dict[str, Any]
    loop: asyncio.AbstractEventLoop
    _protocol: type[_SMTP]
    _thread: threading.Thread | None
    _open: weakref.WeakSet[SMTP] | None = None  # the connections' SMTPs, once the probe's made

    def factory(self) -> SMTP:
        """A connection's SMTP; the first is aiosmtpd's start-up probe, which meets no fault
        rule (it would use up a chance or a count)."""
        kwargs = self.SMTP_kwargs
        if self._open is None:  # the first: the probe
            self._open = weakref.WeakSet()
            kwargs = {**kwargs, "rules": None, "watch": None}
        smtp = self._protocol(self.handler, **kwargs)
        self._open.add(smtp)
        return smtp

    def stop(self, no_assert: bool = False) -> None:
        """Close every open connection, then stop as aiosmtpd does: it only cancels the
        sessions' tasks, and a close still queued when its loop ends never happens (the
        client is not told, and the socket is left to the collector)."""
        if self._thread is not None and self._open is not None:
            closing = asyncio.run_coroutine_threadsafe(_closed(list(self._open)), self.loop)
            with contextlib.suppress(TimeoutError):  # a loop that busy is stopped anyway
                closing.result(_CLOSE_TIMEOUT)
        super().stop(no_assert)  # type: ignore[misc]  # aiosmtpd's controller's


async def _closed(sessions: list[SMTP]) -> None:
    """Abort each session's connection and return once each has been told it is lost:
    its socket is closed by then (asyncio closes it right after telling the protocol, or,
    under TLS, before the TLS layer passes the news on)."""
    for smtp in sessions:
        if smtp.transport is not None:
            smtp.transport.abort()
    for _ in range(_TURNS):
        if all(smtp.transport is None for smtp in sessions):
            return
        await asyncio.sleep(0)


class _Controller(_Sessions, Controller):
    """aiosmtpd's threaded controller, serving on a socket bound beforehand."""

    def __init__(
        self, handler: DemoHandler, sock: socket.socket, protocol: type[_SMTP], **kwargs: Any
    ) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **kwargs)
        self._sock = sock
        self._protocol = protocol

    def _trigger_server(self) -> None:
        """aiosmtpd's start-up probe, which reads the greeting: behind a PROXY header when
        one is expected, else the server waits for it and the probe for a second."""
        if self.SMTP_kwargs.get("proxy_protocol_timeout") is None:
            super()._trigger_server()
            return
        with socket.create_connection((self.hostname, self.port), 1.0) as probe:
            probe.sendall(proxy_v1(None, None))
            probe.recv(1024)

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


class _UnixController(_Sessions, UnixSocketController):
    """aiosmtpd's threaded controller on a UNIX socket, speaking this module's SMTP (or
    LMTP: LMTP over a UNIX socket is how Dovecot and Cyrus take mail)."""

    def __init__(
        self, handler: DemoHandler, path: str, protocol: type[_SMTP], **kwargs: Any
    ) -> None:
        super().__init__(handler, path, **kwargs)
        self._protocol = protocol


_XCLIENT = "XCLIENT " + " ".join(ATTRIBUTES)
"""XCLIENT's EHLO line: every attribute Postfix knows."""
_PROXY_TIMEOUT = 10.0
"""How long a connection may take to send its PROXY header."""
_TURNS = 20
"""Turns of the server's loop that its connections may take to close at stop (three do)."""
_CLOSE_TIMEOUT = 5.0
"""How long ``stop`` waits for the server's loop to close the connections."""

_BDAT = re.compile(r"(\d+)(?: +(LAST))?", re.IGNORECASE)
_BINARYMIME = re.compile(r"(?<=\s)BODY=BINARYMIME(?=\s|$)", re.IGNORECASE)
"""BDAT's argument (RFC 3030 3): chunk-size [SP end-marker]."""

_PIECE = 256 * 1024
"""How much of a chunk is read at once: a refused chunk is discarded piece by piece."""


class _Envelope(Envelope):
    """aiosmtpd's envelope, with the BDAT chunks of the transaction: None until a BDAT
    comes, as RSET, EHLO and a delivered message start a new envelope."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: bytearray | None = None
        self.binary = False  # MAIL said BODY=BINARYMIME: the message comes by BDAT only


class _SMTP(RuledSMTP):
    """aiosmtpd's SMTP with CHUNKING and BINARYMIME (RFC 3030, which aiosmtpd lacks),
    PIPELINING (aiosmtpd reads and answers commands in order already) and, when asked
    (``xclient``), Postfix's XCLIENT; it refuses STARTTLS inside TLS like Postfix, where
    aiosmtpd would start a second handshake inside the first one and drop the connection."""

    EXTENSIONS = ("PIPELINING", "CHUNKING", "BINARYMIME")
    """What this class adds to aiosmtpd's EHLO reply (the handler lists them)."""

    envelope: _Envelope | None

    def _create_envelope(self) -> _Envelope:
        return _Envelope()

    def __init__(
        self,
        handler: DemoHandler,
        *,
        xclient: bool = False,
        watch: Watch | None = None,
        **kwargs: Any,
    ) -> None:
        """`kwargs`: aiosmtpd's, and the fault rules (:class:`RuledSMTP`); `watch`: who
        is told of this connection's events (None: nobody, and no tap is set)."""
        super().__init__(handler, **kwargs)
        self.xclient = xclient
        self.tap: Tap | None = None
        self._client_ended = False  # the client sent EOF
        if watch is not None:
            self.tap = watch.tap()
            self.data_received = self._tapped_data_received  # type: ignore[method-assign]

    # -- what is told of the connection (only with a tap) --------------------------------

    def _tapped_data_received(self, data: bytes) -> None:
        assert self.tap is not None
        self.tap.received(data)
        super().data_received(data)

    def _cb_client_connected(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        super()._cb_client_connected(reader, writer)
        if self.tap is not None:
            self._writer = TappedWriter(writer, self.tap)  # type: ignore[assignment]

    def eof_received(self) -> bool | None:
        self._client_ended = True
        return super().eof_received()

    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        if self.tap is not None:
            self.tap.gone(by_server=not self._client_ended and error is None, error=error)

    def fired(self, stage: Stage, rule: Rule) -> None:
        super().fired(stage, rule)
        if self.tap is not None:
            self.tap.rule(stage, rule.label, rule.effects)

    @syntax("XCLIENT attribute=value [...]", when="xclient")
    async def smtp_XCLIENT(self, arg: str) -> None:
        """Postfix's XCLIENT: note the attributes (xtext-decoded) and start the session over
        with a new greeting, as Postfix does: the client must EHLO again."""
        assert self.session is not None
        if not self.xclient:  # `when` above only keeps it out of HELP
            await self.push('500 Error: command "XCLIENT" not recognized')
            return
        if self.envelope is not None and self.envelope.mail_from is not None:
            await self.push("503 5.5.1 Error: MAIL transaction in progress")
            return
        try:
            attributes = parse_xclient(arg or "")
        except CommandError as error:
            await self.push(f"501 5.5.4 {error}")
            return
        unknown = [name for name, _ in attributes if name not in ATTRIBUTES]
        if not attributes:
            await self.push("501 5.5.4 Syntax: XCLIENT attribute=value [...]")
            return
        if unknown:
            await self.push(f"501 5.5.4 Bad XCLIENT attribute name: {' '.join(unknown)}")
            return
        told: dict[str, str] = getattr(self.session, "xclient", {})
        self.session.xclient = told | dict(attributes)  # type: ignore[attr-defined]
        self.session.host_name = None  # the session starts over: EHLO again
        self.session.extended_smtp = False
        self.envelope = self._create_envelope()
        await self.push(f"220 {self.hostname} {self.__ident__}")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Turn Nagle's algorithm off, as asyncio does only on sockets it made itself (not
        on those accepted from the one bound in ``_listen``): aiosmtpd writes a reply a
        line at a time, and with it on, every line after the first waits for the client's
        ACK of the one before, which the client may delay by ~40 ms."""
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        previous = self.session
        if self.tap is not None and previous is None:
            self.tap.connected(
                transport.get_extra_info("peername"),
                transport.get_extra_info("sockname"),
                lmtp=isinstance(self, LMTP),
            )
        super().connection_made(transport)
        if previous is not None:  # after STARTTLS: a new session, for the client as told
            self.session.proxy_data = previous.proxy_data
            if hasattr(previous, "xclient"):
                self.session.xclient = previous.xclient  # type: ignore[attr-defined]
        ssl_object = transport.get_extra_info("ssl_object")
        if self.tap is not None and ssl_object is not None:
            self.tap.tls(ssl_object)

    @syntax("STARTTLS", when="tls_context")
    async def smtp_STARTTLS(self, arg: str) -> None:
        if self._tls_protocol is not None:
            await self.push("554 5.5.1 Error: TLS already active")
        else:
            await super().smtp_STARTTLS(arg)

    @syntax("MAIL FROM: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_MAIL(self, arg: str | None) -> None:
        """aiosmtpd's MAIL, which knows BODY=7BIT and 8BITMIME only, taking BINARYMIME too:
        the transaction remembers it, and its parameters keep it as sent."""
        binary = bool(arg and _BINARYMIME.search(arg))
        await super().smtp_MAIL(_BINARYMIME.sub("BODY=8BITMIME", arg) if binary else arg)
        envelope = self.envelope
        if binary and envelope is not None and envelope.mail_from is not None:
            envelope.binary = True
            envelope.mail_options = [
                "BODY=BINARYMIME" if option == "BODY=8BITMIME" else option
                for option in envelope.mail_options
            ]

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        assert self.envelope is not None
        if self.envelope.chunks is not None:  # RFC 3030 2: no mixing within a transaction
            await self.push("503 5.5.1 Error: DATA after BDAT")
        elif self.envelope.binary:  # RFC 3030 3: a binary body has no line structure
            await self.push("503 5.5.1 Error: BODY=BINARYMIME takes BDAT, not DATA")
        else:
            await super().smtp_DATA(arg)

    @syntax("BDAT chunk-size [LAST]")
    async def smtp_BDAT(self, arg: str | None) -> None:
        """Read exactly chunk-size bytes, as they are (no dot-stuffing, no terminator),
        and add them to the transaction's; with LAST, deliver the message as DATA does.

        The bytes are read even when the chunk is refused, so that the next command is
        read from the right place; only a size that cannot be read leaves them unread.
        """
        match = _BDAT.fullmatch(arg or "")
        if match is None:
            await self.push("501 5.5.4 Syntax: BDAT chunk-size [LAST]")
            return
        size, last = int(match[1]), match[2] is not None
        envelope = self.envelope
        assert envelope is not None
        # MAIL checks HELO and AUTH: a transaction with recipients has passed both.
        in_transaction = bool(envelope.rcpt_tos)
        chunks = envelope.chunks if envelope.chunks is not None else bytearray()
        limit = self.data_size_limit or 0  # 0: none, as for DATA
        too_much = 0 < limit < len(chunks) + size
        await self._read_chunk(size, chunks if in_transaction and not too_much else None)
        if not in_transaction:
            await self.push("503 5.5.1 Error: need RCPT command")
        elif too_much:
            self._set_post_data_state()  # as DATA does: the transaction is over
            await self.push("552 5.3.4 Error: too much mail data")
        elif not last:
            envelope.chunks = chunks
            await self.push(f"250 2.0.0 {size} bytes received, {len(chunks)} in total")
        else:
            envelope.original_content = envelope.content = bytes(chunks)
            status = await self._call_handler_hook("DATA")
            self._set_post_data_state()
            await self.push(status)

    async def _read_chunk(self, size: int, into: bytearray | None) -> None:
        """Consume exactly ``size`` bytes, adding them to ``into`` (None: discard them)."""
        while size:
            piece = await self._reader.readexactly(min(size, _PIECE))
            size -= len(piece)
            if into is not None:
                into += piece


class _LMTP(LMTP, _SMTP):
    """aiosmtpd's LMTP (LHLO; EHLO and HELO refused) with what :class:`_SMTP` adds."""


def _stdin_to(sock: socket.socket) -> None:
    """Copy stdin to ``sock`` until EOF, then shut ``sock`` for writing (the session's
    EOF)."""
    with contextlib.suppress(OSError):
        while data := os.read(0, 65536):
            sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)


def _to_stdout(sock: socket.socket) -> None:
    """Copy ``sock`` to stdout until the session closes it."""
    with contextlib.suppress(OSError):
        while data := sock.recv(65536):
            while data:
                data = data[os.write(1, data) :]


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
    if message.proxied is not None:
        line += f"; client (PROXY): {message.proxied}"
    if message.xclient:
        line += "; XCLIENT " + " ".join(f"{name}={value}" for name, value in message.xclient)
    return line


def serve(
    host: str,
    port: int,
    *,
    implicit_tls: bool,
    echo: Callable[[str], None],
    lmtp: bool = False,
    unix_path: str | None = None,
    stdio: bool = False,
    proxy_protocol: bool = False,
    rules: Sequence[Rule] | None = None,
    seed: int | None = None,
    on_event: Listener | None = None,
    hold: Callable[[str], None] | None = None,
) -> None:
    """Run a demo server with a self-signed certificate (and XCLIENT) until
    KeyboardInterrupt, echoing where it listens and one line per message received (as
    :func:`describe` has it: ``echo`` makes it safe to print); ``lmtp`` serves LMTP,
    ``proxy_protocol`` expects a PROXY header on each connection. It listens on
    ``unix_path`` if given; with ``stdio`` it speaks on stdin and stdout for one session
    instead (``echo`` must then not write to stdout). ``rules`` and ``seed`` are the fault
    rules' (:class:`EmbeddedServer`); each that fires is echoed. ``on_event`` is told what
    happens on each connection (`events.py`). ``hold`` runs while the server serves, given
    the line saying where it listens (the TUI of ``serve --ui``), instead of echoing that
    line and waiting for Ctrl-C."""
    server = EmbeddedServer(
        host,
        port,
        implicit_tls=implicit_tls,
        on_message=lambda m: echo(describe(m)),
        lmtp=lmtp,
        unix_path=unix_path,
        proxy_protocol=proxy_protocol,
        xclient=True,
        rules=rules,
        seed=seed,
        on_rule=echo,
        keep_messages=False,  # printed, never looked at again: memory stays flat
        on_event=on_event,
    )
    if stdio:
        asyncio.run(server.serve_stdio())
        return
    assert server.self_signed is not None
    credentials = ", ".join(f"{user} / {password}" for user, password in DEMO_USERS.items())
    tokens = ", ".join(f"{user} / {token}" for user, token in DEMO_TOKENS.items())
    try:
        with server:
            where = f"unix:{unix_path}" if unix_path else format_host(host, server.port)
            mode = "implicit TLS" if implicit_tls else "STARTTLS"
            mode = f"LMTP, {mode}" if lmtp else mode
            if proxy_protocol:
                mode += ", a PROXY header first"
            line = (
                f"Listening on {where} ({mode}); log in as {credentials} "
                f"(OAUTHBEARER: {tokens}); "
                f"certificate SHA-256 {server.self_signed.sha256}"
            )
            if hold is not None:
                hold(line)
                return
            echo(line)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
