"""``smtptui serve --ui``: the server's side in the TUI, with real clients (the engine's
SMTPClient, and a hostile one on a bare socket) talking to the embedded server."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import OptionList
from textual.widgets._footer import FooterKey

from smtptui.engine import SMTPClient
from smtptui.server import EmbeddedServer
from smtptui.server.events import fan_out
from smtptui.session.export import swaks_lines
from smtptui.session.server_side import FLAG_RULE, SessionFiles
from smtptui.ui.certificate import CertificateScreen
from smtptui.ui.received import MessagesScreen
from smtptui.ui.serve import ServeApp
from smtptui.ui.transcript import TranscriptView

from support.hostile import HOSTILE, raw, screen_text
from support.pilot import error_toasts, help_words, until

SIZE = (110, 36)
MESSAGE = b"Subject: hello from the client\r\nTo: b@example.org\r\n\r\nHi there.\r\n"


async def drawn(pilot: Pilot[None], done: Callable[[], bool]) -> None:
    """Let the app run until ``done()`` (what the server told), and draw the transcript."""
    await until(pilot, done)
    pilot.app.query_one(TranscriptView).flush()
    await pilot.pause()


def rows(app: ServeApp) -> list[str]:
    listing = app.query_one("#sessions", OptionList)
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


async def client_session(server: EmbeddedServer, context: ssl.SSLContext) -> None:
    client = SMTPClient(server.host, server.port, ssl_context=context)
    await client.connect()
    await client.ehlo("client.example")
    await client.starttls()
    await client.ehlo("client.example")
    await client.sendmail("a@example.org", ["reject@example.org", "b@example.org"], MESSAGE)
    await client.quit()


async def test_a_client_session_in_the_list_its_transcript_and_its_message(
    make_server, client_tls_context: ssl.SSLContext
) -> None:
    app = ServeApp()
    server = make_server(on_event=app.take)
    async with app.run_test(size=SIZE) as pilot:
        await client_session(server, client_tls_context)
        await drawn(pilot, lambda: any("closed" in row for row in rows(app)))
        [row] = rows(app)
        assert "client.example" in row and "1 msg" in row and "1 rule" in row
        lines = [line for entry in app.view.entries for line in swaks_lines(entry)]
        for line in (
            " -> EHLO client.example",
            " -> STARTTLS",
            "<-  220 Ready to start TLS",
            f" ~> MAIL FROM:<a@example.org> size={len(MESSAGE)}",
            " ~> RCPT TO:<b@example.org>",
            "<~  354 End data with <CR><LF>.<CR><LF>",
            " ~> Subject: hello from the client",
            " ~> .",
            "<~  221 2.0.0 Bye",
        ):
            assert line in lines, line
        [rule] = [i for i, e in enumerate(app.view.entries) if FLAG_RULE in e.flags]
        refusal = app.view.entries[rule + 1]  # the reply the rule made
        assert refusal.reply is not None and refusal.reply.code == 550
        assert refusal.command is not None and refusal.command.path == "reject@example.org"
        app.view.action_cursor_to(rule)
        await pilot.pause()
        assert "*** Rule fired at rcpt: 550 5.1.1" in screen_text(app)

        await pilot.press("m")
        assert isinstance(app.screen, MessagesScreen)
        await pilot.pause()
        shown = screen_text(app)
        assert "Subject: hello from the client" in shown  # the headers
        assert r"Subject: hello from the client\x0d" in shown  # the raw bytes, CR written out
        await pilot.press("escape")

        app.view.focus()
        tls = next(i for i, e in enumerate(app.view.entries) if e.tls_info is not None)
        app.view.action_cursor_to(tls)
        await pilot.press("enter")
        assert isinstance(app.screen, CertificateScreen)


async def test_a_hostile_client_never_reaches_the_screen_raw(make_server) -> None:
    app = ServeApp()
    server = make_server(on_event=app.take, starttls=False)
    async with app.run_test(size=SIZE) as pilot:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        await reader.readline()
        for line in (b"EHLO evil" + HOSTILE + b"\r\n", HOSTILE + b" nonsense\r\n", b"QUIT\r\n"):
            writer.write(line)
            while (await reader.readline())[3:4] == b"-":
                pass
        writer.close()
        await drawn(pilot, lambda: any("closed" in row for row in rows(app)))
        shown = screen_text(app)
        assert r"\x1b]0;pwned\x07" in shown  # the EHLO name, in the list and the transcript
        assert raw(shown, keep="\n") == set(), shown
        await pilot.press("m")  # no message: said so
        assert "No message" in screen_text(app)


async def test_sessions_come_newest_last_and_can_be_chosen(
    make_server, client_tls_context: ssl.SSLContext
) -> None:
    app = ServeApp()
    server = make_server(on_event=app.take)
    async with app.run_test(size=SIZE) as pilot:
        await client_session(server, client_tls_context)
        await client_session(server, client_tls_context)
        await drawn(pilot, lambda: sum("closed" in row for row in rows(app)) == 2)
        assert app.showing is not None and app.showing.number == 2  # follows the newest
        app.query_one("#sessions").focus()
        await pilot.press("up")
        assert app.showing.number == 1
        assert app.view.entries[0].text.startswith("Connection from")


async def test_a_transcript_file_not_written_is_said_on_screen(
    make_server, client_tls_context: ssl.SSLContext, tmp_path: Path
) -> None:
    """``serve --ui --jsonl DIR`` where DIR cannot be written: the error is a toast (the
    terminal is the app's), and the session is still shown."""
    (tmp_path / "file").write_text("not a directory")
    app = ServeApp()
    files = SessionFiles(tmp_path / "file" / "sessions", failed=app.tell)
    server = make_server(on_event=fan_out(files.take, app.take))
    async with app.run_test(size=SIZE) as pilot:
        await client_session(server, client_tls_context)
        await drawn(pilot, lambda: bool(error_toasts(app)))
        [told] = error_toasts(app)
        assert told.startswith("Cannot write session 1's transcript to ")
        assert "sessions" in told
        assert any("closed" in row for row in rows(app))


async def test_its_keys_come_from_the_keymap_and_its_help_lists_them(
    make_server, client_tls_context: ssl.SSLContext, config_dir: Path
) -> None:
    """``[keymap]`` remaps serve's own keys (and a bad entry is named): the footer, the
    messages screen and F1 help show the keys as remapped; the help lists serve's keys and
    the transcript's, none of the main app's."""
    (config_dir / "config.toml").write_text(
        '[keymap]\nserve_messages = "v"\nserve_close_messages = "x"\nconnect = "m"\n'
        'palette = "ctrl+k"\nserve_next_pane = "f1"\n'
    )
    app = ServeApp()
    server = make_server(on_event=app.take)
    async with app.run_test(size=SIZE) as pilot:
        await client_session(server, client_tls_context)
        await drawn(pilot, lambda: any("closed" in row for row in rows(app)))
        keys = [f"{key.key_display} {key.description}" for key in app.query(FooterKey)]
        assert keys == ["F1 All keys", "v Messages", "Ctrl+K palette"]
        [problem] = [toast.message for toast in app._notifications]
        assert problem.startswith("[keymap] F1 would be both help (All keys) and serve_next_pane")
        await pilot.press("m")  # its default key is gone (and Connect's new key is not live)
        assert not isinstance(app.screen, MessagesScreen)
        await pilot.press("v")
        assert isinstance(app.screen, MessagesScreen)
        await pilot.pause()
        assert "x closes" in screen_text(app)
        await pilot.press("escape")  # its default keys are gone too
        assert isinstance(app.screen, MessagesScreen)
        await pilot.press("x")
        assert not isinstance(app.screen, MessagesScreen)
        text = await help_words(pilot, "f1")
        for shown in (
            "v The session's messages: envelope, headers, parts, bytes",
            "x Close the messages",
            "Tab Between the sessions and the transcript",
            "Ctrl+Q Quit smtptui",
            "Enter Explain a reply or command",
        ):
            assert shown in text, shown
        assert "Connect to the server" not in text and "Compose" not in text
