"""Postfix's XCLIENT (XCLIENT_README): the client tells the server which client to act as,
and the server answers with a new 220 greeting, after which the session starts over (EHLO
again). One home for the command's rules, for the client's builder and the embedded
server's parser alike.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence

from smtptui.protocol.commands import CRLF, check
from smtptui.protocol.envelope import unxtext, xtext
from smtptui.protocol.errors import CommandError

ATTRIBUTES = ("NAME", "ADDR", "PORT", "PROTO", "HELO", "LOGIN", "DESTADDR", "DESTPORT")
"""The attributes Postfix knows, in the order it lists them."""
UNAVAILABLE, TEMPUNAVAIL = "[UNAVAILABLE]", "[TEMPUNAVAIL]"
"""The values that say an attribute is unknown (for good, or for now)."""
LIMIT = 512
"""The longest command line, CRLF included (RFC 5321 4.5.3.1.4): longer goes in several."""

Attribute = tuple[str, str]
_NAME = re.compile("[A-Z0-9-]+")


def parse_attribute(text: str, field: str = "xclient") -> Attribute:
    """``NAME=VALUE`` as typed, the name upper-cased; a missing ``=`` or name is named."""
    name, equals, value = text.partition("=")
    name = name.strip().upper()
    if not equals or not name:
        raise CommandError(field, f"write NAME=VALUE (such as ADDR=192.0.2.1), not {text!r}")
    return name, value.strip()


def xclient_lines(
    attributes: Iterable[Attribute], advertised: str | None, *, force: bool = False
) -> list[bytes]:
    """The XCLIENT command lines that set ``attributes``: as few as fit in :data:`LIMIT`
    bytes each, in the order given. ``advertised`` is XCLIENT's EHLO parameters (None: not
    advertised); an attribute the server did not list is refused unless ``force``."""
    offered = None if advertised is None else advertised.upper().split()
    words = [_word(name, value, offered, force) for name, value in attributes]
    if not words:
        raise CommandError("xclient", "no attribute given (NAME=VALUE, such as ADDR=192.0.2.1)")
    lines: list[bytes] = []
    line = b"XCLIENT"
    for name, word in words:
        if len(b"XCLIENT " + word + CRLF) > LIMIT:
            raise CommandError(f"XCLIENT {name}", f"too long for one command line ({LIMIT} bytes)")
        if len(line + b" " + word + CRLF) > LIMIT:
            lines.append(line + CRLF)
            line = b"XCLIENT"
        line += b" " + word
    return [*lines, line + CRLF]


def _word(name: str, value: str, offered: Sequence[str] | None, force: bool) -> Attribute:
    """``NAME=xtext`` for one attribute, checked."""
    field = f"XCLIENT {name}"
    check(field, value)
    if not _NAME.fullmatch(name):
        raise CommandError("xclient", f"{name!r} is not an attribute name (letters, digits, -)")
    if name not in ATTRIBUTES and not force:
        known = " ".join(ATTRIBUTES)
        raise CommandError(field, f"not an XCLIENT attribute (Postfix knows {known})")
    if offered is None and not force:
        raise CommandError("xclient", "the server did not advertise XCLIENT (EHLO first?)")
    if offered is not None and name not in offered and not force:
        raise CommandError(field, f"not advertised by the server (it offers {' '.join(offered)})")
    if value not in (UNAVAILABLE, TEMPUNAVAIL):
        value = _value(field, name, value)
    return name, f"{name}={xtext(value)}".encode("ascii")


def _value(field: str, name: str, value: str) -> str:
    """A value as Postfix reads it: an IPv6 address as ``IPV6:…``, a port a number."""
    if name in ("ADDR", "DESTADDR"):
        bare = value.removeprefix("IPV6:").removeprefix("ipv6:")
        try:
            ip = ipaddress.ip_address(bare)
        except ValueError:
            raise CommandError(field, f"{value!r} is not an IP address") from None
        return f"IPV6:{ip}" if ip.version == 6 else str(ip)
    if name in ("PORT", "DESTPORT") and not (value.isdigit() and int(value) <= 65535):
        raise CommandError(field, f"port must be a number from 0 to 65535, not {value!r}")
    if name == "PROTO" and value.upper() not in ("SMTP", "ESMTP"):
        raise CommandError(field, f"PROTO is SMTP or ESMTP, not {value!r}")
    return value.upper() if name == "PROTO" else value


def parse_xclient(argument: str) -> list[Attribute]:
    """The attributes of an XCLIENT command's argument, values xtext-decoded (the server's
    side); a word without ``=`` raises :class:`CommandError` naming it."""
    attributes = []
    for word in argument.split():
        name, equals, value = word.partition("=")
        if not equals or not name:
            raise CommandError("XCLIENT", f"bad attribute syntax: {word}")
        attributes.append((name.upper(), unxtext(value)))
    return attributes
