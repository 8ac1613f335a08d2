"""Message data with smtplib's exact semantics: encoding, dot-stuffing, terminator, BDAT chunks.

Everything here produces the same bytes as the standard library's ``smtplib`` for the same
inputs; the streaming variants produce them in pieces, without a second copy of the message.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smtptui.protocol.commands import international, raw_line
from smtptui.protocol.errors import ProtocolError

# The email package is imported by whoever made the message these functions are given; the
# functions on bytes (all that the app's first frame uses) do without it.
if TYPE_CHECKING:
    import email.message

CRLF = b"\r\n"
TERMINATOR = b".\r\n"
"""The line that ends DATA, once the data itself ends with CRLF."""

DEFAULT_CHUNK_SIZE = 256 * 1024

_DOT = ord(".")
_LF = ord("\n")


def fix_eols(text: str) -> str:
    """Turn lone CR and lone LF into CRLF, leaving CRLF alone (smtplib's ``_fix_eols``)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def encode_message(msg: str | bytes) -> bytes:
    """The bytes smtplib sends for ``msg``: a str gets CRLF line ends and must be ASCII.

    Raises :class:`UnicodeEncodeError` for a str with non-ASCII characters, as smtplib does.
    """
    if isinstance(msg, str):
        return fix_eols(msg).encode("ascii")
    return msg


def _iter_stuffed(data: bytes, chunk_size: int) -> Iterator[bytes]:
    """``data`` with each line-leading '.' doubled, in pieces of about ``chunk_size`` bytes.

    A line is ended by LF alone, as in smtplib's ``_quote_periods``; a '.' that opens both a
    line and a piece gets its double as a piece of its own.
    """
    view = memoryview(data)
    for start in range(0, len(view), chunk_size):
        if view[start] == _DOT and (start == 0 or view[start - 1] == _LF):
            yield b"."
        yield view[start : start + chunk_size].tobytes().replace(b"\n.", b"\n..")


def dot_stuff(data: bytes) -> bytes:
    """Double each '.' at the start of a line, a line being ended by LF (smtplib's rule)."""
    return b"".join(_iter_stuffed(data, DEFAULT_CHUNK_SIZE))


def message_line(text: str) -> bytes:
    """``text`` as one line of message data typed after 354, before stuffing: checked as a
    typed command line is, as the "message line", UTF-8, CRLF added."""
    return raw_line(text, "message line")


def _terminator(data: bytes) -> bytes:
    """What follows the stuffed data: a CRLF if it lacks one, then ``.<CRLF>``."""
    return TERMINATOR if data.endswith(CRLF) else CRLF + TERMINATOR


def _check_chunk_size(chunk_size: int) -> None:
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")


def iter_data_payload(data: bytes, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
    """The bytes of :func:`data_payload`, in pieces of about ``chunk_size`` bytes.

    Peak extra memory is about two pieces, however large the message.
    """
    _check_chunk_size(chunk_size)
    yield from _iter_stuffed(data, chunk_size)
    yield _terminator(data)


def data_payload_size(data: bytes) -> int:
    """How many bytes :func:`data_payload` makes of ``data``, without making them."""
    return len(data) + data.count(b"\n.") + data.startswith(b".") + len(_terminator(data))


def data_payload(data: bytes) -> bytes:
    """Exactly the bytes ``smtplib.SMTP.data`` writes after the 354 reply."""
    return b"".join(iter_data_payload(data))


def unstuff(payload: bytes) -> bytes:
    """The data a server recovers from a DATA payload: terminator removed, stuffing undone.

    The inverse of :func:`data_payload` up to the CRLF it adds; raises
    :class:`ProtocolError` if ``payload`` does not end with ``<CRLF>.<CRLF>``.
    """
    if payload != TERMINATOR and not payload.endswith(CRLF + TERMINATOR):
        raise ProtocolError("DATA payload does not end with <CRLF>.<CRLF>", payload[-64:])
    body = payload[: -len(TERMINATOR)].replace(b"\n.", b"\n")
    return body[1:] if body.startswith(b".") else body


def bdat_chunk_size(chunking: bool | int) -> int | None:
    """The BDAT chunk size ``chunking`` asks for: None (no BDAT: DATA) for False, the
    default for True, else the int itself, which must be at least 1."""
    if chunking is False:
        return None
    if chunking is True:
        return DEFAULT_CHUNK_SIZE
    _check_chunk_size(chunking)
    return chunking


def iter_bdat_chunks(data: bytes, chunk_size: int) -> Iterator[tuple[memoryview | bytes, bool]]:
    """``(chunk, is_last)`` pairs for BDAT (RFC 3030): no stuffing, no terminator.

    An empty message is one empty last chunk (``BDAT 0 LAST``).
    """
    _check_chunk_size(chunk_size)
    view = memoryview(data)
    if not view:
        yield b"", True
        return
    for start in range(0, len(view), chunk_size):
        end = start + chunk_size
        yield view[start:end], end >= len(view)


@dataclass(frozen=True, slots=True)
class PreparedMessage:
    """An envelope and message bytes, as ``smtplib.SMTP.send_message`` would send them.

    ``international`` means an address is not ASCII: the server must offer SMTPUTF8
    (``mail_options`` already asks for it and for BODY=8BITMIME).
    """

    sender: str
    recipients: list[str]
    data: bytes
    mail_options: list[str]
    international: bool


def _resent_prefix(msg: email.message.Message) -> str:
    """``"Resent-"`` if the message has one Resent- block, ``""`` if none; else ValueError."""
    resent = msg.get_all("Resent-Date")
    if resent is None:
        return ""
    if len(resent) == 1:
        return "Resent-"
    raise ValueError("message has more than one 'Resent-' header block")


def _header_sender(msg: email.message.Message, prefix: str) -> str:
    """The address in Sender, or else From (RFC 5322 3.6.2), as smtplib picks it."""
    from email.utils import getaddresses

    field = msg[prefix + "Sender"] if prefix + "Sender" in msg else msg[prefix + "From"]
    return getaddresses([field])[0][1]


def _header_recipients(msg: email.message.Message, prefix: str) -> list[str]:
    """The addresses in To, Bcc and Cc, in smtplib's order."""
    from email.utils import getaddresses

    fields = [msg[prefix + name] for name in ("To", "Bcc", "Cc")]
    present = [field for field in fields if field is not None]
    return [address for _, address in getaddresses(present)]


def header_envelope(msg: email.message.Message) -> tuple[str, list[str]]:
    """The sender and recipients ``smtplib.SMTP.send_message`` takes from ``msg``'s headers
    (those of its one Resent- block if it has one); ValueError for more than one block."""
    prefix = _resent_prefix(msg)
    return _header_sender(msg, prefix), _header_recipients(msg, prefix)


def _flatten(msg: email.message.Message, international: bool) -> bytes:
    """The message without Bcc and Resent-Bcc, generated as smtplib generates it."""
    from email.generator import BytesGenerator

    msg_copy = copy.copy(msg)
    del msg_copy["Bcc"]
    del msg_copy["Resent-Bcc"]
    # Like smtplib, pass no policy unless international: the generator then mangles "From "
    # lines whatever the message's policy says.
    policy = msg.policy.clone(utf8=True) if international else None
    with io.BytesIO() as buffer:
        BytesGenerator(buffer, policy=policy).flatten(msg_copy, linesep="\r\n")
        return buffer.getvalue()


def prepare_message(
    msg: email.message.Message,
    from_addr: str | None = None,
    to_addrs: str | Sequence[str] | None = None,
    mail_options: Sequence[str] = (),
) -> PreparedMessage:
    """Envelope and bytes for ``msg``, following ``smtplib.SMTP.send_message`` exactly.

    Raises :class:`ValueError` if the message has more than one Resent- block. Checking that
    the server offers SMTPUTF8 when ``international`` is the caller's job.
    """
    prefix = _resent_prefix(msg)
    if from_addr is None:
        from_addr = _header_sender(msg, prefix)
    if to_addrs is None:
        recipients = _header_recipients(msg, prefix)
    elif isinstance(to_addrs, str):
        recipients = [to_addrs]
    else:
        recipients = list(to_addrs)
    needs_utf8 = international(from_addr, *recipients)
    options = [*mail_options, "SMTPUTF8", "BODY=8BITMIME"] if needs_utf8 else [*mail_options]
    return PreparedMessage(
        sender=from_addr,
        recipients=recipients,
        data=_flatten(msg, needs_utf8),
        mail_options=options,
        international=needs_utf8,
    )
