"""The app's tests start from an app that has started: its hidden tabs' panes are built
after the first frame (:meth:`SmtpTui.started`), and a test that reads them at once would
race that."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
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
