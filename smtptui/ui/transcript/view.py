"""The transcript pane: the session's entries as swaks-style lines, drawn only when visible.

What is shown (entries, filter, line index, cursor, search, unfolding, wrapping) is a
:class:`~smtptui.session.transcript_model.TranscriptModel`; this widget draws it. Entries
arrive in :meth:`TranscriptView.add` (cheap, any number per second) and are handed to the
model in batches a few dozen times a second. Rendered rows live in an LRU cache keyed on
the model's version and the look (styles, marks, columns), so nothing clears it by hand.
A line cut at the pane's edge ends in a muted ``→``; ``w`` wraps long lines instead.
Colours come from the theme through the component classes and the ``$smtp-…`` variables, so
the app showing it must be a :class:`~smtptui.ui.themes.ThemedApp`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence

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
from smtptui.session.export import swaks_lines
from smtptui.session.keymap import Scope
from smtptui.session.transcript import Entry, EntryKind
from smtptui.session.transcript_lines import (
    ELAPSED_WIDTH,
    FOLD_AT,
    MARKER_WIDTH,
    TIMING_WIDTH,
    WALL_WIDTH,
    format_elapsed,
    format_latency,
    format_wall,
    is_folded,
)
from smtptui.session.transcript_model import (
    FILTER_NAMES,
    FILTERS,
    Filter,
    Layout,
    TranscriptModel,
    spans,
)
from smtptui.ui.keys import bindings, hint
from smtptui.ui.transcript.search import SearchBar

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


_ROW_CACHE = 4096
MORE = "→"
"""The last cell of a line cut at the pane's edge (not text: copy and search never see it)."""


def marker(kind: EntryKind, tls: bool) -> str:
    """The swaks marker of entries of ``kind`` (export owns the table)."""
    return _MARKERS[kind, tls]


_MARKERS = {
    (kind, tls): swaks_lines(Entry(kind, 0.0, Entry.now(kind, "").wall, "", tls=tls))[0]
    for kind in EntryKind
    for tls in (False, True)
}


class TranscriptView(ScrollView, can_focus=True):
    """The live transcript: one swaks-style line per line of each entry, replies coloured by
    class, latencies right-aligned. Follows the end unless the user has scrolled up.

    A cursor picks an entry (↑/↓); Enter explains it, unfolds a body or opens a TLS
    certificate; ``/`` searches, ``f`` filters, ``e`` jumps to errors, ``r`` reveals
    secrets on screen, ``c`` copies, ``w`` wraps long lines.
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
    TranscriptView > .transcript--cursor { background: $smtp-cursor; }
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

    wrap: reactive[bool] = reactive(False, init=False)
    """Whether lines longer than the pane go on under themselves (else they are cut, ``→``)."""

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
        self.model = TranscriptModel(cells=cell_len)
        """What is shown; this widget draws it."""
        self._pending: list[Entry] = []
        self._look = 0  # goes up when rows look different though the model is the same
        self._rows: LRUCache[tuple[int, int, int, int], tuple[Strip, Strip | None]] = LRUCache(
            _ROW_CACHE
        )  # (model version, look, index, row): the row uncropped, and its latency cell
        self._styles: dict[str, Style] = {}
        self._marks: Mapping[int, str] = {}

    # -- content ---------------------------------------------------------------------

    @property
    def line_count(self) -> int:
        """Display lines laid out so far (entries still pending are not counted)."""
        return self.model.height

    @property
    def entries(self) -> Sequence[Entry]:
        """Every entry laid out, shown or filtered out."""
        return self.model.entries

    @property
    def selected(self) -> Entry | None:
        """The entry under the cursor."""
        return self.model.selected

    def add(self, entry: Entry) -> None:
        """Queue ``entry``; it appears with the next batch, within :data:`FLUSH_DELAY`."""
        self._pending.append(entry)
        if len(self._pending) == 1 and self.is_mounted:
            self.set_timer(FLUSH_DELAY, self._flush_some)

    def extend(self, entries: Iterable[Entry]) -> None:
        """Lay out ``entries`` now, after any queued (a reader hands over what it read)."""
        self._pending += entries
        self.flush()

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
        self.model.extend(batch)
        self._changed()

    def load(self, entries: Iterable[Entry]) -> None:
        """Show ``entries`` instead of what is shown (another connection's transcript)."""
        self.clear()
        self._pending = list(entries)
        self.flush()
        self.scroll_end(animate=False, immediate=True)

    def clear(self) -> None:
        """Forget every entry, shown or pending."""
        self._pending.clear()
        self.model.clear()
        self._changed()
        self.anchor()

    def _changed(self) -> None:
        """Follow the model: the scrollable size, the title, the screen."""
        model = self.model
        if model.wrap:
            width = self.scrollable_content_region.width  # nothing to scroll to sideways
        else:
            width = model.width + self._gutter_width() + TIMING_WIDTH * self.show_timing
        self.virtual_size = Size(width if model.height else 0, model.height)
        self._retitle()
        self.refresh()

    def _fit(self) -> None:
        """Tell the model the cells a line's text has: explanations and wrapped lines fit."""
        timing = TIMING_WIDTH if self.show_timing else 0
        width = self.scrollable_content_region.width - self._gutter_width() - timing
        self.model.text_width = max(width, 1)

    def on_resize(self) -> None:
        self._fit()
        self._changed()

    def _gutter_width(self) -> int:
        return WALL_WIDTH * self.show_wall + ELAPSED_WIDTH * self.show_elapsed

    def _retitle(self) -> None:
        model = self.model
        parts = ["Transcript"]
        if self.heading:
            parts.append(self.heading)
        if model.filter != "all":
            parts.append(FILTER_NAMES[model.filter])
        if model.pattern is not None:
            found = f"{model.matches:,} match{'es' * (model.matches != 1)}"
            parts.append(f"/{model.pattern.pattern.replace(chr(92), '')}: {found}")
        if model.reveal:
            parts.append("secrets shown")
        self.border_title = " · ".join(parts)

    # -- reactive changes ------------------------------------------------------------

    def on_mount(self) -> None:
        self.anchor()  # follow the end until the user scrolls up, again once back there
        self.flush()

    def set_marks(self, marks: Mapping[int, str]) -> None:
        """Show ``marks[class]`` in the marker of each reply of that class (``<- ✗``)."""
        self._marks = marks
        self._look += 1
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._look += 1

    def watch_show_timing(self) -> None:
        self._fit()
        self._changed()

    def _watch_columns(self) -> None:
        self._look += 1
        self._fit()
        self._changed()

    watch_show_wall = watch_show_elapsed = _watch_columns

    def watch_reveal(self, reveal: bool) -> None:
        self.model.reveal = reveal
        self._changed()

    def watch_filter(self, filter: Filter) -> None:
        self.model.filter = filter
        self._changed()
        self.scroll_end(animate=False, immediate=True)

    def watch_wrap(self, wrap: bool) -> None:
        self.model.wrap = wrap
        self._changed()
        if self.model.cursor is not None:
            self._move_to(self.model.cursor)

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
        model = self.model
        line = scroll_y + y
        if line >= model.height:
            return Strip.blank(width, base)
        index, row, piece = model.locate(line)
        text, timing = self._row(index, row)
        timed = timing is not None and piece == 0 and self.show_timing and width > TIMING_WIDTH
        room = width - TIMING_WIDTH if timed else width
        if model.wrap:
            prefix = self._gutter_width() + MARKER_WIDTH
            start = prefix + piece * model.room if piece else 0
            end = prefix + (piece + 1) * model.room
            strip = text.crop(start, end)
            if piece:
                strip = Strip.join([Strip.blank(prefix, base), strip])
            layout = model.layout(index)
            last = layout.line_of(row + 1) - layout.line_of(row) - 1 == piece
            more = last and text.cell_length > end
        else:
            strip = text.crop(scroll_x, scroll_x + room)
            more = text.cell_length > scroll_x + room
        strip = strip.crop_extend(0, room, base)
        if more:
            strip = Strip.join([strip.crop(0, room - 1), self._more()])
        if timed:
            assert timing is not None
            strip = Strip.join([strip, timing])
        if model.cursor is not None and self._in_cursor(line):
            strip = self._under_cursor(strip)
        return strip

    def _more(self) -> Strip:
        """The sign in the last cell of a line that goes on past the pane's edge."""
        return Strip([Segment(MORE, self._style("note"))], 1)

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
        assert self.model.cursor is not None
        start, end = self.model.span(self.model.cursor)
        return start <= line < end

    def _row(self, index: int, row: int) -> tuple[Strip, Strip | None]:
        """Row ``row`` of entry ``index`` uncropped, and its latency cell (cached)."""
        key = (self.model.version, self._look, index, row)
        strips = self._rows.get(key)
        if strips is None:
            model = self.model
            strips = self._rows[key] = self._render(
                index, model.entries[index], model.layout(index), row
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
        self, index: int, entry: Entry, layout: Layout, row: int
    ) -> tuple[Strip, Strip | None]:
        """Line ``row`` of entry ``index``: gutter, marker, text and trailer; its latency
        cell. A pipelined command's bracket and a reply's ``← command`` are not counted in
        the width: hints, cut at the edge rather than scrolled to."""
        segments = self._gutter(entry, row)
        lines = layout.lines
        if row >= len(lines):
            segments += self._highlighted([(layout.row(row), self._style("explain"))])
            return Strip(segments), None
        role = _role(entry)
        style = self._style(role)
        bold = Style(bold=True)
        marker_style = (self._style("tls") if entry.tls else style) + bold
        text = lines[row]
        sign = self._marks.get(entry.reply.kind) if entry.reply and not row else None
        shown = marker(entry.kind, entry.tls)
        threads = self.model.threads
        bracket = threads.bracket(index)
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
            if note := threads.note(index):
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
            origin = self.model.origin
            text = ""
            if row == 0 and origin is not None and entry.time >= origin:
                text = format_elapsed(entry.time - origin)
            segments.append(Segment(text.rjust(ELAPSED_WIDTH - 1) + " ", style))
        return segments

    def _highlighted(self, pieces: list[tuple[str, Style]]) -> list[Segment]:
        """The ``(text, style)`` pieces of a line as segments, with the search's matches
        marked (a match may run across pieces: the code and the text of a reply)."""
        found = spans(self.model.pattern, "".join(text for text, _ in pieces))
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

    def _move_to(self, position: int, offset: int = 0) -> None:
        """Put the cursor on shown entry ``position`` and scroll its screen line ``offset``
        (from its first) into view."""
        model = self.model
        model.cursor = position
        start, end = model.span(position)
        height = min(end - start - offset, self.scrollable_content_region.height)
        region = Region(0, start + offset, 1, max(height, 1))  # its start, if it is too tall
        self.scroll_to_region(region, animate=False, immediate=True)
        if position < len(model.shown) - 1:
            self.release_anchor()  # stay here as entries arrive; the end follows them again
        self.refresh()

    def action_cursor(self, step: int) -> None:
        top = self.scroll_offset.y
        position = self.model.move(step, top, top + self.size.height - 1)
        if position is not None:
            self._move_to(position)

    def action_cursor_to(self, position: int) -> None:
        shown = self.model.shown
        if not shown:
            return
        self._move_to(position % len(shown))
        if position == -1:
            self.scroll_end(animate=False, immediate=True)  # and follow the end again

    def on_click(self, event: Click) -> None:
        line = self.scroll_offset.y + event.y
        if 0 <= line < self.model.height:
            self.model.cursor = self.model.position_at(line)
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
        if self.model.cursor is None:
            self.action_cursor(-1)
            if self.model.cursor is None:
                return
        position = self.model.cursor
        self.model.toggle(position)
        self._changed()
        self._move_to(position)

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap

    # -- filtering, searching ----------------------------------------------------------

    def action_cycle_filter(self) -> None:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]

    def action_next_error(self, step: int) -> None:
        if self.model.shown:
            self._seek(self.model.seek_error(step), "no more errors")

    def action_search(self) -> None:
        self.post_message(self.SearchRequested())

    def search(self, query: str) -> None:
        """Highlight ``query`` and move to its first match from the cursor on."""
        model = self.model
        model.search(query)
        self._retitle()
        if model.pattern is not None and not model.matches_at(model.cursor):
            self.action_next_match(1)
        self.refresh()

    def action_next_match(self, step: int) -> None:
        if self.model.pattern is not None and self.model.shown:
            self._seek(self.model.seek_match(step), "no match")

    def _seek(self, offset: int | None, failure: str) -> None:
        """Show the entry the model's cursor moved to, at screen line ``offset`` of it; say
        ``failure`` when it found none."""
        if offset is None:
            self.notify(failure, timeout=2)
        else:
            assert self.model.cursor is not None
            self._move_to(self.model.cursor, offset)

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
        self._copy(self.copy_text(self.model.entries), "the transcript")

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
