"""The lines shown under an expanded transcript entry."""

from __future__ import annotations

import datetime as dt
import ssl
import time
from collections.abc import Callable

import pytest
import trustme

from smtptui.engine.events import SentKind
from smtptui.protocol.codes import explain_code
from smtptui.protocol.providers import provider_advice
from smtptui.protocol.replies import Reply
from smtptui.server import EmbeddedServer
from smtptui.session import (
    Entry,
    EntryKind,
    SessionController,
    explanation,
)
from smtptui.session.explain import MASKED_RESPONSE
from smtptui.session.recorder import FLAG_BARE_LF, FLAG_UNSOLICITED

from support.events import received, record, sent
from support.fixtures import (
    lines_to_wire,
    parse_replies,
    provider_blocks,
    provider_rows,
    wire_files,
    wire_replies,
)
from support.sessions import ready, settings_for


def explained(raw: bytes) -> list[str]:
    [entry] = record(received(raw))
    return explanation(entry)


def fixture_replies() -> list[Reply]:
    replies = [reply for path in wire_files() for reply in wire_replies(path)]
    replies += [reply for row in provider_rows() for reply in parse_replies(row.wire())]
    blocks = [b for b in provider_blocks() if not b[0].startswith("550-Callout")]  # rewrapped
    return replies + [reply for block in blocks for reply in parse_replies(lines_to_wire(block))]


# -- replies -------------------------------------------------------------------------------


def test_every_fixture_reply_is_explained() -> None:
    replies = fixture_replies()
    assert len(replies) >= len(wire_files()) + len(provider_rows())  # one or more from each
    for reply in replies:
        [entry] = record(received(reply.raw))
        lines = explanation(entry)
        code_line = 3 if provider_advice(reply) else 0  # after who, why and fix
        assert lines[code_line].startswith(f"{reply.code}  "), reply
        assert all(line.strip() and "\n" not in line for line in lines), reply


def test_code_and_enhanced_code() -> None:
    lines = explained(b"550 5.1.1 <nobody@example.org>: Recipient address rejected\r\n")
    assert lines == [
        f"550  {explain_code(550)}",
        "5.1.1  Permanent failure · Addressing status · Bad destination mailbox address",
        "       The mailbox does not exist: the part before the @ is invalid.",
    ]


def test_an_enhanced_code_outside_the_registry_says_so() -> None:
    lines = explained(b"451 4.3.99 something local\r\n")
    assert lines[1] == "4.3.99  Persistent transient failure · Mail system status · not registered"
    assert lines[2].startswith(" " * 8) and "not in the IANA registry" in lines[2]


def test_a_code_rfc_5321_does_not_define() -> None:
    [line] = explained(b"299 fine, I guess\r\n")
    assert line.startswith("299  Not a standard reply code.")


def test_notes_follow_the_codes() -> None:
    qmail = explained(b"451 Message temporarily deferred - [160] (#4.1.8)\r\n")
    assert qmail[1].startswith("4.1.8  ") and len(qmail) == 4
    assert qmail[3] == "The enhanced code 4.1.8 is at the end of the text, qmail style."
    microsoft = explained(b"550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found\r\n")
    assert microsoft[0] == "Microsoft 365: the recipient cannot be found."  # its advice first
    assert microsoft[3].startswith("550  ") and len(microsoft) == 7
    assert microsoft[6].startswith("Microsoft 365 sends 5.1.10")


def test_flags_are_warnings_at_the_end() -> None:
    [entry] = record(received(b"421 bye\n", unsolicited=True))
    assert explanation(entry)[-2:] == [f"⚠ {FLAG_BARE_LF}", f"⚠ {FLAG_UNSOLICITED}"]


def test_a_decoded_challenge_adds_nothing() -> None:
    entries = record(sent(b"AUTH LOGIN\r\n"), received(b"334 VXNlcm5hbWU6\r\n"))
    assert entries[1].note == "challenge: Username:"
    assert explanation(entries[1]) == [f"334  {explain_code(334)}"]


# -- commands ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "EHLO client.example",
        "HELO client.example",
        "STARTTLS",
        "AUTH CRAM-MD5",
        "MAIL FROM:<a@example.com>",
        "RCPT TO:<b@example.org>",
        "DATA",
        "BDAT 1000 LAST",
        "RSET",
        "NOOP",
        "QUIT",
        "VRFY bob",
        "EXPN staff",
        "HELP DATA",
    ],
)
def test_each_command_says_what_it_does(line: str) -> None:
    [entry] = record(sent(line.encode() + b"\r\n"))
    [what] = explanation(entry)
    assert what.startswith(line.split()[0].removesuffix(":"))
    assert "not a command" not in what


def test_mail_from_explains_the_sender_and_each_parameter() -> None:
    [entry] = record(
        sent(b"MAIL FROM:<a@example.com> SIZE=1234 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x1\r\n")
    )
    lines = explanation(entry)
    assert lines[0] == (
        "MAIL FROM starts a mail transaction and names the envelope sender (the bounce address)"
    )
    assert [line.split("  ")[0] for line in lines[1:]] == [
        "SIZE=1234",
        "BODY=8BITMIME",
        "SMTPUTF8",
        "RET=HDRS",
        "ENVID=x1",
    ]
    assert "RFC 1870" in lines[1] and "RFC 6152" in lines[2] and "RFC 6531" in lines[3]
    assert all("belongs to" not in line for line in lines)


def test_rcpt_parameters_and_misplaced_or_unknown_ones() -> None:
    [entry] = record(
        sent(b"rcpt to:<b@example.org> NOTIFY=FAILURE,DELAY ORCPT=rfc822;b@x RET=FULL XFOO=1\r\n")
    )
    lines = explanation(entry)
    assert lines[0].startswith("RCPT TO adds one envelope recipient")
    notify, orcpt, ret, unknown = lines[1:]
    assert notify.startswith("NOTIFY=FAILURE,DELAY  when to send a DSN") and "RFC 3461" in notify
    assert orcpt.startswith("ORCPT=rfc822;b@x  the original recipient")
    assert ret.endswith("— but it belongs to MAIL, not RCPT")
    assert unknown.startswith("XFOO=1  a parameter smtptui does not describe")


@pytest.mark.parametrize(
    ("word", "words"),
    [
        ("SIZE=1234", "the message's size in bytes"),
        ("BODY=7BIT", "7-bit ASCII"),
        ("BODY=8bitmime", "may hold 8-bit octets"),
        ("BODY=BINARYMIME", "binary: any octets"),
        ("BODY=9BIT", "the body's type: 7BIT, 8BITMIME"),
        ("SMTPUTF8", "may be UTF-8 (RFC 6531)"),
        ("RET=FULL", "returns FULL"),
        ("ENVID=QQ314159", 'decoded: "QQ314159"'),
        ("ENVID=id+3D1+2B2+20+C3+A9", 'decoded: "id=1+2 é"'),
        ("REQUIRETLS", "verified TLS, or bounce it (RFC 8689)"),
    ],
)
def test_each_mail_parameter_is_explained(word: str, words: str) -> None:
    [entry] = record(sent(f"MAIL FROM:<a@example.com> {word}\r\n".encode()))
    [_, line] = explanation(entry)
    assert line.startswith(f"{word}  ") and words in line
    assert "belongs to" not in line


@pytest.mark.parametrize(
    ("word", "words"),
    [
        (
            "NOTIFY=SUCCESS,FAILURE",
            "when to send a DSN: NEVER, or SUCCESS, FAILURE, DELAY (RFC 3461)",
        ),
        ("NOTIFY=NEVER", "DELAY (RFC 3461)"),
        ("ORCPT=rfc822;bob+2Btag@example.org", 'decoded: rfc822;"bob+tag@example.org"'),
        ("ORCPT=x400;c+3DUS;a+3DX", 'decoded: x400;"c=US;a=X"'),
        ("ORCPT=nosemicolon", "the original recipient address, quoted in DSN reports (RFC 3461)"),
    ],
)
def test_each_rcpt_parameter_is_explained(word: str, words: str) -> None:
    [entry] = record(sent(f"RCPT TO:<b@example.org> {word}\r\n".encode()))
    [_, line] = explanation(entry)
    assert line.startswith(f"{word}  ") and line.endswith(words)


def test_a_decoded_value_is_made_visible() -> None:
    [entry] = record(sent(b"MAIL FROM:<a@example.com> ENVID=a+1Bb+FF\r\n"))
    [_, line] = explanation(entry)
    assert line.endswith('decoded: "a\\x1bb\\xff"')


def test_an_unknown_command() -> None:
    [entry] = record(sent(b"XFORWARD ADDR=192.0.2.1\r\n", SentKind.RAW))
    assert explanation(entry) == ["XFORWARD: not a command smtptui describes; see the reply"]


def test_secrets_are_explained_without_showing_them() -> None:
    entries = record(
        sent(b"AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n", SentKind.SASL, "AUTH PLAIN x"),
        received(b"535 no\r\n"),
        sent(b"AUTH LOGIN YWxpY2U=\r\n", SentKind.SASL, "AUTH LOGIN username: alice"),
        received(b"334 UGFzc3dvcmQ6\r\n"),
        sent(b"d29uZGVybGFuZA==\r\n", SentKind.SASL, "password: ••••••••"),
    )
    plain, login, password = (entries[0], entries[2], entries[4])
    assert explanation(plain) == [
        "AUTH authenticates the client with a SASL mechanism (RFC 4954), here PLAIN",
        MASKED_RESPONSE,
    ]
    assert explanation(login)[1] == MASKED_RESPONSE
    assert (
        explanation(password)
        == [MASKED_RESPONSE]
        == ["a SASL response (masked; press r to reveal)"]
    )
    shown = "\n".join(line for entry in entries for line in explanation(entry))
    for secret in ("wonderland", "d29uZGVybGFuZA==", "AGFsaWNlAHdvbmRlcmxhbmQ="):
        assert secret not in shown


def test_a_message_body_gives_its_size() -> None:
    [entry] = record(sent(b"Subject: hi\r\n\r\nline one\r\n", SentKind.BODY))
    assert explanation(entry) == ["message data: 25 bytes in 3 lines"]
    [one] = record(sent(b"x", SentKind.BODY))
    assert explanation(one) == ["message data: 1 byte in 1 line"]


# -- errors and info -----------------------------------------------------------------------


def test_a_long_error_is_wrapped_and_its_bytes_shown() -> None:
    text = "multi-line reply changes its code from 250 to 251 " * 5
    entry = Entry.now(EntryKind.ERROR, text.strip(), b"250-first\r\n251 second\r\n")
    lines = explanation(entry)
    assert all(len(line) <= 96 for line in lines[:-1]) and len(lines) > 2
    assert " ".join(lines[:-1]) == text.strip()
    assert lines[-1] == "23 bytes: 250-first\\x0d\\x0a251 second\\x0d\\x0a"


def test_offending_bytes_are_cut_at_200_characters() -> None:
    entry = Entry.now(EntryKind.ERROR, "reply line too long", b"x" * 5000)
    assert explanation(entry) == ["reply line too long", "5,000 bytes: " + "x" * 200 + "…"]


def test_an_info_entry_is_explained_by_its_whole_text() -> None:
    long = "⚠ The credentials went to a server whose certificate was not verified: " * 2
    assert explanation(Entry.now(EntryKind.INFO, long)) == [long]  # whole, for the view to wrap


# -- TLS -----------------------------------------------------------------------------------


async def tls_entry(
    server: EmbeddedServer, context: ssl.SSLContext | None, **changes: object
) -> Entry:
    controller = SessionController(settings_for(server, context, **changes))
    await ready(controller)
    [entry] = [entry for entry in controller.transcript if entry.kind is EntryKind.TLS]
    return entry


async def test_a_verified_handshake(server, client_tls_context) -> None:
    entry = await tls_entry(server, client_tls_context)
    info = entry.tls_info
    assert info is not None and info.leaf is not None
    lines = explanation(entry)
    assert lines[0] == f"protocol     {info.version}, {info.cipher}, {info.bits}-bit key"
    assert lines[1] == f"subject      {info.leaf.subject}"
    assert lines[2] == f"issuer       {info.leaf.issuer}"
    assert lines[3] == f"valid until  {info.leaf.not_after.date().isoformat()}"
    assert lines[4] == "names        DNS:localhost, IP:127.0.0.1, IP:::1"
    assert lines[5:] == [f"verification {info.verify_note}", "Enter opens the certificate chain"]
    assert info.verify_note == "chain and name 127.0.0.1 verified"


async def test_an_expired_certificate_with_many_names(
    make_server: Callable[..., EmbeddedServer], ca: trustme.CA, client_tls_context
) -> None:
    now = dt.datetime.now(dt.UTC)
    names = [f"host{number}.example" for number in range(5)]
    cert = ca.issue_cert(
        "localhost",
        "127.0.0.1",
        *names,
        not_before=now - dt.timedelta(days=9),
        not_after=now - dt.timedelta(days=1),
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    entry = await tls_entry(make_server(tls_context=context), None, verify=False)
    lines = explanation(entry)
    assert lines[3].endswith(" (expired)")
    shown = "DNS:localhost, DNS:host0.example, DNS:host1.example, DNS:host2.example +3 more"
    assert lines[4] == f"names        {shown}"
    assert "not verified" in lines[-2]


def test_a_tls_entry_without_details_has_nothing_to_expand() -> None:
    entry = Entry(EntryKind.TLS, time.monotonic(), dt.datetime.now(dt.UTC), "TLS established")
    assert explanation(entry) == []
