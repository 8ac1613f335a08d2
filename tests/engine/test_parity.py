"""The same message sent by smtplib and by SMTPClient reaches the server byte for byte equal."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.mime.text import MIMEText
from typing import Any

import pytest

from smtptui.engine import SMTPClient
from smtptui.protocol.data import DEFAULT_CHUNK_SIZE
from smtptui.server import EmbeddedServer, ReceivedMessage

USER, PASSWORD = "alice", "wonderland"
HELO = "client.example"


@dataclass
class Case:
    """One sending: ``sendmail(*args)`` or ``send_message(message(), **kwargs)``."""

    method: str
    args: tuple = ()
    message: Callable[[], Message] | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


def _bcc_cc() -> Message:
    msg = EmailMessage()
    msg["From"] = "Alice <alice@example.org>"
    msg["Sender"] = "secretary@example.org"
    msg["To"] = "bob@example.org, Carol <carol@example.org>"
    msg["Cc"] = "dave@example.org"
    msg["Bcc"] = "eve@example.org, frank@example.org"
    msg["Subject"] = "Bcc and Cc"
    msg.set_content("Hello.\n.dot line\nFrom the start of a line\n")
    return msg


def _resent() -> Message:
    msg = EmailMessage()
    msg["From"] = "alice@example.org"
    msg["To"] = "bob@example.org"
    msg["Subject"] = "Forwarded"
    msg["Resent-Date"] = "Thu, 1 Jan 2026 00:00:00 +0000"
    msg["Resent-From"] = "resender@example.org"
    msg["Resent-To"] = "grace@example.org, heidi@example.org"
    msg["Resent-Cc"] = "ivan@example.org"
    msg["Resent-Bcc"] = "judy@example.org"
    msg.set_content("Resent body\n")
    return msg


def _international() -> Message:
    msg = EmailMessage()
    msg["From"] = "Δοκιμή <δοκιμή@παράδειγμα.δοκιμή>"
    msg["To"] = "用户@例子.广告, bob@example.org"
    msg["Subject"] = "Grüße"
    msg.set_content("Grüße, 你好\n")
    return msg


def _mime_8bit() -> Message:
    msg = MIMEText("caf\u00e9 cr\u00e8me\n.dot\n", "plain", "utf-8")
    msg["From"] = "alice@example.org"
    msg["To"] = "bob@example.org"
    msg["Subject"] = "old API"
    return msg


def _big_with_dot_at_chunk_boundary() -> bytes:
    # A line starting with '.' exactly where the client cuts its chunks, and one just after.
    head = b"Subject: big\r\n\r\n"
    room = DEFAULT_CHUNK_SIZE - len(head)
    filler = b"x" * 98 + b"\r\n"
    filler = filler * (room // 100) + b"z" * (room % 100 - 2) + b"\r\n"
    body = head + filler + b".at the boundary\r\n" + b"y" * 1000 + b"\r\n.\r\n..\r\n"
    assert body[DEFAULT_CHUNK_SIZE : DEFAULT_CHUNK_SIZE + 1] == b"."
    return body * 3


FROM, TO = "alice@example.org", ["bob@example.org"]

CASES: dict[str, Case] = {
    "str with lone LF and lone CR": Case(
        "sendmail", (FROM, TO, "Subject: eols\nline one\rline two\r\nline three\n\nlast")
    ),
    "str with dots": Case("sendmail", (FROM, TO, "Subject: s\n\n.one\n..two\n.\nend\n")),
    "bytes with CRLF": Case(
        "sendmail", (FROM, TO, b"From: a@example.org\r\nSubject: crlf\r\n\r\nBody.\r\n")
    ),
    "bytes with bare LF": Case(
        "sendmail", (FROM, TO, b"Subject: lf\n\nline one\nline two\n.dot after LF\n")
    ),
    "bytes with lone CR": Case("sendmail", (FROM, TO, b"Subject: cr\r\rone\rtwo\r.three\r")),
    "8-bit bytes": Case(
        "sendmail",
        (FROM, TO, b"Subject: 8bit\r\n\r\ncaf\xc3\xa9 \xff\xfe\x80\r\n", ["BODY=8BITMIME"]),
    ),
    "dot lines": Case(
        "sendmail", (FROM, TO, b".first\r\nx\r\n..two\r\n...three\r\n.\r\n. \r\nend\r\n")
    ),
    "lone dot line at the end": Case("sendmail", (FROM, TO, b"Subject: d\r\n\r\nbody\r\n.")),
    "lone dot line": Case("sendmail", (FROM, TO, b".\r\n")),
    "only a dot, no line end": Case("sendmail", (FROM, TO, b".")),
    "no final line end": Case("sendmail", (FROM, TO, b"Subject: n\r\n\r\nno newline")),
    "empty bytes": Case("sendmail", (FROM, TO, b"")),
    "empty str": Case("sendmail", (FROM, TO, "")),
    "only CRLF": Case("sendmail", (FROM, TO, b"\r\n")),
    "null sender, several recipients": Case(
        "sendmail", ("", ["b@example.org", "unknown@example.org", "c@example.org"], b"x\r\n")
    ),
    "big, dot at a chunk boundary": Case("sendmail", (FROM, TO, _big_with_dot_at_chunk_boundary())),
    "rcpt options the server refuses": Case(
        "sendmail", (FROM, TO, b"x\r\n", ["BODY=7BIT"], ["NOTIFY=SUCCESS,FAILURE"])
    ),
    "sender refused": Case("sendmail", ("reject@example.org", TO, b"x\r\n")),
    "send_message with Bcc and Cc": Case("send_message", message=_bcc_cc),
    "send_message with Resent-*": Case("send_message", message=_resent),
    "send_message with explicit envelope": Case(
        "send_message",
        message=_bcc_cc,
        kwargs={"from_addr": "env@example.org", "to_addrs": "only@example.org"},
    ),
    "send_message, old-style MIMEText": Case("send_message", message=_mime_8bit),
    "SMTPUTF8 address (send_message)": Case("send_message", message=_international),
    "SMTPUTF8 address (sendmail)": Case(
        "sendmail",
        (
            "δοκιμή@παράδειγμα.δοκιμή",
            ["用户@例子.广告"],
            "Subject: utf8\r\n\r\nGrüße\r\n".encode(),
            ["SMTPUTF8", "BODY=8BITMIME"],
        ),
    ),
}


def _with_smtplib(server: EmbeddedServer, context: ssl.SSLContext, case: Case) -> Any:
    with smtplib.SMTP(server.host, server.port, local_hostname=HELO, timeout=10) as smtp:
        smtp.ehlo()
        smtp.starttls(context=context)
        smtp.ehlo()
        smtp.login(USER, PASSWORD)
        if case.method == "sendmail":
            return smtp.sendmail(*case.args)
        assert case.message is not None
        return smtp.send_message(case.message(), **case.kwargs)


async def _with_client(server: EmbeddedServer, context: ssl.SSLContext, case: Case) -> Any:
    async with SMTPClient(local_hostname=HELO, ssl_context=context, timeout=10) as client:
        await client.connect(server.host, server.port)
        await client.ehlo()
        await client.starttls()
        await client.ehlo()
        await client.login(USER, PASSWORD)
        if case.method == "sendmail":
            return await client.sendmail(*case.args)
        assert case.message is not None
        return await client.send_message(case.message(), **case.kwargs)


def _envelope(message: ReceivedMessage) -> tuple:
    return (
        message.mail_from,
        message.rcpt_tos,
        message.mail_options,
        message.rcpt_options,
        message.authenticated_as,
        message.tls,
    )


@pytest.mark.parametrize("name", CASES)
async def test_same_bytes_and_envelope_as_smtplib(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext, name: str
) -> None:
    case = CASES[name]
    try:
        expected = await asyncio.to_thread(_with_smtplib, server, client_tls_context, case)
    except smtplib.SMTPException as error:
        # Refused: SMTPClient must refuse the same way, with smtplib's exception type.
        with pytest.raises(type(error)) as info:
            await _with_client(server, client_tls_context, case)
        assert info.value.args == error.args
        assert server.messages == []
        return
    result = await _with_client(server, client_tls_context, case)
    assert result == expected
    theirs, ours = server.messages
    assert ours.data == theirs.data
    assert _envelope(ours) == _envelope(theirs)
    assert ours.tls and ours.authenticated_as == USER


def test_cases_cover_what_they_say() -> None:
    """The tricky inputs are really in the cases (a guard against a silent rewrite)."""
    eols = CASES["str with lone LF and lone CR"].args[2]
    assert "\r" in eols.replace("\r\n", "") and "\n" in eols.replace("\r\n", "")
    bare = CASES["bytes with bare LF"].args[2]
    assert b"\n" in bare and b"\r" not in bare
    eight = CASES["8-bit bytes"].args[2]
    assert any(byte > 127 for byte in eight)
    assert _bcc_cc()["Bcc"] and _bcc_cc()["Cc"]
    assert _resent()["Resent-Bcc"]
    assert not _international()["From"].addresses[0].addr_spec.isascii()


async def test_international_envelope_reached_the_server(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    await _with_client(server, client_tls_context, CASES["SMTPUTF8 address (send_message)"])
    [message] = server.messages
    assert message.mail_from == "δοκιμή@παράδειγμα.δοκιμή"
    assert message.rcpt_tos == ("用户@例子.广告", "bob@example.org")
    assert "SMTPUTF8" in message.mail_options
    assert "Grüße".encode() in message.data


async def test_resent_envelope_reached_the_server(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    await _with_client(server, client_tls_context, CASES["send_message with Resent-*"])
    [message] = server.messages
    assert message.mail_from == "resender@example.org"
    assert message.rcpt_tos == (
        "grace@example.org",
        "heidi@example.org",
        "judy@example.org",
        "ivan@example.org",
    )
    assert b"Resent-Bcc" not in message.data and b"judy@" not in message.data
