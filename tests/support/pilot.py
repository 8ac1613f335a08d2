"""Driving the app like a person: a key per step, waiting for what each step starts, and
answering what it asks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.screen import ModalScreen
from textual.widgets import Select, Static

from smtptui.ui.checks import CheckScreen
from smtptui.ui.dialog import ConfirmScreen
from smtptui.ui.transcript import TranscriptView

STEP_TIMEOUT = 5.0
"""Seconds any one step may take against a local server before the test gives up."""


async def until(pilot: Pilot[Any], done: Callable[[], bool], what: str = "it") -> None:
    """Let the app run until ``done()``, for at most :data:`STEP_TIMEOUT` seconds: what a
    step started is drawn a moment later, later still on a loaded machine."""
    started = time.monotonic()
    while not done():
        assert time.monotonic() - started < STEP_TIMEOUT, f"the app never showed {what}"
        await pilot.pause(0.02)


async def settle(pilot: Pilot[None]) -> None:
    """Wait for the sessions' workers to finish and the transcripts' batches to be drawn."""
    await asyncio.wait_for(pilot.app.workers.wait_for_complete(), STEP_TIMEOUT)
    await pilot.pause()
    for view in pilot.app.query(TranscriptView):
        view.flush()
    await pilot.pause()


async def step(pilot: Pilot[None], *keys: str) -> None:
    """Press each key and wait for the step it starts to finish."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def asked(
    pilot: Pilot[None], key: str, kind: type[ModalScreen[Any]] = ConfirmScreen
) -> ModalScreen[Any]:
    """Press ``key`` and wait for the step to ask (a ``kind`` dialog) before going on."""
    await pilot.press(key)
    started = time.monotonic()
    while not isinstance(pilot.app.screen, kind):
        assert time.monotonic() - started < STEP_TIMEOUT, f"{key} asked nothing"
        await pilot.pause(0.02)
    return pilot.app.screen


async def answer(pilot: Pilot[None], button: str) -> None:
    """Answer the confirmation dialog on screen, then let the step go on."""
    await pilot.click(f"#{button}")
    await settle(pilot)


async def choose(pilot: Pilot[None], selector: str, value: str) -> None:
    """Pick ``value`` in the Select ``selector`` with the keys a person would press: focus
    it, open it, move down to the option, Enter."""
    widget = pilot.app.query_one(selector, Select)
    values = [option_value for _, option_value in widget._options]
    widget.focus()
    await pilot.press("enter")
    await pilot.pause()
    moves = values.index(value) - values.index(widget.value)
    await pilot.press(*(["down"] * moves if moves > 0 else ["up"] * -moves), "enter")
    await pilot.pause()
    assert widget.value == value, f"{selector}: {widget.value!r}, not {value!r}"


async def checked(pilot: Pilot[None], timeout: float = 15) -> CheckScreen:
    """Wait for the check on screen (the probe, the TLS report) to finish; the screen."""
    screen = pilot.app.screen
    assert isinstance(screen, CheckScreen)
    started = time.monotonic()
    while screen._check is None or screen._check.is_running:
        assert time.monotonic() - started < timeout, "the check did not finish"
        await pilot.pause(0.05)
    await pilot.pause()
    return screen


def error_toasts(app: App[Any]) -> list[str]:
    """The error notifications ``app`` has on screen, oldest first."""
    return [note.message for note in app._notifications if note.severity == "error"]


async def help_words(pilot: Pilot[Any], key: str) -> str:
    """Press ``key``, which must open the help screen, and give the words of its text, one
    space apart (a key and what it does read as one phrase; what is scrolled out of view
    too)."""
    from smtptui.ui.help import HelpScreen  # here: the app imports it when first shown

    await pilot.press(key)
    app = pilot.app
    assert isinstance(app.screen, HelpScreen), f"{key} did not open the help"
    await pilot.pause()
    return " ".join(" ".join(str(text.render()) for text in app.screen.query(Static)).split())
