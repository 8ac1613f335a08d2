"""A pipelined group drawn as one write, each reply naming the command it answers, and a
BDAT chunk folded like a message body: the transcript pane with entries made by hand."""

from __future__ import annotations

from smtptui.protocol.dialogue import Command
from smtptui.session import Entry, EntryKind
from smtptui.session.transcript_lines import TIMING_WIDTH
from smtptui.session.transcript_threads import Threads
from smtptui.ui.transcript import TranscriptView, entry_lines

from support.entries import PaneApp, entry, received, visible

MAIL = Command("MAIL", "FROM:<alice@example.org>", 1)
BOB = Command("RCPT", "TO:<bob@example.org>", 1)
NOBODY = Command("RCPT", "TO:<nobody-with-a-long-name@example.org>", 1)
DATA = Command("DATA", "", 1)


def sent(command: Command, **fields: object) -> Entry:
    return entry(EntryKind.SENT, command.label, command=command, **fields)


PIPELINED = [
    sent(MAIL),
    sent(BOB),
    sent(NOBODY),
    sent(DATA),
    received(b"250 2.1.0 Ok\r\n", 0.0012, command=MAIL),
    received(b"250 2.1.5 Ok\r\n", 0.0012, command=BOB),
    received(b"550 5.1.1 Recipient address rejected: User unknown\r\n", 0.0012, command=NOBODY),
    received(b"354 End data with <CR><LF>.<CR><LF>\r\n", 0.0012, command=DATA),
]


def threads(entries: list[Entry]) -> Threads:
    found = Threads()
    for index, item in enumerate(entries):
        found.add(index, item)
    return found


def test_a_group_is_bracketed_and_its_replies_name_their_commands() -> None:
    found = threads(PIPELINED)
    assert [found.bracket(index) for index in range(8)] == ["┌", "│", "│", "└", "", "", "", ""]
    assert [found.note(index) for index in range(3)] == ["", "", ""]
    assert found.note(3) == "4 commands in one write"
    assert found.note(4) == "← MAIL FROM:<alice@example.org>"
    assert found.note(7) == "← DATA"  # in a group, though it follows DATA
    assert found.asked(6) == 2


def test_a_reply_right_after_its_command_says_nothing() -> None:
    noop = Command("NOOP")
    found = threads([sent(noop), received(b"250 Ok\r\n", command=noop)])
    assert found.bracket(0) == "" and found.note(0) == "" and found.note(1) == ""
    assert found.asked(1) is None  # the latest command: the view knows it


async def test_the_pane_draws_the_group_within_80_columns() -> None:
    app = PaneApp(PIPELINED)
    async with app.run_test(size=(80, 12)):
        view = app.query_one(TranscriptView)
        view.show_timing = True
        width = view.scrollable_content_region.width
        lines = [view.render_line(y).text for y in range(8)]
        assert [line[:4] for line in lines[:4]] == ["┌-> ", "│-> ", "│-> ", "└-> "]
        assert lines[3].rstrip() == "└-> DATA  4 commands in one write"
        assert lines[4].rstrip().startswith("<-  250 2.1.0 Ok  ← MAIL FROM:<alice@example.org>")
        assert all(len(line) == width for line in lines)  # cut at the edge, never wrapped
        rejected = lines[6]
        assert rejected.startswith("<-  550 5.1.1 Recipient address rejected: User unknown  ← R")
        assert rejected.endswith("1.2 ms")  # the latency keeps the right edge
        assert len(rejected) - len(rejected.rstrip()[: -len("1.2 ms")].rstrip()) <= TIMING_WIDTH
        styles = {segment.text: segment.style for segment in view.render_line(3)}
        assert styles["└"] == styles["  4 commands in one write"]  # dim, as notes are
        assert view.virtual_size.width <= width  # the notes never make it scroll sideways


async def test_the_errors_filter_shows_the_command_a_pipelined_reply_answers() -> None:
    app = PaneApp(PIPELINED)
    async with app.run_test(size=(100, 12)) as pilot:
        view = app.query_one(TranscriptView)
        await pilot.press("f")
        shown = [line for line in visible(view) if line]
        assert shown[0] == "│-> RCPT TO:<nobody-with-a-long-name@example.org>"  # not DATA
        assert shown[1].startswith("<-  550 5.1.1 Recipient address rejected")


async def test_out_of_order_lines_are_flagged() -> None:
    rcpt = Command("RCPT", "TO:<b@x>", out_of_order="no MAIL FROM yet")
    line = sent(rcpt, flags=("out of order: no MAIL FROM yet",))
    app = PaneApp([line])
    async with app.run_test(size=(80, 5)):
        view = app.query_one(TranscriptView)
        assert visible(view)[0] == " -> RCPT TO:<b@x>  ⚠ out of order: no MAIL FROM yet"


def test_a_bdat_chunk_folds_without_a_dot() -> None:
    chunk = entry(EntryKind.SENT, "a\nb\nc\nd", body=True, chunk=True, data=b"a\r\nb\r\nc\r\nd")
    assert entry_lines(chunk) == ["a", "b", "c", "… 1 more line, 1 B (folded)"]
    assert list(entry_lines(chunk, expanded=True)) == ["a", "b", "c", "d"]
    short = entry(EntryKind.SENT, "a\nb", body=True, chunk=True)
    assert entry_lines(short) == ["a", "b"]


def test_the_reply_to_a_message_answers_its_data_not_its_body() -> None:
    """The errors filter shows DATA with it, as it does without commands (the view's
    latest command sent): the body is not repeated."""
    data, end = Command("DATA"), Command(".")
    message = entry(EntryKind.SENT, "Hi", body=True, command=end)
    found = threads(
        [
            sent(data),
            received(b"354 Go on\r\n", command=data),
            message,
            received(b"451 Later\r\n", command=end),
        ]
    )
    assert found.asked(3) is None and found.note(3) == ""
