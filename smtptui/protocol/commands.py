"""Command builders: each returns the exact bytes of one command line, CRLF included.

Every argument is checked: CR, LF and NUL are refused with a :class:`CommandError` naming
the field, so nothing typed into a form can smuggle a second command onto the wire.
:func:`raw` is the one explicit way to send arbitrary bytes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr

from smtptui.protocol.errors import CommandError

CRLF = b"\r\n"
_FORBIDDEN = {"\r": "CR", "\n": "LF", "\0": "NUL"}
_SURROGATE = re.compile("[\ud800-\udfff]")
"""What a str holds for bytes that were not UTF-8 (surrogateescape), and cannot encode."""
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
"""A plain ``local@domain``: the common case, quoted without parseaddr (which is slow)."""
_NOTIFY = frozenset({"NEVER", "SUCCESS", "FAILURE", "DELAY"})


def check(field: str, value: str) -> str:
    """Return ``value`` if it holds no CR, LF or NUL and can be sent as UTF-8; otherwise
    raise naming ``field``."""
    for char, name in _FORBIDDEN.items():
        if char in value:
            raise CommandError(field, f"contains a {name} character, which a line cannot hold")
    if not value.isascii() and _SURROGATE.search(value):  # e.g. bytes that were not UTF-8
        raise CommandError(field, "contains a lone surrogate, which UTF-8 cannot encode")
    return value


def line(verb: str, argument: str = "", *, field: str = "argument") -> bytes:
    """``VERB argument`` as one command line; verb and argument are checked, UTF-8 encoded."""
    check("command", verb)
    text = f"{verb} {check(field, argument)}" if argument else verb
    return text.encode("utf-8") + CRLF


def raw(data: bytes | str) -> bytes:
    """Arbitrary bytes, sent exactly as given (a str is UTF-8 encoded): no checks at all."""
    return data.encode("utf-8") if isinstance(data, str) else data


def quote_address(address: str) -> str:
    """``<address>`` as smtplib's ``quoteaddr`` makes it (``<>`` for the null sender)."""
    address = address.strip()
    if address.startswith("<") and address.endswith(">"):
        return address
    if _DOT_ATOM_ADDRESS.fullmatch(address):  # what parseaddr would give back unchanged
        return f"<{address}>"
    name, parsed = parseaddr(address)
    if (name, parsed) == ("", ""):
        return f"<{address}>" if address else "<>"
    return f"<{parsed}>"


def xtext(value: str) -> str:
    """Encode ``value`` as RFC 3461 xtext: its UTF-8 octets, with ``+``, ``=`` and
    non-printables as ``+HH``."""
    return "".join(
        chr(octet) if 33 <= octet <= 126 and octet not in b"+=" else f"+{octet:02X}"
        for octet in value.encode("utf-8")
    )


@dataclass(frozen=True, slots=True)
class MailParams:
    """ESMTP parameters of MAIL FROM (RFC 1870, 6152, 6531, 3461)."""

    size: int | None = None
    body: str | None = None  # "7BIT", "8BITMIME" or "BINARYMIME"
    smtputf8: bool = False
    ret: str | None = None  # "FULL" or "HDRS"
    envid: str | None = None

    def options(self) -> list[str]:
        opts: list[str] = []
        if self.size is not None:
            if self.size < 0:
                raise CommandError("SIZE", "must not be negative")
            opts.append(f"SIZE={self.size}")
        if self.body:
            body = self.body.upper()
            if body not in ("7BIT", "8BITMIME", "BINARYMIME"):
                raise CommandError("BODY", "must be 7BIT, 8BITMIME or BINARYMIME")
            opts.append(f"BODY={body}")
        if self.smtputf8:
            opts.append("SMTPUTF8")
        if self.ret:
            ret = self.ret.upper()
            if ret not in ("FULL", "HDRS"):
                raise CommandError("RET", "must be FULL or HDRS")
            opts.append(f"RET={ret}")
        if self.envid:
            opts.append(f"ENVID={xtext(check('ENVID', self.envid))}")
        return opts


@dataclass(frozen=True, slots=True)
class RcptParams:
    """DSN parameters of RCPT TO (RFC 3461)."""

    notify: tuple[str, ...] = ()
    orcpt: str | None = None

    def options(self) -> list[str]:
        opts: list[str] = []
        if self.notify:
            notify = [value.upper() for value in self.notify]
            if not set(notify) <= _NOTIFY:
                raise CommandError("NOTIFY", "takes NEVER, or SUCCESS, FAILURE and DELAY")
            if "NEVER" in notify and len(notify) > 1:
                raise CommandError("NOTIFY", "NEVER cannot be combined with other values")
            opts.append("NOTIFY=" + ",".join(notify))
        if self.orcpt:
            address = check("ORCPT", self.orcpt)
            kind, sep, rest = address.partition(";")
            opts.append(f"ORCPT={kind};{xtext(rest)}" if sep else f"ORCPT=rfc822;{xtext(address)}")
        return opts


def _with_options(command: str, options: Sequence[str]) -> str:
    for option in options:
        check("parameter", option)
        if not option or " " in option:
            raise CommandError("parameter", f"{option!r} is not one ESMTP parameter")
    return " ".join([command, *options])


def helo(name: str) -> bytes:
    return line("HELO", name, field="HELO name")


def ehlo(name: str) -> bytes:
    return line("EHLO", name, field="EHLO name")


def mail(sender: str, options: Sequence[str] = ()) -> bytes:
    """``MAIL FROM:<sender>`` with ESMTP parameters (see :class:`MailParams`)."""
    address = quote_address(check("sender", sender))
    return _with_options(f"MAIL FROM:{address}", options).encode("utf-8") + CRLF


def rcpt(recipient: str, options: Sequence[str] = ()) -> bytes:
    """``RCPT TO:<recipient>`` with ESMTP parameters (see :class:`RcptParams`)."""
    address = quote_address(check("recipient", recipient))
    return _with_options(f"RCPT TO:{address}", options).encode("utf-8") + CRLF


def vrfy(address: str) -> bytes:
    return line("VRFY", address, field="VRFY address")


def expn(address: str) -> bytes:
    return line("EXPN", address, field="EXPN list")


def help(topic: str = "") -> bytes:
    return line("HELP", topic, field="HELP topic")


def auth(mechanism: str, initial_response: bytes | None = None) -> bytes:
    """``AUTH MECH [initial-response]``; the response must already be base64."""
    command = line("AUTH", mechanism, field="mechanism")
    if initial_response is None:
        return command
    return command[:-2] + b" " + sasl(initial_response)


def sasl(response: bytes) -> bytes:
    """One base64 SASL response line (or ``*`` to cancel)."""
    check("SASL response", response.decode("ascii", "replace"))
    return response + CRLF


def bdat(size: int, last: bool = False) -> bytes:
    if size < 0:
        raise CommandError("BDAT size", "must not be negative")
    return f"BDAT {size}{' LAST' if last else ''}".encode() + CRLF


DATA = b"DATA\r\n"
RSET = b"RSET\r\n"
NOOP = b"NOOP\r\n"
QUIT = b"QUIT\r\n"
STARTTLS = b"STARTTLS\r\n"
