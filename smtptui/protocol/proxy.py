"""The PROXY protocol header (HAProxy's spec, versions 1 and 2): what a load balancer writes
before the first SMTP byte, so the server behind it knows the client it speaks for.

Sans-I/O: addresses in, bytes out. The engine writes the header the moment the connection
is made, filling in the addresses not given with the socket's own (:class:`ProxyHeader`).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from typing import Literal

from smtptui.protocol.errors import CommandError

Address = tuple[str, int]
"""An IP address and a port, as a socket gives them."""

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
_V2_PROXY = 0x21  # version 2, command PROXY
_V2_LOCAL = 0x20  # version 2, command LOCAL: no addresses, the connection is the proxy's own
_TCP4, _TCP6, _UNSPEC = 0x11, 0x21, 0x00

_IP = ipaddress.IPv4Address | ipaddress.IPv6Address


def proxy_v1(source: Address | None, dest: Address | None) -> bytes:
    """The version 1 (text) header; ``PROXY UNKNOWN`` when neither address is given."""
    pair = _pair(source, dest)
    if pair is None:
        return b"PROXY UNKNOWN\r\n"
    (src, sport), (dst, dport) = pair
    family = "TCP4" if src.version == 4 else "TCP6"
    return f"PROXY {family} {src} {dst} {sport} {dport}\r\n".encode("ascii")


def proxy_v2(source: Address | None, dest: Address | None) -> bytes:
    """The version 2 (binary) header; the LOCAL command with no address (AF_UNSPEC) when
    neither address is given."""
    pair = _pair(source, dest)
    if pair is None:
        return V2_SIGNATURE + struct.pack("!BBH", _V2_LOCAL, _UNSPEC, 0)
    (src, sport), (dst, dport) = pair
    family = _TCP4 if src.version == 4 else _TCP6
    addresses = src.packed + dst.packed + struct.pack("!HH", sport, dport)
    return V2_SIGNATURE + struct.pack("!BBH", _V2_PROXY, family, len(addresses)) + addresses


def describe(header: bytes, source: Address | None, dest: Address | None) -> str:
    """The header in words: ``PROXY v1 TCP4 192.0.2.1:5555 → 198.51.100.2:25`` (v2 with its
    length: its bytes are not text)."""
    version = "v2" if header.startswith(V2_SIGNATURE) else "v1"
    pair = _pair(source, dest)
    if pair is None:
        words = f"PROXY {version} UNKNOWN" if version == "v1" else "PROXY v2 LOCAL (UNSPEC)"
    else:
        (src, sport), (dst, dport) = pair
        family = "TCP4" if src.version == 4 else "TCP6"
        words = f"PROXY {version} {family} {_where(src, sport)} → {_where(dst, dport)}"
    return f"{words} ({len(header)} bytes)" if version == "v2" else words


@dataclass(frozen=True, slots=True)
class ProxyHeader:
    """A header to send: the ``version``, and the addresses to tell (None: the connection's
    own, known once it is made). ``unknown`` sends UNKNOWN (v1) or LOCAL (v2) instead."""

    version: Literal[1, 2] = 1
    source: Address | None = None
    dest: Address | None = None
    unknown: bool = False

    def __post_init__(self) -> None:
        if self.version not in (1, 2):
            raise CommandError("proxy protocol", f"version must be 1 or 2, not {self.version!r}")
        if self.source is not None:
            _ip("proxy source", self.source)
        if self.dest is not None:
            _ip("proxy dest", self.dest)

    def addresses(self, local: object, peer: object) -> tuple[Address | None, Address | None]:
        """The source and destination to tell, given the socket's ``local`` and ``peer``
        addresses (whatever the socket gives: not IP ones, and both UNKNOWN)."""
        if self.unknown:
            return None, None
        source, dest = self.source or _tcp(local), self.dest or _tcp(peer)
        return (source, dest) if source and dest else (None, None)

    def encode(self, local: object, peer: object) -> tuple[bytes, str]:
        """The header's bytes for a connection from ``local`` to ``peer``, and its words."""
        source, dest = self.addresses(local, peer)
        header = (proxy_v1 if self.version == 1 else proxy_v2)(source, dest)
        return header, describe(header, source, dest)


def _tcp(address: object) -> Address | None:
    """A socket's address as (ip, port) if it is an IP one (an IPv6 one's flow and scope
    dropped)."""
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = address[0], address[1]
        if isinstance(host, str) and isinstance(port, int):
            return host.partition("%")[0], port
    return None


def _pair(
    source: Address | None, dest: Address | None
) -> tuple[tuple[_IP, int], tuple[_IP, int]] | None:
    """Both addresses checked and of one family, or None for neither."""
    if source is None and dest is None:
        return None
    if source is None:
        raise CommandError("proxy source", "needed with a destination (or give neither)")
    if dest is None:
        raise CommandError("proxy dest", "needed with a source (or give neither)")
    src, dst = _ip("proxy source", source), _ip("proxy dest", dest)
    if src[0].version != dst[0].version:
        raise CommandError(
            "proxy dest",
            f"{dst[0]} is IPv{dst[0].version} but the source {src[0]} is IPv{src[0].version}:"
            " both must be of one family",
        )
    return src, dst


def _ip(field: str, address: Address) -> tuple[_IP, int]:
    host, port = address
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise CommandError(field, f"{host!r} is not an IP address") from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(ip.packed)  # a zone means nothing to the server
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise CommandError(field, f"port must be a number from 0 to 65535, not {port!r}")
    return ip, port


def _where(ip: _IP, port: int) -> str:
    return f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"
