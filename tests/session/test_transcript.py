"""Transcript entries from the client's events, the transcript itself, and the swaks and
JSON Lines exports."""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtptui.engine.events import Closed, Finding, Sent, SentKind
from smtptui.session import (
    Authenticate,
    Connect,
    Ehlo,
    Entry,
    EntryKind,
    Raw,
    SessionController,
    StartTls,
    Transcript,
    swaks_lines,
    to_jsonl,
    to_swaks,
)
from smtptui.session.recorder import FLAG_BARE_LF, FLAG_NOT_UTF8, FLAG_UNSOLICITED
from smtptui.session.transcript import body_text
from smtptui.session.transcript_lines import FOLD_AT, entry_lines

from support.events import received, record, sent
from support.fuzz import examples
from support.hostile import HOSTILE_TEXT, raw
from support.sessions import ready, settings_for

SECRETS = ("wonderland", "d29uZGVybGFuZA==", "AGFsaWNlAHdvbmRlcmxhbmQ=")


def exports(entries: list[Entry], *, redact: bool = True) -> str:
    return to_swaks(entries, redact=redact) + to_jsonl(entries, redact=redact)


def test_reply_text_keeps_raw_lines_and_escapes_what_is_not_text() -> None:
    [entry] = record(received(b"250-caf\xe9\r\n250-\x1b[31mred\r\n250 bare\n"))
    assert entry.kind is EntryKind.RECEIVED
    assert entry.text == "250-caf\\xe9\n250-\\x1b[31mred\n250 bare"
    assert entry.data == b"250-caf\xe9\r\n250-\x1b[31mred\r\n250 bare\n"
    assert entry.reply is not None and entry.reply.code == 250
    assert entry.latency == 0.002
    assert entry.wall.tzinfo is not None
    assert entry.flags == (FLAG_BARE_LF, FLAG_NOT_UTF8)


def test_a_clean_reply_has_no_flags() -> None:
    [entry] = record(received("250 café ok\r\n".encode()))
    assert entry.flags == () and entry.note == ""


def test_unsolicited_reply_is_flagged() -> None:
    [entry] = record(received(b"421 shutting down\r\n", unsolicited=True))
    assert entry.latency is None and entry.note == ""
    assert entry.flags == (FLAG_UNSOLICITED,)


def test_message_body_is_one_entry() -> None:
    body = b"Subject: hi\r\n\r\nline one\r\n.dot\r\n"
    entries = record(sent(b"DATA\r\n"), received(b"354 go\r\n"), sent(body, SentKind.BODY))
    entry = entries[-1]
    assert entry.body and entry.data == body
    assert entry.text == "Subject: hi\n\nline one\n.dot"
    assert swaks_lines(entry) == [" -> Subject: hi", " -> ", " -> line one", " -> .dot", " -> ."]


def test_large_body_is_stored_once() -> None:
    body = b"x" * 998 + b"\r\n"
    body *= 20_000  # 20 MB
    [entry] = record(sent(body, SentKind.BODY))
    assert entry.data is body and entry.text_from_data  # its text made when read, not kept
    assert len(entry.text) == len(body) - 20_001  # LF line ends, the last one dropped


@settings(max_examples=examples(300))
@given(
    st.lists(
        st.sampled_from(
            [b"a", b".", b"\t", b"\r", b"\n", b"\r\n", b"\x1b", b"\xe2\x82", b"\xac", b"\xff"]
        )
    )
)
def test_a_folded_body_made_from_its_bytes_shows_its_texts_lines(pieces: list[bytes]) -> None:
    """The first lines and the count of the rest, made from the bytes alone (the text of a
    20 MB body is not made to draw them), are the text's; the same for a text given."""
    data = b"".join(pieces)
    [made] = record(sent(data, SentKind.BODY))
    given_text = dataclasses.replace(made, text=body_text(data))
    assert made.text_from_data and not given_text.text_from_data
    lines = made.text.split("\n")
    for entry in (made, given_text):
        shown = entry_lines(entry)
        assert shown[-1] == "."
        if len(lines) <= FOLD_AT:
            assert shown[:-1] == [line.expandtabs() for line in lines]
        else:
            assert shown[:FOLD_AT] == [line.expandtabs() for line in lines[:FOLD_AT]]
            more = len(lines) - FOLD_AT
            assert shown[FOLD_AT].startswith(f"… {more:,} more line{'s' * (more > 1)}, ")


def test_finding_is_an_error_entry() -> None:
    [entry] = record(Finding("discarded 12 bytes of plaintext", b"250 injected", time.monotonic()))
    assert entry.kind is EntryKind.ERROR and entry.data == b"250 injected"
    assert to_swaks([entry]) == "*** discarded 12 bytes of plaintext\n"


def test_sasl_steps_are_masked_and_challenges_decoded() -> None:
    entries = record(
        sent(b"AUTH LOGIN\r\n"),
        received(b"334 VXNlcm5hbWU6\r\n"),
        sent(b"YWxpY2U=\r\n", SentKind.SASL, "username: alice"),
        received(b"334 UGFzc3dvcmQ6\r\n"),
        sent(b"d29uZGVybGFuZA==\r\n", SentKind.RAW),  # typed by hand: no note, masked anyway
        received(b"235 2.7.0 ok\r\n"),
        sent(b"AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n", SentKind.RAW),
        received(b"235 2.7.0 ok\r\n"),
        sent(b"NOOP\r\n", SentKind.RAW),
    )
    assert [entry.note for entry in entries[1:4:2]] == [
        "challenge: Username:",
        "challenge: Password:",
    ]
    assert [entry.shown() for entry in entries if entry.kind is EntryKind.SENT] == [
        "AUTH LOGIN",
        "username: alice",
        "••••••••",
        "AUTH PLAIN ••••••••",
        "NOOP",
    ]
    assert (
        entries[4].text == "d29uZGVybGFuZA==" and entries[4].shown(redact=False) == entries[4].text
    )
    assert not entries[-1].secret
    for secret in SECRETS[1:]:
        assert secret not in exports(entries)
        assert secret in exports(entries, redact=False)


def test_secrets_are_revealed_decoded_and_only_secrets() -> None:
    xoauth2 = base64.b64encode(b"user=alice\x01auth=Bearer t0ken\x01\x01")
    entries = record(
        sent(b"AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n", SentKind.SASL, "AUTH PLAIN x"),
        received(b"235 ok\r\n"),
        sent(b"AUTH LOGIN YWxpY2U=\r\n", SentKind.SASL, "AUTH LOGIN username: alice"),
        received(b"334 UGFzc3dvcmQ6\r\n"),
        sent(b"d29uZGVybGFuZA==\r\n", SentKind.SASL, "password: ••••••••"),
        received(b"535 no\r\n"),
        sent(b"AUTH XOAUTH2 " + xoauth2 + b"\r\n", SentKind.SASL),
        received(b"334 eyJzdGF0dXMiOiI0MDEifQ==\r\n"),
        sent(b"\r\n", SentKind.SASL),
        received(b"535 no\r\n"),
        sent(b"AUTH LOGIN\r\n"),
        received(b"334 VXNlcm5hbWU6\r\n"),
        sent(b"*\r\n", SentKind.RAW),  # not base64: shown as sent
        received(b"501 cancelled\r\n"),
    )
    revealed = [entry.revealed for entry in entries if entry.kind is EntryKind.SENT]
    assert revealed == [
        "AUTH PLAIN \\x00alice\\x00wonderland",
        "AUTH LOGIN alice",
        "wonderland",
        "AUTH XOAUTH2 user=alice\\x01auth=Bearer t0ken\\x01\\x01",
        "(empty)",
        None,
        "*",
    ]
    assert all(entry.revealed is None for entry in entries if entry.kind is EntryKind.RECEIVED)
    assert "t0ken" not in exports(entries)
    for secret in SECRETS:
        assert secret not in exports(entries)
    assert "\\x00alice" not in exports(entries, redact=False)  # revealed is never exported


def test_a_334_outside_auth_is_not_decoded() -> None:
    entries = record(sent(b"NOOP\r\n"), received(b"334 VXNlcm5hbWU6\r\n"), sent(b"RSET\r\n"))
    assert entries[1].note == "" and not entries[2].secret


def test_swaks_markers() -> None:
    entries = [
        Entry.now(EntryKind.INFO, "Connecting"),
        *record(sent(b"EHLO me\r\n"), received(b"250-hi\r\n250 STARTTLS\r\n")),
        Entry.now(EntryKind.TLS, "TLS established"),
        *record(Sent(SentKind.COMMAND, b"EHLO me\r\n", time.monotonic(), True)),
        *record(received(b"250 hi\r\n", tls=True)),
        Entry.now(EntryKind.ERROR, "cancelled"),
        *record(Closed("closed by the client", time.monotonic())),
    ]
    assert to_swaks(entries).splitlines() == [
        "=== Connecting",
        " -> EHLO me",
        "<-  250-hi",
        "<-  250 STARTTLS",
        "=== TLS established",
        " ~> EHLO me",
        "<~  250 hi",
        "*** cancelled",
        "=== Connection closed: closed by the client",
    ]


def test_jsonl_fields() -> None:
    entries = record(sent(b"NOOP\r\n"), received(b"250 caf\xe9\r\n"))
    lines = to_jsonl(entries).splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first == {
        "kind": "sent",
        "wall": first["wall"],
        "t": 0.0,
        "tls": False,
        "latency": None,
        "text": "NOOP",
        "data": "NOOP\r\n",
        "encoding": "utf-8",
    }
    assert datetime.fromisoformat(first["wall"]).tzinfo is not None
    assert second["t"] >= 0 and second["code"] == 250 and second["latency"] == 0.002
    assert second["encoding"] == "base64"
    assert base64.b64decode(second["data"]) == b"250 caf\xe9\r\n"
    assert to_jsonl([]) == ""


def test_transcript_list_and_subscribers() -> None:
    transcript = Transcript()
    seen: list[Entry] = []
    unsubscribe = transcript.subscribe(seen.append)
    first, second = Entry.now(EntryKind.INFO, "one"), Entry.now(EntryKind.INFO, "two")
    transcript.append(first)
    unsubscribe()
    transcript.append(second)
    assert seen == [first]
    assert len(transcript) == 2 and list(transcript) == [first, second]
    assert transcript[-1] is second
    transcript.clear()
    assert len(transcript) == 0


def test_extend_appends_each_entry_and_tells_every_subscriber_in_order() -> None:
    transcript = Transcript()
    first: list[Entry] = []
    second: list[Entry] = []
    transcript.subscribe(first.append)
    transcript.subscribe(second.append)
    entries = [Entry.now(EntryKind.INFO, "one"), Entry.now(EntryKind.INFO, "two")]
    transcript.extend(entries)
    assert list(transcript) == entries == first == second
    assert not transcript.unsaved and not transcript.has_dialogue
    transcript.extend([])
    transcript.extend([Entry.now(EntryKind.SENT, "NOOP"), Entry.now(EntryKind.INFO, "x")])
    assert transcript.has_dialogue and transcript.unsaved == 4
    transcript.mark_saved()
    transcript.extend([Entry.now(EntryKind.RECEIVED, "250 ok")])
    assert transcript.unsaved == 1 and first == second == list(transcript)


def test_transcript_number_title_and_unsaved() -> None:
    transcript = Transcript()
    assert (transcript.number, transcript.title) == (1, "")
    assert Transcript(3, "mx.example:25").number == 3
    for kind in (EntryKind.INFO, EntryKind.ERROR):
        transcript.append(Entry.now(kind, "not dialogue"))
    assert not transcript.unsaved and not transcript.has_dialogue
    for kind in (EntryKind.SENT, EntryKind.RECEIVED, EntryKind.TLS):
        transcript.mark_saved()
        transcript.append(Entry.now(kind, "dialogue"))
        assert transcript.unsaved, kind
    transcript.mark_saved()
    assert not transcript.unsaved and transcript.has_dialogue
    transcript.append(Entry.now(EntryKind.INFO, "closed"))
    assert not transcript.unsaved
    transcript.append(Entry.now(EntryKind.SENT, "NOOP"))
    assert transcript.unsaved == 2  # the entries since the save, once dialogue is among them
    transcript.clear()
    assert not transcript.unsaved and not transcript.has_dialogue


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5"])
async def test_exports_of_a_real_session_keep_the_password_out(
    server, client_tls_context, mechanism: str
) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    await ready(controller)
    assert (await controller.run(Authenticate(mechanism))).ok
    entries = list(controller.transcript)

    swaks = to_swaks(entries)
    assert " -> EHLO client.example\n" in swaks and " -> STARTTLS\n" in swaks
    assert " ~> EHLO client.example\n" in swaks and "<~  235 " in swaks
    assert all(json.loads(line)["kind"] for line in to_jsonl(entries).splitlines())
    assert len(to_jsonl(entries).splitlines()) == len(entries)
    for secret in SECRETS:
        assert secret not in exports(entries)
    revealed = exports(entries, redact=False)
    if mechanism == "PLAIN":
        assert "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=" in revealed
    if mechanism == "LOGIN":
        assert "d29uZGVybGFuZA==" in revealed


async def test_raw_sasl_exchange_against_the_server(server, client_tls_context) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    for action in (Connect(), Ehlo(), StartTls(), Ehlo()):
        await controller.run(action)
    for line in ("AUTH LOGIN", "YWxpY2U=", "d29uZGVybGFuZA=="):
        assert (await controller.run(Raw(line))).ok
    entries = list(controller.transcript)
    notes = [entry.note for entry in entries if entry.note]
    assert notes == ["challenge: User Name\\x00", "challenge: Password\\x00"]  # aiosmtpd's
    assert entries[-1].reply is not None and entries[-1].reply.code == 235
    for secret in SECRETS:
        assert secret not in exports(entries)
    assert "d29uZGVybGFuZA==" in exports(entries, redact=False)


def test_a_transcript_title_is_made_visible_however_it_is_set() -> None:
    """A title is a peer's name, an MX host or a saved file's heading: drawn in tabs."""
    transcript = Transcript(1, f"mx{HOSTILE_TEXT}")
    assert "pwned" in transcript.title and not raw(transcript.title, keep="")
    transcript.title = f"peer{HOSTILE_TEXT}"
    assert transcript.title.startswith("peer") and not raw(transcript.title, keep="")
