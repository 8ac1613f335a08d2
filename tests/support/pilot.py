"""Driving the app like a person: a key per step, waiting for what each step starts."""

from __future__ import annotations

import asyncio

from textual.pilot import Pilot

from smtptui.ui.transcript import TranscriptView

STEP_TIMEOUT = 5.0
"""Seconds any one step may take against a local server before the test gives up."""


async def settle(pilot: Pilot[None]) -> None:
    """Wait for the session's worker to finish and the transcript's batch to be drawn."""
    await asyncio.wait_for(pilot.app.workers.wait_for_complete(), STEP_TIMEOUT)
    await pilot.pause()
    pilot.app.query_one(TranscriptView).flush()
    await pilot.pause()


async def step(pilot: Pilot[None], *keys: str) -> None:
    """Press each key and wait for the step it starts to finish."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)
