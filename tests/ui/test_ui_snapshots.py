"""The look of the app at 80x24 and 120x40: the start screen, a connected session with the
server's capabilities, a finished send, a pipelined send, a BDAT send, a message typed by
hand, an error, two sessions split side by side, the help screen, Compose with an
attachment and the preview of its bytes, the MX view, the submission probe, the TLS report,
and each theme's main screen.

The scenes run against the embedded server on a fixed port (it shows in the status line)
with its own certificate (the TLS report's: one of fixed names and dates, read at a fixed
time), the MX view's DNS server on a fixed port too, without latencies, with AUTH PLAIN
(CRAM-MD5's challenge is random) and a raw message (no generated Date or Message-ID), so
two runs draw the same.
Update with ``pytest tests/test_ui_snapshots.py --snapshot-update`` and look at every SVG.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, Collapsible, Input, TabbedContent, TextArea

from smtptui.server import EmbeddedServer
from smtptui.session import SessionSettings
from smtptui.ui.app import Draft, SmtpTui
from smtptui.ui.commandline import CommandLine
from smtptui.ui.tls_report import TlsReportScreen
from smtptui.ui.transcript import TranscriptView

from support.certificates import common_name, server_context
from support.dns import dns_server
from support.pilot import checked

pytestmark = pytest.mark.xdist_group("fixed-ports")  # one process: the ports below are fixed

PORT = 42525
"""The snapshot server's port: it appears on screen, so it must not vary."""

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])

RAW_MESSAGE = (
    "From: Alice <alice@smtptui.demo>\n"
    "To: Bob <bob@smtptui.demo>\n"
    "Subject: Hello from smtptui\n"
    "Date: Mon, 01 Jan 2024 12:00:00 +0000\n"
    "Message-ID: <snapshot@smtptui.demo>\n"
    "\n"
    "Hi Bob,\n"
    "this message went through every step of an SMTP session.\n"
    "Alice\n"
)

Run = Callable[[Pilot[None]], Awaitable[None]]
SnapCompare = Callable[..., bool]


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    """A fresh embedded server on 127.0.0.1:PORT (fresh: its queue ids start at 1)."""
    server = EmbeddedServer(port=PORT)
    try:
        server.start()
    except OSError as error:
        pytest.fail(f"the snapshot server needs 127.0.0.1:{PORT}, which is taken: {error}")
    yield server
    server.stop()


def demo_app(server: EmbeddedServer, **changes: object) -> SmtpTui:
    """The app filled in for the snapshot server, as ``smtptui --demo`` fills it in."""
    assert server.self_signed is not None
    values: dict[str, object] = {
        "host": f"127.0.0.1:{PORT}",
        "ssl_context": server.self_signed.client_context(),
        "helo_name": "client.smtptui.demo",
        "username": "alice",
        "password": "wonderland",
        "mechanism": "PLAIN",
        **changes,
    }
    draft = Draft("Alice <alice@smtptui.demo>", ("bob@smtptui.demo",), "Hello", "Hi Bob\n")
    return SmtpTui(SessionSettings(**values), draft=draft, show_timing=False)  # type: ignore[arg-type]


async def steps(pilot: Pilot[None], *keys: str) -> None:
    """Press each key and wait for its step to finish, and the transcript to draw it."""
    for key in keys:
        await pilot.press(key)
        await asyncio.wait_for(pilot.app.workers.wait_for_complete(), 10)
        await pilot.pause()
    for view in pilot.app.query(TranscriptView):
        view.flush()
    await pilot.pause()


def scene(
    *keys: str, tab: str | None = None, before: Callable[[Pilot[None]], None] | None = None
) -> Run:
    """``run_before`` for snap_compare: ``before``, the step keys, a tab."""

    async def run(pilot: Pilot[None]) -> None:
        if before is not None:
            before(pilot)
        await steps(pilot, *keys)
        if tab is not None:
            pilot.app.query_one(TabbedContent).active = f"tab-{tab}"
            await pilot.pause()

    return run


@SIZES
def test_start_screen(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """Nothing filled in: the hint says to type a host and press F2."""
    app = SmtpTui(show_timing=False)
    assert snap_compare(app, terminal_size=size, run_before=scene())


@SIZES
def test_connected_with_capabilities(
    snap_compare: SnapCompare, server: EmbeddedServer, size: tuple[int, int]
) -> None:
    """Connected, EHLO, STARTTLS, EHLO again: the Server tab explains what was offered."""
    run = scene("f2", "f3", "f4", "f3", tab="server")
    assert snap_compare(demo_app(server), terminal_size=size, run_before=run)


@SIZES
def test_two_sessions_split(
    snap_compare: SnapCompare, server: EmbeddedServer, size: tuple[int, int]
) -> None:
    """Two sessions with the server side by side, the second after STARTTLS: the tab strip,
    the live one's border, and its number in the status line."""
    run = scene("f2", "f3", "alt+n", "f2", "f3", "f4", "f3", "alt+v")
    assert snap_compare(demo_app(server), terminal_size=size, run_before=run)


def raw_message(pilot: Pilot[None]) -> None:
    pilot.app.query_one("#raw", Checkbox).value = True
    pilot.app.query_one("#body", TextArea).text = RAW_MESSAGE


@SIZES
def test_finished_send(
    snap_compare: SnapCompare, server: EmbeddedServer, size: tuple[int, int]
) -> None:
    """The whole session by hand up to a sent message: the transcript ends with 250 queued."""
    run = scene("f2", "f3", "f4", "f3", "f5", "f9", tab="compose", before=raw_message)
    assert snap_compare(demo_app(server), terminal_size=size, run_before=run)
    [message] = server.messages
    assert message.data == RAW_MESSAGE.replace("\n", "\r\n").encode()


@SIZES
def test_pipelined_send(
    snap_compare: SnapCompare, server: EmbeddedServer, size: tuple[int, int]
) -> None:
    """Shift+F6 then F8: MAIL, RCPT and DATA bracketed as one write, each reply naming the
    command it answers, then the message into the 354."""
    run = scene("f2", "f3", "shift+f6", "f8", before=raw_message)
    assert snap_compare(demo_app(server), terminal_size=size, run_before=run)
    [message] = server.messages
    assert message.data == RAW_MESSAGE.replace("\n", "\r\n").encode()


@SIZES
def test_bdat_send(
    snap_compare: SnapCompare, server: EmbeddedServer, size: tuple[int, int]
) -> None:
    """MAIL, RCPT, then Shift+F8: the message as one BDAT LAST chunk, folded."""
    run = scene("f2", "f3", "f6", "f7", "shift+f8", before=raw_message)
    assert snap_compare(demo_app(server), terminal_size=size, run_before=run)
    [message] = server.messages
    assert message.data == RAW_MESSAGE.replace("\n", "\r\n").encode()


@SIZES
def test_typing_a_message(
    snap_compare: SnapCompare, server: EmbeddedServer, size: tuple[int, int]
) -> None:
    """After DATA typed on the command line: the status line and the command line say the
    lines typed are the message; the transcript shows them as content."""

    async def run(pilot: Pilot[None]) -> None:
        await steps(pilot, "f2", "f3", "f6", "f7")
        command = pilot.app.query_one(CommandLine)
        command.focus()
        for line in ("DATA", "Subject: typed", "", "Hi Bob,", ".a leading dot"):
            command.value = line
            await steps(pilot, "enter")

    assert snap_compare(demo_app(server), terminal_size=size, run_before=run)


@SIZES
def test_wrong_password(
    snap_compare: SnapCompare, server: EmbeddedServer, size: tuple[int, int]
) -> None:
    """AUTH refused: a *** line in the transcript, a toast, the Auth pane as typed."""
    run = scene("f2", "f3", "f4", "f3", "f5", tab="auth")
    app = demo_app(server, password="not-the-password")
    assert snap_compare(app, terminal_size=size, run_before=run)


@SIZES
def test_help_screen(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """F1: the keys, the transcript's markers and what reply codes mean."""
    app = SmtpTui(show_timing=False)
    assert snap_compare(app, terminal_size=size, run_before=scene("f1"))


def compose_app() -> SmtpTui:
    """The app with the Compose pane filled in, Date and Message-ID fixed in Headers."""
    draft = Draft("Alice <alice@smtptui.demo>", ("bob@smtptui.demo",), "Report", DOTTED_BODY)
    return SmtpTui(draft=draft, show_timing=False)


DOTTED_BODY = "Hi Bob,\n.this line starts with a dot\nAlice\n"
FIXED_HEADERS = "Date: Mon, 01 Jan 2024 12:00:00 +0000\nMessage-ID: <snapshot@smtptui.demo>"


async def in_compose(pilot: Pilot[None], key: str) -> None:
    """Fix the generated headers, go to the Compose tab and press ``key`` in it."""
    pilot.app.query_one("#headers", TextArea).text = FIXED_HEADERS
    pilot.app.query_one(TabbedContent).active = "tab-compose"
    await pilot.pause()
    pilot.app.query_one("#subject", Input).focus()
    await pilot.press(key)
    await pilot.pause()


@SIZES
def test_compose_with_an_attachment(
    snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]
) -> None:
    """Alt+A, a path: the file listed under the body with its type and size."""
    path = tmp_path / "report.pdf"
    path.write_bytes(bytes(123_456))

    async def run(pilot: Pilot[None]) -> None:
        await in_compose(pilot, "alt+a")
        pilot.app.screen.query_one("#path", Input).value = str(path)
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(compose_app(), terminal_size=size, run_before=run)


@SIZES
def test_preview_bytes(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """Alt+P: what DATA sends, each CRLF written out, the stuffed dot and the final dot."""

    async def run(pilot: Pilot[None]) -> None:
        await in_compose(pilot, "alt+p")

    assert snap_compare(compose_app(), terminal_size=size, run_before=run)


DNS_PORT = 42553
"""The snapshot DNS server's port: the MX view names it."""


@SIZES
def test_mx_view(snap_compare: SnapCompare, server: EmbeddedServer, size: tuple[int, int]) -> None:
    """Alt+M on @mail.test: its two MX hosts, each address's PTR and FCrDNS, and the
    banner check on the Port field's port (nothing on 127.0.0.2; the snapshot server on
    127.0.0.1, whose name is not the MX name)."""

    async def run(pilot: Pilot[None]) -> None:
        await pilot.press("alt+m")
        await asyncio.wait_for(pilot.app.workers.wait_for_complete(), 10)
        await pilot.pause()

    with dns_server(port=DNS_PORT) as nameserver:
        app = demo_app(server, host="@mail.test", port=PORT, nameserver=nameserver)
        assert snap_compare(app, terminal_size=size, run_before=run)


@SIZES
def test_probe_screen(
    snap_compare: SnapCompare, server: EmbeddedServer, size: tuple[int, int]
) -> None:
    """Alt+O: the Host field's port probed, its certificate not trusted, what to use."""

    async def run(pilot: Pilot[None]) -> None:
        await pilot.press("alt+o")
        await checked(pilot)

    assert snap_compare(demo_app(server), terminal_size=size, run_before=run)


REPORT_NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
"""The moment the TLS report is read at: 14 days before its certificate ends."""

REPORT_ZONE = "mx.smtptui.test. 60 IN A 127.0.0.1\n"


@pytest.fixture
def report_server() -> Iterator[EmbeddedServer]:
    """The snapshot server with a self-signed certificate for mx.smtptui.test of fixed
    dates, ending 2026-12-20."""
    context = server_context(
        common_name("mx.smtptui.test"),
        dns_names=("mx.smtptui.test",),
        not_before=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        not_after=dt.datetime(2026, 12, 20, tzinfo=dt.UTC),
    )
    server = EmbeddedServer(port=PORT, tls_context=context)
    server.start()
    yield server
    server.stop()


@SIZES
def test_tls_report_screen(
    snap_compare: SnapCompare, report_server: EmbeddedServer, size: tuple[int, int]
) -> None:
    """The TLS report of mx.smtptui.test (found in the DNS server named): TLS 1.2 and 1.3,
    a certificate that is not trusted and ends in 14 days, no DANE, MTA-STS not asked."""

    async def run(pilot: Pilot[None]) -> None:
        settings = SessionSettings(host=f"mx.smtptui.test:{PORT}", nameserver=nameserver)
        target = settings.host
        pilot.app.push_screen(TlsReportScreen(target, settings, now=REPORT_NOW))
        await pilot.pause()
        await checked(pilot)

    with dns_server(REPORT_ZONE, port=DNS_PORT) as nameserver:
        assert snap_compare(SmtpTui(show_timing=False), terminal_size=size, run_before=run)


# Each shipped theme's main screen: the transcript's cursor on an entry and the Compose
# pane's checkboxes, one ticked and one not, must be unmistakable in every theme.

THEMES = pytest.mark.parametrize("theme", ["dark", "light", "solarized-dark", "high-contrast"])


def boxes(pilot: Pilot[None]) -> None:
    """The envelope's parameters open, REQUIRETLS not ticked, Raw ticked and focused (the
    form scrolls to it)."""
    app = pilot.app
    app.query_one("#envelope", Collapsible).collapsed = False
    raw = app.query_one("#raw", Checkbox)
    raw.value = True
    raw.focus()


async def cursor_up(pilot: Pilot[None]) -> None:
    """The transcript focused, its cursor two entries above the last; the form stays
    scrolled to the boxes."""
    await pilot.press("ctrl+n", "up", "up")
    await pilot.pause()


@THEMES
@SIZES
def test_theme_main_screen(
    snap_compare: SnapCompare, server: EmbeddedServer, size: tuple[int, int], theme: str
) -> None:
    """Connected, EHLO, STARTTLS, EHLO again; Compose shown; the cursor on an entry."""
    run = scene("f2", "f3", "f4", "f3", tab="compose")

    async def run_before(pilot: Pilot[None]) -> None:
        await run(pilot)
        boxes(pilot)
        await pilot.pause()
        await cursor_up(pilot)

    app = demo_app(server)
    app.theme = theme
    assert snap_compare(app, terminal_size=size, run_before=run_before)
