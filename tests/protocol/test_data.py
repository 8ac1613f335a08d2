"""Message data against smtplib itself: the stdlib is the oracle for every byte."""

from __future__ import annotations

import email
import email.message
import smtplib
import tracemalloc
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smtptui.protocol.data import (
    DEFAULT_CHUNK_SIZE,
    PreparedMessage,
    bdat_chunk_size,
    data_payload,
    dot_stuff,
    encode_message,
    fix_eols,
    iter_bdat_chunks,
    iter_data_payload,
    message_line,
    prepare_message,
    unstuff,
)
from smtptui.protocol.errors import CommandError, ProtocolError

# Text and bytes rich in the characters that matter: CR, LF, dots.
tricky_text = (
    st.lists(st.sampled_from(["\r", "\n", "\r\n", ".", "..", "a", " "])).map("".join) | st.text()
)
ascii_text = st.text(st.sampled_from(["\r", "\n", ".", "a", "\t", "~"])) | st.text(
    st.characters(max_codepoint=127)
)
tricky_bytes = (
    st.lists(st.sampled_from([b"\r", b"\n", b"\r\n", b".", b"..", b"a", b"\xff"])).map(b"".join)
    | st.binary()
)

EXAMPLES = [
    b"",
    b".",
    b"\n",
    b"\r\n",
    b".\r\n",
    b"..\r\n.\r\n",
    b"Subject: x\r\n\r\n.hidden\r\n..two\r\nend",
    b"bare\n.lf\r.cr\r\n.",
    b"\r\n.\r\n",
]


def smtplib_data_wire(msg: str | bytes) -> bytes:
    """What ``smtplib.SMTP.data`` writes after the 354, from an unconnected instance."""
    smtp = smtplib.SMTP()
    sent: list[bytes] = []
    smtp.putcmd = lambda *args: None
    smtp.getreply = iter([(354, b"go ahead"), (250, b"OK")]).__next__
    smtp.send = sent.append
    assert smtp.data(msg) == (250, b"OK")
    return b"".join(sent)


def smtplib_send_message(msg: email.message.Message, **kwargs: object) -> PreparedMessage:
    """What ``smtplib.SMTP.send_message`` hands to ``sendmail``, for a server with SMTPUTF8."""
    smtp = smtplib.SMTP()
    smtp.ehlo_or_helo_if_needed = lambda: None
    smtp.esmtp_features = {"smtputf8": ""}
    captured = []
    smtp.sendmail = lambda *args: captured.append(args)
    smtp.send_message(msg, **kwargs)
    [(sender, recipients, data, options, _)] = captured
    return PreparedMessage(
        sender=sender,
        recipients=[recipients] if isinstance(recipients, str) else list(recipients),
        data=data,
        mail_options=list(options),
        international="SMTPUTF8" in options,
    )


def outcome(call: Callable[[], PreparedMessage]) -> PreparedMessage | tuple[type, str]:
    """The result of ``call``, or the type and text of what it raised."""
    try:
        return call()
    except Exception as exc:
        return type(exc), str(exc)


# fix_eols, encode_message


@pytest.mark.parametrize("text", ["", "\r", "\n", "\r\r\n", "\n\r", "a\rb\nc\r\nd", "\r\n\r\n\r"])
def test_fix_eols_examples(text: str) -> None:
    assert fix_eols(text) == smtplib._fix_eols(text)


@given(tricky_text)
def test_fix_eols_matches_smtplib(text: str) -> None:
    assert fix_eols(text) == smtplib._fix_eols(text)


@given(ascii_text)
def test_encode_message_str_matches_smtplib(text: str) -> None:
    assert encode_message(text) == smtplib._fix_eols(text).encode("ascii")


def test_encode_message_rejects_non_ascii_str() -> None:
    with pytest.raises(UnicodeEncodeError):
        encode_message("caf\u00e9")


def test_encode_message_bytes_untouched() -> None:
    data = b"bare\nlf\r\xff"
    assert encode_message(data) is data


# dot_stuff, data_payload, unstuff


@pytest.mark.parametrize("data", EXAMPLES)
def test_dot_stuff_examples(data: bytes) -> None:
    assert dot_stuff(data) == smtplib._quote_periods(data)


@given(tricky_bytes)
def test_dot_stuff_matches_smtplib(data: bytes) -> None:
    assert dot_stuff(data) == smtplib._quote_periods(data)


@pytest.mark.parametrize("data", EXAMPLES)
def test_data_payload_examples(data: bytes) -> None:
    assert data_payload(data) == smtplib_data_wire(data)


@given(tricky_bytes)
def test_data_payload_matches_smtplib_bytes(data: bytes) -> None:
    assert data_payload(encode_message(data)) == smtplib_data_wire(data)


@given(ascii_text)
def test_data_payload_matches_smtplib_str(text: str) -> None:
    assert data_payload(encode_message(text)) == smtplib_data_wire(text)


def test_data_payload_shapes() -> None:
    assert data_payload(b"") == b"\r\n.\r\n"
    assert data_payload(b"a\r\n") == b"a\r\n.\r\n"
    assert data_payload(b".a\n.b") == b"..a\n..b\r\n.\r\n"


@given(tricky_bytes)
def test_unstuff_round_trip(data: bytes) -> None:
    expected = data if data.endswith(b"\r\n") else data + b"\r\n"
    assert unstuff(data_payload(data)) == expected


def test_unstuff_empty_message() -> None:
    assert unstuff(b".\r\n") == b""


@pytest.mark.parametrize("payload", [b"", b"abc", b"abc\r\n", b"abc.\r\n", b"abc\n.\n"])
def test_unstuff_needs_terminator(payload: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        unstuff(payload)
    assert info.value.data == payload


# iter_data_payload


@given(tricky_bytes, st.integers(1, 64))
def test_iter_data_payload_joins_to_data_payload(data: bytes, chunk_size: int) -> None:
    assert b"".join(iter_data_payload(data, chunk_size)) == data_payload(data)


@pytest.mark.parametrize("chunk_size", range(1, 8))
def test_iter_data_payload_dots_at_chunk_boundaries(chunk_size: int) -> None:
    data = b"\n.\n..\r\n.x\n" * 5 + b"."
    assert b"".join(iter_data_payload(data, chunk_size)) == smtplib_data_wire(data)


def test_iter_data_payload_chunking() -> None:
    chunks = list(iter_data_payload(b"ab\n.cd\n.", 3))
    assert chunks == [b"ab\n", b".", b".cd", b"\n..", b"\r\n.\r\n"]
    assert list(iter_data_payload(b"")) == [b"\r\n.\r\n"]


def test_iter_data_payload_rejects_bad_chunk_size() -> None:
    with pytest.raises(ValueError):
        list(iter_data_payload(b"x", 0))


def test_iter_data_payload_has_no_second_copy() -> None:
    data = (b"line of text\r\n.stuffed line\r\n" * 400_000)[: 12 * 1024 * 1024]
    chunk_size = 256 * 1024
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        total = sum(len(chunk) for chunk in iter_data_payload(data, chunk_size))
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    assert total == len(data_payload(data))
    assert peak < 4 * chunk_size


# iter_bdat_chunks


@given(st.binary(max_size=200), st.integers(1, 64))
def test_bdat_chunks(data: bytes, chunk_size: int) -> None:
    chunks = list(iter_bdat_chunks(data, chunk_size))
    assert b"".join(bytes(chunk) for chunk, _ in chunks) == data
    assert [last for _, last in chunks] == [False] * (len(chunks) - 1) + [True]
    assert all(0 < len(chunk) <= chunk_size for chunk, _ in chunks) or data == b""


def test_bdat_exact_multiple_and_empty() -> None:
    assert [(bytes(c), last) for c, last in iter_bdat_chunks(b"abcd", 2)] == [
        (b"ab", False),
        (b"cd", True),
    ]
    assert list(iter_bdat_chunks(b"", 10)) == [(b"", True)]


def test_bdat_chunks_are_views() -> None:
    [(chunk, last)] = iter_bdat_chunks(b".\r\n", 10)
    assert isinstance(chunk, memoryview)
    assert last
    assert chunk == b".\r\n"


def test_bdat_chunk_size() -> None:
    assert bdat_chunk_size(False) is None
    assert bdat_chunk_size(True) == DEFAULT_CHUNK_SIZE
    assert bdat_chunk_size(1) == 1
    for wrong in (0, -1):
        with pytest.raises(ValueError, match="at least 1"):
            bdat_chunk_size(wrong)


# prepare_message


def _plain() -> email.message.Message:
    msg = email.message.EmailMessage()
    msg["From"] = "Alice <alice@example.com>"
    msg["To"] = "bob@example.org, Carol <carol@example.net>"
    msg["Cc"] = "dave@example.com"
    msg["Subject"] = "hello"
    msg.set_content("Hi.\n.dotted line\nFrom the start of a line\n")
    return msg


def _with_bcc() -> email.message.Message:
    msg = _plain()
    msg["Bcc"] = "hidden@example.com"
    return msg


def _with_sender() -> email.message.Message:
    msg = _plain()
    msg["Sender"] = "secretary@example.com"
    return msg


def _resent() -> email.message.Message:
    msg = _with_bcc()
    msg["Resent-Date"] = "Mon, 1 Jan 2024 00:00:00 +0000"
    msg["Resent-From"] = "forwarder@example.com"
    msg["Resent-To"] = "new@example.org"
    msg["Resent-Bcc"] = "quiet@example.org"
    return msg


def _international() -> email.message.Message:
    msg = _plain()
    msg.replace_header("To", "J\u00f6rg <j\u00f6rg@b\u00fccher.example>")
    msg.replace_header("Subject", "Gr\u00fc\u00dfe")
    return msg


def _compat32() -> email.message.Message:
    return email.message_from_string(
        "From: a@example.com\nTo: b@example.com\nBcc: c@example.com\nSubject: x\n\n"
        "From here\n.dot\n"
    )


def _compat32_international() -> email.message.Message:
    msg = _compat32()
    msg["Cc"] = "\u00fc@example.com"
    return msg


def _no_headers() -> email.message.Message:
    msg = email.message.Message()
    msg["To"] = ""
    msg.set_payload("body\n")
    return msg


MESSAGES: dict[str, Callable[[], email.message.Message]] = {
    "plain": _plain,
    "bcc": _with_bcc,
    "sender": _with_sender,
    "resent": _resent,
    "international": _international,
    "compat32": _compat32,
    "compat32-international": _compat32_international,
    "no-headers": _no_headers,
}

ARGUMENTS: dict[str, dict[str, object]] = {
    "from-headers": {},
    "explicit": {"from_addr": "env@example.com", "to_addrs": ["x@example.com", "y@example.com"]},
    "one-string": {"to_addrs": "only@example.com", "mail_options": ["BODY=8BITMIME"]},
    "non-ascii-sender": {"from_addr": "\u00e9@example.com", "mail_options": ("SIZE=10",)},
}


@pytest.mark.parametrize("arguments", ARGUMENTS.values(), ids=ARGUMENTS.keys())
@pytest.mark.parametrize("build", MESSAGES.values(), ids=MESSAGES.keys())
def test_prepare_message_matches_smtplib(
    build: Callable[[], email.message.Message], arguments: dict[str, object]
) -> None:
    expected = outcome(lambda: smtplib_send_message(build(), **arguments))
    assert outcome(lambda: prepare_message(build(), **arguments)) == expected


def test_compat32_international_fails_like_smtplib() -> None:
    """smtplib clones a Compat32 policy with utf8=True, which Compat32 refuses."""
    assert outcome(lambda: prepare_message(_compat32_international())) == (
        TypeError,
        "'utf8' is an invalid keyword argument for Compat32",
    )


def test_prepare_message_strips_bcc_from_a_copy() -> None:
    msg = _with_bcc()
    prepared = prepare_message(msg)
    assert prepared.recipients == [
        "bob@example.org",
        "carol@example.net",
        "hidden@example.com",
        "dave@example.com",
    ]
    assert b"hidden@example.com" not in prepared.data
    assert msg["Bcc"] == "hidden@example.com"
    assert prepared.sender == "alice@example.com"
    assert not prepared.international
    assert prepared.mail_options == []


def test_prepare_message_uses_the_resent_block() -> None:
    prepared = prepare_message(_resent())
    assert prepared.sender == "forwarder@example.com"
    assert prepared.recipients == ["new@example.org", "quiet@example.org"]
    assert b"quiet@example.org" not in prepared.data
    assert b"hidden@example.com" not in prepared.data


def test_prepare_message_rejects_several_resent_blocks() -> None:
    msg = _resent()
    msg["Resent-Date"] = "Tue, 2 Jan 2024 00:00:00 +0000"
    with pytest.raises(ValueError, match="more than one 'Resent-' header block"):
        smtplib_send_message(msg)
    with pytest.raises(ValueError, match="more than one 'Resent-' header block"):
        prepare_message(msg)


def test_prepare_message_international() -> None:
    prepared = prepare_message(_international(), mail_options=["SIZE=1"])
    assert prepared.international
    assert prepared.mail_options == ["SIZE=1", "SMTPUTF8", "BODY=8BITMIME"]
    assert "J\u00f6rg".encode() in prepared.data
    assert b"\r\n" in prepared.data
    assert b"\n" not in prepared.data.replace(b"\r\n", b"")


def test_prepare_message_mangles_from_lines_only_when_ascii() -> None:
    """smtplib passes no policy for ASCII mail, so the generator writes '>From '."""
    assert b"\r\n>From the start" in prepare_message(_plain()).data
    assert b"\r\nFrom the start" in prepare_message(_plain(), from_addr="\u00e9@x").data


# -- a message typed line by line -----------------------------------------------------------


@given(st.lists(st.text().filter(lambda t: not set(t) & set("\r\n\0")), min_size=1))
def test_typed_lines_stuffed_are_the_bytes_of_the_whole_message(lines: list[str]) -> None:
    """Line by line, stuffed, then the dot: what smtplib sends for the same message."""
    try:
        typed = [message_line(line) for line in lines]
    except CommandError:  # a lone surrogate: nothing to compare
        return
    message = b"".join(typed)
    assert b"".join(dot_stuff(line) for line in typed) + b".\r\n" == data_payload(message)
    assert unstuff(data_payload(message)) == message


@pytest.mark.parametrize(("char", "name"), [("\r", "CR"), ("\n", "LF"), ("\0", "NUL")])
def test_a_typed_line_refuses_what_would_break_it(char: str, name: str) -> None:
    with pytest.raises(CommandError, match=f"^message line: contains a {name} character"):
        message_line(f"one{char}two")


def test_a_typed_line_is_utf8_with_crlf() -> None:
    assert message_line("Subject: Grüße") == "Subject: Grüße\r\n".encode()
    assert message_line("") == b"\r\n"
    assert message_line(".") == b".\r\n"  # stuffing is the sender's job: see dot_stuff
