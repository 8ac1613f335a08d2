"""SMTPClient's BDAT (RFC 3030 CHUNKING) against the embedded server."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from email.message import EmailMessage

import pytest

from smtptui.engine import (
    SMTPClient,
    SMTPNotSupportedError,
    SMTPRecipientsRefused,
    SMTPSenderRefused,
)
from smtptui.engine.events import ClientEvent, Direction, Sent, SentKind, WireEvent
from smtptui.protocol.data import DEFAULT_CHUNK_SIZE
from smtptui.protocol.envelope import Envelope
from smtptui.server import EmbeddedServer

MakeServer = Callable[..., EmbeddedServer]


async def connected(server: EmbeddedServer) -> tuple[SMTPClient, list[ClientEvent]]:
    events: list[ClientEvent] = []
    client = SMTPClient(local_hostname="client.example", timeout=5, listener=events.append)
    await client.connect(server.host, server.port)
    return client, events


def bdat_lines(events: list[ClientEvent]) -> list[bytes]:
    return [e.data for e in events if isinstance(e, Sent) and e.data.startswith(b"BDAT ")]


def chunks(events: list[ClientEvent]) -> list[bytes]:
    return [e.data for e in events if isinstance(e, Sent) and e.kind is SentKind.CHUNK]


@pytest.mark.parametrize(
    ("body", "chunk_size", "sizes"),
    [
        (b"", 10, [0]),
        (b"Subject: one\r\n\r\nchunk\r\n", 100, [23]),
        (b"Subject: many\r\n\r\n" + b"0123456789" * 5, 16, [16, 16, 16, 16, 3]),
        (b"Subject: dots\r\n\r\n.leading dot\r\n..two\r\n.\r\n", 1000, [41]),
        (b"Subject: bare\r\n\r\na\rb\nc\r\r\n\n\x00\xff", 5, [5, 5, 5, 5, 5, 3]),
        (b"no final line end", 1000, [17]),
    ],
    ids=["empty", "one-chunk", "many-chunks", "dot-lines", "bare-cr-lf", "no-final-crlf"],
)
async def test_bytes_received_are_the_bytes_given(
    server: EmbeddedServer, body: bytes, chunk_size: int, sizes: list[int]
) -> None:
    client, events = await connected(server)
    assert (
        await client.sendmail("a@example.org", ["b@example.org"], body, chunking=chunk_size) == {}
    )
    await client.quit()
    [message] = server.messages
    assert message.data == body
    assert message.mail_options == (f"SIZE={len(body)}",)
    *middle, last = sizes
    assert bdat_lines(events) == [b"BDAT %d\r\n" % n for n in middle] + [b"BDAT %d LAST\r\n" % last]
    assert b"".join(chunks(events)) == body  # the wire tap shows each chunk as it is
    assert [len(chunk) for chunk in chunks(events)] == sizes
    assert b"DATA\r\n" not in b"".join(e.data for e in events if isinstance(e, Sent))


async def test_chunking_true_uses_the_default_chunk_size(server: EmbeddedServer) -> None:
    body = b"x" * (DEFAULT_CHUNK_SIZE + 1)
    client, events = await connected(server)
    await client.sendmail("a@example.org", "b@example.org", body, chunking=True)
    await client.quit()
    assert bdat_lines(events) == [b"BDAT %d\r\n" % DEFAULT_CHUNK_SIZE, b"BDAT 1 LAST\r\n"]
    assert server.messages[0].data == body


async def test_each_chunk_is_on_the_wire_once_after_its_command(server: EmbeddedServer) -> None:
    client, events = await connected(server)
    await client.sendmail("a@example.org", "b@example.org", b"abcdefg", chunking=3)
    await client.quit()
    sent = b"".join(
        e.data for e in events if isinstance(e, WireEvent) and e.direction is Direction.SENT
    )
    assert b"BDAT 3\r\nabcBDAT 3\r\ndefBDAT 1 LAST\r\ng" in sent


async def test_send_message_with_chunking(server: EmbeddedServer) -> None:
    msg = EmailMessage()
    msg["From"] = "alice@example.org"
    msg["To"] = "bob@example.org"
    msg["Subject"] = "Chunks"
    msg.set_content(".a dot line\n" * 100)
    client, events = await connected(server)
    assert await client.send_message(msg, chunking=256) == {}
    await client.quit()
    [message] = server.messages
    assert b"\r\n.a dot line\r\n" in message.data
    assert message.data == b"".join(chunks(events))
    assert len(bdat_lines(events)) > 1


async def test_a_server_without_chunking_raises_before_mail(server: EmbeddedServer) -> None:
    client, events = await connected(server)
    await client.helo()  # no EHLO: no extensions
    with pytest.raises(SMTPNotSupportedError, match="CHUNKING"):
        await client.sendmail("a@example.org", "b@example.org", b"x", chunking=True)
    assert not any(isinstance(e, Sent) and e.data.startswith(b"MAIL") for e in events)
    await client.quit()


@pytest.mark.parametrize("chunking", [0, -5])
async def test_a_chunk_size_below_one_raises_before_anything_is_sent(
    server: EmbeddedServer, chunking: int
) -> None:
    client, events = await connected(server)
    with pytest.raises(ValueError, match="chunk_size"):
        await client.sendmail("a@example.org", "b@example.org", b"x", chunking=chunking)
    assert not any(isinstance(e, Sent) for e in events)
    await client.quit()


async def test_bdat_is_one_step(server: EmbeddedServer) -> None:
    client, _ = await connected(server)
    await client.ehlo()
    await client.mail("a@example.org")
    await client.rcpt("b@example.org")
    assert await client.bdat(b".x\r\n") == (250, b"2.0.0 4 bytes received, 4 in total")
    assert await client.docmd("DATA") == (503, b"5.5.1 Error: DATA after BDAT")
    code, _ = await client.bdat(b"", last=True)
    await client.quit()
    assert code == 250
    assert server.messages[0].data == b".x\r\n"


@pytest.mark.parametrize("chunking", [False, True])
async def test_refusals_are_the_same_with_chunking(server: EmbeddedServer, chunking: bool) -> None:
    client, _ = await connected(server)
    with pytest.raises(SMTPSenderRefused) as sender:
        await client.sendmail("reject@example.org", "b@example.org", b"x", chunking=chunking)
    with pytest.raises(SMTPRecipientsRefused) as recipients:
        await client.sendmail("a@example.org", "unknown@example.org", b"x", chunking=chunking)
    some = await client.sendmail(
        "a@example.org", ["unknown@example.org", "b@example.org"], b"x\r\n", chunking=chunking
    )
    await client.quit()
    assert sender.value.smtp_code == 553
    assert recipients.value.recipients["unknown@example.org"][0] == 550
    assert list(some) == ["unknown@example.org"]
    [message] = server.messages
    assert message.rcpt_tos == ("b@example.org",) and message.data == b"x\r\n"


async def test_20_mb_in_chunks(make_server: MakeServer) -> None:
    """A big message goes through in bounded time and memory: the client holds one chunk
    copy at a time, the server the message and the copy it hands over."""
    server = make_server(data_size_limit=64 * 1024 * 1024)
    body = (b"0123456789abcdef" * 4 + b"\r\n") * (20 * 1024 * 1024 // 66)
    client, _ = await connected(server)
    await client.ehlo()
    tracemalloc.start()
    started = time.monotonic()
    try:
        await client.sendmail("a@example.org", "b@example.org", body, chunking=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - started
    await client.quit()
    assert server.messages[0].data == body
    assert peak < 4 * len(body), f"peak {peak / 2**20:.0f} MiB"
    assert elapsed < 30, f"{elapsed:.1f} s"


BINARY = bytes(range(256)) + b"\r\n.\r\n\x00\rno line end"
"""Every octet, the DATA terminator and a bare CR: a body only BDAT can carry unchanged."""


async def test_binarymime_goes_by_bdat_and_arrives_unchanged(server: EmbeddedServer) -> None:
    client, events = await connected(server)
    await client.ehlo()
    assert client.has_extn("binarymime") and client.has_extn("chunking")
    envelope = Envelope(body="BINARYMIME")
    assert (
        await client.sendmail("a@example.org", ["b@example.org"], BINARY, envelope=envelope) == {}
    )
    await client.quit()
    assert bdat_lines(events) == [b"BDAT %d LAST\r\n" % len(BINARY)]  # not DATA: it must not
    [message] = server.messages
    assert message.data == BINARY
    assert "BODY=BINARYMIME" in message.mail_options


async def test_the_server_refuses_data_after_binarymime(server: EmbeddedServer) -> None:
    client, _ = await connected(server)
    await client.ehlo()
    assert await client.mail("a@example.org", ["BODY=BINARYMIME"]) == (250, b"2.1.0 Ok")
    await client.rcpt("b@example.org")
    code, text = await client.docmd("DATA")
    assert (code, text) == (503, b"5.5.1 Error: BODY=BINARYMIME takes BDAT, not DATA")
    assert await client.bdat(BINARY, last=True) == (250, b"2.0.0 Ok: queued as 0000000001")
    await client.quit()
    assert server.messages[0].data == BINARY
