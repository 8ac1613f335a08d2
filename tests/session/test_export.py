"""Exports: the formats, file names, and files written with secrets kept out."""

from __future__ import annotations

import base64
import json
import stat
from datetime import datetime
from pathlib import Path

import pytest

from smtptui.server import EmbeddedServer
from smtptui.session import (
    Authenticate,
    Connect,
    Entry,
    EntryKind,
    ExportFormat,
    SendMessage,
    SessionController,
    Transcript,
    default_filename,
    export,
    to_jsonl,
    to_swaks,
    write_export,
)
from smtptui.session.recorder import FLAG_BARE_LF, FLAG_NOT_UTF8

from support.events import received, record, sent
from support.sessions import ready, settings_for

PASSWORD_FORMS = ("wonderland", "d29uZGVybGFuZA==", "AGFsaWNlAHdvbmRlcmxhbmQ=")
"""The password, LOGIN's base64 of it, and PLAIN's base64 of NUL alice NUL wonderland."""

WHEN = datetime(2026, 11, 28, 23, 30, 0)


def transcript_of(number: int, title: str, *entries: Entry) -> Transcript:
    transcript = Transcript(number, title)
    for entry in entries:
        transcript.append(entry)
    return transcript


def test_export_dispatches_on_the_format() -> None:
    entries = record(sent(b"NOOP\r\n"), received(b"250 ok\r\n"))
    assert export(entries, ExportFormat.SWAKS) == to_swaks(entries) == " -> NOOP\n<-  250 ok\n"
    assert export(entries, ExportFormat.JSONL) == to_jsonl(entries)
    assert [ExportFormat.SWAKS.suffix, ExportFormat.JSONL.suffix] == [".txt", ".jsonl"]


def test_json_records_carry_flags_only_when_there_are_some() -> None:
    entries = record(received(b"250 caf\xe9\n"), received(b"250 ok\r\n"))
    odd, clean = (json.loads(line) for line in to_jsonl(entries).splitlines())
    assert odd["flags"] == [FLAG_BARE_LF, FLAG_NOT_UTF8]
    assert "flags" not in clean and "tls_info" not in clean


async def test_json_records_carry_the_handshake(server, client_tls_context) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    await ready(controller)
    [tls] = [entry for entry in controller.transcript if entry.kind is EntryKind.TLS]
    assert tls.tls_info is not None and tls.tls_info.leaf is not None
    [record] = [json.loads(line) for line in to_jsonl([tls]).splitlines()]
    info = record["tls_info"]
    assert info["version"] == tls.tls_info.version and info["version"].startswith("TLSv1")
    assert info["cipher"] == tls.tls_info.cipher and info["bits"] >= 128
    assert info["server_hostname"] == "127.0.0.1"
    assert info["verified"] is True and info["verify_note"] == tls.tls_info.verify_note
    leaf = info["chain"][0]
    assert leaf["subject"] == tls.tls_info.leaf.subject
    assert leaf["issuer"] == tls.tls_info.leaf.issuer and leaf["self_signed"] is False
    assert leaf["sans"] == ["DNS:localhost", "IP:127.0.0.1", "IP:::1"]
    assert datetime.fromisoformat(leaf["not_after"]) == tls.tls_info.leaf.not_after
    assert datetime.fromisoformat(leaf["not_before"]) == tls.tls_info.leaf.not_before
    assert int(leaf["serial"], 16) == tls.tls_info.leaf.serial
    assert leaf["fingerprint"] == tls.tls_info.leaf.fingerprint and leaf["fingerprint"][2] == ":"
    assert (leaf["key_type"], leaf["key_bits"], leaf["curve"]) == ("EC", 256, "secp256r1")
    assert leaf["signature_algorithm"] == "ecdsa-with-SHA256"
    assert leaf["is_ca"] is False and leaf["ca_issuers"] == []
    assert info["whole_chain"] is True and info["chain_complete"] is True
    assert base64.b64decode(leaf["der"]) == tls.tls_info.leaf.der  # for smtptui open
    assert "pem" not in leaf  # --save-chain writes PEM


async def test_json_records_carry_the_group_and_what_each_reply_answers(
    server: EmbeddedServer, client_tls_context
) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    await ready(controller)
    start = len(controller.transcript)
    outcome = await controller.run(SendMessage("a@example.org", ("b@example.org",), b"x\r\n"))
    assert outcome.ok
    records = [
        json.loads(line) for line in to_jsonl(list(controller.transcript)[start:]).splitlines()
    ]
    commands = [r for r in records if r["kind"] == "sent" and not r.get("body")]
    groups = {r.get("group") for r in commands}
    assert [r["text"].split(":")[0] for r in commands] == ["MAIL FROM", "RCPT TO", "DATA"]
    assert len(groups) == 1 and None not in groups  # one pipelined write
    answers = [r["answers"] for r in records if r["kind"] == "received"]
    assert answers == [
        "MAIL FROM:<a@example.org>",
        "RCPT TO:<b@example.org>",
        "DATA",
        "message data",
    ]


@pytest.mark.parametrize(
    ("title", "fmt", "name"),
    [
        ("127.0.0.1:2525", ExportFormat.SWAKS, "smtptui-127.0.0.1-2525-20261128-233000.txt"),
        (
            "mx.example.org:25",
            ExportFormat.JSONL,
            "smtptui-mx.example.org-25-20261128-233000.jsonl",
        ),
        ("[::1]:25", ExportFormat.SWAKS, "smtptui----1--25-20261128-233000.txt"),
        ("../étrange/host", ExportFormat.SWAKS, "smtptui-..--trange-host-20261128-233000.txt"),
        ("", ExportFormat.JSONL, "smtptui-session-20261128-233000.jsonl"),
    ],
)
def test_default_filename(title: str, fmt: ExportFormat, name: str) -> None:
    assert default_filename(Transcript(1, title), fmt, WHEN) == name


def test_one_transcript_is_written_without_a_heading(tmp_path: Path) -> None:
    entries = record(sent(b"NOOP\r\n"), received(b"250 ok\r\n"))
    transcript = transcript_of(1, "mx.example:25", *entries)
    path = tmp_path / "one.txt"
    assert write_export(path, [transcript], ExportFormat.SWAKS) == 2
    assert path.read_text("utf-8") == to_swaks(entries)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not transcript.unsaved


def test_several_transcripts_are_told_apart(tmp_path: Path) -> None:
    first = transcript_of(1, "mx.example:25", *record(sent(b"NOOP\r\n"), received(b"250 a\r\n")))
    second = transcript_of(2, "", *record(sent(b"QUIT\r\n")))
    path = tmp_path / "two.txt"
    assert write_export(path, [first, second], ExportFormat.SWAKS) == 3
    assert path.read_text("utf-8").splitlines() == [
        "=== connection 1: mx.example:25",
        " -> NOOP",
        "<-  250 a",
        "=== connection 2",
        " -> QUIT",
    ]

    first.append(Entry.now(EntryKind.SENT, "RSET"))
    path = tmp_path / "two.jsonl"
    path.write_text("an older, longer file that must not survive" * 10)
    assert write_export(path, [first, second], ExportFormat.JSONL) == 4
    records = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert [(r["connection"], r["text"]) for r in records] == [
        (1, "NOOP"),
        (1, "250 a"),
        (1, "RSET"),
        (2, "QUIT"),
    ]
    assert records[0]["t"] == 0.0 and all(r["t"] >= 0 for r in records)
    assert not first.unsaved and not second.unsaved


def test_a_file_that_cannot_be_written_raises_and_stays_unsaved(tmp_path: Path) -> None:
    transcript = transcript_of(1, "mx.example:25", *record(sent(b"NOOP\r\n")))
    with pytest.raises(OSError):
        write_export(tmp_path / "no-such-folder" / "x.txt", [transcript], ExportFormat.SWAKS)
    assert transcript.unsaved


async def test_written_files_of_a_real_session_keep_the_password_out(
    server: EmbeddedServer, client_tls_context, tmp_path: Path
) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    for mechanism in ("PLAIN", "LOGIN"):  # one connection each: a second AUTH gets a 503
        await ready(controller)
        assert (await controller.run(Authenticate(mechanism))).ok
    assert [len(transcript) > 0 for transcript in controller.transcripts] == [True, True]
    sent_lines = [e.text for t in controller.transcripts for e in t if e.kind is EntryKind.SENT]
    assert "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=" in sent_lines and "d29uZGVybGFuZA==" in sent_lines
    assert controller.unsaved

    for fmt in ExportFormat:
        masked, revealed = tmp_path / f"masked{fmt.suffix}", tmp_path / f"revealed{fmt.suffix}"
        count = write_export(masked, controller.transcripts, fmt)
        assert count == sum(len(transcript) for transcript in controller.transcripts)
        assert not controller.unsaved
        write_export(revealed, controller.transcripts, fmt, redact=False)
        text = masked.read_text("utf-8")
        assert "password=••••••••" in text  # PLAIN's, masked
        assert "username: alice" in text and "password: ••••••••" in text  # LOGIN's
        for secret in PASSWORD_FORMS:
            assert secret not in text
        shown = revealed.read_text("utf-8")
        assert "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=" in shown and "d29uZGVybGFuZA==" in shown
        assert "\\x00alice" not in shown  # the revealed reading is for the screen only

    assert (await controller.run(Connect())).ok
    assert controller.unsaved  # a third connection, not yet saved
