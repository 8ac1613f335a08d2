"""Settings, the phase machine and the suggestions: pure, no I/O."""

from __future__ import annotations

import pytest

from smtptui.protocol.errors import CommandError
from smtptui.protocol.replies import ReplyParser
from smtptui.session import (
    Authenticate,
    Connect,
    Disconnect,
    Ehlo,
    Helo,
    MailFrom,
    Phase,
    Pipeline,
    Quit,
    RcptTo,
    Reset,
    Security,
    SendBdat,
    SendData,
    SendMessage,
    SessionSettings,
    SessionState,
    StartTls,
    suggestions,
)


def reply(raw: bytes):
    [parsed] = ReplyParser().feed(raw)
    return parsed


@pytest.mark.parametrize(
    ("host", "port", "security", "expected"),
    [
        ("mx.example", None, Security.STARTTLS, ("mx.example", 25)),
        ("mx.example", None, Security.NONE, ("mx.example", 25)),
        ("mx.example", None, Security.TLS, ("mx.example", 465)),
        ("mx.example:2525", None, Security.TLS, ("mx.example", 2525)),
        ("mx.example:2525", 587, Security.STARTTLS, ("mx.example", 587)),
        ("[::1]:2526", None, Security.STARTTLS, ("::1", 2526)),
        ("::1", None, Security.STARTTLS, ("::1", 25)),
    ],
)
def test_address(host: str, port: int | None, security: Security, expected) -> None:
    settings = SessionSettings(host=host, port=port, security=security)
    assert settings.address() == expected


def test_defaults_and_security_from_text() -> None:
    settings = SessionSettings(host="mx.example", security="tls")  # type: ignore[arg-type]
    assert settings.security is Security.TLS and settings.implicit_tls
    assert SessionSettings().security is Security.STARTTLS
    assert SessionSettings().verify and SessionSettings().mechanism is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"host": "mx.example\r\nRSET"}, "host"),
        ({"host": "mx.example:smtp"}, "host"),
        ({"host": "[::1"}, "host"),
        ({"port": 0}, "port"),
        ({"port": 65536}, "port"),
        ({"helo_name": "me\nRSET"}, "EHLO name"),
        ({"username": "alice\0"}, "username"),
        ({"password": "pw\r"}, "password"),
        ({"oauth_token": "t\n"}, "OAuth token"),
        ({"cafile": "ca\n.pem"}, "CA file"),
        ({"mechanism": " "}, "mechanism"),
        ({"connect_timeout": 0}, "connect timeout"),
        ({"reply_timeout": -1}, "reply timeout"),
    ],
)
def test_bad_settings_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(CommandError) as caught:
        SessionSettings(**changes)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_empty_host_is_refused_at_connect_time() -> None:
    with pytest.raises(CommandError) as caught:
        SessionSettings().address()
    assert caught.value.field == "host"


def test_secrets_stay_out_of_repr() -> None:
    text = repr(
        SessionSettings(host="h", username="alice", password="wonderland", oauth_token="t0k")
    )
    assert "alice" in text and "wonderland" not in text and "t0k" not in text


def test_suggestions_follow_the_dialogue() -> None:
    state = SessionState()
    assert suggestions(state) == (Connect,)
    assert suggestions(state.without_connection(Phase.GREETING)) == (Disconnect,)
    greeted = SessionState(Phase.EHLO, last_reply=reply(b"220 hi\r\n"))
    assert suggestions(greeted) == (Ehlo, Helo, Quit)
    refused = SessionState(Phase.EHLO, last_reply=reply(b"554 go away\r\n"))
    assert suggestions(refused) == (Quit, Disconnect)
    offers = frozenset({"STARTTLS", "SIZE"})
    ready = SessionState(Phase.READY, esmtp=True, extensions=offers)
    assert suggestions(ready) == (StartTls, MailFrom, SendMessage, Quit)
    with_auth = SessionState(Phase.READY, esmtp=True, extensions=frozenset({"AUTH"}))
    assert suggestions(with_auth) == (Authenticate, MailFrom, SendMessage, Quit)
    logged_in = SessionState(Phase.READY, extensions=frozenset({"AUTH"}), user="alice")
    assert suggestions(logged_in) == (MailFrom, SendMessage, Quit)
    assert suggestions(SessionState(Phase.MAIL)) == (RcptTo, Reset, Quit)
    assert suggestions(SessionState(Phase.RCPT)) == (RcptTo, SendData, Reset, Quit)


def test_suggestions_offer_pipelining_and_chunking_when_advertised() -> None:
    offers = frozenset({"PIPELINING", "CHUNKING"})
    ready = SessionState(Phase.READY, esmtp=True, extensions=offers)
    assert suggestions(ready) == (MailFrom, SendMessage, Quit, Pipeline)
    rcpt = SessionState(Phase.RCPT, esmtp=True, extensions=offers)
    assert suggestions(rcpt) == (RcptTo, SendData, SendBdat, Reset, Quit)
    assert suggestions(SessionState(Phase.BDAT)) == (SendBdat, Reset, Quit)


def test_action_labels() -> None:
    assert [action.label for action in (Ehlo, MailFrom, RcptTo, SendData, Authenticate)] == [
        "EHLO",
        "MAIL FROM",
        "RCPT TO",
        "DATA",
        "AUTH",
    ]
    assert MailFrom("a@example.com").label == "MAIL FROM"
