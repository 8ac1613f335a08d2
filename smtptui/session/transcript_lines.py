"""What a transcript entry looks like as lines of text: folded bodies, secrets, columns."""

from __future__ import annotations

import unicodedata
from array import array
from collections.abc import Sequence
from datetime import datetime
from itertools import accumulate
from typing import AnyStr, overload

from smtptui.session.transcript import Entry, body_text

FOLD_AT = 3
"""Lines of a message body shown before the rest is folded into one summary line."""

MARKER_WIDTH = 4
_CHUNK = 1 << 20
"""Characters of a body split at a time when it is unfolded."""

TIMING_WIDTH = 9
"""Cells of the latency column: a gap and the longest latency, ``10.0 ms``."""

WALL_WIDTH = 13
"""Cells of the wall-clock column: ``23:01:02.123`` and a gap."""

ELAPSED_WIDTH = 11
"""Cells of the since-connect column: ``+1234.567s`` and a gap."""


def cells(text: str) -> int:
    """The terminal cells ``text`` takes: two for a wide character, none for a combining
    one (what the model measures with when the screen's own rule is not given)."""
    if text.isascii():
        return len(text)
    return sum(
        0 if unicodedata.combining(char) else 1 + (unicodedata.east_asian_width(char) in "WF")
        for char in text
    )


def format_latency(seconds: float) -> str:
    """A latency in at most 7 cells: ``0.4 ms``, ``12 ms``, ``1.2 s``, ``31 s``."""
    ms = seconds * 1000
    if ms < 10:
        return f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


def format_size(size: int) -> str:
    """A byte count for people: ``137 B``, ``56.7 KB``, ``20.0 MB``."""
    if size < 1024:
        return f"{size} B"
    value, units = size / 1024, ["KB", "MB", "GB"]
    while value >= 1024 and len(units) > 1:
        value /= 1024
        units.pop(0)
    return f"{value:.1f} {units[0]}"


def format_wall(when: datetime) -> str:
    """Local wall-clock time to the millisecond: ``23:01:02.123``."""
    local = when.astimezone()
    return f"{local:%H:%M:%S}.{local.microsecond // 1000:03d}"


def format_elapsed(seconds: float) -> str:
    """Time since the connection began: ``+0.012s``, ``+61.250s``."""
    return f"+{seconds:.3f}s"


class BodyLines(Sequence[str]):
    """Every line of an unfolded message body and, if ``dotted``, the ``.`` that ends it on
    the wire, cut from the text on demand: a million-line body costs an index of ints, not
    a million strings."""

    def __init__(self, text: str, *, dotted: bool = True) -> None:
        self._text = text
        self._dotted = dotted
        starts = array("q", [0])
        widest = current = 0  # current: the length so far of the line a chunk ends in
        for begin in range(0, len(text), _CHUNK):  # split in C, a chunk at a time
            lengths = list(map(len, text[begin : begin + _CHUNK].split("\n")))
            lengths[0] += current
            *ended, current = lengths
            if ended:
                widest = max(widest, *ended)
                steps = accumulate([length + 1 for length in ended], initial=starts[-1])
                next(steps)
                starts.extend(steps)
        self._starts = starts
        self.width = max(widest, current)
        """The longest line's length (in characters; tabs count as one)."""

    def __len__(self) -> int:
        return len(self._starts) + self._dotted

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        count = len(self._starts)
        if index < 0:
            index += len(self)
        if index == count and self._dotted:
            return "."
        if not 0 <= index < count:
            raise IndexError(index)
        start = self._starts[index]
        end = self._starts[index + 1] - 1 if index + 1 < count else len(self._text)
        return self._text[start:end].expandtabs()


def entry_lines(entry: Entry, *, expanded: bool = False, reveal: bool = False) -> Sequence[str]:
    """The display lines of ``entry``, without markers.

    A secret shows its masked form unless ``reveal``, then its decoded form. A message body
    (or a BDAT chunk) shows its first :data:`FOLD_AT` lines, a summary of the rest, and the
    ``.`` that ends it on the wire if one does (only its first few line breaks are looked
    for); ``expanded``, all of it. A typed line of a message is one line, as sent.
    """
    if not entry.body or entry.typed:
        text = entry.revealed if reveal and entry.revealed is not None else entry.shown()
        return text.expandtabs().split("\n")
    dot = ["."] if entry.dotted else []
    if expanded:
        return BodyLines(entry.text, dotted=entry.dotted)
    if entry.text_from_data:  # its text is made of the head alone, from the bytes
        data = entry.data
        cut = _line_end(data, b"\n")
        more = data.count(b"\n", cut + 1) - data.endswith(b"\n") + 1 if cut >= 0 else 0
        shown = body_text(data[: cut + 1] if more else data)
    else:  # a text given (a session read back): read in place, never copied whole
        text = entry.text
        cut = _line_end(text, "\n")
        more = text.count("\n", cut + 1) + 1 if cut >= 0 else 0
        shown = text[:cut] if more else text
    head = [line.expandtabs() for line in shown.split("\n")]
    if not more:
        return [*head, *dot]
    sent = entry.data or entry.text.encode()
    size = format_size(len(sent) - _line_end(sent, b"\n") - 1)
    return [*head, f"… {more:,} more line{'s' * (more > 1)}, {size} (folded)", *dot]


def _line_end(source: AnyStr, newline: AnyStr) -> int:
    """Where the :data:`FOLD_AT`-th ``newline`` of ``source`` is; -1 if it has fewer."""
    cut = -1
    for _ in range(FOLD_AT):
        cut = source.find(newline, cut + 1)
        if cut < 0:
            break
    return cut


def is_folded(entry: Entry, lines: Sequence[str]) -> bool:
    """Whether ``lines`` (of ``entry``) hold a fold summary line at :data:`FOLD_AT`."""
    folded = FOLD_AT + 1 + entry.dotted
    return entry.body and not isinstance(lines, BodyLines) and len(lines) == folded
