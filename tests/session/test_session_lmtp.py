"""A session over LMTP with the embedded server in LMTP mode: LHLO, each recipient's reply
to the message under it in the transcript, the outcome and the summary counting them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from smtptui.protocol.errors import CommandError
from smtptui.server import EmbeddedServer
from smtptui.session import (
    Connect,
    Ehlo,
    EntryKind,
    Exit,
    MailFrom,
    RcptTo,
    RunAll,
    SendBdat,
    SendData,
    SendMessage,
    SessionController,
    SessionSettings,
    summarize,
)
from smtptui.session.settings import Security

from support.sessions import settings_for

MESSAGE = "Subject: hi\r\n\r\nhello\r\n"


@pytest.fixture
def lmtp_server(make_server: Callable[..., EmbeddedServer]) -> EmbeddedServer:
    return make_server(lmtp=True)


def lmtp_controller(server: EmbeddedServer, context) -> SessionController:
    settings = settings_for(server, context, lmtp=True, username="", security=Security.NONE)
    return SessionController(settings)


def for_notes(controller: SessionController) -> list[tuple[str, str]]:
    """Each reply noted with the recipient it is for: (its text, the note)."""
    return [
        (entry.text, entry.note)
        for entry in controller.transcript
        if entry.kind is EntryKind.RECEIVED and entry.note.startswith("for ")
    ]


async def test_a_run_counts_each_recipients_reply_to_the_message(
    lmtp_server: EmbeddedServer, client_tls_context
) -> None:
    controller = lmtp_controller(lmtp_server, client_tls_context)
    recipients = ("bob@example.org", "unknown@example.org", "full@example.org")
    outcome = await controller.run(RunAll(SendMessage("a@example.org", recipients, MESSAGE)))
    assert outcome.ok, outcome.error
    assert set(outcome.refused) == {"unknown@example.org", "full@example.org"}
    sent = [entry.text for entry in controller.transcript if entry.kind is EntryKind.SENT]
    assert sent[0] == "LHLO client.example"
    where = f"127.0.0.1:{lmtp_server.port}"
    assert controller.transcript[0].text == f"Connecting to {where} to speak LMTP…"
    assert controller.state.address == f"{where} (LMTP)"  # the status line's
    assert for_notes(controller) == [
        ("250 2.0.0 <bob@example.org> Ok: queued as 0000000001", "for bob@example.org"),
        ("452 4.2.2 <full@example.org> Mailbox is full", "for full@example.org"),
    ]
    summary = summarize(controller.transcript, outcome)
    assert summary.ok and summary.exit_code is Exit.OK
    assert summary.accepted == ("bob@example.org",)
    assert {address: code for address, (code, _) in summary.refused.items()} == {
        "unknown@example.org": 550,
        "full@example.org": 452,
    }
    assert summary.deliveries == {
        "bob@example.org": (250, "2.0.0 <bob@example.org> Ok: queued as 0000000001"),
        "full@example.org": (452, "4.2.2 <full@example.org> Mailbox is full"),
    }
    assert summary.queue_id == "0000000001"


async def test_every_recipient_refused_after_the_message_exits_26(
    lmtp_server: EmbeddedServer, client_tls_context
) -> None:
    controller = lmtp_controller(lmtp_server, client_tls_context)
    send = SendMessage("a@example.org", ("full@example.org", "full-too@example.org"), MESSAGE)
    outcome = await controller.run(RunAll(send))
    assert not outcome.ok and outcome.stage is Exit.DOT
    summary = summarize(controller.transcript, outcome)
    assert summary.accepted == () and len(summary.refused) == 2 and summary.stage == "dot"


@pytest.mark.parametrize("end", [SendData(MESSAGE), SendBdat(MESSAGE, 8)], ids=["DATA", "BDAT"])
async def test_step_by_step_the_message_is_judged_by_every_reply(
    lmtp_server: EmbeddedServer, client_tls_context, end: SendData | SendBdat
) -> None:
    controller = lmtp_controller(lmtp_server, client_tls_context)
    for action in (
        Connect(),
        Ehlo(),
        MailFrom("a@example.org"),
        RcptTo("full@example.org"),
        RcptTo("bob@example.org"),
    ):
        assert (await controller.run(action)).ok
    outcome = await controller.run(end)
    assert outcome.ok  # bob got it, though the first reply refused full@
    assert list(outcome.refused) == ["full@example.org"]
    assert [note for _, note in for_notes(controller)] == [
        "for full@example.org",
        "for bob@example.org",
    ]
    errors = [entry.text for entry in controller.transcript if entry.kind is EntryKind.ERROR]
    assert errors == [
        "sent, but refused: full@example.org (452 4.2.2 <full@example.org> Mailbox is full)"
    ]
    assert controller.state.phase == "ready"


def test_lmtp_settings_default_to_port_24() -> None:
    assert SessionSettings(host="mail.example", lmtp=True).address() == ("mail.example", 24)
    assert SessionSettings(host="mail.example:2003", lmtp=True).address() == ("mail.example", 2003)
    with pytest.raises(CommandError, match="port"):
        SessionSettings(host="mail.example", lmtp=True, port=0)
