"""A message typed line by line after a 354: ``data_line`` writes each line at once, stuffed,
with no reply awaited; ``end_data`` sends the final dot (or the rest of the message, then
the dot) and reads the one reply. Against the embedded server and a scripted one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from smtptui.engine import SMTPClient, SMTPTimeoutError
from smtptui.engine.events import ClientEvent, Direction, Received, Sent, SentKind, WireEvent
from smtptui.protocol.errors import CommandError
from smtptui.server import EmbeddedServer

from support.scripted import Peer, ScriptedServer, stall

pytestmark = pytest.mark.timeout(20)

LINES = ["Subject: typed", "", "Hello,", ".a leading dot", "..two", " .", "bye"]
"""What a person types after 354: a header, the empty separator line, body lines."""

DELIVERED = b"Subject: typed\r\n\r\nHello,\r\n.a leading dot\r\n..two\r\n .\r\nbye\r\n"
STUFFED = b"Subject: typed\r\n\r\nHello,\r\n..a leading dot\r\n...two\r\n .\r\nbye\r\n"


async def at_354(client: SMTPClient, host: str, port: int) -> None:
    await client.connect(host, port)
    await client.ehlo()
    await client.mail("a@example.org")
    await client.rcpt("b@example.org")
    assert (await client.docmd("DATA"))[0] == 354


def client_with_events(**kwargs: object) -> tuple[SMTPClient, list[ClientEvent]]:
    events: list[ClientEvent] = []
    client = SMTPClient(
        local_hostname="client.example", timeout=5, listener=events.append, **kwargs
    )
    return client, events


async def test_typed_lines_reach_the_server_exactly(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server(starttls=False)
    client, events = client_with_events()
    await at_354(client, server.host, server.port)
    events.clear()
    for line in LINES:
        assert await client.data_line(line) is None
    code, message = await client.end_data()
    assert code == 250 and message.startswith(b"2.0.0 Ok: queued as ")
    assert await client.noop() == (250, b"2.0.0 Ok")  # in step: one reply to the dot
    await client.quit()

    [received] = server.messages
    assert received.data == DELIVERED
    sent = [event for event in events if isinstance(event, Sent)]
    assert [event.kind for event in sent] == [SentKind.MESSAGE_LINE] * len(LINES) + [
        SentKind.COMMAND,
        SentKind.COMMAND,
        SentKind.COMMAND,
    ]
    # Each line's event shows it as typed; the wire carries it stuffed.
    assert [event.data for event in sent[: len(LINES)]] == [
        line.encode() + b"\r\n" for line in LINES
    ]
    wire = b"".join(
        e.data for e in events if isinstance(e, WireEvent) and e.direction is Direction.SENT
    )
    assert wire.startswith(STUFFED + b".\r\nNOOP\r\n")


async def test_the_bytes_on_the_wire_and_no_reply_awaited_per_line() -> None:
    """The server answers nothing until the dot; each line is written as it is given."""

    async def script(peer: Peer) -> None:
        await peer.send(b"220 mx.example ESMTP\r\n")
        for verb, answer in [
            (b"EHLO", b"250 mx.example\r\n"),
            (b"MAIL", b"250 ok\r\n"),
            (b"RCPT", b"250 ok\r\n"),
            (b"DATA", b"354 go ahead\r\n"),
        ]:
            await peer.expect(verb)
            await peer.send(answer)
        while await peer.line() != b".\r\n":
            pass
        await peer.send(b"250 queued\r\n")
        await peer.expect(b"QUIT")
        await peer.send(b"221 bye\r\n")

    async with ScriptedServer(script) as server:
        client, events = client_with_events()
        await at_354(client, server.host, server.port)
        for line in LINES:
            await client.data_line(line)
        assert await client.end_data() == (250, b"queued")
        assert await client.quit() == (221, b"bye")
        await server.finished()

    received = server.peers[0].received
    start = received.index(b"DATA\r\n") + 1
    assert b"".join(received[start:]) == STUFFED + b".\r\nQUIT\r\n"
    # Lock step: after the 354, nothing is received until the dot's reply.
    kinds = [
        type(event).__name__ if not isinstance(event, Sent) else event.kind
        for event in events
        if isinstance(event, Sent | Received)
    ]
    assert kinds[-5 - len(LINES) :] == [
        "Received",  # the 354
        *[SentKind.MESSAGE_LINE] * len(LINES),
        SentKind.COMMAND,  # the dot
        "Received",
        SentKind.COMMAND,  # QUIT
        "Received",
    ]


async def test_a_bad_line_is_refused_and_nothing_is_sent(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server(starttls=False)
    client, events = client_with_events()
    await at_354(client, server.host, server.port)
    await client.data_line("Subject: fine")
    events.clear()
    for line in ("two\r\nlines", "bare\nLF", "a\rCR", "NUL\0here"):
        with pytest.raises(CommandError, match=r"^message line: contains a"):
            await client.data_line(line)
    assert events == []
    assert (await client.end_data())[0] == 250
    assert server.messages[0].data == b"Subject: fine\r\n"


async def test_end_data_with_the_message_sends_it_and_its_dot_not_data(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    """At a 354 the composed message goes as the data asked for: DATA is not said again."""
    server = make_server(starttls=False)
    client, events = client_with_events()
    await at_354(client, server.host, server.port)
    await client.data_line("X-Typed: first")
    events.clear()
    code, _ = await client.end_data("Subject: composed\n\n.dot\nend")
    assert code == 250
    assert server.messages[0].data == b"X-Typed: first\r\nSubject: composed\r\n\r\n.dot\r\nend\r\n"
    [sent] = [event for event in events if isinstance(event, Sent)]
    assert sent.kind is SentKind.BODY and sent.data == b"Subject: composed\r\n\r\n.dot\r\nend"
    wire = b"".join(e.data for e in events if isinstance(e, WireEvent))
    assert wire.startswith(b"Subject: composed\r\n\r\n..dot\r\nend\r\n.\r\n250 ")


async def test_no_reply_to_the_dot_times_out_naming_the_message_data() -> None:
    async def script(peer: Peer) -> None:
        await peer.send(b"220 mx.example ESMTP\r\n")
        for verb, answer in [
            (b"EHLO", b"250 mx.example\r\n"),
            (b"MAIL", b"250 ok\r\n"),
            (b"RCPT", b"250 ok\r\n"),
            (b"DATA", b"354 go ahead\r\n"),
        ]:
            await peer.expect(verb)
            await peer.send(answer)
        await peer.expect(b"hello")
        await peer.expect(b".\r\n")
        await stall(peer)

    async with ScriptedServer(script) as server:
        client, _ = client_with_events()
        await at_354(client, server.host, server.port)
        client.timeout = 0.3
        await client.data_line("hello")
        with pytest.raises(SMTPTimeoutError, match="during message data"):
            await client.end_data()
        assert not client.connected
