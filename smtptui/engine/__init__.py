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
    from smtptui.engine.mx import (
        BannerCheck,
        MxHost,
        MxResult,
        ReverseCheck,
        banner_check,
        mx_hosts,
        reverse_checks,
        target_domain,
    )
    from smtptui.engine.ocsp import OcspStatus, stapled_ocsp
    from smtptui.engine.probe import PortProbe, PortSecurity, probe_port
    from smtptui.engine.tls import CertificateInfo, TlsInfo, VerifyMode

__all__ = [
    "BannerCheck",
    "CertificateInfo",
    "ChainCheck",
    "ClientEvent",
    "Direction",
    "Listener",
    "Located",
    "MxHost",
    "MxResult",
    "OcspStatus",
    "PortProbe",
    "PortSecurity",
    "ReverseCheck",
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
    "banner_check",
    "chain_pem",
    "check_chain",
    "format_host",
    "mx_hosts",
    "parse_host",
    "probe_port",
    "reverse_checks",
    "stapled_ocsp",
    "target_domain",
]

_HOMES = {
    "BannerCheck": "smtptui.engine.mx",
    "CertificateInfo": "smtptui.engine.tls",
    "ChainCheck": "smtptui.engine.chain",
    "ClientEvent": "smtptui.engine.events",
    "Direction": "smtptui.engine.events",
    "Listener": "smtptui.engine.events",
    "Located": "smtptui.engine.errors",
    "MxHost": "smtptui.engine.mx",
    "MxResult": "smtptui.engine.mx",
    "OcspStatus": "smtptui.engine.ocsp",
    "PortProbe": "smtptui.engine.probe",
    "PortSecurity": "smtptui.engine.probe",
    "ReverseCheck": "smtptui.engine.mx",
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
    "banner_check": "smtptui.engine.mx",
    "chain_pem": "smtptui.engine.chain",
    "check_chain": "smtptui.engine.chain",
    "format_host": "smtptui.engine.hosts",
    "mx_hosts": "smtptui.engine.mx",
    "parse_host": "smtptui.engine.hosts",
    "probe_port": "smtptui.engine.probe",
    "reverse_checks": "smtptui.engine.mx",
    "stapled_ocsp": "smtptui.engine.ocsp",
    "target_domain": "smtptui.engine.mx",
}
"""The module each exported name lives in (see :mod:`smtptui.lazy`)."""

__getattr__, __dir__ = lazy.exports(__name__, _HOMES)
