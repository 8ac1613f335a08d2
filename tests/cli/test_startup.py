"""Start-up: each command imports only what it uses (issue 13, part 3).

Each command runs in a fresh interpreter through a tiny wrapper that prints, at exit, which
of the heavy packages were imported."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from smtptui.server import EmbeddedServer

HEAVY = ("textual", "rich", "aiosmtpd", "cryptography", "asyncio", "ssl", "platformdirs", "email")
HEAVY += ("tomlkit",)  # only when config.toml is written
HEAVY += ("OpenSSL",)  # only when the certificate screen asks for an OCSP staple
HEAVY += ("dns",)  # dnspython: only to route by MX (and `smtptui mx`)

WRAPPER = """
import atexit, runpy, sys
heavy = sys.argv[1].split(",")
atexit.register(lambda: print("IMPORTED", *sorted(set(heavy) & set(sys.modules)), file=sys.stderr))
sys.argv = ["smtptui", *sys.argv[2:]]
runpy.run_module("smtptui", run_name="__main__")
"""


def imported(*args: str, among: tuple[str, ...] = HEAVY) -> set[str]:
    """The packages ``among`` those given (:data:`HEAVY`) that ``smtptui ARGS`` imported (it
    must succeed)."""
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, ",".join(among), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("IMPORTED")]
    return set(line.split()[1:])


def test_version_imports_no_ui_no_server_no_io() -> None:
    assert imported("--version") == set()


def test_version_alone_is_answered_before_the_cli_is_loaded() -> None:
    assert imported("--version", among=("click", "smtptui.cli")) == set()
    assert imported("--help", "--version", among=("smtptui.cli",)) == {"smtptui.cli"}


def test_run_demo_imports_neither_textual_nor_rich() -> None:
    found = imported("run", "--demo", "--no-color")
    assert not found & {"textual", "rich"}
    assert {"aiosmtpd", "cryptography"} <= found  # the demo server, and its certificate


def test_run_against_a_server_imports_no_ui_no_server_no_cryptography(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    """Plain SMTP: no certificate to describe, no server to start in this process."""
    server = make_server(starttls=False)
    found = imported(
        "run",
        f"127.0.0.1:{server.port}",
        "--plain",
        "--no-color",
        "--from",
        "alice@example.org",
        "--to",
        "bob@example.org",
    )
    assert found == {"asyncio", "ssl", "email"}  # email: the engine reads messages with it


def test_run_builds_no_message_and_no_recipe_it_was_not_asked_for(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    """The demo message needs no ``email`` builder, and a session turned into a command is
    the UI's business: ``run`` pays for neither."""
    server = make_server(starttls=False)
    unused = ("smtptui.session.message", "smtptui.session.recipe", "smtptui.session.preview")
    args = ["--plain", "--no-color", "--from", "alice@example.org", "--to", "bob@example.org"]
    assert imported("run", f"127.0.0.1:{server.port}", *args, among=unused) == set()


@pytest.mark.parametrize(
    "args", [("--help",), ("run", "--help"), ("serve", "--help"), ("web", "--help")]
)
def test_help_imports_no_ui_no_server(args: tuple[str, ...]) -> None:
    """Nor ``email``: only a message made or sent needs it."""
    unused = {"textual", "rich", "aiosmtpd", "cryptography", "platformdirs", "email"}
    assert not imported(*args) & unused


def test_web_imports_textual_serve_only_when_it_serves() -> None:
    """Its help loads neither textual-serve nor aiohttp: the web command's imports are inside it."""
    assert imported("web", "--help", among=("textual_serve", "aiohttp", "textual")) == set()


def test_tls_report_imports_no_ui_and_no_server(
    make_server: Callable[..., EmbeddedServer], cafile: str
) -> None:
    server = make_server()
    found = imported("tls-report", f"127.0.0.1:{server.port}", "--cafile", cafile)
    assert not found & {"textual", "rich", "aiosmtpd", "platformdirs", "tomlkit"}


def test_diff_imports_no_ui_and_no_server() -> None:
    swaks = str(Path(__file__).resolve().parents[1] / "data" / "swaks" / "plain.txt")
    found = imported("diff", "--no-color", swaks, swaks)
    assert not found & {"textual", "rich", "aiosmtpd", "cryptography", "dns"}


HEADLESS_UI = """
import atexit, runpy, sys
from textual.app import App

heavy = sys.argv[1].split(",")
atexit.register(lambda: print("IMPORTED", *sorted(set(heavy) & set(sys.modules)), file=sys.stderr))
_run_async = App.run_async


async def started(pilot):
    await pilot.app.started()
    print("HOST", pilot.app.controller.settings.host, file=sys.stderr)
    pilot.app.exit()


def run_async(self, **kwargs):
    return _run_async(self, headless=True, size=(80, 24), auto_pilot=started)


App.run_async = run_async
sys.argv = ["smtptui", *sys.argv[2:]]
runpy.run_module("smtptui", run_name="__main__")
"""
"""``smtptui ARGS``' app run headless until it has started (its server up), then left."""


def test_ui_demo_app_imports_neither_aiosmtpd_nor_cryptography() -> None:
    """Its server runs in a process of its own (``smtptui.server.process``); the app reads
    its port and certificate from a pipe. The help and the send's progress bar are imported
    when first shown, the engine's client (its events, its OCSP probe) when a session
    connects."""
    among = ("aiosmtpd", "cryptography", "smtptui.server.embedded")
    among += ("smtptui.ui.help", "smtptui.ui.progress")
    among += ("smtptui.engine.client", "smtptui.engine.events", "smtptui.engine.ocsp")
    among += ("smtptui.session.recorder",)
    result = subprocess.run(
        [sys.executable, "-c", HEADLESS_UI, ",".join(among), "--demo"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [host] = [line.split()[1] for line in result.stderr.splitlines() if line.startswith("HOST")]
    assert host.startswith("127.0.0.1:")  # the demo server's, told by the child
    [line] = [line for line in result.stderr.splitlines() if line.startswith("IMPORTED")]
    assert line.split()[1:] == []


FIRST_FRAME_MODULES = """
import sys
import smtptui.cli, smtptui.ui.app
print(*sorted(set(sys.argv[1].split(",")) & set(sys.modules)))
"""
"""Imports what ``smtptui --demo`` imports before its first frame; prints those of argv[1]."""


def test_the_app_modules_import_no_client_and_no_text_area() -> None:
    """What only a connection (the engine's client and its events), the panes built after
    the first frame (Auth, Compose's TextArea, Server), ``run`` (the login name),
    transport and PROXY settings or SCRAM use is not loaded with the app's modules."""
    among = ("smtptui.engine.client", "smtptui.engine.events", "smtptui.session.recorder")
    among += ("textual.widgets._text_area", "smtptui.ui.panes.auth")
    among += ("smtptui.ui.panes.capabilities", "getpass")
    among += ("smtptui.engine.transport", "smtptui.protocol.proxy", "smtptui.protocol.scram")
    result = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME_MODULES, ",".join(among)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []


async def test_a_theme_chosen_before_the_first_frame_colours_it() -> None:
    """Its CSS variables are set before the stylesheet is first parsed, with no parse of the
    app's CSS for it before (``ThemedApp.refresh_css``)."""
    from textual.color import Color
    from textual.css.stylesheet import Stylesheet

    from smtptui.ui.app import SmtpTui

    app = SmtpTui(theme="light")
    reparsed: list[Stylesheet] = []
    reparse = Stylesheet.reparse

    def counted(stylesheet: Stylesheet) -> None:
        reparsed.append(stylesheet)
        reparse(stylesheet)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Stylesheet, "reparse", counted)
        async with app.run_test(size=(80, 24)) as pilot:
            light = app.get_theme("light")
            assert light is not None and light.background is not None
            assert app.screen.styles.background == Color.parse(light.background)
            assert reparsed == []
            await app.started()  # the panes built after the first frame: no reparse either
            assert reparsed == []
            app.theme = "dark"  # from the palette: parsed again, with its variables
            await pilot.pause()
            assert len(reparsed) == 1
