"""Profiles in the UI (issue 14, part 4): "Profile: Save as profile…" and "Profile: Open…"
from the command palette, a bad config.toml named with its line, no password saved."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from smtptui.cli import ui_app
from smtptui.config import Profile, load_config
from smtptui.session import Security, SessionSettings
from smtptui.ui.app import Draft, SmtpTui
from smtptui.ui.panes.auth import AuthPane
from smtptui.ui.panes.compose import ComposePane
from smtptui.ui.panes.connection import ConnectionPane
from smtptui.ui.profiles import NameScreen, ProfileScreen

from support.pilot import STEP_TIMEOUT, error_toasts, settle

SIZE = (120, 40)
SECRET = "typed-s3cret"


async def palette(pilot: Pilot[None], command: str) -> None:
    """Run ``command`` from the command palette, once it is the first match."""
    await pilot.press("ctrl+p", *command)
    started = time.monotonic()
    while True:
        assert isinstance(pilot.app.screen, CommandPalette)
        options = pilot.app.screen.query_one("CommandList", OptionList)
        if options.option_count and str(options.get_option_at_index(0).prompt).startswith(command):
            break
        assert time.monotonic() - started < STEP_TIMEOUT, f"{command!r} not in the palette"
        await pilot.pause(0.05)
    await pilot.press("enter")
    while isinstance(pilot.app.screen, CommandPalette):  # the command runs once it is gone
        assert time.monotonic() - started < STEP_TIMEOUT, f"{command!r} did not run"
        await pilot.pause(0.05)
    await settle(pilot)


async def test_save_as_profile_keeps_the_panes_settings_but_not_the_password(
    config_dir: Path,
) -> None:
    (config_dir / "config.toml").write_text("# mine\n[profiles.old]\nhost = 'o'\n")
    settings = SessionSettings(
        host="mail.example.org:587",
        security=Security.STARTTLS,
        verify=False,
        helo_name="laptop.example.org",
        username="me",
        password=SECRET,
        mechanism="PLAIN",
    )
    draft = Draft("me@example.org", ("you@example.org", "them@example.org"), "Hi", "Body\n")
    app = SmtpTui(settings, draft=draft)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(ConnectionPane).text("ehlo-name", "desk.example.org")  # the panes' say
        await palette(pilot, "Profile: Save as profile")
        assert isinstance(app.screen, NameScreen)
        await pilot.press("enter")  # no name yet: said in the dialog, which stays
        assert isinstance(app.screen, NameScreen)
        assert "A profile needs a name" in str(app.screen.query_one("#error", Static).content)
        await pilot.press(*"work", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, NameScreen)
        assert not error_toasts(app)
    text = (config_dir / "config.toml").read_text()
    assert text.startswith("# mine\n[profiles.old]\nhost = 'o'\n")
    assert load_config().profiles["work"] == Profile(
        host="mail.example.org:587",  # its port in it, as typed
        security="starttls",
        verify="none",
        ehlo="desk.example.org",
        user="me",
        mechanism="PLAIN",
        sender="me@example.org",
        recipients=("you@example.org", "them@example.org"),
    )
    files = [path for path in config_dir.rglob("*") if path.is_file()]
    assert not [path for path in files if SECRET.encode() in path.read_bytes()]


async def test_open_profile_fills_the_panes_and_the_password_from_its_place(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (config_dir / "config.toml").write_text(
        """[profiles.first]
host = "first.example"

[profiles.work]
host = "mail.example.org"
port = 2525
security = "tls"
user = "me"
password_env = "WORK_PASSWORD"
sender = "me@example.org"
recipients = ["you@example.org"]
"""
    )
    monkeypatch.setenv("WORK_PASSWORD", SECRET)
    app = SmtpTui(SessionSettings(host="before.example", reply_timeout=7))
    async with app.run_test(size=SIZE) as pilot:
        await palette(pilot, "Profile: Open")
        assert isinstance(app.screen, ProfileScreen)
        await pilot.press("down", "enter")  # the second: work
        await settle(pilot)
        assert not isinstance(app.screen, ProfileScreen)
        assert not error_toasts(app)
        settings = app.controller.settings
        assert settings.address() == ("mail.example.org", 2525)
        assert (settings.security, settings.username, settings.password) == (
            Security.TLS,
            "me",
            SECRET,
        )
        assert settings.reply_timeout == 7  # not a profile's: kept
        assert app.query_one(ConnectionPane).text("host") == "mail.example.org"
        assert app.query_one(AuthPane).text("username") == "me"
        compose = app.query_one(ComposePane)
        assert (compose.text("from"), compose.text("to")) == ("me@example.org", "you@example.org")


async def test_a_bad_config_file_is_a_notification_naming_its_file_and_line(
    config_dir: Path,
) -> None:
    path = config_dir / "config.toml"
    path.write_text("[profiles.work]\nhost = 'h'\nprot = 25\n")
    app = SmtpTui()
    async with app.run_test(size=SIZE) as pilot:
        expected = f"config {path}, line 3: [profiles.work] unknown key 'prot'"
        for command in ("Profile: Open", "Profile: Save as profile"):
            await palette(pilot, command)
            assert not isinstance(app.screen, ProfileScreen | NameScreen)
            assert [message.split(";")[0] for message in error_toasts(app)] == [expected]
            app.clear_notifications()  # a toast may outlive the next command, or not, by load


async def test_open_with_no_profiles_says_how_to_make_one(config_dir: Path) -> None:
    app = SmtpTui()
    async with app.run_test(size=SIZE) as pilot:
        await palette(pilot, "Profile: Open")
        assert not isinstance(app.screen, ProfileScreen)
        [note] = [n.message for n in app._notifications]
        assert note.startswith(f"No profiles in {config_dir / 'config.toml'} yet")


async def test_a_failing_password_command_is_named_and_the_panes_are_kept(
    config_dir: Path,
) -> None:
    (config_dir / "config.toml").write_text(
        "[profiles.broken]\nhost = 'b.example'\npassword_command = 'no-such-tool-x'\n"
    )
    app = SmtpTui(SessionSettings(host="before.example"))
    async with app.run_test(size=SIZE) as pilot:
        await palette(pilot, "Profile: Open")
        await pilot.press("enter")
        await settle(pilot)
        [error] = error_toasts(app)
        assert error.startswith("Cannot open profile 'broken': profile broken: password_command")
        assert app.query_one(ConnectionPane).text("host") == "before.example"
        assert isinstance(app.query_one(ConnectionPane).query_one("#host"), Input)


async def test_the_ui_opened_with_a_profile_fills_every_pane(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``smtptui -P work``: as ``ui_app`` makes the app (no click context: every option
    passed counts as typed; here, none)."""
    (config_dir / "config.toml").write_text(
        "[profiles.work]\nhost = 'mail.example.org'\nsecurity = 'none'\nuser = 'me'\n"
        "password_env = 'WORK_PASSWORD'\nrecipients = ['you@example.org']\n"
    )
    monkeypatch.setenv("WORK_PASSWORD", SECRET)
    monkeypatch.setenv("SMTPTUI_USER", "env-user")  # the environment over the profile
    app = ui_app("", profile="work")
    async with app.run_test(size=SIZE):
        settings = app.controller.settings
        assert (settings.host, settings.security) == ("mail.example.org", Security.NONE)
        assert (settings.username, settings.password) == ("env-user", SECRET)
        assert app.query_one(ConnectionPane).text("host") == "mail.example.org"
        assert app.query_one(ComposePane).text("to") == "you@example.org"


async def test_the_connection_pane_picks_a_profile_too(config_dir: Path) -> None:
    (config_dir / "config.toml").write_text('[profiles.work]\nhost = "mail.example.org"\n')
    app = SmtpTui(SessionSettings())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#profile")
        await pilot.pause()
        assert isinstance(app.screen, ProfileScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert app.query_one(ConnectionPane).text("host") == "mail.example.org"
