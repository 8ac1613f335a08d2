"""A transaction's next step goes out the moment the reply before it allows, never sooner.

``sendmail`` and ``data`` prepare their next line (the next RCPT, DATA, the message) while
the server works, and write it from the I/O callback that reads the allowing reply. These
tests hold that to the same dialogue as smtplib's, in lock step, whatever the server says.
"""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
from collections.abc import Awaitable, Callable

import pytest

from smtptui.engine import SMTPClient, SMTPException
from smtptui.engine.events import ClientEvent, Received, Sent, SentKind
from smtptui.protocol.errors import CommandError

from support.scripted import Answer, Peer, ScriptedServer, dialogue

pytestmark = pytest.mark.timeout(20)

MESSAGE = b"Subject: hi\r\n\r\n.starts with a dot\r\nbye\r\n"
RECIPIENTS = ["a@example.com", "b@example.com"]

SCENARIOS: dict[str, dict[str, Answer | list[Answer]]] = {
    "all accepted": {},
    "251 forwards": {"RCPT": b"251 will forward\r\n"},
    "sender refused": {"MAIL": b"550 no\r\n"},
    "first recipient refused": {"RCPT": [b"550 no such user\r\n", b"250 ok\r\n"]},
    "last recipient refused": {"RCPT": [b"250 ok\r\n", b"550 no such user\r\n"]},
    "all recipients refused": {"RCPT": b"550 no such user\r\n"},
    "421 to a recipient": {"RCPT": b"421 closing\r\n"},
    "DATA refused": {"DATA": b"554 no data\r\n"},
    "DATA answered 250": {"DATA": b"250 odd\r\n"},
    "message refused": {".": b"552 too big\r\n"},
}


async def received_by_server(
    answers: dict[str, Answer | list[Answer]], send: Callable[[str, int], Awaitable[None]]
) -> list[bytes]:
    """What a dialogue server answering ``answers`` received from ``send(host, port)``."""
    async with ScriptedServer(dialogue(answers)) as server:
        with contextlib.suppress(SMTPException, smtplib.SMTPException):
            await send(server.host, server.port)
        await server.finished()
        # smtplib writes verbs in lower case, and ends with QUIT where ours just closes
        lines = [line.upper() for peer in server.peers for line in peer.received]
        return [line for line in lines if line and line != b"QUIT\r\n"]


async def ours(host: str, port: int) -> None:
    client = SMTPClient(local_hostname="client.example", timeout=3)
    await client.connect(host, port)
    await client.ehlo()
    try:
        await client.sendmail("me@example.com", RECIPIENTS, MESSAGE)
    finally:
        client.close()


async def stdlib(host: str, port: int) -> None:
    def send() -> None:
        with smtplib.SMTP(host, port, local_hostname="client.example", timeout=3) as smtp:
            smtp.sendmail("me@example.com", RECIPIENTS, MESSAGE)

    await asyncio.to_thread(send)


@pytest.mark.parametrize("answers", SCENARIOS.values(), ids=SCENARIOS.keys())
async def test_the_server_hears_what_smtplib_says(
    answers: dict[str, Answer | list[Answer]],
) -> None:
    mine = await received_by_server(answers, ours)
    theirs = await received_by_server(answers, stdlib)
    assert mine == theirs


async def test_each_step_waits_for_the_reply_before_it() -> None:
    """The server takes its time over every reply; nothing arrives while it does."""

    async def slow(peer: Peer) -> None:
        await peer.send(b"220 slow.example ESMTP\r\n")
        for verb, answer in [
            (b"EHLO", b"250 slow.example\r\n"),
            (b"MAIL", b"250 ok\r\n"),
            (b"RCPT", b"250 ok\r\n"),
            (b"RCPT", b"250 ok\r\n"),
            (b"DATA", b"354 go ahead\r\n"),
        ]:
            await peer.expect(verb)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(peer.reader.read(1), 0.15)
            await peer.send(answer)
        await peer.skip_message()
        await peer.send(b"250 queued\r\n")
        await peer.expect(b"QUIT")
        await peer.send(b"221 bye\r\n")

    async with ScriptedServer(slow) as server:
        client = SMTPClient(server.host, server.port, local_hostname="client.example")
        await client.connect()
        await client.ehlo()
        assert await client.sendmail("me@example.com", RECIPIENTS, MESSAGE) == {}
        assert await client.quit() == (221, b"bye")
        assert server.peers[0].message_sizes == [len(MESSAGE) + 1]  # stuffed: one more dot


async def test_next_steps_are_written_by_the_reply_not_the_task() -> None:
    """What the transaction decided ahead is written as its reply is read, before the
    awaiting task wakes; the transcript's order is still reply, then the next command."""
    events: list[tuple[ClientEvent, bool]] = []

    def listen(event: ClientEvent) -> None:
        events.append((event, asyncio.current_task() is None))

    async with ScriptedServer(dialogue()) as server:
        client = SMTPClient(server.host, server.port, local_hostname="c.example", listener=listen)
        await client.connect()
        await client.ehlo()
        events.clear()
        await client.sendmail("me@example.com", RECIPIENTS, MESSAGE)
        await client.quit()

    sent = [
        (event.data.split(None, 1)[0], from_callback)
        for event, from_callback in events
        if isinstance(event, Sent)
    ]
    assert sent == [
        (b"MAIL", False),
        (b"RCPT", True),
        (b"RCPT", True),
        (b"DATA", True),
        (b"Subject:", True),  # the message, shown as given; its payload is stuffed
        (b"QUIT", False),
    ]
    kinds = [
        "sent" if isinstance(event, Sent) else "reply"
        for event, _ in events
        if isinstance(event, Sent | Received)
    ]
    assert kinds == ["sent", "reply"] * 6
    body = next(
        event for event, _ in events if isinstance(event, Sent) and event.kind is SentKind.BODY
    )
    assert body.data == MESSAGE


async def test_data_alone_sends_the_message_on_the_354() -> None:
    async with ScriptedServer(dialogue()) as server:
        client = SMTPClient(server.host, server.port, local_hostname="client.example")
        await client.connect()
        await client.ehlo()
        await client.mail("me@example.com")
        await client.rcpt("a@example.com")
        assert await client.data(MESSAGE) == (250, b"ok")
        assert await client.noop() == (250, b"ok")
        await client.quit()
        assert server.peers[0].message_sizes == [len(MESSAGE) + 1]


async def test_a_bad_later_recipient_stops_the_transaction_before_it_starts() -> None:
    async with ScriptedServer(dialogue()) as server:
        client = SMTPClient(server.host, server.port, local_hostname="client.example")
        await client.connect()
        await client.ehlo()
        with pytest.raises(CommandError, match="recipient: contains a LF"):
            await client.sendmail("me@example.com", ["a@example.com", "b@x\nRSET"], MESSAGE)
        assert await client.noop() == (250, b"ok")  # still in step: nothing was sent
        await client.quit()
    verbs = [line.split()[0] for line in server.peers[0].received if line]
    assert verbs == [b"EHLO", b"NOOP", b"QUIT"]
