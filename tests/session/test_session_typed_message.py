"""The controller runs a message typed line by line: MessageLine after a 354 sends a line
and waits for nothing, EndMessage sends the dot and its reply ends the transaction."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

from smtptui.server import EmbeddedServer
from smtptui.session import (
    Action,
    Connect,
    EndMessage,
    EntryKind,
    MessageLine,
    Phase,
    Raw,
    Security,
    SendData,
    SendMessage,
    SessionController,
    SessionSettings,
    to_jsonl,
    to_swaks,
)
from smtptui.session.explain import explanation

from support.scripted import ScriptedServer, dialogue

LINES = ["From: alice@example.org", "Subject: typed", "", "Hi Bob,", ".a leading dot", "bye"]
DELIVERED = b"From: alice@example.org\r\nSubject: typed\r\n\r\nHi Bob,\r\n.a leading dot\r\nbye\r\n"


def plain_settings(host: str, port: int) -> SessionSettings:
    return SessionSettings(host=f"{host}:{port}", security=Security.NONE, helo_name="c.example")


async def run_all(controller: SessionController, *actions: Action) -> None:
    for action in actions:
        outcome = await controller.run(action)
        assert outcome.ok, outcome.error


async def at_354(controller: SessionController) -> None:
    await run_all(
        controller,
        Connect(),
        Raw("EHLO c.example"),
        Raw("MAIL FROM:<alice@example.org>"),
        Raw("RCPT TO:<bob@example.org>"),
        Raw("DATA"),
    )
    assert controller.state.phase is Phase.DATA


def sent(controller: SessionController) -> list[bytes]:
    return [entry.data for entry in controller.transcript if entry.kind is EntryKind.SENT]


async def test_a_message_typed_line_by_line(make_server: Callable[..., EmbeddedServer]) -> None:
    server = make_server(starttls=False)
    controller = SessionController(plain_settings(server.host, server.port))
    await at_354(controller)
    for line in LINES:
        outcome = await controller.run(MessageLine(line))
        assert outcome.ok and outcome.reply is None and outcome.error == ""
        assert controller.state.phase is Phase.DATA
    assert server.messages == []
    outcome = await controller.run(EndMessage())
    assert outcome.ok and outcome.reply is not None and outcome.reply.code == 250
    assert controller.state.phase is Phase.READY
    assert controller.state.last_reply is outcome.reply
    [message] = server.messages
    assert message.data == DELIVERED

    # Each line is content (a body entry, as typed, no dot after it); the dot is a command.
    entries = [entry for entry in controller.transcript if entry.kind is EntryKind.SENT]
    typed = entries[-len(LINES) - 1 : -1]
    assert all(entry.body and entry.typed and not entry.dotted for entry in typed)
    assert [entry.text for entry in typed] == LINES
    assert [entry.data for entry in typed] == [line.encode() + b"\r\n" for line in LINES]
    dot = entries[-1]
    assert dot.text == "." and not dot.body
    assert explanation(dot)[0].startswith("A line holding only a dot ends the message data")
    swaks = to_swaks(controller.transcript).splitlines()
    start = swaks.index("<-  354 End data with <CR><LF>.<CR><LF>") + 1
    assert swaks[start:] == [f" -> {line}" for line in LINES] + [
        " -> .",
        swaks[-1],
    ]
    assert swaks[-1].startswith("<-  250 2.0.0 Ok: queued as ")
    records = [json.loads(line) for line in to_jsonl(controller.transcript).splitlines()]
    assert [record.get("typed", False) for record in records].count(True) == len(LINES)


async def test_a_refused_line_sends_nothing_and_the_message_goes_on(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server(starttls=False)
    controller = SessionController(plain_settings(server.host, server.port))
    await at_354(controller)
    before = sent(controller)
    outcome = await controller.run(MessageLine("Subject: a\0b"))
    assert not outcome.ok
    assert outcome.error == (
        "message line: contains a NUL character; send one line at a time — nothing was sent"
    )
    assert sent(controller) == before
    assert controller.state.phase is Phase.DATA and controller.state.connected
    await run_all(controller, MessageLine("Subject: fine"), EndMessage())
    assert server.messages[0].data == b"Subject: fine\r\n"


async def test_message_lines_go_only_after_a_354(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server(starttls=False)
    controller = SessionController(plain_settings(server.host, server.port))
    await run_all(controller, Connect(), Raw("EHLO c.example"))
    before = sent(controller)
    for action in (MessageLine("hello"), EndMessage()):
        outcome = await controller.run(action)
        assert not outcome.ok
        assert outcome.error == (
            f"{action.label}: the server has not asked for message data (354) — nothing was sent"
        )
    assert sent(controller) == before
    assert (await controller.run(Raw("NOOP"))).ok  # still in step


async def test_send_data_at_a_354_sends_the_message_not_data(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server(starttls=False)
    controller = SessionController(plain_settings(server.host, server.port))
    await at_354(controller)
    await run_all(controller, MessageLine("X-Typed: yes"))
    outcome = await controller.run(SendData("Subject: composed\n\n.hi\n"))
    assert outcome.ok and outcome.reply is not None and outcome.reply.code == 250
    assert controller.state.phase is Phase.READY
    assert server.messages[0].data == b"X-Typed: yes\r\nSubject: composed\r\n\r\n.hi\r\n"
    assert sent(controller).count(b"DATA\r\n") == 1
    assert sent(controller)[-1] == b"Subject: composed\r\n\r\n.hi\r\n"  # one body, dot included
    assert controller.transcript[-1].reply is outcome.reply


async def test_send_message_at_a_354_is_refused_not_sent_as_content(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server(starttls=False)
    controller = SessionController(plain_settings(server.host, server.port))
    await at_354(controller)
    before = sent(controller)
    send = SendMessage("alice@example.org", ("bob@example.org",), "Subject: x\n\nhi\n")
    outcome = await controller.run(send)
    assert not outcome.ok
    assert outcome.error.startswith("SEND: a message is open (354)")
    assert sent(controller) == before  # no MAIL FROM went out as message content
    assert controller.state.phase is Phase.DATA
    await run_all(controller, MessageLine("Subject: still mine"), EndMessage())
    assert server.messages[0].data == b"Subject: still mine\r\n"


async def test_a_refused_message_ends_the_transaction() -> None:
    script = dialogue({".": b"554 5.7.1 no thanks\r\n"})
    async with ScriptedServer(script) as server:
        controller = SessionController(plain_settings(server.host, server.port))
        await at_354(controller)
        await run_all(controller, MessageLine("Subject: x"))
        outcome = await controller.run(EndMessage())
        assert not outcome.ok
        assert outcome.error == "END OF DATA refused: 554 5.7.1 no thanks"
        assert controller.state.phase is Phase.READY
        assert server.peers[0].message_sizes == [len(b"Subject: x\r\n")]


async def test_the_state_says_when_a_sasl_response_is_due(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    """After a 334 to AUTH the next line is a secret: the state says so, as the recorder
    masks it, until the exchange's next reply."""
    server = make_server(starttls=False, auth_require_tls=False)
    controller = SessionController(plain_settings(server.host, server.port))
    await run_all(controller, Connect(), Raw("EHLO c.example"))
    assert not controller.state.sasl_due
    await run_all(controller, Raw("AUTH LOGIN"))
    assert controller.state.sasl_due and controller.state.last_reply.code == 334
    await run_all(controller, Raw(base64.b64encode(b"alice").decode()))
    assert controller.state.sasl_due
    await run_all(controller, Raw(base64.b64encode(b"wonderland").decode()))
    assert not controller.state.sasl_due
    assert controller.state.last_reply.code == 235
    secrets = [entry for entry in controller.transcript if entry.secret]
    assert [entry.shown() for entry in secrets] == ["••••••••", "••••••••"]
    assert "wonderland" not in to_swaks(controller.transcript)
