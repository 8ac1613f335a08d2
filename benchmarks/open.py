"""``smtptui open``: a 100,000-entry JSON Lines export read and shown, against the transcript
benchmark's reference, Textual's Log, drawing the same lines.

    python benchmarks/open.py [--entries 100000] [--rounds 3]

The entries are transcript.py's long session, exported once with ``write_export`` before
anything is timed. Opening runs from reading the file (``read_transcripts``: JSON parsed,
every reply parsed again from its bytes, every entry made visible) to the frame that draws
the last entry at the bottom of the view (``TranscriptView.load``, as ``smtptui open`` does).
The Log gets the same swaks-style lines already built in memory, in transcript.py's batches,
until its last line is drawn. Fresh headless apps, alternating, medians of the rounds.
Budget: the transcript benchmark's, <= 1.0x the Log's time for the same lines.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from transcript import SIZE, TIMEOUT, Bench, EndWatch, WatchedLog, WatchedTranscript, session

from smtptui.session.export import ExportFormat, swaks_lines, write_export
from smtptui.session.reopen import read_transcripts
from smtptui.session.transcript import Transcript


async def timed(
    make: Callable[[], EndWatch], fill: Callable[[EndWatch], None], total: int
) -> float:
    """Seconds from ``fill`` starting to the frame that draws the widget's last line."""
    pane = make()
    pane.id = "pane"
    pane.expected, pane.drawn = total, asyncio.Event()
    app = Bench(pane)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        started = time.perf_counter()
        fill(pane)
        await asyncio.wait_for(pane.drawn.wait(), TIMEOUT)
        await app.workers.wait_for_complete()
        return pane.drawn_at - started


def opener(path: Path) -> Callable[[EndWatch], None]:
    def fill(pane: EndWatch) -> None:
        [transcript] = read_transcripts(path)
        pane.load(transcript)  # type: ignore[attr-defined]

    return fill


def writer(lines: Sequence[str], batch: int) -> Callable[[EndWatch], None]:
    def fill(pane: EndWatch) -> None:
        for cut in range(0, len(lines), batch):
            pane.write_lines(lines[cut : cut + batch])  # type: ignore[attr-defined]

    return fill


async def measure(path: Path, lines: Sequence[str], rounds: int) -> tuple[list[float], list[float]]:
    total = len(lines)
    ours, theirs = [], []
    await timed(WatchedTranscript, opener(path), total)  # warm up
    for round_ in range(rounds):
        pair = [
            (ours, WatchedTranscript, opener(path)),
            (theirs, WatchedLog, writer(lines, 1000)),
        ]
        for times, make, fill in pair if round_ % 2 == 0 else pair[::-1]:
            times.append(await timed(make, fill, total))
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    transcript = Transcript(1)
    for entry in session(args.entries):
        transcript.append(entry)
    lines = [line for entry in transcript for line in swaks_lines(entry)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "session.jsonl"
        write_export(path, [transcript], ExportFormat.JSONL)
        size = path.stat().st_size
        started = time.perf_counter()
        read_transcripts(path)
        parse = time.perf_counter() - started
        ours, theirs = asyncio.run(measure(path, lines, args.rounds))
    ratio = statistics.median(a / b for a, b in zip(ours, theirs, strict=True))
    megabytes = size / 1e6
    print(f"headless {SIZE[0]}x{SIZE[1]}, {args.entries:,} entries ({megabytes:.1f} MB of JSONL)")
    print(f"read_transcripts alone: {parse:.3f} s")
    print(
        f"open, end drawn: {statistics.median(ours):.3f} s; Log, same lines: "
        f"{statistics.median(theirs):.3f} s; ratio {ratio:.2f}x (budget <= 1.00x)"
    )


if __name__ == "__main__":
    main()
