"""Themes as TOML files: the ones shipped in ``themes/`` and the user's own.

A theme file names Textual's colours (``[colors]``), the transcript's colours and styles
(``[transcript]``, each becoming a ``$smtp-…`` CSS variable) and, optionally, a sign per
reply class (``[marks]``) for telling classes apart without colour. A file that cannot be
read becomes a problem naming the file and what is wrong; the others still load.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rich.cells import cell_len
from textual.app import App
from textual.binding import Binding
from textual.color import Color, ColorParseError
from textual.css.constants import VALID_STYLE_FLAGS
from textual.theme import Theme

import smtptui
from smtptui.config import config_dir
from smtptui.session.keymap import key_name

DEFAULT = "dark"

COLOURS = ("primary", "secondary", "accent", "foreground", "background", "surface", "panel")
COLOURS += ("success", "warning", "error")
"""The keys of ``[colors]``: Textual's theme colours (``primary`` is required)."""

TRANSCRIPT_COLOURS = {
    "sent": "text-primary",
    "info": "text-muted",
    "tls": "text-secondary",
    "reply-2xx": "text-success",
    "reply-3xx": "text-accent",
    "reply-4xx": "text-warning",
    "reply-5xx": "text-error",
    "error": "text-error",
    "note": "text-muted",
    "flag": "text-warning",
    "match": "warning",
    "cursor": "primary-muted",
    "lock": "success",
    "unverified": "warning",
    "box": "scrollbar",
}
"""The colours of ``[transcript]``, and the Textual colour each follows when left out
(``lock`` and ``unverified`` are the status line's, ``box`` the checkboxes' and radio
buttons')."""

TRANSCRIPT_STYLES = {
    "reply-4xx-style": "none",
    "reply-5xx-style": "none",
    "error-style": "bold",
    "unverified-style": "bold",
}
"""The text styles of ``[transcript]`` and their defaults."""

MARKS = ("2xx", "3xx", "4xx", "5xx")


class ThemeError(Exception):
    """A theme file that cannot be used: the message names the file and the problem."""


@dataclass(frozen=True)
class SmtpTheme:
    """A loaded theme: Textual's part, and the reply signs (class 2 to 5 → one cell)."""

    theme: Theme
    marks: Mapping[int, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.theme.name


def builtin_dir() -> Path:
    """The shipped themes: inside the package when installed, ``themes/`` in a checkout."""
    packaged = Path(smtptui.__file__).parent / "themes"
    return packaged if packaged.is_dir() else Path(smtptui.__file__).parent.parent / "themes"


def user_dir() -> Path:
    """Where the user's own theme files go."""
    return config_dir() / "themes"


def load_themes() -> tuple[dict[str, SmtpTheme], list[str]]:
    """Every usable theme by name, the user's overriding shipped ones of the same name, and
    the problems of the files that could not be used."""
    themes: dict[str, SmtpTheme] = {}
    problems: list[str] = []
    for folder in (builtin_dir(), user_dir()):
        for path in sorted(folder.glob("*.toml")) if folder.is_dir() else ():
            try:
                loaded = load_theme(path)
            except ThemeError as error:
                problems.append(str(error))
            else:
                themes[loaded.name] = loaded
    return themes, problems


def load_theme(path: Path) -> SmtpTheme:
    """The theme in ``path``; raises :class:`ThemeError` saying what is wrong where."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ThemeError(f"theme {path}: cannot be read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ThemeError(f"theme {path}: not valid TOML: {error}") from None
    try:
        return _theme(data, path.stem)
    except ValueError as error:
        raise ThemeError(f"theme {path}: {error}") from None


def _theme(data: dict[str, object], stem: str) -> SmtpTheme:
    _known(data, ("name", "dark", "colors", "transcript", "marks"), "")
    name = data.get("name", stem)
    if not isinstance(name, str) or not name.strip():
        raise ValueError("`name` must be a non-empty string")
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ValueError("`dark` must be true or false")
    colours = _table(data, "colors")
    _known(colours, COLOURS, "colors")
    if "primary" not in colours:
        raise ValueError("[colors] needs at least `primary`")
    transcript = _table(data, "transcript")
    _known(transcript, (*TRANSCRIPT_COLOURS, *TRANSCRIPT_STYLES), "transcript")
    variables = {}
    for key, value in transcript.items():
        check = _style if key in TRANSCRIPT_STYLES else _colour
        variables[f"smtp-{key}"] = check(value, f"transcript.{key}")
    marks = _table(data, "marks")
    _known(marks, MARKS, "marks")
    return SmtpTheme(
        Theme(
            name=name,
            dark=dark,
            variables=variables,
            **{key: _colour(value, f"colors.{key}") for key, value in colours.items()},
        ),
        {int(key[0]): _mark(value, f"marks.{key}") for key, value in marks.items()},
    )


def variable_defaults(theme: Theme) -> dict[str, str]:
    """The ``$smtp-…`` variables a theme leaves out, from its Textual colours."""
    generated = theme.to_color_system().generate()
    defaults = {f"smtp-{key}": generated[base] for key, base in TRANSCRIPT_COLOURS.items()}
    return defaults | {f"smtp-{key}": style for key, style in TRANSCRIPT_STYLES.items()}


class ThemedApp(App[None]):
    """An app whose CSS may use the ``$smtp-…`` variables: a theme that leaves one out gets
    it from its own colours. (The transcript pane needs them.)

    Its checkboxes and radio buttons differ by shape, not colour alone: an unticked one is
    an empty box (Textual draws the same ``X`` or ``●`` both ways, told apart only by a
    colour close to the box's in some themes), a ticked one its sign, bold, in the success
    colour, focused or not. The box is ``$smtp-box``, which each theme sets to stand out
    from its background."""

    DEFAULT_CSS = """
    ToggleButton > .toggle--button,
    RadioSet > RadioButton:enabled > .toggle--button,
    RadioSet > RadioButton:disabled > .toggle--button {  /* RadioSet's own rule is closer */
        color: $smtp-box;
        background: $smtp-box;
    }
    ToggleButton.-on > .toggle--button, RadioSet > RadioButton.-on > .toggle--button {
        color: $text-success;
        background: $smtp-box;
        text-style: bold;
    }
    """

    def get_key_display(self, binding: Binding) -> str:
        """A key as the footer, the help, the palette and the advice name it (``F2``,
        ``Ctrl+P``), in every smtptui app."""
        return key_name(binding.key)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return variable_defaults(self.current_theme)

    def refresh_css(self, animate: bool = True) -> None:
        """A theme chosen before there is a screen (in ``__init__``) needs only its
        variables: the stylesheet is first parsed for the first screen, with them (Textual
        would parse the app's CSS for it now, and again then)."""
        if self.screen_stack:
            super().refresh_css(animate)
        else:
            self.stylesheet.set_variables(self.get_css_variables())


def _table(data: Mapping[str, object], key: str) -> dict[str, object]:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise ValueError(f"[{key}] must be a table")
    return table


def _known(table: Mapping[str, object], keys: Iterable[str], where: str) -> None:
    unknown = sorted(set(table) - set(keys))
    if unknown:
        place = f" in [{where}]" if where else ""
        raise ValueError(f"unknown key {unknown[0]!r}{place}; known: {', '.join(keys)}")


def _colour(value: object, key: str) -> str:
    try:
        Color.parse(value)  # type: ignore[arg-type]
    except (ColorParseError, TypeError):
        raise ValueError(f"`{key}` is not a colour: {value!r}") from None
    return str(value)


def _style(value: object, key: str) -> str:
    words = value.split() if isinstance(value, str) else []
    if not words or any(word not in VALID_STYLE_FLAGS for word in words):
        known = ", ".join(sorted(VALID_STYLE_FLAGS))
        raise ValueError(f"`{key}` is not a text style: {value!r} (known: {known})")
    return str(value)


def _mark(value: object, key: str) -> str:
    if not isinstance(value, str) or cell_len(value) != 1:
        raise ValueError(f"`{key}` must be one character wide: {value!r}")
    return value
