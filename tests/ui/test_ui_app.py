"""The whole app, driven with Pilot against real servers: every step by its key, Send from
the compose pane, the errors a person meets (a wrong password, a refused connection, a bad
field, a server that never answers) and the help screen and command palette."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email
import email.policy
import socket
import ssl
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme
from rich.style import Style
from textual.app import App
from textual.command import CommandPalette
from textual.events import Paste
from textual.pilot import Pilot
from textual.widgets import (
    Checkbox,
    Input,
    Label,
    RadioButton,
    Select,
    Static,
    TabbedContent,
    TextArea,
)
from textual.widgets._toast import Toast

from smtptui.cli import demo_app, main, ui_app
from smtptui.server import EmbeddedServer
from smtptui.session import (
    EntryKind,
    Phase,
    Raw,
    Security,
    SessionSettings,
    swaks_lines,
    to_swaks,
)
from smtptui.ui.app import Draft, SmtpTui
from smtptui.ui.certificate import CertificateScreen, certificate_text
from smtptui.ui.commandline import COMMAND_PLACEHOLDER, MESSAGE_PLACEHOLDER, CommandLine
from smtptui.ui.dialog import ConfirmScreen, EndMessageScreen, PasswordScreen
from smtptui.ui.export import ExportScreen, QuitScreen
from smtptui.ui.help import HelpScreen
from smtptui.ui.messages import RunAction
from smtptui.ui.panes.capabilities import CapabilitiesView
from smtptui.ui.status import StatusBar
from smtptui.ui.transcript import TranscriptView
from smtptui.ui.transcript.search import SearchBar

from support.certificates import recording_context
from support.pilot import (
    STEP_TIMEOUT,
    answer,
    asked,
    choose,
    error_toasts,
    help_words,
    settle,
    step,
)
from support.scripted import (
    Peer,
    ScriptedServer,
    dialogue,
    flood,
    hang_up,
    stall,
    well_behaved,
)

SIZE = (120, 40)


def settings_for(
    server: EmbeddedServer | ScriptedServer,
    context: ssl.SSLContext | None = None,
    **changes: object,
) -> SessionSettings:
    values: dict[str, object] = {
        "host": f"{server.host}:{server.port}",
        "ssl_context": context,
        "helo_name": "client.example",
        "username": "alice",
        "password": "wonderland",
        **changes,
    }
    return SessionSettings(**values)  # type: ignore[arg-type]


def tui(settings: SessionSettings | None = None, draft: Draft | None = None) -> SmtpTui:
    """The app, without latencies (so lines can be compared whole)."""
    return SmtpTui(settings, draft=draft, show_timing=False)


def transcript(app: SmtpTui) -> list[str]:
    """The whole transcript as swaks-style lines (secrets masked, as shown)."""
    return [line for entry in app.controller.transcript for line in swaks_lines(entry)]


def visible(app: App[None]) -> list[str]:
    """The lines the transcript pane draws now, trailing blanks removed."""
    view = app.query_one(TranscriptView)
    height = view.scrollable_content_region.height
    return [view.render_line(y).text.rstrip() for y in range(height)]


def status(app: App[None]) -> str:
    return str(app.query_one(StatusBar).render())


def errors(app: SmtpTui) -> list[str]:
    return [entry.text for entry in app.controller.transcript if entry.kind is EntryKind.ERROR]


def value(app: App[None], selector: str) -> str:
    widget = app.query_one(selector)
    return widget.text if isinstance(widget, TextArea) else app.query_one(selector, Input).value


async def show_tab(pilot: Pilot[None], name: str) -> None:
    """Click the tab ``name`` (connection, auth, compose, server) like a person would."""
    await pilot.click(f"#--content-tab-tab-{name}")
    await pilot.pause()
    assert pilot.app.query_one(TabbedContent).active == f"tab-{name}"


async def type_into(pilot: Pilot[None], selector: str, text: str) -> None:
    """Click a field and type ``text`` into it, key by key (``\\n`` is Enter)."""
    await pilot.click(selector)
    await pilot.press(*("enter" if char == "\n" else char for char in text))


def free_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- 1. the whole session, one key per step -----------------------------------------------


async def test_hand_stepped_session_with_starttls_and_auth(
    make_server: Callable[..., EmbeddedServer], client_tls_context: ssl.SSLContext
) -> None:
    server = make_server()
    draft = Draft(
        "Alice <alice@example.org>",
        ("bob@example.org", "carol@example.org"),
        "Stepped by hand",
        "Hello Bob,\n.a leading dot\nbye\n",
    )
    app = tui(settings_for(server, client_tls_context), draft=draft)
    async with app.run_test(size=SIZE) as pilot:
        state = lambda: app.controller.state  # noqa: E731
        assert status(app) == "smtptui  ● disconnected"

        await step(pilot, "f2")
        assert state().phase is Phase.EHLO and state().tls is None
        assert status(app).startswith(f"smtptui  127.0.0.1:{server.port}  ● connected  no TLS")
        assert status(app).endswith("220 smtptui.demo ESMTP smtptui")
        assert "<-  220 smtptui.demo ESMTP smtptui" in visible(app)

        await step(pilot, "f3")
        assert state().phase is Phase.READY and state().esmtp
        assert "STARTTLS" in state().extensions and "AUTH" not in state().extensions
        assert " -> EHLO client.example" in visible(app)
        assert "<-  250 HELP" in visible(app)

        await step(pilot, "f4")
        assert state().phase is Phase.EHLO
        assert state().tls is not None and state().tls.version.startswith("TLSv1.")
        assert f"🔒 {state().tls.version} {state().tls.cipher}" in status(app)
        assert any(line.startswith("=== TLS established: TLSv1.") for line in visible(app))

        await step(pilot, "f3")
        assert state().phase is Phase.READY and "AUTH" in state().extensions
        lines = visible(app)
        # Everything after the handshake is marked as inside TLS.
        after = lines[lines.index(" -> STARTTLS") + 2 :]
        assert after[0].startswith("=== TLS established")
        assert after[1].startswith("=== certificate ")
        assert after[2] == " ~> EHLO client.example"
        auth = "<~  250-AUTH CRAM-MD5 LOGIN OAUTHBEARER PLAIN SCRAM-SHA-256 XOAUT→"  # cut there
        assert any(line.startswith(auth) for line in after)
        assert not any(line.startswith((" -> ", "<-  ")) for line in after)
        server_tab = "\n".join(
            str(widget.render()) for widget in app.query_one(CapabilitiesView).query("Static")
        )
        assert "AUTH" in server_tab and "CRAM-MD5" in server_tab

        await step(pilot, "f5")
        assert state().user == "alice"
        assert "👤 alice" in status(app)
        assert status(app).endswith("235 2.7.0 Authentication successful")
        assert "<~  235 2.7.0 Authentication successful" in visible(app)

        await step(pilot, "f6")
        assert state().phase is Phase.MAIL
        assert transcript(app)[-2:] == [" ~> MAIL FROM:<alice@example.org>", "<~  250 2.1.0 Ok"]

        await step(pilot, "f7")
        assert state().phase is Phase.RCPT
        assert transcript(app)[-2:] == [" ~> RCPT TO:<bob@example.org>", "<~  250 2.1.5 Ok"]
        await step(pilot, "f7")  # the next recipient
        assert transcript(app)[-2:] == [" ~> RCPT TO:<carol@example.org>", "<~  250 2.1.5 Ok"]

        assert server.messages == []
        await step(pilot, "f8")
        assert state().phase is Phase.READY
        assert transcript(app)[-1].startswith("<~  250 2.0.0 Ok: queued as ")
        assert " ~> DATA" in transcript(app) and "<~  354 End data with <CR><LF>.<CR><LF>" in (
            transcript(app)
        )
        [message] = server.messages
        assert message.mail_from == "alice@example.org"
        assert message.rcpt_tos == ("bob@example.org", "carol@example.org")
        assert message.tls and message.authenticated_as == "alice"
        received = email.message_from_bytes(message.data, policy=email.policy.default)
        assert received["Subject"] == "Stepped by hand"
        assert received.get_content() == "Hello Bob,\r\n.a leading dot\r\nbye\r\n"

        await step(pilot, "f10")
        assert state().phase is Phase.CLOSED and state().tls is None
        assert status(app).startswith(f"smtptui  127.0.0.1:{server.port}  ● disconnected")
        assert status(app).endswith("221 2.0.0 Bye")
        assert transcript(app)[-3:-1] == [" ~> QUIT", "<~  221 2.0.0 Bye"]
        assert transcript(app)[-1].startswith("=== Connection closed")
        assert errors(app) == []
        # The password never reached the screen, nor the transcript as shown.
        assert "wonderland" not in app.export_screenshot()
        assert "wonderland" not in to_swaks(app.controller.transcript)


# -- 2. Send from the compose pane --------------------------------------------------------


async def test_send_from_the_compose_pane(
    make_server: Callable[..., EmbeddedServer], client_tls_context: ssl.SSLContext
) -> None:
    server = make_server()
    app = tui(settings_for(server, client_tls_context))
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3", "f4", "f3")
        await show_tab(pilot, "compose")
        app.query_one("#from", Input).value = "Alice <alice@example.org>"
        app.query_one("#subject", Input).value = "Typed here"
        app.query_one("#bcc", Input).value = "eve@x.org"
        await type_into(pilot, "#to", "bob@x.org")
        await type_into(pilot, "#body", "Hi\n.dot")
        assert value(app, "#body") == "Hi\n.dot"

        await pilot.click("#send")
        await settle(pilot)

        [message] = server.messages
        assert message.mail_from == "alice@example.org"
        assert message.rcpt_tos == ("bob@x.org", "eve@x.org")  # Bcc: in the envelope only
        assert b"eve@" not in message.data and b"Bcc" not in message.data
        received = email.message_from_bytes(message.data, policy=email.policy.default)
        assert received["From"] == "Alice <alice@example.org>"
        assert received["To"] == "bob@x.org"
        assert received["Subject"] == "Typed here"
        assert received["Date"] is not None and received["Message-ID"] is not None
        assert received.get_content() == "Hi\r\n.dot\r\n"  # dot-stuffed, and unstuffed
        assert message.tls and message.authenticated_as is None

        lines = transcript(app)
        assert " ~> RCPT TO:<eve@x.org>" in lines
        assert lines[-1].startswith("<~  250 2.0.0 Ok: queued as ")
        assert app.controller.state.phase is Phase.READY
        assert errors(app) == []
        # What was typed stays for the next message.
        assert value(app, "#subject") == "Typed here"


async def test_f9_sends_with_a_refused_recipient(
    make_server: Callable[..., EmbeddedServer], client_tls_context: ssl.SSLContext
) -> None:
    server = make_server()
    draft = Draft("alice@example.org", ("unknown@example.org", "bob@example.org"), "Hi", "Hi\n")
    app = tui(settings_for(server, client_tls_context), draft=draft)
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3", "f9")
        [message] = server.messages
        assert message.rcpt_tos == ("bob@example.org",)
        assert "<-  550 5.1.1 <unknown@example.org>: Recipient address rejected: User unknown" in (
            transcript(app)
        )
        [error] = errors(app)
        assert "unknown@example.org" in error and "550" in error
        assert any("unknown@example.org" in toast for toast in error_toasts(app))


# -- 3. a wrong password ------------------------------------------------------------------


async def test_wrong_password(
    make_server: Callable[..., EmbeddedServer], client_tls_context: ssl.SSLContext
) -> None:
    server = make_server()
    app = tui(settings_for(server, client_tls_context, password=""))
    async with app.run_test(size=SIZE) as pilot:
        await show_tab(pilot, "auth")
        app.query_one("#mechanism", Select).value = "PLAIN"
        await type_into(pilot, "#password", "hunter2")  # the field starts empty
        await step(pilot, "f2", "f3", "f4", "f3", "f5")

        state = app.controller.state
        assert state.connected and state.phase is Phase.READY and state.user is None
        assert transcript(app)[-3].startswith(" ~> AUTH PLAIN")
        assert transcript(app)[-2] == "<~  535 5.7.8 Authentication credentials invalid"
        [error] = errors(app)
        assert error.startswith("authentication failed: 535 5.7.8")
        assert "password" in error  # what to try
        assert transcript(app)[-1] == f"*** {error}"
        assert error_toasts(app) == [error]
        assert status(app).endswith("535 5.7.8 Authentication credentials invalid")
        # What was typed is kept, and shown nowhere.
        assert value(app, "#password") == "hunter2"
        assert app.query_one("#password", Input).password
        secret = base64.b64encode(b"\0alice\0hunter2").decode()
        shown = to_swaks(app.controller.transcript) + app.export_screenshot()
        assert "hunter2" not in shown and secret not in shown

        # Fix the password and try again on the same connection.
        app.query_one("#password", Input).value = "wonderland"
        await step(pilot, "f5")
        assert app.controller.state.user == "alice"


# -- 4. a refused connection --------------------------------------------------------------


async def test_refused_connection_then_a_live_one(
    make_server: Callable[..., EmbeddedServer], client_tls_context: ssl.SSLContext
) -> None:
    server = make_server()
    dead = f"127.0.0.1:{free_port()}"
    app = tui(SessionSettings(ssl_context=client_tls_context))
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "#host", dead)
        await step(pilot, "f2")

        [error] = errors(app)
        assert error.startswith(f"connection refused by {dead}")
        assert transcript(app)[-1] == f"*** {error}"
        assert error_toasts(app) == [error]
        assert app.controller.state.phase is Phase.CLOSED
        assert not app.controller.state.busy
        assert value(app, "#host") == dead
        assert "● disconnected" in status(app)

        app.query_one("#host", Input).value = f"{server.host}:{server.port}"
        await step(pilot, "f2")
        assert app.controller.state.phase is Phase.EHLO
        assert transcript(app)[-1] == "<-  220 smtptui.demo ESMTP smtptui"


async def test_the_demo_server_comes_from_its_own_process() -> None:
    """``--demo``'s app: its server, started in a child, is named in the transcript once up,
    and the Connection pane and the session are set to it (its certificate trusted)."""
    with contextlib.ExitStack() as stack:
        app = demo_app(stack)
        async with app.run_test(size=SIZE) as pilot:
            host = app.controller.settings.host
            assert host.startswith("127.0.0.1:") and value(app, "#host") == host
            assert f"=== Demo server on {host}, user alice" in transcript(app)
            await step(pilot, "f2", "f3", "f4")
            assert app.controller.state.tls is not None
            assert errors(app) == []


async def test_a_demo_server_that_does_not_start_says_why() -> None:
    with socket.socket() as taken, contextlib.ExitStack() as stack:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        app = demo_app(stack, taken.getsockname()[1])
        async with app.run_test(size=SIZE):
            [error] = errors(app)
            assert error.startswith("The server did not start: [Errno 98]"), error
            assert "in use" in error


# -- 5. a raw command from the command line -----------------------------------------------


async def test_raw_commands_from_the_command_line(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server()
    app = tui(settings_for(server, security=Security.NONE))
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2")
        command = app.query_one(CommandLine)

        await type_into(pilot, "#command", "NOOP")
        await step(pilot, "enter")
        sent = [e for e in app.controller.transcript if e.kind is EntryKind.SENT]
        assert sent[-1].data == b"NOOP\r\n"
        assert transcript(app)[-2:] == [" -> NOOP", "<-  250 2.0.0 Ok"]
        assert command.value == "" and command.history == ["NOOP"]

        command.value = "VRFY alice"  # the command line keeps the focus after Enter
        await step(pilot, "enter")
        assert transcript(app)[-2:] == [" -> VRFY alice", "<-  252 2.0.0 alice"]
        command.value = "vrfy unknown-user"
        await step(pilot, "enter")
        assert transcript(app)[-2].startswith("<-  550 5.1.1 <unknown-user>")
        assert transcript(app)[-1].startswith("*** RAW refused: 550 5.1.1 <unknown-user>")
        assert app.controller.state.phase is Phase.EHLO  # a 5xx to VRFY changes nothing

        # ↑ brings back the last command, as typed.
        assert app.focused is command
        await pilot.press("up")
        assert command.value == "vrfy unknown-user"
        command.value = ""

        # A pasted line break cannot get into the line: only the first line is taken.
        command.post_message(Paste("NOOP\r\nQUIT"))
        await pilot.pause()
        assert command.value == "NOOP"
        command.value = ""

        # And a Raw with CR LF posted by anything else is refused, nothing sent.
        before = len([e for e in app.controller.transcript if e.kind is EntryKind.SENT])
        app.post_message(RunAction(Raw("NOOP\r\nQUIT")))
        await settle(pilot)
        after = [e for e in app.controller.transcript if e.kind is EntryKind.SENT]
        assert len(after) == before
        assert "raw command" in errors(app)[-1] and "nothing was sent" in errors(app)[-1]
        assert app.controller.state.phase is Phase.EHLO

        # The server is still there and in step: the next command gets its own reply.
        command.value = "NOOP"
        await step(pilot, "enter")
        assert transcript(app)[-1] == "<-  250 2.0.0 Ok"


# -- 6. cancelling a step -----------------------------------------------------------------


async def silent(peer: Peer) -> None:
    """Accept, then say nothing, ever."""
    await asyncio.sleep(3600)


async def test_escape_cancels_a_step_against_a_silent_server() -> None:
    async with ScriptedServer(silent) as server:
        app = tui(settings_for(server, security=Security.NONE))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f2")
            started = time.monotonic()
            while not server.peers:  # the connection is open; the greeting never comes
                assert time.monotonic() - started < STEP_TIMEOUT
                await pilot.pause(0.01)
            await pilot.pause(0.1)
            assert app.controller.state.busy
            assert app.controller.state.phase is Phase.GREETING
            assert "⏳ CONNECT (Esc cancels)" in status(app)

            await pilot.press("escape")
            await settle(pilot)
            assert not app.controller.state.busy
            assert app.controller.state.phase is Phase.CLOSED
            assert "*** cancelled during CONNECT" in transcript(app)
            assert error_toasts(app) == ["cancelled during CONNECT"]
            assert "⏳" not in status(app)

            await pilot.press("f1")  # the app answers while the server still says nothing
            assert isinstance(app.screen, HelpScreen)


async def test_typing_goes_on_while_a_step_waits() -> None:
    async with ScriptedServer(silent) as server:
        app = tui(settings_for(server, security=Security.NONE))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f2")
            await pilot.pause(0.1)
            await type_into(pilot, "#command", "EHLO me")
            assert app.query_one(CommandLine).value == "EHLO me"
            assert app.controller.state.busy
            await pilot.press("escape")
            await settle(pilot)
            assert not app.controller.state.busy


async def test_quitting_while_a_step_waits() -> None:
    async with ScriptedServer(silent) as server:
        app = tui(settings_for(server, security=Security.NONE))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f2")
            await pilot.pause(0.1)
            assert app.controller.state.busy
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert not app.is_running  # the silent server is not waited for


# -- 7. a bad value in a field ------------------------------------------------------------


@pytest.mark.parametrize(
    ("field_id", "text", "field"),
    [
        ("port", "99999", "port"),
        ("connect-timeout", "abc", "connect timeout"),
        ("reply-timeout", "-1", "reply timeout"),
        ("host", "[::1", "host"),
    ],
)
async def test_bad_connection_field_sends_nothing(field_id: str, text: str, field: str) -> None:
    async with ScriptedServer(well_behaved) as server:
        app = tui(settings_for(server, security=Security.NONE))
        async with app.run_test(size=SIZE) as pilot:
            app.query_one(f"#{field_id}", Input).value = text
            await show_tab(pilot, "compose")  # the error must bring the field back
            await step(pilot, "f2")
            [error] = errors(app)
            assert error.startswith(f"{field}: ") and error.endswith("nothing was sent")
            assert error_toasts(app) == [error]
            assert not server.peers  # not even a connection
            assert app.controller.state.phase is Phase.CLOSED
            assert app.query_one(TabbedContent).active == "tab-connection"
            assert app.focused is app.query_one(f"#{field_id}")
            assert value(app, f"#{field_id}") == text


async def test_bad_compose_field_sends_nothing(make_server: Callable[..., EmbeddedServer]) -> None:
    server = make_server()
    draft = Draft("alice@example.org", (), "Hi", "Hi\n")  # no recipient
    app = tui(settings_for(server, security=Security.NONE), draft=draft)
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3")
        sent = len(transcript(app))
        await step(pilot, "f9")
        [error] = errors(app)
        assert error.startswith("To: no recipient") and error.endswith("nothing was sent")
        assert transcript(app)[sent:] == [f"*** {error}"]
        assert app.query_one(TabbedContent).active == "tab-compose"
        assert app.focused is app.query_one("#to")
        assert app.controller.state.phase is Phase.READY
        assert server.messages == []

        # The Send button says the same, in the same place.
        app.query_one("#subject", Input).focus()
        await pilot.click("#send")
        await settle(pilot)
        assert len(errors(app)) == 2 and app.focused is app.query_one("#to")
        assert value(app, "#subject") == "Hi"


@pytest.mark.parametrize(
    ("key", "field_id", "text", "words"),
    [
        ("f7", "envelope-recipients", "bob@example.org NOTIFY=NEVER", "'NOTIFY=NEVER' follows"),
        ("f9", "envelope-recipients", "<bob@example.org> NOTIFY=NEVER", "follows the address"),
        ("ctrl+g", "envelope-recipients", "bob@example.org ORCPT=x", "'ORCPT=x' follows"),
        ("ctrl+b", "envelope-recipients", "staff@example.org X=1", "'X=1' follows"),
        ("f6", "envelope-sender", "<alice@example.org> SIZE=1", "'SIZE=1' follows"),
        ("f9", "envelope-sender", "alice@example.org\x1b[2J", "ESC (0x1B)"),
        ("f9", "to", "bob@example.org NOTIFY=NEVER", "invalid address"),
        ("ctrl+g", "to", "bob@example.org\x7f", "DEL (0x7F)"),
        ("ctrl+b", "envelope-recipients", "staff@example.org\t", "TAB (0x09)"),
        ("f9", "subject", "Hi\x07", "BEL (0x07)"),
    ],
)
async def test_nothing_rides_after_an_address_or_as_a_control_byte(
    make_server: Callable[..., EmbeddedServer], key: str, field_id: str, text: str, words: str
) -> None:
    """Every step that takes a field refuses parameters typed after an address, and control
    bytes: the error names the field, the field gets the focus, nothing is sent."""
    server = make_server()
    draft = Draft("alice@example.org", ("bob@example.org",), "Hi", "Hi\n")
    app = tui(settings_for(server, security=Security.NONE), draft=draft)
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3")
        app.query_one(f"#{field_id}", Input).value = text
        sent = len(transcript(app))
        await step(pilot, key)
        [error] = errors(app)
        field = app.query_one(f"#{field_id}", Input).name
        assert error.startswith(f"{field}: ") and error.endswith("nothing was sent")
        assert words in error
        assert transcript(app)[sent:] == [f"*** {error}"]
        assert app.query_one(TabbedContent).active == "tab-compose"
        assert app.focused is app.query_one(f"#{field_id}")
        assert app.controller.state.phase is Phase.READY
        assert server.messages == []


# -- 8. help and the command palette ------------------------------------------------------


async def test_help_screen_lists_keys_and_markers() -> None:
    app = tui()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(str(widget.render()) for widget in app.screen.query("Static"))
        keys = " ".join(text.split())  # the keys' column is as wide as the widest keys
        for row in (
            "F2, Alt+C Connect to the server in the Connection pane",
            "Shift+F6, Alt+I MAIL FROM, every RCPT TO and DATA in one write",
            "Shift+F8, Alt+Y BDAT: the composed message in chunks, after RCPT",
            "F9, Alt+G Send the composed message: MAIL, every RCPT, DATA",
            "Ctrl+T HELO: greet without extensions",
            "Esc Cancel the step in flight",
        ):
            assert row in keys
        for line in (
            " ~> \nsent inside TLS",
            "┌-> \nsent in one write (pipelined), down to the └",
            "<~  \nreceived inside TLS",
            "*** \nan error, and what to try",
            "5xx\nfailed: a permanent refusal; change something first",
        ):
            assert line in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        await pilot.press("f1")  # F1 toggles it
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_runs_smtp_steps(make_server: Callable[..., EmbeddedServer]) -> None:
    server = make_server()
    app = tui(settings_for(server, security=Security.NONE))
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2")
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"SMTP: EHLO")
        palette = app.screen
        prompts: list[str] = []
        started = time.monotonic()
        while time.monotonic() - started < STEP_TIMEOUT:
            await pilot.pause(0.05)
            options = palette.query_one("CommandList")
            prompts = [
                str(options.get_option_at_index(i).prompt).split("\n")[0]
                for i in range(options.option_count)
            ]
            if prompts:
                break
        assert prompts[0] == "SMTP: EHLO (F3, Alt+H)"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, CommandPalette)
        assert app.controller.state.esmtp
        assert " -> EHLO client.example" in transcript(app)


# -- what the toast shows -----------------------------------------------------------------


def replying(reply: bytes) -> Callable[[Peer], object]:
    async def script(peer: Peer) -> None:
        await peer.send(b"220 mx.example ESMTP\r\n")
        while await peer.reader.readline():
            await peer.send(reply)

    return script


@pytest.mark.parametrize(
    "reply",
    [
        b"421 4.7.0 [TSS04] Messages from 127.0.0.1 temporarily deferred\r\n",
        b"550 5.7.1 [/] not here\r\n",
    ],
)
async def test_toast_shows_the_server_words_as_they_are(reply: bytes) -> None:
    async with ScriptedServer(replying(reply)) as server:
        app = tui(settings_for(server, security=Security.NONE))
        async with app.run_test(size=SIZE) as pilot:  # toasts off: '[/]' would crash it
            await step(pilot, "f2", "f3")
            words = reply.decode().split(" ", 2)[2].strip()
            [error] = errors(app)
            assert words in error
            [notification] = list(app._notifications)
            # What the toast would draw (a MarkupError here is the crash).
            assert words in str(Toast(notification).render())


# -- more bugs found ----------------------------------------------------------------------


@pytest.mark.parametrize("field_id", ["body", "headers"])
async def test_f6_and_f7_work_while_typing_the_body(
    make_server: Callable[..., EmbeddedServer], field_id: str
) -> None:
    server = make_server()
    draft = Draft("alice@example.org", ("bob@example.org",), "Hi", "Hi\n")
    app = tui(settings_for(server, security=Security.NONE), draft=draft)
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3")
        await show_tab(pilot, "compose")
        await pilot.click(f"#{field_id}")
        await step(pilot, "f6")
        assert transcript(app)[-2:] == [" -> MAIL FROM:<alice@example.org>", "<-  250 2.1.0 Ok"]
        await step(pilot, "f7")
        assert transcript(app)[-2:] == [" -> RCPT TO:<bob@example.org>", "<-  250 2.1.5 Ok"]
        assert app.controller.state.phase is Phase.RCPT


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_raw_mode_keeps_the_body_wide(size: tuple[int, int]) -> None:
    app = tui()
    async with app.run_test(size=size) as pilot:
        await show_tab(pilot, "compose")
        body = app.query_one("#body", TextArea)
        width = body.region.width
        await pilot.click("#raw")
        await pilot.pause()
        assert app.query_one("#raw-hint").display
        assert body.region.width >= width - 1  # a scrollbar may appear beside the form


async def test_server_tab_shows_the_greeting(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server()
    app = tui(settings_for(server, security=Security.NONE))
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3")
        await show_tab(pilot, "server")
        rows = {
            str(pair.query_one(".name", Label).render()): str(
                pair.query_one(".value", Static).render()
            )
            for pair in app.query_one(CapabilitiesView).query(".pair")
        }
        assert rows["EHLO"] == "smtptui.demo"
        assert rows["Greeting"] == "smtptui.demo ESMTP smtptui"


# -- 9. the transcript: certificate, connections, export, quitting --------------------------


async def test_enter_on_the_handshake_opens_the_certificate_screen(
    make_server: Callable[..., EmbeddedServer], client_tls_context: ssl.SSLContext
) -> None:
    server = make_server()
    app = tui(settings_for(server, client_tls_context))
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3", "f4")
        await pilot.press("ctrl+f", *"TLS established", "enter", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CertificateScreen)
        text = certificate_text(app.controller.client.tls)
        assert "✔ verified" in text and "localhost" in text
        await pilot.press("f2")  # steps wait while a dialog is open
        await pilot.pause()
        assert app.controller.state.phase is Phase.EHLO
        await pilot.press("escape")
        assert not isinstance(app.screen, CertificateScreen)


async def test_each_connection_keeps_its_own_transcript(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server()
    app = tui(settings_for(server, security=Security.NONE))
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(TranscriptView)
        await step(pilot, "f2", "f3", "f10", "f2")
        assert len(app.controller.transcripts) == 2
        assert "connection 2 of 2" in view.border_title
        assert " -> EHLO client.example" not in visible(app)  # that was the first connection
        assert visible(app)[0].startswith("=== Connecting to ")
        view.focus()
        await pilot.press("left_square_bracket")
        assert "connection 1 of 2" in view.border_title and "live" in view.border_title
        assert " -> EHLO client.example" in visible(app) and " -> QUIT" in visible(app)
        await step(pilot, "ctrl+o")  # entries of the live connection wait for it
        assert " -> NOOP" not in visible(app)
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert "connection 2 of 2" in view.border_title
        assert " -> NOOP" in visible(app)


async def test_export_writes_a_redacted_file_and_quitting_asks_first(
    make_server: Callable[..., EmbeddedServer],
    client_tls_context: ssl.SSLContext,
    tmp_path: Path,
) -> None:
    server = make_server()
    app = tui(settings_for(server, client_tls_context))
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3", "f4", "f3", "f5")
        assert app.controller.state.user == "alice"

        await pilot.press("ctrl+q")  # the dialogue was never exported: ask first
        await pilot.pause()
        assert isinstance(app.screen, QuitScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.return_code is None and not isinstance(app.screen, QuitScreen)

        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        file = app.screen.query_one("#file", Input)
        assert file.value.endswith(".txt") and f"-{server.port}-" in file.value
        file.value = str(tmp_path / "session.txt")
        await pilot.press("enter")
        await pilot.pause()
        written = (tmp_path / "session.txt").read_text()
        assert " ~> AUTH " in written and "<~  235 " in written
        for secret in ("wonderland", base64.b64encode(b"\0alice\0wonderland").decode()):
            assert secret not in written
        assert (tmp_path / "session.txt").stat().st_mode & 0o777 == 0o600

        await pilot.press("ctrl+q")  # everything exported: quit at once
        await pilot.pause()
        assert app.return_code == 0


async def test_quit_can_export_then_quits(
    make_server: Callable[..., EmbeddedServer], tmp_path: Path
) -> None:
    server = make_server()
    app = tui(settings_for(server, security=Security.NONE))
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3")
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("enter")  # Export…
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        app.screen.query_one("#format-jsonl", RadioButton).value = True
        app.screen.query_one("#file", Input).value = str(tmp_path / "bad" / "x.jsonl")
        await pilot.press("enter")  # no such directory: said, and the dialog stays
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen) and app.return_code is None
        app.screen.query_one("#file", Input).value = str(tmp_path / "x.jsonl")
        await pilot.press("enter")
        await pilot.pause()
        assert app.return_code == 0
    records = (tmp_path / "x.jsonl").read_text().splitlines()
    assert any('"text": "EHLO client.example"' in record for record in records)


async def test_transcript_commands_are_in_the_palette() -> None:
    app = tui()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p", *"Transcript: Filter")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one(TranscriptView).filter == "errors"


# -- 10. what is never done by accident ---------------------------------------------------


async def test_auth_without_tls_asks_once_per_session(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server(auth_require_tls=False)
    app = tui(settings_for(server, security=Security.NONE))
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3")
        screen = await asked(pilot, "f5")
        assert "AUTH without TLS" in str(screen.query_one(".risk", Static).render())
        await answer(pilot, "no")
        assert app.controller.state.user is None
        assert not any("AUTH" in line for line in transcript(app) if line.startswith(" -> "))
        assert any("AUTH not sent" in text for text in errors(app))
        assert app.query_one("#password", Input).value == "wonderland"  # what was typed stays

        await asked(pilot, "f5")
        await answer(pilot, "yes")
        assert app.controller.state.user == "alice"
        assert "=== ⚠ As you chose: AUTH may send credentials without TLS in this session" in (
            transcript(app)
        )
        await step(pilot, "f5")  # asked once: not again in this session
        assert not isinstance(app.screen, ConfirmScreen)


async def test_nothing_goes_on_in_plaintext_after_starttls_failed() -> None:
    script = dialogue(
        {"EHLO": b"250-mx\r\n250 STARTTLS\r\n", "STARTTLS": b"454 4.7.0 TLS not available\r\n"}
    )
    async with ScriptedServer(script) as server:
        app = tui(settings_for(server, security=Security.STARTTLS))
        async with app.run_test(size=SIZE) as pilot:
            await step(pilot, "f2", "f3", "f4")
            assert any("454" in text for text in errors(app))
            await asked(pilot, "ctrl+o")  # NOOP, in plaintext: asked first
            await answer(pilot, "no")
            assert not any(line.startswith(b"NOOP") for line in server.peers[0].received)
            await step(pilot, "f10")  # QUIT is always let through
            await server.finished()  # the script ends at QUIT
            assert server.peers[0].received[-1].startswith(b"QUIT")


async def test_a_certificate_that_fails_can_be_skipped_once(
    untrusted_server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    app = tui(settings_for(untrusted_server, client_tls_context))
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3")
        await asked(pilot, "f4")
        assert any("certificate" in text for text in errors(app))
        assert app.controller.state.phase is Phase.CLOSED
        await answer(pilot, "yes")  # reconnects, EHLO, STARTTLS, without verifying
        tls = app.controller.state.tls
        assert tls is not None and not tls.verified
        assert "=== ⚠ As you chose: the next connection will not verify the certificate" in (
            transcript(app)
            + [line for t in app.controller.transcripts for e in t for line in swaks_lines(e)]
        )
        await step(pilot, "f10", "f2", "f3")
        await asked(pilot, "f4")  # once only: verified again, so refused again
        assert app.controller.state.tls is None
        await answer(pilot, "no")


# -- 11. misbehaving servers, as a person meets them ----------------------------------------

MISBEHAVIOUR = {
    "421 at connect, then close": (dialogue(greeting=hang_up(b"421 4.3.2 busy\r\n")), "f2", "421"),
    "a reply without a code": (dialogue({"EHLO": b"hello there\r\n"}), "f3", "reply"),
    "a megabyte line": (
        dialogue({"EHLO": flood(b"250-", b"x" * 65536, 16, b"\r\n")}),
        "f3",
        "longer than",
    ),
    "closed in a multi-line reply": (
        dialogue({"EHLO": hang_up(b"250-first\r\n250-second\r\n")}),
        "f3",
        "closed",
    ),
    "552 after the final dot": (dialogue({".": b"552 5.3.4 too big\r\n"}), "f9", "552"),
    "no answer after the final dot": (dialogue({".": stall}), "f9", "no answer within 1 s"),
}


@pytest.mark.parametrize("case", MISBEHAVIOUR, ids=list(MISBEHAVIOUR))
async def test_a_misbehaving_server_is_reported_and_nothing_typed_is_lost(case: str) -> None:
    script, key, words = MISBEHAVIOUR[case]
    draft = Draft("alice@example.org", ("bob@example.org",), "Subject kept", "Body kept\n")
    async with ScriptedServer(script) as server:
        settings = settings_for(server, security=Security.NONE, reply_timeout=1.0)
        app = tui(settings, draft=draft)
        async with app.run_test(size=SIZE) as pilot:
            keys = {"f2": ["f2"], "f3": ["f2", "f3"], "f9": ["f2", "f3", "f9"]}[key]
            await step(pilot, *keys)
            toasts = error_toasts(app)
            assert any(words in toast for toast in toasts), toasts
            assert any(words in text for text in errors(app))
            assert app.return_code is None and not app.controller.state.busy
            assert app.query_one("#host", Input).value == f"{server.host}:{server.port}"
            assert app.query_one("#subject", Input).value == "Subject kept"
            assert app.query_one("#body", TextArea).text == "Body kept\n"
            await step(pilot, "f2")  # and it goes on: another connection, same server
            assert app.controller.state.address == f"{server.host}:{server.port}"


# -- 12. found by use ---------------------------------------------------------------------

THEMES = ("dark", "light", "high-contrast", "solarized-dark")


async def tls_segment(pilot: Pilot[None], sign: str) -> dict[str, Style]:
    """The style of the status line's TLS part (which starts with ``sign``) in each theme."""
    app = pilot.app
    bar = app.query_one(StatusBar)
    styles = {}
    for theme in THEMES:
        app.theme = theme
        await pilot.pause()
        [segment] = [s for s in bar.render_line(0) if s.text.lstrip().startswith(sign)]
        assert segment.style is not None
        styles[theme] = segment.style
    return styles


async def test_the_status_line_tells_an_unverified_certificate_from_a_verified_one(
    server: EmbeddedServer, ca: trustme.CA, tmp_path: Path
) -> None:
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    app = tui(settings_for(server, cafile=str(cafile)))
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3", "f4")
        tls = app.controller.state.tls
        assert tls is not None and tls.verified
        assert f"  🔒 {tls.version} {tls.cipher}  " in status(app)
        assert "unverified" not in status(app) and "⚠" not in status(app)
        locked = await tls_segment(pilot, "🔒")

        await choose(pilot, "#verify", "none")  # as --no-verify does
        await step(pilot, "f2", "f3", "f4")
        tls = app.controller.state.tls
        assert tls is not None and not tls.verified
        assert f"  ⚠ {tls.version} unverified {tls.cipher}  " in status(app)
        assert "🔒" not in status(app)
        unverified = await tls_segment(pilot, "⚠")

    for theme in THEMES:
        assert unverified[theme].color != locked[theme].color, theme
    # High contrast does not count on telling colours apart.
    look = lambda style: (style.bold, style.reverse, style.underline, style.italic)  # noqa: E731
    assert look(unverified["high-contrast"]) != look(locked["high-contrast"])


async def test_the_verify_name_and_mode_from_the_connection_pane(
    make_server: Callable[..., EmbeddedServer], ca: trustme.CA, tmp_path: Path
) -> None:
    context, seen = recording_context(ca, "mail.example.org")
    server = make_server(tls_context=context)
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    app = tui(settings_for(server, cafile=str(cafile)))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#tls-options CollapsibleTitle")
        await type_into(pilot, "#verify-name", "mx.example.org")
        await step(pilot, "f2", "f3")
        await asked(pilot, "f4")  # connect again without verifying? No
        await answer(pilot, "no")
        assert app.controller.state.tls is None
        assert any(
            "certificate is for DNS:mail.example.org, not mx.example.org" in error
            and "set the verify name" in error
            for error in errors(app)
        )

        await pilot.click("#verify-name")
        await pilot.press("end", "ctrl+u", *"mail.example.org")
        await step(pilot, "f2", "f3", "f4")
        tls = app.controller.state.tls
        assert tls is not None and tls.verified
        assert tls.verify_note == "chain and name mail.example.org verified"
        assert seen[-1] is None  # an address: no SNI
        assert "🔒" in status(app)

        await choose(pilot, "#verify", "ca")
        await step(pilot, "f2", "f3", "f4")
        tls = app.controller.state.tls
        assert tls is not None and tls.verify_note == "chain verified, name not checked"
        assert f"⚠ {tls.version} unverified" in status(app)  # half a check is not a lock


async def test_a_changed_ehlo_name_is_sent_by_the_next_ehlo_and_helo(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server()
    app = tui(settings_for(server, security=Security.NONE))
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3")
        assert " -> EHLO client.example" in transcript(app)
        sent = len(transcript(app))
        app.query_one("#ehlo-name", Input).value = "renamed.example"
        await step(pilot, "f3")
        assert transcript(app)[sent] == " -> EHLO renamed.example"
        app.query_one("#ehlo-name", Input).value = "helo.example"
        await step(pilot, "ctrl+t")
        assert transcript(app)[-2] == " -> HELO helo.example"
        # A bad name is said, and nothing is sent.
        sent = len(transcript(app))
        app.query_one("#ehlo-name", Input).value = "bad\0name"
        await step(pilot, "f3")
        [error] = errors(app)
        assert error.startswith("EHLO name: ") and error.endswith("nothing was sent")
        assert transcript(app)[sent:] == [f"*** {error}"]


async def test_f5_without_a_password_asks_for_one(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    app = tui(settings_for(server, client_tls_context, password=""))
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3", "f4", "f3")
        screen = await asked(pilot, "f5", PasswordScreen)
        field = screen.query_one("#password", Input)
        assert field.password and app.focused is field
        await pilot.press("escape")  # cancelled: nothing is sent
        await settle(pilot)
        assert not isinstance(app.screen, PasswordScreen)
        assert not any(line.startswith(" ~> AUTH") for line in transcript(app))
        assert app.controller.state.user is None

        await asked(pilot, "f5", PasswordScreen)
        await pilot.press(*"wonderland", "enter")
        await settle(pilot)
        assert app.controller.state.user == "alice"
        assert "wonderland" not in app.export_screenshot()
        # Kept, masked, in the Auth pane: the next AUTH does not ask again.
        assert value(app, "#password") == "wonderland"
        await step(pilot, "f2", "f3", "f4", "f3", "f5")
        assert app.controller.state.user == "alice"


async def test_f5_with_a_token_for_xoauth2_asks_for_no_password(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    settings = settings_for(
        server, client_tls_context, password="", mechanism="XOAUTH2", oauth_token="wonderland"
    )
    app = tui(settings)
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3", "f4", "f3", "f5")
        assert not isinstance(app.screen, PasswordScreen)
        assert app.controller.state.user == "alice"
        assert any(line.startswith(" ~> AUTH XOAUTH2") for line in transcript(app))


async def test_the_ui_takes_the_password_from_the_environment(
    server: EmbeddedServer,
    ca: trustme.CA,
    tmp_path: Path,
    config_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    monkeypatch.setenv("SMTPTUI_PASSWORD", "wonderland")
    words = [f"{server.host}:{server.port}", "--cafile", str(cafile), "--user", "alice"]
    options = main.commands["ui"].make_context("ui", words).params  # as the command line has them
    for name in ("demo", "theme"):  # the command's own, not the app's
        del options[name]
    app = ui_app(options.pop("host"), **options)
    app.show_timing = False
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3", "f4", "f3", "f5")
        assert not isinstance(app.screen, PasswordScreen)
        assert app.controller.state.user == "alice"
        assert "wonderland" not in app.export_screenshot()
    # Read, never written: nothing smtptui keeps holds it.
    kept = [path for path in config_dir.rglob("*") if path.is_file()]
    assert not any(b"wonderland" in path.read_bytes() for path in kept)


async def test_quit_export_offers_every_connection_and_warns_of_what_it_left_out(
    make_server: Callable[..., EmbeddedServer], tmp_path: Path
) -> None:
    server = make_server()
    app = tui(settings_for(server, security=Security.NONE))
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2", "f3", "f10", "f2", "f3")
        first, second = app.controller.transcripts
        unsaved = first.unsaved + second.unsaved
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, QuitScreen)
        warned = str(app.screen.query_one(Static).render())
        assert f"has {unsaved} entries" in warned  # over both connections
        await pilot.press("enter")  # Export…
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        everything = app.screen.query_one("#everything", Checkbox)
        assert everything.value  # every connection, as the count said

        everything.value = False  # only the one shown: the first is left out
        app.screen.query_one("#file", Input).value = str(tmp_path / "second.txt")
        await pilot.press("enter")
        await pilot.pause()
        assert app.return_code is None and isinstance(app.screen, QuitScreen)
        warned = str(app.screen.query_one(Static).render())
        assert f"still has {first.unsaved} entries" in warned and "left them out" in warned

        await pilot.press("enter")  # Export… again, everything
        await pilot.pause()
        assert app.screen.query_one("#everything", Checkbox).value
        app.screen.query_one("#file", Input).value = str(tmp_path / "all.txt")
        await pilot.press("enter")
        await pilot.pause()
        assert app.return_code == 0
    written = (tmp_path / "all.txt").read_text()
    assert "=== connection 1: " in written and "=== connection 2: " in written


async def test_the_transcript_keys_work_from_the_first_screen(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server()
    draft = Draft("alice@example.org", ("unknown@example.org",), "Hi", "Hi\n")
    app = tui(settings_for(server, security=Security.NONE), draft=draft)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(TranscriptView)
        await step(pilot, "f2", "ctrl+g")  # VRFY refused: an error to find
        assert errors(app) and app.focused is None  # nothing typed goes into a field unasked

        await pilot.press("slash")  # / searches, from there
        assert isinstance(app.focused, SearchBar)
        await pilot.press(*"VRFY", "enter")
        assert app.focused is view and view.selected is not None
        assert view.selected.text.startswith("VRFY")

        app.query_one("#verify", Select).focus()  # not a text field: the keys go through
        await pilot.press("e")
        assert app.focused is view
        assert view.selected is not None and view.selected.text.startswith("550 ")
        app.query_one("#security").focus()
        await pilot.press("f")
        assert app.focused is view and view.filter == "errors"

        # In a text field, typing comes first.
        await type_into(pilot, "#ehlo-name", "/fe")
        assert value(app, "#ehlo-name") == "/feclient.example"  # typed where clicked
        assert app.focused is app.query_one("#ehlo-name") and view.filter == "errors"
        assert not app.query_one(SearchBar).has_class("-open")
        await type_into(pilot, "#command", "/fe")
        assert value(app, "#command") == "/fe"


async def test_ctrl_n_goes_to_the_transcript_from_anywhere_but_a_dialog() -> None:
    app = tui()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(TranscriptView)
        await pilot.click("#host")
        await pilot.press("ctrl+n")
        assert app.focused is view
        await pilot.click("#command")
        await pilot.press("ctrl+n")
        assert app.focused is view

        keys = await help_words(pilot, "f1")  # listed in the help screen, and inert there
        assert "Ctrl+N Go to the transcript" in keys
        for row in ("/ Search", "f Filter", "e Next error", "E Previous error"):
            assert f"{row}" in keys and "from anywhere but a text field" in keys
        await pilot.press("ctrl+n", "f", "slash")
        assert isinstance(app.screen, HelpScreen) and view.filter == "all"
        await pilot.press("escape")

        await pilot.press("ctrl+p")  # and in the palette, where typing is for the search
        assert isinstance(app.screen, CommandPalette)
        await pilot.press("ctrl+n", *"Transcript: Go to it")
        assert isinstance(app.screen, CommandPalette)
        options = app.screen.query_one("CommandList")
        started = time.monotonic()
        while not options.option_count:
            assert time.monotonic() - started < STEP_TIMEOUT
            await pilot.pause(0.05)
        assert str(options.get_option_at_index(0).prompt).startswith(
            "Transcript: Go to it (Ctrl+N)"
        )
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, CommandPalette)
        assert app.focused is view


# -- 13. a message typed by hand, as telnet users do ---------------------------------------


async def type_line(pilot: Pilot[None], text: str, *, keys: bool = False) -> None:
    """Put ``text`` on the command line (``keys``: typed key by key), press Enter and wait
    for the step."""
    await pilot.click("#command")
    if keys:
        await pilot.press(*text)
    else:
        pilot.app.query_one(CommandLine).value = text
    await step(pilot, "enter")


async def type_to_354(pilot: Pilot[None], *, keys: bool = False) -> None:
    """Connect, then a transaction typed on the command line up to DATA's 354."""
    await step(pilot, "f2")
    for line in ("EHLO client.example", "MAIL FROM:<alice@example.org>", "RCPT TO:<bob@x.org>"):
        await type_line(pilot, line, keys=keys)
    await type_line(pilot, "DATA", keys=keys)
    assert pilot.app.controller.state.phase is Phase.DATA


TYPED = ["From: alice@example.org", "Subject: by hand", "", "Hello Bob,", ".a leading dot", "bye"]


async def test_a_message_typed_line_by_line(make_server: Callable[..., EmbeddedServer]) -> None:
    server = make_server()
    app = tui(settings_for(server, security=Security.NONE))
    async with app.run_test(size=SIZE) as pilot:
        command = app.query_one(CommandLine)
        assert command.placeholder == COMMAND_PLACEHOLDER and not command.in_message
        await type_to_354(pilot, keys=True)
        assert command.in_message and command.has_class("-message")
        assert command.placeholder == MESSAGE_PLACEHOLDER and command.suggester is None
        assert "● typing the message (a lone . ends it)" in status(app)

        for line in TYPED:
            await type_line(pilot, line, keys=True)
            assert not app.controller.state.busy and command.value == ""
            assert app.controller.state.phase is Phase.DATA
        # A line that cannot be sent is refused, naming the field; it stays, to be fixed.
        before = transcript(app)
        command.value = "X-Bad: a\0b"
        await step(pilot, "enter")
        assert errors(app)[-1].startswith("message line: contains a NUL character")
        assert errors(app)[-1].endswith("nothing was sent")
        assert transcript(app)[: len(before)] == before and len(transcript(app)) == len(before) + 1
        assert command.value == "X-Bad: a\0b"
        command.value = ""
        assert server.messages == []

        await type_line(pilot, ".", keys=True)
        [message] = server.messages
        assert message.data == "".join(f"{line}\r\n" for line in TYPED).encode()
        assert message.rcpt_tos == ("bob@x.org",)
        lines = transcript(app)
        start = lines.index("<-  354 End data with <CR><LF>.<CR><LF>") + 1
        assert lines[start : start + len(TYPED)] == [f" -> {line}" for line in TYPED]
        assert lines[-2] == " -> ."
        assert lines[-1].startswith("<-  250 2.0.0 Ok: queued as ")
        # On screen too, each line as typed, no dot after it: the one dot is the end.
        shown = [line for line in visible(app) if not line.startswith("***")]
        start = shown.index("<-  354 End data with <CR><LF>.<CR><LF>") + 1
        assert shown[start : start + len(TYPED) + 2] == [
            *(f" -> {line}".rstrip() for line in TYPED),
            " -> .",
            shown[start + len(TYPED) + 1],
        ]
        assert shown[start + len(TYPED) + 1].startswith("<-  250 2.0.0 Ok: queued as ")
        assert app.controller.state.phase is Phase.READY
        assert not command.in_message and command.placeholder == COMMAND_PLACEHOLDER
        assert command.suggester is not None and "message:" not in status(app)
        # The message's lines are not commands to send again: the history has the commands.
        assert command.history == [
            "EHLO client.example",
            "MAIL FROM:<alice@example.org>",
            "RCPT TO:<bob@x.org>",
            "DATA",
        ]


@pytest.mark.parametrize("choice", ["keep", "escape", "end", "drop"])
async def test_escape_while_typing_a_message_asks(
    make_server: Callable[..., EmbeddedServer], choice: str
) -> None:
    server = make_server()
    app = tui(settings_for(server, security=Security.NONE))
    async with app.run_test(size=SIZE) as pilot:
        await type_to_354(pilot)
        await type_line(pilot, "Subject: Esc")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, EndMessageScreen)
        assert app.controller.state.connected  # nothing dropped while it asks
        if choice == "escape":
            await pilot.press("escape")
        else:
            await pilot.click(f"#{choice}")
        await settle(pilot)
        assert not isinstance(app.screen, EndMessageScreen)
        state = app.controller.state
        if choice in ("keep", "escape"):
            assert state.phase is Phase.DATA and state.connected
            assert server.messages == [] and errors(app) == []
            await type_line(pilot, "more")
            await type_line(pilot, ".")
            assert server.messages[0].data == b"Subject: Esc\r\nmore\r\n"
        elif choice == "end":
            assert state.phase is Phase.READY and state.connected
            assert transcript(app)[-2] == " -> ."
            assert server.messages[0].data == b"Subject: Esc\r\n"
        else:
            assert state.phase is Phase.CLOSED
            assert transcript(app)[-1].startswith("=== Connection closed")
            assert server.messages == []
        await pilot.press("escape")  # out of message data, Esc asks nothing
        await pilot.pause()
        assert not isinstance(app.screen, EndMessageScreen)


async def test_f8_at_a_354_sends_the_composed_message_not_data(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server()
    draft = Draft("alice@example.org", ("bob@x.org",), "Composed", "Hi Bob,\n.dot\n")
    app = tui(settings_for(server, security=Security.NONE), draft=draft)
    async with app.run_test(size=SIZE) as pilot:
        await type_to_354(pilot)
        await step(pilot, "f8")
        [message] = server.messages
        received = email.message_from_bytes(message.data, policy=email.policy.default)
        assert received["Subject"] == "Composed"
        assert received.get_content() == "Hi Bob,\r\n.dot\r\n"
        assert not message.data.startswith(b"DATA")
        sent = [e for e in app.controller.transcript if e.kind is EntryKind.SENT]
        assert [entry.text for entry in sent].count("DATA") == 1
        assert sent[-1].body and sent[-1].data == message.data
        assert app.controller.state.phase is Phase.READY and errors(app) == []


async def test_history_masks_auth_credentials(make_server: Callable[..., EmbeddedServer]) -> None:
    server = make_server(auth_require_tls=False)
    app = tui(settings_for(server, security=Security.NONE))
    plain = base64.b64encode(b"\0alice\0hunter2").decode()
    user, password = (base64.b64encode(word).decode() for word in (b"alice", b"wonderland"))
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot, "f2")
        command = app.query_one(CommandLine)
        for line in ("EHLO client.example", f"AUTH PLAIN {plain}", "AUTH LOGIN", user, password):
            await type_line(pilot, line)
        assert app.controller.state.user is None  # typed by hand: the session sees no login
        assert transcript(app)[-1] == "<-  235 2.7.0 Authentication successful"
        assert command.history == [
            "EHLO client.example",
            "AUTH PLAIN ••••••••",
            "AUTH LOGIN",
            "••••••••",  # the username and the password, each a SASL response
            "••••••••",
        ]
        await pilot.press("up")
        shown = app.export_screenshot()
        for secret in (plain, user, password):
            assert not any(secret in line for line in command.history)
            assert secret not in shown
        # Recalled and sent unchanged, a masked line sends what was typed, not the mask.
        await pilot.press("up", "up", "up")
        assert command.value == "AUTH PLAIN ••••••••"
        await pilot.press("enter")
        await settle(pilot)
        [*_, last] = (e for e in app.controller.transcript if e.kind is EntryKind.SENT)
        assert last.data == f"AUTH PLAIN {plain}\r\n".encode()


async def test_a_command_typed_while_the_message_ends_goes_after_its_reply() -> None:
    typed = asyncio.Event()  # the reply to the dot waits for QUIT to be typed, however slow

    async def held_250(peer: Peer) -> None:
        await typed.wait()
        await peer.send(b"250 queued\r\n")

    async with ScriptedServer(dialogue({".": held_250})) as server:
        app = tui(settings_for(server, security=Security.NONE))
        async with app.run_test(size=SIZE) as pilot:
            await type_to_354(pilot)
            await type_line(pilot, "Subject: quick")
            command = app.query_one(CommandLine)
            command.value = "."
            await pilot.press("enter")
            await pilot.pause()
            assert app.controller.state.busy and not command.in_message
            command.value = "QUIT"  # before the dot's reply: a command, as telnet users type
            await pilot.press("enter")
            typed.set()
            await settle(pilot)
            assert transcript(app)[-5:-1] == [" -> .", "<-  250 queued", " -> QUIT", "<-  221 bye"]
            assert errors(app) == []
            assert server.peers[0].message_sizes == [len(b"Subject: quick\r\n")]
