"""``SMTPClient``: smtplib's interface, async, with every byte published to listeners."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import email.message
import os
import re
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any, NamedTuple, TypeVar

from smtptui.engine import errors
from smtptui.engine.events import (
    ClientEvent,
    Closed,
    Connected,
    Connecting,
    Direction,
    Finding,
    Listener,
    Progress,
    Received,
    Sent,
    SentKind,
    TlsEstablished,
    WireEvent,
)
from smtptui.engine.hosts import default_port, parse_host
from smtptui.engine.tls import (
    CertificateInfo,
    TlsInfo,
    VerifyMode,
    certificate_names,
    make_tls_context,
    names_match,
)
from smtptui.engine.transport import Link, Route, open_connection
from smtptui.protocol import commands
from smtptui.protocol.auth import (
    MAX_CHALLENGES,
    SMTP_AUTO_ORDER,
    AuthOptions,
    Mechanism,
    create_mechanism,
    decode_challenge,
    encode_sasl,
)
from smtptui.protocol.capabilities import Capabilities
from smtptui.protocol.data import (
    DEFAULT_CHUNK_SIZE,
    TERMINATOR,
    bdat_chunk_size,
    data_payload,
    data_payload_size,
    dot_stuff,
    encode_message,
    iter_bdat_chunks,
    iter_data_payload,
    message_line,
    prepare_message,
)
from smtptui.protocol.dialogue import Dialogue, Phase
from smtptui.protocol.envelope import Envelope
from smtptui.protocol.errors import CommandError, ProtocolError
from smtptui.protocol.proxy import ProxyHeader
from smtptui.protocol.replies import Reply
from smtptui.protocol.xclient import xclient_lines

Response = tuple[int, bytes]
AuthObject = Mechanism | Callable[[bytes | None], str | None]

_NOT_TLS = frozenset(
    {"WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE", "UNKNOWN_PROTOCOL"}
)
"""OpenSSL's reasons for a handshake answered with bytes that are not TLS records."""

_NO_VERSION = frozenset(
    {"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE"}
)
"""OpenSSL's reasons for a handshake that found no TLS version both sides allow."""

_NAME_MISMATCH = frozenset({62, 64})
"""X509_V_ERR_HOSTNAME_MISMATCH and _IP_ADDRESS_MISMATCH: a given context's own name check."""

_SILENCE = 1.5
"""Seconds without a greeting after which the client asks, on a second connection, whether
the port expects a TLS handshake first (implicit TLS); as long again for that answer."""

_HANDSHAKE = "TLS handshake"

PROGRESS_EVERY = 0.25
"""Seconds between :class:`Progress` events while the connection holds a message back."""

_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)  # Linux only

L = TypeVar("L", bound=errors.Located)


class _Wire(asyncio.Protocol):
    """The asyncio protocol: hands bytes and connection changes to its client, until the
    client lets go of this connection (closing it, or opening another)."""

    def __init__(self, client: SMTPClient) -> None:
        self.client: SMTPClient | None = client
        self.writable: asyncio.Future[None] | None = None

    def detach(self) -> None:
        self.client = None
        self.resume_writing()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.client is not None:
            self.client._on_made(transport)  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:
        if self.client is not None:
            self.client._on_data(data)

    def eof_received(self) -> bool:
        if self.client is not None:
            self.client._on_eof()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.client is not None:
            self.client._on_lost(exc)
        self.resume_writing()

    def pause_writing(self) -> None:
        self.writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self.writable is not None and not self.writable.done():
            self.writable.set_result(None)
        self.writable = None


class SMTPClient:
    """An async SMTP client with the methods, arguments and return values of ``smtplib.SMTP``.

    ``implicit_tls`` makes it ``SMTP_SSL`` (port 465 by default). ``timeout`` bounds the
    wait for each reply, ``connect_timeout`` the TCP connection and TLS handshake. Every
    await can be cancelled; a cancelled or timed-out exchange closes the connection, since
    the dialogue is out of step after it.

    TLS: ``server_hostname`` is the SNI (None: the host; "": none is sent); ``verify``
    what is checked of the certificate (True: :attr:`VerifyMode.BOTH`, False:
    :attr:`VerifyMode.NONE`); ``verify_name`` the name it must be for (None: the SNI, else the
    host); ``tls_min``, ``tls_max`` ("1.2") and ``ciphers`` (OpenSSL's syntax) limit the
    handshake. A given ``ssl_context`` is used as is, its own checks and all.

    ``lmtp`` speaks LMTP (RFC 2033), as ``smtplib.LMTP``: :meth:`ehlo` sends LHLO, and the
    end of a message is answered once per accepted recipient. :meth:`data`, :meth:`end_data`
    and the last :meth:`bdat` return the first of those replies (what ``smtplib.LMTP``
    returns, reading no more) and read them all into :attr:`data_replies`; :meth:`sendmail`
    counts a recipient refused after the message among the refused. The default port is
    24 (``LMTP_PORT``), not smtplib's 2003.

    The way to the server (:class:`~smtptui.engine.transport.Route`): a host
    ``unix:/path`` is a UNIX socket; ``source_address`` the address to connect from and
    ``family`` 4 or 6 limit TCP; ``via`` connects through a SOCKS or HTTP CONNECT proxy
    (``socks5://[user:pass@]host:port``), the TLS name still the host's; ``pipe`` runs a
    command and speaks SMTP over its stdin and stdout (no host then, and no SNI unless
    ``server_hostname`` names one).

    ``proxy_header`` is written the moment the connection is made, before the greeting (and
    before any TLS), as a load balancer would: the addresses it does not give are the
    connection's own.
    """

    def __init__(
        self,
        host: str = "",
        port: int = 0,
        local_hostname: str | None = None,
        *,
        implicit_tls: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        verify: VerifyMode | bool = VerifyMode.BOTH,
        cafile: str | None = None,
        server_hostname: str | None = None,
        client_cert: str | None = None,
        client_key: str | None = None,
        verify_name: str | None = None,
        tls_min: str | None = None,
        tls_max: str | None = None,
        ciphers: str | None = None,
        connect_timeout: float = 10.0,
        timeout: float = 30.0,
        listener: Listener | None = None,
        lmtp: bool = False,
        source_address: str | None = None,
        family: int | None = None,
        via: str | None = None,
        pipe: str | None = None,
        proxy_header: ProxyHeader | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.local_hostname = local_hostname
        self.implicit_tls = implicit_tls
        self.ssl_context = ssl_context
        self.verify_certificate = VerifyMode.of(verify)  # not .verify: smtplib's VRFY
        self.cafile = cafile
        self.server_hostname = server_hostname
        self.client_cert, self.client_key = client_cert, client_key
        self.verify_name = verify_name
        self.tls_min, self.tls_max = tls_min, tls_max
        self.ciphers = ciphers
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self.source_address, self.family = source_address, family
        self.via, self.pipe = via, pipe
        self._route = Route()
        self._link: Link | None = None  # the open connection, and its command if a pipe
        self.proxy_header = proxy_header
        self._listeners: list[Listener] = [listener] if listener else []
        self.lmtp = lmtp
        self.data_replies: dict[str, Response] = {}  # LMTP: each recipient's reply to a message
        self._wire = _Wire(self)
        self._transport: asyncio.Transport | None = None
        self._dialogue = Dialogue(lmtp=lmtp)
        self._dialogue.closed()
        self._replies: deque[Reply] = deque()  # answers no call has read yet
        self._waiter: asyncio.Future[Reply] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the connection's, once made
        self._deadline = 0.0
        self._watchdog: asyncio.TimerHandle | None = None
        self._ended: errors.Located | None = None  # what ended the last connection
        self._sent_at = 0.0
        self._reply_began = 0.0  # when the first byte of the reply being read arrived
        self._started = 0.0  # when the connection was asked for
        self._ack_due = False  # a handshake ended: _write calls _ack_at_once after it
        self._io_step = ""  # "connect" or "TLS handshake" while one is under way
        self._own_context: ssl.SSLContext | None = None  # made by _tls_context
        self._next: _NextStep | None = None  # written the moment the awaited reply allows
        self._sent_ahead: bytes | None = None  # what _next wrote, until a command claims it
        self._lenient = False  # a reply timeout raises _Unanswered, leaving the connection
        self._pipelining = True  # until the server is seen to lose pipelined commands
        self._untold: CommandError | None = None  # a PROXY header that could not be made
        self.tls: TlsInfo | None = None
        self.greeting: Reply | None = None  # the server's 220 (or whatever it said first)
        self.last_reply: Reply | None = None
        self.authenticated_as: str | None = None
        self._forget_session()

    def _forget_session(self) -> None:
        self.ehlo_resp: bytes | None = None
        self.helo_resp: bytes | None = None

    # -- listeners ---------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Publish every event to ``listener``; returns a function that unsubscribes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _emit(self, event: ClientEvent) -> None:
        for listener in self._listeners:
            listener(event)

    # -- state -------------------------------------------------------------------------

    @property
    def step(self) -> str:
        """What was under way: "connect", the TLS handshake, or what the dialogue awaits
        (the command whose reply is due, "greeting", "message data")."""
        return self._io_step or self._dialogue.step

    @property
    def dialogue(self) -> Dialogue:
        """The connection's dialogue: its phase and what each reply answered."""
        return self._dialogue

    @property
    def capabilities(self) -> Capabilities | None:
        """What the last accepted EHLO advertised (since connect or STARTTLS)."""
        return self._dialogue.capabilities

    @property
    def esmtp_features(self) -> dict[str, str]:
        """smtplib's form of the capabilities: keyword (lower case) to parameters."""
        return self._dialogue.features

    @property
    def does_esmtp(self) -> bool:
        return self._dialogue.esmtp

    @property
    def connected(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    def has_extn(self, opt: str) -> bool:
        """Whether the server advertised the extension ``opt`` in its EHLO reply."""
        return opt.lower() in self._dialogue.features

    # -- connection --------------------------------------------------------------------

    async def connect(
        self, host: str = "", port: int = 0, source_address: tuple[str, int] | None = None
    ) -> Response:
        """Open the connection and read the greeting; return it as ``(code, message)``.

        Without ``host``, connect to the host and port given to the constructor (else
        localhost; with a ``pipe``, no host). ``source_address`` is smtplib's (address,
        port); its address overrides the constructor's."""
        if self.connected:
            self.close()
        if self.pipe is not None:
            host, port = "", 0
        elif not host:
            host, port = self.host or "localhost", port or self.port
        default = default_port(implicit_tls=self.implicit_tls, lmtp=self.lmtp)
        source = source_address[0] if source_address else self.source_address
        try:
            if self.pipe is None:
                host, parsed_port = parse_host(host or self.host or "localhost", port or default)
                port = port or parsed_port
            route = Route(host, port, source, self.family, self.via, self.pipe)
        except ValueError as error:  # a CommandError too
            raise errors.SMTPConnectError.at("address", str(error), host, port or default) from None
        self._route = route
        self.host, self.port = (route.name if route.pipe is not None else host), port
        host = self.host
        self._reset_connection()
        self._loop = loop = asyncio.get_running_loop()
        self._started = time.monotonic()
        way = route.describe()
        self._emit(Connecting(host, port, self.implicit_tls, self._started, way, self.lmtp))
        context = self._tls_context() if self.implicit_tls else None
        self._io_step = "connect"
        try:  # the wire hands the transport over: _on_made
            self._link = await open_connection(
                route, lambda: self._wire, timeout=self.connect_timeout
            )
        except errors.SMTPConnectError:
            self._io_step = ""
            raise
        except TimeoutError:
            raise errors.SMTPTimeoutError.at(self.connect_timeout, host, port, "connect") from None
        except socket.gaierror as error:
            text = f"cannot resolve host name {host!r}: {error.strerror}"
            raise errors.SMTPConnectError.at("unresolved", text, host, port) from None
        except OSError as error:
            cause = "refused" if isinstance(error, ConnectionRefusedError) else "network"
            text = _os_error_text(error)
            raise errors.SMTPConnectError.at(cause, text, host, port) from None
        if self._untold is not None:
            error, self._untold = self._untold, None
            self.close()
            raise error
        try:
            if context is not None:
                self._tls_established(await self._handshake(context))
                self._dialogue.tls_begun()
                self._sent_at = time.monotonic()
                self.greeting = await self._read_reply()
            elif route.path is None and route.pipe is None and route.via is None:
                watch = loop.create_task(self._watch_for_tls(host, port))
                try:
                    self.greeting = await self._read_reply()
                finally:
                    watch.cancel()
            else:  # no second connection to ask on, as _watch_for_tls would
                self.greeting = await self._read_reply()
        except errors.SMTPServerDisconnected:
            reason = self._link and await self._link.exit_reason()
            if reason:  # a command that ended: its status and stderr say why
                raise errors.SMTPConnectError.at("exited", reason, host, port) from None
            raise
        return self.greeting.as_tuple()

    async def _watch_for_tls(self, host: str, port: int) -> None:
        """End the connection if no greeting comes within :data:`_SILENCE` seconds and the
        port answers a TLS handshake: the server waits for the client to speak TLS first,
        and would wait until the reply timeout. The question goes on a connection of its
        own: this one may be a slow server's (a greeting delay), which a byte sent before
        its greeting would upset."""
        await asyncio.sleep(_SILENCE)
        if await _speaks_tls(host, port, self._sni(), _SILENCE) and self._waiter is not None:
            text = "the server waits for a TLS handshake: this port expects implicit TLS"
            self._end(errors.SMTPConnectError.at("implicit-tls", text, host, port))

    def _on_made(self, transport: asyncio.Transport) -> None:
        """The TCP connection is up: say so now, before asyncio hands over the first bytes of
        the greeting (with implicit TLS, the handshake comes first)."""
        self._transport = transport
        peer = transport.get_extra_info("peername")
        if not isinstance(peer, tuple) or self._route.via is not None:
            peer = (self.host, self.port)  # a UNIX socket's path, a pipe; not the proxy's
        now = time.monotonic()
        self._emit(Connected(self.host, self.port, tuple(peer[:2]), now - self._started, now))
        self._dialogue = Dialogue(lmtp=self.lmtp)
        self._sent_at = now
        self._io_step = ""
        if self.proxy_header is not None:
            self._send_proxy_header(self.proxy_header, transport)

    def _send_proxy_header(self, proxy: ProxyHeader, transport: asyncio.Transport) -> None:
        """Write the PROXY header, before anything can be read: the addresses not given are
        the socket's own. One that cannot be told (a source of one family and the real
        destination of another) is kept for ``connect`` to raise."""
        try:
            header, words = proxy.encode(
                transport.get_extra_info("sockname"), transport.get_extra_info("peername")
            )
        except CommandError as error:
            self._untold = error
            return
        transport.write(header)
        now = time.monotonic()
        self._emit(WireEvent(Direction.SENT, header, now, False))
        self._emit(Sent(SentKind.PROXY, header, now, False, words))

    def _reset_connection(self) -> None:
        self._wire.detach()
        self._link = None
        self._wire = _Wire(self)
        self._dialogue = Dialogue(lmtp=self.lmtp)
        self._dialogue.closed()
        self._replies.clear()
        self._ended = None
        self._ack_due = False
        self._next = self._sent_ahead = None
        self._untold = None
        self._pipelining = True
        self.tls = None
        self.greeting = None
        self.authenticated_as = None
        self._forget_session()

    def close(self) -> None:
        """Close the connection at once, without QUIT (smtplib's ``close``).

        The ``Closed`` event is published now, not when asyncio reports the socket gone.
        """
        if self._transport is not None:
            text = "the client closed the connection"
            self._end(errors.SMTPServerDisconnected.at(text, self.host, self.port, self.step))

    def _end(self, error: L, reason: str = "closed by the client") -> L:
        """End the connection because of ``error`` and publish ``Closed(reason)``; return
        ``error``, for the caller to raise.

        ``error`` is what the awaited reply raises and what later commands name (see
        _not_connected). ``Closed`` comes first: the awaiting task resumes only later.
        """
        self._ended = error
        if self._dialogue.phase is Phase.QUIT:  # whichever side closes first, after a 221
            reason = "closed after QUIT"
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            self._waiter = None
            waiter.set_exception(error)
        transport, self._transport = self._transport, None
        self._next = self._sent_ahead = None
        self._dialogue.closed()
        if transport is not None:
            self._wire.detach()
            transport.close()
            if self._link is not None:
                self._link.release()
            self._emit(Closed(reason, time.monotonic()))
        return error

    def _hung_up(self, error: L) -> L:
        """The server (or the network) ended the connection: ``error`` says how, and is the
        reason ``Closed`` gives, so that the transcript does not blame the client."""
        return self._end(error, str(error))

    def _timed_out(self, seconds: float, received: int = 0) -> errors.SMTPTimeoutError:
        """A wait ran out: the dialogue is out of step, so the client ends the connection."""
        return self._end(
            errors.SMTPTimeoutError.at(seconds, self.host, self.port, self.step, received)
        )

    async def quit(self) -> Response:
        """Send QUIT, read its reply, close."""
        try:
            return await self.docmd("QUIT")
        finally:
            self._forget_session()
            self.close()

    # -- TLS ---------------------------------------------------------------------------

    def _tls_context(self) -> ssl.SSLContext:
        if self.ssl_context is None:
            self.ssl_context = make_tls_context(
                verify=self.verify_certificate,
                cafile=self.cafile,
                client_cert=self.client_cert,
                client_key=self.client_key,
                tls_min=self.tls_min,
                tls_max=self.tls_max,
                ciphers=self.ciphers,
            )
            self._own_context = self.ssl_context
        return self.ssl_context

    def _sni(self) -> str | None:
        """The name sent in SNI: the host unless told otherwise (a UNIX socket's path or a
        command is no name: none); None for none."""
        if self.server_hostname is None:
            named = self._route.path is None and self._route.pipe is None
            return self.host if named else None
        return self.server_hostname or None

    def _tls_established(self, transport: asyncio.BaseTransport) -> None:
        """Check the certificate's name, if this client's own context leaves that to it;
        then publish what TLS brought, and what of it was verified."""
        ssl_object = transport.get_extra_info("ssl_object")
        context = ssl_object.context
        info = TlsInfo.from_ssl_object(ssl_object, verified=False, note="")
        chain = context.verify_mode != ssl.CERT_NONE
        if context is self._own_context:
            name = self.verify_name or self._sni() or self.host
            named = self.verify_certificate.checks_name
            if named:
                self._check_name(info.leaf, name)
        else:  # a given context checks what it checks (a name: the SNI)
            name, named = ssl_object.server_hostname or "", context.check_hostname
        if chain and named:
            note = f"chain and name {name} verified"
        elif chain:
            note = "chain verified, name not checked"
        elif named:
            note = f"name {name} verified, chain not checked"
        else:
            note = "certificate not verified: verification is turned off"
        self.tls = dataclasses.replace(info, verified=chain and named, verify_note=note)
        self._emit(TlsEstablished(self.tls, time.monotonic()))

    def _check_name(self, leaf: CertificateInfo | None, name: str) -> None:
        """End the connection unless the certificate ``leaf`` is for ``name``."""
        if leaf is not None and names_match(leaf, name):
            return
        names = certificate_names(leaf) if leaf is not None else ()
        held = f"for {', '.join(names)}" if names else "for no name"
        reason = f"certificate is {held}, not {name}"
        error = errors.SMTPTLSError.at(
            reason, self.host, self.port, _HANDSHAKE, part="name", name=name, names=names
        )
        raise self._end(error)

    async def _handshake(self, context: ssl.SSLContext) -> asyncio.BaseTransport:
        """Upgrade the connection to TLS (implicit TLS, or after STARTTLS's 220) and return
        the TLS transport; a failure ends the connection, a hang-up as the server's doing."""
        assert self._transport is not None
        self._io_step = _HANDSHAKE
        loop = asyncio.get_running_loop()
        try:
            # Our own deadline: asyncio's handshake timeout raises ConnectionAbortedError,
            # which would read as the server hanging up. Theirs is a backstop, set later.
            async with asyncio.timeout(self.connect_timeout):
                transport = await loop.start_tls(
                    self._transport,
                    self._wire,
                    context,
                    server_hostname=self._sni(),
                    ssl_handshake_timeout=self.connect_timeout * 2,
                )
        except ssl.SSLError as error:
            raise self._end(self._tls_error(error)) from None
        except TimeoutError:
            raise self._timed_out(self.connect_timeout) from None
        except ConnectionError:
            transport = None
        except asyncio.CancelledError:
            self.close()
            raise
        if self._ended is not None:  # close() came first, while the handshake ran
            raise self._ended
        if transport is None:  # a hang-up (asyncio's word for one, when not a ConnectionError)
            text = "the server closed the connection"
            raise self._hung_up(
                errors.SMTPServerDisconnected.at(text, self.host, self.port, self.step)
            )
        self._transport = transport  # type: ignore[assignment]
        self._io_step = ""
        loop.call_soon(self._ack_at_once)  # after the callback that sends our Finished
        self._ack_due = True
        return transport

    def _ack_at_once(self) -> None:
        """Acknowledge what arrives next at once, not after the ~40 ms of a delayed ACK
        (Linux's ``TCP_QUICKACK``; a no-op elsewhere).

        A TLS 1.3 server sends its session tickets when our Finished reaches it, then its
        first reply: the greeting (implicit TLS), or the answer to the command we sent with
        (or just after) our Finished. Servers with Nagle's algorithm on (Postfix, OpenSMTPD)
        hold that small reply until the tickets are acknowledged; we have nothing to send
        the ACK with, so the kernel delays it, and the reply with it: a wait that is the
        network stack's, not the server's. Sending re-enters Linux's delayed-ACK mode, so
        this is called once our Finished has left (uvloop sends it in a callback of its
        own, after waking us) and again after the first write that follows it.
        """
        sock = self._transport.get_extra_info("socket") if self._transport else None
        if _QUICKACK is not None and sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)

    def _tls_error(self, error: ssl.SSLError) -> errors.SMTPTLSError:
        """What the failed handshake says, as data: which part failed (see SMTPTLSError)."""
        part, name = "", ""
        if isinstance(error, ssl.SSLCertVerificationError):
            if error.verify_code in _NAME_MISMATCH:  # a given context's check
                part, name = "name", self._sni() or ""
                reason = f"certificate verification failed: {error.verify_message}".lower()
            else:
                part = "chain"
                reason = f"certificate not trusted: {error.verify_message}".lower()
        else:
            reason = (error.reason or str(error)).replace("_", " ").lower()
            if error.reason in _NOT_TLS:
                reason = f"the server's answer is not TLS ({reason})"
                part = "plaintext" if self.greeting is None else ""  # implicit TLS
            elif error.reason in _NO_VERSION:
                part = "version"
        return errors.SMTPTLSError.at(
            reason,
            self.host,
            self.port,
            self.step,
            part=part,
            name=name,
            versions=(self.tls_min, self.tls_max),
        )

    async def starttls(
        self, context: ssl.SSLContext | None = None, *, require_advertised: bool = True
    ) -> Response:
        """Send STARTTLS and upgrade the connection; forget what EHLO said before.

        Plaintext the server sent after its 220 is discarded and reported as a finding.
        ``require_advertised=False`` sends it even when EHLO did not offer it.
        """
        if require_advertised:
            await self.ehlo_or_helo_if_needed()
            if not self.has_extn("starttls"):
                raise errors.SMTPNotSupportedError("STARTTLS extension not supported by server.")
        reply = await self._command(commands.STARTTLS)
        if self._dialogue.phase is not Phase.TLS:
            raise errors.SMTPResponseException(reply.code, reply.message)
        self._report_plaintext(self._dialogue.discard_plaintext())
        transport = await self._handshake(context or self._tls_context())
        self._report_plaintext(self._dialogue.tls_started())
        self._forget_session()
        self._tls_established(transport)
        return reply.as_tuple()

    def _report_plaintext(self, dropped: bytes) -> None:
        """Report what the server sent after its 220 to STARTTLS, which the dialogue drops."""
        if dropped:
            text = (
                f"discarded {len(dropped)} bytes of plaintext the server sent after its 220 "
                "to STARTTLS (they could be injected commands' replies, CVE-2011-0411)"
            )
            self._emit(Finding(text, dropped, time.monotonic()))

    # -- bytes in ----------------------------------------------------------------------

    def _on_data(self, data: bytes) -> None:
        dialogue = self._dialogue
        listeners = self._listeners
        if listeners:
            now = time.monotonic()
            tls = self.tls is not None
            self._emit(WireEvent(Direction.RECEIVED, data, now, tls))
            midway = dialogue.midway
            began = self._reply_began if midway else now  # the first byte of the next reply
            self._reply_began = now  # unless only the reply under way goes on (below)
        dialogue.receive_data(data)
        answered = False
        while True:
            try:
                answer = dialogue.next_event()
            except ProtocolError as failure:
                text, data = str(failure), failure.data
                error = errors.SMTPProtocolError.at(text, data, self.host, self.port, self.step)
                self._end(error)
                return
            if answer is None:
                break
            answered = True
            reply, command, phase = answer
            if listeners:
                latency = None if command is None else began - self._sent_at
                self._emit(Received(reply, now, tls, latency, command, phase))
                began = now
            if command is None:
                continue  # it answers nothing: no call reads it
            if self._next is not None and not dialogue.awaiting:
                self._take_next_step(reply)
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                self._waiter = None
                waiter.set_result(reply)
            else:
                self._replies.append(reply)
            if phase is Phase.TLS and self._transport is not None:
                # What follows is held by the dialogue, for starttls() to report and drop.
                self._transport.pause_reading()
                return
        if listeners and not answered and midway:
            self._reply_began = began

    def _take_next_step(self, reply: Reply) -> None:
        """Write the prepared next step if ``reply`` (to the last command) allows it."""
        step, self._next = self._next, None
        assert step is not None
        if reply.code in step.codes and self.connected:
            self._write(step.data, step.kind, shown=step.shown)
            self._sent_ahead = step.data

    def _on_eof(self) -> None:
        """The server will send nothing more: the connection ends now, not when asyncio
        reports it lost, so that ``Closed`` comes before the awaiting call raises."""
        host, port, step = self.host, self.port, self.step
        try:
            self._dialogue.eof()
        except ProtocolError as error:
            text = "the server closed the connection in the middle of a reply"
            self._hung_up(errors.SMTPProtocolError.at(text, error.data, host, port, step))
        else:
            text = "the server closed the connection"
            self._hung_up(errors.SMTPServerDisconnected.at(text, host, port, step))

    def _on_lost(self, exc: Exception | None) -> None:
        """The server (or the network) closed the connection, without an EOF first."""
        reason = f"connection lost: {exc}" if exc else "the server closed the connection"
        self._hung_up(errors.SMTPServerDisconnected.at(reason, self.host, self.port, self.step))

    def _not_connected(self) -> errors.SMTPServerDisconnected:
        """Why there is no connection: what ended the last one, else that none was made."""
        if self._ended is not None:
            return errors.SMTPServerDisconnected.after(self._ended)
        return errors.SMTPServerDisconnected.at(
            "not connected: run connect() first", self.host, self.port, self.step
        )

    async def _read_reply(self) -> Reply:
        """The next reply; raises the connection's failure, or on timeout closes and raises."""
        if self._replies:
            reply = self._replies.popleft()
        elif self._transport is None:
            raise self._not_connected()
        else:
            loop = self._loop
            assert loop is not None  # there is a transport: connect() set it
            self._waiter = waiter = loop.create_future()
            self._deadline = loop.time() + self.timeout
            watchdog = self._watchdog
            if watchdog is None or watchdog.when() > self._deadline:
                if watchdog is not None:
                    watchdog.cancel()
                self._watchdog = loop.call_at(self._deadline, self._watch)
            try:
                reply = await waiter
            except asyncio.CancelledError:
                self.close()
                raise
            finally:
                self._waiter = None
        self.last_reply = reply
        return reply

    def _watch(self) -> None:
        """Fail the reply being waited for once its deadline has passed.

        One timer serves every reply: it re-arms itself for a deadline that moved on, which
        costs far less on a fast dialogue than a timer made and cancelled per reply.
        """
        self._watchdog = None
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        loop = waiter.get_loop()
        if loop.time() < self._deadline:
            self._watchdog = loop.call_at(self._deadline, self._watch)
            return
        if self._lenient:
            self._waiter = None
            waiter.set_exception(_Unanswered())
            return
        self._timed_out(self.timeout, len(self._dialogue.unparsed))

    # -- bytes out ---------------------------------------------------------------------

    def _write(
        self, data: bytes, kind: SentKind, note: str = "", *, shown: bytes | None = None
    ) -> None:
        """Write ``data`` and tell the dialogue; its Sent event shows ``shown`` if given (a
        message, not its stuffed payload)."""
        transport = self._transport
        if transport is None or transport.is_closing():
            raise self._not_connected()
        transport.write(data)
        self._sent_at = now = time.monotonic()
        if kind is SentKind.BODY:
            command = self._dialogue.send_message()
        elif kind is SentKind.CHUNK:
            command = None  # its BDAT command awaits the reply
        else:
            command = self._dialogue.send(data)
        if self._ack_due:
            self._ack_due = False
            self._ack_at_once()
        if self._listeners:
            tls = self.tls is not None
            self._emit(WireEvent(Direction.SENT, data, now, tls))
            sent = data if shown is None else shown
            self._emit(Sent(kind, sent, time.monotonic(), tls, note, command))

    def _write_group(self, lines: Sequence[bytes]) -> None:
        """Write ``lines`` as one pipelined group (RFC 2920): one write, one wire chunk."""
        transport = self._transport
        if transport is None or transport.is_closing():
            raise self._not_connected()
        data = b"".join(lines)
        transport.write(data)
        self._sent_at = now = time.monotonic()
        dialogue = self._dialogue
        group = dialogue.begin_group()
        sent = [dialogue.send(line, group=group) for line in lines]
        dialogue.end_group()
        if self._listeners:
            tls = self.tls is not None
            self._emit(WireEvent(Direction.SENT, data, now, tls))
            for line, command in zip(lines, sent, strict=True):
                self._emit(Sent(SentKind.COMMAND, line, now, tls, command=command))

    def _command(
        self, line: bytes, kind: SentKind = SentKind.COMMAND, note: str = ""
    ) -> Coroutine[Any, Any, Reply]:
        """Send ``line`` now (unless it went ahead as the prepared next step); await the
        result for its reply. (Not itself a coroutine: one layer fewer on every round trip.)"""
        sent, self._sent_ahead = self._sent_ahead, None
        if sent is not line:
            self._write(line, kind, note)
        return self._read_reply()

    def _prepare(
        self,
        codes: tuple[int, ...],
        data: bytes,
        kind: SentKind = SentKind.COMMAND,
        *,
        shown: bytes | None = None,
    ) -> None:
        """Write ``data`` the moment the reply to the command just sent arrives, if its code
        is one of ``codes``: the transaction's next step, already decided.

        The dialogue stays in lock step (nothing is written before that reply); what this
        saves is the wake-up of the awaiting task between the reply and the next line, most
        of a round trip's cost on the client's side. ``_command`` (or ``_body``) then claims
        what went ahead.
        """
        if not self._replies:  # a queued reply would be read first: take the slow path
            self._next = _NextStep(codes, data, kind, shown)

    async def send_raw(self, data: bytes) -> Reply:
        """Send ``data`` exactly as given and read one reply."""
        self._write(commands.raw(data), SentKind.RAW)
        return await self._read_reply()

    async def docmd(self, cmd: str, args: str = "") -> Response:
        """Send ``cmd args`` (checked for CR/LF/NUL) and return the reply."""
        return (await self._command(commands.line(cmd, args))).as_tuple()

    async def _body(self, message: bytes, payload: bytes | None = None) -> Reply:
        """Send message data after a 354, stuffed and terminated, in flow-controlled chunks
        (or as the one ``payload`` made for a small message, unless it went ahead)."""
        sent, self._sent_ahead = self._sent_ahead, None
        if payload is not None and sent is payload:
            return await self._message_replies()
        transport = self._transport
        if transport is None:
            raise self._not_connected()
        tls = self.tls is not None
        listeners = self._listeners
        total = data_payload_size(message) if payload is None else len(payload)
        written = 0

        def report() -> None:
            self._progress(written, total)

        tick = report if listeners and total > DEFAULT_CHUNK_SIZE else None
        for chunk in (payload,) if payload is not None else iter_data_payload(message):
            transport.write(chunk)
            written += len(chunk)
            if listeners:
                self._emit(WireEvent(Direction.SENT, chunk, time.monotonic(), tls))
            if tick is not None:
                tick()
            if self._wire.writable is not None:
                await self._drain(tick)
                if self._transport is None:
                    break
        if tick is not None and self._transport is not None:
            self._progress(written, total, done=True)
        self._sent_at = time.monotonic()
        command = self._dialogue.send_message()
        if listeners:
            self._emit(Sent(SentKind.BODY, message, time.monotonic(), tls, command=command))
        return await self._message_replies()

    async def _message_replies(self) -> Reply:
        """The reply to a message's end; in LMTP, each accepted recipient's, read into
        :attr:`data_replies`, the first returned (as ``smtplib.LMTP`` returns it)."""
        first = await self._read_reply()
        if self.lmtp:
            recipients = self._dialogue.for_recipients
            replies = [first, *[await self._read_reply() for _ in recipients[1:]]]
            self.data_replies = {
                recipient: reply.as_tuple()
                for recipient, reply in zip(recipients, replies, strict=False)
            }
        return first

    async def _drain(self, tick: Callable[[], None] | None = None) -> None:
        """Wait until the transport takes more data: at most ``timeout``; a timeout or a
        cancellation closes the connection, since the message is then half sent. ``tick``
        is called every :data:`PROGRESS_EVERY` seconds of the wait, and at its end."""
        writable = self._wire.writable
        if writable is None:
            return
        try:
            async with asyncio.timeout(self.timeout):
                if tick is None:
                    await asyncio.shield(writable)
                while tick is not None and not writable.done():
                    await asyncio.wait((writable,), timeout=PROGRESS_EVERY)
                    tick()
        except TimeoutError:
            raise self._timed_out(self.timeout) from None
        except asyncio.CancelledError:
            self.close()
            raise

    def _progress(self, written: int, total: int, *, done: bool = False) -> None:
        """Publish how much of ``total`` payload bytes the connection has taken: the
        ``written`` ones less what it still buffers; all of them once ``done`` (the last
        byte written, the reply awaited)."""
        transport = self._transport
        buffered = transport.get_write_buffer_size() if transport is not None else 0
        sent = total if done else max(written - buffered, 0)
        self._emit(Progress(sent, total, time.monotonic()))

    # -- greeting and capabilities -----------------------------------------------------

    async def _default_name(self) -> str:
        if self.local_hostname is None:
            self.local_hostname = await asyncio.get_running_loop().run_in_executor(
                None, _local_hostname
            )
        return self.local_hostname

    async def helo(self, name: str = "") -> Response:
        reply = await self._command(commands.helo(name or await self._default_name()))
        self.helo_resp = reply.message
        return reply.as_tuple()

    async def ehlo(self, name: str = "") -> Response:
        """Send EHLO (LHLO in LMTP); the dialogue reads the capabilities of a 2xx reply
        (``capabilities``, ``esmtp_features``), and forgets them otherwise, as smtplib does."""
        greet = commands.lhlo if self.lmtp else commands.ehlo
        reply = await self._command(greet(name or await self._default_name()))
        self.ehlo_resp = reply.message
        return reply.as_tuple()

    async def ehlo_or_helo_if_needed(self) -> None:
        """EHLO (then HELO) unless one was done since connect or STARTTLS."""
        if self.helo_resp is not None or self.ehlo_resp is not None:
            return
        if not 200 <= (await self.ehlo())[0] <= 299:
            code, resp = await self.helo()
            if not 200 <= code <= 299:
                raise errors.SMTPHeloError(code, resp)

    async def xclient(
        self, attributes: Iterable[tuple[str, str]], *, force: bool = False
    ) -> Response:
        """Postfix's XCLIENT: act as the client ``attributes`` name (NAME, ADDR, …). Refuses
        what the last EHLO did not advertise (``CommandError``) unless ``force``; a long
        list goes as several commands, each answered by a new 220 greeting. After that the
        session starts over: the next command needs EHLO first, as after STARTTLS. Returns
        the last reply (the first that is not 220, if one is not)."""
        advertised = self._dialogue.features.get("xclient")
        reply: Reply | None = None
        for line in xclient_lines(attributes, advertised, force=force):
            reply = await self._command(line)
            if reply.code != 220:
                break
            self._forget_session()
        assert reply is not None  # xclient_lines gives at least one line
        return reply.as_tuple()

    # -- simple commands ---------------------------------------------------------------

    async def noop(self) -> Response:
        return (await self._command(commands.NOOP)).as_tuple()

    async def rset(self) -> Response:
        return (await self._command(commands.RSET)).as_tuple()

    async def verify(self, address: str) -> Response:
        return (await self._command(commands.vrfy(address))).as_tuple()

    vrfy = verify

    async def expn(self, address: str) -> Response:
        return (await self._command(commands.expn(address))).as_tuple()

    async def help(self, args: str = "") -> bytes:
        return (await self._command(commands.help(args))).message

    # -- authentication ----------------------------------------------------------------

    async def login(
        self,
        user: str,
        password: str,
        *,
        initial_response_ok: bool = True,
        mechanism: str | None = None,
        token: str = "",
        options: AuthOptions | None = None,
    ) -> Response:
        """Authenticate. Without ``mechanism``, try the advertised ones in smtplib's order.
        ``options`` go to the mechanism, with this connection's host and port unless set."""
        options = options or AuthOptions()
        options = dataclasses.replace(
            options, host=options.host or self.host, port=options.port or self.port
        )
        if mechanism is None:
            await self.ehlo_or_helo_if_needed()
            if not self.has_extn("auth"):
                raise errors.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
            advertised = self.esmtp_features["auth"].upper().split()
            names = [name for name in SMTP_AUTO_ORDER if name in advertised]
            if token and "XOAUTH2" in advertised:
                names.insert(0, "XOAUTH2")
            if not names:
                raise errors.SMTPException("No suitable authentication method found.")
        else:
            names = [mechanism.upper()]
        last: errors.SMTPAuthenticationError | None = None
        for name in names:
            try:
                code, resp = await self.auth(
                    name,
                    create_mechanism(name, user, password, token, options),
                    initial_response_ok=initial_response_ok,
                )
            except errors.SMTPAuthenticationError as error:
                last = error
                continue
            if code == 235:
                self.authenticated_as = user
            return code, resp
        assert last is not None
        raise last

    async def auth(
        self, mechanism: str, authobject: AuthObject, *, initial_response_ok: bool = True
    ) -> Response:
        """Run one SASL exchange (smtplib's ``auth``); ``authobject`` may be a Mechanism."""
        sasl = authobject if isinstance(authobject, Mechanism) else _Callback(authobject)
        initial = sasl.initial_response() if initial_response_ok else None
        if initial is None:
            reply = await self._command(commands.auth(mechanism))
        else:
            note = f"AUTH {mechanism.upper()} {sasl.describe(initial)}"
            reply = await self._command(
                commands.auth(mechanism, encode_sasl(initial, initial=True)), SentKind.SASL, note
            )
        challenges = 0
        while reply.code == 334:
            challenges += 1
            if challenges > MAX_CHALLENGES:
                raise errors.SMTPException(
                    f"Server AUTH mechanism infinite loop. Last response: {reply.as_tuple()}"
                )
            try:
                response = sasl.respond(decode_challenge(reply.message))
            except ProtocolError as error:
                await self._command(commands.sasl(b"*"), SentKind.SASL, "* (cancel)")
                failure = errors.SMTPProtocolError.at(
                    str(error), error.data, self.host, self.port, f"AUTH {mechanism}"
                )
                failure.cancelled = True
                raise failure from None
            reply = await self._command(
                commands.sasl(encode_sasl(response)),
                SentKind.SASL,
                sasl.describe(response),
            )
        if reply.code in (235, 503):
            return reply.as_tuple()
        raise errors.SMTPAuthenticationError(reply.code, reply.message)

    # -- the mail transaction ----------------------------------------------------------

    def _check_smtputf8(self, options: Iterable[str]) -> None:
        if any(option.lower() == "smtputf8" for option in options) and not self.has_extn(
            "smtputf8"
        ):
            raise errors.SMTPNotSupportedError("SMTPUTF8 not supported by server")

    def _mail_line(self, sender: str, options: Sequence[str]) -> bytes:
        self.data_replies = {}  # a new transaction: its message has no replies yet
        """``MAIL FROM``, its options only if the server speaks ESMTP (as smtplib)."""
        self._check_smtputf8(options)
        return commands.mail(sender, options if self.does_esmtp else ())

    def _rcpt_line(self, recipient: str, options: Sequence[str]) -> bytes:
        return commands.rcpt(recipient, options if self.does_esmtp else ())

    async def mail(self, sender: str, options: Sequence[str] = ()) -> Response:
        return (await self._command(self._mail_line(sender, options))).as_tuple()

    async def rcpt(self, recip: str, options: Sequence[str] = ()) -> Response:
        return (await self._command(self._rcpt_line(recip, options))).as_tuple()

    async def data(self, msg: bytes | str) -> Response:
        """DATA, then the message; raises SMTPDataError unless the server said 354."""
        message = encode_message(msg)
        pending = self._command(commands.DATA)
        payload = None
        if len(message) <= DEFAULT_CHUNK_SIZE:  # one write, as smtplib makes, sent on the 354
            payload = data_payload(message)
            self._prepare((354,), payload, SentKind.BODY, shown=message)
        reply = await pending
        if reply.code != 354:
            raise errors.SMTPDataError(reply.code, reply.message)
        return (await self._body(message, payload)).as_tuple()

    async def data_line(self, line: str) -> None:
        """Send one line of the message data a 354 asked for, as typed: a leading '.'
        doubled, CRLF added. No reply is due until :meth:`end_data`.

        Raises :class:`CommandError`, sending nothing, if ``line`` holds CR, LF or NUL."""
        data = message_line(line)
        self._write(dot_stuff(data), SentKind.MESSAGE_LINE, shown=data)
        await self._drain()

    async def end_data(self, msg: bytes | str | None = None) -> Response:
        """End the message data a 354 asked for with the line holding only a dot, after
        ``msg`` if given (sent as :meth:`data` sends it); return the reply."""
        if msg is not None:
            return (await self._body(encode_message(msg))).as_tuple()
        self._write(TERMINATOR, SentKind.COMMAND)
        return (await self._message_replies()).as_tuple()

    async def bdat(self, chunk: bytes, last: bool = False) -> Response:
        """One BDAT chunk (RFC 3030): the command and its bytes as they are (no stuffing,
        no terminator), then the reply."""
        return (await self._send_chunk(chunk, last)).as_tuple()

    def _send_chunk(self, chunk: bytes, last: bool) -> Coroutine[Any, Any, Reply]:
        """Write BDAT and its chunk now; await the result for the reply."""
        self._write(commands.bdat(len(chunk), last), SentKind.COMMAND)
        self._write(chunk, SentKind.CHUNK)
        return self._message_replies() if last else self._read_reply()

    async def bdat_message(
        self, message: bytes | str, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Response:
        """Send ``message`` in BDAT chunks of ``chunk_size`` bytes, each after the reply to
        the one before, the last one ``LAST``; return the last chunk's reply, or the first
        refusal (the rest would be refused too)."""
        message = encode_message(message)
        total = len(message)
        progress = bool(self._listeners) and total > chunk_size
        written = 0
        for chunk, last in iter_bdat_chunks(message, chunk_size):
            pending = self._send_chunk(bytes(chunk), last)
            written += len(chunk)
            if progress:
                self._progress(written, total, done=last)
            reply = (await pending).as_tuple()
            if last or reply[0] != 250:
                break
        return reply

    async def _rset_quietly(self) -> None:
        with contextlib.suppress(errors.SMTPServerDisconnected):
            await self.rset()

    async def sendmail(
        self,
        from_addr: str,
        to_addrs: str | Sequence[str],
        msg: bytes | str,
        mail_options: Sequence[str] = (),
        rcpt_options: Sequence[str] = (),
        *,
        chunking: bool | int = False,
        pipelining: bool = True,
        envelope: Envelope | None = None,
        check_advertised: bool = True,
    ) -> dict[str, Response]:
        """The whole transaction with smtplib's semantics; returns the refused recipients
        (in LMTP, those refused after the message too; it raises SMTPDataError only when no
        recipient took the message, with the first one's reply).

        ``chunking`` sends the message with BDAT (RFC 3030) rather than DATA, in chunks of
        that many bytes (True: a default size); the server must offer CHUNKING, else
        SMTPNotSupportedError is raised before anything is sent. If the server offers
        PIPELINING (RFC 2920), MAIL, every RCPT and DATA go out in one write, unless
        ``pipelining`` is False; a server that offers it but loses commands is reported
        and the rest of the connection goes one command at a time.

        ``envelope`` gives MAIL's and RCPT's ESMTP parameters (its SIZE, BODY and SMTPUTF8
        win over ``mail_options``'; BODY=BINARYMIME sends with BDAT, as it must); one whose
        extension the server did not advertise
        raises SMTPNotSupportedError before anything is sent, unless ``check_advertised``
        is False.
        """
        chunk_size = bdat_chunk_size(chunking)
        if chunk_size is None and envelope is not None and envelope.binary:
            chunk_size = DEFAULT_CHUNK_SIZE  # a binary body goes by BDAT only (RFC 3030 3)
        if self.helo_resp is None and self.ehlo_resp is None:
            await self.ehlo_or_helo_if_needed()
        if chunk_size is not None and not self.has_extn("chunking"):
            raise errors.SMTPNotSupportedError("CHUNKING extension not supported by server.")
        msg = encode_message(msg)
        recipients = [to_addrs] if isinstance(to_addrs, str) else list(to_addrs)
        utf8 = commands.international(from_addr, *recipients)
        if envelope is not None and check_advertised:
            shortfall = envelope.shortfall(self.capabilities, international=utf8)
            if shortfall:
                raise errors.SMTPNotSupportedError(f"not advertised by the server: {shortfall}")
        options = self._mail_options(len(msg), mail_options, envelope, utf8)
        # Every line is checked before the first is sent.
        mail_line = self._mail_line(from_addr, options)
        rcpt_lines = [
            self._rcpt_line(
                recipient,
                [*envelope.rcpt_options(recipient), *rcpt_options] if envelope else rcpt_options,
            )
            for recipient in recipients
        ]
        data = chunk_size is None
        refused = None
        if pipelining and self._pipelining and self.has_extn("pipelining"):
            try:
                refused = await self._envelope_pipelined(
                    from_addr, recipients, [mail_line, *rcpt_lines], data
                )
            except _Unanswered:
                self._pipelining = False
                await self.rset()
        if refused is None:
            refused = await self._envelope_lock_step(
                from_addr, recipients, mail_line, rcpt_lines, data
            )
        if chunk_size is not None:
            code, resp = await self.bdat_message(msg, chunk_size)
        elif self._dialogue.phase is Phase.DATA:  # DATA went in the group: 354 came
            code, resp = (await self._body(msg)).as_tuple()
        else:
            code, resp = await self.data(msg)
        if self.lmtp and self.data_replies:
            after = {r: reply for r, reply in self.data_replies.items() if reply[0] != 250}
            if len(after) < len(self.data_replies):
                return refused | after
        if code != 250:
            await self._abandon(code)
            raise errors.SMTPDataError(code, resp)
        return refused

    def _mail_options(
        self,
        size: int,
        mail_options: Sequence[str],
        envelope: Envelope | None,
        international: bool,
    ) -> list[str]:
        """MAIL's parameters (none without ESMTP, as smtplib): SIZE when the server offers
        it, then ``mail_options``; with an ``envelope``, its parameters, and those of
        ``mail_options`` it does not decide."""
        if not self.does_esmtp:
            return []
        if envelope is None:
            return [f"size={size}", *mail_options] if self.has_extn("size") else [*mail_options]
        options = envelope.mail_options(
            size, international=international, advertised=self.capabilities
        )
        decided = {option.partition("=")[0].upper() for option in options}
        if envelope.smtputf8 is False:
            decided.add("SMTPUTF8")
        rest = [
            option for option in mail_options if option.partition("=")[0].upper() not in decided
        ]
        return options + rest

    async def _envelope_lock_step(
        self,
        sender: str,
        recipients: list[str],
        mail_line: bytes,
        rcpt_lines: list[bytes],
        data: bool,
    ) -> dict[str, Response]:
        """MAIL and each RCPT, each written the moment the reply before it allows (see
        _prepare); DATA is prepared after the last RCPT if ``data``. Returns the refused
        recipients; raises if the sender or every recipient was refused."""
        pending = self._command(mail_line)
        if rcpt_lines:
            self._prepare((250,), rcpt_lines[0])
        code, resp = (await pending).as_tuple()
        if code != 250:
            await self._abandon(code)
            raise errors.SMTPSenderRefused(code, resp, sender)
        refused: dict[str, Response] = {}
        for index, (recipient, line) in enumerate(zip(recipients, rcpt_lines, strict=True)):
            pending = self._command(line)
            if index + 1 < len(rcpt_lines):
                self._prepare((250, 251), rcpt_lines[index + 1])
            elif not refused and data:
                self._prepare((250, 251), commands.DATA)
            code, resp = (await pending).as_tuple()
            if code not in (250, 251):
                refused[recipient] = (code, resp)
            if code == 421:
                self.close()
                raise errors.SMTPRecipientsRefused(refused)
        if len(refused) == len(recipients):
            await self._rset_quietly()
            raise errors.SMTPRecipientsRefused(refused)
        return refused

    async def _envelope_pipelined(
        self, sender: str, recipients: list[str], lines: list[bytes], data: bool
    ) -> dict[str, Response]:
        """MAIL, each RCPT and (if ``data``) DATA in one write, then their replies, each
        matched to its command. Returns and raises as _envelope_lock_step; a refused DATA
        raises SMTPDataError. Raises _Unanswered if part of the group was never answered."""
        if data:
            lines.append(commands.DATA)
        self._write_group(lines)
        replies = await self._group_replies(len(lines))
        mail = replies[0]
        refused = {
            recipient: reply.as_tuple()
            for recipient, reply in zip(recipients, replies[1:], strict=False)
            if reply.code not in (250, 251)
        }
        if mail.code != 250:
            await self._give_up(mail.code)
            raise errors.SMTPSenderRefused(mail.code, mail.message, sender)
        if any(reply.code == 421 for reply in replies):
            self.close()
            raise errors.SMTPRecipientsRefused(refused)
        if len(refused) == len(recipients):
            await self._give_up(refused[recipients[-1]][0])
            raise errors.SMTPRecipientsRefused(refused)
        if data and replies[-1].code != 354:
            await self._give_up(replies[-1].code)
            raise errors.SMTPDataError(replies[-1].code, replies[-1].message)
        return refused

    async def pipeline(self, lines: Sequence[bytes]) -> list[Reply]:
        """Write command ``lines`` (built by :mod:`~smtptui.protocol.commands`) as one
        pipelined group, whatever the server advertised (the dialogue notes it if that is
        out of order); return the replies, each its command's. If the server lost some
        commands, that is reported and the replies that came are returned."""
        self._write_group(lines)
        try:
            return await self._group_replies(len(lines))
        except _Unanswered as unanswered:
            return unanswered.replies

    async def _group_replies(self, count: int) -> list[Reply]:
        """The replies to a pipelined group of ``count`` commands, in order.

        A server that advertises PIPELINING but reads one line per packet answers the first
        command and loses the rest: when the reply timeout passes with part of the group
        answered, that is reported and _Unanswered raised, the connection left open for the
        caller to go on one command at a time. With nothing answered, it is a timeout.
        """
        replies: list[Reply] = []
        self._lenient = True
        try:
            for _ in range(count):
                replies.append(await self._read_reply())
        except errors.SMTPServerDisconnected:
            if replies and replies[-1].code == 421:  # the server said why it hung up
                return replies
            raise
        except _Unanswered:
            if not replies:
                raise self._timed_out(self.timeout) from None
            lost = self._dialogue.forget_pending()
            text = (
                f"the server advertised PIPELINING but answered {len(replies)} of the "
                f"{count} commands written together within {self.timeout:g} s: it lost "
                f"{', '.join(command.label for command in lost)}; "
                "going on one command at a time on this connection"
            )
            self._emit(Finding(text, b"", time.monotonic()))
            raise _Unanswered(replies) from None
        finally:
            self._lenient = False
        return replies

    async def _give_up(self, code: int) -> None:
        """Leave a pipelined transaction whose sender or every recipient was refused. A
        server that says 354 to its DATA all the same gets an empty message, which has no
        one to go to, so that it leaves the DATA state."""
        if self._dialogue.phase is Phase.DATA:
            code = (await self._command(TERMINATOR)).code
        await self._abandon(code)

    async def _abandon(self, code: int) -> None:
        if code == 421:
            self.close()
        else:
            await self._rset_quietly()

    async def send_message(
        self,
        msg: email.message.Message,
        from_addr: str | None = None,
        to_addrs: str | Sequence[str] | None = None,
        mail_options: Sequence[str] = (),
        rcpt_options: Sequence[str] = (),
        *,
        chunking: bool | int = False,
        pipelining: bool = True,
        envelope: Envelope | None = None,
        check_advertised: bool = True,
    ) -> dict[str, Response]:
        """Send an ``email.message.Message`` (smtplib's ``send_message``); the keywords as
        for :meth:`sendmail`."""
        await self.ehlo_or_helo_if_needed()
        prepared = prepare_message(msg, from_addr, to_addrs, mail_options)
        if prepared.international and not self.has_extn("smtputf8"):
            raise errors.SMTPNotSupportedError(
                "One or more source or delivery addresses require internationalized "
                "email support, but the server does not advertise the required "
                "SMTPUTF8 capability"
            )
        return await self.sendmail(
            prepared.sender,
            prepared.recipients,
            prepared.data,
            prepared.mail_options,
            rcpt_options,
            chunking=chunking,
            pipelining=pipelining,
            envelope=envelope,
            check_advertised=check_advertised,
        )

    async def __aenter__(self) -> SMTPClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.connected:
            with contextlib.suppress(errors.SMTPException):
                await self.quit()
        self.close()


class _Unanswered(Exception):
    """Part of a pipelined group went unanswered until the reply timeout (see
    SMTPClient._group_replies); ``replies`` are the ones that came."""

    def __init__(self, replies: Sequence[Reply] = ()) -> None:
        super().__init__()
        self.replies = list(replies)


class _NextStep(NamedTuple):
    """What to write once the awaited reply's code is one of ``codes`` (see _prepare)."""

    codes: tuple[int, ...]
    data: bytes
    kind: SentKind
    shown: bytes | None


class _Callback(Mechanism):
    """An smtplib-style ``authobject(challenge)`` callable seen as a Mechanism."""

    name = "callback"

    def __init__(self, authobject: Callable[[bytes | None], str | None]) -> None:
        self.authobject = authobject

    def initial_response(self) -> bytes | None:
        response = self.authobject(None)
        return None if response is None else response.encode("utf-8")

    def respond(self, challenge: bytes) -> bytes:
        return (self.authobject(challenge) or "").encode("utf-8")

    def describe(self, response: bytes, *, reveal: bool = False) -> str:
        return response.decode("utf-8", "replace") if reveal else "••••••••"


async def _speaks_tls(host: str, port: int, sni: str | None, timeout: float) -> bool:
    """Whether ``host:port`` answers a TLS handshake (a certificate, or a TLS alert),
    asked on a connection of its own, closed after; False when unsure."""
    context = make_tls_context(verify=VerifyMode.NONE)
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(
                host, port, ssl=context, server_hostname=sni or ""
            )
    except ssl.SSLError as error:
        return error.reason not in _NOT_TLS and not isinstance(error, ssl.SSLEOFError)
    except (OSError, TimeoutError):
        return False
    writer.transport.abort()  # no TLS goodbye to wait for: the question is answered
    return True


def _os_error_text(error: OSError) -> str:
    """Why a connection failed, in words: asyncio's own text ("Connect call failed (…)")
    hides the reason, which the errno (or, for several addresses, their errnos) gives."""
    numbers = {error.errno} if error.errno else set(re.findall(r"\[Errno (\d+)\]", str(error)))
    if len(numbers) == 1:
        return os.strerror(int(numbers.pop())).lower()
    return str(error).lower()


def _local_hostname() -> str:
    """The name smtplib would send in EHLO: the FQDN, or ``[address]`` without a dot."""
    fqdn = socket.getfqdn()
    if "." in fqdn:
        return fqdn
    try:
        return f"[{socket.gethostbyname(socket.gethostname())}]"
    except socket.gaierror:
        return "[127.0.0.1]"
