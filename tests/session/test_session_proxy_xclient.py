"""A session behind a PROXY header and with XCLIENT, against the embedded server: the
settings checked by name, the header and XCLIENT in the transcript with what they mean."""

from __future__ import annotations

import ssl
from collections.abc import Callable

import pytest

from smtptui.protocol.errors import CommandError
from smtptui.protocol.proxy import ProxyHeader
from smtptui.server import EmbeddedServer
from smtptui.session import (
    Connect,
    Ehlo,
    EntryKind,
    MailFrom,
    RunAll,
    SendMessage,
    SessionController,
    SessionSettings,
    Xclient,
)
from smtptui.session.explain import explanation

from support.sessions import settings_for

MakeServer = Callable[..., EmbeddedServer]
MESSAGE = "Subject: told\r\n\r\nHi.\r\n"


def test_settings_make_the_header_and_the_attributes() -> None:
    settings = SessionSettings(
        proxy_protocol="v2",
        proxy_source="[2001:db8::1]:5555",
        xclient=("addr=192.0.2.1", "NAME=mail.example"),
    )
    assert settings.proxy_header == ProxyHeader(2, ("2001:db8::1", 5555), None)
    assert settings.xclient_attributes == (("ADDR", "192.0.2.1"), ("NAME", "mail.example"))
    assert SessionSettings().proxy_header is None


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"proxy_protocol": "v3"}, "proxy protocol", "v1 or v2"),
        ({"proxy_protocol": "v1", "proxy_source": "192.0.2.1"}, "proxy source", "ADDR:PORT"),
        ({"proxy_protocol": "v1", "proxy_dest": "mx.example:25"}, "proxy dest", "IP address"),
        ({"proxy_dest": "192.0.2.1:25"}, "proxy dest", "needs the PROXY protocol version"),
        ({"xclient": ("192.0.2.1",)}, "xclient", "NAME=VALUE"),
    ],
)
def test_bad_settings_are_named(changes, field, words) -> None:
    with pytest.raises(CommandError, match=words) as caught:
        SessionSettings(**changes)
    assert caught.value.field == field


async def test_run_all_with_a_header_and_xclient(
    make_server: MakeServer, client_tls_context: ssl.SSLContext
) -> None:
    server = make_server(proxy_protocol=True, xclient=True)
    settings = settings_for(
        server,
        client_tls_context,
        proxy_protocol="v1",
        proxy_source="192.0.2.1:5555",
        proxy_dest="198.51.100.2:25",
        xclient=("ADDR=203.0.113.7", "HELO=spam.example"),
    )
    controller = SessionController(settings)
    send = SendMessage("a@example.org", ("b@example.org",), MESSAGE)
    outcome = await controller.run(RunAll(send=send))
    assert outcome.ok, outcome.error
    [message] = server.messages
    assert message.proxied == "192.0.2.1:5555"
    assert message.xclient == (("ADDR", "203.0.113.7"), ("HELO", "spam.example"))
    entries = list(controller.transcript)
    sent = [e.text for e in entries if e.kind is EntryKind.SENT]
    assert sent[:4] == [
        "PROXY v1 TCP4 192.0.2.1:5555 → 198.51.100.2:25",
        "EHLO client.example",
        "XCLIENT ADDR=203.0.113.7 HELO=spam.example",
        "EHLO client.example",
    ]
    header = next(e for e in entries if e.text.startswith("PROXY v1"))
    assert header.data == b"PROXY TCP4 192.0.2.1 198.51.100.2 5555 25\r\n"
    assert "PROXY protocol header" in explanation(header)[0]
    xclient = next(e for e in entries if e.text.startswith("XCLIENT"))
    assert "now EHLO again" in explanation(xclient)[0]
    greeting = entries[entries.index(xclient) + 1]
    assert greeting.kind is EntryKind.RECEIVED and greeting.reply is not None
    assert greeting.reply.code == 220
    assert any(
        "(after XCLIENT) a new greeting: EHLO again" in line for line in explanation(greeting)
    )


async def test_the_xclient_step_refuses_and_names(
    make_server: MakeServer, client_tls_context: ssl.SSLContext
) -> None:
    server = make_server(xclient=True)
    controller = SessionController(settings_for(server, client_tls_context))
    for action in (Connect(), Ehlo()):
        assert (await controller.run(action)).ok
    outcome = await controller.run(Xclient((("FOO", "1"),)))
    assert not outcome.ok and "XCLIENT FOO" in (outcome.error or "")
    outcome = await controller.run(Xclient((("FOO", "1"),), force=True))
    assert not outcome.ok and outcome.reply is not None and outcome.reply.code == 501
    outcome = await controller.run(Xclient((("LOGIN", "bob"),)))
    assert outcome.ok and outcome.reply is not None and outcome.reply.code == 220
    outcome = await controller.run(MailFrom("a@example.org"))
    assert not outcome.ok  # EHLO again first
    [flagged] = [
        e for e in controller.transcript if e.kind is EntryKind.SENT and e.text.startswith("MAIL")
    ]
    assert any("before EHLO" in flag for flag in flagged.flags)


async def test_a_header_of_another_family_is_named_when_connecting(
    make_server: MakeServer, client_tls_context: ssl.SSLContext
) -> None:
    server = make_server(proxy_protocol=True)
    settings = settings_for(
        server, client_tls_context, proxy_protocol="v2", proxy_source="[2001:db8::1]:5555"
    )
    controller = SessionController(settings)
    outcome = await controller.run(Connect())
    assert not outcome.ok
    assert "proxy dest" in (outcome.error or "") and "one family" in (outcome.error or "")
