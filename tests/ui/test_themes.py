"""Themes: the shipped files, the user's own, broken ones, choosing and remembering one, and
the colours reaching the screen (tests/cli/test_packaging.py: the wheel carrying the files)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.color import Color
from rich.style import Style
from textual.widgets import Checkbox, RadioButton, TabbedContent

from smtptui.config import remembered_theme
from smtptui.session import EntryKind
from smtptui.ui.app import SmtpTui
from smtptui.ui.themes import (
    DEFAULT,
    TRANSCRIPT_COLOURS,
    ThemeError,
    builtin_dir,
    load_theme,
    load_themes,
    user_dir,
)
from smtptui.ui.transcript import TranscriptView

from support.entries import PaneApp, entry, received, visible

ROOT = Path(__file__).parents[2]  # the repository
SHIPPED = {"dark", "light", "high-contrast", "solarized-dark"}

GOOD = """
name = "mine"
dark = false
[colors]
primary = "#336699"
[transcript]
reply-5xx = "#aa0000"
reply-5xx-style = "bold underline"
[marks]
5xx = "✗"
"""


def write_theme(name: str, text: str) -> Path:
    folder = user_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- the files --------------------------------------------------------------------------


def test_the_shipped_themes_load() -> None:
    themes, problems = load_themes()
    assert problems == []
    assert set(themes) == SHIPPED and DEFAULT in themes
    assert builtin_dir() == ROOT / "themes"  # a checkout; test_packaging covers the package
    assert not themes["light"].theme.dark and themes["dark"].theme.dark
    # Every shipped theme names every transcript colour: none falls back by accident.
    for loaded in themes.values():
        assert {f"smtp-{key}" for key in TRANSCRIPT_COLOURS} <= set(loaded.theme.variables)


def test_high_contrast_tells_reply_classes_apart_without_colour() -> None:
    theme = load_theme(builtin_dir() / "high-contrast.toml")
    assert set(theme.marks) == {2, 3, 4, 5} and len(set(theme.marks.values())) == 4
    styles = {theme.theme.variables[f"smtp-reply-{n}xx-style"] for n in (4, 5)}
    assert len(styles) == 2 and all("bold" in style for style in styles)


def test_a_user_theme_is_added_and_may_replace_a_shipped_one() -> None:
    write_theme("mine", GOOD)
    write_theme("light", GOOD.replace('"mine"', '"light"'))
    themes, problems = load_themes()
    assert problems == [] and {"mine", "light"} <= set(themes)
    assert themes["light"].theme.primary == "#336699"  # the user's, not the shipped one
    assert themes["mine"].marks == {5: "✗"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name = [", "not valid TOML"),
        (GOOD.replace("[marks]", "[markers]"), "unknown key 'markers'"),
        (GOOD.replace("#336699", "not-a-colour"), "`colors.primary` is not a colour"),
        (GOOD.replace("bold underline", "loud"), "`transcript.reply-5xx-style` is not a text"),
        (GOOD.replace('"✗"', '"XX"'), "`marks.5xx` must be one character wide"),
        (GOOD.replace('reply-5xx = "#aa0000"', 'blink = "#aa0000"'), "unknown key 'blink'"),
        (GOOD.replace('primary = "#336699"', 'accent = "#336699"'), "needs at least `primary`"),
        (GOOD.replace("dark = false", 'dark = "no"'), "`dark` must be true or false"),
    ],
)
def test_a_broken_theme_names_its_file_and_problem(text: str, problem: str) -> None:
    path = write_theme("broken", text)
    with pytest.raises(ThemeError) as raised:
        load_theme(path)
    assert str(path) in str(raised.value) and problem in str(raised.value)
    themes, problems = load_themes()
    assert set(themes) == SHIPPED and problems == [str(raised.value)]


# -- the app ----------------------------------------------------------------------------


async def test_the_theme_asked_for_is_used_and_remembered() -> None:
    app = SmtpTui(theme="light")
    async with app.run_test(size=(100, 30)):
        assert app.theme == "light" and app.current_theme.dark is False
        assert set(app.available_themes) == SHIPPED  # the palette offers these, no others
    assert remembered_theme() == "light"

    app = SmtpTui()  # next time, without asking
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.theme == "light"
        app.theme = "solarized-dark"  # as the palette's theme picker does
        await pilot.pause()
    assert remembered_theme() == "solarized-dark"


async def test_a_broken_theme_is_reported_and_the_app_starts_with_the_default() -> None:
    path = write_theme("broken", "name = [")
    app = SmtpTui(theme="broken")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.theme == DEFAULT
        errors = [e.text for e in app.controller.transcript if e.kind is EntryKind.ERROR]
        assert any(str(path) in text and "not valid TOML" in text for text in errors)
        assert any("No theme named 'broken'" in text for text in errors)
    assert remembered_theme() is None


async def test_the_transcript_takes_its_colours_and_signs_from_the_theme() -> None:
    refused = received(b"550 5.1.1 unknown\r\n", 0.001)
    app = SmtpTui(theme="high-contrast")
    async with app.run_test(size=(120, 30)) as pilot:
        view = app.query_one(TranscriptView)
        view.load([entry(EntryKind.SENT, "RCPT TO:<x@y>"), refused])
        await pilot.pause()
        line = next(view.render_line(y) for y in range(30) if "550" in view.render_line(y).text)
        assert line.text.startswith("<-✗ 550 5.1.1 unknown")
        code = next(segment for segment in line if segment.text == "550")
        assert code.style.bold and code.style.reverse
        expected = app.theme_variables["smtp-reply-5xx"]
        assert code.style.color == Style.parse(expected).color

        app.theme = "dark"  # no signs there
        await pilot.pause()
        assert any(line.startswith("<-  550 ") for line in visible(view))


async def test_the_transcript_works_in_any_themed_app() -> None:
    app = PaneApp([received(b"250 ok\r\n")])
    async with app.run_test(size=(40, 5)):
        assert visible(app.query_one(TranscriptView))[0] == "<-  250 ok"


def test_no_colour_is_written_outside_the_themes() -> None:
    """Colours in the code are theme variables; hex values and colour names are not."""
    literal = re.compile(r"#[0-9a-fA-F]{3,8}\b|\b(?:color|bgcolor)=\"|\bStyle\.parse\(")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in (ROOT / "smtptui").rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if literal.search(line)
    ]
    assert offenders == []


# -- the command line --------------------------------------------------------------------


def test_an_unknown_theme_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "smtptui", "--theme", "nosuch"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "no theme named 'nosuch'" in result.stderr and "high-contrast" in result.stderr


# -- the cursor and the boxes, unmistakable in every theme ---------------------------------

TEXT_COLOURS = ("sent", "info", "tls", "reply-2xx", "reply-3xx", "reply-4xx", "flag", "note")
"""The transcript's text colours drawn on the cursor's background (not the reversed ones)."""


def contrast(one: Color, other: Color) -> float:
    """WCAG 2's contrast ratio of two colours, 1 to 21."""

    def luminance(colour: Color) -> float:
        def linear(value: int) -> float:
            c = value / 255
            return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = colour.triplet or (0, 0, 0)
        return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)

    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("theme", sorted(SHIPPED))
async def test_the_cursor_and_the_boxes_are_unmistakable(theme: str) -> None:
    app = SmtpTui(theme=theme)
    async with app.run_test(size=(120, 30)) as pilot:
        view = app.query_one(TranscriptView)
        cursor = view.get_component_rich_style("transcript--cursor").bgcolor
        pane = view.rich_style.bgcolor
        assert cursor is not None and pane is not None
        assert contrast(cursor, pane) >= 1.5, "the cursor's row does not stand out"
        for name in TEXT_COLOURS:
            text = Style.parse(app.theme_variables[f"smtp-{name}"]).color
            assert text is not None and contrast(text, cursor) >= 3, name

        for tab, box, ticked in [
            ("compose", app.query_one("#raw", Checkbox), False),
            ("compose", app.query_one("#raw", Checkbox), True),
            ("connection", app.query_one("#security-tls", RadioButton), False),
            ("connection", app.query_one("#security-starttls", RadioButton), True),
        ]:
            app.query_one(TabbedContent).active = f"tab-{tab}"
            box.value = ticked
            await pilot.pause()
            left, sign = list(box.render_line(0))[:2]
            assert left.text == box.BUTTON_LEFT and sign.text == box.BUTTON_INNER
            assert sign.style is not None and left.style is not None
            shown = sign.style.color != sign.style.bgcolor
            assert shown is ticked  # unticked: an empty box; ticked: its sign, in bold
            assert bool(sign.style.bold) is ticked
            inside, around = sign.style.bgcolor, left.style.bgcolor
            assert inside is not None and around is not None
            assert contrast(inside, around) >= 1.5, "the box does not stand out"
