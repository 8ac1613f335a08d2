"""Progress events while a large message goes out (DATA and BDAT), against the embedded
server: in order, one total, ending at it before the message's reply; none for a small one."""

from __future__ import annotations

import pytest

from smtptui.engine import SMTPClient
from smtptui.engine.events import ClientEvent, Progress, Received
from smtptui.protocol.data import DEFAULT_CHUNK_SIZE, data_payload, data_payload_size
from smtptui.server import EmbeddedServer

BODY = b"Subject: big\r\n\r\n" + b".a line that starts with a dot\r\n" * (3 * 1024 * 1024 // 31)
"""About 3 MB, every line dot-stuffed: the payload is larger than the message."""


async def sent(server: EmbeddedServer, body: bytes, chunking: bool) -> list[ClientEvent]:
    events: list[ClientEvent] = []
    client = SMTPClient(local_hostname="client.example", timeout=10, listener=events.append)
    await client.connect(server.host, server.port)
    await client.sendmail("a@example.org", ["b@example.org"], body, chunking=chunking)
    await client.quit()
    [message] = server.messages
    assert message.data == body
    return events


@pytest.mark.parametrize("chunking", [False, True], ids=["DATA", "BDAT"])
async def test_progress_in_order_to_the_total(server: EmbeddedServer, chunking: bool) -> None:
    events = await sent(server, BODY, chunking)
    progress = [event for event in events if isinstance(event, Progress)]
    total = len(BODY) if chunking else len(data_payload(BODY))
    assert len(progress) > 2
    assert {event.total for event in progress} == {total}
    counts = [event.sent for event in progress]
    assert counts == sorted(counts) and counts[-1] == total and counts[0] < total
    times = [event.time for event in progress]
    assert times == sorted(times)
    last = events.index(progress[-1])
    assert not any(isinstance(event, Progress) for event in events[last + 1 :])
    replies = [e for e in events[last + 1 :] if isinstance(e, Received)]
    assert replies[0].reply.code == 250  # the message's reply comes after the last one


@pytest.mark.parametrize("chunking", [False, True], ids=["DATA", "BDAT"])
async def test_no_progress_for_a_message_of_one_write(
    server: EmbeddedServer, chunking: bool
) -> None:
    body = b"Subject: small\r\n\r\n" + (b"x" * 78 + b"\r\n") * (DEFAULT_CHUNK_SIZE // 81)
    events = await sent(server, body, chunking)
    assert not [event for event in events if isinstance(event, Progress)]


@pytest.mark.parametrize(
    "data", [b"", b".", b"a\r\n", b".a\r\n.b\n..c", b"no end", b"x\n.\r\n", BODY]
)
def test_payload_size_is_the_payload_length(data: bytes) -> None:
    assert data_payload_size(data) == len(data_payload(data))
