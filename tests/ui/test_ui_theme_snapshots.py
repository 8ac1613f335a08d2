"""Each shipped theme's main screen at 80x24 and 120x40: the transcript's cursor on an
entry, and the Compose pane's checkboxes, one ticked and one not (issue 17: the cursor
and the boxes must be unmistakable in every theme). The server, app and scene are
test_ui_snapshots.py's, on its fixed port."""

from __future__ import annotations

import pytest
import ui.test_ui_snapshots as snapshots
from textual.pilot import Pilot
from textual.widgets import Checkbox, Collapsible

from smtptui.server import EmbeddedServer

server = snapshots.server  # the fixture: the embedded server on the snapshots' port

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
@snapshots.SIZES
def test_theme_main_screen(
    snap_compare: snapshots.SnapCompare, server: EmbeddedServer, size: tuple[int, int], theme: str
) -> None:
    """Connected, EHLO, STARTTLS, EHLO again; Compose shown; the cursor on an entry."""
    run = snapshots.scene("f2", "f3", "f4", "f3", tab="compose")

    async def run_before(pilot: Pilot[None]) -> None:
        await run(pilot)
        boxes(pilot)
        await pilot.pause()
        await cursor_up(pilot)

    app = snapshots.demo_app(server)
    app.theme = theme
    assert snap_compare(app, terminal_size=size, run_before=run_before)
