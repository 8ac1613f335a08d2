"""SMTPClient speaking LMTP (RFC 2033): against the embedded server in LMTP mode and against
aiosmtpd's own LMTP, side by side with smtplib.LMTP."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import Envelope, Session

from smtptui.engine import SMTPClient, SMTPConnectError, SMTPDataError
from smtptui.engine.events import ClientEvent, Received, Sent
from smtptui.protocol.dialogue import END_OF_DATA
from smtptui.server import EmbeddedServer

MakeServer = Callable[..., EmbeddedServer]
HELO = "client.example"
MESSAGE = b"From: a@example.org\r\nSubject: Hello\r\n\r\nHi there.\r\n.dot line\r\n"
MIXED = ["bob@example.org", "unknown@example.org", "full@example.org", "carol@example.org"]


def lmtp_client(**kwargs: Any) -> tuple[SMTPClient, list[ClientEvent]]:
    events: list[ClientEvent] = []
    client = SMTPClient(
        local_hostname=HELO, timeout=5, connect_timeout=5, listener=events.append, lmtp=True
    )
    return client, events


@pytest.fixture
def lmtp_server(make_server: MakeServer) -> EmbeddedServer:
    return make_server(lmtp=True, starttls=False)


class CyrusLike:
    """An aiosmtpd handler answering each recipient as Cyrus' lmtpd does, over quota for
    recipients named ``full…``."""

    def __init__(self) -> None:
        self.delivered: list[tuple[str, ...]] = []

    async def handle_DATA(self, server: LMTP, session: Session, envelope: Envelope) -> str:
        ok = tuple(r for r in envelope.rcpt_tos if not r.startswith("full"))
        if ok:
            self.delivered.append(ok)
        return "\r\n".join(
            "250 2.1.5 Ok SESSIONID=<cyrus-1-lmtpd-1>"
            if r in ok
            else "452 4.2.2 Over quota SESSIONID=<cyrus-1-lmtpd-1>"
            for r in envelope.rcpt_tos
        )


@pytest.fixture
async def aiosmtpd_lmtp() -> AsyncIterator[tuple[int, CyrusLike]]:
    """aiosmtpd's LMTP itself, on this test's loop: (port, handler)."""
    handler = CyrusLike()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: LMTP(handler, loop=loop), "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1], handler
    server.close()
    await server.wait_closed()


@pytest.mark.parametrize(
    "way",
    [{}, {"pipelining": False}, {"chunking": True}, {"chunking": 10}],
    ids=["pipelined", "lock-step", "BDAT", "BDAT-in-chunks"],
)
async def test_sendmail_counts_recipients_refused_after_the_message(
    lmtp_server: EmbeddedServer, way: dict[str, Any]
) -> None:
    client, events = lmtp_client()
    async with client:
        await client.connect(lmtp_server.host, lmtp_server.port)
        assert (await client.ehlo())[0] == 250  # LHLO: the server refuses EHLO
        refused = await client.sendmail("a@example.org", MIXED, MESSAGE, **way)
        assert await client.noop() == (250, b"2.0.0 Ok")  # every reply was read
    assert refused == {
        "unknown@example.org": (
            550,
            b"5.1.1 <unknown@example.org>: Recipient address rejected: User unknown",
        ),
        "full@example.org": (452, b"4.2.2 <full@example.org> Mailbox is full"),
    }
    assert client.data_replies == {
        "bob@example.org": (250, b"2.0.0 <bob@example.org> Ok: queued as 0000000001"),
        "full@example.org": (452, b"4.2.2 <full@example.org> Mailbox is full"),
        "carol@example.org": (250, b"2.0.0 <carol@example.org> Ok: queued as 0000000001"),
    }
    [message] = lmtp_server.messages
    assert message.rcpt_tos == ("bob@example.org", "carol@example.org")
    lhlo = next(e for e in events if isinstance(e, Sent))
    assert lhlo.data == b"LHLO client.example\r\n"
    ends = [
        e.command
        for e in events
        if isinstance(e, Received) and e.command and e.command.ends_message
    ]
    assert [c.recipient for c in ends] == list(client.data_replies)


async def test_no_recipient_taking_the_message_is_a_data_error(
    lmtp_server: EmbeddedServer,
) -> None:
    client, _ = lmtp_client()
    async with client:
        await client.connect(lmtp_server.host, lmtp_server.port)
        with pytest.raises(SMTPDataError) as info:
            await client.sendmail(
                "a@example.org", ["full@example.org", "full2@example.org"], MESSAGE
            )
        assert info.value.args == (452, b"4.2.2 <full@example.org> Mailbox is full")
        assert [code for code, _ in client.data_replies.values()] == [452, 452]
        assert await client.noop() == (250, b"2.0.0 Ok")
    assert lmtp_server.messages == []


async def test_data_by_hand_returns_the_first_reply_and_reads_them_all(
    lmtp_server: EmbeddedServer,
) -> None:
    client, events = lmtp_client()
    async with client:
        await client.connect(lmtp_server.host, lmtp_server.port)
        await client.ehlo()
        for step in (
            client.mail("a@example.org"),
            client.rcpt("full@example.org"),
            client.rcpt("bob@example.org"),
        ):
            assert (await step)[0] == 250
        assert await client.data(MESSAGE) == (452, b"4.2.2 <full@example.org> Mailbox is full")
        assert list(client.data_replies) == ["full@example.org", "bob@example.org"]
        # a message typed line by line, ended with the dot by hand
        await client.mail("a@example.org")
        await client.rcpt("carol@example.org")
        await client.rcpt("dave@example.org")
        assert (await client.docmd("DATA"))[0] == 354
        await client.data_line("Subject: typed")
        await client.data_line("")
        await client.data_line("Hi.")
        assert (await client.end_data())[0] == 250
        assert list(client.data_replies) == ["carol@example.org", "dave@example.org"]
        assert await client.noop() == (250, b"2.0.0 Ok")
    assert [m.rcpt_tos for m in lmtp_server.messages] == [
        ("bob@example.org",),
        ("carol@example.org", "dave@example.org"),
    ]
    recipients = [
        e.command.recipient
        for e in events
        if isinstance(e, Received) and e.command and e.command.verb == END_OF_DATA
    ]
    assert recipients == [
        "full@example.org",
        "bob@example.org",
        "carol@example.org",
        "dave@example.org",
    ]


async def test_lmtp_defaults_to_port_24() -> None:
    client, _ = lmtp_client()
    with pytest.raises(SMTPConnectError):  # nothing listens on port 24 here
        await client.connect("127.0.0.1")
    assert client.port == 24


async def test_against_aiosmtpds_lmtp(aiosmtpd_lmtp: tuple[int, CyrusLike]) -> None:
    port, handler = aiosmtpd_lmtp
    client, _ = lmtp_client()
    async with client:
        await client.connect("127.0.0.1", port)
        refused = await client.sendmail(
            "a@example.org", ["bob@example.org", "full@example.org"], MESSAGE
        )
        assert await client.noop() == (250, b"OK")
    assert refused == {"full@example.org": OVER_QUOTA}
    assert handler.delivered == [("bob@example.org",)]


def _with_smtplib(port: int, recipients: list[str]) -> tuple[object, tuple[int, bytes]]:
    """smtplib.LMTP's sendmail (its result or exception's args), then a NOOP's reply (the
    connection closed without QUIT, whose reply may be out of step)."""
    lmtp = smtplib.LMTP("127.0.0.1", port, local_hostname=HELO, timeout=5)
    try:
        try:
            result: object = lmtp.sendmail("a@example.org", recipients, MESSAGE)
        except smtplib.SMTPDataError as error:
            result = error.args
        return result, lmtp.noop()
    finally:
        lmtp.close()


async def _with_client(port: int, recipients: list[str]) -> tuple[object, tuple[int, bytes]]:
    client, _ = lmtp_client()
    async with client:
        await client.connect("127.0.0.1", port)
        try:
            result: object = await client.sendmail("a@example.org", recipients, MESSAGE)
        except SMTPDataError as error:
            result = error.args
        return result, await client.noop()


@pytest.mark.parametrize("recipient", ["bob@example.org", "full@example.org"])
async def test_same_results_as_smtplib_lmtp_for_one_recipient(
    aiosmtpd_lmtp: tuple[int, CyrusLike], recipient: str
) -> None:
    port, handler = aiosmtpd_lmtp
    theirs = await asyncio.to_thread(_with_smtplib, port, [recipient])
    ours = await _with_client(port, [recipient])
    assert ours == theirs
    delivered = recipient == "bob@example.org"
    assert handler.delivered == ([(recipient,)] * 2 if delivered else [])


OVER_QUOTA = (452, b"4.2.2 Over quota SESSIONID=<cyrus-1-lmtpd-1>")
DELIVERED = (250, b"2.1.5 Ok SESSIONID=<cyrus-1-lmtpd-1>")


@pytest.mark.parametrize(
    ("second", "smtplib_result", "result"),
    [
        ("carol@example.org", {}, {}),
        ("full@example.org", {}, {"full@example.org": OVER_QUOTA}),
    ],
)
async def test_smtplib_lmtp_reads_one_reply_where_the_client_reads_each(
    aiosmtpd_lmtp: tuple[int, CyrusLike], second: str, smtplib_result: dict, result: dict
) -> None:
    """With two recipients smtplib.LMTP reads only the first one's reply: the second one's
    answers its NOOP. SMTPClient reads them all, and refuses one refused after the message."""
    port, _ = aiosmtpd_lmtp
    recipients = ["bob@example.org", second]
    theirs = await asyncio.to_thread(_with_smtplib, port, recipients)
    ours = await _with_client(port, recipients)
    assert theirs == (smtplib_result, OVER_QUOTA if result else DELIVERED)
    assert ours == (result, (250, b"OK"))
