"""What the transcript pane shows, apart from how it is drawn: which entries are shown and
where each starts, the cursor, the search, what is unfolded or explained, secrets revealed,
long lines wrapped.

A 100,000-entry session costs a few ints per entry: each shown entry keeps only its first
screen line's number, and a bisect finds the entry of any line. Entries' lines are made when
asked for (:meth:`TranscriptModel.layout`) and kept in a small LRU cache. :attr:`version`
goes up whenever lines already laid out change what they say or where they are, so a
drawing's caches key on it; appending entries after the last does not change it.

Nothing here imports Textual or Rich: the TUI draws it, ``smtptui open`` and ``diff`` read it.
"""

from __future__ import annotations

import re
import textwrap
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

from smtptui.session.explain import explanation
from smtptui.session.transcript import Entry, EntryKind
from smtptui.session.transcript_lines import MARKER_WIDTH, BodyLines, cells, entry_lines
from smtptui.session.transcript_threads import Threads

Filter = Literal["all", "errors", "sent"]
FILTERS: tuple[Filter, ...] = ("all", "errors", "sent")
FILTER_NAMES = {"errors": "errors only", "sent": "sent only"}

EXPLAIN_INDENT = " " * (MARKER_WIDTH + 2)
"""What an explanation line starts with, in place of the marker."""

EXPLAIN_MIN_WIDTH = 40
"""Columns an explanation is wrapped at however narrow the pane."""

WRAP_MIN_WIDTH = 8
"""Cells of text a wrapped line keeps per screen line however narrow the pane."""

_LAYOUTS = 256
_HANGING = re.compile(r"\s*(?:\S+  )?")
"""Where an explanation line's wrapped text goes on: after its code (``550  ``), if any."""

Cells = Callable[[str], int]


def is_error(entry: Entry) -> bool:
    """An error entry, a 4xx/5xx reply, or anything flagged as odd."""
    if entry.kind is EntryKind.ERROR or entry.flags:
        return True
    return entry.kind is EntryKind.RECEIVED and (entry.reply is None or entry.reply.kind >= 4)


def trailer(entry: Entry, hint: str = "") -> str:
    """What follows an entry's last text line: a hint (which command a reply answers), its
    note and its flags."""
    text = f"  {hint}" if hint else ""
    if entry.note:
        text += f"  {entry.note}"
    if entry.flags:
        text += "  ⚠ " + "; ".join(entry.flags)
    return text


def compile_query(query: str) -> re.Pattern[str] | None:
    """The pattern for ``query``: literal text, case-insensitive unless it has a capital
    (smart case); None for an empty query."""
    if not query:
        return None
    flags = 0 if any(char.isupper() for char in query) else re.IGNORECASE
    return re.compile(re.escape(query), flags)


def spans(pattern: re.Pattern[str] | None, text: str) -> list[tuple[int, int]]:
    """Where ``pattern`` matches in ``text``, as (start, end) pairs."""
    if pattern is None:
        return []
    return [match.span() for match in pattern.finditer(text)]


class Layout:
    """An entry's rows: its text lines (secrets and folds applied), then, when expanded, its
    explanation; with long lines wrapped, the screen line each row starts on."""

    __slots__ = ("explain", "lines", "starts")

    def __init__(
        self, lines: Sequence[str], explain: Sequence[str], starts: array[int] | None = None
    ) -> None:
        self.lines = lines
        self.explain = explain
        self.starts = starts
        """Each row's first screen line, and the entry's height last (None: one line each)."""

    def __len__(self) -> int:
        return len(self.lines) + len(self.explain)

    @property
    def height(self) -> int:
        """The screen lines the entry takes."""
        return len(self) if self.starts is None else self.starts[-1]

    def row(self, row: int) -> str:
        """Row ``row``'s text: a text line, or an explanation line with its indent."""
        lines = self.lines
        return lines[row] if row < len(lines) else EXPLAIN_INDENT + self.explain[row - len(lines)]

    def line_of(self, row: int) -> int:
        """The screen line (from the entry's first) that row ``row`` starts on."""
        return row if self.starts is None else self.starts[row]

    def row_at(self, line: int) -> tuple[int, int]:
        """The row on screen line ``line`` (from the entry's first), and which piece of it."""
        if self.starts is None:
            return line, 0
        row = bisect_right(self.starts, line) - 1
        return row, line - self.starts[row]

    def width(self, measure: Cells) -> int:
        """The widest row, marker and indent included (trailers are the caller's)."""
        lines = self.lines
        text = lines.width if isinstance(lines, BodyLines) else max(map(measure, lines))
        explained = max(map(measure, self.explain), default=0) + len(EXPLAIN_INDENT)
        return max(MARKER_WIDTH + text, explained)


class TranscriptModel:
    """The transcript as lines: entries in (:meth:`extend`), screen lines out
    (:meth:`locate`, :meth:`layout`), with the filter, cursor, search, unfolding, reveal
    and wrapping the user chose.

    ``cells`` measures text as the screen does (the UI passes its own rule)."""

    def __init__(self, *, cells: Cells = cells) -> None:
        self._cells = cells
        self.version = 0
        """Goes up whenever lines already laid out change what they say or where they are."""
        self._source: list[Entry] = []  # every entry, shown or filtered out
        self._threads = Threads()  # pipelined groups, and which command each reply answers
        self.origin: float | None = None
        """When the connection began (monotonic), from its "Connected" entry."""
        self._filter: Filter = "all"
        self._reveal = False
        self._wrap = False
        self._text_width = 0  # the cells a line's text may take on screen, 0: not known yet
        self._expanded: set[int] = set()  # indexes in _source
        self.pattern: re.Pattern[str] | None = None
        """What the search looks for."""
        self.matches = 0
        """How many shown entries the search matches."""
        self.cursor: int | None = None
        """The position (in the shown entries) of the entry under the cursor."""
        self._layouts: OrderedDict[int, Layout] = OrderedDict()  # LRU, by index in _source
        self._shown = array("q")  # indexes in _source of the entries shown
        self._starts = array("q")  # the first screen line of each entry shown
        self.height = 0
        """Screen lines laid out."""
        self.width = 0
        """The widest screen line laid out: marker, text, note and explanation."""
        self._last_sent = -1  # the latest command, shown with the error reply it caused
        # (kept while errors only are shown: changing the filter lays every entry out anew)

    # -- entries -------------------------------------------------------------------------

    @property
    def entries(self) -> Sequence[Entry]:
        """Every entry, shown or filtered out."""
        return self._source

    @property
    def threads(self) -> Threads:
        """Pipelined groups, and which command each reply answers."""
        return self._threads

    @property
    def shown(self) -> Sequence[int]:
        """The index (in :attr:`entries`) of each entry shown, in order."""
        return self._shown

    @property
    def selected(self) -> Entry | None:
        """The entry under the cursor."""
        return None if self.cursor is None else self._source[self._shown[self.cursor]]

    def extend(self, entries: Iterable[Entry]) -> None:
        """Append ``entries`` and lay out those the filter shows."""
        start = len(self._source)
        self._source += entries
        batch = self._source[start:]
        add = self._threads.add
        for index, entry in enumerate(batch, start):
            add(index, entry)
        if self.origin is None:
            for entry in batch:
                if entry.kind is EntryKind.INFO and entry.latency:
                    self.origin = entry.time - entry.latency  # "Connected", which took that
                    self.version += 1  # earlier lines' time since connect is now known
                    break
        self._lay_out(start)

    def clear(self) -> None:
        """Forget every entry."""
        self._source.clear()
        self._expanded.clear()
        self._threads = Threads()
        self.origin = None
        self._relayout()

    # -- what is shown and how -----------------------------------------------------------

    @property
    def filter(self) -> Filter:
        """Which entries are shown: all, errors only (with the command each answers), sent."""
        return self._filter

    @filter.setter
    def filter(self, value: Filter) -> None:
        if value != self._filter:
            self._filter = value
            self._relayout()

    @property
    def reveal(self) -> bool:
        """Whether secrets (SASL responses) are shown decoded instead of masked."""
        return self._reveal

    @reveal.setter
    def reveal(self, value: bool) -> None:
        if value != self._reveal:
            self._reveal = value
            self._relayout()

    @property
    def wrap(self) -> bool:
        """Whether lines longer than :attr:`text_width` go on under themselves."""
        return self._wrap

    @wrap.setter
    def wrap(self, value: bool) -> None:
        if value != self._wrap:
            self._wrap = value
            self._relayout()

    @property
    def text_width(self) -> int:
        """The cells a line (marker, text, trailer) may take on screen: explanations are
        wrapped to it, and long lines when :attr:`wrap` is on."""
        return self._text_width

    @text_width.setter
    def text_width(self, value: int) -> None:
        if value != self._text_width:
            self._text_width = value
            if self._wrap or self._expanded:
                self._relayout()

    @property
    def room(self) -> int:
        """Cells of a wrapped row's text (after its marker) on each screen line."""
        return max(self._text_width - MARKER_WIDTH, WRAP_MIN_WIDTH)

    def toggle(self, position: int) -> None:
        """Explain shown entry ``position``, unfold its body; or fold it back."""
        index = self._shown[position]
        old = self.layout(index).height
        matched = self.matches_at(position)
        self._expanded ^= {index}
        self._layouts.pop(index, None)
        new = self.layout(index)
        self.matches += self.matches_at(position) - matched  # unfolded text may match
        delta = new.height - old
        if delta:
            starts = self._starts
            starts[position + 1 :] = array("q", [start + delta for start in starts[position + 1 :]])
            self.height += delta
        self.width = max(self.width, new.width(self._cells))
        self.version += 1

    def is_expanded(self, index: int) -> bool:
        """Whether entry ``index`` is explained or unfolded."""
        return index in self._expanded

    # -- lines ---------------------------------------------------------------------------

    def position_at(self, line: int) -> int:
        """The position of the shown entry on screen line ``line``."""
        return bisect_right(self._starts, line) - 1

    def span(self, position: int) -> tuple[int, int]:
        """The screen lines of shown entry ``position``: its first, and the one after it."""
        starts = self._starts
        end = starts[position + 1] if position + 1 < len(starts) else self.height
        return starts[position], end

    def locate(self, line: int) -> tuple[int, int, int]:
        """What is on screen line ``line``: the entry's index, its row, the row's piece."""
        position = self.position_at(line)
        index = self._shown[position]
        row, piece = self.layout(index).row_at(line - self._starts[position])
        return index, row, piece

    def layout(self, index: int) -> Layout:
        """Entry ``index``'s rows (cached)."""
        layouts = self._layouts
        layout = layouts.get(index)
        if layout is None:
            layout = layouts[index] = self._build(index, index in self._expanded)
            if len(layouts) > _LAYOUTS:
                layouts.popitem(last=False)
        else:
            layouts.move_to_end(index)
        return layout

    def _build(self, index: int, expanded: bool) -> Layout:
        entry = self._source[index]
        lines = entry_lines(entry, expanded=expanded, reveal=self._reveal)
        explain = self._explain(entry) if expanded and not entry.body else ()
        if not self._wrap:
            return Layout(lines, explain)
        measure, last = self._cells, len(lines) - 1
        end = trailer(entry, self._threads.note(index))
        widths = [measure(line) for line in lines]
        widths[last] += measure(end)
        widths += [len(EXPLAIN_INDENT) - MARKER_WIDTH + measure(line) for line in explain]
        starts = array("q", [0])
        for wide in widths:
            starts.append(starts[-1] + self._pieces(wide))
        return Layout(lines, explain, starts)

    def _pieces(self, wide: int) -> int:
        """The screen lines a row of ``wide`` cells after its marker takes when wrapped."""
        return max(1, -(-wide // self.room))

    def _explain(self, entry: Entry) -> list[str]:
        """``entry``'s explanation, wrapped to the text width (at least
        :data:`EXPLAIN_MIN_WIDTH`); a wrapped line goes on under the text after its code."""
        width = max(self._text_width - len(EXPLAIN_INDENT), EXPLAIN_MIN_WIDTH)
        wrapped: list[str] = []
        for line in explanation(entry):
            indent = " " * _HANGING.match(line).end()  # type: ignore[union-attr]
            wrapped += textwrap.wrap(
                line, width, subsequent_indent=indent, break_on_hyphens=False
            ) or [""]
        return wrapped

    def _lay_out(self, start: int) -> None:
        """Show the entries from ``_source[start]`` on that the filter lets through (an
        error reply brings the command it answers), counting their lines and width."""
        source, shown, starts = self._source, self._shown, self._starts
        height, width, last_sent = self.height, self.width, self._last_sent
        show, expanded, measure = self._filter, self._expanded, self._measure
        for index in range(start, len(source)):
            entry = source[index]
            kind = entry.kind
            if show == "errors":
                if kind is EntryKind.SENT and not entry.body:
                    last_sent = index  # only this filter asks (another lays out anew)
                if not is_error(entry):
                    continue
                previous = shown[-1] if shown else -1
                asked = self._threads.asked(index)
                asked = last_sent if asked is None else asked
                if kind is EntryKind.RECEIVED and asked > previous:
                    lines, wide = measure(asked, source[asked], False)
                    shown.append(asked)
                    starts.append(height)
                    height += lines
                    width = max(width, wide)
            elif show == "sent" and kind is not EntryKind.SENT:
                continue
            lines, wide = measure(index, entry, index in expanded)
            shown.append(index)
            starts.append(height)
            height += lines
            if wide > width:
                width = wide
        self.height, self.width, self._last_sent = height, width, last_sent

    def _measure(self, index: int, entry: Entry, expanded: bool) -> tuple[int, int]:
        """The screen lines ``entry`` takes and its width."""
        plain = not (expanded or entry.body or entry.note or entry.flags or entry.redacted)
        if plain and "\n" not in (text := entry.text) and "\t" not in text:  # a body's not made
            wide = len(text) if text.isascii() else self._cells(text)
            if not self._wrap:
                return 1, MARKER_WIDTH + wide
            hint = self._threads.note(index)
            return self._pieces(wide + (self._cells(hint) + 2 if hint else 0)), MARKER_WIDTH + wide
        layout = self.layout(index) if expanded else self._build(index, False)
        wide = layout.width(self._cells)
        if entry.note or entry.flags:
            end = self._cells(layout.lines[-1]) + self._cells(trailer(entry))
            wide = max(wide, MARKER_WIDTH + end)
        return layout.height, wide

    def _relayout(self) -> None:
        """Lay out every entry again, from scratch, keeping the cursor on its entry (or the
        nearest shown before it)."""
        selected = self._shown[self.cursor] if self.cursor is not None else None
        self._shown, self._starts = array("q"), array("q")
        self.height = self.width = 0
        self._last_sent = -1
        self._layouts.clear()
        self._lay_out(0)
        self.cursor = None
        if selected is not None and self._shown:
            self.cursor = max(bisect_right(self._shown, selected) - 1, 0)
        self._count_matches()
        self.version += 1

    # -- the cursor ----------------------------------------------------------------------

    def move(self, step: int, top: int, bottom: int) -> int | None:
        """Move the cursor ``step`` entries (with none, to the first entry on screen lines
        ``top`` to ``bottom``, or the last going up); its new position, if any is shown."""
        count = len(self._shown)
        if not count:
            return None
        if self.cursor is None:
            self.cursor = max(self.position_at(top if step > 0 else bottom), 0)
        else:
            self.cursor = min(max(self.cursor + step, 0), count - 1)
        return self.cursor

    def seek(self, step: int, wanted: Callable[[Entry, int], bool]) -> int | None:
        """Move the cursor to the next (or previous) shown entry ``wanted`` accepts, wrapping
        around; the screen line (from the entry's first) to show, None if there is none."""
        count = len(self._shown)
        here = self.cursor if self.cursor is not None else (-1 if step > 0 else count)
        for offset in range(1, count + 1):
            position = (here + step * offset) % count
            index = self._shown[position]
            if wanted(self._source[index], index):
                self.cursor = position
                row = self.match_row(index) if self.pattern is not None else None
                return self.layout(index).line_of(row or 0)
        return None

    def seek_error(self, step: int) -> int | None:
        """:meth:`seek` the next (or previous) error."""
        return self.seek(step, lambda entry, _: is_error(entry))

    def seek_match(self, step: int) -> int | None:
        """:meth:`seek` the next (or previous) entry the search matches."""
        if self.pattern is None:
            return None
        return self.seek(step, lambda _, index: self.match_row(index) is not None)

    # -- searching -----------------------------------------------------------------------

    def search(self, query: str) -> None:
        """Look for ``query`` (see :func:`compile_query`), counting the entries it matches."""
        self.pattern = compile_query(query)
        self._count_matches()
        self.version += 1  # matches are marked in the lines

    def matches_at(self, position: int | None) -> bool:
        """Whether the search matches shown entry ``position``."""
        if position is None or self.pattern is None:
            return False
        return self.match_row(self._shown[position]) is not None

    def match_row(self, index: int) -> int | None:
        """The first row of entry ``index`` that the search matches, if any."""
        pattern = self.pattern
        assert pattern is not None
        entry = self._source[index]
        if not entry.body:
            text = entry.revealed if self._reveal and entry.revealed is not None else entry.shown()
            if not pattern.search(text) and index not in self._expanded:
                return None
        layout = self.layout(index)
        lines = layout.lines
        if isinstance(lines, BodyLines):
            text = entry.text
            found = pattern.search(text)
            return None if found is None else text.count("\n", 0, found.start())
        for row, line in enumerate([*lines, *layout.explain]):
            if pattern.search(line):
                return row
        return None

    def _count_matches(self) -> None:
        if self.pattern is None:
            self.matches = 0
            return
        self.matches = sum(self.match_row(index) is not None for index in self._shown)
