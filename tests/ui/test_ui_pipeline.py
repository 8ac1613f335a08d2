"""Pipeline (Shift+F6) and BDAT (Shift+F8) driven with Pilot against the embedded server,
and envelope parameters the server did not advertise: asked first, sent only on a yes."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Checkbox, Static, TextArea

from smtptui.server import EmbeddedServer
from smtptui.session import Entry, EntryKind, Phase, Security, swaks_lines
from smtptui.ui.app import Draft, SmtpTui
from smtptui.ui.commandline import CommandLine
from smtptui.ui.dialog import ConfirmScreen

from support.pilot import answer, asked, settle, step
from support.sessions import settings_for

SIZE = (120, 40)
DRAFT = Draft("alice@example.org", ("bob@example.org", "carol@example.org"), "Piped", "Hi\n")


def app_for(server: EmbeddedServer) -> SmtpTui:
    """The app in plaintext to ``server``, the Compose pane filled in with :data:`DRAFT`."""
    settings = settings_for(server, None, security=Security.NONE)  # type: ignore[arg-type]
    return SmtpTui(settings, draft=DRAFT, show_timing=False)


def dialogue(app: SmtpTui, kind: EntryKind) -> list[Entry]:
    return [entry for entry in app.controller.transcript if entry.kind is kind]


def transcript(app: SmtpTui) -> list[str]:
    return [line for entry in app.controller.transcript for line in swaks_lines(entry)]


def errors(app: SmtpTui) -> list[str]:
    return [entry.text for entry in dialogue(app, EntryKind.ERROR)]


async def test_the_354_puts_the_focus_where_the_message_is_typed(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    """After Pipeline's 354, typing goes to the command line, not to the transcript's keys
    (``f`` would filter it): the line typed is the message's first."""
    server = make_server()
    app = app_for(server)
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3", "shift+f6")
        assert isinstance(app.focused, CommandLine) and app.focused.in_message
        await pilot.press(*"Subject: fine", "enter")
        await settle(pilot)
        await pilot.press(".", "enter")
        await settle(pilot)
    assert server.messages[0].data == b"Subject: fine\r\n"


async def test_pipeline_writes_mail_rcpt_and_data_as_one_group(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server()
    app = app_for(server)
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3", "shift+f6")
        assert app.controller.state.phase is Phase.DATA
        sent = dialogue(app, EntryKind.SENT)[-4:]
        assert [entry.text for entry in sent] == [
            "MAIL FROM:<alice@example.org>",
            "RCPT TO:<bob@example.org>",
            "RCPT TO:<carol@example.org>",
            "DATA",
        ]
        groups = {entry.command.group for entry in sent if entry.command is not None}
        assert len(groups) == 1 and 0 not in groups
        replies = dialogue(app, EntryKind.RECEIVED)[-4:]
        assert [entry.command for entry in replies] == [entry.command for entry in sent]
        assert server.messages == []

        await step(pilot, "f8")  # after the 354: the composed message
        [message] = server.messages
        assert message.rcpt_tos == DRAFT.recipients
        assert b"Subject: Piped" in message.data
        assert app.controller.state.phase is Phase.READY and errors(app) == []


async def test_bdat_sends_the_message_in_chunks(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server()
    app = app_for(server)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#raw", Checkbox).value = True  # the body, byte for byte
        app.query_one("#body", TextArea).text = "Subject: raw\n\nHi\n.dot\n"
        await step(pilot, "f2", "f3", "f6", "f7")
        await step(pilot, "f20")  # Shift+F8, as xterm-like terminals send it
        [message] = server.messages
        assert message.data == b"Subject: raw\r\n\r\nHi\r\n.dot\r\n"  # no dot-stuffing
        [chunk] = [entry for entry in dialogue(app, EntryKind.SENT) if entry.chunk]
        assert chunk.data == message.data
        assert f" -> BDAT {len(message.data)} LAST" in transcript(app)
        assert app.controller.state.phase is Phase.READY and errors(app) == []


async def test_unadvertised_envelope_parameters_are_asked_about(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    """REQUIRETLS, which the embedded server does not advertise: No sends nothing, Yes
    sends it (and the server refuses it, as servers do)."""
    server = make_server()
    app = app_for(server)
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3")
        app.query_one("#env-requiretls", Checkbox).value = True
        for key in ("f9", "shift+f6"):
            screen = await asked(pilot, key)
            assert "did not advertise" in str(screen.query_one(".risk", Static).render())
            await answer(pilot, "no")
            assert not any(line.startswith(" -> MAIL") for line in transcript(app))
            assert any("REQUIRETLS needs REQUIRETLS" in text for text in errors(app))

        for key in ("f9", "shift+f6"):
            before = len(transcript(app))
            await asked(pilot, key)
            await answer(pilot, "yes")
            assert not isinstance(app.screen, ConfirmScreen)
            [mail] = [line for line in transcript(app)[before:] if line.startswith(" -> MAIL")]
            assert mail.endswith(" REQUIRETLS")  # after SIZE=…, for F9
            await settle(pilot)
        assert server.messages == []


async def test_the_palette_offers_both_steps() -> None:
    app = SmtpTui(show_timing=False)
    async with app.run_test(size=SIZE):
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert (
            "SMTP: Pipeline (Shift+F6, Alt+I)" in titles
            and "SMTP: BDAT (Shift+F8, Alt+Y)" in titles
        )
