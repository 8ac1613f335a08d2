"""``smtptui open`` of a 100,000-entry session against Textual's Log opening the same
session's swaks-text export, in one run, headless.

    python benchmarks/open.py [--entries 100000] [--rounds 3]

The session is transcript.py's long one, exported once as JSON Lines (what ``smtptui open``
reads: every field, replies parsed again from their exact bytes, every entry made visible)
and once as swaks text (one line per entry) before anything is timed. Each side is timed
from "open" in a fresh headless app:

- smtptui: what ``smtptui open FILE`` does, ``Reading`` the file and its first lines, then
  ``ReaderApp`` reading the rest a chunk between frames;
- the Log: an app whose mount reads the text file, splits its lines and ``write_lines``
  them, the least a viewer of the same lines can do.

Both count from before the file is touched (the apps' start-up is in both) to (a) the first
frame that draws a line of the session and (b) the frame that draws its last line at the
bottom. From the app's start to (b), a probe sleeps 10 ms at a time on the event loop and
notes how late it wakes: the longest wait is how long a key pressed meanwhile could wait
(the Log's ``write_lines`` runs in its mount, before the probe starts). Sides alternate
who goes first; figures are medians of the rounds, ratios the medians of the rounds' ratios.
Budget: the transcript benchmark's, (b) <= 1.0x the Log's. Beside them, the floor under any
reader of the JSON Lines: one ``json.loads`` of all its lines, no entry made, no app, timed
as often as the rounds (its ratio is to the Log's (b)).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from textual.app import App
from textual.strip import Strip
from textual.widgets import Log
from transcript import SIZE, TIMEOUT, Bench, session

import smtptui.ui.transcript.view as view_module
from smtptui.cli_open import FIRST_LINES
from smtptui.session.export import ExportFormat, write_export
from smtptui.session.reopen import Reading
from smtptui.session.transcript import Transcript
from smtptui.ui.reader import ReaderApp
from smtptui.ui.transcript import TranscriptView

PROBE = 0.01


class Frames:
    """Mixin for a line-API widget: notes the first frame that draws a line of text and the
    one that draws line ``expected - 1`` once every line is laid out."""

    expected = -1
    first_at = 0.0
    last_at = 0.0
    ended: asyncio.Event

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)  # type: ignore[misc]
        if not self.first_at and strip.text.strip():
            self.first_at = time.perf_counter()
        end = self.scroll_offset.y + y == self.expected - 1  # type: ignore[attr-defined]
        if end and self.line_count == self.expected and not self.ended.is_set():  # type: ignore[attr-defined]
            self.last_at = time.perf_counter()
            self.ended.set()
        return strip


class FramedLog(Frames, Log):
    pass


class FramedTranscript(Frames, TranscriptView):
    pass


class LogOpener(Bench):
    """The reference: the Log, filled from the text file when the app mounts."""

    def __init__(self, path: Path) -> None:
        super().__init__(FramedLog())
        self.path = path

    def on_mount(self) -> None:
        lines = self.path.read_text("utf-8").splitlines()
        self.pane.write_lines(lines)  # type: ignore[attr-defined]


@dataclass
class Side:
    """One contender: how it opens the file, the class of its watched widget, and what was
    measured of it."""

    open: Callable[[], App[None]]
    frames: type[Frames]
    first: list[float] = field(default_factory=list)
    last: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)


async def lag(longest: list[float]) -> None:
    """Sleep :data:`PROBE` at a time, noting in ``longest[0]`` the most any wake was late."""
    while True:
        before = time.perf_counter()
        await asyncio.sleep(PROBE)
        longest[0] = max(longest[0], time.perf_counter() - before - PROBE)


async def timed(side: Side, expected: int) -> None:
    """One opening, from before the file is touched to the last line drawn."""
    side.frames.expected, side.frames.ended = expected, asyncio.Event()
    longest = [0.0]
    gc.collect()  # the previous app's garbage is not this one's time
    started = time.perf_counter()
    app = side.open()
    async with app.run_test(size=SIZE):
        probe = asyncio.create_task(lag(longest))
        await asyncio.wait_for(side.frames.ended.wait(), TIMEOUT)
        probe.cancel()
        widget = app.query_one(side.frames)
        await app.workers.wait_for_complete()
    side.first.append(widget.first_at - started)
    side.last.append(widget.last_at - started)
    side.waits.append(longest[0])


def parsed(path: Path) -> float:
    """Seconds one ``json.loads`` of every line of ``path`` takes: the least any reader of
    JSON Lines does."""
    data = path.read_bytes()
    gc.collect()
    started = time.perf_counter()
    json.loads(b"[" + b",".join(data.splitlines()) + b"]")
    return time.perf_counter() - started


def smtptui_opens(path: Path) -> App[None]:
    """What ``smtptui open`` does (``cli_open.open_command``)."""
    reading = Reading(path)
    reading.step(FIRST_LINES)
    return ReaderApp(reading, str(path))


async def measure(ours: Side, theirs: Side, expected: int, rounds: int) -> None:
    for side in (ours, theirs):  # warm up: imports, CSS, first frames
        await timed(side, expected)
        side.first, side.last, side.waits = [], [], []
    for round_ in range(rounds):
        for side in (ours, theirs) if round_ % 2 == 0 else (theirs, ours):
            await timed(side, expected)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    transcript = Transcript(1)
    for entry in session(args.entries):
        transcript.append(entry)
    with tempfile.TemporaryDirectory() as folder:
        jsonl, text = Path(folder) / "session.jsonl", Path(folder) / "session.txt"
        write_export(jsonl, [transcript], ExportFormat.JSONL)
        write_export(text, [transcript], ExportFormat.SWAKS)
        expected = len(text.read_text("utf-8").splitlines())
        assert expected == args.entries, "one line per entry"
        view_module.TranscriptView = FramedTranscript  # what TranscriptPane makes: watched
        ours = Side(lambda: smtptui_opens(jsonl), FramedTranscript)
        theirs = Side(lambda: LogOpener(text), FramedLog)
        asyncio.run(measure(ours, theirs, expected, args.rounds))
        floor = [parsed(jsonl) for _ in range(args.rounds)]
        sizes = jsonl.stat().st_size / 1e6, text.stat().st_size / 1e6

    def row(name: str, a: list[float], b: list[float], scale: float, budget: str) -> str:
        ratio = statistics.median(x / y for x, y in zip(a, b, strict=True))
        ours_, theirs_ = statistics.median(a) * scale, statistics.median(b) * scale
        return f"{name:<44} {ours_:>9.3f} {theirs_:>9.3f} {ratio:>6.2f}x  {budget}"

    print(
        f"headless {SIZE[0]}x{SIZE[1]}, {args.entries:,} entries ({sizes[0]:.1f} MB of JSONL "
        f"for smtptui, {sizes[1]:.1f} MB of swaks text for the Log), medians of {args.rounds}"
    )
    print(f"{'figure':<44} {'smtptui':>9} {'Log':>9} {'ratio':>7}  budget")
    print(row("(a) open to first screen drawn (s)", ours.first, theirs.first, 1, ""))
    print(row("(b) open to last line drawn (s)", ours.last, theirs.last, 1, "<= 1.00x"))
    print(row("json.loads of the JSONL alone (s)", floor, theirs.last, 1, "(the floor)"))
    waits = statistics.median(ours.waits) * 1000, statistics.median(theirs.waits) * 1000
    print(f"{'longest wait for the event loop (ms)':<44} {waits[0]:>9.1f} {waits[1]:>9.1f}")


if __name__ == "__main__":
    main()
