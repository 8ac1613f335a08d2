"""The controller's pipelining, BDAT and envelope steps against the real embedded server:
Pipeline, SendBdat, SendMessage with chunking, the UNADVERTISED risk, and a command sent
out of order."""

from __future__ import annotations

import math

import pytest

from smtptui.protocol.data import encode_message
from smtptui.protocol.envelope import Envelope
from smtptui.server import EmbeddedServer
from smtptui.session import (
    Action,
    Entry,
    EntryKind,
    MailFrom,
    Phase,
    Pipeline,
    RcptTo,
    Risk,
    SendBdat,
    SendData,
    SendMessage,
    SessionController,
)
from smtptui.session.recorder import FLAG_OUT_OF_ORDER

from support.sessions import ready, settings_for

SENDER = "a@example.com"
RECIPIENTS = ("b@example.org", "c@example.org")
MESSAGE = "From: a@example.com\nTo: b@example.org\nSubject: hello\n\nHi Bob.\n.leading dot\n"
RAW = b"Subject: bdat\r\n\r\n.leading dot\r\n.\r\nno stuffing, no terminator\r\n"
"""A message for BDAT: lines starting with a dot must arrive as they are."""


async def controller_for(server: EmbeddedServer, context) -> SessionController:
    """A controller past EHLO, STARTTLS and EHLO again on ``server``."""
    controller = SessionController(settings_for(server, context))
    await ready(controller)
    return controller


def since(controller: SessionController, start: int, kind: EntryKind) -> list[Entry]:
    """The transcript's entries of ``kind`` from entry ``start`` on."""
    return [entry for entry in list(controller.transcript)[start:] if entry.kind is kind]


def bdat_lines(controller: SessionController) -> list[str]:
    sent = since(controller, 0, EntryKind.SENT)
    return [entry.text for entry in sent if entry.text.startswith("BDAT")]


async def test_pipeline_writes_the_group_then_send_data_delivers(
    server, client_tls_context
) -> None:
    controller = await controller_for(server, client_tls_context)
    start = len(controller.transcript)

    outcome = await controller.run(Pipeline(SENDER, RECIPIENTS))

    assert outcome.ok, outcome.error
    assert outcome.reply is not None and outcome.reply.code == 354
    assert controller.state.phase is Phase.DATA
    entries = list(controller.transcript)[start:]
    sent = since(controller, start, EntryKind.SENT)
    received = since(controller, start, EntryKind.RECEIVED)
    assert [entry.kind for entry in entries] == [EntryKind.SENT] * 4 + [EntryKind.RECEIVED] * 4
    assert [entry.text for entry in sent] == [
        f"MAIL FROM:<{SENDER}>",
        *(f"RCPT TO:<{recipient}>" for recipient in RECIPIENTS),
        "DATA",
    ]
    [group] = {entry.command.group for entry in sent if entry.command is not None}
    assert group != 0
    assert all(entry.command is not None and not entry.flags for entry in sent)
    assert [entry.command for entry in received] == [entry.command for entry in sent]
    assert [entry.reply.code for entry in received if entry.reply] == [250, 250, 250, 354]

    outcome = await controller.run(SendData(MESSAGE))

    assert outcome.ok, outcome.error
    assert outcome.reply is not None and outcome.reply.code == 250
    assert controller.state.phase is Phase.READY
    [message] = server.messages
    assert (message.mail_from, message.rcpt_tos) == (SENDER, RECIPIENTS)
    assert message.data == encode_message(MESSAGE)


async def test_send_bdat_delivers_the_exact_bytes_in_chunks(server, client_tls_context) -> None:
    controller = await controller_for(server, client_tls_context)
    for action in (MailFrom(SENDER), RcptTo(RECIPIENTS[0])):
        outcome = await controller.run(action)
        assert outcome.ok, outcome.error

    outcome = await controller.run(SendBdat(RAW, chunk_size=16))

    assert outcome.ok, outcome.error
    assert outcome.reply is not None and outcome.reply.code == 250
    assert controller.state.phase is Phase.READY
    chunks = math.ceil(len(RAW) / 16)
    assert chunks >= 3
    last = f"BDAT {len(RAW) - 16 * (chunks - 1)} LAST"
    assert bdat_lines(controller) == ["BDAT 16"] * (chunks - 1) + [last]
    sent = since(controller, 0, EntryKind.SENT)
    assert b"".join(entry.data for entry in sent if entry.chunk) == RAW
    [message] = server.messages
    assert message.data == RAW


async def test_send_message_with_a_chunk_size(server, client_tls_context) -> None:
    controller = await controller_for(server, client_tls_context)

    outcome = await controller.run(SendMessage(SENDER, RECIPIENTS[:1], MESSAGE, chunking=3))

    assert outcome.ok, outcome.error
    assert controller.state.phase is Phase.READY
    data = encode_message(MESSAGE)
    chunks = math.ceil(len(data) / 3)
    last = f"BDAT {len(data) - 3 * (chunks - 1)} LAST"
    assert bdat_lines(controller) == ["BDAT 3"] * (chunks - 1) + [last]
    assert "DATA" not in [entry.text for entry in since(controller, 0, EntryKind.SENT)]
    [message] = server.messages
    assert message.data == data


UNADVERTISED: list[tuple[Action, str]] = [
    (
        SendMessage(SENDER, RECIPIENTS[:1], MESSAGE, envelope=Envelope(notify=("SUCCESS",))),
        "SEND not sent: the server did not advertise what these envelope parameters need "
        "(NOTIFY needs DSN); it needs your confirmation",
    ),
    (
        Pipeline(SENDER, RECIPIENTS[:1], Envelope(requiretls=True, envid="QQ314159")),
        "PIPELINE not sent: the server did not advertise what these envelope parameters "
        "need (ENVID needs DSN, REQUIRETLS needs REQUIRETLS); it needs your confirmation",
    ),
]


@pytest.mark.parametrize(("action", "error"), UNADVERTISED)
async def test_unadvertised_parameters_go_once_after_accept(
    server, client_tls_context, action: Action, error: str
) -> None:
    controller = await controller_for(server, client_tls_context)

    def mails() -> int:
        sent = since(controller, 0, EntryKind.SENT)
        return sum(entry.text.startswith("MAIL FROM") for entry in sent)

    refused = await controller.run(action)

    assert not refused.ok and refused.risk is Risk.UNADVERTISED
    assert refused.error == error
    assert mails() == 0
    assert controller.state.phase is Phase.READY

    controller.accept(Risk.UNADVERTISED)
    went = await controller.run(action)

    assert went.risk is None
    assert mails() == 1  # it went; whatever the server made of it is in the transcript
    replies = since(controller, 0, EntryKind.RECEIVED)
    assert any(entry.reply and entry.reply.code == 555 for entry in replies)  # aiosmtpd: no DSN
    assert controller.state.phase is Phase.READY  # the refusal left no transaction open

    again = await controller.run(action)

    assert again.risk is Risk.UNADVERTISED and again.error == error
    assert mails() == 1


async def test_rcpt_before_mail_is_sent_and_flagged(server, client_tls_context) -> None:
    controller = await controller_for(server, client_tls_context)
    start = len(controller.transcript)

    outcome = await controller.run(RcptTo(RECIPIENTS[0]))

    [sent] = since(controller, start, EntryKind.SENT)
    assert sent.text == f"RCPT TO:<{RECIPIENTS[0]}>"
    assert sent.flags == (f"{FLAG_OUT_OF_ORDER}: sent before MAIL FROM was accepted",)
    assert sent.command is not None and sent.command.out_of_order
    [reply] = since(controller, start, EntryKind.RECEIVED)
    assert reply.reply is not None and reply.reply.code == 503
    assert reply.command == sent.command
    assert not outcome.ok and outcome.risk is None
    assert outcome.error.startswith("RCPT TO refused: 503")
