"""SMTPClient's PIPELINING (RFC 2920): MAIL, the RCPTs and DATA in one write, each reply
matched to its command, against the embedded server and scripted servers that lose
pipelined commands, refuse them, or hang up in the middle of the group's replies."""

from __future__ import annotations

import pytest

from smtptui.engine import (
    SMTPClient,
    SMTPNotSupportedError,
    SMTPRecipientsRefused,
    SMTPSenderRefused,
)
from smtptui.engine.events import (
    ClientEvent,
    Closed,
    Direction,
    Finding,
    Received,
    Sent,
    SentKind,
    WireEvent,
)
from smtptui.protocol import commands
from smtptui.protocol.envelope import Envelope
from smtptui.server import EmbeddedServer

from support.scripted import ScriptedServer, dialogue, expect, hang_up, one_line_per_read, play

MESSAGE = b"Subject: pipelined\r\n\r\nhello\r\n.a line with a dot\r\n"
RECIPIENTS = ["b@example.org", "c@example.org"]
PIPELINING = b"250-mx.example\r\n250-PIPELINING\r\n250 SIZE 100000\r\n"
NO_PIPELINING = b"250-mx.example\r\n250 SIZE 100000\r\n"
STUFFED_SIZE = len(MESSAGE) + 1  # on the wire: its one line starting with a dot doubled


async def connected(
    host: str, port: int, timeout: float = 5
) -> tuple[SMTPClient, list[ClientEvent]]:
    events: list[ClientEvent] = []
    client = SMTPClient(local_hostname="client.example", timeout=timeout, listener=events.append)
    await client.connect(host, port)
    return client, events


def writes(events: list[ClientEvent]) -> list[bytes]:
    """Every chunk written to the socket, in order."""
    return [e.data for e in events if isinstance(e, WireEvent) and e.direction is Direction.SENT]


def sent(events: list[ClientEvent], kind: SentKind | None = SentKind.COMMAND) -> list[Sent]:
    return [e for e in events if isinstance(e, Sent) and (kind is None or e.kind is kind)]


def received(events: list[ClientEvent]) -> list[Received]:
    return [e for e in events if isinstance(e, Received)]


def envelope_lines(size: int | None = len(MESSAGE)) -> list[bytes]:
    """MAIL (with SIZE, unless ``size`` is None) and a RCPT for each of RECIPIENTS."""
    option = b"" if size is None else b" size=%d" % size
    return [
        b"MAIL FROM:<a@example.org>%s\r\n" % option,
        *(b"RCPT TO:<%s>\r\n" % r.encode() for r in RECIPIENTS),
    ]


# -- against the embedded server ------------------------------------------------------------


async def test_mail_rcpts_and_data_go_in_one_write(server: EmbeddedServer) -> None:
    client, events = await connected(server.host, server.port)
    await client.ehlo()
    assert client.has_extn("pipelining")
    del events[:]
    assert await client.sendmail("a@example.org", RECIPIENTS, MESSAGE) == {}
    group = [*envelope_lines(), b"DATA\r\n"]
    assert writes(events)[0] == b"".join(group)
    commands_sent = sent(events)[:4]
    assert [e.data for e in commands_sent] == group
    numbers = {e.command.group for e in commands_sent if e.command is not None}
    assert len(numbers) == 1 and 0 not in numbers
    assert all(e.command is not None and e.command.out_of_order == "" for e in commands_sent)
    answers = received(events)
    assert [a.command for a in answers[:4]] == [e.command for e in commands_sent]
    assert [a.reply.code for a in answers] == [250, 250, 250, 354, 250]
    [body] = sent(events, SentKind.BODY)
    assert answers[4].command is body.command
    assert body.command is not None and body.command.group == 0
    await client.quit()
    [message] = server.messages
    assert message.data == MESSAGE
    assert message.rcpt_tos == tuple(RECIPIENTS)


async def test_pipelining_false_writes_each_command_alone(server: EmbeddedServer) -> None:
    client, events = await connected(server.host, server.port)
    await client.ehlo()
    del events[:]
    await client.sendmail("a@example.org", RECIPIENTS, MESSAGE, pipelining=False)
    lines = [*envelope_lines(), b"DATA\r\n"]
    assert writes(events)[:4] == lines
    assert all(e.command is not None and e.command.group == 0 for e in sent(events))
    await client.quit()
    assert server.messages[0].data == MESSAGE


async def test_chunking_pipelines_mail_and_rcpts_then_bdat(server: EmbeddedServer) -> None:
    client, events = await connected(server.host, server.port)
    await client.ehlo()
    del events[:]
    assert await client.sendmail("a@example.org", RECIPIENTS, MESSAGE, chunking=True) == {}
    chunks = writes(events)
    assert chunks[0] == b"".join(envelope_lines())
    assert chunks[1] == b"BDAT %d LAST\r\n" % len(MESSAGE)
    assert b"DATA\r\n" not in b"".join(chunks)
    group = {e.command.group for e in sent(events)[:3] if e.command is not None}
    assert len(group) == 1 and 0 not in group
    bdat = sent(events)[3]
    assert bdat.command is not None and bdat.command.verb == "BDAT" and bdat.command.group == 0
    await client.quit()
    assert server.messages[0].data == MESSAGE


async def test_a_refused_sender_in_a_group(server: EmbeddedServer) -> None:
    client, events = await connected(server.host, server.port)
    await client.ehlo()
    del events[:]
    with pytest.raises(SMTPSenderRefused) as info:
        await client.sendmail("reject@example.org", RECIPIENTS, MESSAGE)
    assert info.value.smtp_code == 553 and info.value.sender == "reject@example.org"
    assert writes(events)[0].startswith(b"MAIL FROM:<reject@example.org>")
    assert writes(events)[0].endswith(b"DATA\r\n")
    assert sent(events)[-1].data == b"RSET\r\n"
    assert await client.noop() == (250, b"2.0.0 Ok")
    await client.quit()
    assert server.messages == []


async def test_all_recipients_refused_in_a_group(server: EmbeddedServer) -> None:
    client, events = await connected(server.host, server.port)
    await client.ehlo()
    recipients = ["unknown@example.org", "reject-me@example.org"]
    del events[:]
    with pytest.raises(SMTPRecipientsRefused) as info:
        await client.sendmail("a@example.org", recipients, MESSAGE)
    assert list(info.value.recipients) == recipients
    assert {code for code, _ in info.value.recipients.values()} == {550}
    assert writes(events)[0].endswith(b"DATA\r\n")  # DATA went in the group
    assert sent(events)[-1].data == b"RSET\r\n"
    assert await client.noop() == (250, b"2.0.0 Ok")
    await client.quit()


async def test_pipeline_returns_each_reply_in_order(server: EmbeddedServer) -> None:
    client, events = await connected(server.host, server.port)
    await client.ehlo()
    del events[:]
    lines = [
        commands.mail("a@example.org"),
        commands.rcpt("b@example.org"),
        commands.rcpt("unknown@example.org"),
        commands.RSET,
    ]
    replies = await client.pipeline(lines)
    assert [reply.code for reply in replies] == [250, 250, 550, 250]
    assert replies[2].message.startswith(b"5.1.1 <unknown@example.org>")
    assert writes(events) == [b"".join(lines)]
    commands_sent = sent(events)
    assert [e.command.out_of_order for e in commands_sent if e.command] == [""] * 4
    assert [a.command for a in received(events)] == [e.command for e in commands_sent]
    assert await client.noop() == (250, b"2.0.0 Ok")
    await client.quit()


async def test_unadvertised_envelope_parameters_raise_before_anything_is_sent(
    server: EmbeddedServer,
) -> None:
    client, events = await connected(server.host, server.port)
    await client.ehlo()
    assert not client.has_extn("dsn") and not client.has_extn("requiretls")
    envelope = Envelope(notify=("SUCCESS",), requiretls=True)
    with pytest.raises(SMTPNotSupportedError) as info:
        await client.sendmail("a@example.org", RECIPIENTS, MESSAGE, envelope=envelope)
    assert "NOTIFY" in str(info.value) and "REQUIRETLS" in str(info.value)
    assert not any(e.data.startswith((b"MAIL", b"RCPT")) for e in sent(events, None))
    assert await client.noop() == (250, b"2.0.0 Ok")
    await client.quit()


async def test_envelope_parameters_go_out_unchecked_if_asked(server: EmbeddedServer) -> None:
    client, events = await connected(server.host, server.port)
    await client.ehlo()
    envelope = Envelope(notify=("SUCCESS",), requiretls=True)
    del events[:]
    with pytest.raises(Exception):  # noqa: B017  the server may refuse them: any way
        await client.sendmail(
            "a@example.org", RECIPIENTS, MESSAGE, envelope=envelope, check_advertised=False
        )
    lines = [e.data for e in sent(events)]
    [mail] = [line for line in lines if line.startswith(b"MAIL")]
    assert b" REQUIRETLS" in mail
    rcpts = [line for line in lines if line.startswith(b"RCPT")]
    assert len(rcpts) == 2 and all(b" NOTIFY=SUCCESS" in line for line in rcpts)
    assert writes(events)[0].startswith(mail)  # pipelined all the same
    client.close()


# -- scripted servers -----------------------------------------------------------------------


async def test_a_server_that_loses_pipelined_commands() -> None:
    async with ScriptedServer(one_line_per_read()) as server:
        client, events = await connected(server.host, server.port, timeout=0.4)
        await client.ehlo()
        del events[:]
        assert await client.sendmail("a@example.org", RECIPIENTS, MESSAGE) == {}
        lines = [*envelope_lines(size=None), b"DATA\r\n"]
        assert writes(events)[0] == b"".join(lines)
        [finding] = [e for e in events if isinstance(e, Finding)]
        assert "answered 1 of the 4" in finding.text
        assert "RCPT TO:<b@example.org>, RCPT TO:<c@example.org>, DATA" in finding.text
        after = writes(events)[1:]
        assert after[0] == b"RSET\r\n"
        assert after[1:5] == lines  # one at a time
        assert server.peers[0].message_sizes == [STUFFED_SIZE]
        # The rest of the connection goes one command at a time.
        del events[:]
        assert await client.sendmail("a@example.org", RECIPIENTS, MESSAGE) == {}
        assert writes(events)[:4] == lines
        assert all(e.command is not None and e.command.group == 0 for e in sent(events))
        assert not any(isinstance(e, Finding) for e in events)
        await client.quit()
        assert server.peers[0].message_sizes == [STUFFED_SIZE] * 2


async def test_no_group_without_pipelining_advertised() -> None:
    async with ScriptedServer(dialogue({"EHLO": NO_PIPELINING})) as server:
        client, events = await connected(server.host, server.port)
        await client.ehlo()
        del events[:]
        await client.sendmail("a@example.org", RECIPIENTS, MESSAGE)
        assert writes(events)[:4] == [*envelope_lines(), b"DATA\r\n"]
        assert all(e.command is not None and e.command.group == 0 for e in sent(events))
        await client.quit()


async def test_354_after_every_rcpt_refused_gets_an_empty_message_then_rset() -> None:
    script = dialogue(
        {"EHLO": PIPELINING, "RCPT": b"550 5.1.1 no such user\r\n", "DATA": b"354 go\r\n"}
    )
    async with ScriptedServer(script) as server:
        client, events = await connected(server.host, server.port)
        await client.ehlo()
        del events[:]
        with pytest.raises(SMTPRecipientsRefused) as info:
            await client.sendmail("a@example.org", RECIPIENTS, MESSAGE)
        assert list(info.value.recipients) == RECIPIENTS
        assert writes(events)[0].endswith(b"DATA\r\n")
        assert writes(events)[1:] == [b".\r\n", b"RSET\r\n"]
        assert server.peers[0].message_sizes == [0]  # an empty message
        assert await client.noop() == (250, b"ok")
        await client.quit()


async def test_421_in_the_middle_of_the_groups_replies() -> None:
    script = play(
        b"220 mx.example ESMTP\r\n",
        expect(b"EHLO"),
        PIPELINING,
        expect(b"MAIL"),
        hang_up(b"250 2.1.0 ok\r\n421 4.3.2 shutting down\r\n"),
    )
    async with ScriptedServer(script) as server:
        client, events = await connected(server.host, server.port)
        await client.ehlo()
        del events[:]
        with pytest.raises(SMTPRecipientsRefused) as info:
            await client.sendmail("a@example.org", RECIPIENTS, MESSAGE)
        assert info.value.recipients == {"b@example.org": (421, b"4.3.2 shutting down")}
        [closed] = [e for e in events if isinstance(e, Closed)]
        assert "server" in closed.reason and "client" not in closed.reason
        assert not client.connected


async def test_pipeline_without_pipelining_advertised_is_out_of_order() -> None:
    async with ScriptedServer(dialogue({"EHLO": NO_PIPELINING})) as server:
        client, events = await connected(server.host, server.port)
        await client.ehlo()
        del events[:]
        replies = await client.pipeline([commands.NOOP, commands.RSET])
        assert [reply.as_tuple() for reply in replies] == [(250, b"ok"), (250, b"ok")]
        assert writes(events) == [b"NOOP\r\nRSET\r\n"]
        for event in sent(events):
            assert event.command is not None
            assert (
                event.command.out_of_order
                == "pipelined, but the server did not advertise PIPELINING"
            )
        await client.quit()
