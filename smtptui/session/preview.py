"""What DATA will carry, line by line: the message encoded and dot-stuffed as the engine
writes it after the 354, the terminator included, each line with its kind and its ending,
every byte :func:`~smtptui.session.visible.visible`. The Compose pane's preview shows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from smtptui.protocol.data import TERMINATOR, data_payload, encode_message
from smtptui.session.visible import visible_bytes

LONGEST = 998
"""RFC 5322's limit on a line, without its CRLF."""

_BOUNDARY = re.compile(rb'boundary\s*=\s*"?([^";\r\n]+)"?', re.IGNORECASE)


class LineKind(Enum):
    HEADER = "header"  # a header line, or one folded under it, of the message or a part
    BLANK = "blank"  # the empty line that ends a header block
    BOUNDARY = "boundary"  # a MIME boundary (--boundary, or --boundary-- closing)
    BODY = "body"
    TERMINATOR = "terminator"  # the line holding only a dot that ends DATA
    ELIDED = "elided"  # stands for the lines not shown


@dataclass(frozen=True, slots=True)
class PreviewLine:
    """One line as sent: ``text`` visible without its ending; ``ending`` is ``"\\r\\n"``,
    a bare ``"\\n"``, or ``""`` (ELIDED); ``stuffed`` when its first dot was added."""

    kind: LineKind
    text: str
    ending: str
    stuffed: bool = False


@dataclass(frozen=True, slots=True)
class Preview:
    """The lines (some elided when there are many) and what the whole needs: ``size`` and
    ``count`` are the payload's bytes and lines, terminator included."""

    lines: tuple[PreviewLine, ...]
    size: int
    count: int
    longest: int
    eight_bit: bool
    smtputf8: bool


def preview(
    message: str | bytes, *, international: bool = False, head: int = 2000, tail: int = 20
) -> Preview:
    """``message`` as DATA carries it (a str must be ASCII, as for :func:`encode_message`).
    ``international``: the envelope needs SMTPUTF8 anyway. Past ``head + tail`` lines, the
    middle ones are one ELIDED line."""
    data = encode_message(message)
    payload = data_payload(data)
    raw = _split(payload)
    count = len(raw)
    headers_end = data.find(b"\r\n\r\n")
    top = data if headers_end < 0 else data[:headers_end]
    kinds = list(_kinds(raw, set(_BOUNDARY.findall(data))))
    shown = range(count) if count <= head + tail else [*range(head), *range(count - tail, count)]
    lines = []
    for number in shown:
        if number == count - tail and count > head + tail:
            hidden = raw[head : count - tail]
            size = sum(map(len, hidden))
            text = f"… {len(hidden):,} lines ({size:,} bytes) not shown …"
            lines.append(PreviewLine(LineKind.ELIDED, text, ""))
        line = raw[number]
        ending = "\r\n" if line.endswith(b"\r\n") else "\n" if line.endswith(b"\n") else ""
        body = line[: len(line) - len(ending)]
        stuffed = kinds[number] is not LineKind.TERMINATOR and body.startswith(b".")
        text = visible_bytes(body, one_line=True)
        lines.append(PreviewLine(kinds[number], text, ending, stuffed))
    return Preview(
        tuple(lines),
        size=len(payload),
        count=count,
        longest=max(len(line.rstrip(b"\r\n")) for line in raw),
        eight_bit=not data.isascii(),
        smtputf8=international or not top.isascii(),
    )


def _split(payload: bytes) -> list[bytes]:
    """The payload's lines, each with its LF (a line ends at LF, as for stuffing; the
    payload always ends with one)."""
    return [line + b"\n" for line in payload.split(b"\n")[:-1]]


def _kinds(lines: list[bytes], boundaries: set[bytes]) -> Iterator[LineKind]:
    """Each line's kind: header blocks open the message and follow each boundary."""
    opening = {b"--" + boundary for boundary in boundaries}
    closing = {mark + b"--" for mark in opening}
    in_headers = True
    last = len(lines) - 1
    for number, line in enumerate(lines):
        bare = line.rstrip(b"\r\n")
        mark = bare.rstrip(b" \t")  # a boundary line may have white space after it
        if number == last and line == TERMINATOR:
            yield LineKind.TERMINATOR
        elif mark in opening or mark in closing:
            in_headers = mark in opening  # a part's headers follow; after the last, none
            yield LineKind.BOUNDARY
        elif in_headers and not bare:
            in_headers = False
            yield LineKind.BLANK
        else:
            yield LineKind.HEADER if in_headers else LineKind.BODY
