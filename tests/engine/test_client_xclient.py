"""XCLIENT against the embedded server: the new greeting, EHLO again, the attributes kept
on the message; refused attributes, and a long list split into several commands."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from smtptui.engine import SMTPClient
from smtptui.engine.events import ClientEvent, Received, Sent
from smtptui.protocol.dialogue import Phase
from smtptui.protocol.errors import CommandError
from smtptui.server import EmbeddedServer

MakeServer = Callable[..., EmbeddedServer]
MESSAGE = b"Subject: as another\r\n\r\nHi.\r\n"


def make_client(events: list[ClientEvent]) -> SMTPClient:
    return SMTPClient(local_hostname="client.example", timeout=5, listener=events.append)


async def test_xclient_then_ehlo_again(make_server: MakeServer) -> None:
    server = make_server(xclient=True)
    events: list[ClientEvent] = []
    client = make_client(events)
    await client.connect(server.host, server.port)
    await client.ehlo()
    assert client.esmtp_features["xclient"].split() == [
        "NAME", "ADDR", "PORT", "PROTO", "HELO", "LOGIN", "DESTADDR", "DESTPORT"
    ]  # fmt: skip
    attributes = [("ADDR", "2001:db8::1"), ("NAME", "[UNAVAILABLE]"), ("HELO", "spam bot")]
    code, text = await client.xclient(attributes)
    assert (code, text) == (220, b"smtptui.demo ESMTP smtptui")
    assert client.dialogue.phase is Phase.EHLO and client.capabilities is None
    assert client.ehlo_resp is None  # so sendmail says EHLO again
    await client.sendmail("a@example.org", ["b@example.org"], MESSAGE)
    await client.quit()
    [message] = server.messages
    assert message.xclient == (
        ("ADDR", "IPV6:2001:db8::1"),
        ("NAME", "[UNAVAILABLE]"),
        ("HELO", "spam bot"),
    )
    sent = [e.data for e in events if isinstance(e, Sent)]
    assert (
        sent[:4]
        == [
            b"EHLO client.example\r\n",
            b"XCLIENT ADDR=IPV6:2001:db8::1 NAME=[UNAVAILABLE] HELO=spam+20bot\r\n",
            b"EHLO client.example\r\n",
            b"MAIL FROM:<a@example.org>\r\n",
        ][:4]
        or sent
    )


async def test_a_long_list_goes_as_several_commands(make_server: MakeServer) -> None:
    server = make_server(xclient=True)
    events: list[ClientEvent] = []
    client = make_client(events)
    await client.connect(server.host, server.port)
    await client.ehlo()
    name, helo = "n" * 300 + ".example", "h" * 300
    assert (await client.xclient([("NAME", name), ("HELO", helo)]))[0] == 220
    await client.sendmail("a@example.org", ["b@example.org"], MESSAGE)
    await client.quit()
    assert server.messages[0].xclient == (("NAME", name), ("HELO", helo))
    greetings = [e for e in events if isinstance(e, Received) and e.reply.code == 220]
    assert [e.command.verb for e in greetings if e.command] == ["", "XCLIENT", "XCLIENT"]


async def test_unadvertised_attributes_are_refused_and_the_server_refuses_too(
    make_server: MakeServer,
) -> None:
    server = make_server(xclient=True)
    client = make_client([])
    await client.connect(server.host, server.port)
    with pytest.raises(CommandError, match="did not advertise XCLIENT"):
        await client.xclient([("ADDR", "192.0.2.1")])  # no EHLO yet: nothing advertised
    await client.ehlo()
    with pytest.raises(CommandError, match="not an XCLIENT attribute"):
        await client.xclient([("FOO", "1")])
    code, text = await client.xclient([("FOO", "1")], force=True)
    assert (code, text) == (501, b"5.5.4 Bad XCLIENT attribute name: FOO")
    assert client.dialogue.phase is Phase.READY  # a refusal changes nothing
    await client.mail("a@example.org")
    code, _ = await client.xclient([("ADDR", "192.0.2.1")])
    assert code == 503  # not inside a transaction, as Postfix has it
    await client.quit()


async def test_a_server_without_xclient(make_server: MakeServer) -> None:
    server = make_server()
    client = make_client([])
    await client.connect(server.host, server.port)
    await client.ehlo()
    assert not client.has_extn("xclient")
    assert (await client.xclient([("ADDR", "192.0.2.1")], force=True))[0] == 500
    await client.quit()
