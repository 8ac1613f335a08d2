"""Message files for the Compose pane: a path as typed, a simple message read back into the
fields, anything else left whole, and the envelope its headers give."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smtptui.session.eml import Fields, envelope, find_file, read_message, simple_fields


def test_find_file_expands_home_and_names_what_is_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "m.eml").write_bytes(b"x")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert find_file("~/m.eml") == tmp_path / "m.eml"
    assert find_file("m.eml") == tmp_path / "m.eml"
    for typed, words in (("", "type the path"), ("nope", "no such file"), (".", "directory")):
        with pytest.raises(ValueError, match=words):
            find_file(typed)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "secret.eml"
    path.write_bytes(b"Subject: x\r\n\r\n")
    path.chmod(0)
    with pytest.raises(ValueError, match="not readable"):
        find_file(str(path))


def test_read_message_refuses_what_is_not_a_message(tmp_path: Path) -> None:
    for name, data in (("empty", b""), ("png", b"\x89PNG\r\n\x1a\n\x00"), ("text", b"hello\n")):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match="is not a message"):
            read_message(str(tmp_path / name))
    (tmp_path / "ok").write_bytes(b"Subject: x\n\nbody\n")
    assert read_message(str(tmp_path / "ok")) == (tmp_path / "ok", b"Subject: x\n\nbody\n")


def test_a_simple_message_becomes_fields() -> None:
    data = (
        b"From: A <a@x.org>\r\nTo: b@y.org, c@y.org\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
        b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <m@x.org>\r\n"
        b"Received: from a\r\n\tby b\r\nContent-Type: text/plain; charset=latin-1\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\nGr\xfc\xdfe\r\n.dot\r\n"
    )
    assert simple_fields(data) == Fields(
        sender="A <a@x.org>",
        to="b@y.org, c@y.org",
        cc="",
        bcc="",
        subject="Grüße",
        body="Grüße\n.dot\n",
        headers=(("Received", "from a\tby b"),),
    )


@pytest.mark.parametrize(
    "data",
    [
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n',
        b"Content-Type: text/html\r\n\r\n<p>x</p>\r\n",
        b"Content-Type: text/plain; charset=no-such-charset\r\n\r\nx\r\n",
        b"Subject: \x1b[2J\r\n\r\nx\r\n",
        b"Subject: x\r\n\r\nlone\rCR\r\n",
        b"To: a@x.org\r\nTo: b@x.org\r\n\r\nx\r\n",
        b"To: bob@\r\n\r\nx\r\n",
    ],
    ids=["multipart", "html", "charset", "escape", "cr", "two-to", "bad-address"],
)
def test_anything_else_is_sent_whole(data: bytes) -> None:
    assert simple_fields(data) is None


def test_the_envelope_comes_from_the_headers() -> None:
    data = b"From: a@x.org\r\nSender: s@x.org\r\nTo: b@y.org\r\nCc: c@y.org\r\nBcc: d@y.org\r\n\r\n"
    assert envelope(data) == ("s@x.org", ["b@y.org", "d@y.org", "c@y.org"])
