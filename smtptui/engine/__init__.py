"""asyncio I/O around the protocol: connect, TLS, timeouts and the wire tap."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smtptui import lazy

if TYPE_CHECKING:
    from smtptui.engine.chain import ChainCheck, chain_pem, check_chain
    from smtptui.engine.client import SMTPClient
    from smtptui.engine.errors import (
        Located,
        SMTPAuthenticationError,
        SMTPConnectError,
        SMTPDataError,
        SMTPException,
        SMTPHeloError,
        SMTPNotSupportedError,
        SMTPProtocolError,
        SMTPRecipientsRefused,
        SMTPResponseException,
        SMTPSenderRefused,
        SMTPServerDisconnected,
        SMTPTimeoutError,
        SMTPTLSError,
    )
    from smtptui.engine.events import ClientEvent, Direction, Listener, SentKind, WireEvent
    from smtptui.engine.hosts import format_host, parse_host
    from smtptui.engine.ocsp import OcspStatus, stapled_ocsp
    from smtptui.engine.tls import CertificateInfo, TlsInfo, VerifyMode

__all__ = [
    "CertificateInfo",
    "ChainCheck",
    "ClientEvent",
    "Direction",
    "Listener",
    "Located",
    "OcspStatus",
    "SMTPAuthenticationError",
    "SMTPClient",
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
    "SentKind",
    "TlsInfo",
    "VerifyMode",
    "WireEvent",
    "chain_pem",
    "check_chain",
    "format_host",
    "parse_host",
    "stapled_ocsp",
]

_HOMES = {
    "CertificateInfo": "smtptui.engine.tls",
    "ChainCheck": "smtptui.engine.chain",
    "ClientEvent": "smtptui.engine.events",
    "Direction": "smtptui.engine.events",
    "Listener": "smtptui.engine.events",
    "Located": "smtptui.engine.errors",
    "OcspStatus": "smtptui.engine.ocsp",
    "SMTPAuthenticationError": "smtptui.engine.errors",
    "SMTPClient": "smtptui.engine.client",
    "SMTPConnectError": "smtptui.engine.errors",
    "SMTPDataError": "smtptui.engine.errors",
    "SMTPException": "smtptui.engine.errors",
    "SMTPHeloError": "smtptui.engine.errors",
    "SMTPNotSupportedError": "smtptui.engine.errors",
    "SMTPProtocolError": "smtptui.engine.errors",
    "SMTPRecipientsRefused": "smtptui.engine.errors",
    "SMTPResponseException": "smtptui.engine.errors",
    "SMTPSenderRefused": "smtptui.engine.errors",
    "SMTPServerDisconnected": "smtptui.engine.errors",
    "SMTPTLSError": "smtptui.engine.errors",
    "SMTPTimeoutError": "smtptui.engine.errors",
    "SentKind": "smtptui.engine.events",
    "TlsInfo": "smtptui.engine.tls",
    "VerifyMode": "smtptui.engine.tls",
    "WireEvent": "smtptui.engine.events",
    "chain_pem": "smtptui.engine.chain",
    "check_chain": "smtptui.engine.chain",
    "format_host": "smtptui.engine.hosts",
    "parse_host": "smtptui.engine.hosts",
    "stapled_ocsp": "smtptui.engine.ocsp",
}
"""The module each exported name lives in (see :mod:`smtptui.lazy`)."""

__getattr__, __dir__ = lazy.exports(__name__, _HOMES)
