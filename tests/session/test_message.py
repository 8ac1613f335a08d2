"""The message ``run`` builds: the email package's, with Date, Message-ID and the tokens,
Bcc nowhere in it, attachments byte for byte; a whole message's bytes left as they are."""

from __future__ import annotations

import email.generator
import email.policy
import hashlib
import random
import tracemalloc
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from pathlib import Path

import pytest

from smtptui.session.message import (
    POLICY,
    Attachment,
    HeaderError,
    build_message,
    check_mime_type,
    parse_header,
    whole_message,
)


def parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=email.policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def test_a_built_message_has_date_and_message_id_and_no_bcc() -> None:
    data = build_message("a@x.org", ["b@y.org"], ["c@y.org"], ["secret@y.org"], "Hi", "Text\n")
    message = parse(data)
    assert (message["From"], message["To"], message["Cc"]) == ("a@x.org", "b@y.org", "c@y.org")
    assert message["Date"] and message["Message-ID"].endswith("@x.org>")
    assert b"secret" not in data
    assert b"\r\n\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")


def test_tokens_are_replaced_in_headers_and_body_with_the_headers_values() -> None:
    data = build_message(
        "a@x.org",
        ["b@y.org", "c@y.org"],
        subject="On %DATE%",
        body="From %FROM_ADDRESS% to %TO_ADDRESS%, id %MESSAGEID%\n",
        add_headers=[("X-Id", "%MESSAGEID%")],
    )
    message = parse(data)
    assert message["Subject"] == f"On {message['Date']}"
    assert message["X-Id"] == message["Message-ID"]
    body = message.get_content()
    assert (
        body.replace("\r\n", "\n")
        == f"From a@x.org to b@y.org, c@y.org, id {message['Message-ID']}\n"
    )
    assert b"%" not in data


def test_headers_replace_their_namesakes_and_added_ones_follow() -> None:
    data = build_message(
        "a@x.org",
        ["b@y.org"],
        headers=[("date", "not a date"), ("X-Tag", "one")],
        add_headers=[("X-Tag", "two")],
    )
    message = parse(data)
    assert message.get_all("Date") == ["not a date"]  # as typed, not emptied
    assert message.get_all("X-Tag") == ["one", "two"]


def test_a_non_ascii_body_needs_no_8bitmime() -> None:
    data = build_message("a@x.org", ["b@y.org"], body="Grüße\n")
    assert data.isascii()
    assert parse(data).get_content() == "Grüße\r\n"  # as it is on the wire


def test_attachments_keep_their_bytes_types_and_names(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_bytes(b"line\r\nbare\nno end")
    binary = tmp_path / "blob"
    binary.write_bytes(bytes(range(256)) * 40)
    data = build_message(
        "a@x.org",
        ["b@y.org"],
        attachments=[Attachment(text), Attachment(binary, "image/png", "pic.png")],
    )
    parts = list(parse(data).iter_attachments())
    assert [(part.get_content_type(), part.get_filename()) for part in parts] == [
        ("text/plain", "notes.txt"),
        ("image/png", "pic.png"),
    ]
    for part, path in zip(parts, (text, binary), strict=True):
        payload = part.get_payload(decode=True)
        assert hashlib.sha256(payload).digest() == hashlib.sha256(path.read_bytes()).digest()
    assert b"MIME-Version" not in data.split(b"--=", 1)[1]  # only the message's own


def email_package_message(paths: list[Path], headers: list[tuple[str, str]]) -> bytes:
    """What the email package itself writes for a message with ``paths`` attached."""
    message = EmailMessage(policy=POLICY)
    message["From"], message["To"] = "a@x.org", "b@y.org"
    message.set_content("Hi\n")
    for name, value in headers:
        message[name] = value
    message.make_mixed()
    for path in paths:
        part = MIMEPart(policy=POLICY)
        part.set_content(
            path.read_bytes(),
            "application",
            "octet-stream",
            cte="base64",
            disposition="attachment",
            filename=path.name,
        )
        message.attach(part)
    return message.as_bytes()


def test_attachments_are_written_as_the_email_package_writes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Byte for byte, whatever the sizes (an empty file, one short of a line, a line, a
    line and a byte, a block and a byte), each read a block at a time; Date, Message-ID
    and the boundary the same in both."""
    paths = []
    for size in (0, 56, 57, 58, 57 * 1024 + 1):
        paths.append(tmp_path / f"f{size}.bin")
        paths[-1].write_bytes(random.Random(size).randbytes(size))
    headers = [("Date", "Thu, 1 Jan 2026 00:00:00 +0000"), ("Message-ID", "<1@x.org>")]
    attachments = [Attachment(path, "application/octet-stream") for path in paths]
    boundary = classmethod(lambda cls, text=None: "===============17==")
    monkeypatch.setattr(email.generator.Generator, "_make_boundary", boundary)
    built = build_message(
        "a@x.org", ["b@y.org"], body="Hi\n", headers=headers, attachments=attachments
    )
    assert built == email_package_message(paths, headers)


def test_an_attachment_is_held_once_encoded(tmp_path: Path) -> None:
    """Building costs the message and a block: the file is not read whole, nor its base64
    held as lines, text and bytes (the email package's way: 5.7 times the file at once)."""
    path = tmp_path / "big.bin"
    path.write_bytes(random.Random(0).randbytes(3 * 1024 * 1024))
    tracemalloc.start()
    try:
        data = build_message("a@x.org", ["b@y.org"], attachments=[Attachment(path)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.3 * len(data), f"{peak:,} bytes to build {len(data):,}"


def test_an_unknown_type_is_sent_as_octet_stream(tmp_path: Path) -> None:
    path = tmp_path / "data.unknownext"
    path.write_bytes(b"\x00\x01")
    data = build_message("a@x.org", ["b@y.org"], attachments=[Attachment(path)])
    [part] = parse(data).iter_attachments()
    assert part.get_content_type() == "application/octet-stream"


def test_a_whole_message_changes_only_its_tokens() -> None:
    data = b"To: %TO_ADDRESS%\n\r\n.dot\r\n\xff\xfe raw %FROM_ADDRESS%"
    sent = whole_message(data, "a@x.org", ["b@y.org", "é@y.org"])
    assert sent == "To: b@y.org, é@y.org\n\r\n.dot\r\n".encode() + b"\xff\xfe raw a@x.org"
    assert whole_message(b"no tokens\n", "a@x.org", ["b@y.org"]) == b"no tokens\n"


def test_parse_header_takes_one_field() -> None:
    assert parse_header("X-Test:  a: b ") == ("X-Test", "a: b")
    for bad in ("no colon", "X: a\r\nBcc: b", "X: a\nB: c", ": empty name", "Bad Name: v"):
        with pytest.raises(ValueError, match="'"):
            parse_header(bad)


def test_check_mime_type() -> None:
    assert check_mime_type("Text/Plain") == ("text", "plain")
    for bad in ("text", "text/", "/plain", "te xt/plain"):
        with pytest.raises(ValueError, match="type/subtype"):
            check_mime_type(bad)


def test_headers_replace_the_built_content_type_and_several_of_a_name_stay() -> None:
    data = build_message(
        "a@x.org",
        ["b@y.org"],
        body="<p>hi</p>\n",
        headers=[
            ("Content-Type", "text/html; charset=utf-8"),
            ("Received", "from a by b"),
            ("Received", "from c by d"),
        ],
    )
    message = parse(data)
    [content_type] = message.get_all("Content-Type")
    assert content_type.content_type == "text/html"
    assert message.get_all("Received") == ["from a by b", "from c by d"]
    assert message.get_content() == "<p>hi</p>\r\n"


def test_a_header_the_email_package_cannot_take_is_named() -> None:
    with pytest.raises(HeaderError) as caught:
        build_message("a@x.org", ["bob@"])
    assert (caught.value.name, caught.value.index) == ("To", None)
    with pytest.raises(HeaderError, match="Reply-To") as caught:
        build_message("a@x.org", ["b@y.org"], add_headers=[("X-Ok", "1"), ("Reply-To", "c@")])
    assert caught.value.index == 1


def test_an_address_that_is_not_ascii_is_written_as_utf8() -> None:
    data = build_message("jörg@x.org", ["b@y.org"], subject="Grüße", body="Grüße\n")
    assert "From: jörg@x.org\r\n".encode() in data  # an address cannot be RFC 2047 encoded
    assert "Subject: Grüße\r\n".encode() in data
    assert parse(data).get_content() == "Grüße\r\n"
    assert b"Subject: =?utf-8?" in build_message("a@x.org", ["b@y.org"], subject="Grüße")
