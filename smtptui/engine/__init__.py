"""asyncio I/O around the protocol: connect, TLS, timeouts and the wire tap."""

from smtptui.engine.client import SMTPClient
from smtptui.engine.errors import *  # noqa: F403 - the exception family is the API
from smtptui.engine.errors import __all__ as _errors
from smtptui.engine.events import ClientEvent, Direction, Listener, SentKind, WireEvent
from smtptui.engine.hosts import format_host, parse_host
from smtptui.engine.tls import CertificateInfo, TlsInfo

__all__ = [
    *_errors,
    "CertificateInfo",
    "ClientEvent",
    "Direction",
    "Listener",
    "SMTPClient",
    "SentKind",
    "TlsInfo",
    "WireEvent",
    "format_host",
    "parse_host",
]
