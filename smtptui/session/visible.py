"""The one rule for showing text that came from outside: no byte of it reaches a terminal raw.

A server's reply, a certificate's subject, an exception's message or a client's MAIL FROM
may hold ESC, BEL, CSI (0x9b) or OSC sequences that would clear the screen, retitle the
window or fake a line when written to a terminal. Every path that shows such text (the
TUI, ``smtptui run``, ``smtptui serve``, the swaks-text export) passes it through
:func:`visible` first; only the JSON Lines export keeps the exact bytes, encoded.
"""

from __future__ import annotations

import re

_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
"""C0 controls but tab and LF, DEL, C1 controls, and the bidirectional marks and overrides
(which reorder what the terminal shows)."""

_MULTILINE = re.compile(f"[{_UNSAFE}]")
_ONE_LINE = re.compile(f"[\t\n{_UNSAFE}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, one_line: bool = False) -> str:
    """``text`` with every control character written out (``\\x1b``, ``\\x9b``,
    ``\\u202e``); tab and LF are kept unless ``one_line``."""
    return (_ONE_LINE if one_line else _MULTILINE).sub(_escape, text)


def visible_bytes(data: bytes, *, one_line: bool = False) -> str:
    """Bytes as :func:`visible` text: UTF-8, and every byte that is not as ``\\xNN``."""
    return visible(data.decode("utf-8", "backslashreplace"), one_line=one_line)
