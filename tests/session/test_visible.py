"""No byte from a server or a certificate reaches the terminal raw: visible() itself, then every
way the session turns outside text into text to show (entries, explanations, exports)."""

from __future__ import annotations

import base64
import dataclasses
import json
import sys
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from smtptui.server import EmbeddedServer
from smtptui.session import (
    Connect,
    Ehlo,
    EntryKind,
    MailFrom,
    RcptTo,
    Risk,
    SendMessage,
    SessionController,
    SessionSettings,
    StartTls,
    explanation,
    to_jsonl,
    to_swaks,
    visible,
    visible_bytes,
    visible_tls,
)

from support.certificates import server_context, unverified
from support.fuzz import examples
from support.hostile import (
    HOSTILE,
    HOSTILE_ASCII,
    HOSTILE_REFUSAL,
    HOSTILE_TEXT,
    hostile_name,
    hostile_server,
    raw,
)
from support.scripted import ScriptedServer
from support.sessions import settings_for

MakeServer = Callable[..., EmbeddedServer]

PRINTABLE = st.text(
    st.characters(exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"))
    | st.sampled_from(" \t\n")
)
"""Text that :meth:`str.isprintable` accepts, with tabs and line breaks."""


# -- visible() ------------------------------------------------------------------------------


def test_each_control_is_written_out() -> None:
    assert visible_bytes(HOSTILE) == r"\x1b]0;pwned\x07\x1b[2J\x1b\x07\x9b\x9b\x7f"
    assert visible("a\u202eb\u2066c") == r"a\u202eb\u2066c"
    assert visible("bad\udc9b byte") == r"bad\x9b byte"  # surrogateescape's byte, as a byte
    assert visible("tab\tand\nLF") == "tab\tand\nLF"
    assert visible("tab\tand\nLF", one_line=True) == r"tab\x09and\x0aLF"


@settings(max_examples=examples(300))
@given(st.text())
def test_no_output_character_acts_on_a_terminal(text: str) -> None:
    assert raw(visible(text)) == set()
    assert raw(visible(text, one_line=True), keep="") == set()
    assert visible(visible(text)) == visible(text)  # entries may pass text through twice


@settings(max_examples=examples(100))
@given(st.binary())
def test_no_byte_reaches_the_terminal_raw(data: bytes) -> None:
    assert raw(visible_bytes(data, one_line=True), keep="") == set()


@settings(max_examples=examples(300))
@given(PRINTABLE)
def test_printable_text_is_unchanged(text: str) -> None:
    assert visible(text) == text


def test_no_character_isprintable_accepts_needs_writing_out() -> None:
    """visible() returns printable text as is without looking further: sound only while
    every character it writes out is one str.isprintable() refuses (all of Unicode here)."""
    written_out = [
        code
        for code in range(sys.maxunicode + 1)
        if chr(code).isprintable() and visible(f"{chr(code)}\n") != f"{chr(code)}\n"
    ]
    assert written_out == []


# -- through the controller: replies, advice, explanations ----------------------------------


async def hostile_session() -> SessionController:
    """A session with :func:`hostile_server`: greeted, EHLO, STARTTLS and RCPT refused,
    a message whose only recipient is refused."""
    async with ScriptedServer(hostile_server()) as server:
        settings = SessionSettings(host=f"{server.host}:{server.port}", helo_name="c.example")
        controller = SessionController(settings)
        for action in (Connect(), Ehlo(), StartTls()):
            await controller.run(action)
        controller.accept(Risk.PLAINTEXT_AFTER_STARTTLS)
        assert (await controller.run(MailFrom("a@example.org"))).ok
        assert not (await controller.run(RcptTo("bob@example.org"))).ok
        send = SendMessage("a@example.org", ("bob@example.org",), "Subject: hi\r\n\r\nhi\r\n")
        assert not (await controller.run(send)).ok
    return controller


async def test_replies_and_errors_quoting_them_show_no_control() -> None:
    controller = await hostile_session()
    entries = list(controller.transcript)
    errors = [entry.text for entry in entries if entry.kind is EntryKind.ERROR]
    assert len(errors) == 3  # STARTTLS refused, RCPT refused, every recipient refused
    assert all(r"\x1b]0;pwned\x07\x1b[2J" in error for error in errors)
    for entry in entries:
        assert raw(entry.text) == set(), entry
        assert raw(entry.note + (entry.redacted or "") + (entry.revealed or "")) == set()
        assert raw("".join(explanation(entry)), keep="") == set(), entry


async def test_the_jsonl_export_keeps_the_exact_bytes_and_prints_safely() -> None:
    entries = list((await hostile_session()).transcript)
    exported = to_jsonl(entries)
    assert raw(exported, keep="\n") == set()
    records = [json.loads(line) for line in exported.splitlines()]
    for entry, record in zip(entries, records, strict=True):
        data = record["data"]
        exact = data.encode() if record["encoding"] == "utf-8" else base64.b64decode(data)
        assert exact == entry.data
    [greeting] = [record for record in records if record.get("code") == 220]
    assert greeting["encoding"] == "base64" and HOSTILE in base64.b64decode(greeting["data"])
    [refusal, _] = [record for record in records if record.get("code") == 550]
    assert refusal["data"] == HOSTILE_REFUSAL.decode()


async def test_the_swaks_export_shows_no_control() -> None:
    exported = to_swaks((await hostile_session()).transcript)
    assert raw(exported) == set()
    assert r"*** RCPT TO refused: 550 5.1.1 <bob@example.org> \x1b]0;pwned\x07" in exported


# -- a certificate's names ------------------------------------------------------------------


async def test_certificate_names_show_no_control_and_fake_no_line(make_server: MakeServer) -> None:
    context = server_context(
        hostile_name(),
        issuer=hostile_name(HOSTILE_TEXT[::-1]),
        dns_names=(f"mx{HOSTILE_ASCII}.example",),
        ip="127.0.0.1",
        ca_issuers=(f"http://ca{HOSTILE_ASCII}.example/",),
    )
    server = make_server(tls_context=context)
    controller = SessionController(settings_for(server, unverified()))
    for action in (Connect(), Ehlo(), StartTls()):
        assert (await controller.run(action)).ok
    [tls] = [entry for entry in controller.transcript if entry.kind is EntryKind.TLS]
    assert tls.tls_info is not None and tls.tls_info.leaf is not None
    assert len(tls.text.split("\n")) == 2  # the LF in the organisation's name is written out
    assert raw(tls.text) == set() and r"pwned\x07\x1b[2J" in tls.text
    lines = explanation(tls)
    assert raw("".join(lines), keep="") == set()
    assert any(line.startswith(r"names        DNS:mx\x1b]0;pwned") for line in lines)
    # The export keeps the certificate's names exact, and prints safely.
    exported = to_jsonl(controller.transcript)
    assert raw(exported, keep="\n") == set()
    [record] = [json.loads(line) for line in exported.splitlines() if '"tls_info"' in line]
    assert record["tls_info"]["chain"][0]["subject"] == tls.tls_info.leaf.subject
    assert "\x1b[2J\x1b\x07\x9b\x7f\u202e Corp" in tls.tls_info.leaf.subject
    assert raw(to_swaks(controller.transcript)) == set()
    # Every string field of a certificate, made visible for the certificate screen.
    shown = visible_tls(tls.tls_info).leaf
    assert shown is not None and shown.ca_issuers == (
        r"http://ca\x1b]0;pwned\x07\x1b[2J\x7f.example/",
    )
    values = [getattr(shown, field.name) for field in dataclasses.fields(shown)]
    texts = [text for value in values for text in (value if isinstance(value, tuple) else [value])]
    assert raw("".join(text for text in texts if isinstance(text, str)), keep="") == set()
