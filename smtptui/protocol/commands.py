"""Command builders: each returns the exact bytes of one command line, CRLF included.

Every argument is checked (:func:`check`): a control character (C0 or DEL) is refused with a
:class:`CommandError` naming the field, so nothing typed into a form can smuggle a second
command, or any control byte, onto the wire. Every address is parsed (:func:`address`): one
address alone, so nothing can ride after it either. :func:`raw_line` is the command line's
one looser rule, :func:`raw` the one way to send arbitrary bytes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from smtptui.protocol.errors import CommandError

CRLF = b"\r\n"
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_CONTROL_BUT_TAB = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
_CONTROL_NAMES = dict(
    zip(
        [*map(chr, range(32)), "\x7f"],
        "NUL SOH STX ETX EOT ENQ ACK BEL BS TAB LF VT FF CR SO SI "  # noqa: SIM905 (a table)
        "DLE DC1 DC2 DC3 DC4 NAK SYN ETB CAN EM SUB ESC FS GS RS US DEL".split(),
        strict=True,
    )
)
"""Each control character's ASCII name, for the error that names it."""
_LINE_BREAKING = re.compile("[\r\n\0]")
"""What :func:`raw_line` refuses: CR and LF would end the line, NUL cuts it on many servers."""
_SURROGATE = re.compile("[\ud800-\udfff]")
"""What a str holds for bytes that were not UTF-8 (surrogateescape), and cannot encode."""

# Addresses (RFC 5321 4.1.2, with RFC 6531's UTF-8): what an address field accepts.
_ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-\u0080-\U0010ffff"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
"""A quoted string: quotes and backslashes escaped (control characters are refused before)."""
_LOCAL = rf"(?:[{_ATEXT}.]+|{_QUOTED})"
_LABEL = r"[A-Za-z0-9_\-\u0080-\U0010ffff]+"
_DOMAIN = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[!-Z^-~]*\])"
"""A domain (UTF-8 labels as typed: no IDNA here; ``_`` too, as machines' names may hold
it) or an address literal such as [192.0.2.1]."""
_PATH = rf"(?:@{_DOMAIN}(?:,@{_DOMAIN})*:)?{_LOCAL}(?:@{_DOMAIN})?"
"""A mailbox (the domain may be left out, as in ``postmaster``), after a source route if any."""
_NAME = rf"(?:[{_ATEXT}. ]|{_QUOTED})+"
"""A display name: words, dots and quoted strings (a comma would start a second address)."""
_ADDRESS = rf"(?P<null><>)|(?:{_NAME})?<(?P<angled>{_PATH})>|(?P<bare>{_PATH})"
"""Any address form: compiled on first use (:func:`_address_pattern`), as compiling its
Unicode ranges costs 20-30 ms that a plain ``local@domain`` never needs."""
_DOT_ATOM_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
)
"""A plain ``local@domain``: the common case, known good without the full parse."""
_FORMS = "write a@example.org, <a@example.org> or Name <a@example.org>"


@functools.cache
def _address_pattern() -> re.Pattern[str]:
    return re.compile(_ADDRESS)


def check(field: str, value: str, *, tab: bool = False) -> str:
    """Return ``value`` if it holds no control character and can be sent as UTF-8;
    otherwise raise naming ``field``. ``tab`` lets a tab through: message headers only, where
    it is white space (RFC 5322 2.2) in data, never part of a command."""
    control = (_CONTROL_BUT_TAB if tab else _CONTROL).search(value)
    if control is not None:
        char = control[0]
        name = _CONTROL_NAMES[char]
        if char in "\r\n":
            raise CommandError(field, f"contains a {name} character, which would end the line")
        raise CommandError(field, f"contains {name} (0x{ord(char):02X}), a control character")
    _encodable(field, value)
    return value


def _encodable(field: str, value: str) -> None:
    if not value.isascii() and _SURROGATE.search(value):  # e.g. bytes that were not UTF-8
        raise CommandError(field, "contains a lone surrogate, which UTF-8 cannot encode")


def line(verb: str, argument: str = "", *, field: str = "argument") -> bytes:
    """``VERB argument`` as one command line; verb and argument are checked, UTF-8 encoded."""
    check("command", verb)
    text = f"{verb} {check(field, argument)}" if argument else verb
    return text.encode("utf-8") + CRLF


def raw_line(text: str, field: str = "raw command") -> bytes:
    """A line typed on the command line (a command, or a line of a message after 354), sent
    as typed (UTF-8) with CRLF added: only CR, LF and NUL are refused, so a debugger can send
    any other odd byte on purpose."""
    found = _LINE_BREAKING.search(text)
    if found is not None:
        name = _CONTROL_NAMES[found[0]]
        raise CommandError(field, f"contains a {name} character; send one line at a time")
    _encodable(field, text)
    return text.encode("utf-8") + CRLF


def raw(data: bytes | str) -> bytes:
    """Arbitrary bytes, sent exactly as given (a str is UTF-8 encoded): no checks at all."""
    return data.encode("utf-8") if isinstance(data, str) else data


def address(field: str, value: str, *, null: bool = False) -> str:
    """The one address in ``value``, without angle brackets or display name; raise naming
    ``field`` unless ``value`` is exactly one address.

    Accepted: ``a@example.org``, ``<a@example.org>``, ``Name <a@example.org>``, a quoted
    local part, UTF-8 (RFC 6531), an address literal, a source route (``<@relay:a@b>``), a local
    part alone (``postmaster``); with ``null`` (MAIL FROM), ``<>`` or nothing for the null
    sender, given as ``""``. Refused: anything after the address (``<a@b> NOTIFY=NEVER``
    would smuggle ESMTP parameters), a second address, comments, control characters.
    """
    value = value.strip(" ")
    if _DOT_ATOM_ADDRESS.fullmatch(value):  # the usual case, without the full parse
        return value
    check(field, value)
    if not value:
        if null:
            return ""
        raise CommandError(field, f"is empty: {_FORMS}")
    match = _address_pattern().match(value)
    if match is None:
        raise CommandError(field, f"{value!r} is not an address: {_FORMS}")
    after = value[match.end() :].strip(" ")
    found = match["angled"] or match["bare"] or ""
    if after:
        raise CommandError(
            field,
            f"{after!r} follows the address <{found}>: give one address alone "
            "(ESMTP parameters have fields of their own)",
        )
    if match["null"] and not null:
        raise CommandError(field, "<> is the null sender, for MAIL FROM only")
    if not value.isascii() and not value.isprintable():
        char = next(char for char in value if not char.isprintable())
        raise CommandError(field, f"contains U+{ord(char):04X}, which is not printable")
    return found


def international(*addresses: str) -> bool:
    """Whether any of ``addresses`` needs SMTPUTF8 (RFC 6531): one that is not ASCII."""
    return not all(address.isascii() for address in addresses)


def quote_address(field: str, value: str, *, null: bool = False) -> str:
    """``<address>`` for MAIL FROM or RCPT TO (``<>`` for the null sender): see
    :func:`address`."""
    return f"<{address(field, value, null=null)}>"


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


def lhlo(name: str) -> bytes:
    """LMTP's EHLO (RFC 2033 4.1)."""
    return line("LHLO", name, field="LHLO name")


def mail(sender: str, options: Sequence[str] = ()) -> bytes:
    """``MAIL FROM:<sender>`` with ESMTP parameters (see :mod:`smtptui.protocol.envelope`)."""
    path = quote_address("sender", sender, null=True)
    return _with_options(f"MAIL FROM:{path}", options).encode("utf-8") + CRLF


def rcpt(recipient: str, options: Sequence[str] = ()) -> bytes:
    """``RCPT TO:<recipient>`` with ESMTP parameters (see :mod:`smtptui.protocol.envelope`)."""
    path = quote_address("recipient", recipient)
    return _with_options(f"RCPT TO:{path}", options).encode("utf-8") + CRLF


def vrfy(user: str) -> bytes:
    """``VRFY address``: the address alone, as :func:`address` finds it."""
    return line("VRFY", address("VRFY address", user), field="VRFY address")


def expn(mailing_list: str) -> bytes:
    """``EXPN list``: the list's address alone, as :func:`address` finds it."""
    return line("EXPN", address("EXPN list", mailing_list), field="EXPN list")


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
