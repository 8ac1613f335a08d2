"""The transcript pane: the session's entries as swaks-style lines, drawn only when visible.

Entries arrive in :meth:`TranscriptView.add` (cheap, any number per second) and are laid out
in batches a few dozen times a second. Each entry keeps only its first display line's number
(a bisect finds the entry of any line), so a 100,000-entry session costs one int per entry.
Rendered lines live in an LRU cache, uncropped (a resize costs nothing; a theme change or
``show_timing`` clears it). Colours come from the theme through the component classes.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime
from functools import cache

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from smtptui.session.export import swaks_lines
from smtptui.session.transcript import Entry, EntryKind

FOLD_AT = 3
"""Lines of a message body shown before the rest is folded into one summary line."""

FLUSH_DELAY = 1 / 30
"""Seconds between an entry's arrival and its batch being laid out."""

TIMING_WIDTH = 9
"""Cells of the latency column: a gap and the longest latency, ``10.0 ms``."""

MARKER_WIDTH = 4

_STRIP_CACHE = 4096
_LINES_CACHE = 256
_EPOCH = datetime.fromtimestamp(0, UTC)


@cache
def marker(kind: EntryKind, tls: bool) -> str:
    """The swaks marker of entries of ``kind`` (export owns the table)."""
    return swaks_lines(Entry(kind, 0.0, _EPOCH, "", tls=tls))[0]


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


def entry_lines(entry: Entry) -> list[str]:
    """The display lines of ``entry``, without markers; secrets masked.

    A message body shows its first :data:`FOLD_AT` lines, a summary of the rest, and the
    ``.`` that ends it on the wire; only its first few line breaks are looked for.
    """
    if not entry.body:
        return entry.shown().expandtabs().split("\n")
    text = entry.text
    head: list[str] = []
    start = 0
    while len(head) < FOLD_AT:
        end = text.find("\n", start)
        if end < 0:
            return [*head, text[start:].expandtabs(), "."]
        head.append(text[start:end].expandtabs())
        start = end + 1
    more = text.count("\n", start) + 1
    data = entry.data or text.encode()
    cut = -1
    for _ in range(FOLD_AT):
        cut = data.find(b"\n", cut + 1)
    size = format_size(len(data) - cut - 1)
    return [*head, f"… {more:,} more line{'s' * (more > 1)}, {size} (folded)", "."]


def _width(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


class TranscriptView(ScrollView, can_focus=True):
    """The live transcript: one swaks-style line per line of each entry, replies coloured by
    class, latencies right-aligned. Follows the end unless the user has scrolled up."""

    ALLOW_SELECT = False

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
        "transcript--timing",
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
    TranscriptView > .transcript--sent { color: $text-primary; }
    TranscriptView > .transcript--body { color: $foreground; }
    TranscriptView > .transcript--tls { color: $text-secondary; }
    TranscriptView > .transcript--code-2 { color: $text-success; }
    TranscriptView > .transcript--code-3 { color: $text-accent; }
    TranscriptView > .transcript--code-4 { color: $text-warning; }
    TranscriptView > .transcript--code-5 { color: $text-error; }
    TranscriptView > .transcript--info { color: $text-muted; }
    TranscriptView > .transcript--error { color: $text-error; text-style: bold; }
    TranscriptView > .transcript--note { color: $text-muted; text-style: italic; }
    TranscriptView > .transcript--timing { color: $text-muted; }
    """

    show_timing: reactive[bool] = reactive(True)
    """Whether replies show their latency at the right edge."""

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
        self._entries: list[Entry] = []
        self._starts: list[int] = []  # the first display line of each entry
        self._pending: list[Entry] = []
        self._height = 0
        self._width = 0  # the widest line, marker and note included
        self._lines: LRUCache[int, list[str]] = LRUCache(_LINES_CACHE)
        self._strips: LRUCache[int, tuple[Strip, Strip | None]] = LRUCache(_STRIP_CACHE)
        self._styles: dict[str, Style] = {}

    @property
    def line_count(self) -> int:
        """Display lines laid out so far (entries still pending are not counted)."""
        return self._height

    def add(self, entry: Entry) -> None:
        """Queue ``entry``; it appears with the next batch, within :data:`FLUSH_DELAY`."""
        self._pending.append(entry)
        if len(self._pending) == 1 and self.is_mounted:
            self.set_timer(FLUSH_DELAY, self.flush)

    def flush(self) -> None:
        """Lay out the queued entries now."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        height, width = self._height, self._width
        for entry in pending:
            lines = entry_lines(entry)
            self._entries.append(entry)
            self._starts.append(height)
            height += len(lines)
            width = max(width, MARKER_WIDTH + max(map(_width, lines)))
            if entry.note:
                width = max(width, MARKER_WIDTH + _width(lines[-1]) + 2 + _width(entry.note))
        self._height, self._width = height, width
        self._resize()
        self.refresh()

    def clear(self) -> None:
        """Forget every entry, shown or pending."""
        self._entries.clear()
        self._starts.clear()
        self._pending.clear()
        self._height = self._width = 0
        self._lines.clear()
        self._strips.clear()
        self._resize()
        self.anchor()
        self.refresh()

    def on_mount(self) -> None:
        self.anchor()  # follow the end until the user scrolls up, again once back there
        self.flush()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()

    def watch_show_timing(self) -> None:
        self._strips.clear()
        self._resize()
        self.refresh()

    def _resize(self) -> None:
        timing = TIMING_WIDTH if self.show_timing else 0
        self.virtual_size = Size(self._width + timing if self._height else 0, self._height)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        line = scroll_y + y
        if line >= self._height:
            return Strip.blank(width, base)
        text, timing = self._strip(line)
        if timing is None or not self.show_timing or width <= TIMING_WIDTH:
            return text.crop_extend(scroll_x, scroll_x + width, base)
        text = text.crop_extend(scroll_x, scroll_x + width - TIMING_WIDTH, base)
        return Strip.join([text, timing])

    def _strip(self, line: int) -> tuple[Strip, Strip | None]:
        """Display line ``line`` uncropped, and its latency cell (cached)."""
        strips = self._strips.get(line)
        if strips is None:
            index = bisect_right(self._starts, line) - 1
            lines = self._lines.get(index)
            if lines is None:
                lines = self._lines[index] = entry_lines(self._entries[index])
            strips = self._strips[line] = self._render(
                self._entries[index], lines, line - self._starts[index]
            )
        return strips

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            # The full style, for colours with alpha blended in; the background is ours.
            full = self.get_component_rich_style(f"transcript--{name}")
            style = self.rich_style + full.without_color + Style(color=full.color)
            self._styles[name] = style
        return style

    def _render(self, entry: Entry, lines: list[str], row: int) -> tuple[Strip, Strip | None]:
        """Line ``row`` of ``entry``: marker, text and note; and its latency cell."""
        role = _role(entry)
        style = self._style(role)
        bold = Style(bold=True)
        marker_style = (self._style("tls") if entry.tls else style) + bold
        text = lines[row]
        segments = [Segment(marker(entry.kind, entry.tls), marker_style)]
        if entry.body and row < len(lines) - 1:
            folded = len(lines) == FOLD_AT + 2 and row == FOLD_AT
            segments.append(Segment(text, self._style("note" if folded else "body")))
        elif entry.kind is EntryKind.RECEIVED and text[:3].isdigit():
            segments += [Segment(text[:3], style + bold), Segment(text[3:], style)]
        else:
            segments.append(Segment(text, style))
        if entry.note and row == len(lines) - 1:
            segments.append(Segment(f"  {entry.note}", self._style("note")))
        if row or entry.latency is None:
            return Strip(segments), None  # no latency: the text may use the whole width
        timing = format_latency(entry.latency)
        cell = [
            Segment(" " * (TIMING_WIDTH - len(timing)), self.rich_style),
            Segment(timing, self._style("timing")),
        ]
        return Strip(segments), Strip(cell, TIMING_WIDTH)


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
