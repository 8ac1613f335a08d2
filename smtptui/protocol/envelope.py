"""The envelope's ESMTP parameters, as data: SIZE (RFC 1870), BODY (RFC 6152, 3030),
SMTPUTF8 (RFC 6531), DSN (RFC 3461: RET, ENVID, NOTIFY, ORCPT) and REQUIRETLS (RFC 8689).

An :class:`Envelope` holds what the user asked for; :meth:`Envelope.mail_options` and
:meth:`Envelope.rcpt_options` turn it into checked parameter words (a bad value raises
:class:`CommandError` naming the parameter), and :meth:`Envelope.unadvertised` says which of
them the server did not offer, so the user can be told before the server refuses them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from smtptui.protocol import commands
from smtptui.protocol.capabilities import Capabilities
from smtptui.protocol.commands import address, check
from smtptui.protocol.errors import CommandError

BODIES = ("7BIT", "8BITMIME", "BINARYMIME")
RETS = ("FULL", "HDRS")
NOTIFY_VALUES = ("NEVER", "SUCCESS", "FAILURE", "DELAY")
MAX_ENVID = 100
"""RFC 3461 4.4: an ENVID of up to 100 characters (before xtext) is what servers must take."""

_ADDRESS_TYPE = re.compile("[A-Za-z0-9-]+")
"""An ORCPT address type (RFC 3461 4.2: an atom; rfc822 in practice)."""
_XTEXT_HEX = re.compile(r"\+([0-9A-Fa-f]{2})")

_EXTENSION = {
    "SIZE": "SIZE",
    "BODY=7BIT": "8BITMIME",  # BODY itself is 8BITMIME's parameter (RFC 6152)
    "BODY=8BITMIME": "8BITMIME",
    "BODY=BINARYMIME": "BINARYMIME",
    "SMTPUTF8": "SMTPUTF8",
    "RET": "DSN",
    "ENVID": "DSN",
    "NOTIFY": "DSN",
    "ORCPT": "DSN",
    "REQUIRETLS": "REQUIRETLS",
}
"""Each parameter (BODY by its value) and the EHLO keyword that allows it."""
_ALSO = {"BINARYMIME": ("CHUNKING",)}
"""Keywords that need another too: BINARYMIME data goes only by BDAT (RFC 3030 3)."""
_ORDER = ("SIZE", "BODY", "SMTPUTF8", "RET", "ENVID", "REQUIRETLS", "NOTIFY", "ORCPT")
"""The parameters in the order they are sent, MAIL's then RCPT's."""


def xtext(value: str) -> str:
    """Encode ``value`` as RFC 3461 xtext: its UTF-8 octets, with ``+``, ``=`` and
    non-printables as ``+HH``."""
    return "".join(
        chr(octet) if 33 <= octet <= 126 and octet not in b"+=" else f"+{octet:02X}"
        for octet in value.encode("utf-8")
    )


def unxtext(value: str) -> str:
    """Decode xtext, to show what a parameter says; octets that are not UTF-8 come back as
    surrogates (surrogateescape), so nothing is lost."""
    octets = _XTEXT_HEX.sub(lambda hexed: chr(int(hexed[1], 16)), value)
    return octets.encode("latin-1", "replace").decode("utf-8", "surrogateescape")


def parse_notify(text: str) -> tuple[str, ...]:
    """NOTIFY's values from comma-separated text (``"success, failure"``), uppercase;
    ``()`` for blank text. NEVER stands alone, anything else is refused."""
    if not text.strip(" "):
        return ()
    return _notify(tuple(word.strip(" ") for word in check("NOTIFY", text).split(",")))


def _notify(values: tuple[str, ...]) -> tuple[str, ...]:
    notify = tuple(value.upper() for value in values)
    unknown = [value for value in notify if value not in NOTIFY_VALUES]
    if unknown:
        raise CommandError("NOTIFY", f"{unknown[0]!r} is not NEVER, or SUCCESS, FAILURE and DELAY")
    if "NEVER" in notify and len(notify) > 1:
        raise CommandError("NOTIFY", "NEVER cannot be combined with other values")
    if len(set(notify)) < len(notify):
        raise CommandError("NOTIFY", "names a value twice")
    return notify


def _orcpt(value: str) -> str:
    """``type;xtext``: an address alone is rfc822, which must be one address."""
    kind, sep, original = check("ORCPT", value).partition(";")
    if not sep:
        kind, original = "rfc822", kind
    if not _ADDRESS_TYPE.fullmatch(kind):
        raise CommandError("ORCPT", f"{kind!r} is not an address type, such as rfc822")
    if kind.lower() == "rfc822":
        original = address("ORCPT", original)
    elif not original:
        raise CommandError("ORCPT", "has no address after its type")
    return f"{kind};{xtext(original)}"


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    upper = value.strip(" ").upper()
    if upper not in allowed:
        raise CommandError(name, f"{value!r} is not {', '.join(allowed[:-1])} or {allowed[-1]}")
    return upper


def _envid(value: str) -> str:
    check("ENVID", value)
    if not value.isascii():
        raise CommandError("ENVID", "must be printable ASCII (RFC 3461 4.4)")
    if len(value) > MAX_ENVID:
        raise CommandError("ENVID", f"is {len(value)} characters; at most {MAX_ENVID}")
    return xtext(value)


@dataclass(frozen=True, slots=True)
class RcptParams:
    """DSN parameters of one RCPT TO (RFC 3461)."""

    notify: tuple[str, ...] = ()
    orcpt: str | None = None

    def options(self) -> list[str]:
        """``NOTIFY=…`` and ``ORCPT=type;xtext``, checked."""
        opts: list[str] = []
        if self.notify:
            opts.append("NOTIFY=" + ",".join(_notify(self.notify)))
        if self.orcpt:
            opts.append(f"ORCPT={_orcpt(self.orcpt)}")
        return opts


RECIPIENT_FIELD = "per recipient"
"""The field :func:`parse_recipient_params` names in its errors."""
_PARAM = re.compile(r"([A-Za-z][A-Za-z0-9-]*)=(.*)", re.DOTALL)
_RCPT_KEYS = ("NOTIFY", "ORCPT")


def parse_recipient_params(text: str) -> dict[str, RcptParams]:
    """Per-recipient DSN parameters, one recipient a line:
    ``address NOTIFY=values ORCPT=type;address`` (either parameter or both, in any order, keys
    in any case; blank lines skipped). Keyed by the bare address, as :func:`address` gives
    it. A bad line raises :class:`CommandError` for ``"per recipient"`` naming its number."""
    found: dict[str, RcptParams] = {}
    lines: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip(" \t"):
            continue
        try:
            recipient, params = _recipient_line(line)
            if recipient in lines:
                raise _BadLine(f"{recipient} is on line {lines[recipient]} too")
        except (CommandError, _BadLine) as error:
            raise CommandError(RECIPIENT_FIELD, f"line {number}: {error}") from None
        lines[recipient] = number
        found[recipient] = params
    return found


class _BadLine(ValueError):
    """What is wrong with a line of :func:`parse_recipient_params`, before its number."""


def _recipient_line(line: str) -> tuple[str, RcptParams]:
    """One line of :func:`parse_recipient_params`: the address is everything before the
    first later ``KEY=`` word (or a bare NOTIFY or ORCPT)."""
    words = check("text", line, tab=True).split()
    if words[0].partition("=")[0].upper() in _RCPT_KEYS:
        raise _BadLine(f"no address before {words[0]}")
    start = next(
        (
            index
            for index, word in enumerate(words)
            if index and (_PARAM.fullmatch(word) or word.upper() in _RCPT_KEYS)
        ),
        len(words),
    )
    recipient = address("address", " ".join(words[:start]))
    values: dict[str, str] = {}
    for word in words[start:]:
        matched = _PARAM.fullmatch(word)
        key = (matched[1] if matched else word).upper()
        if not matched and key not in _RCPT_KEYS:
            raise _BadLine(f"{word!r} is not NOTIFY=… or ORCPT=… (no spaces inside a value)")
        if key not in _RCPT_KEYS:
            raise _BadLine(f"unknown parameter {key}: only NOTIFY and ORCPT")
        if key in values:
            raise _BadLine(f"{key} is given twice")
        if not matched or not matched[2]:
            raise _BadLine(f"{key} has no value")
        values[key] = matched[2]
    if not values:
        raise _BadLine(f"{recipient} has neither NOTIFY= nor ORCPT=")
    params = RcptParams(
        parse_notify(values["NOTIFY"]) if "NOTIFY" in values else (), values.get("ORCPT")
    )
    params.options()  # checks ORCPT
    return recipient, params


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the user asked of the envelope. ``None`` means automatic: SIZE is the message's
    length when the server offers SIZE, SMTPUTF8 is sent when an address or the message
    needs it. ``notify`` and ``orcpt`` apply to every recipient unless ``rcpt`` overrides."""

    size: int | None = None
    body: str | None = None
    smtputf8: bool | None = None
    ret: str | None = None
    envid: str | None = None
    requiretls: bool = False
    notify: tuple[str, ...] = ()
    orcpt: Mapping[str, str] = field(default_factory=dict, hash=False)
    rcpt: Mapping[str, RcptParams] = field(default_factory=dict, hash=False)

    @property
    def binary(self) -> bool:
        """BODY=BINARYMIME: the message goes by BDAT only (RFC 3030 3)."""
        return (self.body or "").strip(" ").upper() == "BINARYMIME"

    @property
    def empty(self) -> bool:
        """Nothing set: every parameter automatic or absent."""
        return self == Envelope()

    def mail_options(
        self, size: int, *, international: bool, advertised: Capabilities | None
    ) -> list[str]:
        """MAIL FROM's parameters: ``size`` (the message's length) only if the server
        advertised SIZE, unless :attr:`size` is set; SMTPUTF8 if asked, or automatic and
        ``international``."""
        opts: list[str] = []
        if self.size is not None:
            if self.size < 0:
                raise CommandError("SIZE", "must not be negative")
            opts.append(f"SIZE={self.size}")
        elif advertised is not None and advertised.has("SIZE"):
            opts.append(f"SIZE={size}")
        if self.body:
            opts.append(f"BODY={_choice('BODY', self.body, BODIES)}")
        if self.smtputf8 or (self.smtputf8 is None and international):
            opts.append("SMTPUTF8")
        if self.ret:
            opts.append(f"RET={_choice('RET', self.ret, RETS)}")
        if self.envid:
            opts.append(f"ENVID={_envid(self.envid)}")
        if self.requiretls:
            opts.append("REQUIRETLS")
        return opts

    def rcpt_options(self, recipient: str) -> list[str]:
        """RCPT TO's parameters for ``recipient``: its own NOTIFY and ORCPT, else the
        envelope's."""
        own = self.rcpt.get(recipient, RcptParams())
        orcpt = own.orcpt if own.orcpt is not None else self.orcpt.get(recipient)
        return RcptParams(own.notify or self.notify, orcpt).options()

    def needs(self, *, international: bool = False) -> dict[str, str]:
        """Each parameter this envelope would send (an automatic SIZE aside) and the EHLO
        keyword that allows it; raises :class:`CommandError` for a bad value."""
        words = self.mail_options(0, international=international, advertised=None)
        for recipient in ["", *self.orcpt, *self.rcpt]:
            words += self.rcpt_options(recipient)
        needed = {word.partition("=")[0]: _EXTENSION.get(word) for word in words}
        return {name: needed[name] or _EXTENSION[name] for name in _ORDER if name in needed}

    def unadvertised(
        self, capabilities: Capabilities | None, *, international: bool = False
    ) -> list[str]:
        """The parameters whose extension ``capabilities`` lacks (all of them without
        EHLO), in the order they are sent."""
        return [
            name
            for name, keyword in self.needs(international=international).items()
            if capabilities is None
            or not all(map(capabilities.has, (keyword, *_ALSO.get(keyword, ()))))
        ]

    def shortfall(self, capabilities: Capabilities | None, *, international: bool = False) -> str:
        """The :meth:`unadvertised` parameters, each with the keyword it needs ("NOTIFY
        needs DSN, REQUIRETLS needs REQUIRETLS"); "" when the server offers them all."""
        needs = self.needs(international=international)
        missing = self.unadvertised(capabilities, international=international)
        return ", ".join(f"{name} needs {needs[name]}" for name in missing)


def pipeline_lines(
    sender: str, recipients: Sequence[str], envelope: Envelope | None = None
) -> list[bytes]:
    """MAIL FROM, each RCPT TO and DATA, with ``envelope``'s parameters (no automatic SIZE:
    the message is not known yet), as one pipelined group sends them; raises
    :class:`CommandError` for a bad address or value before any is sent."""
    envelope = envelope or Envelope()
    utf8 = commands.international(sender, *recipients)
    options = envelope.mail_options(0, international=utf8, advertised=None)
    return [
        commands.mail(sender, options),
        *(commands.rcpt(recipient, envelope.rcpt_options(recipient)) for recipient in recipients),
        commands.DATA,
    ]
