"""The app's tests (and snapshots) start from an app that has started: its hidden tabs'
panes are built after the first frame (:meth:`SmtpTui.started`), and a test that reads them
at once would race that."""

from __future__ import annotations

import contextlib
import inspect
import pickle
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pytest_textual_snapshot import node_to_report_path
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from smtptui.ui.app import SmtpTui

from support.svg_text import screen_diff


@pytest.fixture(autouse=True)
def started_apps(monkeypatch: pytest.MonkeyPatch) -> None:
    run_test = SmtpTui.run_test

    @contextlib.asynccontextmanager
    async def started(app: SmtpTui, *args: Any, **kwargs: Any) -> AsyncIterator[Pilot[None]]:
        async with run_test(app, *args, **kwargs) as pilot:
            await app.started()
            yield pilot

    monkeypatch.setattr(SmtpTui, "run_test", started)


@pytest.fixture
def snap_compare(
    snap_compare: Callable[..., bool], request: pytest.FixtureRequest
) -> Callable[..., bool]:
    """pytest-textual-snapshot's, drawing an app once it has started, with steady cursors;
    a mismatch prints the lines that changed (pytest shows them with the failure)."""

    def compare(app: App[Any], *args: Any, run_before: Any = None, **kwargs: Any) -> bool:
        async def started_first(pilot: Pilot[Any]) -> None:
            if isinstance(pilot.app, SmtpTui):
                await pilot.app.started()
            steady_cursors(pilot.app)
            if run_before is not None and inspect.isawaitable(done := run_before(pilot)):
                await done
            steady_cursors(pilot.app)  # and in the screens opened since

        if snap_compare(app, *args, run_before=started_first, **kwargs):
            return True
        _, expected, actual, *_ = pickle.loads(node_to_report_path(request.node).read_bytes())
        print(screen_diff(expected or "", actual) or "the text is the same; styles differ")
        return False

    return compare


def steady_cursors(app: App[Any]) -> None:
    """Stop every field's cursor blinking, in every screen (``app.query`` reaches only one):
    a blinking cursor is drawn or not depending on the moment of the screenshot."""
    for screen in app.screen_stack:
        for field in screen.query("Input, TextArea"):
            assert isinstance(field, Input | TextArea)
            field.cursor_blink = False
