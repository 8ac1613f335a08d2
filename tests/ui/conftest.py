"""The app's tests (and snapshots) start from an app that has started: its hidden tabs'
panes are built after the first frame (:meth:`SmtpTui.started`), and a test that reads them
at once would race that."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot

from smtptui.ui.app import SmtpTui


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
def snap_compare(snap_compare: Callable[..., bool]) -> Callable[..., bool]:
    """pytest-textual-snapshot's, drawing an app once it has started."""

    def compare(app: App[Any], *args: Any, run_before: Any = None, **kwargs: Any) -> bool:
        async def started_first(pilot: Pilot[Any]) -> None:
            if isinstance(pilot.app, SmtpTui):
                await pilot.app.started()
            if run_before is not None and inspect.isawaitable(done := run_before(pilot)):
                await done

        return snap_compare(app, *args, run_before=started_first, **kwargs)

    return compare
