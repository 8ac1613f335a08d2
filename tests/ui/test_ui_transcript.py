"""The transcript pane: what it draws, how it scrolls, and that big sessions stay cheap."""

from __future__ import annotations

import base64
import ssl
import time
import tracemalloc
from collections.abc import Callable, Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.style import Style
from textual.app import ComposeResult
from textual.strip import Strip

from smtptui.engine import errors
from smtptui.protocol.auth import MASK
from smtptui.server import EmbeddedServer
from smtptui.session import (
    Authenticate,
    Connect,
    Ehlo,
    Entry,
    EntryKind,
    Quit,
    SendMessage,
    SessionController,
    StartTls,
    advice,
    swaks_lines,
)
from smtptui.session import transcript_lines as lines_module
from smtptui.session.transcript_lines import BodyLines
from smtptui.session.transcript_model import compile_query, spans
from smtptui.ui.themes import ThemedApp
from smtptui.ui.transcript import (
    SearchBar,
    TranscriptView,
    entry_lines,
    format_latency,
    format_size,
)

from support.entries import PaneApp, entry, received, visible
from support.sessions import settings_for


def body(text: str) -> Entry:
    data = text.replace("\n", "\r\n").encode()
    return entry(EntryKind.SENT, text, data=data, tls=True, body=True)


class TranscriptApp(ThemedApp):
    """One TranscriptView filling the screen, holding ``entries`` from the start."""

    CSS = "TranscriptView { height: 1fr; }"

    def __init__(self, entries: Iterable[Entry] = (), *, show_timing: bool = True) -> None:
        super().__init__()
        self.entries = list(entries)
        self.show_timing = show_timing

    def compose(self) -> ComposeResult:
        view = TranscriptView(show_timing=self.show_timing)
        for item in self.entries:
            view.add(item)
        yield view


# -- a real session ------------------------------------------------------------------------

MESSAGE = "".join(f"Line {number} of the message.\n" for number in range(1, 41))
FOLDED = sum(len(f"Line {number} of the message.\r\n") for number in range(4, 41))


async def run_session(
    server: EmbeddedServer, context: ssl.SSLContext, add: Callable[[Entry], None]
) -> None:
    controller = SessionController(settings_for(server, context))
    controller.transcript.subscribe(add)
    send = SendMessage("alice@example.com", ("bob@example.org",), MESSAGE)
    for action in (Connect(), Ehlo(), StartTls(), Ehlo(), Authenticate("LOGIN"), send, Quit()):
        outcome = await controller.run(action)
        assert outcome.ok, outcome.error


async def test_a_real_session_is_drawn_with_swaks_markers(make_server, client_tls_context) -> None:
    app = TranscriptApp()
    async with app.run_test(size=(110, 60)) as pilot:
        view = app.query_one(TranscriptView)
        await run_session(make_server(), client_tls_context, view.add)
        view.flush()  # the batch a timer would flush, now: a busy machine is no excuse
        await pilot.pause()
        lines = visible(view)
        screen = app.export_screenshot()

    text = "\n".join(lines)
    assert lines[0].startswith("=== Connecting to 127.0.0.1:")
    assert lines[2].startswith("<-  220 ") and lines[2].endswith(" ms")
    assert " -> EHLO client.example" in lines
    assert " -> STARTTLS" in lines
    assert any(line.startswith("=== TLS established: TLSv1.") for line in lines)
    assert " ~> EHLO client.example" in lines
    assert any(line.startswith("<~  250-") and line.endswith("ms") for line in lines)
    assert any(line.startswith("<~  250 ") for line in lines)
    # LOGIN: the challenge decoded beside the reply, the credentials masked.
    assert any(line.startswith("<~  334 ") and "  challenge: Password" in line for line in lines)
    assert any(line.startswith(" ~> ") and line.endswith(MASK) for line in lines)
    for secret in ("wonderland", base64.b64encode(b"wonderland").decode()):
        assert secret not in text and secret not in screen
    # The body: three lines, a summary of the other 37, and the dot.
    start = lines.index(" ~> Line 1 of the message.")
    assert lines[start + 1 : start + 5] == [
        " ~> Line 2 of the message.",
        " ~> Line 3 of the message.",
        f" ~> … 37 more lines, {FOLDED} B (folded)",
        " ~> .",
    ]
    assert lines[start + 5].startswith("<~  250 ")
    assert lines[-1] == "" and any(line.startswith("=== Connection closed") for line in lines)


# -- lines ------------------------------------------------------------------------------


async def test_markers_are_swaks_markers() -> None:
    entries = [
        entry(EntryKind.INFO, "Connected"),
        entry(EntryKind.SENT, "EHLO a"),
        entry(EntryKind.SENT, "EHLO a", tls=True),
        received(b"250 OK\r\n"),
        received(b"250 OK\r\n", tls=True),
        entry(EntryKind.TLS, "TLS established", tls=True),
        entry(EntryKind.ERROR, "Refused"),
    ]
    app = TranscriptApp(entries)
    async with app.run_test(size=(40, 10)):
        lines = visible(app.query_one(TranscriptView))
    assert lines[:7] == [swaks_lines(item)[0] for item in entries]
    assert lines[:7] == [
        "=== Connected",
        " -> EHLO a",
        " ~> EHLO a",
        "<-  250 OK",
        "<~  250 OK",
        "=== TLS established",
        "*** Refused",
    ]


def test_secrets_are_masked() -> None:
    secret = entry(EntryKind.SENT, "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=", redacted="AUTH PLAIN •")
    assert entry_lines(secret) == ["AUTH PLAIN •"]


def test_bodies_fold_after_three_lines() -> None:
    assert entry_lines(body("a\nb\nc")) == ["a", "b", "c", "."]
    assert entry_lines(body("a\nb\nc\nd")) == ["a", "b", "c", "… 1 more line, 1 B (folded)", "."]
    assert entry_lines(body("")) == ["", "."]


def test_a_huge_body_is_not_split() -> None:
    text = "x" * 69 + ("\n" + "y" * 69) * 300_000  # 21 MB, 300,001 lines
    huge = body(text)
    tracemalloc.start()
    lines = entry_lines(huge)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1_000_000, f"{peak:,} B: the body was split (its lines alone are 21 MB)"
    assert lines[3] == "… 299,998 more lines, 20.3 MB (folded)"


def test_latency_and_size_formats() -> None:
    assert [format_latency(s) for s in (0.0004, 0.0123, 0.4567, 1.23, 31.4)] == [
        "0.4 ms",
        "12 ms",
        "457 ms",
        "1.2 s",
        "31 s",
    ]
    assert [format_size(n) for n in (137, 58_061, 21 * 1024**2, 5 * 1024**4)] == [
        "137 B",
        "56.7 KB",
        "21.0 MB",
        "5120.0 GB",
    ]


# -- the view ---------------------------------------------------------------------------

SMALL = [
    entry(EntryKind.INFO, "Connected to 127.0.0.1:2525 in 1.2 ms"),
    received(b"220 demo ESMTP\r\n", 0.0008),
    entry(EntryKind.SENT, "EHLO client.example"),
    received(b"250-demo\r\n250-SIZE 33554432\r\n250 HELP\r\n", 0.0123),
    received(b"550 5.1.1 <nobody@example.org>: Recipient address rejected: unknown\r\n", 1.234),
]


async def test_latency_column_is_right_aligned_and_can_be_hidden() -> None:
    app = TranscriptApp(SMALL)
    async with app.run_test(size=(50, 10)) as pilot:
        view = app.query_one(TranscriptView)
        lines = [view.render_line(y).text for y in range(7)]
        assert lines[1].endswith(" 0.8 ms") and lines[3].endswith(" 12 ms")
        assert lines[2].rstrip() == " -> EHLO client.example"
        assert lines[4].rstrip() == "<-  250-SIZE 33554432"  # latency on the first line only
        # A long line is cut short of the column, which stays in place; → says it goes on.
        assert lines[6] == "<-  550 5.1.1 <nobody@example.org>: Re→    1.2 s"
        assert {len(line) for line in lines} == {view.scrollable_content_region.width}

        view.show_timing = False
        await pilot.pause()
        lines = [view.render_line(y).text.rstrip() for y in range(7)]
        assert lines[1] == "<-  220 demo ESMTP"
        assert lines[6] == "<-  550 5.1.1 <nobody@example.org>: Recipient a→"
        assert "ms" not in "".join(lines[1:])


async def test_long_lines_scroll_sideways() -> None:
    app = TranscriptApp(SMALL, show_timing=False)
    async with app.run_test(size=(50, 10)) as pilot:
        view = app.query_one(TranscriptView)
        assert view.virtual_size.width == len("<-  " + SMALL[-1].text)
        view.focus()
        await pilot.press("end", "right", "right")
        assert view.render_line(0).text.startswith("= Connected")


async def test_w_wraps_long_lines_under_themselves_and_back() -> None:
    app = TranscriptApp(SMALL)
    async with app.run_test(size=(50, 24)) as pilot:  # nothing scrolled
        view = app.query_one(TranscriptView)
        view.focus()
        refusal = "<-  550 5.1.1 <nobody@example.org>: Recipient address rejected: unknown"
        assert view.line_count == 7 and view.render_line(6).text.endswith("Re→    1.2 s")
        await pilot.press("w")
        assert view.wrap and view.virtual_size.width == view.scrollable_content_region.width
        lines = [view.render_line(y).text for y in range(view.line_count)]
        assert len(lines) > 7 and "→" not in "".join(lines)
        first = next(y for y, line in enumerate(lines) if line.startswith("<-  550"))
        assert lines[first].endswith("    1.2 s")  # the latency stays on the first piece
        assert all(line.startswith("    ") for line in lines[first + 1 :])  # under the text
        pieces = [lines[first][: -len("    1.2 s")], *(line[4:] for line in lines[first + 1 :])]
        assert "".join(pieces).rstrip() == refusal
        height = view.line_count
        await pilot.press("end", "enter")  # explained, under all of it
        assert view.line_count > height
        assert view.render_line(height).text.startswith(" " * 6)
        await pilot.press("w")
        assert not view.wrap and view.render_line(6).text.endswith("Re→    1.2 s")


async def test_notes_are_shown_after_the_text() -> None:
    note = received(b"334 VXNlcm5hbWU6\r\n", 0.001, note="challenge: Username:")
    app = TranscriptApp([note], show_timing=False)
    async with app.run_test(size=(60, 5)):
        view = app.query_one(TranscriptView)
        strip = view.render_line(0)
        assert strip.text.rstrip() == "<-  334 VXNlcm5hbWU6  challenge: Username:"
        styles = {segment.text.strip(): segment.style for segment in strip}
        assert styles["challenge: Username:"].italic
        assert styles["<-"].bold and styles["334"].bold and not styles["VXNlcm5hbWU6"].bold


async def test_replies_are_coloured_by_class_from_the_theme() -> None:
    entries = [received(b"250 OK\r\n"), received(b"354 Go\r\n"), received(b"451 Later\r\n")]
    entries += [received(b"550 No\r\n"), entry(EntryKind.ERROR, "Refused")]
    app = TranscriptApp(entries, show_timing=False)
    async with app.run_test(size=(40, 8)) as pilot:
        view = app.query_one(TranscriptView)

        def colours() -> list[str]:
            return [colour(text_style(view.render_line(y), 4)) for y in range(5)]

        dark = colours()
        expected = ["text-success", "text-accent", "text-warning", "text-error", "text-error"]
        assert dark == [app.theme_variables[name].upper() for name in expected]
        assert text_style(view.render_line(4), 4).bold

        app.theme = "textual-light"
        await pilot.pause()
        assert colours() != dark
        assert colours() == [app.theme_variables[name].upper() for name in expected]


def text_style(strip: Strip, x: int) -> Style:
    """The style of the cell at column ``x``."""
    [[segment, *_]] = strip.divide([x, x + 1])[1:2]
    return segment.style


def colour(style: Style) -> str:
    assert style.color is not None
    red, green, blue = style.color.get_truecolor()
    return f"#{red:02X}{green:02X}{blue:02X}"


async def test_follows_the_end_unless_scrolled_up() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(TranscriptView)
        for number in range(50):
            view.add(entry(EntryKind.SENT, f"NOOP {number}"))
        await pilot.pause(0.1)
        assert view.line_count == 50
        assert view.scroll_y == view.max_scroll_y > 0
        assert visible(view)[-1] == " -> NOOP 49"

        view.focus()
        await pilot.press("pageup")
        kept = view.scroll_y
        assert kept < view.max_scroll_y
        shown = visible(view)
        for number in range(50, 60):
            view.add(entry(EntryKind.SENT, f"NOOP {number}"))
        await pilot.pause(0.1)
        assert view.line_count == 60 and view.scroll_y == kept and visible(view) == shown

        await pilot.press("end")
        view.add(entry(EntryKind.SENT, "QUIT"))
        view.flush()
        await pilot.pause()
        assert view.scroll_y == view.max_scroll_y and visible(view)[-1] == " -> QUIT"

        await pilot.press("home")
        assert view.scroll_y == 0 and visible(view)[0] == " -> NOOP 0"


async def test_clear_forgets_everything() -> None:
    app = TranscriptApp(SMALL)
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(TranscriptView)
        view.add(entry(EntryKind.SENT, "pending"))
        view.clear()
        await pilot.pause(0.1)
        assert view.line_count == 0 and set(visible(view)) == {""}
        view.add(entry(EntryKind.SENT, "QUIT"))
        view.flush()
        assert visible(view)[0] == " -> QUIT"


class CountingView(TranscriptView):
    rendered = 0

    def render_line(self, y: int) -> Strip:
        CountingView.rendered += 1
        return super().render_line(y)


class BigApp(ThemedApp):
    def compose(self) -> ComposeResult:
        yield CountingView()


async def test_a_hundred_thousand_entries_stay_cheap() -> None:
    entries = [
        entry(EntryKind.SENT, f"RCPT TO:<user{number}@example.org>")
        if number % 2
        else received(b"250-2.1.5 Ok\r\n250 2.1.5 Ok\r\n", 0.0004)
        for number in range(100_000)
    ]
    app = BigApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(CountingView)
        await pilot.pause()
        CountingView.rendered = 0
        for item in entries:
            view.add(item)
        view.flush()
        await pilot.pause(0.1)

        assert view.line_count == 150_000
        assert 0 < CountingView.rendered <= 4 * 24
        assert visible(view)[-1] == " -> RCPT TO:<user99999@example.org>"


# -- the look ----------------------------------------------------------------------------

DEMO = [
    entry(EntryKind.INFO, "Connecting to 127.0.0.1:2525…"),
    entry(EntryKind.INFO, "Connected to 127.0.0.1:2525", latency=0.0003),
    received(b"220 smtptui.demo ESMTP smtptui\r\n", 0.0002),
    entry(EntryKind.SENT, "EHLO client.smtptui.demo"),
    received(b"250-smtptui.demo\r\n250-SIZE 33554432\r\n250 STARTTLS\r\n", 0.0004),
    entry(EntryKind.SENT, "STARTTLS"),
    received(b"220 Ready to start TLS\r\n", 0.0003),
    entry(EntryKind.TLS, "TLS established: TLSv1.3 TLS_AES_256_GCM_SHA384 (256 bits)", tls=True),
    entry(EntryKind.SENT, "AUTH LOGIN YWxpY2U=", tls=True, redacted="AUTH LOGIN username: alice"),
    received(b"334 UGFzc3dvcmQ6\r\n", 0.0005, tls=True, note="challenge: Password:"),
    entry(EntryKind.SENT, "d29uZGVybGFuZA==", tls=True, redacted="password: ••••••••"),
    received(b"235 2.7.0 Authentication successful\r\n", 0.0005, tls=True),
    entry(EntryKind.SENT, "MAIL FROM:<alice@smtptui.demo>", tls=True),
    received(b"250 2.1.0 Ok\r\n", 0.0008, tls=True),
    entry(EntryKind.SENT, "RCPT TO:<nobody@smtptui.demo>", tls=True),
    received(b"550 5.1.1 <nobody@smtptui.demo>: Recipient address rejected\r\n", 0.0006, tls=True),
    entry(EntryKind.SENT, "RCPT TO:<bob@smtptui.demo>", tls=True),
    received(b"250 2.1.5 Ok\r\n", 0.0006, tls=True),
    entry(EntryKind.SENT, "DATA", tls=True),
    received(b"354 End data with <CR><LF>.<CR><LF>\r\n", 0.0003, tls=True),
    body("From: alice@smtptui.demo\nTo: bob@smtptui.demo\nSubject: Hi\n\n" + "Hi Bob.\n" * 99),
    received(b"451 4.7.1 Greylisted, try again in 60 seconds\r\n", 0.0123, tls=True),
    entry(EntryKind.ERROR, "The server deferred the message (451): send it again later"),
    entry(EntryKind.INFO, "Connection closed: closed by the server"),
]
"""A session with every kind of line, taller than the screen (the view follows the end)."""


def test_snapshot(snap_compare) -> None:
    assert snap_compare(TranscriptApp(DEMO, show_timing=False), terminal_size=(80, 24))


# -- reading: the cursor, explanations, unfolding ------------------------------------------


def cursor_lines(view: TranscriptView) -> list[str]:
    """The visible lines under the cursor's highlight."""
    cursor = view.get_component_rich_style("transcript--cursor").bgcolor
    return [
        view.render_line(y).text.rstrip()
        for y in range(view.scrollable_content_region.height)
        if any(segment.style and segment.style.bgcolor == cursor for segment in view.render_line(y))
    ]


async def test_the_cursor_moves_by_entry() -> None:
    app = PaneApp(SMALL)
    async with app.run_test(size=(70, 12)) as pilot:
        view = app.query_one(TranscriptView)
        assert view.selected is None and cursor_lines(view) == []
        await pilot.press("home")
        assert view.selected is SMALL[0] and cursor_lines(view) == [visible(view)[0]]
        await pilot.press("down", "down", "down")
        assert view.selected is SMALL[3]
        assert cursor_lines(view) == ["<-  250-demo", "<-  250-SIZE 33554432", "<-  250 HELP"]
        await pilot.press("end", "up")
        assert view.selected is SMALL[3]


async def test_enter_explains_a_reply_and_folds_it_back() -> None:
    app = PaneApp(SMALL)
    async with app.run_test(size=(100, 14)) as pilot:
        view = app.query_one(TranscriptView)
        before = view.line_count
        await pilot.press("end", "enter")
        lines = visible(view)
        assert view.line_count > before + 2
        start = lines.index(
            "<-  550 5.1.1 <nobody@example.org>: Recipient address rejected: unknown"
        )
        explained = lines[start + 1 : start + 4]
        assert explained[0].startswith("      550  ")
        assert explained[1].startswith("      5.1.1  Permanent failure · Addressing status")
        assert cursor_lines(view)[0] == lines[start]  # the cursor covers the explanation too
        await pilot.press("enter")
        assert view.line_count == before


async def test_a_body_unfolds_and_a_million_lines_stay_cheap() -> None:
    big = body("\n".join(f"line {number}" for number in range(1_000_000)))
    app = PaneApp([body(MESSAGE.removesuffix("\n")), big])
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(TranscriptView)
        assert view.line_count == 10
        await pilot.press("home", "space")
        assert view.line_count == 10 - 5 + 41
        assert visible(view)[:2] == [" ~> Line 1 of the message.", " ~> Line 2 of the message."]
        await pilot.press("space", "end")
        tracemalloc.start()
        await pilot.press("space")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        # indexed (8 B a line, some 16 MB at the peak), not copied into a million strings
        assert peak < 32_000_000, f"unfolding a million lines took {peak:,} B"
        assert view.line_count == 5 + 1_000_001
        await pilot.press("pagedown")
        view.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert visible(view)[-3:] == [" ~> line 999998", " ~> line 999999", " ~> ."]


async def test_enter_on_a_handshake_asks_for_its_certificate() -> None:
    handshake = DEMO[7]
    info = object()
    app = PaneApp([SMALL[0], Entry(**{**_fields(handshake), "tls_info": info})])
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.press("end", "enter")
        await pilot.pause()
        [message] = app.posted
        assert isinstance(message, TranscriptView.CertificateRequested) and message.info is info


def _fields(item: Entry) -> dict[str, object]:
    return {name: getattr(item, name) for name in Entry.__slots__}


# -- using: search, filters, errors, secrets, copying, columns ----------------------------


def test_queries_are_literal_and_smart_case() -> None:
    assert compile_query("") is None
    assert spans(compile_query("rcpt"), "RCPT TO:<rcpt@x>") == [(0, 4), (9, 13)]
    assert spans(compile_query("RCPT"), "RCPT TO:<rcpt@x>") == [(0, 4)]
    assert spans(compile_query("a.b"), "axb a.b") == [(4, 7)]  # not a regular expression
    assert spans(compile_query("[("), "x [( y") == [(2, 4)]
    assert spans(None, "anything") == []


async def test_search_highlights_matches_and_moves_between_them() -> None:
    app = PaneApp(DEMO)
    async with app.run_test(size=(80, 30)) as pilot:
        view = app.query_one(TranscriptView)
        bar = app.query_one(SearchBar)
        await pilot.press("slash")
        assert bar.has_focus
        await pilot.press(*"rcpt")
        assert "/rcpt: 2 matches" in view.border_title
        assert view.selected is DEMO[14]
        match = view.get_component_rich_style("transcript--match").bgcolor
        line = next(
            view.render_line(y)
            for y in range(30)
            if view.render_line(y).text.startswith(" ~> RCPT TO:<nobody")
        )
        assert [s.text for s in line if s.style and s.style.bgcolor == match] == ["RCPT"]

        await pilot.press("enter")  # keeps the matches; back in the transcript
        assert view.has_focus and not bar.display
        await pilot.press("n")
        assert view.selected is DEMO[16]
        await pilot.press("n")
        assert view.selected is DEMO[14]  # round again
        await pilot.press("N")
        assert view.selected is DEMO[16]

        await pilot.press("slash", "escape")
        assert "/rcpt" not in view.border_title and view.has_focus


async def test_search_is_smart_case_and_says_when_nothing_matches() -> None:
    app = PaneApp(DEMO)
    async with app.run_test(size=(80, 30)) as pilot:
        view = app.query_one(TranscriptView)
        await pilot.press("slash", *"Ok")
        assert "/Ok: 2 matches" in view.border_title
        await pilot.press("backspace", "K")
        assert "/OK: 0 matches" in view.border_title


async def test_a_match_may_run_across_a_reply_code_and_its_text() -> None:
    app = PaneApp(DEMO)
    async with app.run_test(size=(80, 30)) as pilot:
        view = app.query_one(TranscriptView)
        await pilot.press("slash", *"250 2.1.5 O")
        match = view.get_component_rich_style("transcript--match").bgcolor
        line = next(
            view.render_line(y) for y in range(30) if "250 2.1.5 Ok" in view.render_line(y).text
        )
        marked = [s.text for s in line if s.style and s.style.bgcolor == match]
        assert marked == ["250", " 2.1.5 O"]


async def test_filters_show_errors_with_their_command_or_only_what_was_sent() -> None:
    app = PaneApp(DEMO)
    async with app.run_test(size=(90, 30)) as pilot:
        view = app.query_one(TranscriptView)
        await pilot.press("f")
        assert "errors only" in view.border_title
        assert [line for line in visible(view) if line] == [
            " ~> RCPT TO:<nobody@smtptui.demo>",
            "<~  550 5.1.1 <nobody@smtptui.demo>: Recipient address rejected",
            " ~> DATA",  # what the reply to the message data answers (the body is not repeated)
            "<~  451 4.7.1 Greylisted, try again in 60 seconds",
            "*** The server deferred the message (451): send it again later",
        ]
        await pilot.press("f")
        assert "sent only" in view.border_title
        assert all(line.startswith((" -> ", " ~> ")) for line in visible(view) if line)
        lines = view.line_count
        await pilot.press("f")
        assert "only" not in view.border_title and view.line_count > lines
        assert visible(view)[-1] == "=== Connection closed: closed by the server"


async def test_e_jumps_between_errors() -> None:
    app = PaneApp(DEMO)
    async with app.run_test(size=(90, 30)) as pilot:
        view = app.query_one(TranscriptView)
        await pilot.press("e")
        assert view.selected is DEMO[15]
        await pilot.press("e")
        assert view.selected is DEMO[21]
        await pilot.press("e")
        assert view.selected is DEMO[22]
        await pilot.press("E", "E")
        assert view.selected is DEMO[15]


async def test_secrets_are_revealed_only_on_request_and_never_copied_masked_off() -> None:
    secret = entry(
        EntryKind.SENT,
        "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=",
        redacted=f"AUTH PLAIN alice {MASK}",
        revealed="AUTH PLAIN \\x00alice\\x00wonderland",
    )
    app = PaneApp([secret])
    async with app.run_test(size=(70, 6)) as pilot:
        view = app.query_one(TranscriptView)
        assert visible(view)[0] == f" -> AUTH PLAIN alice {MASK}"
        await pilot.press("home", "c")
        assert app.clipboard == f" -> AUTH PLAIN alice {MASK}\n"
        await pilot.press("r")
        assert visible(view)[0] == " -> AUTH PLAIN \\x00alice\\x00wonderland"
        assert "secrets shown" in view.border_title
        await pilot.press("r")
        assert "wonderland" not in "".join(visible(view))


async def test_copy_the_entry_or_the_whole_transcript() -> None:
    app = PaneApp(SMALL)
    async with app.run_test(size=(70, 10)) as pilot:
        await pilot.press("c")
        assert app.clipboard == ""  # no entry chosen yet: nothing copied
        await pilot.press("home", "down", "c")
        assert app.clipboard == "<-  220 demo ESMTP\n"
        await pilot.press("C")
        assert app.clipboard == "".join(line + "\n" for item in SMALL for line in swaks_lines(item))


async def test_columns_show_wall_clock_and_time_since_connect() -> None:
    start = time.monotonic()
    wall = Entry.now(EntryKind.INFO, "").wall
    entries = [
        Entry(EntryKind.INFO, start + 0.002, wall, "Connected", latency=0.002),
        Entry(EntryKind.SENT, start + 1.5, wall, "EHLO a"),
    ]
    app = PaneApp(entries)
    async with app.run_test(size=(70, 6)) as pilot:
        view = app.query_one(TranscriptView)
        await pilot.press("t")  # no columns (as this app starts), then latency only
        assert visible(view)[0].endswith(" 2.0 ms")
        await pilot.press("t")  # latency and time since connect
        lines = visible(view)
        assert lines[0].startswith("   +0.002s === Connected") and lines[0].endswith(" 2.0 ms")
        assert lines[1].startswith("   +1.500s  -> EHLO a")
        await pilot.press("t")  # latency and wall clock
        local = wall.astimezone()
        assert visible(view)[1].startswith(f"{local:%H:%M:%S}.{local.microsecond // 1000:03d}  ")
        await pilot.press("t")  # none
        assert visible(view)[1] == " -> EHLO a"


def test_snapshot_explained_error_and_search(snap_compare) -> None:
    """The first error explained under the cursor, and a search's matches marked."""

    async def explain_and_search(pilot) -> None:
        await pilot.press("e", "enter", "slash", *"smtptui.demo", "enter")

    app = PaneApp(DEMO)
    assert snap_compare(app, terminal_size=(80, 24), run_before=explain_and_search)


@settings(max_examples=300)
@given(text=st.text(alphabet="ab\n\t", max_size=60), chunk=st.integers(1, 9))
def test_an_unfolded_body_has_every_line_however_it_is_split(text: str, chunk: int) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lines_module, "_CHUNK", chunk)
        unfolded = BodyLines(text)
    assert list(unfolded) == [line.expandtabs() for line in text.split("\n")] + ["."]
    assert unfolded.width == max(map(len, text.split("\n")))


# -- advice that knows the providers -----------------------------------------------------------


def refused_with_advice(label: str, raw: bytes, **fields: object) -> list[Entry]:
    """A reply and the error the session records for it, its advice made by the session
    (for AUTH, as for smtplib's authentication error)."""
    reply = received(raw, 0.0312, **fields)
    assert reply.reply is not None
    if label == "AUTH":
        error = errors.SMTPAuthenticationError(reply.reply.code, reply.reply.message)
        text = advice.explain(error, label)
    else:
        text = advice.refused(label, reply.reply)
    return [reply, entry(EntryKind.ERROR, text, **fields)]


OFFICE_365_AUTH = [
    entry(EntryKind.INFO, "Connected to smtp.office365.com:587", latency=0.0213),
    received(b"220 AM0PR02CA0001.outlook.office365.com Microsoft ESMTP MAIL Service ready\r\n"),
    entry(EntryKind.SENT, "EHLO client.example"),
    received(b"250-AM0PR02CA0001.outlook.office365.com Hello\r\n250 STARTTLS\r\n", 0.0208),
    entry(EntryKind.SENT, "STARTTLS"),
    received(b"220 2.0.0 SMTP server ready\r\n", 0.0204),
    entry(EntryKind.TLS, "TLS established: TLSv1.3 TLS_AES_256_GCM_SHA384 (256 bits)", tls=True),
    entry(EntryKind.SENT, "EHLO client.example", tls=True),
    received(
        b"250-AM0PR02CA0001.outlook.office365.com Hello\r\n250 AUTH LOGIN XOAUTH2\r\n", tls=True
    ),
    entry(EntryKind.SENT, "AUTH LOGIN YWxpY2U=", tls=True, redacted="AUTH LOGIN username: alice"),
    received(b"334 UGFzc3dvcmQ6\r\n", 0.0201, tls=True, note="challenge: Password:"),
    entry(EntryKind.SENT, "d29uZGVybGFuZA==", tls=True, redacted="password: ••••••••"),
    *refused_with_advice(
        "AUTH",
        b"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for "
        b"the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. "
        b"[AM0PR02CA0001.eurprd02.prod.outlook.com]\r\n",
        tls=True,
    ),
]
"""Microsoft 365 refusing AUTH because SMTP AUTH is disabled for the tenant."""

STARTTLS_FIRST = [
    entry(EntryKind.INFO, "Connected to mail.example.org:25", latency=0.0011),
    received(b"220 mail.example.org ESMTP Postfix\r\n", 0.0009),
    entry(EntryKind.SENT, "EHLO client.example"),
    received(b"250-mail.example.org\r\n250-PIPELINING\r\n250 STARTTLS\r\n", 0.0004),
    entry(EntryKind.SENT, "MAIL FROM:<alice@example.org>"),
    *refused_with_advice("MAIL FROM", b"530 5.7.0 Must issue a STARTTLS command first\r\n"),
]
"""MAIL FROM right after EHLO, at a server that takes mail only over TLS."""


@pytest.mark.parametrize(
    ("entries", "size"),
    [(OFFICE_365_AUTH, (120, 40)), (STARTTLS_FIRST, (80, 24))],
    ids=["535-5.7.139-120x40", "530-after-EHLO-80x24"],
)
def test_snapshot_provider_advice(
    snap_compare, entries: list[Entry], size: tuple[int, int]
) -> None:
    """The refused reply explained: the provider, what it means there, why, the fix (with
    its key), then what the codes say; the error under it leads with the same advice."""

    async def explain_the_refusal(pilot) -> None:
        await pilot.press("end", "up", "enter")

    assert snap_compare(PaneApp(entries), terminal_size=size, run_before=explain_the_refusal)
