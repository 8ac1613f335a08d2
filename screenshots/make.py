"""Make the SVG screenshots in this directory: ``python screenshots/make.py``.

Each shot is a real session against the embedded server, set up as ``smtptui --demo`` sets
it up (on a fixed port, since it shows on screen), driven headless with the keys a person
would press. A shot that fails is reported and the others are still made.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from unittest import mock

from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from smtptui import cli
from smtptui.ui.app import SmtpTui
from smtptui.ui.panes.compose import ComposePane
from smtptui.ui.transcript import TranscriptView

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.pilot import checked, settle, step  # the tests' own way to drive the app

HERE = Path(__file__).resolve().parent
SIZE = (100, 30)
"""The terminal: 100 columns still read when the README shows two shots to a row."""
PORTS = (2525, 52525)
"""The server's port: the first one free (it shows on screen, so it must not vary)."""

FIXED_HEADERS = "Date: Mon, 1 Jun 2026 09:30 +0000\nMessage-ID: <1@smtptui.demo>"
"""The Compose pane's extra headers, so that the message (and its size) is the same each run."""

Shot = Callable[[SmtpTui, Pilot[None]], Awaitable[None]]


def free_port() -> int:
    """The first of :data:`PORTS` that nothing listens on."""
    for port in PORTS:
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            return port
    raise SystemExit(f"ports {PORTS} are all taken")


@contextlib.asynccontextmanager
async def demo(port: int) -> AsyncIterator[tuple[SmtpTui, Pilot[None]]]:
    """``smtptui --demo``'s app on a fresh embedded server (queue ids start at 1), with an
    empty config directory (the default theme; the user's remembered theme left alone)."""
    with (
        tempfile.TemporaryDirectory() as config,
        mock.patch.dict(os.environ, SMTPTUI_CONFIG_DIR=config),
        contextlib.ExitStack() as stack,
    ):
        app = cli.demo_app(stack, port, show_timing=True)
        async with app.run_test(size=SIZE) as pilot:
            await app.started()
            for widget in app.query("Input, TextArea"):
                assert isinstance(widget, Input | TextArea)
                widget.cursor_blink = False  # a blinking cursor is drawn or not by chance
            app.query_one("#headers", TextArea).text = FIXED_HEADERS
            yield app, pilot


async def show_tab(pilot: Pilot[None], name: str) -> None:
    """Click the tab ``name`` (connection, auth, compose, server)."""
    await pilot.click(f"#--content-tab-tab-{name}")
    await pilot.wait_for_scheduled_animations()


async def start(app: SmtpTui, pilot: Pilot[None]) -> None:
    """The start screen: nothing pressed yet."""


async def stepped(app: SmtpTui, pilot: Pilot[None]) -> None:
    """Connect, EHLO, STARTTLS, EHLO again; the Server tab explains the extensions."""
    await step(pilot, "f2", "f3", "f4", "f3")
    await show_tab(pilot, "server")


async def sent(app: SmtpTui, pilot: Pilot[None]) -> None:
    """The whole session by hand, up to a message sent."""
    await step(pilot, "f2", "f3", "f4", "f3", "f5", "f9")
    await show_tab(pilot, "compose")


async def error(app: SmtpTui, pilot: Pilot[None]) -> None:
    """A recipient refused with 550 5.1.1, and the explanation of that reply."""
    app.query_one(ComposePane).load(
        cli.DEMO_SENDER, ("unknown@smtptui.demo",), cli.DEMO_SUBJECT, cli.DEMO_BODY
    )
    await show_tab(pilot, "compose")
    await step(pilot, "f2", "f3", "f4", "f3", "f5", "f9")
    await pilot.click(TranscriptView)
    await pilot.press("home", "e", "enter")  # the first error, explained
    await pilot.pause()


async def typed(app: SmtpTui, pilot: Pilot[None]) -> None:
    """A message typed by hand on the command line after DATA, as in telnet, not yet ended."""
    await step(pilot, "f2", "f3", "f4", "f3", "f5", "ctrl+slash")
    for line in (
        f"MAIL FROM:<{cli.DEMO_SENDER}>",
        f"RCPT TO:<{cli.DEMO_RECIPIENT}>",
        "DATA",
        "Subject: typed by hand",
        "",
        "Each Enter sends a line;",
        ".a leading dot is doubled on the wire",
    ):
        await pilot.press(*line, "enter")
        await settle(pilot)
    await pilot.press(*"a line with only . ends it")


async def certificate(app: SmtpTui, pilot: Pilot[None]) -> None:
    """The certificate screen, opened from the TLS handshake's entry."""
    await step(pilot, "f2", "f3", "f4")
    await pilot.press("ctrl+f", *"TLS established", "enter", "enter")
    await pilot.pause()


async def search(app: SmtpTui, pilot: Pilot[None]) -> None:
    """A long transcript searched: the matches highlighted, the bar still open (Enter keeps
    the matches and goes to the transcript, N goes back one, Ctrl+F opens the bar again)."""
    await step(pilot, "f2", "f3", "f4", "f3", "f5", *["f9"] * 10)
    await pilot.click(TranscriptView)
    await pilot.press("end", "ctrl+f", *"2.0.0", "enter", "N", "ctrl+f")
    await pilot.pause()


async def probe(app: SmtpTui, pilot: Pilot[None]) -> None:
    """The submission probe (Alt+O) of the demo server's port."""
    await pilot.press("alt+o")
    await checked(pilot)


async def tls_report(app: SmtpTui, pilot: Pilot[None]) -> None:
    """The TLS report (Alt+T) of the demo server."""
    await pilot.press("alt+t")
    await checked(pilot)


def themed(name: str) -> Shot:
    """The finished send in the theme ``name``."""

    async def shot(app: SmtpTui, pilot: Pilot[None]) -> None:
        app.theme = name
        await sent(app, pilot)

    return shot


SHOTS: dict[str, Shot] = {
    "start": start,
    "stepped": stepped,
    "sent": sent,
    "error": error,
    "typed": typed,
    "certificate": certificate,
    "search": search,
    "probe": probe,
    "tls-report": tls_report,
    "light": themed("light"),
    "high-contrast": themed("high-contrast"),
}


async def make(name: str, shot: Shot, port: int) -> None:
    """Run ``shot`` and save the screen as ``<name>.svg``."""
    async with demo(port) as (app, pilot):
        await shot(app, pilot)
        app.query_one(TranscriptView).flush()
        app.clear_notifications()
        await pilot.wait_for_scheduled_animations()
        app.save_screenshot(f"{name}.svg", HERE)


async def main(names: list[str]) -> int:
    """Make the shots named (all by default); the number that failed."""
    if unknown := [name for name in names if name not in SHOTS]:
        raise SystemExit(f"no shot named {', '.join(unknown)} (shots: {', '.join(SHOTS)})")
    port = free_port()
    failed = 0
    for name in names or SHOTS:
        began = time.perf_counter()
        try:
            await make(name, SHOTS[name], port)
        except Exception:
            failed += 1
            print(f"{name}.svg FAILED", file=sys.stderr)
            traceback.print_exc()
        else:
            print(f"{name}.svg  {time.perf_counter() - began:.1f} s")
    return failed


if __name__ == "__main__":
    sys.exit(1 if asyncio.run(main(sys.argv[1:])) else 0)
