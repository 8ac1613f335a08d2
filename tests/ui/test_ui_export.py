"""The export dialog and the quit prompt: what they return for what the user does, and how
they look at 80x24. Update the look with ``--snapshot-update`` and look at the SVGs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Static

from smtptui.session.export import ExportFormat
from smtptui.ui.export import ExportRequest, ExportScreen, QuitScreen

NAMES = {
    ExportFormat.SWAKS: "smtptui-127.0.0.1-20240101-120000.txt",
    ExportFormat.JSONL: "smtptui-127.0.0.1-20240101-120000.jsonl",
}
SIZE = (100, 30)

SnapCompare = Callable[..., bool]


class Host(App[None]):
    """Pushes ``dialog`` at start and keeps what it returns in ``results``."""

    def __init__(self, dialog: ModalScreen[object]) -> None:
        super().__init__()
        self.dialog = dialog
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.results.append)


def export_app(directory: Path, *, connections: int = 1, secrets: bool = False) -> Host:
    return Host(ExportScreen(directory, NAMES, connections, secrets))


def file_input(pilot: Pilot[None]) -> Input:
    return pilot.app.screen.query_one("#file", Input)


def message(pilot: Pilot[None]) -> str | None:
    """The message under the file name, None when none is shown."""
    shown = pilot.app.screen.query_one("#message", Static)
    return str(shown.render()) if shown.display else None


async def type_path(pilot: Pilot[None], text: str) -> None:
    """Replace the file name with ``text`` as the user would: select all, then type."""
    file = file_input(pilot)
    file.focus()
    file.select_all()
    await pilot.press("backspace", *text)


async def test_defaults_export_the_shown_connection_redacted(tmp_path: Path) -> None:
    app = export_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        assert pilot.app.focused is file_input(pilot)
        assert file_input(pilot).value == str(tmp_path / NAMES[ExportFormat.SWAKS])
        assert file_input(pilot).cursor_position == len(file_input(pilot).value)
        await pilot.press("enter")
    expected = ExportRequest(tmp_path / NAMES[ExportFormat.SWAKS], ExportFormat.SWAKS, True, False)
    assert app.results == [expected]


async def test_export_button_submits(tmp_path: Path) -> None:
    app = export_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#export")
    [request] = app.results
    assert isinstance(request, ExportRequest)
    assert request.path == tmp_path / NAMES[ExportFormat.SWAKS]


async def test_json_lines_swaps_the_name(tmp_path: Path) -> None:
    app = export_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#format-jsonl")
        assert file_input(pilot).value == str(tmp_path / NAMES[ExportFormat.JSONL])
        await pilot.click("#format-swaks")
        assert file_input(pilot).value == str(tmp_path / NAMES[ExportFormat.SWAKS])
        await pilot.click("#format-jsonl")
        await pilot.click("#export")
    expected = ExportRequest(tmp_path / NAMES[ExportFormat.JSONL], ExportFormat.JSONL, True, False)
    assert app.results == [expected]


async def test_an_edited_name_keeps_all_but_its_suffix(tmp_path: Path) -> None:
    app = export_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await type_path(pilot, f"{tmp_path}/notes.txt")
        await pilot.click("#format-jsonl")
        assert file_input(pilot).value == f"{tmp_path}/notes.jsonl"
        await type_path(pilot, f"{tmp_path}/notes.log")
        await pilot.click("#format-swaks")
        assert file_input(pilot).value == f"{tmp_path}/notes.log"


async def test_including_secrets_warns_and_stops_redaction(tmp_path: Path) -> None:
    app = export_app(tmp_path, secrets=True)
    async with app.run_test(size=SIZE) as pilot:
        warning = pilot.app.screen.query_one("#warning", Static)
        assert not warning.display
        await pilot.click("#secrets")
        assert warning.display
        assert str(warning.render()) == "The file will contain the password in clear text"
        await pilot.click("#export")
    [request] = app.results
    assert isinstance(request, ExportRequest)
    assert request.redact is False


async def test_no_secrets_no_checkbox(tmp_path: Path) -> None:
    app = export_app(tmp_path, secrets=False)
    async with app.run_test(size=SIZE) as pilot:
        assert not pilot.app.screen.query("#secrets, #warning")
        await pilot.press("enter")
    [request] = app.results
    assert isinstance(request, ExportRequest)
    assert request.redact is True


async def test_one_connection_no_everything_checkbox(tmp_path: Path) -> None:
    app = export_app(tmp_path, connections=1)
    async with app.run_test(size=SIZE) as pilot:
        assert not pilot.app.screen.query("#everything")


async def test_everything_checkbox_with_several_connections(tmp_path: Path) -> None:
    app = export_app(tmp_path, connections=3)
    async with app.run_test(size=SIZE) as pilot:
        everything = pilot.app.screen.query_one("#everything", Checkbox)
        assert str(everything.label) == "All 3 connections of this run"
        assert not everything.value
        await pilot.click("#everything")
        await pilot.click("#export")
    [request] = app.results
    assert isinstance(request, ExportRequest)
    assert request.everything is True


@pytest.mark.parametrize("how", ["escape", "#cancel"])
async def test_cancel_returns_none(tmp_path: Path, how: str) -> None:
    app = export_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await (pilot.press(how) if how == "escape" else pilot.click(how))
    assert app.results == [None]


async def test_empty_path_is_refused(tmp_path: Path) -> None:
    app = export_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await type_path(pilot, "  ")
        await pilot.press("enter")
        assert message(pilot) == "Type the name of the file to write"
        assert file_input(pilot).value == "  "
        assert isinstance(pilot.app.screen, ExportScreen)
        await pilot.press("x")
        assert message(pilot) is None
    assert app.results == []


async def test_missing_directory_is_refused(tmp_path: Path) -> None:
    app = export_app(tmp_path)
    typed = f"{tmp_path}/nowhere/out.txt"
    async with app.run_test(size=SIZE) as pilot:
        await type_path(pilot, typed)
        await pilot.click("#export")
        assert message(pilot) == f"No such directory: {tmp_path / 'nowhere'}"
        assert file_input(pilot).value == typed
        assert isinstance(pilot.app.screen, ExportScreen)
    assert app.results == []


async def test_existing_file_needs_a_second_export(tmp_path: Path) -> None:
    existing = tmp_path / NAMES[ExportFormat.SWAKS]
    existing.write_text("old\n")
    app = export_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        assert message(pilot) == "The file exists: press Export again to replace it"
        assert app.results == []
        await pilot.press("enter")
    assert app.results == [ExportRequest(existing, ExportFormat.SWAKS, True, False)]


async def test_editing_the_name_asks_again_before_replacing(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("old\n")
    app = export_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await type_path(pilot, f"{tmp_path}/a.txt")
        await pilot.press("enter")
        await pilot.press("backspace", "t")
        assert message(pilot) is None
        await pilot.press("enter")
        assert message(pilot) == "The file exists: press Export again to replace it"
    assert app.results == []


async def test_a_directory_is_refused(tmp_path: Path) -> None:
    app = export_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await type_path(pilot, str(tmp_path))
        await pilot.press("enter")
        assert message(pilot) == "That is a directory: add a file name"
    assert app.results == []


@pytest.mark.parametrize(
    ("typed", "where"), [("~/home.txt", "home.txt"), ("here.txt", "exports/here.txt")]
)
async def test_home_and_relative_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, typed: str, where: str
) -> None:
    """``~`` is the user's home; a relative name is in the dialog's directory."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "exports").mkdir()
    app = export_app(tmp_path / "exports")
    async with app.run_test(size=SIZE) as pilot:
        await type_path(pilot, typed)
        await pilot.press("enter")
    assert app.results == [ExportRequest(tmp_path / where, ExportFormat.SWAKS, True, False)]


async def test_quit_screen_text_and_focus() -> None:
    app = Host(QuitScreen(12))
    async with app.run_test(size=SIZE) as pilot:
        text = pilot.app.screen.query_one(Static)
        assert str(text.render()) == "The transcript has 12 entries that were not exported."
        assert isinstance(pilot.app.focused, Button)
        assert pilot.app.focused.id == "export"


@pytest.mark.parametrize(
    ("keys", "choice"),
    [
        (["enter"], "export"),
        (["right", "enter"], "quit"),
        (["right", "right", "enter"], "cancel"),
        (["escape"], "cancel"),
    ],
)
async def test_quit_screen_returns_the_choice(keys: list[str], choice: str) -> None:
    app = Host(QuitScreen(3))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*keys)
    assert app.results == [choice]


@pytest.mark.parametrize("button", ["export", "quit", "cancel"])
async def test_quit_screen_buttons(button: str) -> None:
    app = Host(QuitScreen(3))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click(f"#{button}")
    assert app.results == [button]


def test_export_screen_look(snap_compare: SnapCompare) -> None:
    """Two connections and a SASL exchange: every option shows; secrets on, so the warning."""

    async def run(pilot: Pilot[None]) -> None:
        pilot.app.screen.query_one("#secrets", Checkbox).value = True
        await pilot.pause()

    app = Host(ExportScreen(Path("/home/user"), NAMES, 2, True))
    assert snap_compare(app, terminal_size=(80, 24), run_before=run)


def test_quit_screen_look(snap_compare: SnapCompare) -> None:
    """Entries not exported: Export…, Quit without saving, Cancel; focus on Export…."""
    assert snap_compare(Host(QuitScreen(42)), terminal_size=(80, 24))
