"""XCLIENT's command lines: attributes xtext-encoded, checked against what the server
advertised, split to fit a command line; and the dialogue starting over after its 220."""

from __future__ import annotations

import pytest

from smtptui.protocol.dialogue import Dialogue, Phase
from smtptui.protocol.errors import CommandError
from smtptui.protocol.xclient import (
    LIMIT,
    parse_attribute,
    parse_xclient,
    xclient_lines,
)

ALL = "NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT"


def test_attributes_in_one_line_xtext_encoded() -> None:
    attributes = [("ADDR", "192.0.2.1"), ("NAME", "mail.example"), ("HELO", "a b=c+d")]
    assert xclient_lines(attributes, ALL) == [
        b"XCLIENT ADDR=192.0.2.1 NAME=mail.example HELO=a+20b+3Dc+2Bd\r\n"
    ]


def test_ipv6_and_the_unknown_values() -> None:
    attributes = [("ADDR", "2001:db8::1"), ("NAME", "[UNAVAILABLE]"), ("PORT", "[TEMPUNAVAIL]")]
    assert xclient_lines(attributes, ALL) == [
        b"XCLIENT ADDR=IPV6:2001:db8::1 NAME=[UNAVAILABLE] PORT=[TEMPUNAVAIL]\r\n"
    ]
    assert xclient_lines([("DESTADDR", "IPV6:::1")], ALL) == [b"XCLIENT DESTADDR=IPV6:::1\r\n"]
    assert xclient_lines([("PROTO", "esmtp")], ALL) == [b"XCLIENT PROTO=ESMTP\r\n"]


def test_long_values_are_split_into_several_commands() -> None:
    long_name = "n" * 300 + ".example"
    long_helo = "h" * 300
    lines = xclient_lines([("ADDR", "192.0.2.1"), ("NAME", long_name), ("HELO", long_helo)], ALL)
    assert lines == [
        f"XCLIENT ADDR=192.0.2.1 NAME={long_name}\r\n".encode(),
        f"XCLIENT HELO={long_helo}\r\n".encode(),
    ]
    assert all(len(line) <= LIMIT for line in lines)
    with pytest.raises(CommandError, match="too long") as caught:
        xclient_lines([("NAME", "n" * 600)], ALL)
    assert caught.value.field == "XCLIENT NAME"


def test_what_the_server_did_not_advertise_is_refused_unless_forced() -> None:
    with pytest.raises(CommandError, match="not advertised by the server") as caught:
        xclient_lines([("ADDR", "192.0.2.1"), ("LOGIN", "bob")], "NAME ADDR")
    assert caught.value.field == "XCLIENT LOGIN"
    assert xclient_lines([("LOGIN", "bob")], "NAME ADDR", force=True) == [b"XCLIENT LOGIN=bob\r\n"]
    with pytest.raises(CommandError, match="did not advertise XCLIENT"):
        xclient_lines([("ADDR", "192.0.2.1")], None)
    assert xclient_lines([("ADDR", "192.0.2.1")], None, force=True)


@pytest.mark.parametrize(
    ("name", "value", "field", "words"),
    [
        ("ADDR", "mail.example", "XCLIENT ADDR", "not an IP address"),
        ("PORT", "70000", "XCLIENT PORT", "0 to 65535"),
        ("PROTO", "LMTP", "XCLIENT PROTO", "SMTP or ESMTP"),
        ("NAME", "a\r\nMAIL FROM:<x>", "XCLIENT NAME", "CR character"),
        ("FOO", "1", "XCLIENT FOO", "not an XCLIENT attribute"),
        ("A B", "1", "xclient", "not an attribute name"),
    ],
)
def test_bad_attributes_are_named(name, value, field, words) -> None:
    with pytest.raises(CommandError, match=words) as caught:
        xclient_lines([(name, value)], ALL)
    assert caught.value.field == field


def test_typed_attributes_and_the_servers_parse() -> None:
    assert parse_attribute("addr=192.0.2.1") == ("ADDR", "192.0.2.1")
    assert parse_attribute("HELO=a=b") == ("HELO", "a=b")
    with pytest.raises(CommandError, match="NAME=VALUE") as caught:
        parse_attribute("192.0.2.1", "--xclient")
    assert caught.value.field == "--xclient"
    [line] = xclient_lines([("HELO", "a b=c"), ("ADDR", "::1")], ALL)
    assert parse_xclient(line.decode()[len("XCLIENT ") : -2]) == [
        ("HELO", "a b=c"),
        ("ADDR", "IPV6:::1"),
    ]
    with pytest.raises(CommandError, match="bad attribute syntax: ADDR"):
        parse_xclient("ADDR")


def greeted() -> Dialogue:
    dialogue = Dialogue()
    dialogue.receive_data(b"220 hi\r\n")
    dialogue.next_event()
    dialogue.send(b"EHLO me\r\n")
    dialogue.receive_data(b"250-hi\r\n250-XCLIENT " + ALL.encode() + b"\r\n250 PIPELINING\r\n")
    dialogue.next_event()
    return dialogue


def test_the_dialogue_starts_over_after_xclients_220() -> None:
    dialogue = greeted()
    assert dialogue.features["xclient"].upper() == ALL
    command = dialogue.send(b"XCLIENT ADDR=192.0.2.1\r\n")
    assert command is not None and not command.out_of_order
    dialogue.receive_data(b"220 mx.example ESMTP\r\n")
    answer = dialogue.next_event()
    assert answer is not None and answer.command == command
    assert answer.phase is Phase.EHLO and dialogue.capabilities is None
    mail = dialogue.send(b"MAIL FROM:<a@example.org>\r\n")
    assert mail is not None and mail.out_of_order == "sent before EHLO or HELO was accepted"


def test_a_refused_xclient_leaves_the_session_as_it_was() -> None:
    dialogue = greeted()
    dialogue.send(b"XCLIENT FOO=1\r\n")
    dialogue.receive_data(b"501 5.5.4 Bad XCLIENT attribute name: FOO\r\n")
    answer = dialogue.next_event()
    assert answer is not None and answer.phase is Phase.READY
    assert dialogue.capabilities is not None


def test_xclient_inside_a_transaction_is_out_of_order() -> None:
    dialogue = greeted()
    dialogue.send(b"MAIL FROM:<a@example.org>\r\n")
    command = dialogue.send(b"XCLIENT ADDR=192.0.2.1\r\n")
    assert command is not None and "inside a mail transaction" in command.out_of_order
