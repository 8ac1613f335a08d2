"""Host strings: ``host``, ``host:port``, ``[v6]:port``, bare IPv6 addresses, and
``unix:/path`` for a UNIX socket."""

from __future__ import annotations

import ipaddress

SMTP_PORT = 25
SMTPS_PORT = 465
LMTP_PORT = 24
"""LMTP's port over TCP: RFC 2033 names none, 24 is the one ``/etc/services`` and IANA list
as ``lmtp`` (smtplib's ``LMTP_PORT`` is 2003, Cyrus' old one); most LMTP servers listen on
a UNIX socket."""


def default_port(*, implicit_tls: bool = False, lmtp: bool = False) -> int:
    """The port when none is given: 24 for LMTP, 465 for implicit TLS, else 25."""
    return LMTP_PORT if lmtp else SMTPS_PORT if implicit_tls else SMTP_PORT


UNIX = "unix:"
"""The prefix of a host that is a UNIX socket's path: ``unix:/run/dovecot/lmtp``."""


def unix_path(host: str) -> str | None:
    """The UNIX socket a host string names, or None for a network host.

    >>> unix_path("unix:/run/dovecot/lmtp"), unix_path("mx.example:25")
    ('/run/dovecot/lmtp', None)
    """
    text = host.strip()
    return text[len(UNIX) :] if text.lower().startswith(UNIX) else None


def parse_host(text: str, default_port: int = SMTP_PORT) -> tuple[str, int]:
    """Split a host string into host and port; raise ValueError saying what is wrong.

    >>> parse_host("[::1]:2525"), parse_host("::1"), parse_host("mx.example:587")
    (('::1', 2525), ('::1', 25), ('mx.example', 587))
    >>> parse_host("unix:/run/lmtp")  # a UNIX socket: no port
    ('unix:/run/lmtp', 0)
    """
    text = text.strip()
    if not text:
        raise ValueError("no host given")
    path = unix_path(text)
    if path is not None:
        if not path.strip():
            raise ValueError(f"{text!r}: give the UNIX socket's path after 'unix:'")
        return text, 0
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or not host:
            raise ValueError(f"{text!r}: an IPv6 address in brackets needs its closing ']'")
        if rest and not rest.startswith(":"):
            raise ValueError(f"{text!r}: expected ':port' after ']'")
        return host, parse_port(rest[1:], text) if rest else default_port
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        if not host:
            raise ValueError(f"{text!r}: no host before ':'")
        return host, parse_port(port, text)
    return text, default_port


def parse_port(text: str, context: str = "") -> int:
    """A TCP port number from text, 1 to 65535."""
    where = f"{context!r}: " if context else ""
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{where}port must be a number from 1 to 65535, not {text!r}")
    return int(text)


def format_host(host: str, port: int) -> str:
    """``host:port``, with brackets around an IPv6 address; a host without a port (port 0:
    a UNIX socket, a command's pipe) as it is."""
    if not port:
        return host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_address(host: str) -> bool:
    """Whether ``host`` is an IP address (an IPv6 one perhaps in brackets), not a name to
    look up.

    >>> is_address("[::1]"), is_address("127.0.0.1"), is_address("mx.example")
    (True, True, False)
    """
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
