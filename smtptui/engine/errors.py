"""The client's exceptions: smtplib's, so code written for smtplib catches them, with context.

Failures of the connection itself carry ``host``, ``port`` and ``step`` (the command or phase
that was under way) and say all three in their message.
"""

from __future__ import annotations

import smtplib
from smtplib import (
    SMTPAuthenticationError,
    SMTPDataError,
    SMTPException,
    SMTPHeloError,
    SMTPNotSupportedError,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPSenderRefused,
)
from typing import TypeVar

from smtptui.engine.hosts import format_host

__all__ = [
    "Located",
    "SMTPAuthenticationError",
    "SMTPConnectError",
    "SMTPDataError",
    "SMTPException",
    "SMTPHeloError",
    "SMTPNotSupportedError",
    "SMTPProtocolError",
    "SMTPRecipientsRefused",
    "SMTPResponseException",
    "SMTPSenderRefused",
    "SMTPServerDisconnected",
    "SMTPTLSError",
    "SMTPTimeoutError",
]


class Located(Exception):
    """The base of the errors that say where they happened: ``host``, ``port``, ``step``."""

    host: str = ""
    port: int = 0
    step: str = ""

    @property
    def where(self) -> str:
        return _where(self.host, self.port, self.step)


E = TypeVar("E", bound=Located)


def _place(error: E, host: str, port: int, step: str) -> E:
    error.host, error.port, error.step = host, port, step
    return error


class SMTPServerDisconnected(Located, smtplib.SMTPServerDisconnected):
    """The connection closed, or was never open when a command needed it."""

    @classmethod
    def at(cls, text: str, host: str, port: int, step: str) -> SMTPServerDisconnected:
        return _place(cls(f"{text} ({_where(host, port, step)})"), host, port, step)

    @classmethod
    def after(cls, ended: Located) -> SMTPServerDisconnected:
        """What a command raises once ``ended`` has ended the connection: smtplib's type,
        with what ended it, and where."""
        return _place(cls(f"not connected: {ended}"), ended.host, ended.port, ended.step)


class SMTPConnectError(Located, smtplib.SMTPConnectError):
    """No connection. ``cause`` says why in a word: ``"refused"``, ``"unresolved"`` (no such
    host name), ``"address"`` (the host string itself is wrong) or ``"network"``; for the
    other ways in (engine/transport.py) ``"missing"`` and ``"permission"`` (a UNIX socket),
    ``"proxy-unreachable"``, ``"proxy-auth"`` and ``"proxy-refused"`` (a proxy),
    ``"command"`` (a pipe's command cannot run) and ``"exited"`` (it ended before its
    greeting).

    ``smtp_code`` is -1, smtplib's code for "no reply was read"; ``str()`` is the message.
    """

    cause: str = "network"

    @classmethod
    def at(cls, cause: str, text: str, host: str, port: int) -> SMTPConnectError:
        error = _place(cls(-1, f"{text} ({_where(host, port, 'connect')})"), host, port, "connect")
        error.cause = cause
        return error

    def __str__(self) -> str:
        return str(self.smtp_error)


class SMTPTimeoutError(Located, SMTPException, TimeoutError):
    """No answer within the timeout, or only the start of one."""

    @classmethod
    def at(
        cls, seconds: float, host: str, port: int, step: str, received: int = 0
    ) -> SMTPTimeoutError:
        """``received``: how many bytes of an unfinished reply came before the timeout."""
        if received:
            text = f"the server sent {received} bytes of a reply but not its end"
        else:
            text = "no answer"
        text = f"{text} within {seconds:g} s ({_where(host, port, step)})"
        return _place(cls(text), host, port, step)


class SMTPProtocolError(Located, SMTPException):
    """The server sent something that is not SMTP; ``data`` holds the bytes.

    ``cancelled`` means the client answered them with ``*``, cancelling the AUTH exchange
    (a 334 challenge that is not base64): the connection is still open. Otherwise the
    dialogue is out of step, and the client has closed it.
    """

    data: bytes = b""
    cancelled: bool = False

    @classmethod
    def at(cls, text: str, data: bytes, host: str, port: int, step: str) -> SMTPProtocolError:
        error = _place(cls(f"{text} ({_where(host, port, step)}): {data[:80]!r}"), host, port, step)
        error.data = data
        return error


class SMTPTLSError(Located, SMTPException):
    """TLS failed: the handshake, or the check of the certificate it brought. ``reason``
    says why (OpenSSL's verdict, or the client's). ``part`` says what failed:

    - ``"chain"``: the certificate is not trusted (expired, self-signed, unknown issuer…);
    - ``"name"``: it is not for ``name``, the name checked; it is for ``names``;
    - ``"version"``: no TLS version is allowed by both sides; ``versions`` are the
      client's limits (``("1.3", None)``: at least TLS 1.3);
    - ``"plaintext"``: the server answered the handshake in plain text;
    - ``""``: another failure.

    ``certificate`` is True when the certificate was refused (``chain`` or ``name``).
    """

    reason: str = ""
    part: str = ""
    name: str = ""
    names: tuple[str, ...] = ()
    versions: tuple[str | None, str | None] = (None, None)

    @classmethod
    def at(
        cls,
        reason: str,
        host: str,
        port: int,
        step: str,
        *,
        part: str = "",
        name: str = "",
        names: tuple[str, ...] = (),
        versions: tuple[str | None, str | None] = (None, None),
    ) -> SMTPTLSError:
        error = _place(cls(f"TLS failed: {reason} ({_where(host, port, step)})"), host, port, step)
        error.reason, error.part, error.name, error.names = reason, part, name, names
        error.versions = versions
        return error

    @property
    def certificate(self) -> bool:
        return self.part in ("chain", "name")


def _where(host: str, port: int, step: str) -> str:
    address = format_host(host, port)
    return f"{address} during {step}" if step else address
