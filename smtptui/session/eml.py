"""Files the Compose pane takes: a path as typed, and a message file (.eml) read back.

A simple text message goes back into Compose's fields, to be edited and built again; any
other (MIME parts, another type, anything the fields cannot hold as it is) is kept whole and
sent as its bytes, as ``run --data`` sends a file, so a captured message replays exactly.
"""

from __future__ import annotations

import email.errors
import os
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.policy import compat32
from pathlib import Path

from smtptui.protocol.data import header_envelope
from smtptui.session.message import POLICY
from smtptui.session.visible import visible

_REBUILT = frozenset(
    {"date", "message-id", "mime-version", "content-type", "content-transfer-encoding"}
)
"""Headers a built message makes afresh: not carried into the Headers field."""

_FIELDS = ("From", "To", "Cc", "Bcc", "Subject")
"""The headers that have a field of their own."""


@dataclass(frozen=True, slots=True)
class Fields:
    """A simple message as Compose's fields: ``headers`` are the ones without a field."""

    sender: str
    to: str
    cc: str
    bcc: str
    subject: str
    body: str
    headers: tuple[tuple[str, str], ...]


def find_file(typed: str) -> Path:
    """The file ``typed`` names (``~`` expanded, relative to the working directory), ready
    to read; ValueError saying what is wrong in words."""
    if not typed.strip():
        raise ValueError("type the path of a file")
    path = Path(typed).expanduser().absolute()
    if not path.exists():
        raise ValueError(f"{path}: no such file")
    if path.is_dir():
        raise ValueError(f"{path} is a directory: name a file in it")
    if not os.access(path, os.R_OK):
        raise ValueError(f"{path}: not readable (permission denied)")
    return path


def read_message(typed: str) -> tuple[Path, bytes]:
    """The message file ``typed`` names and its bytes; ValueError in words if it cannot be
    read or does not start with header lines."""
    path = find_file(typed)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"{path}: {error.strerror or error}") from None
    if not headers(data).keys():
        raise ValueError(
            f"{path.name} is not a message: it does not start with 'Name: value' lines"
        )
    return path, data


def headers(data: bytes) -> Message:
    """The headers of message ``data`` as they are, unparsed (its body too)."""
    return BytesHeaderParser(policy=compat32).parsebytes(data)


def envelope(data: bytes) -> tuple[str, list[str]]:
    """The sender and recipients ``smtplib.send_message`` would take from message ``data``'s
    headers; ValueError if they are ambiguous (two Resent- blocks)."""
    return header_envelope(headers(data))


def simple_fields(data: bytes) -> Fields | None:
    """Message ``data`` as Compose's fields if it is one plain text part whose headers and
    body the fields hold as they are; None if it must be sent whole."""
    try:
        message = BytesParser(policy=POLICY).parsebytes(data)
        if message.is_multipart() or message.get_content_type() != "text/plain":
            return None
        body = message.get_content().replace("\r\n", "\n")
        parsed = message.items()
    except (LookupError, ValueError, IndexError, email.errors.MessageError):  # a bad charset…
        return None
    if message.defects or any(value.defects for _, value in parsed):
        return None
    pairs = [(name, str(value)) for name, value in parsed]
    if any(visible(text) != text for text in (body, *(value for _, value in pairs))):
        return None  # a control character (or a lone CR) the fields would not keep
    fields = [name.lower() for name in _FIELDS]
    named = [name.lower() for name, _ in pairs]
    if any(named.count(name) > 1 for name in fields):
        return None
    value = {name.lower(): value for name, value in pairs}
    return Fields(
        *(value.get(name, "") for name in fields),
        body=body,
        headers=tuple(pair for pair in pairs if pair[0].lower() not in _REBUILT.union(fields)),
    )
