"""The transcript's model without a screen: filter, line index, cursor, search, unfolding,
wrapping and its version, on entries the recorder makes of a dialogue."""

from __future__ import annotations

import subprocess
import sys

from smtptui.engine.events import SentKind
from smtptui.session import Entry
from smtptui.session.transcript_lines import FOLD_AT, MARKER_WIDTH, cells
from smtptui.session.transcript_model import EXPLAIN_INDENT, WRAP_MIN_WIDTH, TranscriptModel

from support.events import received, record, sent

BODY = b"Subject: hi\r\n\r\none\r\ntwo\r\nthree\r\nfour\r\n"


def dialogue() -> list[Entry]:
    """EHLO, MAIL, an accepted and a refused RCPT, DATA and a message body, each answered."""
    return record(
        sent(b"EHLO client.example\r\n"),
        received(b"250 mx.example\r\n"),
        sent(b"MAIL FROM:<alice@example.org>\r\n"),
        received(b"250 2.1.0 Ok\r\n"),
        sent(b"RCPT TO:<bob@example.org>\r\n"),
        received(b"250 2.1.5 Ok\r\n"),
        sent(b"RCPT TO:<nobody@example.org>\r\n"),
        received(b"550 5.1.1 <nobody@example.org>: Recipient address rejected\r\n"),
        sent(b"DATA\r\n"),
        received(b"354 End data with <CR><LF>.<CR><LF>\r\n"),
        sent(BODY, SentKind.BODY),
        received(b"250 2.0.0 Ok: queued as 4ABC\r\n"),
    )


def model(entries: list[Entry] | None = None, text_width: int = 80) -> TranscriptModel:
    shown = TranscriptModel()
    shown.text_width = text_width
    shown.extend(dialogue() if entries is None else entries)
    return shown


def texts(shown: TranscriptModel) -> list[str]:
    """Every screen line's row text (a wrapped row once per piece)."""
    result = []
    for line in range(shown.height):
        index, row, _ = shown.locate(line)
        result.append(shown.layout(index).row(row))
    return result


def test_importing_the_model_imports_neither_textual_nor_rich() -> None:
    code = (
        "import sys\n"
        "import smtptui.session.transcript_model\n"
        "loaded = sorted({name.split('.')[0] for name in sys.modules} & {'textual', 'rich'})\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_every_line_is_indexed_and_a_body_is_folded() -> None:
    shown = model()
    entries = shown.entries
    assert list(shown.shown) == list(range(len(entries)))
    folded = FOLD_AT + 2  # three lines, the summary, the dot
    assert shown.height == len(entries) - 1 + folded
    body = shown.layout(10)
    assert body.lines[FOLD_AT].startswith("… 3 more lines") and body.lines[-1] == "."
    assert shown.span(10) == (10, 10 + folded) and shown.span(11) == (15, 16)
    assert shown.locate(12) == (10, 2, 0) and shown.position_at(15) == 11
    assert texts(shown)[:2] == ["EHLO client.example", "250 mx.example"]
    assert shown.width == MARKER_WIDTH + len(entries[7].text)


def test_unfolding_and_explaining_move_the_lines_after() -> None:
    shown = model()
    shown.toggle(10)  # the body, whole
    assert shown.layout(10).height == 7  # five lines, the empty one, the dot
    assert shown.span(11) == (17, 18)
    shown.toggle(7)  # the refusal, explained under it
    explained = shown.layout(7)
    assert explained.height > 1 and shown.is_expanded(7)
    assert any("mailbox" in line for line in explained.explain)
    assert shown.span(8)[0] == 7 + explained.height
    assert shown.height == 10 + 7 + explained.height
    shown.toggle(7)
    shown.toggle(10)
    assert shown.height == 11 + FOLD_AT + 2 and not shown.is_expanded(7)


def test_explanations_follow_the_text_width() -> None:
    shown = model(text_width=120)
    shown.toggle(7)
    wide = shown.layout(7).height
    shown.text_width = 50  # explanations wrap at least 40 columns wide
    narrow = shown.layout(7)
    assert narrow.height > wide and shown.height == 10 + FOLD_AT + 2 + narrow.height
    assert max(map(len, narrow.explain)) <= 50 - len(EXPLAIN_INDENT)


def test_the_filters_show_errors_with_their_command_and_what_was_sent() -> None:
    shown = model()
    shown.filter = "errors"
    assert list(shown.shown) == [6, 7]  # the refused RCPT brings its command
    assert texts(shown) == [
        "RCPT TO:<nobody@example.org>",
        "550 5.1.1 <nobody@example.org>: Recipient address rejected",
    ]
    shown.filter = "sent"
    assert [shown.entries[index].text.split()[0] for index in shown.shown] == [
        "EHLO",
        "MAIL",
        "RCPT",
        "RCPT",
        "DATA",
        "Subject:",
    ]
    shown.extend(record(sent(b"QUIT\r\n"), received(b"221 Bye\r\n")))  # laid out as filtered
    assert shown.entries[shown.shown[-1]].text == "QUIT"


def test_the_cursor_stays_on_its_entry_or_the_nearest_before_across_filters() -> None:
    shown = model()
    assert shown.move(1, top=0, bottom=5) == 0 and shown.selected is shown.entries[0]
    shown.cursor = 7
    shown.filter = "errors"
    assert shown.selected is shown.entries[7] and shown.cursor == 1
    shown.filter = "sent"
    assert shown.selected is shown.entries[6]  # the reply is not shown: its command is
    shown.filter = "all"
    assert shown.selected is shown.entries[6]
    assert shown.move(100, 0, 0) == len(shown.entries) - 1
    assert shown.move(-100, 0, 0) == 0


def test_with_no_cursor_a_move_starts_from_the_lines_on_screen() -> None:
    shown = model()
    assert shown.move(-1, top=3, bottom=12) == 10  # the body covers line 12
    shown.cursor = None
    assert shown.move(1, top=3, bottom=12) == 3
    assert TranscriptModel().move(1, 0, 10) is None


def test_search_counts_the_entries_it_matches_and_goes_round_them() -> None:
    shown = model()
    shown.search("rcpt")  # smart case: lower case matches either
    assert shown.matches == 2
    assert shown.seek_match(1) == 0 and shown.cursor == 4
    assert shown.seek_match(1) == 0 and shown.cursor == 6
    assert shown.seek_match(1) == 0 and shown.cursor == 4  # round again
    assert shown.seek_match(-1) == 0 and shown.cursor == 6
    shown.search("Rcpt")
    assert shown.matches == 0 and shown.seek_match(1) is None and shown.cursor == 6
    shown.search("")
    assert shown.pattern is None and shown.matches == 0 and shown.seek_match(1) is None


def test_a_match_in_an_unfolded_body_or_an_explanation_names_its_row() -> None:
    shown = model()
    shown.search("four")
    assert shown.matches == 0  # in the folded part of the body, not shown
    shown.toggle(10)
    assert shown.matches == 1
    assert shown.seek_match(1) == 5 and shown.cursor == 10  # its line, under the body's first
    shown.search("mailbox")
    assert shown.matches == 0
    shown.toggle(7)
    assert shown.matches == 1
    row = shown.seek_match(1)
    assert row is not None and row >= 1 and "mailbox" in texts(shown)[7 + row]
    shown.filter = "sent"
    assert shown.matches == 0


def test_next_error_goes_round_the_errors() -> None:
    shown = model()
    assert shown.seek_error(1) == 0 and shown.cursor == 7
    assert shown.seek_error(1) == 0 and shown.cursor == 7  # the only one
    fine = model(record(sent(b"NOOP\r\n"), received(b"250 Ok\r\n")))
    assert fine.seek_error(-1) is None and fine.cursor is None


def test_revealing_shows_the_secret_in_the_lines_and_the_search() -> None:
    shown = model(
        record(
            sent(b"AUTH LOGIN\r\n"),
            received(b"334 VXNlcm5hbWU6\r\n"),
            sent(b"YWxpY2U=\r\n", SentKind.SASL),
        )
    )
    secret = shown.entries[2]
    assert secret.revealed is not None and secret.revealed not in texts(shown)[2]
    shown.search(secret.revealed)
    assert shown.matches == 0
    shown.reveal = True
    assert texts(shown)[2] == secret.revealed and shown.matches == 1


def test_wrapping_splits_long_lines_into_pieces_of_the_text_width() -> None:
    long = "x" * 100
    shown = model(record(sent(f"NOOP {long}\r\n".encode()), received(b"250 Ok\r\n")), 40)
    assert shown.height == 2
    shown.wrap = True
    room = shown.room
    assert room == 40 - MARKER_WIDTH
    pieces = -(-len(f"NOOP {long}") // room)
    assert shown.height == pieces + 1 and shown.span(1) == (pieces, pieces + 1)
    assert [shown.locate(line) for line in range(pieces)] == [(0, 0, p) for p in range(pieces)]
    shown.text_width = 60
    assert shown.height == -(-len(f"NOOP {long}") // (60 - MARKER_WIDTH)) + 1
    shown.text_width = 1  # however narrow, some text on each line
    assert shown.room == WRAP_MIN_WIDTH
    shown.wrap = False
    assert shown.height == 2


def test_wrapping_counts_a_note_and_unfolded_lines() -> None:
    shown = model(text_width=30)
    shown.wrap = True
    refusal = shown.layout(7)
    width = len(shown.entries[7].text)
    assert refusal.height == -(-width // shown.room) > 1
    shown.toggle(10)
    assert shown.layout(10).height == 7  # short lines: one screen line each
    position = shown.cursor = 7
    shown.wrap = False
    assert shown.cursor == position and shown.layout(7).height == 1


def test_the_version_goes_up_when_lines_change_and_only_then() -> None:
    shown = model()
    seen = [shown.version]

    def changed() -> bool:
        bumped = shown.version != seen[-1]
        seen.append(shown.version)
        return bumped

    shown.extend(record(sent(b"NOOP\r\n")))  # appended after the last
    shown.move(1, 0, 5)
    shown.seek_error(1)
    shown.text_width = 90  # nothing depends on it: nothing explained, no wrapping
    assert not changed()
    for change in (
        lambda: setattr(shown, "filter", "errors"),
        lambda: setattr(shown, "filter", "all"),
        lambda: setattr(shown, "reveal", True),
        lambda: shown.search("rcpt"),
        lambda: shown.toggle(7),
        lambda: setattr(shown, "text_width", 60),  # an explanation is shown
        lambda: setattr(shown, "wrap", True),
        lambda: setattr(shown, "text_width", 70),
        shown.clear,
    ):
        change()
        assert changed()
    shown.filter = "all"  # as it was
    assert not changed() and shown.height == 0 and shown.selected is None


def test_cells_counts_wide_characters_twice_and_combining_ones_not_at_all() -> None:
    assert cells("EHLO") == 4
    assert cells("日本") == 4
    assert cells("e\u0301") == 1
