"""``smtptui web``: the UI served by textual-serve, opened in headless Chromium (issue 17,
part 5), and what it refuses before it serves anything."""

from __future__ import annotations

import asyncio
import signal
import socket
import struct
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from smtptui.cli_web import is_loopback

from support.chromium import CHROMIUM, VIEW, chromium
from support.processes import printed, smtptui_sync
from support.proxies import free_port

WITHOUT_TEXTUAL_SERVE = """
import sys
sys.modules["textual_serve"] = None  # as if `pip install smtptui` had not brought it
sys.argv = ["smtptui", "web", "--demo"]
from smtptui.__main__ import main
main()
"""


@asynccontextmanager
async def serving(*args: str) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """``smtptui web ARGS`` on a free port: the URL it printed, and the process (stopped with
    Ctrl+C's signal at the end if still running)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "smtptui",
        "web",
        "--port",
        str(free_port()),
        *args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = printed(await process.stdout.readline())
        assert line.startswith("smtptui in the browser at http://127.0.0.1:"), line
        yield line.split()[5], process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            await process.wait()


async def stopped(process: asyncio.subprocess.Process) -> tuple[int, str]:
    """Ctrl+C (SIGINT) to ``process``: its exit status and everything it printed after."""
    process.send_signal(signal.SIGINT)
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, printed(out + err)


def png_size(data: bytes) -> tuple[int, int]:
    """A PNG's width and height, from its IHDR chunk (which must come first)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (Debian: apt install chromium)")
@pytest.mark.timeout(180)
async def test_the_demo_in_headless_chromium_shows_the_panes(tmp_path: Path) -> None:
    """Each tab runs the app ``smtptui --demo`` opens: its own embedded server, the
    Connection pane, the transcript welcoming the user; then Ctrl+C stops it all cleanly."""
    async with serving("--demo") as (url, process), chromium(tmp_path / "profile") as page:
        await page.send("Page.navigate", url=url)
        text = await page.terminal_text("Connection", "Transcript", "Demo server on 127.0.0.1:")
        assert "Compose" in text and "F2" in text  # the other tabs, the footer's keys
        shot = await page.screenshot(tmp_path / "web.png")
        assert png_size(shot) == (VIEW["width"], VIEW["height"])
        assert len(shot) > 20_000  # a drawn screen, not a blank page
        status, output = await stopped(process)
    assert status == 0, output
    assert "Traceback" not in output


async def test_ctrl_c_stops_it_cleanly() -> None:
    async with serving() as (_, process):
        status, output = await stopped(process)
    assert status == 0
    assert output == ""


def test_a_port_in_use_is_said_before_any_url() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = smtptui_sync("web", "--port", str(port))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: cannot listen on http://127.0.0.1:{port}: ")
    assert "address already in use" in result.stderr


def test_a_host_others_can_reach_is_refused_unless_allowed() -> None:
    result = smtptui_sync("web", "--host", "0.0.0.0")
    assert result.returncode == 2
    assert "0.0.0.0 can be reached from other machines" in result.stderr
    assert "--allow-remote" in result.stderr


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False), ("::", False)],
)
def test_only_loopback_addresses_count_as_this_machine_alone(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--theme", "nope"], "no theme named 'nope'"),
        (["--demo", "-P", "work"], "give --demo or --profile, not both"),
        (["-P", "nowhere"], "no profile named 'nowhere'"),
        (["--bogus"], "No such option '--bogus'"),
    ],
)
def test_the_ui_options_are_checked_before_anything_is_served(args: list[str], said: str) -> None:
    """Said at once, as ``smtptui`` would say it, not in a browser tab that ends."""
    result = smtptui_sync("web", *args)
    assert result.returncode == 2
    assert said in result.stderr
    assert "Traceback" not in result.stderr


def test_without_textual_serve_it_says_what_to_install() -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_TEXTUAL_SERVE], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr == (
        "Error: smtptui web needs textual-serve (textual_serve is not installed): "
        "pip install 'smtptui[web]'\n"
    )
