"""The transcript pane against Textual's Log, in one run, headless, with the same lines.

    python benchmarks/transcript.py [--entries 100000] [--batch 1000] [--rounds 3]

The entries (a long session's mix of commands, replies with latencies, notes, TLS) and their
swaks-style lines are built once, before anything is timed, one line per entry. Both widgets
get them in the same stream: a batch at a time (``add`` per entry for the pane, one
``write_lines`` for the Log), the event loop free between batches. Append time runs from the
first append to the frame that draws the last line at the bottom of the screen (the Log's
background width workers may still be running then). Each figure comes from a fresh headless
app; the widgets take turns (who goes first alternates), times are medians of the rounds, the
ratio the median of the rounds' ratios (pane / Log). Memory is traced in separate runs, as
tracemalloc slows everything down. Key latency: while the entries stream in, another thread
(as a terminal's input thread would) calls ``pilot.press`` every 50 ms; each press counts from
the moment it was made to the app's action running, over every round.
Targets: append <= 1.0x the Log's time; every key answered within 100 ms.
Opening a saved session of as many entries (``smtptui open``) against the Log opening its
text, to the same budget: benchmarks/open.py.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import threading
import time
import tracemalloc
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.strip import Strip
from textual.widgets import Log

from smtptui.protocol.replies import Reply, ReplyParser
from smtptui.session.export import swaks_lines
from smtptui.session.transcript import Entry, EntryKind, reply_text, wall_clock
from smtptui.ui.themes import ThemedApp
from smtptui.ui.transcript import TranscriptView

SIZE = (120, 40)
PRESS_EVERY = 0.05
TIMEOUT = 120.0


def session(count: int) -> list[Entry]:
    """``count`` one-line entries as a long session has them: transactions of MAIL, twenty
    RCPTs and RSET with their replies, most inside TLS, now and then a refusal with a note."""
    replies = ReplyParser().feed(
        b"250 2.1.0 Ok\r\n"
        b"250 2.1.5 Ok\r\n"
        b"550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown\r\n"
        b"250 2.0.0 Ok\r\n"
    )
    sender, accepted, refused, reset = replies
    when = time.monotonic()
    wall = wall_clock(when)
    entries: list[Entry] = []

    def exchange(command: str, reply: Reply, tls: bool, note: str = "") -> None:
        data = command.encode() + b"\r\n"
        latency = 0.0004 + len(entries) % 7 * 0.0011
        entries.append(Entry(EntryKind.SENT, when, wall, command, data, tls))
        entries.append(
            Entry(
                EntryKind.RECEIVED,
                when,
                wall,
                reply_text(reply),
                reply.raw,
                tls,
                latency,
                reply,
                note=note,
            )
        )

    transaction = 0
    while len(entries) < count:
        tls = transaction % 4 != 0
        entries.append(Entry(EntryKind.INFO, when, wall, f"Transaction {transaction + 1}"))
        exchange("MAIL FROM:<sender@example.com>", sender, tls)
        for user in range(transaction * 20, transaction * 20 + 20):
            if user % 17:
                exchange(f"RCPT TO:<user{user}@example.com>", accepted, tls)
            else:
                exchange(f"RCPT TO:<user{user}@example.com>", refused, tls, "no such mailbox")
        exchange("RSET", reset, tls)
        transaction += 1
    return entries[:count]


class EndWatch:
    """Mixin for a line-API widget: sets ``drawn`` (and ``drawn_at``) when a frame draws its
    last line, once all ``expected`` lines are laid out."""

    expected = -1
    drawn: asyncio.Event
    drawn_at = 0.0

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        end = self.scroll_offset.y + y == self.expected - 1
        if end and self.line_count == self.expected and not self.drawn.is_set():
            self.drawn_at = time.perf_counter()
            self.drawn.set()
        return strip


class WatchedLog(EndWatch, Log):
    pass


class WatchedTranscript(EndWatch, TranscriptView):
    pass


def add_each(pane: WatchedTranscript, batch: Sequence[Entry]) -> None:
    """A batch as the app hands it to the pane: one ``add`` per entry."""
    add = pane.add
    for entry in batch:
        add(entry)


@dataclass(eq=False)
class Contender:
    """A widget, how it takes a batch, its batches, and what was measured of it."""

    make: Callable[[], EndWatch]
    feed: Callable[[EndWatch, Sequence], object]
    batches: list[Sequence]
    times: list[float] = field(default_factory=list)
    keys: list[float] = field(default_factory=list)
    memory: tuple[int, int] = (0, 0)

    @property
    def total(self) -> int:
        return sum(map(len, self.batches))


class Bench(ThemedApp):
    """One widget filling the screen; ``x`` notes when its action runs."""

    CSS = "#pane { height: 1fr; }"
    BINDINGS: ClassVar[list[BindingType]] = [("x", "mark", "Mark")]

    def __init__(self, pane: EndWatch) -> None:
        super().__init__()
        self.pane = pane
        self.marks: list[float] = []

    def compose(self) -> ComposeResult:
        yield self.pane

    def action_mark(self) -> None:
        self.marks.append(time.perf_counter())


async def run(contender: Contender, trace: bool = False, keys: bool = False) -> None:
    """Stream every batch into a fresh app's widget until the end is drawn; note the time,
    or with ``trace`` the peak and retained memory, or with ``keys`` the key latencies."""
    pane = contender.make()
    pane.id = "pane"
    pane.expected, pane.drawn = contender.total, asyncio.Event()
    app = Bench(pane)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        gc.collect()
        loop = asyncio.get_running_loop()
        stop = threading.Event()
        pressed: list[tuple[float, Future[None]]] = []

        def keyboard() -> None:
            """Press keys from outside the event loop, as a terminal's input thread does:
            a press made while the loop is busy waits for it, as a person's would."""
            while not stop.wait(PRESS_EVERY):
                started = time.perf_counter()
                pressed.append((started, asyncio.run_coroutine_threadsafe(pilot.press("x"), loop)))

        presser = asyncio.create_task(asyncio.to_thread(keyboard)) if keys else None
        if trace:
            tracemalloc.start()
            baseline = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        for batch in contender.batches:
            contender.feed(pane, batch)
            await asyncio.sleep(0)
        await asyncio.wait_for(pane.drawn.wait(), TIMEOUT)
        if presser is not None:
            stop.set()
            await presser
            await asyncio.gather(*(asyncio.wrap_future(press) for _, press in pressed))
            starts = [start for start, _ in pressed]
            contender.keys += [mark - start for start, mark in zip(starts, app.marks, strict=True)]
        elif trace:
            current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            contender.memory = peak - baseline, current - baseline
        else:
            contender.times.append(pane.drawn_at - started)
        await app.workers.wait_for_complete()


async def measure(pane: Contender, log: Contender, rounds: int) -> None:
    """Times, then key latencies, in alternating rounds; then memory, once each."""
    for contender in (pane, log):  # warm up: imports, CSS, first frames
        await run(Contender(contender.make, contender.feed, contender.batches[:2]))
    for round_ in range(rounds):
        for contender in (pane, log) if round_ % 2 == 0 else (log, pane):
            await run(contender)
    for round_ in range(rounds):
        for contender in (pane, log) if round_ % 2 == 0 else (log, pane):
            await run(contender, keys=True)
    for contender in (pane, log):
        await run(contender, trace=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000, help="entries per append")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per figure")
    args = parser.parse_args()

    entries = session(args.entries)
    lines = [line for entry in entries for line in swaks_lines(entry)]
    assert len(lines) == len(entries), "one line per entry"
    cuts = range(0, len(entries), args.batch)
    pane = Contender(WatchedTranscript, add_each, [entries[cut : cut + args.batch] for cut in cuts])
    log = Contender(
        WatchedLog, WatchedLog.write_lines, [lines[cut : cut + args.batch] for cut in cuts]
    )
    started = time.perf_counter()
    asyncio.run(measure(pane, log, args.rounds))

    ratio = statistics.median(ours / ref for ours, ref in zip(pane.times, log.times, strict=True))
    (pane_peak, pane_kept), (log_peak, log_kept) = pane.memory, log.memory
    median_keys = statistics.median(pane.keys), statistics.median(log.keys)
    rows = [
        (
            f"append {args.entries:,} lines, end drawn (s)",
            f"{statistics.median(pane.times):.3f}",
            f"{statistics.median(log.times):.3f}",
            ratio,
            "<= 1.00x",
        ),
        (
            "peak memory while appending (MB)",
            f"{pane_peak / 1e6:.1f}",
            f"{log_peak / 1e6:.1f}",
            pane_peak / log_peak,
            "",
        ),
        (
            "memory retained after (MB)",
            f"{pane_kept / 1e6:.1f}",
            f"{log_kept / 1e6:.1f}",
            pane_kept / log_kept,
            "",
        ),
        (
            f"key to action while streaming, median (ms; {len(pane.keys)}/{len(log.keys)} keys)",
            f"{median_keys[0] * 1000:.1f}",
            f"{median_keys[1] * 1000:.1f}",
            median_keys[0] / median_keys[1],
            "",
        ),
        (
            "key to action while streaming, max (ms)",
            f"{max(pane.keys) * 1000:.1f}",
            f"{max(log.keys) * 1000:.1f}",
            max(pane.keys) / max(log.keys),
            "pane < 100 ms",
        ),
    ]
    print(
        f"headless {SIZE[0]}x{SIZE[1]}, batches of {args.batch:,}, medians of {args.rounds} rounds"
    )
    print(f"{'figure':<56} {'pane':>9} {'Log':>9} {'ratio':>7}  target")
    for name, ours, theirs, ratio_, target in rows:
        print(f"{name:<56} {ours:>9} {theirs:>9} {ratio_:>6.2f}x  {target}")
    print(f"whole run: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
