"""The summary of a whole dialogue (``run --json``'s last line), read from the transcript of
real sessions with the embedded server."""

from __future__ import annotations

import re

from smtptui.server import EmbeddedServer
from smtptui.session import (
    Exit,
    Outcome,
    RunAll,
    SendMessage,
    SessionController,
    Stop,
    Summary,
    summarize,
)
from smtptui.session.summary import SUMMARY, TLS_KEYS

from support.events import received, record, sent
from support.sessions import settings_for

MESSAGE = "Subject: hi\r\n\r\nhello\r\n"
EMBEDDED_ID = re.compile(r"[0-9A-F]{10}")
"""The embedded server's queue ids: ``Ok: queued as 0000000001``."""


async def run_all(
    server: EmbeddedServer, context, *recipients: str, stop: Stop | None = None, **changes
) -> tuple[Summary, Outcome]:
    controller = SessionController(settings_for(server, context, **changes))
    send = SendMessage("alice@example.org", recipients, MESSAGE)
    outcome = await controller.run(RunAll(send, stop=stop))
    entries = [entry for transcript in controller.transcripts for entry in transcript]
    return summarize(entries, outcome), outcome


async def test_a_message_sent_is_summed_up_with_its_queue_id_and_tls(
    server, client_tls_context
) -> None:
    summary, _ = await run_all(server, client_tls_context, "bob@example.org")
    assert summary.ok and summary.exit_code is Exit.OK and summary.stage is None
    assert summary.accepted == ("bob@example.org",) and summary.refused == {}
    assert summary.queue_id is not None and EMBEDDED_ID.fullmatch(summary.queue_id)
    assert summary.tls is not None and set(summary.tls) == set(TLS_KEYS)
    assert summary.tls["verified"] is True and summary.tls["version"] == "TLSv1.3"
    assert summary.connect_ms is not None and 0 <= summary.connect_ms <= summary.total_ms
    answered = [label for label, _ in summary.replies]
    assert answered[0] == "greeting" and answered[-2:] == ["message data", "QUIT"]
    assert "RCPT TO:<bob@example.org>" in answered


async def test_a_refused_recipient_among_accepted_ones_is_listed_and_the_run_is_ok(
    server, client_tls_context
) -> None:
    summary, _ = await run_all(server, client_tls_context, "bob@example.org", "unknown@example.org")
    assert summary.ok and summary.exit_code is Exit.OK
    assert summary.accepted == ("bob@example.org",)
    [(address, (code, text))] = summary.refused.items()
    assert (address, code) == ("unknown@example.org", 550)
    assert text.startswith("5.1.1 <unknown@example.org>: Recipient address rejected")
    assert summary.queue_id is not None


async def test_every_recipient_refused_exits_24_without_a_queue_id(
    server, client_tls_context
) -> None:
    summary, outcome = await run_all(server, client_tls_context, "unknown@example.org")
    assert not summary.ok and summary.exit_code is Exit.RCPT == outcome.stage
    assert summary.stage == "rcpt"
    assert summary.accepted == () and list(summary.refused) == ["unknown@example.org"]
    assert summary.queue_id is None


async def test_an_auth_failure_exits_28(server, client_tls_context) -> None:
    summary, _ = await run_all(
        server, client_tls_context, "bob@example.org", password="not-the-password"
    )
    assert not summary.ok and summary.exit_code is Exit.AUTH and summary.stage == "auth"
    assert summary.accepted == () and summary.queue_id is None
    assert summary.tls is not None  # the handshake happened before AUTH failed


async def test_quit_after_rcpt_is_ok_and_has_no_queue_id(server, client_tls_context) -> None:
    summary, _ = await run_all(
        server, client_tls_context, "bob@example.org", "carol@example.org", stop=Stop.RCPT
    )
    assert summary.ok and summary.exit_code is Exit.OK
    assert summary.accepted == ("bob@example.org", "carol@example.org")
    assert summary.queue_id is None
    assert [label for label, _ in summary.replies][-1] == "QUIT"


def test_the_queue_id_is_read_from_the_reply_to_the_last_bdat() -> None:
    entries = record(
        sent(b"BDAT 5\r\n"),
        received(b"250 2.0.0 Ok: 5 bytes\r\n"),  # not the end: no id here
        sent(b"BDAT 3 LAST\r\n"),
        received(b"250- 3 byte chunk, total 8\r\n250 OK id=1xXPEn-0003j6-1T\r\n"),
    )
    summary = summarize(entries, Outcome(RunAll(), True))
    assert summary.queue_id == "1xXPEn-0003j6-1T"


def test_the_json_form_has_kind_summary_and_every_key() -> None:
    summary = Summary(
        ok=False,
        exit_code=Exit.RCPT,
        refused={"b@example.org": (550, "no such user")},
        replies=(("RCPT TO:<b@example.org>", 1.5),),
    )
    assert summary.as_json() == {
        "kind": SUMMARY,
        "ok": False,
        "exit_code": 24,
        "stage": "rcpt",
        "accepted": [],
        "refused": {"b@example.org": [550, "no such user"]},
        "queue_id": None,
        "deliveries": {},
        "tls": None,
        "timings": {
            "connect_ms": None,
            "total_ms": 0.0,
            "replies": [{"answers": "RCPT TO:<b@example.org>", "ms": 1.5}],
        },
    }


def test_an_empty_transcript_sums_up_to_nothing() -> None:
    summary = summarize([], Outcome(RunAll(), False, stage=Exit.CONNECT))
    assert summary == Summary(ok=False, exit_code=Exit.CONNECT)
    assert summary.stage == "connect"
