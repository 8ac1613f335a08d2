"""Profiles in the UI: the name to save the panes as, and the profile to open."""

from __future__ import annotations

from collections.abc import Mapping

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from smtptui.config import ConfigError, Profile, check_name
from smtptui.session.visible import visible
from smtptui.ui.dialog import Dialog
from smtptui.ui.path import PathScreen


class NameScreen(PathScreen[str]):
    """Ask for the name to save the profile as; a bad one is named in the dialog, which
    stays open with what was typed. Esc or Cancel answers None."""

    def __init__(self, where: str, known: tuple[str, ...] = ()) -> None:
        note = (
            f"The Connection, Auth and Compose settings go into [profiles.NAME] in {where}, "
            "without the password: name where it comes from with password_env or "
            "password_command there."
        )
        if known:
            note += f" Saving as one of {', '.join(known)} replaces it."
        super().__init__(
            "Save as profile",
            _name,
            note=visible(note),
            action="Save",
            placeholder="name: work, gmail, staging",
        )


def _name(typed: str) -> str:
    """The profile name typed; ValueError (a ConfigError) saying why it cannot be one."""
    name = typed.strip()
    try:
        check_name(name)
    except ConfigError as error:
        raise ConfigError(str(error).capitalize()) from None
    return name


class ProfileScreen(Dialog[str | None]):
    """Pick a profile to open (Enter or a click); Esc answers None."""

    AUTO_FOCUS = "OptionList"
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    DEFAULT_CSS = """
    ProfileScreen OptionList { height: auto; max-height: 16; margin-top: 1; }
    """

    def __init__(self, profiles: Mapping[str, Profile], where: str) -> None:
        super().__init__()
        self.profiles = profiles
        self.where = where

    def compose(self) -> ComposeResult:
        with Vertical() as dialog:
            dialog.border_title = "Open a profile"
            dialog.border_subtitle = "Enter: open · Esc cancels"
            yield Static(visible(f"From {self.where}"), markup=False)
            yield OptionList(
                *(
                    Option(Content(visible(_label(name, each))), id=name)
                    for name, each in self.profiles.items()
                )
            )

    @on(OptionList.OptionSelected)
    def _open(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


def _label(name: str, profile: Profile) -> str:
    """``work  mail.example.org · me``: a profile as the list shows it."""
    about = " · ".join(each for each in (profile.host, profile.user) if each)
    return f"{name}  {about}" if about else name
