"""``smtptui open FILE`` and ``smtptui diff A B``: saved sessions read back, viewed and
compared. A file that cannot be read is one line on stderr naming its line, and status 2."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from smtptui.session.diff import Aligned
    from smtptui.session.transcript import Transcript

TROUBLE = 2
"""diff(1)'s status for trouble (a file unreadable); 0 is the same, 1 different."""

STATUS_MARKS = {"same": (" ", None), "changed": ("~", "yellow"), "removed": ("-", "red")}
STATUS_MARKS["added"] = ("+", "green")
"""Each step's mark and colour in ``smtptui diff``'s text, by its status."""

FIRST_LINES = 200
"""Lines ``smtptui open`` reads before the UI starts: more than a screen's worth."""

FILE = click.Path(dir_okay=False, path_type=Path)


def read_or_exit(path: Path) -> list[Transcript]:
    """The transcripts in ``path``; a file that cannot be read exits with :data:`TROUBLE`."""
    from smtptui.session.reopen import read_transcripts

    with _trouble():
        return read_transcripts(path)


@contextmanager
def _trouble() -> Iterator[None]:
    """A file that cannot be read: one line on stderr naming where, and :data:`TROUBLE`."""
    from smtptui.cli import say
    from smtptui.session.reopen import ReadError

    try:
        yield
    except ReadError as error:
        say(f"error: {error}", "red", err=True)
        sys.exit(TROUBLE)


@click.command(name="open")
@click.argument("file", type=FILE)
@click.option("--theme", default=None, help="A theme's name (as the UI's --theme).")
def open_command(file: Path, theme: str | None) -> None:
    """Open FILE, a transcript exported as JSON Lines or swaks-style text (swaks' own output
    too), read-only: search, filters, explanations, the certificates; Ctrl+S exports again.
    The first lines show at once, the rest as they are read."""
    from smtptui.engine.loop import run
    from smtptui.session.reopen import Reading
    from smtptui.ui.reader import ReaderApp

    with _trouble():  # a file unreadable from the start is told before the UI starts
        reading = Reading(file)
        reading.step(FIRST_LINES)
    run(ReaderApp(reading, str(file), theme=theme).run_async())


@click.command(name="diff")
@click.argument("a", type=FILE)
@click.argument("b", type=FILE)
@click.option(
    "--slower",
    default="2x",
    show_default=True,
    metavar="2x|150ms",
    help="A reply counts as slower (or faster) past this: a factor (and 20 ms apart), or ms.",
)
@click.option("--json", "json_output", is_flag=True, help="Print one JSON object.")
@click.option("--ui", is_flag=True, help="Show both sessions side by side in the TUI.")
@click.option("--no-color", is_flag=True, help="Plain text output.")
def diff_command(
    a: Path, b: Path, slower: str, json_output: bool, ui: bool, no_color: bool
) -> None:
    """Compare two saved sessions step by step (EHLO with EHLO, MAIL with MAIL): replies'
    codes and texts, enhanced codes, EHLO's capabilities, TLS version, cipher and
    certificate, and latencies past --slower. Exit status as diff(1)'s: 0 the same,
    1 different, 2 trouble."""
    from smtptui.cli import say
    from smtptui.session.diff import Threshold, diff_json, diff_sessions, differ

    try:
        threshold = Threshold.parse(slower)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--slower") from None
    aligned = diff_sessions(read_or_exit(a), read_or_exit(b), threshold)
    if ui:
        from smtptui.engine.loop import run
        from smtptui.ui.diff import DiffApp

        run(DiffApp(aligned, str(a), str(b), str(threshold)).run_async())
    elif json_output:
        from smtptui.session.visible import json_line

        record = {"a": str(a), "b": str(b), "same": not differ(aligned)}
        record |= {"slower": str(threshold), "steps": diff_json(aligned)}
        click.echo(json_line(record))
    else:
        for line, colour in diff_lines(aligned, str(a), str(b)):
            say(line, colour, False if no_color else None)
    sys.exit(1 if differ(aligned) else 0)


def diff_lines(aligned: list[Aligned], a: str, b: str) -> Iterator[tuple[str, str | None]]:
    """``smtptui diff``'s text: each step marked (`` `` same, ``~`` changed, ``-`` only in
    A, ``+`` only in B), each change indented below it, then a count."""
    yield f"--- {a}", "red"
    yield f"+++ {b}", "green"
    counts = dict.fromkeys(STATUS_MARKS, 0)
    for each in aligned:
        mark, colour = STATUS_MARKS[each.status]
        counts[each.status] += 1
        step = each.a or each.b
        reply = step.reply.text.split("\n")[-1] if step and step.reply else ""
        yield f"{mark} {each.label}" + (f"   {reply}" if reply and mark in "-+" else ""), colour
        for change in each.changes:
            yield f"      {change}", colour
    if counts["changed"] + counts["removed"] + counts["added"]:
        yield (
            (
                f"{counts['changed']} changed, {counts['removed']} only in A, "
                f"{counts['added']} only in B, {counts['same']} the same"
            ),
            None,
        )
    else:
        yield f"the same: {counts['same']} steps", None
