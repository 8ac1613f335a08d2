"""The embedded server, driven by the stdlib client (smtplib)."""

from __future__ import annotations

import base64
import datetime as dt
import gc
import hashlib
import ipaddress
import json
import logging
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smtptui.server import (
    DEMO_USERS,
    EmbeddedServer,
    ReceivedMessage,
    describe,
    make_self_signed,
    serve,
)

MakeServer = Callable[..., EmbeddedServer]
USER, PASSWORD = next(iter(DEMO_USERS.items()))
MESSAGE = b"From: a@example.org\r\nSubject: Hello\r\n\r\nHi there.\r\n"
X509_V_ERR_CERT_HAS_EXPIRED = 10
X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT = 18
X509_V_ERR_HOSTNAME_MISMATCH = 62


def connect(server: EmbeddedServer, host: str | None = None) -> smtplib.SMTP:
    return smtplib.SMTP(host or server.host, server.port, timeout=5)


def secure(smtp: smtplib.SMTP, context: ssl.SSLContext) -> smtplib.SMTP:
    smtp.ehlo()
    smtp.starttls(context=context)
    smtp.ehlo()
    return smtp


def xoauth2(token: str) -> Callable[..., str]:
    """An smtplib authobject: the XOAUTH2 string, or an empty reply to an error challenge."""
    return lambda challenge=None: "" if challenge else f"user={USER}\x01auth=Bearer {token}\x01\x01"


class RawClient:
    """A plain socket to the server: bytes written exactly as given, replies read whole."""

    def __init__(self, server: EmbeddedServer) -> None:
        self.sock = socket.create_connection((server.host, server.port), timeout=5)
        self.file = self.sock.makefile("rb")
        assert self.reply().startswith(b"220 ")

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.file.close()
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self) -> bytes:
        lines = [self.file.readline()]
        while lines[-1][3:4] == b"-":
            lines.append(self.file.readline())
        return b"".join(lines)

    def codes(self, data: bytes, count: int) -> list[int]:
        """Send ``data`` in one write, then read ``count`` replies: their codes, in order."""
        self.send(data)
        return [int(self.reply()[:3]) for _ in range(count)]

    def transaction(self, sender: str = "a@example.org", recipient: str = "b@example.org") -> None:
        """EHLO, MAIL and RCPT, each accepted."""
        envelope = b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\n" % (sender.encode(), recipient.encode())
        assert self.codes(b"EHLO c\r\n" + envelope, 3) == [250, 250, 250]


# Plain SMTP


def test_greeting_and_ehlo_before_tls(server: EmbeddedServer) -> None:
    smtp = smtplib.SMTP(timeout=5)
    assert smtp.connect(server.host, server.port) == (220, b"smtptui.demo ESMTP smtptui")
    with smtp:
        code, _ = smtp.ehlo()
        assert code == 250
        assert smtp.esmtp_features.keys() == {
            "size",
            "8bitmime",
            "smtputf8",
            "starttls",
            "pipelining",
            "chunking",
            "binarymime",
            "help",
        }
        assert smtp.esmtp_features["size"] == "33554432"


def test_a_reply_of_many_lines_comes_whole_at_once(server: EmbeddedServer) -> None:
    """aiosmtpd writes it a line at a time: with Nagle's algorithm on, the lines after the
    first would wait for smtplib's delayed ACK (~40 ms on Linux)."""
    with connect(server) as smtp:
        times = []
        for _ in range(9):
            started = time.monotonic()
            assert smtp.ehlo()[0] == 250
            times.append(time.monotonic() - started)
    assert sorted(times)[len(times) // 2] < 0.035, times  # loaded or not, under 40 ms


def test_plain_send_is_stored(make_server: MakeServer) -> None:
    received: list[ReceivedMessage] = []
    server = make_server(on_message=received.append)
    with connect(server) as smtp:
        assert smtp.sendmail("a@example.org", ["b@example.org", "c@example.org"], MESSAGE) == {}
    [message] = server.messages
    assert received == [message]
    assert re.fullmatch(r"127\.0\.0\.1:\d+", message.peer)
    assert message.mail_from == "a@example.org"
    assert message.rcpt_tos == ("b@example.org", "c@example.org")
    assert message.data == MESSAGE
    assert message.mail_options == (f"SIZE={len(MESSAGE)}",)
    assert message.rcpt_options == ()
    assert message.authenticated_as is None
    assert message.tls is False
    assert abs(dt.datetime.now(dt.UTC) - message.received_at) < dt.timedelta(seconds=5)


def test_replies_are_postfix_like(server: EmbeddedServer) -> None:
    with connect(server) as smtp:
        smtp.ehlo()
        assert smtp.mail("a@example.org") == (250, b"2.1.0 Ok")
        assert smtp.rcpt("b@example.org") == (250, b"2.1.5 Ok")
        code, text = smtp.data(MESSAGE)
        assert code == 250
        assert re.fullmatch(rb"2\.0\.0 Ok: queued as [0-9A-F]{10}", text)
        assert smtp.noop() == (250, b"2.0.0 Ok")
        assert smtp.rset() == (250, b"2.0.0 Ok")
        assert smtp.verify("bob@example.org") == (252, b"2.0.0 bob@example.org")
        assert smtp.verify("unknown@example.org")[0] == 550
        assert smtp.docmd("QUIT") == (221, b"2.0.0 Bye")


@pytest.mark.parametrize(
    "body",
    [
        b".leading dot\r\n..two dots\r\n.\r\nend\r\n",
        b"no final line end",
        b"Subject: \xe2\x9c\x93 8-bit\r\n\r\n\xff\xfe raw bytes\r\n",
    ],
)
def test_stored_bytes_equal_what_was_sent(server: EmbeddedServer, body: bytes) -> None:
    with connect(server) as smtp:
        smtp.sendmail("a@example.org", ["b@example.org"], body)
    # smtplib adds the final CRLF if missing; the dot-stuffing is undone by the server
    assert server.messages[-1].data == (body if body.endswith(b"\r\n") else body + b"\r\n")


line_bytes = st.binary(max_size=200).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(line_bytes, min_size=1, max_size=8))
def test_any_crlf_data_round_trips(server: EmbeddedServer, lines: list[bytes]) -> None:
    data = b"".join(line + b"\r\n" for line in lines)
    with connect(server) as smtp:
        smtp.sendmail("a@example.org", ["b@example.org"], data)
    assert server.messages[-1].data == data


def test_smtputf8_and_8bitmime(server: EmbeddedServer) -> None:
    sender, recipient = "jürgen@bücher.example", "用户@例子.广告"
    body = "Subject: Grüße\r\n\r\nHallo ✓\r\n".encode()
    with connect(server) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("smtputf8")
        assert smtp.has_extn("8bitmime")
        smtp.sendmail(sender, [recipient], body, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    message = server.messages[-1]
    assert (message.mail_from, message.rcpt_tos, message.data) == (sender, (recipient,), body)
    assert {"SMTPUTF8", "BODY=8BITMIME"} <= set(message.mail_options)


def test_null_sender_arrives_as_angle_brackets(server: EmbeddedServer) -> None:
    with connect(server) as smtp:
        smtp.sendmail("<>", ["b@example.org"], MESSAGE)
    assert server.messages[-1].mail_from == "<>"


# CHUNKING (BDAT, RFC 3030) and PIPELINING


def test_bdat_by_hand(server: EmbeddedServer) -> None:
    """Chunks are read by count: a chunk holding a command, a dot line or bare CR and LF
    is data, taken as it is."""
    with RawClient(server) as raw:
        raw.transaction()
        raw.send(b"BDAT 12\r\nQUIT\r\n.\r\n\ra\n")
        assert raw.reply() == b"250 2.0.0 12 bytes received, 12 in total\r\n"
        raw.send(b"BDAT 0\r\n")
        assert raw.reply() == b"250 2.0.0 0 bytes received, 12 in total\r\n"
        raw.send(b"bdat 4 last\r\n\x00\xff\r\n")
        assert raw.reply() == b"250 2.0.0 Ok: queued as 0000000001\r\n"
        assert raw.codes(b"NOOP\r\n", 1) == [250]
    [message] = server.messages
    assert message.data == b"QUIT\r\n.\r\n\ra\n\x00\xff\r\n"
    assert (message.mail_from, message.rcpt_tos) == ("a@example.org", ("b@example.org",))


def test_bdat_0_last_is_an_empty_message(server: EmbeddedServer) -> None:
    with RawClient(server) as raw:
        raw.transaction()
        assert raw.codes(b"BDAT 0 LAST\r\n", 1) == [250]
    assert server.messages[0].data == b""


@pytest.mark.parametrize("before", [b"", b"MAIL FROM:<a@example.org>\r\n"])
def test_bdat_without_mail_or_rcpt_is_refused_and_its_chunk_read(
    server: EmbeddedServer, before: bytes
) -> None:
    with RawClient(server) as raw:
        raw.codes(b"EHLO c\r\n" + before, 1 + bool(before))
        raw.send(b"BDAT 6 LAST\r\nNOOP\r\n")
        assert raw.reply() == b"503 5.5.1 Error: need RCPT command\r\n"
        assert raw.codes(b"RSET\r\n", 1) == [250]  # not a second reply, to the chunk's NOOP
    assert server.messages == []


@pytest.mark.parametrize("arg", [b"", b" x", b" -1", b" 5 FIRST", b" 5 LAST x", b" 0x10"])
def test_bdat_with_a_bad_size_gets_501(server: EmbeddedServer, arg: bytes) -> None:
    with RawClient(server) as raw:
        raw.transaction()
        raw.send(b"BDAT" + arg + b"\r\n")
        assert raw.reply() == b"501 5.5.4 Syntax: BDAT chunk-size [LAST]\r\n"
        assert raw.codes(b"BDAT 1 LAST\r\nz", 1) == [250]  # the transaction goes on
    assert server.messages[0].data == b"z"


def test_rset_between_chunks_forgets_them(server: EmbeddedServer) -> None:
    with RawClient(server) as raw:
        raw.transaction()
        assert raw.codes(b"BDAT 3\r\nabcRSET\r\n", 2) == [250, 250]
        assert raw.codes(b"BDAT 2 LAST\r\nde", 1) == [503]
        raw.transaction()
        assert raw.codes(b"BDAT 2 LAST\r\nfg", 1) == [250]
    assert [message.data for message in server.messages] == [b"fg"]


def test_last_ends_the_transaction(server: EmbeddedServer) -> None:
    with RawClient(server) as raw:
        raw.transaction()
        assert raw.codes(b"BDAT 1 LAST\r\naBDAT 1 LAST\r\nb", 2) == [250, 503]
        raw.transaction()
        assert raw.codes(b"DATA\r\n", 1) == [354]  # a new transaction may use DATA
        assert raw.codes(b"c\r\n.\r\n", 1) == [250]
    assert [message.data for message in server.messages] == [b"a", b"c\r\n"]


def test_data_after_bdat_is_refused(server: EmbeddedServer) -> None:
    with RawClient(server) as raw:
        raw.transaction()
        raw.send(b"BDAT 0\r\nDATA\r\n")
        assert raw.reply().startswith(b"250 ")
        assert raw.reply() == b"503 5.5.1 Error: DATA after BDAT\r\n"
        assert raw.codes(b"BDAT 2 LAST\r\nok", 1) == [250]
    assert server.messages[0].data == b"ok"


def test_bdat_over_the_size_limit_gets_552_and_ends_the_transaction(
    make_server: MakeServer,
) -> None:
    server = make_server(data_size_limit=10)
    with RawClient(server) as raw:
        raw.transaction()
        assert raw.codes(b"BDAT 6\r\n123456", 1) == [250]
        raw.send(b"BDAT 6\r\n789012")
        assert raw.reply() == b"552 5.3.4 Error: too much mail data\r\n"
        assert raw.codes(b"BDAT 1 LAST\r\nx", 1) == [503]
        raw.transaction()
        assert raw.codes(b"BDAT 10 LAST\r\n0123456789", 1) == [250]
    assert [message.data for message in server.messages] == [b"0123456789"]


@pytest.mark.parametrize(
    ("sender", "recipient", "codes"),
    [
        ("reject@example.org", "b@example.org", [553, 503, 503]),
        ("a@example.org", "unknown@example.org", [250, 550, 503]),
    ],
)
def test_refusals_are_the_same_with_bdat(
    server: EmbeddedServer, sender: str, recipient: str, codes: list[int]
) -> None:
    """A refused sender or recipient leaves no transaction: BDAT gets 503, as DATA does."""
    with RawClient(server) as raw:
        raw.codes(b"EHLO c\r\n", 1)
        envelope = b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\n" % (sender.encode(), recipient.encode())
        assert raw.codes(envelope + b"DATA\r\n", 3) == codes
        assert raw.codes(b"RSET\r\n" + envelope + b"BDAT 1 LAST\r\nx", 4) == [250, *codes]
    assert server.messages == []


def test_a_hang_up_within_a_chunk_stores_nothing_and_logs_no_error(
    server: EmbeddedServer, caplog: pytest.LogCaptureFixture
) -> None:
    with RawClient(server) as raw:
        raw.transaction()
        raw.send(b"BDAT 100 LAST\r\nonly 15 of them")
    with RawClient(server) as raw:  # the server goes on serving
        raw.transaction()
        assert raw.codes(b"BDAT 2 LAST\r\nok", 1) == [250]
    assert [message.data for message in server.messages] == [b"ok"]
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


def test_pipelined_commands_are_answered_in_order(server: EmbeddedServer) -> None:
    with RawClient(server) as raw:
        raw.codes(b"EHLO c\r\n", 1)
        pipelined = (
            b"MAIL FROM:<a@example.org>\r\n"
            b"RCPT TO:<unknown@example.org>\r\n"
            b"RCPT TO:<b@example.org>\r\n"
            b"DATA\r\n"
        )
        assert raw.codes(pipelined, 4) == [250, 550, 250, 354]
        assert raw.codes(b"Subject: x\r\n\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n", 3) == [250, 250, 221]
    assert server.messages[0].data == b"Subject: x\r\n\r\nbody\r\n"
    assert server.messages[0].rcpt_tos == ("b@example.org",)


# Refusals


@pytest.mark.parametrize("sender", ["reject@example.org", "Reject-Me@example.org"])
def test_refused_sender(server: EmbeddedServer, sender: str) -> None:
    with connect(server) as smtp, pytest.raises(smtplib.SMTPSenderRefused) as refused:
        smtp.sendmail(sender, ["b@example.org"], MESSAGE)
    assert refused.value.smtp_code == 553
    assert refused.value.smtp_error == (
        f"5.7.1 <{sender}>: Sender address rejected: Access denied".encode()
    )
    assert server.messages == []


def test_sender_merely_starting_with_reject_is_accepted(server: EmbeddedServer) -> None:
    with connect(server) as smtp:
        smtp.sendmail("rejected@example.org", ["b@example.org"], MESSAGE)
    assert server.messages[-1].mail_from == "rejected@example.org"


@pytest.mark.parametrize("recipient", ["reject@example.org", "unknown.user@example.org"])
def test_refused_recipient(server: EmbeddedServer, recipient: str) -> None:
    with connect(server) as smtp, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        smtp.sendmail("a@example.org", [recipient], MESSAGE)
    reply = f"5.1.1 <{recipient}>: Recipient address rejected: User unknown".encode()
    assert refused.value.recipients == {recipient: (550, reply)}
    assert server.messages == []


def test_some_recipients_refused(server: EmbeddedServer) -> None:
    with connect(server) as smtp:
        refused = smtp.sendmail("a@example.org", ["b@example.org", "unknown@example.org"], MESSAGE)
    assert list(refused) == ["unknown@example.org"]
    assert server.messages[-1].rcpt_tos == ("b@example.org",)


def test_size_limit(make_server: MakeServer) -> None:
    server = make_server(data_size_limit=100)
    with connect(server) as smtp:
        smtp.ehlo()
        assert smtp.esmtp_features["size"] == "100"
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            smtp.sendmail("a@example.org", ["b@example.org"], b"x" * 200 + b"\r\n")
    assert refused.value.smtp_code == 552


def test_require_starttls(make_server: MakeServer, client_tls_context: ssl.SSLContext) -> None:
    server = make_server(require_starttls=True)
    with connect(server) as smtp:
        smtp.ehlo()
        assert smtp.mail("a@example.org") == (530, b"Must issue a STARTTLS command first")
        secure(smtp, client_tls_context)
        assert smtp.mail("a@example.org")[0] == 250


def test_starttls_can_be_turned_off(make_server: MakeServer) -> None:
    server = make_server(starttls=False)
    with connect(server) as smtp:
        smtp.ehlo()
        assert not smtp.has_extn("starttls")


# STARTTLS and AUTH


def test_starttls_then_ehlo_offers_auth(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    with connect(server) as smtp:
        smtp.ehlo()
        assert smtp.starttls(context=client_tls_context) == (220, b"Ready to start TLS")
        smtp.ehlo()
        assert not smtp.has_extn("starttls")
        assert smtp.esmtp_features["auth"].split() == [
            "CRAM-MD5",
            "LOGIN",
            "OAUTHBEARER",
            "PLAIN",
            "SCRAM-SHA-256",
            "XOAUTH2",
        ]


def test_auth_not_offered_before_tls(server: EmbeddedServer) -> None:
    with connect(server) as smtp:
        smtp.ehlo()
        assert not smtp.has_extn("auth")
        with pytest.raises(smtplib.SMTPNotSupportedError):
            smtp.login(USER, PASSWORD)
        plain = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
        assert smtp.docmd("AUTH", f"PLAIN {plain}") == (
            538,
            b"5.7.11 Encryption required for requested authentication mechanism",
        )


def test_auth_in_plaintext_when_allowed(make_server: MakeServer) -> None:
    server = make_server(auth_require_tls=False)
    with connect(server) as smtp:
        smtp.login(USER, PASSWORD)
        smtp.sendmail("a@example.org", ["b@example.org"], MESSAGE)
    assert server.messages[-1].authenticated_as == USER
    assert server.messages[-1].tls is False


@pytest.mark.parametrize(
    ("mechanism", "initial_response_ok"),
    [("PLAIN", True), ("PLAIN", False), ("LOGIN", True), ("LOGIN", False), ("CRAM-MD5", True)],
)
def test_auth_after_starttls(
    server: EmbeddedServer,
    client_tls_context: ssl.SSLContext,
    mechanism: str,
    initial_response_ok: bool,
) -> None:
    with secure(connect(server), client_tls_context) as smtp:
        smtp.user, smtp.password = USER, PASSWORD
        authobject = getattr(smtp, "auth_" + mechanism.lower().replace("-", "_"))
        code, text = smtp.auth(mechanism, authobject, initial_response_ok=initial_response_ok)
        assert (code, text) == (235, b"2.7.0 Authentication successful")
        smtp.sendmail("a@example.org", ["b@example.org"], MESSAGE)
    message = server.messages[-1]
    assert (message.authenticated_as, message.tls) == (USER, True)


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_wrong_password(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext, mechanism: str
) -> None:
    with secure(connect(server), client_tls_context) as smtp:
        smtp.user, smtp.password = USER, "wrong"
        authobject = getattr(smtp, "auth_" + mechanism.lower().replace("-", "_"))
        with pytest.raises(smtplib.SMTPAuthenticationError) as failed:
            smtp.auth(mechanism, authobject)
    assert failed.value.smtp_code == 535
    assert failed.value.smtp_error == b"5.7.8 Authentication credentials invalid"


def test_login_picks_a_mechanism(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    with secure(connect(server), client_tls_context) as smtp:
        assert smtp.login(USER, PASSWORD)[0] == 235


@pytest.mark.parametrize("initial_response_ok", [True, False])
def test_xoauth2(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext, initial_response_ok: bool
) -> None:
    with secure(connect(server), client_tls_context) as smtp:
        code, _ = smtp.auth("XOAUTH2", xoauth2(PASSWORD), initial_response_ok=initial_response_ok)
        assert code == 235
        smtp.sendmail("a@example.org", ["b@example.org"], MESSAGE)
    assert server.messages[-1].authenticated_as == USER


def test_xoauth2_wrong_token_like_gmail(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    challenges: list[bytes] = []
    wrong = xoauth2("nope")

    def authobject(challenge: bytes | None = None) -> str:
        if challenge:
            challenges.append(challenge)
        return wrong(challenge)

    with secure(connect(server), client_tls_context) as smtp:
        with pytest.raises(smtplib.SMTPAuthenticationError) as failed:
            smtp.auth("XOAUTH2", authobject)
        assert smtp.noop()[0] == 250
    [error] = challenges
    assert json.loads(error) == {
        "status": "401",
        "schemes": "Bearer",
        "scope": "https://mail.google.com/",
    }
    assert failed.value.smtp_code == 535
    assert failed.value.smtp_error.startswith(b"5.7.8 Username and Password not accepted.")


def test_auth_abort_with_star(server: EmbeddedServer, client_tls_context: ssl.SSLContext) -> None:
    with secure(connect(server), client_tls_context) as smtp:
        assert smtp.docmd("AUTH", "CRAM-MD5")[0] == 334
        assert smtp.docmd("*") == (501, b"5.7.0 Auth aborted")
        assert smtp.noop()[0] == 250


def test_starttls_inside_tls_is_refused(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    with secure(connect(server), client_tls_context) as smtp:
        assert smtp.docmd("STARTTLS") == (554, b"5.5.1 Error: TLS already active")
        assert smtp.noop()[0] == 250


def test_server_errors_get_451(make_server: MakeServer, caplog: pytest.LogCaptureFixture) -> None:
    class Exploding(dict[str, str]):
        def get(self, key: str, default: object = None) -> str:
            raise RuntimeError("boom")

    server = make_server(users=Exploding(), auth_require_tls=False)
    with connect(server) as smtp:
        smtp.ehlo()
        plain = base64.b64encode(b"\0alice\0x").decode()
        assert smtp.docmd("AUTH", f"PLAIN {plain}") == (451, b"4.3.0 Error: internal error")
    assert "error in an SMTP session" in caplog.text


# Implicit TLS and certificates


def test_implicit_tls(tls_server: EmbeddedServer, client_tls_context: ssl.SSLContext) -> None:
    with smtplib.SMTP_SSL(
        tls_server.host, tls_server.port, context=client_tls_context, timeout=5
    ) as smtp:
        smtp.ehlo()
        assert not smtp.has_extn("starttls")
        assert smtp.has_extn("auth")
        smtp.login(USER, PASSWORD)
        smtp.sendmail("a@example.org", ["b@example.org"], MESSAGE)
    message = tls_server.messages[-1]
    assert (message.tls, message.authenticated_as) == (True, USER)


def test_untrusted_certificate_fails_verification(
    untrusted_server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    with connect(untrusted_server) as smtp, pytest.raises(ssl.SSLCertVerificationError) as bad:
        secure(smtp, client_tls_context)
    assert bad.value.verify_code == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT


def test_failed_handshake_is_logged_quietly(
    untrusted_server: EmbeddedServer,
    client_tls_context: ssl.SSLContext,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "smtptui.server")
    with connect(untrusted_server) as smtp, pytest.raises(ssl.SSLCertVerificationError):
        secure(smtp, client_tls_context)
    deadline = time.monotonic() + 5
    while "TLS handshake failed" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "TLS handshake failed" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_expired_certificate_fails_verification(
    expired_server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    with connect(expired_server) as smtp, pytest.raises(ssl.SSLCertVerificationError) as bad:
        secure(smtp, client_tls_context)
    assert bad.value.verify_code == X509_V_ERR_CERT_HAS_EXPIRED


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_self_signed_verifies_with_its_client_context(
    untrusted_server: EmbeddedServer, host: str
) -> None:
    assert untrusted_server.self_signed is not None
    context = untrusted_server.self_signed.client_context()
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    with secure(connect(untrusted_server, host), context) as smtp:
        assert smtp.login(USER, PASSWORD)[0] == 235
        der = smtp.sock.getpeercert(binary_form=True)
    assert untrusted_server.self_signed.sha256 == hashlib.sha256(der).digest().hex(":").upper()


def test_self_signed_checks_the_hostname(make_server: MakeServer) -> None:
    server = make_server(tls_context=None, implicit_tls=True)
    assert server.self_signed is not None
    context = server.self_signed.client_context()
    with (
        socket.create_connection((server.host, server.port), timeout=5) as raw,
        pytest.raises(ssl.SSLCertVerificationError) as bad,
    ):
        context.wrap_socket(raw, server_hostname="mail.example.org")
    assert bad.value.verify_code == X509_V_ERR_HOSTNAME_MISMATCH


def test_make_self_signed() -> None:
    pair = make_self_signed(("mail.test", "192.0.2.1"))
    cert = x509.load_pem_x509_certificate(pair.cert_pem)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["mail.test"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("192.0.2.1")]
    now = dt.datetime.now(dt.UTC)
    assert cert.not_valid_before_utc < now - dt.timedelta(hours=23)
    assert dt.timedelta(days=29) < cert.not_valid_after_utc - now < dt.timedelta(days=31)
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", pair.sha256)


def test_server_context_leaves_no_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    make_self_signed().server_context()
    assert list(tmp_path.iterdir()) == []


# Life cycle


def test_port_zero_and_stop(
    server_tls_context: ssl.SSLContext,
) -> None:
    server = EmbeddedServer(tls_context=server_tls_context)
    with server:
        assert server.port != 0
        with connect(server) as smtp:
            assert smtp.noop()[0] == 250
    server.stop()
    with pytest.raises(ConnectionRefusedError):
        connect(server)


def test_stop_closes_every_open_connection(
    server_tls_context: ssl.SSLContext, client_tls_context: ssl.SSLContext
) -> None:
    """aiosmtpd alone only cancels the sessions' tasks at stop: a close still queued when its
    loop ends never happens, and the socket is left to the collector (which warns) to close,
    the client waiting meanwhile."""
    server = EmbeddedServer(tls_context=server_tls_context)
    server.start()
    plain = [socket.create_connection((server.host, server.port), 5) for _ in range(4)]
    for sock in plain:
        assert sock.recv(100).startswith(b"220 ")
    tls = secure(connect(server), client_tls_context)
    gc.collect()  # what earlier tests left, which would warn below
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always", ResourceWarning)
        server.stop()
        gc.collect()
    assert [str(warning.message) for warning in warned] == []
    for sock in plain:
        with sock:
            sock.settimeout(2)
            assert sock.recv(100) == b""
    with pytest.raises(smtplib.SMTPServerDisconnected):
        tls.noop()
    tls.close()


def test_port_in_use_fails_at_once(server: EmbeddedServer) -> None:
    threads = threading.active_count()
    with pytest.raises(OSError):
        EmbeddedServer(port=server.port, tls_context=None).start()
    assert threading.active_count() == threads


# LMTP (RFC 2033)


def test_lmtp_answers_lhlo_and_refuses_ehlo_and_helo(make_server: MakeServer) -> None:
    server = make_server(lmtp=True)
    with RawClient(server) as client:
        client.send(b"EHLO c\r\n")
        assert client.reply() == b'500 Error: command "EHLO" not recognized\r\n'
        client.send(b"HELO c\r\n")
        assert client.reply() == b'500 Error: command "HELO" not recognized\r\n'
        client.send(b"LHLO c\r\n")
        assert b"250-PIPELINING\r\n" in client.reply()


@pytest.mark.parametrize(
    "end",
    [
        b"DATA\r\n" + MESSAGE + b".\r\n",
        b"BDAT %d LAST\r\n" % len(MESSAGE) + MESSAGE,
    ],
    ids=["DATA", "BDAT"],
)
def test_lmtp_answers_a_message_once_per_accepted_recipient(
    make_server: MakeServer, end: bytes
) -> None:
    server = make_server(lmtp=True)
    with RawClient(server) as client:
        client.send(b"LHLO c\r\nMAIL FROM:<a@example.org>\r\n")
        assert [client.reply()[:3], client.reply()] == [b"250", b"250 2.1.0 Ok\r\n"]
        rcpts = b"".join(
            b"RCPT TO:<%s@example.org>\r\n" % name
            for name in (b"bob", b"unknown", b"full-box", b"carol")
        )
        assert client.codes(rcpts, 4) == [250, 550, 250, 250]
        client.send(end)
        if end.startswith(b"DATA"):
            assert client.reply().startswith(b"354 ")
        replies = [client.reply() for _ in range(3)]
    assert replies == [
        b"250 2.0.0 <bob@example.org> Ok: queued as 0000000001\r\n",
        b"452 4.2.2 <full-box@example.org> Mailbox is full\r\n",
        b"250 2.0.0 <carol@example.org> Ok: queued as 0000000001\r\n",
    ]
    [message] = server.messages
    assert message.rcpt_tos == ("bob@example.org", "carol@example.org")
    assert message.data == MESSAGE


def test_lmtp_stores_nothing_when_every_recipient_is_full(make_server: MakeServer) -> None:
    server = make_server(lmtp=True)
    with (
        smtplib.LMTP(server.host, server.port, timeout=5) as lmtp,
        pytest.raises(smtplib.SMTPDataError) as info,
    ):
        lmtp.sendmail("a@example.org", ["full@example.org"], MESSAGE)
    assert info.value.args == (452, b"4.2.2 <full@example.org> Mailbox is full")
    assert server.messages == []


# describe() and serve()


def test_describe() -> None:
    message = ReceivedMessage(
        peer="[::1]:40000",
        mail_from="a@example.org",
        rcpt_tos=("b@example.org", "c@example.org"),
        data=b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\tfolded\x1b[31m\r\n\r\nbody\r\n",
        mail_options=(),
        rcpt_options=(),
        authenticated_as=None,
        tls=False,
        received_at=dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    )
    assert re.fullmatch(
        r"\d\d:\d\d:05 \[::1\]:40000 a@example\.org -> b@example\.org, c@example\.org "
        rf"{len(message.data)} bytes Subject: Grüße folded\x1b\[31m",  # printed by the CLI's say()
        describe(message),
    )


@given(data=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: f"Subject: {t}".encode()))
def test_describe_any_data_is_one_line(data: bytes) -> None:
    message = ReceivedMessage(
        peer="127.0.0.1:1",
        mail_from="a@b",
        rcpt_tos=("c@d",),
        data=data,
        mail_options=(),
        rcpt_options=(),
        authenticated_as=None,
        tls=False,
        received_at=dt.datetime.now(dt.UTC),
    )
    assert "\n" not in describe(message)


@pytest.mark.parametrize(("lmtp", "mode"), [(False, "STARTTLS"), (True, "LMTP, STARTTLS")])
def test_serve_echoes_and_stops_on_keyboard_interrupt(lmtp: bool, mode: str) -> None:
    lines: list[str] = []
    listening = threading.Event()
    sent: list[dict[str, tuple[int, bytes]]] = []

    def echo(line: str) -> None:
        lines.append(line)
        listening.set()

    def client() -> None:
        if not listening.wait(10):
            return
        try:
            where = re.search(r"127\.0\.0\.1:(\d+)", lines[0])
            assert where is not None
            opener = smtplib.LMTP if lmtp else smtplib.SMTP
            with opener("127.0.0.1", int(where[1]), timeout=5) as smtp:
                sent.append(smtp.sendmail("a@example.org", ["b@example.org"], MESSAGE))
        finally:
            signal.pthread_kill(main, signal.SIGINT)

    main, threads = threading.get_ident(), threading.active_count()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    thread = threading.Thread(target=client)
    thread.start()
    try:
        serve("127.0.0.1", 0, implicit_tls=False, echo=echo, lmtp=lmtp)
    finally:
        signal.signal(signal.SIGINT, previous)
        thread.join(10)
    assert sent == [{}]
    listening_line, message_line = lines
    assert re.fullmatch(
        rf"Listening on 127\.0\.0\.1:\d+ \({mode}\); log in as {USER} / {PASSWORD} "
        rf"\(OAUTHBEARER: {USER} / demo-token\); "
        r"certificate SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}",
        listening_line,
    )
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d 127\.0\.0\.1:\d+ a@example\.org -> b@example\.org "
        rf"{len(MESSAGE)} bytes Subject: Hello",
        message_line,
    )
    assert threading.active_count() == threads


# UNIX sockets and stdio


def test_unix_socket_serves_and_is_removed_at_stop(make_server: MakeServer, tmp_path: Path) -> None:
    path = tmp_path / "smtp.sock"
    server = make_server(unix_path=str(path))
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(path))
        sock.settimeout(5)
        assert sock.recv(1024).startswith(b"220 ")
        sock.sendall(b"EHLO client\r\n")
        reply = b""
        while not reply.endswith(b"250 HELP\r\n"):
            reply += sock.recv(4096)
    server.stop()
    assert not path.exists()


def test_serve_stdio_speaks_on_pipes_and_logs_on_stderr() -> None:
    session = (
        b"EHLO client\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"
        + MESSAGE
        + b".\r\nQUIT\r\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "smtptui", "serve", "--stdio"],
        input=session,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0
    codes = [line[:3] for line in done.stdout.split(b"\r\n") if line[3:4] == b" "]
    assert codes == [b"220", b"250", b"250", b"250", b"354", b"250", b"221"]
    assert b"a@example.org -> b@example.org" in done.stderr
