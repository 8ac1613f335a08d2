"""Headless Chromium driven over the DevTools protocol (aiohttp's websocket client), for
``smtptui web``: open a page, read the terminal textual-serve draws, take a screenshot.

textual-serve draws with xterm.js on a canvas, so the text is not in the DOM: a script run
before the page's own catches its xterm ``Terminal`` (the first object given a
``webglAddon``, textual-serve's terminal wrapper) and the test reads the rows from its buffer
through xterm's public API."""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

FLAGS = (
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # the page's web font: fail fast
    "--remote-debugging-port=0",
)
"""Nothing fetched but the page asked for: no updates, no sync, no name but 127.0.0.1 found
(textual-serve's page links a Google font, which a closed network would make it wait for)."""

VIEW = {"width": 1280, "height": 800}
"""The page's size in CSS pixels, and the screenshot's in pixels."""

CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "webglAddon", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "webglAddon", {value, writable: true, configurable: true});
    window.smtptuiTerminal = this.terminal;
  },
});
"""

READ_ROWS = """
(() => {
  const terminal = window.smtptuiTerminal;
  if (!terminal) return "";
  const buffer = terminal.buffer.active, rows = [];
  for (let i = 0; i < buffer.length; i++) rows.push(buffer.getLine(i).translateToString(true));
  return rows.join("\\n");
})()
"""


class Page:
    """One tab, spoken to over the browser's DevTools websocket (a flattened session)."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse, session: str | None = None):
        self.socket = socket
        self.session = session
        self._ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call ``method`` and return its result (events in between are skipped)."""
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params}
        if self.session is not None:
            message["sessionId"] = self.session
        await self.socket.send_json(message)
        while True:
            answer = await self.socket.receive_json()
            if answer.get("id") == message_id:
                assert "error" not in answer, answer
                return answer["result"]

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def terminal_text(self, *wanted: str) -> str:
        """The terminal's rows once every one of ``wanted`` is in them (checked every tenth
        of a second; the test's timeout bounds the wait)."""
        while True:
            text = await self.evaluate(READ_ROWS)
            if all(word in text for word in wanted):
                return text
            await asyncio.sleep(0.1)

    async def screenshot(self, path: Path) -> bytes:
        data = base64.b64decode((await self.send("Page.captureScreenshot", format="png"))["data"])
        path.write_bytes(data)
        return data


async def _devtools_url(written: Path, process: asyncio.subprocess.Process) -> str:
    """The browser's DevTools websocket, from the file Chromium writes once it listens (its
    port, then the path)."""
    while not written.exists() or len(lines := written.read_text().split()) < 2:
        assert process.returncode is None, f"Chromium ended ({process.returncode})"
        await asyncio.sleep(0.1)
    return f"ws://127.0.0.1:{lines[0]}{lines[1]}"


@asynccontextmanager
async def chromium(profile: Path) -> AsyncIterator[Page]:
    """Headless Chromium with a fresh ``profile`` directory, and a blank tab in it whose
    terminal (if a textual-serve page is opened) :meth:`Page.terminal_text` reads."""
    assert CHROMIUM is not None
    flags = [*FLAGS, f"--user-data-dir={profile}"]
    if os.geteuid() == 0:
        flags.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        *flags,
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        url = await _devtools_url(profile / "DevToolsActivePort", process)
        async with (
            aiohttp.ClientSession() as client,
            client.ws_connect(url, max_msg_size=0) as socket,
        ):
            browser = Page(socket)
            target = (await browser.send("Target.createTarget", url="about:blank"))["targetId"]
            attached = await browser.send("Target.attachToTarget", targetId=target, flatten=True)
            page = Page(socket, attached["sessionId"])
            await page.send("Page.enable")
            await page.send(
                "Emulation.setDeviceMetricsOverride", mobile=False, deviceScaleFactor=1, **VIEW
            )
            await page.send("Page.addScriptToEvaluateOnNewDocument", source=CATCH_TERMINAL)
            yield page
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()
