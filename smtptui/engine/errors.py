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

from smtptui.engine.hosts import format_host

__all__ = [
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


class _Located:
    """Adds where it happened: ``host``, ``port`` and ``step``."""

    host: str = ""
    port: int = 0
    step: str = ""

    def locate(self, host: str, port: int, step: str) -> None:
        self.host, self.port, self.step = host, port, step

    @property
    def where(self) -> str:
        return _where(self.host, self.port, self.step)


def _located(cls: type[_Located], text: str, host: str, port: int, step: str, *args: object):
    error = cls(*args) if args else cls(text)
    error.locate(host, port, step)
    return error


class SMTPServerDisconnected(_Located, smtplib.SMTPServerDisconnected):
    """The connection closed, or was never open when a command needed it."""

    @classmethod
    def at(cls, text: str, host: str, port: int, step: str) -> SMTPServerDisconnected:
        return _located(cls, f"{text} ({_where(host, port, step)})", host, port, step)


class SMTPConnectError(_Located, smtplib.SMTPConnectError):
    """No connection: refused, unreachable, no such name, or a greeting that was not 220.

    ``smtp_code`` is -1 when no greeting was read (smtplib's convention).
    """

    @classmethod
    def at(cls, code: int, text: str, host: str, port: int) -> SMTPConnectError:
        message = f"{text} ({_where(host, port, 'connect')})"
        return _located(cls, message, host, port, "connect", code, message)


class SMTPTimeoutError(_Located, SMTPException, TimeoutError):
    """No answer within the timeout."""

    @classmethod
    def at(cls, seconds: float, host: str, port: int, step: str) -> SMTPTimeoutError:
        text = f"no answer within {seconds:g} s ({_where(host, port, step)})"
        return _located(cls, text, host, port, step)


class SMTPProtocolError(_Located, SMTPException):
    """The server sent something that is not SMTP; ``data`` holds the bytes."""

    data: bytes = b""

    @classmethod
    def at(cls, text: str, data: bytes, host: str, port: int, step: str) -> SMTPProtocolError:
        error = _located(
            cls, f"{text} ({_where(host, port, step)}): {data[:80]!r}", host, port, step
        )
        error.data = data
        return error


class SMTPTLSError(_Located, SMTPException):
    """The TLS handshake failed; ``reason`` is OpenSSL's verdict (expired, self-signed, …)."""

    reason: str = ""

    @classmethod
    def at(cls, reason: str, host: str, port: int, step: str) -> SMTPTLSError:
        error = _located(
            cls, f"TLS failed: {reason} ({_where(host, port, step)})", host, port, step
        )
        error.reason = reason
        return error


def _where(host: str, port: int, step: str) -> str:
    address = format_host(host, port)
    return f"{address} during {step}" if step else address
