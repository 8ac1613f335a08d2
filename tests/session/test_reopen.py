"""Exports read back: a real session exported, opened and exported again gives the same
bytes; swaks' own output reads as transcripts; a bad line is named, never a traceback."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import FrozenInstanceError, fields, is_dataclass
from datetime import UTC, datetime
from inspect import signature
from pathlib import Path

import pytest

from smtptui.protocol.dialogue import Command
from smtptui.protocol.replies import ReplyParser
from smtptui.server import EmbeddedServer
from smtptui.session import (
    Authenticate,
    EntryKind,
    ExportFormat,
    Quit,
    SendMessage,
    SessionController,
    Transcript,
    write_export,
)
from smtptui.session.diff import diff_sessions
from smtptui.session.reopen import (
    ReadError,
    Reading,
    _new_entry,
    parse_swaks,
    read_transcripts,
)
from smtptui.session.transcript import Entry

from support.hostile import HOSTILE_TEXT, hostile_export, raw
from support.sessions import ready, settings_for

SWAKS = Path(__file__).resolve().parents[1] / "data" / "swaks"


async def two_connections(server: EmbeddedServer, context) -> list[Transcript]:
    """A real session: STARTTLS, AUTH, a message pipelined, QUIT; then a second connection."""
    controller = SessionController(settings_for(server, context))
    await ready(controller)
    assert (await controller.run(Authenticate("PLAIN"))).ok
    message = SendMessage("a@example.org", ("b@example.org", "c@example.org"), b"Hi\r\n.dot\r\n")
    assert (await controller.run(message)).ok
    assert (await controller.run(Quit())).ok
    await ready(controller)
    assert len(controller.transcripts) == 2
    return list(controller.transcripts)


@pytest.mark.parametrize("fmt", [ExportFormat.JSONL, ExportFormat.SWAKS])
async def test_export_open_export_gives_the_same_bytes(
    server: EmbeddedServer, client_tls_context, tmp_path: Path, fmt: ExportFormat
) -> None:
    first, again = tmp_path / f"first{fmt.suffix}", tmp_path / f"again{fmt.suffix}"
    write_export(first, await two_connections(server, client_tls_context), fmt)
    opened = read_transcripts(first)
    assert [transcript.number for transcript in opened] == [1, 2]
    write_export(again, opened, fmt)
    assert again.read_bytes() == first.read_bytes()


async def test_jsonl_gives_back_replies_tls_and_the_certificate(
    server: EmbeddedServer, client_tls_context, tmp_path: Path
) -> None:
    transcripts = await two_connections(server, client_tls_context)
    path = tmp_path / "session.jsonl"
    write_export(path, transcripts, ExportFormat.JSONL)
    opened = read_transcripts(path)
    for before, after in zip(transcripts[0], opened[0], strict=True):
        assert (after.kind, after.shown(), after.tls, after.latency) == (
            before.kind,
            before.shown(),
            before.tls,
            before.latency,
        )
        assert after.reply == before.reply
        assert (after.command and after.command.label) == (
            before.command and before.command.label
        ) or after.kind is not EntryKind.RECEIVED
    [tls] = [entry for entry in opened[0] if entry.tls_info is not None]
    [live] = [entry for entry in transcripts[0] if entry.tls_info is not None]
    assert tls.tls_info is not None and live.tls_info is not None
    assert tls.tls_info.leaf is not None and live.tls_info.leaf is not None
    assert tls.tls_info.leaf.der == live.tls_info.leaf.der  # the PEM can be saved again
    assert tls.tls_info == live.tls_info
    secrets = [entry for entry in opened[0] if entry.secret]
    assert secrets and all("wonderland" not in entry.text for entry in secrets)
    # the pipelined MAIL, RCPTs and DATA: each reply answers the very command sent
    mail = next(entry for entry in opened[0] if entry.text.startswith("MAIL FROM"))
    answer = next(entry for entry in opened[0] if entry.command is mail.command and entry.reply)
    assert mail.command is not None and mail.command.group and answer.reply.code == 250


async def test_an_older_export_without_der_still_shows_the_certificate(
    server: EmbeddedServer, client_tls_context, tmp_path: Path
) -> None:
    path = tmp_path / "old.jsonl"
    write_export(path, await two_connections(server, client_tls_context), ExportFormat.JSONL)
    lines = []
    for line in path.read_text("utf-8").splitlines():
        record = json.loads(line)
        for certificate in record.get("tls_info", {}).get("chain", []):
            del certificate["der"]
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    path.write_text("".join(lines), "utf-8")
    [tls, *_] = [entry for entry in read_transcripts(path)[0] if entry.tls_info is not None]
    leaf = tls.tls_info.leaf if tls.tls_info else None
    assert leaf is not None and leaf.common_name == "" and leaf.der == b""
    assert leaf.sans == ("DNS:localhost", "IP:127.0.0.1", "IP:::1")


@pytest.mark.parametrize("name", ["plain", "starttls", "refused", "auth-pipeline"])
def test_swaks_own_output_reads_as_a_transcript(name: str) -> None:
    [transcript] = read_transcripts(SWAKS / f"{name}.txt")
    kinds = {entry.kind for entry in transcript}
    assert EntryKind.SENT in kinds and EntryKind.RECEIVED in kinds
    [ehlo, *_] = [entry for entry in transcript if entry.reply and entry.text.startswith("250-")]
    assert ehlo.reply is not None and len(ehlo.reply.lines) == 10
    bodies = [entry for entry in transcript if entry.body]
    if name == "refused":
        [refusal] = [entry for entry in transcript if entry.reply and entry.reply.code == 550]
        assert not bodies and "User unknown" in refusal.text
    else:
        [body] = bodies
        assert body.text.endswith("This is a test mailing\n\n") and body.dotted
    if name in ("starttls", "auth-pipeline"):
        assert any(entry.tls and entry.kind is EntryKind.RECEIVED for entry in transcript)


def test_swaks_text_round_trips_line_for_line() -> None:
    from smtptui.session import to_swaks

    text = (SWAKS / "auth-pipeline.txt").read_text("utf-8")
    [transcript] = parse_swaks(text)
    assert to_swaks(transcript) == text


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        (b'{"kind": "sent"}\n', 1, "missing field 'wall'"),
        (b'{"kind": "info", "wall": "x", "tls": false, "text": "", "data": ""}', 1, "isoformat"),
        (b'{"kind": "info", "wall": "", "tls": false, "text": "", "data": ""}', 1, "isoformat"),
        (b"{}\n[1]\n", 1, "missing field 'kind'"),
        (b'{"kind": "nope", "wall": "", "tls": false, "text": ""}', 1, "must be one of info,"),
        (b'{"kind": "info", "wall": "", "tls": 1, "text": ""}', 1, "'tls' must not be int"),
        (b'{"kind": "info", "wall": "", "tls": true, "text": "", "t": true}', 1, "'t' must not"),
        (b"{not json\n", 1, "Expecting property name"),
        (b" -> EHLO x\n<-  250-a\n -> MAIL\n", 2, "a reply's lines end without its last line"),
        (b" -> EHLO x\n\x1b[2Jhello\n", 2, "not a transcript line: '\\x1b[2Jhello'"),
        (b"<-  250-a\n", 1, "ends in the middle of a reply"),
    ],
)
def test_a_bad_line_is_named(tmp_path: Path, content: bytes, line: int, reason: str) -> None:
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(ReadError) as raised:
        read_transcripts(path)
    assert raised.value.line == line
    assert f"{path}:{line}: " in str(raised.value) and reason in str(raised.value)
    assert "\x1b" not in str(raised.value)


def test_hostile_bytes_are_made_visible(tmp_path: Path) -> None:
    record = {
        "kind": "received",
        "wall": "2026-12-06T15:00:00+00:00",
        "t": 0.0,
        "tls": False,
        "latency": 0.01,
        "text": "250 \x1b]0;owned\x07",
        "code": 250,
        "data": base64.b64encode(b"250 \x1b]0;owned\x07\xff\r\n").decode(),
        "encoding": "base64",
    }
    path = tmp_path / "hostile.jsonl"
    path.write_text(json.dumps(record) + "\n", "utf-8")
    [[entry]] = [list(transcript) for transcript in read_transcripts(path)]
    assert entry.text == "250 \\x1b]0;owned\\x07"
    assert entry.reply is not None and entry.reply.raw.endswith(b"\xff\r\n")


def strings(value: object) -> Iterator[str]:
    """Every string ``value`` holds, through dataclasses and tuples (a reply's own lines
    left out: they are its exact bytes, shown only through the entry's text)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from strings(item)
    elif is_dataclass(value):
        for each in fields(value):
            if each.name != "reply":
                yield from strings(getattr(value, each.name))


def test_every_name_read_back_is_made_visible(tmp_path: Path) -> None:
    """The transcript draws flags and the command a reply answers, the certificate screen
    and the diff a handshake's names: each is made visible as it is read, as the text is."""
    [transcript] = read_transcripts(hostile_export(tmp_path / "hostile.jsonl"))
    found = [text for entry in transcript for text in strings(entry)]
    assert len([text for text in found if "pwned" in text]) >= 14  # each name, still seen
    assert not raw("".join(found))
    [sent, answer, _] = transcript
    assert answer.flags and answer.command is not None and answer.command.recipient
    assert sent.command is not None and "pwned" in sent.command.label
    assert not raw(answer.command.label + sent.command.label)
    clean = read_transcripts(hostile_export(tmp_path / "clean.jsonl", ""))
    aligned = diff_sessions(clean, [transcript])
    changes = "".join(str(change) for each in aligned for change in each.changes)
    assert "pwned" in changes and not raw(changes)


def test_a_heading_of_swaks_text_is_made_visible() -> None:
    [transcript] = parse_swaks(f"=== connection 1: mx{HOSTILE_TEXT}\n -> NOOP\n<-  250 ok\n")
    assert transcript.title.startswith("mx") and not raw(transcript.title, keep="")


def test_a_missing_file_is_a_read_error(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="No such file"):
        read_transcripts(tmp_path / "absent.jsonl")


HOSTILE = {"text": "250 \x1b[2J ok", "redacted": "se\x07cret", "note": "a \x00 note"}


@pytest.mark.parametrize("hostile", [[*HOSTILE], ["text"], ["redacted"], ["note"], []])
def test_an_entry_read_back_is_the_one_its_fields_make(hostile: list[str]) -> None:
    """Entries read back are made without Entry's frozen __init__ (reopen._new_entry, for
    speed): held here to the constructor, every field apart, a field added to Entry too;
    each text field made visible when it alone needs it (printable ones are let through)."""
    values = {
        "kind": EntryKind.RECEIVED,
        "time": 1.5,
        "wall": datetime(2026, 12, 6, 15, tzinfo=UTC),
        "text": "250 ok",
        "data": b"250 ok\r\n",
        "tls": True,
        "latency": 0.25,
        "reply": ReplyParser().feed(b"250 ok\r\n")[0],
        "redacted": None,
        "note": "a note",
        "body": True,
        "flags": ("bare LF",),
        "tls_info": None,
        "typed": True,
        "command": Command("RCPT", "TO:<b@example.org>", 3),
        "chunk": True,
    }
    values |= {name: HOSTILE[name] for name in hostile}
    made = _new_entry(*values.values())
    names = [field.name for field in fields(Entry) if field.name != "revealed"]
    assert list(signature(_new_entry).parameters) == names == list(values)
    assert type(made) is Entry and made == Entry(**values)
    for name in ("text", "redacted", "note"):
        shown = getattr(made, name)
        assert (name in hostile) == (shown != values[name])
        assert shown is None or shown.isprintable()
    with pytest.raises(FrozenInstanceError):
        made.text = "changed"  # type: ignore[misc]


def test_each_reply_answers_the_oldest_line_sent_of_its_label(tmp_path: Path) -> None:
    """A line sent twice waits twice: its replies take them in turn, then a reply whose
    command nobody sent gets one made from its label."""

    def record(kind: str, text: str, **fields: object) -> str:
        data = text + "\r\n"
        base = {"kind": kind, "wall": "2026-12-06T15:00:00+00:00", "tls": False, "text": text}
        return json.dumps(base | {"data": data} | fields)

    lines = [
        record("sent", "RCPT TO:<a@example.org>", group=1),
        record("sent", "RCPT TO:<a@example.org>", group=1),
        record("received", "250 first", code=250, answers="RCPT TO:<a@example.org>"),
        record("received", "250 second", code=250, answers="RCPT TO:<a@example.org>"),
        record("received", "250 third", code=250, answers="RCPT TO:<a@example.org>"),
    ]
    path = tmp_path / "twice.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    [transcript] = read_transcripts(path)
    first, second, *replies = list(transcript)
    sent = Command("RCPT", "TO:<a@example.org>", group=1)
    assert first.command == second.command == sent
    assert [reply.command for reply in replies] == [sent, sent, sent._replace(group=0)]


def test_a_bad_line_keeps_the_entries_before_it_in_its_chunk(tmp_path: Path) -> None:
    """Entries are appended a run of one connection's at a time: those read before a bad
    line in the same chunk are in their transcripts, every subscriber told of them."""

    def record(connection: int, text: str) -> str:
        base = {"kind": "sent", "wall": "2026-12-06T15:00:00+00:00", "tls": False}
        return json.dumps(base | {"text": text, "data": text + "\r\n", "connection": connection})

    lines = [record(1, "EHLO a"), record(2, "EHLO b"), record(2, "NOOP"), record(1, "QUIT")]
    path = tmp_path / "cut.jsonl"
    path.write_text("\n".join([*lines, '{"kind": "sent"}', record(1, "RSET")]) + "\n", "utf-8")
    reading = Reading(path)
    reading.step(1)
    told: list[str] = []
    reading.transcripts[0].subscribe(lambda entry: told.append(entry.text))
    with pytest.raises(ReadError) as raised:
        reading.step()
    assert raised.value.line == 5 and reading.done
    first, second = reading.transcripts
    assert [entry.text for entry in first] == ["EHLO a", "QUIT"] and told == ["QUIT"]
    assert [entry.text for entry in second] == ["EHLO b", "NOOP"]
    assert first.unsaved == 2 and second.unsaved == 2
