"""SMTP replies (RFC 5321 4.2) and an incremental parser for them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from smtptui.protocol.errors import ProtocolError

MAX_LINE_LENGTH = 8192
"""Longest reply line accepted, in bytes (smtplib's limit; RFC 5321 asks for 512)."""

MAX_REPLY_LINES = 1000
"""Most lines one multi-line reply may have before it is treated as runaway."""

_ENHANCED = re.compile(rb"([245])\.(\d{1,3})\.(\d{1,3})(?=[ \t]|$)")


@dataclass(frozen=True, slots=True)
class EnhancedCode:
    """An enhanced mail system status code (RFC 3463), such as ``5.1.1``."""

    klass: int
    subject: int
    detail: int

    def __str__(self) -> str:
        return f"{self.klass}.{self.subject}.{self.detail}"


class Reply(NamedTuple):
    """One complete reply: a code and its lines of text, with the bytes it came from.

    ``lines`` hold each line's text after ``NNN-`` or ``NNN `` with the line ending removed
    and nothing else touched; ``raw`` holds every byte of the reply as received. (A named
    tuple rather than a frozen dataclass: one is made per reply, and it is 5x cheaper.)
    """

    code: int
    lines: tuple[bytes, ...]
    raw: bytes
    bare_lf: bool = False

    @property
    def enhanced(self) -> EnhancedCode | None:
        """The enhanced status code the first line starts with, if any (RFC 2034)."""
        return parse_enhanced(self.code, self.lines[0]) if self.lines else None

    @property
    def message(self) -> bytes:
        """The text as smtplib returns it: lines stripped and joined with LF."""
        if len(self.lines) == 1:
            return self.lines[0].strip(b" \t")
        return b"\n".join(line.strip(b" \t") for line in self.lines)

    @property
    def text(self) -> str:
        """The text for display; bytes that are not UTF-8 appear as ``\\xNN``."""
        return self.message.decode("utf-8", "backslashreplace")

    @property
    def utf8(self) -> bool:
        """Whether every byte of the reply is valid UTF-8."""
        try:
            self.raw.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True

    @property
    def kind(self) -> int:
        """The reply's class: 2 (done), 3 (go on), 4 (try later) or 5 (failed)."""
        return self.code // 100

    @property
    def ok(self) -> bool:
        return 200 <= self.code < 400

    def as_tuple(self) -> tuple[int, bytes]:
        """``(code, message)``, the shape smtplib's methods return."""
        lines = self.lines
        if len(lines) == 1:  # the usual case, on every round trip: inlined from message
            return self.code, lines[0].strip(b" \t")
        return self.code, self.message


_CODES = {str(code).encode("ascii"): code for code in range(100, 600)}
"""Every reply code's three bytes, to its number: the check and the conversion in one."""

_new_reply = tuple.__new__
"""Makes a Reply without the Python-level ``__new__`` of a named tuple: the parser's fast path."""


def parse_enhanced(code: int, text: bytes) -> EnhancedCode | None:
    """The enhanced status code at the start of ``text``, if its class matches ``code``."""
    match = _ENHANCED.match(text.lstrip(b" "))
    if match is None or int(match[1]) != code // 100:
        return None
    return EnhancedCode(int(match[1]), int(match[2]), int(match[3]))


class ReplyParser:
    """Turns received bytes into :class:`Reply` objects, however the bytes are split.

    >>> parser = ReplyParser()
    >>> parser.feed(b"250-hello\\r\\n250 OK\\r")
    []
    >>> parser.feed(b"\\n")[0].lines
    (b'hello', b'OK')
    """

    def __init__(
        self, *, max_line_length: int = MAX_LINE_LENGTH, max_lines: int = MAX_REPLY_LINES
    ) -> None:
        self.max_line_length = max_line_length
        self.max_lines = max_lines
        self._buffer = bytearray()
        self._lines: list[bytes] = []
        self._raw: list[bytes] = []
        self._code = 0
        self._bare_lf = False

    @property
    def pending(self) -> bytes:
        """Bytes received but not yet part of a complete reply."""
        return b"".join(self._raw) + bytes(self._buffer)

    @property
    def midway(self) -> bool:
        """Whether part of a reply has arrived: the next reply began before the next feed."""
        return bool(self._raw or self._buffer)

    def clear(self) -> bytes:
        """Forget everything buffered (as after STARTTLS) and return what was dropped."""
        dropped = self.pending
        self._buffer.clear()
        self._reset()
        return dropped

    def feed(self, data: bytes) -> list[Reply]:
        """Add received bytes; return the replies they complete, in order.

        A :class:`ProtocolError` carries the replies completed before the bad bytes
        (``replies``) and every byte not part of one (``rest``); the parser is then empty
        again, and the caller decides whether the connection is still worth reading.
        """
        if (  # the usual case, one whole one-line reply, without the loop
            data[3:4] == b" "
            and data.find(b"\n") == len(data) - 1
            and data[-2:-1] == b"\r"
            and (code := _CODES.get(data[:3]))
            and len(data) <= self.max_line_length
            and not self._buffer
            and not self._lines
        ):
            return [_new_reply(Reply, (code, (data[4:-2],), data, False))]
        replies: list[Reply] = []
        try:
            self._feed(data, replies)
        except ProtocolError as error:
            error.replies, error.rest = tuple(replies), self.clear()
            raise
        return replies

    def _feed(self, data: bytes, replies: list[Reply]) -> None:
        buffer = self._buffer
        buffer += data
        start = 0
        try:
            while (end := buffer.find(b"\n", start)) >= 0:
                reply = self._line(bytes(buffer[start : end + 1]))
                start = end + 1
                if reply is not None:
                    replies.append(reply)
        finally:
            del buffer[:start]  # what is left, on an error, starts with the bad line
        if len(buffer) > self.max_line_length:
            raise ProtocolError(
                f"reply line longer than {self.max_line_length} bytes", bytes(buffer[:200])
            )

    def eof(self) -> None:
        """Note that the connection closed; raise if it closed in the middle of a reply."""
        pending = self.pending
        if pending:
            self.clear()
            raise ProtocolError("connection closed in the middle of a reply", pending)

    def _line(self, line: bytes) -> Reply | None:
        if len(line) > self.max_line_length:
            raise ProtocolError(f"reply line longer than {self.max_line_length} bytes", line)
        if line.endswith(b"\r\n"):
            content = line[:-2]
        else:
            content = line[:-1]
            self._bare_lf = True
        code = _CODES.get(content[:3])
        separator = content[3:4]
        if code is None or separator not in (b"-", b" ", b""):
            raise ProtocolError("not an SMTP reply line (no 3-digit code)", line)
        if self._lines and code != self._code:
            raise ProtocolError(
                f"multi-line reply changes its code from {self._code} to {code}",
                b"".join(self._raw) + line,
            )
        if separator == b"-" and len(self._lines) + 1 >= self.max_lines:
            # Raised before the line joins the reply: it is still at the buffer's start, and
            # the error's ``rest`` must hold it once.
            raise ProtocolError(
                f"multi-line reply longer than {self.max_lines} lines",
                b"".join([*self._raw, line][:5]),
            )
        self._code = code
        self._lines.append(content[4:])
        self._raw.append(line)
        if separator == b"-":
            return None
        lines = tuple(self._lines)
        reply = Reply(code, lines, b"".join(self._raw), self._bare_lf)
        self._reset()
        return reply

    def _reset(self) -> None:
        self._lines = []
        self._raw = []
        self._code = 0
        self._bare_lf = False
