"""The preview of what DATA carries: the payload's exact lines, each with its kind, ending
and stuffing, every byte visible, and what the message needs from the server."""

from __future__ import annotations

from pathlib import Path

from smtptui.protocol.data import data_payload
from smtptui.session.message import Attachment, build_message
from smtptui.session.preview import LineKind, PreviewLine, preview


def joined(lines: tuple[PreviewLine, ...]) -> str:
    return "".join(line.text + line.ending for line in lines)


def test_the_lines_are_the_payload_stuffed_and_terminated() -> None:
    data = b"Subject: hi\r\nX-Folded: a\r\n b\r\n\r\n.one\r\ntwo\r\n..three"
    shown = preview(data)
    assert joined(shown.lines) == data_payload(data).decode()
    assert [(line.kind, line.stuffed) for line in shown.lines] == [
        (LineKind.HEADER, False),
        (LineKind.HEADER, False),
        (LineKind.HEADER, False),
        (LineKind.BLANK, False),
        (LineKind.BODY, True),
        (LineKind.BODY, False),
        (LineKind.BODY, True),  # the CRLF the payload adds, then
        (LineKind.TERMINATOR, False),
    ]
    assert shown.lines[4].text == "..one" and shown.lines[6].text == "...three"
    assert (shown.size, shown.count) == (len(data_payload(data)), 8)
    assert not shown.eight_bit and not shown.smtputf8


def test_a_bare_lf_and_control_bytes_are_shown_not_sent_to_the_terminal() -> None:
    data = "Subject: \x1b[2Jclear\r\n\r\nbare\nbell\x07 cr\r in \x9b\r\n".encode()
    shown = preview(data)
    texts = [(line.text, line.ending) for line in shown.lines]
    assert texts[0] == ("Subject: \\x1b[2Jclear", "\r\n")
    assert ("bare", "\n") in texts
    assert ("bell\\x07 cr\\x0d in \\x9b", "\r\n") in texts
    assert all(char.isprintable() for text, _ in texts for char in text)


def test_mime_boundaries_and_part_headers(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(bytes(range(256)))
    data = build_message("a@x.org", ["b@y.org"], body="Hi\n", attachments=[Attachment(path)])
    kinds = [line.kind for line in preview(data).lines]
    assert kinds.count(LineKind.BOUNDARY) == 3  # two parts and the closing one
    after = [kinds[n + 1] for n, kind in enumerate(kinds) if kind is LineKind.BOUNDARY]
    assert after == [LineKind.HEADER, LineKind.HEADER, LineKind.TERMINATOR]
    assert kinds.count(LineKind.BLANK) == 3  # the message's headers, and each part's


def test_what_the_message_needs() -> None:
    assert preview(b"Subject: hi\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n").eight_bit
    utf8 = preview("Subject: Grüße\r\n\r\nhi\r\n".encode())
    assert utf8.eight_bit and utf8.smtputf8
    assert preview(b"Subject: hi\r\n\r\nhi\r\n", international=True).smtputf8
    assert preview(b"Subject: hi\r\n\r\n" + b"x" * 1200 + b"\r\n").longest == 1200


def test_a_long_message_is_elided_in_the_middle() -> None:
    data = b"Subject: many\r\n\r\n" + b"".join(b"line %d\r\n" % n for n in range(5000))
    shown = preview(data, head=10, tail=5)
    assert len(shown.lines) == 16 and shown.count == 5003
    elided = shown.lines[10]
    assert elided.kind is LineKind.ELIDED and elided.ending == ""
    assert "4,988 lines" in elided.text
    assert [line.text for line in shown.lines[-2:]] == ["line 4999", "."]


def test_a_str_message_is_encoded_as_smtplib_encodes_it() -> None:
    shown = preview("Subject: s\n\nbody\n")
    assert joined(shown.lines) == "Subject: s\r\n\r\nbody\r\n.\r\n"
