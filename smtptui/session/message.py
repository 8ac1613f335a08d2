"""The message ``run`` sends: built with the ``email`` package, or given whole, with tokens.

A built message always carries Date and Message-ID (servers and filters score a message
without them); Bcc recipients go in the envelope only. A message given whole is sent as its
bytes, so a debugging run can replay a captured message exactly: only the tokens change.
"""

from __future__ import annotations

import base64
import email.errors
import email.policy
import email.utils
import io
import mimetypes
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage, MIMEPart
from email.utils import getaddresses
from pathlib import Path

from smtptui.protocol.commands import international

TOKENS = ("%DATE%", "%MESSAGEID%", "%FROM_ADDRESS%", "%TO_ADDRESS%")
"""The tokens replaced in a whole message, a built message's body and its header values."""


def _registry() -> HeaderRegistry:
    """The standard header classes, but a Date kept as typed: the standard one empties a
    date it cannot parse, and a debugger sends what it is told."""
    registry = HeaderRegistry()
    registry.map_to_type("date", UnstructuredHeader)
    return registry


POLICY = email.policy.SMTP.clone(cte_type="7bit", header_factory=_registry())
"""CRLF line ends, and a non-ASCII body quoted-printable or base64: no 8BITMIME needed."""

_HEADER_NAME = re.compile(r"[!-9;-~]+")
"""A header field name (RFC 5322 2.2): printable ASCII but the colon."""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to attach: its MIME type (None: guessed from its name) and the name the
    message gives it (None: the file's own)."""

    path: Path
    mime_type: str | None = None
    name: str | None = None


def parse_header(line: str) -> tuple[str, str]:
    """``Name: value`` as (name, value); ValueError saying why for anything that is not one
    header field (a CR or LF would let it smuggle more)."""
    if "\r" in line or "\n" in line:
        raise ValueError(f"{line!r}: one header, without CR or LF")
    name, colon, value = line.partition(":")
    name = name.strip()
    if not colon or not _HEADER_NAME.fullmatch(name):
        raise ValueError(f"{line!r}: give 'Name: value'")
    return name, value.strip()


def check_mime_type(mime_type: str) -> tuple[str, str]:
    """``type/subtype`` split; ValueError if it is not one."""
    maintype, slash, subtype = mime_type.partition("/")
    if not slash or not _HEADER_NAME.fullmatch(maintype) or not _HEADER_NAME.fullmatch(subtype):
        raise ValueError(f"{mime_type!r}: give type/subtype, as application/pdf")
    return maintype.lower(), subtype.lower()


def token_values(sender: str, to: Sequence[str]) -> dict[str, str]:
    """A fresh value for each token: one Date and one Message-ID per message, so the tokens
    and the headers agree."""
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "smtptui.invalid"
    return {
        "%DATE%": email.utils.formatdate(localtime=True),
        "%MESSAGEID%": email.utils.make_msgid(domain=domain),
        "%FROM_ADDRESS%": sender,
        "%TO_ADDRESS%": ", ".join(to),
    }


def substitute(text: str, values: Mapping[str, str]) -> str:
    for token, value in values.items():
        text = text.replace(token, value)
    return text


def whole_message(data: bytes, sender: str, to: Sequence[str]) -> bytes:
    """``data`` with its tokens replaced (values as UTF-8) and every other byte untouched:
    the engine then sends it as smtplib's ``sendmail`` sends bytes."""
    for token, value in token_values(sender, to).items():
        data = data.replace(token.encode(), value.encode())
    return data


class HeaderError(ValueError):
    """A header the email package cannot send as it was given. ``name`` is the header's;
    ``index`` its place among ``headers`` then ``add_headers``, or None for one built from
    the other arguments (From, To, Cc, Subject)."""

    def __init__(self, name: str, index: int | None, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.index = index


_PARSE_ERRORS = (ValueError, IndexError, email.errors.HeaderParseError)
"""What the email package may raise for a header value it cannot parse."""

_INVALID = (email.errors.InvalidHeaderDefect,)
"""Defects that would make the email package send something other than was given."""


def add_header(message: EmailMessage, name: str, value: str, index: int | None = None) -> None:
    """Append header ``name``; :class:`HeaderError` if the email package cannot take
    ``value`` as it is (an address it cannot parse would be sent rewritten)."""
    try:
        message[name] = value
    except _PARSE_ERRORS as error:
        reason = str(error) if isinstance(error, ValueError) else f"cannot parse {value!r}"
        raise HeaderError(name, index, reason) from None
    for defect in message.get_all(name, [])[-1].defects:
        if isinstance(defect, _INVALID):
            raise HeaderError(name, index, str(defect))


def build_message(
    sender: str,
    to: Sequence[str],
    cc: Sequence[str] = (),
    bcc: Sequence[str] = (),
    subject: str = "",
    body: str = "",
    headers: Sequence[tuple[str, str]] = (),
    add_headers: Sequence[tuple[str, str]] = (),
    attachments: Sequence[Attachment] = (),
) -> bytes:
    """The message as sent, CRLF line ends. ``headers`` replace the built ones of their
    names (Date, Message-ID and Content-Type included; several of one name all stay),
    ``add_headers`` follow them; ``bcc`` appears nowhere in it. A header address that is not
    ASCII is written as UTF-8 (it cannot be encoded: the message needs SMTPUTF8 then).
    Raises :class:`HeaderError` for a header the email package cannot take as given, and
    OSError for an attachment that cannot be read."""
    values = token_values(sender, to)
    utf8 = international(*(found for _, found in getaddresses([sender, *to, *cc, *bcc])))
    message = EmailMessage(policy=POLICY.clone(utf8=True) if utf8 else POLICY)
    fields = [
        ("From", sender),
        ("To", ", ".join(to)),
        ("Cc", ", ".join(cc)),
        ("Subject", subject),
        ("Date", values["%DATE%"]),
        ("Message-ID", values["%MESSAGEID%"]),
    ]
    for name, value in fields:
        if value:
            add_header(message, name, substitute(value, values))
    message.set_content(substitute(body, values))
    for name in {name.lower() for name, _ in headers}:
        del message[name]
    for index, (name, value) in enumerate([*headers, *add_headers]):
        add_header(message, name, substitute(value, values), index)
    if attachments:
        message.make_mixed()
    placeholders = []
    for attachment in attachments:
        part, placeholder = _attachment(attachment)
        message.attach(part)
        placeholders.append((placeholder, attachment.path))
    return _fill(message.as_bytes(), placeholders)


_LINE = 57
"""Bytes of a file to a line of its base64: 76 characters, as the email package writes it
under POLICY's 78-character lines, and as :func:`base64.encodebytes` does."""

_BLOCK = _LINE * 1024
"""Bytes of a file read and encoded at a time."""


def _attachment(attachment: Attachment) -> tuple[MIMEPart, bytes]:
    """``attachment`` as a part, base64: its bytes as they are on disk, whatever its type.
    (A MIMEPart, not ``add_attachment``'s message: no MIME-Version in each part.) The part
    holds one random line in their place, returned as it is written, for :func:`_fill`."""
    name = attachment.name or attachment.path.name
    mime_type = attachment.mime_type or mimetypes.guess_type(name)[0]
    maintype, subtype = check_mime_type(mime_type or "application/octet-stream")
    part = MIMEPart(policy=POLICY)
    stand_in = secrets.token_bytes(_LINE)
    part.set_content(
        stand_in, maintype, subtype, cte="base64", disposition="attachment", filename=name
    )
    return part, base64.encodebytes(stand_in).replace(b"\n", b"\r\n")


def _fill(message: bytes, placeholders: Sequence[tuple[bytes, Path]]) -> bytes:
    """``message`` with each placeholder line replaced by its file's base64, as the email
    package would have written it, the file read and encoded a block at a time: a 15 MB
    file costs the 20 MB of the message it goes in and one block, where the email package
    holds the file, its base64 as lines, as one text and as bytes (some 85 MB at once)."""
    if not placeholders:
        return message
    view = memoryview(message)
    with io.BytesIO() as out:
        start = 0
        for placeholder, path in placeholders:
            at = message.index(placeholder, start)
            out.write(view[start:at])
            with path.open("rb") as file:
                while block := file.read(_BLOCK):
                    out.write(base64.encodebytes(block).replace(b"\n", b"\r\n"))
            start = at + len(placeholder)
        out.write(view[start:])
        return out.getvalue()
