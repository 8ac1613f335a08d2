"""Keys anyone can press and remap (issue 17, part 1), driven with Pilot against the embedded
server: the whole demo without a function key, a step remapped in config.toml, a bad
``[keymap]`` named on screen, and every action of the table bound, in the F1 help and (where
it has a title) in the command palette; the footer shows whole labels at 80 columns."""

from __future__ import annotations

import ssl
from pathlib import Path

from textual._xterm_parser import XTermParser
from textual.events import Key
from textual.keys import key_to_character
from textual.widgets import Input
from textual.widgets._footer import FooterKey

from smtptui.server import EmbeddedServer
from smtptui.session import EntryKind, Phase
from smtptui.session.keymap import ACTIONS, ALSO, BY_ID, MAIN, Scope
from smtptui.ui.app import Draft, SmtpTui
from smtptui.ui.diff import DiffApp
from smtptui.ui.help import HelpScreen
from smtptui.ui.panes.compose import ComposePane
from smtptui.ui.panes.connection import ConnectionPane
from smtptui.ui.received import MessagesScreen
from smtptui.ui.serve import ServeApp
from smtptui.ui.transcript import TranscriptView

from support.pilot import step
from support.sessions import settings_for

DRAFT = Draft("alice@example.org", ("bob@example.org",), "No F-keys", "Hello\n")


def app_for(server: EmbeddedServer, context: ssl.SSLContext) -> SmtpTui:
    return SmtpTui(settings_for(server, context), draft=DRAFT, show_timing=False)


def typed(sequence: str) -> str:
    """The key Textual reads from what a terminal sends (Alt+C is ESC c on the wire)."""
    parser = XTermParser()
    [key] = [*parser.feed(sequence), *parser.feed("")]  # "": nothing more comes
    assert isinstance(key, Key)
    return key.key


def errors(app: SmtpTui) -> list[str]:
    return [entry.text for entry in app.controller.transcript if entry.kind is EntryKind.ERROR]


def footer(app: SmtpTui) -> list[str]:
    """The footer's keys as drawn: key and label."""
    return [f"{key.key_display} {key.description}".strip() for key in app.query(FooterKey)]


async def test_the_whole_demo_without_a_function_key(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    app = app_for(server, client_tls_context)
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one(ConnectionPane).query_one(Input).focus()  # the keys work from a field
        # pressed as a terminal sends Alt and a letter: ESC and the letter
        await pilot.pause()
        state = lambda: app.controller.state  # noqa: E731
        await step(pilot, typed("\x1bc"))
        assert state().phase is Phase.EHLO
        await step(pilot, typed("\x1bh"))
        assert state().phase is Phase.READY and "STARTTLS" in state().extensions
        await step(pilot, typed("\x1bs"))
        assert state().tls is not None
        await step(pilot, typed("\x1bh"), typed("\x1bu"))
        assert state().user == "alice"
        await step(pilot, typed("\x1bg"))
        [message] = server.messages
        assert message.tls and message.authenticated_as == "alice"
        assert message.rcpt_tos == ("bob@example.org",)
        await step(pilot, typed("\x1bq"))
        assert state().phase is Phase.CLOSED
        assert errors(app) == []


async def test_a_step_remapped_in_config_toml(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext, config_dir: Path
) -> None:
    (config_dir / "config.toml").write_text(
        '[keymap]\nconnect = "ctrl+k"\nfilter = "%"\nexplain = "o"\n'
    )
    app = app_for(server, client_tls_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert footer(app)[:2] == ["F1 All keys", "Ctrl+K Connect"]
        first = app.controller.transcript[0].text
        assert first == f"Press Ctrl+K to connect to {server.host}:{server.port}."
        await step(pilot, "f2", "alt+c")  # its default keys are gone
        assert app.controller.state.phase is Phase.CLOSED
        await step(pilot, "ctrl+k")
        assert app.controller.state.phase is Phase.EHLO
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "SMTP: Connect (Ctrl+K)" in titles and "Transcript: Filter (%)" in titles
        await pilot.press("percent_sign")  # from anywhere, like f was
        view = app.query_one(TranscriptView)
        assert view.has_focus and view.border_subtitle == "o explain  / search  F1 all keys"
        await pilot.press("f1")
        text = " ".join(str(widget.render()) for widget in app.screen.query("Static")).split()
        assert "Ctrl+K Connect to the server in the Connection pane" in " ".join(text)
        assert errors(app) == []


async def test_a_bad_keymap_is_named_on_screen_and_the_rest_applied(config_dir: Path) -> None:
    (config_dir / "config.toml").write_text(
        '[keymap]\nconnect = "ctrl+k"\nnosuch = "f5"\nehlo = "ctrl+nope"\nauth = "f3"\n'
    )
    app = SmtpTui(show_timing=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        path = config_dir / "config.toml"
        assert errors(app) == [
            f"config {path}, line 3: [keymap] has no action 'nosuch' (the README lists them); "
            "the default keys kept",
            "[keymap] ehlo: no key named 'ctrl+nope' (keys look like ctrl+k, alt+c, f5, slash); "
            "the default keys kept",
            "[keymap] F3 would be both ehlo (EHLO) and auth (AUTH): auth not remapped; "
            "the default keys kept",
        ]
        assert footer(app)[:2] == ["F1 All keys", "Ctrl+K Connect"]
        toasts = [toast.message for toast in app._notifications]
        assert toasts == errors(app)


def bound_ids(*classes: type) -> set[str]:
    return {binding.id for cls in classes for binding in cls.BINDINGS if binding.id}


def ids_in(*scopes: Scope) -> set[str]:
    return {action.id for action in ACTIONS if action.scope in scopes}


def test_the_apps_of_their_own_bind_their_actions_and_no_other() -> None:
    """``serve --ui`` binds its scope's actions (the messages screen its close), with the
    main app's it offers too and the transcript's; ``diff --ui`` its own, with those."""
    assert bound_ids(ServeApp, MessagesScreen, TranscriptView) == {
        *ids_in(Scope.SERVE, Scope.TRANSCRIPT),
        *ALSO[Scope.SERVE],
    }
    assert bound_ids(DiffApp) == {*ids_in(Scope.DIFF), *ALSO[Scope.DIFF]}


async def test_every_action_is_bound_in_the_help_and_in_the_palette() -> None:
    assert bound_ids(SmtpTui, ComposePane, TranscriptView) == ids_in(*MAIN)
    assert {*BY_ID} - ids_in(*MAIN) == ids_in(Scope.SERVE, Scope.DIFF)
    app = SmtpTui(show_timing=False)
    async with app.run_test(size=(120, 40)) as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for action in ACTIONS:
            if action.palette is not None:
                assert any(title.startswith(f"{action.palette} (") for title in titles), action
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(str(widget.render()) for widget in app.screen.query("Static"))
        flat = " ".join(text.split())
        for action in ACTIONS:
            assert (action.help in flat) is (action.scope in MAIN), action


async def test_the_footer_follows_the_suggested_steps_with_whole_labels(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    app = app_for(server, client_tls_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert footer(app) == ["F1 All keys", "F2 Connect", "Ctrl+P palette"]
        await step(pilot, "f2", "f3")
        assert footer(app) == [
            "F1 All keys",
            "F4 STARTTLS",
            "F6 MAIL",
            "F9 Send",
            "F10 QUIT",
            "Ctrl+P palette",
        ]
        for key in app.query(FooterKey):  # each drawn whole, inside the screen
            assert key.region.right <= 80 and key.region.width >= key.render().cell_len


def test_every_alt_key_of_the_table_arrives_from_a_terminal_as_itself() -> None:
    """A terminal sends Alt+X as ESC and X: Textual must read it back as alt+x, not as a
    character (ESC 2 is ™) nor a movement (ESC b is word left)."""
    for action in ACTIONS:
        for key in action.keys.split(","):
            base = key.removeprefix("alt+")
            character = base if len(base) == 1 else key_to_character(base)
            if key.startswith("alt+") and character is not None:  # not alt+left: a CSI
                assert typed(f"\x1b{character}") == key, action.id


async def test_the_footer_is_drawn_again_only_when_its_steps_change(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    """A state that advises the same steps (a NOOP's reply; a large send's progress, many
    times a second) leaves the footer's keys as they are: Textual keeps each key a footer
    ever drew, bound to it, so drawing it again on each update held megabytes of them."""
    app = app_for(server, client_tls_context)
    async with app.run_test(size=(100, 30)) as pilot:
        await step(pilot, "f2", "f3")
        keys, shown = set(app.query(FooterKey)), footer(app)
        await step(pilot, "ctrl+o")
        assert app.controller.state.last_reply and app.controller.state.last_reply.code == 250
        assert set(app.query(FooterKey)) == keys and footer(app) == shown
        await step(pilot, "f4")  # STARTTLS: the next steps advised change
        assert footer(app) != shown
