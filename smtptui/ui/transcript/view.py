"""The transcript pane: the session's entries as swaks-style lines, drawn only when visible.

Entries arrive in :meth:`TranscriptView.add` (cheap, any number per second) and are laid out
in batches a few dozen times a second. Each shown entry keeps only its first display line's
number (a bisect finds the entry of any line), so a 100,000-entry session costs a few ints
per entry. Rendered lines live in an LRU cache, uncropped; anything that changes what lines
say (a filter, a search, revealing secrets, a column) clears it. Colours come from the theme
through the component classes and the ``$smtp-…`` variables, so the app showing it must be a
:class:`~smtptui.ui.themes.ThemedApp`.
"""

from __future__ import annotations

import itertools
import re
import textwrap
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Literal

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import on
from textual.app import ComposeResult
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.events import Click
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from smtptui.engine.tls import TlsInfo
from smtptui.session.explain import explanation
from smtptui.session.export import swaks_lines
from smtptui.session.keymap import Scope
from smtptui.session.transcript import Entry, EntryKind
from smtptui.ui.keys import bindings, hint
from smtptui.ui.transcript.lines import (
    ELAPSED_WIDTH,
    FOLD_AT,
    MARKER_WIDTH,
    TIMING_WIDTH,
    WALL_WIDTH,
    BodyLines,
    entry_lines,
    format_elapsed,
    format_latency,
    format_wall,
    is_folded,
)
from smtptui.ui.transcript.search import SearchBar, compile_query, spans
from smtptui.ui.transcript.threads import Threads

Filter = Literal["all", "errors", "sent"]
FILTERS: tuple[Filter, ...] = ("all", "errors", "sent")
_FILTER_NAMES = {"errors": "errors only", "sent": "sent only"}

COLUMNS: tuple[tuple[bool, bool, bool], ...] = (
    (True, False, False),
    (True, False, True),
    (True, True, False),
    (False, False, False),
)
"""What ``t`` cycles through: (latency, wall clock, since connect)."""

KEYS_HINT = ("explain", "search", "help")
"""The actions (``session.keymap`` ids) whose keys show under the transcript while it has
focus: few enough for its border at 80 columns (F1 lists the rest; the footer keeps the
steps)."""

FLUSH_DELAY = 1 / 30
"""Seconds between an entry's arrival and its batch being laid out."""

BATCH = 5000
"""Entries laid out at a time when many arrive at once (a few milliseconds' work)."""

_STRIP_CACHE = 4096
_LINES_CACHE = 256
_EXPLAIN_INDENT = " " * (MARKER_WIDTH + 2)
_HANGING = re.compile(r"\s*(?:\S+  )?")
"""Where an explanation line's wrapped text goes on: after its code (``550  ``), if any."""


def marker(kind: EntryKind, tls: bool) -> str:
    """The swaks marker of entries of ``kind`` (export owns the table)."""
    return _MARKERS[kind, tls]


_MARKERS = {
    (kind, tls): swaks_lines(Entry(kind, 0.0, Entry.now(kind, "").wall, "", tls=tls))[0]
    for kind in EntryKind
    for tls in (False, True)
}


def is_error(entry: Entry) -> bool:
    """An error entry, a 4xx/5xx reply, or anything flagged as odd."""
    if entry.kind is EntryKind.ERROR or entry.flags:
        return True
    return entry.kind is EntryKind.RECEIVED and (entry.reply is None or entry.reply.kind >= 4)


def _width(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


class _Layout:
    """An entry's rows: its text lines (secrets and folds applied), then, when expanded,
    its explanation."""

    __slots__ = ("explain", "lines")

    def __init__(self, lines: Sequence[str], explain: Sequence[str]) -> None:
        self.lines = lines
        self.explain = explain

    def __len__(self) -> int:
        return len(self.lines) + len(self.explain)

    @property
    def width(self) -> int:
        lines = self.lines
        text = lines.width if isinstance(lines, BodyLines) else max(map(_width, lines))
        explained = max(map(_width, self.explain), default=0) + len(_EXPLAIN_INDENT)
        return max(MARKER_WIDTH + text, explained)


class TranscriptView(ScrollView, can_focus=True):
    """The live transcript: one swaks-style line per line of each entry, replies coloured by
    class, latencies right-aligned. Follows the end unless the user has scrolled up.

    A cursor picks an entry (↑/↓); Enter explains it, unfolds a body or opens a TLS
    certificate; ``/`` searches, ``f`` filters, ``e`` jumps to errors, ``r`` reveals
    secrets on screen, ``c`` copies.
    """

    ALLOW_SELECT = False

    BINDINGS = bindings(Scope.TRANSCRIPT)

    COMPONENT_CLASSES = {
        "transcript--sent",
        "transcript--body",
        "transcript--tls",
        "transcript--code-2",
        "transcript--code-3",
        "transcript--code-4",
        "transcript--code-5",
        "transcript--info",
        "transcript--error",
        "transcript--note",
        "transcript--flag",
        "transcript--explain",
        "transcript--timing",
        "transcript--cursor",
        "transcript--match",
    }

    DEFAULT_CSS = """
    TranscriptView {
        background: $surface;
        color: $foreground;
        padding: 0 1;
        &:focus {
            background-tint: $foreground 5%;
        }
    }
    TranscriptView > .transcript--sent { color: $smtp-sent; }
    TranscriptView > .transcript--body { color: $foreground; }
    TranscriptView > .transcript--tls { color: $smtp-tls; }
    TranscriptView > .transcript--code-2 { color: $smtp-reply-2xx; }
    TranscriptView > .transcript--code-3 { color: $smtp-reply-3xx; }
    TranscriptView > .transcript--code-4 {
        color: $smtp-reply-4xx;
        text-style: $smtp-reply-4xx-style;
    }
    TranscriptView > .transcript--code-5 {
        color: $smtp-reply-5xx;
        text-style: $smtp-reply-5xx-style;
    }
    TranscriptView > .transcript--info { color: $smtp-info; }
    TranscriptView > .transcript--error { color: $smtp-error; text-style: $smtp-error-style; }
    TranscriptView > .transcript--note { color: $smtp-note; text-style: italic; }
    TranscriptView > .transcript--flag { color: $smtp-flag; text-style: bold; }
    TranscriptView > .transcript--explain { color: $foreground 80%; }
    TranscriptView > .transcript--timing { color: $smtp-info; }
    TranscriptView > .transcript--cursor { background: $smtp-cursor 25%; }
    TranscriptView > .transcript--match { background: $smtp-match 60%; color: $foreground; }
    """

    show_timing: reactive[bool] = reactive(True)
    """Whether replies show their latency at the right edge."""

    show_wall: reactive[bool] = reactive(False, init=False)
    """Whether each entry starts with the wall-clock time it happened."""

    show_elapsed: reactive[bool] = reactive(False, init=False)
    """Whether each entry starts with the time since its connection began."""

    reveal: reactive[bool] = reactive(False, init=False)
    """Whether secrets (SASL responses) are shown decoded instead of masked."""

    filter: reactive[Filter] = reactive[Filter]("all", init=False)
    """Which entries are shown: all, errors only (with the command each answers), sent."""

    heading: reactive[str] = reactive("", init=False)
    """What the app says about the transcript shown (which connection), in the title."""

    advice: reactive[str] = reactive("", init=False)
    """What the app suggests doing next, under the transcript unless it has focus (then
    its keys are there)."""

    class CertificateRequested(Message):
        """The user opened a TLS handshake entry."""

        def __init__(self, info: TlsInfo) -> None:
            super().__init__()
            self.info = info

    class Browse(Message):
        """The user asked for the previous (-1) or next (1) connection's transcript."""

        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    class SearchRequested(Message):
        """The user pressed ``/``."""

    def __init__(
        self,
        *,
        show_timing: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.set_reactive(TranscriptView.show_timing, show_timing)
        self._source: list[Entry] = []  # every entry, shown or filtered out
        self._shown = array("q")  # indexes in _source of the entries shown
        self._starts = array("q")  # the first display line of each entry shown
        self._pending: list[Entry] = []
        self._expanded: set[int] = set()  # indexes in _source
        self._last_sent = -1  # the latest command, shown with the error reply it caused
        self._threads = Threads()  # pipelined groups, and which command each reply answers
        self._origin: float | None = None  # when the connection began (monotonic)
        self._height = 0
        self._width = 0  # the widest line, marker, note and explanation included
        self._cursor: int | None = None  # an index in _shown
        self._pattern: re.Pattern[str] | None = None
        self._matches = 0
        self._layouts: LRUCache[int, _Layout] = LRUCache(_LINES_CACHE)
        self._strips: LRUCache[int, tuple[Strip, Strip | None]] = LRUCache(_STRIP_CACHE)
        self._styles: dict[str, Style] = {}
        self._marks: Mapping[int, str] = {}

    # -- content ---------------------------------------------------------------------

    @property
    def line_count(self) -> int:
        """Display lines laid out so far (entries still pending are not counted)."""
        return self._height

    @property
    def entries(self) -> Sequence[Entry]:
        """Every entry laid out, shown or filtered out."""
        return self._source

    @property
    def selected(self) -> Entry | None:
        """The entry under the cursor."""
        return None if self._cursor is None else self._source[self._shown[self._cursor]]

    def add(self, entry: Entry) -> None:
        """Queue ``entry``; it appears with the next batch, within :data:`FLUSH_DELAY`."""
        self._pending.append(entry)
        if len(self._pending) == 1 and self.is_mounted:
            self.set_timer(FLUSH_DELAY, self._flush_some)

    def flush(self) -> None:
        """Lay out every queued entry now."""
        self._flush(len(self._pending))

    def _flush_some(self) -> None:
        """Lay out a batch of at most :data:`BATCH` entries, and the rest a moment later, so
        that a flood of entries never holds up a key press for long."""
        self._flush(BATCH)
        if self._pending:
            self.set_timer(1 / 1000, self._flush_some)

    def _flush(self, count: int) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending[:count], self._pending[count:]
        start = len(self._source)
        self._source += batch
        for index, entry in enumerate(batch, start):
            self._threads.add(index, entry)
        if self._origin is None:
            for entry in batch:
                if entry.kind is EntryKind.INFO and entry.latency:
                    self._origin = entry.time - entry.latency  # "Connected", which took that
                    break
        self._lay_out(start)
        self._resize()
        self._retitle()
        self.refresh()

    def load(self, entries: Iterable[Entry]) -> None:
        """Show ``entries`` instead of what is shown (another connection's transcript)."""
        self.clear()
        self._pending = list(entries)
        self.flush()
        self.scroll_end(animate=False, immediate=True)

    def clear(self) -> None:
        """Forget every entry, shown or pending."""
        self._source.clear()
        self._pending.clear()
        self._expanded.clear()
        self._threads = Threads()
        self._origin = None
        self._relayout()
        self.anchor()

    def _lay_out(self, start: int) -> None:
        """Show the entries from ``_source[start]`` on that the filter lets through (an
        error reply brings the command it answers), counting their lines and width."""
        source, shown, starts = self._source, self._shown, self._starts
        height, width, last_sent = self._height, 0, self._last_sent
        show, expanded, reveal = self.filter, self._expanded, self.reveal
        gutter = self._gutter_width()
        for index in range(start, len(source)):
            entry = source[index]
            kind = entry.kind
            if kind is EntryKind.SENT and not entry.body:
                last_sent = index
            if show == "errors":
                if not is_error(entry):
                    continue
                previous = shown[-1] if shown else -1
                asked = self._threads.asked(index)
                asked = last_sent if asked is None else asked
                if kind is EntryKind.RECEIVED and asked > previous:
                    lines, wide = self._measure(asked, source[asked], False, reveal)
                    shown.append(asked)
                    starts.append(height)
                    height += lines
                    width = max(width, wide)
            elif show == "sent" and kind is not EntryKind.SENT:
                continue
            lines, wide = self._measure(index, entry, index in expanded, reveal)
            shown.append(index)
            starts.append(height)
            height += lines
            width = max(width, wide)
        self._height, self._last_sent = height, last_sent
        if width:
            self._width = max(self._width, width + gutter)

    def _measure(self, index: int, entry: Entry, expanded: bool, reveal: bool) -> tuple[int, int]:
        """The lines ``entry`` takes and its width without the gutter."""
        text = entry.text
        if not (expanded or entry.body or entry.note or entry.flags or entry.redacted) and (
            "\n" not in text and "\t" not in text
        ):
            return 1, MARKER_WIDTH + (len(text) if text.isascii() else cell_len(text))
        layout = self._layout(index) if expanded else None
        if layout is None:
            layout = _Layout(entry_lines(entry, reveal=reveal), ())
        wide = layout.width
        if entry.note or entry.flags:
            wide = max(wide, MARKER_WIDTH + _width(layout.lines[-1]) + _width(_trailer(entry)))
        return len(layout), wide

    def _relayout(self) -> None:
        """Lay out every entry again, from scratch (after a filter or a change of columns)."""
        selected = self._shown[self._cursor] if self._cursor is not None else None
        self._shown, self._starts = array("q"), array("q")
        self._height = self._width = 0
        self._last_sent = -1
        self._layouts.clear()
        self._strips.clear()
        self._lay_out(0)
        self._cursor = None
        if selected is not None:
            self._cursor = self._nearest(selected)
        self._count_matches()
        self._resize()
        self._retitle()
        self.refresh()

    def _nearest(self, index: int) -> int | None:
        """The shown position of ``_source[index]``, or of the nearest entry shown before."""
        position = bisect_right(self._shown, index) - 1
        return max(position, 0) if self._shown else None

    def _layout(self, index: int) -> _Layout:
        layout = self._layouts.get(index)
        if layout is None:
            entry = self._source[index]
            expanded = index in self._expanded
            lines = entry_lines(entry, expanded=expanded, reveal=self.reveal)
            explain = self._explain(entry) if expanded and not entry.body else ()
            layout = self._layouts[index] = _Layout(lines, explain)
        return layout

    def _explain(self, entry: Entry) -> list[str]:
        """``entry``'s explanation, wrapped to the width on screen (at least 40 columns);
        a wrapped line goes on under the text that follows its code."""
        width = self.scrollable_content_region.width - len(_EXPLAIN_INDENT) - self._gutter_width()
        width = max(width - TIMING_WIDTH * self.show_timing, 40)
        wrapped: list[str] = []
        for line in explanation(entry):
            indent = " " * _HANGING.match(line).end()  # type: ignore[union-attr]
            wrapped += textwrap.wrap(
                line, width, subsequent_indent=indent, break_on_hyphens=False
            ) or [""]
        return wrapped

    def on_resize(self) -> None:
        if self._expanded:  # explanations are wrapped to the width
            self._relayout()

    def _gutter_width(self) -> int:
        return WALL_WIDTH * self.show_wall + ELAPSED_WIDTH * self.show_elapsed

    def _resize(self) -> None:
        timing = TIMING_WIDTH if self.show_timing else 0
        self.virtual_size = Size(self._width + timing if self._height else 0, self._height)

    def _retitle(self) -> None:
        parts = ["Transcript"]
        if self.heading:
            parts.append(self.heading)
        if self.filter != "all":
            parts.append(_FILTER_NAMES[self.filter])
        if self._pattern is not None:
            found = f"{self._matches:,} match{'es' * (self._matches != 1)}"
            parts.append(f"/{self._pattern.pattern.replace(chr(92), '')}: {found}")
        if self.reveal:
            parts.append("secrets shown")
        self.border_title = " · ".join(parts)

    # -- reactive changes ------------------------------------------------------------

    def on_mount(self) -> None:
        self.anchor()  # follow the end until the user scrolls up, again once back there
        self.flush()

    def set_marks(self, marks: Mapping[int, str]) -> None:
        """Show ``marks[class]`` in the marker of each reply of that class (``<- ✗``)."""
        self._marks = marks
        self._strips.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()

    def watch_show_timing(self) -> None:
        self._strips.clear()
        self._resize()
        self.refresh()

    def _watch_columns(self) -> None:
        self._relayout()

    watch_show_wall = watch_show_elapsed = _watch_columns

    def watch_reveal(self) -> None:
        self._relayout()

    def watch_filter(self) -> None:
        self._relayout()
        self.scroll_end(animate=False, immediate=True)

    def watch_heading(self) -> None:
        self._retitle()

    def watch_advice(self) -> None:
        self._subtitle(self.has_focus)

    def on_focus(self) -> None:
        self._subtitle(True)

    def on_blur(self) -> None:
        self._subtitle(False)

    def _subtitle(self, focused: bool) -> None:
        self.border_subtitle = hint(KEYS_HINT) if focused else self.advice

    # -- drawing ---------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        line = scroll_y + y
        if line >= self._height:
            return Strip.blank(width, base)
        text, timing = self._strip(line)
        if timing is None or not self.show_timing or width <= TIMING_WIDTH:
            strip = text.crop_extend(scroll_x, scroll_x + width, base)
        else:
            text = text.crop_extend(scroll_x, scroll_x + width - TIMING_WIDTH, base)
            strip = Strip.join([text, timing])
        if self._cursor is not None and self._in_cursor(line):
            strip = self._under_cursor(strip)
        return strip

    def _under_cursor(self, strip: Strip) -> Strip:
        """``strip`` with the cursor's background, except where a search match is marked."""
        cursor, match = self._style("cursor"), self._style("match").bgcolor
        return Strip(
            [
                segment
                if style is not None and style.bgcolor == match
                else Segment(text, (style or Style()) + cursor)
                for segment in strip
                for text, style, _ in (segment,)
            ],
            strip.cell_length,
        )

    def _in_cursor(self, line: int) -> bool:
        assert self._cursor is not None
        start = self._starts[self._cursor]
        end = (
            self._starts[self._cursor + 1] if self._cursor + 1 < len(self._starts) else self._height
        )
        return start <= line < end

    def _strip(self, line: int) -> tuple[Strip, Strip | None]:
        """Display line ``line`` uncropped, and its latency cell (cached)."""
        strips = self._strips.get(line)
        if strips is None:
            position = bisect_right(self._starts, line) - 1
            index = self._shown[position]
            strips = self._strips[line] = self._render(
                index, self._source[index], self._layout(index), line - self._starts[position]
            )
        return strips

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            full = self.get_component_rich_style(f"transcript--{name}")
            if name == "cursor":
                style = Style(bgcolor=full.bgcolor)  # laid over a line, keeping its colours
            elif name == "match":
                style = full
            else:  # the full style, for colours with alpha blended in; the background is ours
                style = self.rich_style + full.without_color + Style(color=full.color)
            self._styles[name] = style
        return style

    def _render(
        self, index: int, entry: Entry, layout: _Layout, row: int
    ) -> tuple[Strip, Strip | None]:
        """Line ``row`` of entry ``index``: gutter, marker, text and trailer; its latency
        cell. A pipelined command's bracket and a reply's ``← command`` are not counted in
        the width: hints, cut at the edge rather than scrolled to."""
        segments = self._gutter(entry, row)
        lines = layout.lines
        if row >= len(lines):
            text = _EXPLAIN_INDENT + layout.explain[row - len(lines)]
            segments += self._highlighted([(text, self._style("explain"))])
            return Strip(segments), None
        role = _role(entry)
        style = self._style(role)
        bold = Style(bold=True)
        marker_style = (self._style("tls") if entry.tls else style) + bold
        text = lines[row]
        sign = self._marks.get(entry.reply.kind) if entry.reply and not row else None
        shown = marker(entry.kind, entry.tls)
        bracket = self._threads.bracket(index)
        if bracket:
            segments.append(Segment(bracket, self._style("note")))
            shown = shown[1:]
        segments.append(Segment(shown if sign is None else f"{shown[:2]}{sign} ", marker_style))
        if entry.body and (row < len(lines) - 1 or not entry.dotted):
            folded = row == FOLD_AT and is_folded(entry, lines)
            segments += self._highlighted([(text, self._style("note" if folded else "body"))])
        elif entry.kind is EntryKind.RECEIVED and text[:3].isdigit():
            segments += self._highlighted([(text[:3], style + bold), (text[3:], style)])
        else:
            segments += self._highlighted([(text, style)])
        if row == len(lines) - 1:
            if note := self._threads.note(index):
                segments.append(Segment(f"  {note}", self._style("note")))
            if entry.note:
                segments.append(Segment(f"  {entry.note}", self._style("note")))
            if entry.flags:
                segments.append(Segment("  ⚠ " + "; ".join(entry.flags), self._style("flag")))
        if row or entry.latency is None:
            return Strip(segments), None  # no latency: the text may use the whole width
        timing = format_latency(entry.latency)
        cell = [
            Segment(" " * (TIMING_WIDTH - len(timing)), self.rich_style),
            Segment(timing, self._style("timing")),
        ]
        return Strip(segments), Strip(cell, TIMING_WIDTH)

    def _gutter(self, entry: Entry, row: int) -> list[Segment]:
        """The wall-clock and since-connect cells that start an entry's first line."""
        segments: list[Segment] = []
        style = self._style("timing")
        if self.show_wall:
            text = format_wall(entry.wall) if row == 0 else ""
            segments.append(Segment(text.ljust(WALL_WIDTH), style))
        if self.show_elapsed:
            origin = self._origin
            text = ""
            if row == 0 and origin is not None and entry.time >= origin:
                text = format_elapsed(entry.time - origin)
            segments.append(Segment(text.rjust(ELAPSED_WIDTH - 1) + " ", style))
        return segments

    def _highlighted(self, pieces: list[tuple[str, Style]]) -> list[Segment]:
        """The ``(text, style)`` pieces of a line as segments, with the search's matches
        marked (a match may run across pieces: the code and the text of a reply)."""
        found = spans(self._pattern, "".join(text for text, _ in pieces))
        if not found:
            return [Segment(text, style) for text, style in pieces]
        match = self._style("match")
        segments: list[Segment] = []
        start = 0
        for text, style in pieces:
            end = start + len(text)
            cuts = sorted({start, end, *(c for span in found for c in span if start < c < end)})
            for left, right in itertools.pairwise(cuts):
                marked = any(a <= left and right <= b for a, b in found)
                segment_style = style + match if marked else style
                segments.append(Segment(text[left - start : right - start], segment_style))
            start = end
        return segments

    # -- the cursor --------------------------------------------------------------------

    def _move_to(self, position: int, row: int = 0) -> None:
        """Put the cursor on shown entry ``position`` and scroll its ``row`` into view."""
        self._cursor = position
        start = self._starts[position]
        end = self._starts[position + 1] if position + 1 < len(self._starts) else self._height
        height = min(end - start - row, self.scrollable_content_region.height)
        region = Region(0, start + row, 1, max(height, 1))  # its start, if it is too tall
        self.scroll_to_region(region, animate=False, immediate=True)
        if position < len(self._shown) - 1:
            self.release_anchor()  # stay here as entries arrive; the end follows them again
        self.refresh()

    def action_cursor(self, step: int) -> None:
        if not self._shown:
            return
        if self._cursor is None:  # start from what is on screen
            first = bisect_right(self._starts, self.scroll_offset.y) - 1
            last = bisect_right(self._starts, self.scroll_offset.y + self.size.height - 1) - 1
            self._move_to(max(first, 0) if step > 0 else max(last, 0))
            return
        self._move_to(min(max(self._cursor + step, 0), len(self._shown) - 1))

    def action_cursor_to(self, position: int) -> None:
        if not self._shown:
            return
        self._move_to(position % len(self._shown))
        if position == -1:
            self.scroll_end(animate=False, immediate=True)  # and follow the end again

    def on_click(self, event: Click) -> None:
        line = self.scroll_offset.y + event.y
        if 0 <= line < self._height:
            self._cursor = bisect_right(self._starts, line) - 1
            self.refresh()

    # -- expanding ---------------------------------------------------------------------

    def action_open(self) -> None:
        """Enter: a TLS handshake opens its certificates; anything else expands."""
        entry = self.selected
        if entry is not None and entry.tls_info is not None:
            self.post_message(self.CertificateRequested(entry.tls_info))
        else:
            self.action_toggle()

    def action_toggle(self) -> None:
        """Explain the entry under the cursor, unfold its body; or fold it back."""
        if self._cursor is None:
            self.action_cursor(-1)
            if self._cursor is None:
                return
        position = self._cursor
        index = self._shown[position]
        self._expanded ^= {index}
        old = self._layout(index)
        self._layouts.discard(index)
        new = self._layout(index)
        delta = len(new) - len(old)
        if delta:
            starts = self._starts
            starts[position + 1 :] = array("q", [start + delta for start in starts[position + 1 :]])
            self._height += delta
        self._width = max(self._width, new.width + self._gutter_width())
        self._strips.clear()
        self._resize()
        self._move_to(position)

    # -- filtering, searching ----------------------------------------------------------

    def action_cycle_filter(self) -> None:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]

    def action_next_error(self, step: int) -> None:
        self._seek(step, lambda entry, _: is_error(entry), "no more errors")

    def action_search(self) -> None:
        self.post_message(self.SearchRequested())

    def search(self, query: str) -> None:
        """Highlight ``query`` and move to its first match from the cursor on."""
        self._pattern = compile_query(query)
        self._strips.clear()
        self._count_matches()
        self._retitle()
        if self._pattern is not None and not self._matches_at(self._cursor):
            self.action_next_match(1)
        self.refresh()

    def _matches_at(self, position: int | None) -> bool:
        if position is None or self._pattern is None:
            return False
        return self._match_row(self._shown[position]) is not None

    def _match_row(self, index: int) -> int | None:
        """The first row of ``_source[index]`` that the search matches, if any."""
        pattern = self._pattern
        assert pattern is not None
        entry = self._source[index]
        if not entry.body:
            text = entry.revealed if self.reveal and entry.revealed is not None else entry.shown()
            if not pattern.search(text) and index not in self._expanded:
                return None
        layout = self._layout(index)
        lines = layout.lines
        if isinstance(lines, BodyLines):
            found = pattern.search(entry.text)
            return None if found is None else entry.text.count("\n", 0, found.start())
        for row, line in enumerate([*lines, *layout.explain]):
            if pattern.search(line):
                return row
        return None

    def _count_matches(self) -> None:
        if self._pattern is None:
            self._matches = 0
            return
        self._matches = sum(self._match_row(index) is not None for index in self._shown)

    def action_next_match(self, step: int) -> None:
        if self._pattern is not None:
            self._seek(step, lambda _, index: self._match_row(index) is not None, "no match")

    def _seek(self, step: int, wanted: Callable[[Entry, int], bool], failure: str) -> None:
        """Move the cursor to the next (or previous) shown entry ``wanted`` accepts,
        wrapping around; say ``failure`` when there is none."""
        count = len(self._shown)
        if not count:
            return
        here = self._cursor if self._cursor is not None else (-1 if step > 0 else count)
        for offset in range(1, count + 1):
            position = (here + step * offset) % count
            index = self._shown[position]
            if wanted(self._source[index], index):
                row = self._match_row(index) if self._pattern is not None else None
                self._move_to(position, row or 0)
                return
        self.notify(failure, timeout=2)

    # -- secrets, columns, copying -----------------------------------------------------

    def action_toggle_reveal(self) -> None:
        self.reveal = not self.reveal

    def action_cycle_columns(self) -> None:
        now = (self.show_timing, self.show_wall, self.show_elapsed)
        following = (
            COLUMNS[(COLUMNS.index(now) + 1) % len(COLUMNS)] if now in COLUMNS else COLUMNS[0]
        )
        self.show_timing, self.show_wall, self.show_elapsed = following

    def copy_text(self, entries: Iterable[Entry]) -> str:
        """``entries`` as swaks-style text; secrets masked unless revealed on screen."""
        return "".join(
            line + "\n" for entry in entries for line in swaks_lines(entry, redact=not self.reveal)
        )

    def action_copy_entry(self) -> None:
        entry = self.selected
        if entry is None:
            self.notify("Move to an entry first (↑/↓)", timeout=3)
            return
        self._copy(self.copy_text([entry]), "the entry")

    def action_copy_all(self) -> None:
        self._copy(self.copy_text(self._source), "the transcript")

    def _copy(self, text: str, what: str) -> None:
        self.app.copy_to_clipboard(text)
        lines = text.count("\n")
        self.notify(f"Copied {what}: {lines:,} line{'s' * (lines != 1)}", timeout=3)

    def action_browse(self, step: int) -> None:
        self.post_message(self.Browse(step))


class TranscriptPane(Vertical):
    """The transcript and, under it, its search bar."""

    DEFAULT_CSS = """
    TranscriptPane { width: 1fr; height: 1fr; }
    TranscriptPane > TranscriptView { height: 1fr; }
    """

    def __init__(self, *, show_timing: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self._show_timing = show_timing

    def compose(self) -> ComposeResult:
        yield TranscriptView(show_timing=self._show_timing, id="transcript")
        yield SearchBar(id="search")

    @on(TranscriptView.SearchRequested)
    def _open_search(self, message: TranscriptView.SearchRequested) -> None:
        message.stop()
        self.query_one(SearchBar).open()

    @on(SearchBar.QueryChanged)
    def _search(self, message: SearchBar.QueryChanged) -> None:
        self.query_one(TranscriptView).search(message.query)

    @on(SearchBar.Closed)
    def _close_search(self, message: SearchBar.Closed) -> None:
        view = self.query_one(TranscriptView)
        if not message.keep:
            view.search("")
        view.focus()


def _trailer(entry: Entry) -> str:
    """What follows an entry's last text line: its note and its flags."""
    trailer = f"  {entry.note}" if entry.note else ""
    if entry.flags:
        trailer += "  ⚠ " + "; ".join(entry.flags)
    return trailer


def _role(entry: Entry) -> str:
    """The component class (without prefix) that colours ``entry``'s text."""
    match entry.kind:
        case EntryKind.RECEIVED:
            kind = entry.reply.kind if entry.reply is not None else 0
            return f"code-{kind}" if 2 <= kind <= 5 else "body"
        case EntryKind.SENT:
            return "sent"
        case EntryKind.TLS:
            return "tls"
        case EntryKind.ERROR:
            return "error"
    return "info"
