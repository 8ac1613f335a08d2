"""The form panes, the command line and the help screen, driven with Pilot."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from dataclasses import replace

import pytest
from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import Collapsible, Input, OptionList, RadioButton, Select, Static, TextArea

from smtptui.protocol.capabilities import parse_ehlo
from smtptui.protocol.errors import CommandError
from smtptui.protocol.replies import ReplyParser
from smtptui.session import (
    Authenticate,
    Connect,
    Disconnect,
    Raw,
    Security,
    SendMessage,
    SessionSettings,
    VerifyMode,
)
from smtptui.ui.commandline import CommandLine
from smtptui.ui.help import HelpScreen
from smtptui.ui.messages import RunAction
from smtptui.ui.panes.auth import AuthPane
from smtptui.ui.panes.capabilities import CapabilitiesView
from smtptui.ui.panes.compose import ComposePane
from smtptui.ui.panes.connection import ConnectionPane
from smtptui.ui.panes.form import FormPane

from support.pilot import choose


class Harness(App[None]):
    """One widget on a screen; records what it posts upward."""

    def __init__(self, make: Callable[[], Widget]) -> None:
        super().__init__()
        self.make = make
        self.actions: list[object] = []
        self.invalid: list[CommandError] = []

    def compose(self) -> ComposeResult:
        yield self.make()

    def on_run_action(self, message: RunAction) -> None:
        self.actions.append(message.action)

    def on_form_pane_invalid(self, message: FormPane.Invalid) -> None:
        self.invalid.append(message.error)


SIZE = (60, 40)


# -- connection --------------------------------------------------------------------


async def test_connection_load_apply_round_trip() -> None:
    settings = SessionSettings(
        host="[::1]:2525",
        security=Security.TLS,
        verify=False,
        client_cert="/tmp/cert.pem",
        client_key="/tmp/key.pem",
        helo_name="client.example",
        connect_timeout=2.5,
        reply_timeout=60,
        username="alice",
    )
    app = Harness(ConnectionPane)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ConnectionPane)
        await pane.build_sections()  # as the app does after its first frame
        pane.load(settings)
        await pilot.pause()
        assert app.query_one("#host", Input).value == "[::1]:2525"
        assert app.query_one("#port", Input).value == ""
        assert app.query_one("#port", Input).placeholder.startswith("2525")
        assert pane.apply(SessionSettings(username="alice")) == settings
        pane.load(SessionSettings(host="mx.example", port=587))
        await pilot.pause()
        applied = pane.apply(SessionSettings())
        assert (applied.host, applied.port, applied.security) == ("mx.example", 587, "starttls")
        assert applied.address() == ("mx.example", 587)


@pytest.mark.parametrize(
    "settings",
    [
        SessionSettings(
            host="mx.example",
            client_cert="/tmp/c.pem",
            client_key="/tmp/k.pem",
            sni="",
            verify_name="mail.example",
            tls_min="1.2",
            tls_max="1.3",
            ciphers="ECDHE+AESGCM",
            lmtp=True,
            via="socks5://proxy.example:1080",
            source_address="192.0.2.1",
            family=4,
            proxy_protocol="v2",
            proxy_source="192.0.2.1:5555",
            proxy_dest="198.51.100.2:25",
            xclient=("ADDR=203.0.113.7", "NAME=spam.example"),
            username="alice",
        ),
        SessionSettings(pipe="ssh mx nc localhost 25", sni="sni.example", username="alice"),
    ],
)
async def test_connection_sections_built_later_keep_the_settings(
    settings: SessionSettings,
) -> None:
    """The collapsed sections' fields are built after the first frame: until then the
    pane gives back the settings loaded for them; then the fields show and give them."""
    app = Harness(ConnectionPane)
    async with app.run_test(size=SIZE):
        pane = app.query_one(ConnectionPane)
        assert not pane.query("#sni") and not pane.query("#xclient")
        pane.load(settings)
        assert pane.apply(SessionSettings(username="alice")) == settings
        await pane.build_sections()
        assert app.query_one("#sni", Input).value == (settings.sni or "-")
        assert app.query_one("#protocol-lmtp", RadioButton).value is settings.lmtp
        assert pane.apply(SessionSettings(username="alice")) == settings


async def test_connection_typing_and_security_choice() -> None:
    app = Harness(ConnectionPane)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ConnectionPane)
        await pilot.click("#host")
        await pilot.press(*"mx.example.org")
        assert app.query_one("#port", Input).placeholder == "25 (default)"
        await pilot.click("#security-tls")
        await pilot.pause()
        assert app.query_one("#port", Input).placeholder == "465 (default)"
        await choose(pilot, "#verify", "none")
        settings = pane.apply(SessionSettings())
        assert settings.host == "mx.example.org"
        assert settings.security is Security.TLS
        assert settings.address() == ("mx.example.org", 465)
        assert settings.verify is VerifyMode.NONE


@pytest.mark.parametrize(
    ("field_id", "value", "field"),
    [
        ("port", "abc", "port"),
        ("port", "70000", "port"),
        ("ehlo-name", "client\r\nRCPT TO:<x@y>", "EHLO name"),
        ("host", "mx\n.example", "host"),
        ("client-key", "/tmp/k\0", "client key"),
        ("sni", "mail example.org", "SNI"),
        ("verify-name", "mx\r\n.example", "verify name"),
        ("ciphers", "NO-SUCH-CIPHER", "ciphers"),
        ("connect-timeout", "soon", "connect timeout"),
        ("connect-timeout", "inf", "connect timeout"),
        ("reply-timeout", "0", "reply timeout"),
    ],
)
async def test_connection_bad_value_names_field_and_keeps_it(
    field_id: str, value: str, field: str
) -> None:
    app = Harness(ConnectionPane)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ConnectionPane)
        await pane.build_sections()
        app.query_one(f"#{field_id}", Input).value = value
        with pytest.raises(CommandError) as caught:
            pane.apply(SessionSettings())
        assert caught.value.field == field
        assert app.query_one(f"#{field_id}", Input).value == value
        assert pane.focus_field(caught.value.field)
        await pilot.pause()
        assert app.focused is app.query_one(f"#{field_id}")


async def test_connection_tls_options_typed_and_chosen() -> None:
    app = Harness(ConnectionPane)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ConnectionPane)
        await pane.build_sections()
        section = app.query_one("#tls-options", Collapsible)
        assert section.collapsed  # out of the way at 80x24 until asked for
        await pilot.click("#tls-options CollapsibleTitle")
        assert not section.collapsed
        await choose(pilot, "#verify", "host")
        await pilot.click("#sni")
        await pilot.press(*"-")
        await pilot.click("#verify-name")
        await pilot.press(*"mail.example.org")
        await choose(pilot, "#tls-min", "1.2")
        await choose(pilot, "#tls-max", "1.3")
        await pilot.click("#ciphers")
        await pilot.press(*"ECDHE+AESGCM")
        settings = pane.apply(SessionSettings())
        assert settings.verify is VerifyMode.HOST
        assert (settings.sni, settings.verify_name) == ("", "mail.example.org")  # -: no SNI
        assert (settings.tls_min, settings.tls_max, settings.ciphers) == (
            "1.2",
            "1.3",
            "ECDHE+AESGCM",
        )
        pane.load(replace(settings, sni="sni.example", tls_min=None))
        assert app.query_one("#sni", Input).value == "sni.example"
        assert pane.apply(SessionSettings()).tls_min is None
        pane.load(settings)
        assert pane.apply(SessionSettings()) == settings


async def test_connection_buttons() -> None:
    app = Harness(ConnectionPane)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#connect")
        await pilot.click("#disconnect")
        await pilot.pause()
        assert app.actions == [Connect(), Disconnect()]


# -- auth --------------------------------------------------------------------------


def option_labels(app: App[None]) -> list[str]:
    options = app.query_one("#mechanism", Select).query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_auth_load_apply_and_offered() -> None:
    app = Harness(AuthPane)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(AuthPane)
        settings = SessionSettings(
            username="alice",
            password=" pa ss ",
            oauth_token="tok",
            mechanism="login",
            authzid="boss",
            login_initial_response=False,  # not the default: the pane must carry it over
        )
        pane.load(settings)
        await pilot.pause()
        assert pane.apply(SessionSettings()) == replace(settings, mechanism="LOGIN")
        assert option_labels(app) == [
            "Auto",
            "PLAIN",
            "LOGIN",
            "CRAM-MD5",
            "XOAUTH2",
            "OAUTHBEARER",
            "SCRAM-SHA-256",
        ]
        pane.set_offered(["plain", "LOGIN", "GSSAPI"])
        await pilot.pause()
        assert option_labels(app) == [
            "Auto",
            "PLAIN ✓ offered",
            "LOGIN ✓ offered",
            "CRAM-MD5",
            "XOAUTH2",
            "OAUTHBEARER",
            "SCRAM-SHA-256",
        ]
        assert app.query_one("#mechanism", Select).value == "LOGIN"  # the choice is kept
        assert "GSSAPI" in str(app.query_one("#offered", Static).render())
        pane.load(SessionSettings())
        await pilot.pause()
        assert pane.apply(SessionSettings()).mechanism is None


async def test_auth_unknown_mechanism_is_kept() -> None:
    app = Harness(AuthPane)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(AuthPane)
        pane.load(SessionSettings(mechanism="GSSAPI"))
        await pilot.pause()
        assert pane.apply(SessionSettings()).mechanism == "GSSAPI"
        assert option_labels(app)[-1] == "GSSAPI"


async def test_auth_reveal_and_button() -> None:
    app = Harness(AuthPane)
    async with app.run_test(size=SIZE) as pilot:
        password = app.query_one("#password", Input)
        token = app.query_one("#oauth-token", Input)
        assert password.password and token.password
        await pilot.click("#reveal")
        await pilot.pause()
        assert not password.password and not token.password
        await pilot.click("#authenticate")
        app.query_one("#mechanism", Select).value = "CRAM-MD5"
        await pilot.pause(0.3)  # a button ignores clicks while it shows the last one
        await pilot.click("#authenticate")
        await pilot.pause()
        assert app.actions == [Authenticate(None), Authenticate("CRAM-MD5")]


async def test_auth_newline_in_password_is_refused() -> None:
    app = Harness(AuthPane)
    async with app.run_test(size=SIZE):
        app.query_one("#password", Input).value = "secret\r\nQUIT"
        with pytest.raises(CommandError) as caught:
            app.query_one(AuthPane).apply(SessionSettings())
        assert caught.value.field == "password"
        assert app.query_one("#password", Input).value == "secret\r\nQUIT"


# -- compose -----------------------------------------------------------------------


def fill(app: App[None], **fields: str) -> None:
    """Set Inputs by id (``envelope_sender`` for ``#envelope-sender``) or TextAreas."""
    for name, value in fields.items():
        widget = app.query_one(f"#{name.replace('_', '-')}")
        if isinstance(widget, TextArea):
            widget.text = value
        else:
            assert isinstance(widget, Input)
            widget.value = value


def parsed(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


async def test_compose_build_message_and_envelope() -> None:
    app = Harness(ComposePane)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ComposePane)
        pane.load("Alice <alice@example.org>", ["bob@example.org", "carol@example.org"], "Hi", "")
        fill(
            app,
            cc="Dave <dave@example.org>",
            bcc="eve@example.org",
            headers="X-Mailer: smtptui\n\nReply-To: alice@example.net",
            body="Hello Bob,\n.leading dot\nbye\n",
        )
        await pilot.pause()
        send = pane.build()
        assert send.sender == "alice@example.org"
        assert send.recipients == (
            "bob@example.org",
            "carol@example.org",
            "eve@example.org",
            "dave@example.org",
        )
        assert send.mail_options == ()
        assert isinstance(send.message, bytes)
        assert b"\r\n" in send.message and b"\n" not in send.message.replace(b"\r\n", b"")
        msg = parsed(send.message)
        assert msg["From"] == "Alice <alice@example.org>"
        assert msg["To"] == "bob@example.org, carol@example.org"
        assert msg["Cc"] == "Dave <dave@example.org>"
        assert msg["Bcc"] is None and b"eve@" not in send.message
        assert msg["Subject"] == "Hi"
        assert msg["X-Mailer"] == "smtptui"
        assert msg["Reply-To"] == "alice@example.net"
        assert msg["Date"] is not None
        assert msg["Message-ID"].endswith("@example.org>")
        assert msg.get_content() == "Hello Bob,\r\n.leading dot\r\nbye\r\n"
        assert (pane.envelope_sender(), pane.envelope_recipients()) == (
            send.sender,
            list(send.recipients),
        )
        assert parsed(pane.message())["Subject"] == "Hi"


async def test_compose_envelope_override_and_encoding() -> None:
    app = Harness(ComposePane)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ComposePane)
        pane.load("alice@example.org", ["bob@example.org"], "Grüße aus Köln", "Schöne Grüße\n")
        fill(
            app,
            envelope_sender="<>",
            envelope_recipients=" postmaster , bounce@example.net,",
            headers=(
                "Date: Mon, 1 Jan 2024 00:00:00 +0000\n"
                "Content-Type: text/plain; charset=utf-8\n"
                "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\n"
                "Received: from c by d; Mon, 1 Jan 2024 00:00:00 +0000"
            ),
        )
        await pilot.pause()
        send = pane.build()
        assert (send.sender, send.recipients) == ("", ("postmaster", "bounce@example.net"))
        assert send.message.isascii()
        assert b"=?utf-8?" in send.message
        msg = parsed(send.message)
        assert msg["Subject"] == "Grüße aus Köln"
        assert msg.get_all("Date") == ["Mon, 01 Jan 2024 00:00:00 +0000"]
        assert len(msg.get_all("Content-Type")) == 1
        assert [value.split(";")[0] for value in msg.get_all("Received")] == [
            "from a by b",
            "from c by d",
        ]
        assert msg.get_content() == "Schöne Grüße\r\n"


async def test_compose_international_address_asks_for_smtputf8() -> None:
    app = Harness(ComposePane)
    async with app.run_test(size=SIZE):
        pane = app.query_one(ComposePane)
        pane.load("jörg@example.org", ["bob@example.org"], "Hi", "Hi\n")
        send = pane.build()
        assert send.sender == "jörg@example.org"
        assert send.mail_options == ("SMTPUTF8", "BODY=8BITMIME")


async def test_compose_raw_mode_sends_the_body_as_typed() -> None:
    text = "From: a@example.org\nTo: b@example.org\nSubject: raw\nX-Odd:no-space\n\nbody ünïcode\n"
    app = Harness(ComposePane)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ComposePane)
        pane.load("a@example.org", ["b@example.org"], "ignored", text)
        fill(app, headers="not a header line")  # not used in raw mode
        await pilot.click("#raw")
        await pilot.pause()
        assert app.query_one("#subject", Input).disabled
        assert app.query_one("#headers", TextArea).disabled
        assert app.query_one("#raw-hint").display
        send = pane.build()
        assert send.message == text.replace("\n", "\r\n").encode()
        assert (send.sender, send.recipients) == ("a@example.org", ("b@example.org",))
        await pilot.click("#raw")
        await pilot.pause()
        assert not app.query_one("#subject", Input).disabled
        assert app.query_one("#subject", Input).value == "ignored"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"subject": "Hi\r\nBcc: x@y"}, "Subject", "CR"),
        ({"to": "bob@example.org\nRCPT TO:<x@y>"}, "To", "LF"),
        ({"headers": "X-Ok: 1\nno colon here"}, "headers", "line 2"),
        ({"headers": "Bad Name: 1"}, "headers", "line 1"),
        ({"headers": "X-Nul: a\0b"}, "headers", "NUL"),
        ({"to": ""}, "To", "no recipient"),
        ({"to": "undisclosed-recipients:;"}, "To", "no recipient"),
        ({"to": "bob@"}, "To", "To"),
        ({"to": "a@example.org b@example.org"}, "To", "invalid"),
        ({"from": ""}, "From", "no sender"),
        ({"envelope_sender": "a@\rb"}, "envelope sender", "CR"),
        ({"envelope_recipients": "a@b\n"}, "envelope recipients", "LF"),
    ],
)
async def test_compose_refuses_bad_fields(fields: dict[str, str], field: str, words: str) -> None:
    app = Harness(ComposePane)
    async with app.run_test(size=SIZE):
        pane = app.query_one(ComposePane)
        pane.load("alice@example.org", ["bob@example.org"], "Hi", "Hello\n")
        fill(app, **fields)
        for build in (pane.build, pane.message, pane.envelope_sender, pane.envelope_recipients):
            with pytest.raises(CommandError) as caught:
                build()
            assert caught.value.field == field
            assert words in str(caught.value)
        for name, value in fields.items():  # nothing typed is lost
            widget = app.query_one(f"#{name.replace('_', '-')}")
            assert (widget.text if isinstance(widget, TextArea) else widget.value) == value


async def test_compose_send_button() -> None:
    app = Harness(ComposePane)
    async with app.run_test(size=(60, 60)) as pilot:
        pane = app.query_one(ComposePane)
        pane.load("alice@example.org", ["bob@example.org"], "Hi", "Hello\n")
        await pilot.click("#send")
        await pilot.pause()
        [send] = app.actions
        assert isinstance(send, SendMessage)
        assert send.recipients == ("bob@example.org",)
        fill(app, to="")
        await pilot.pause(0.3)  # a button ignores clicks while it shows the last one
        await pilot.click("#send")
        await pilot.pause()
        assert len(app.actions) == 1
        assert [error.field for error in app.invalid] == ["To"]
        assert app.focused is app.query_one("#to")


# -- capabilities ------------------------------------------------------------------


def ehlo(*lines: bytes) -> object:
    [reply] = ReplyParser().feed(b"".join(line + b"\r\n" for line in lines))
    return parse_ehlo(reply)


def shown(app: App[None]) -> str:
    return "\n".join(
        str(static.render()) for static in app.query_one(CapabilitiesView).query(Static)
    )


async def test_capabilities_view() -> None:
    app = Harness(CapabilitiesView)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Run EHLO to see what the server offers." in shown(app)
        capabilities = ehlo(
            b"250-mx.example.org Hello client",
            b"250-SIZE 33554432",
            b"250-AUTH PLAIN LOGIN",
            b"250-X-ODD [markup]",
            b"250 STARTTLS",
        )
        view = app.query_one(CapabilitiesView)
        view.show("220 mx.example.org ESMTP", capabilities)  # type: ignore[arg-type]
        await pilot.pause()
        text = shown(app)
        assert "220 mx.example.org ESMTP" in text
        assert "mx.example.org Hello client" in text
        assert "SIZE 33554432" in text
        assert "Accepts messages up to 32 MiB (33,554,432 bytes). RFC 1870" in text
        assert "AUTH PLAIN LOGIN" in text
        assert "X-ODD [markup]" in text
        assert "STARTTLS" in text and "Run EHLO" not in text
        view.show(None, ehlo(b"250 mx.example.org"))  # type: ignore[arg-type]
        await pilot.pause()
        assert "No extensions advertised." in shown(app)


# -- command line ------------------------------------------------------------------


async def test_command_line_submit_and_history() -> None:
    app = Harness(CommandLine)
    async with app.run_test(size=SIZE) as pilot:
        line = app.query_one(CommandLine)
        line.focus()
        for command in ("NOOP", "VRFY bob", "VRFY bob"):
            await pilot.press(*command, "enter")
        await pilot.press("enter")  # an empty line sends nothing
        await pilot.pause()
        assert app.actions == [Raw("NOOP"), Raw("VRFY bob"), Raw("VRFY bob")]
        assert line.value == ""
        assert line.history == ["NOOP", "VRFY bob"]
        await pilot.press(*"HE")
        await pilot.press("up")
        assert line.value == "VRFY bob"
        await pilot.press("up", "up")
        assert line.value == "NOOP"
        await pilot.press("down")
        assert line.value == "VRFY bob"
        await pilot.press("down")
        assert line.value == "HE"  # what was being typed comes back
        await pilot.press("down")
        assert line.value == "HE"
        await pilot.press("up", "enter")
        await pilot.pause()
        assert app.actions[-1] == Raw("VRFY bob")


async def test_command_line_completes_verbs_in_any_case() -> None:
    app = Harness(CommandLine)
    async with app.run_test(size=SIZE) as pilot:
        line = app.query_one(CommandLine)
        line.focus()
        await pilot.press(*"rc")
        await pilot.pause()
        await pilot.press("right")
        assert line.value == "RCPT TO:<"
        await pilot.press(*"bob@example.org>", "enter")
        await pilot.pause()
        assert app.actions == [Raw("RCPT TO:<bob@example.org>")]
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("right")
        assert line.value == "STARTTLS"


# -- help --------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["escape", "f1", "q"])
async def test_help_screen_opens_and_closes(key: str) -> None:
    app = Harness(CommandLine)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(HelpScreen())
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(str(static.render()) for static in app.screen.query(Static))
        keys = " ".join(text.split())
        assert "F2, Alt+C Connect to the server" in keys
        assert "Ctrl+P Command palette" in keys
        assert " ~> \nsent inside TLS" in text  # a cell each
        assert "5xx\nfailed" in text
        await pilot.press(key)
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
