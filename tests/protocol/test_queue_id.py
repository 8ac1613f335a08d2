"""The queue id in the reply to a message, as each MTA words it: the captured replies of
Postfix, Exim and OpenSMTPD, the embedded server's, and the published wordings of others."""

from __future__ import annotations

import re

import pytest

from smtptui.protocol.queue_id import queue_id
from smtptui.protocol.replies import Reply

from support.fixtures import parse_replies, wire_files, wire_replies

ID_FORMATS = {
    "postfix": re.compile(r"[0-9A-F]{10,12}"),  # hex, from the inode and time
    "exim": re.compile(r"[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}"),  # 4.96's base-62 id
    "opensmtpd": re.compile(r"[0-9a-f]{8}"),  # the message id's upper half
}
"""What each captured server's queue ids look like (they change with every capture)."""

MESSAGE_EXCHANGES = ("data", "bdat", "pipelining", "pipelining-mixed")
"""The captured exchanges that send a message: the last reply of each answers it."""


def reply(wire: bytes) -> Reply:
    [parsed] = parse_replies(wire)
    return parsed


@pytest.mark.parametrize(
    "path",
    [path for name in MESSAGE_EXCHANGES for path in wire_files(f"*-{name}.bin")],
    ids=lambda path: path.stem,
)
def test_each_captured_reply_to_a_message_names_its_queue_id(path) -> None:
    server = path.stem.split("-")[0]
    last = wire_replies(path)[-1]
    found = queue_id(last)
    if last.code != 250:  # OpenSMTPD refused BDAT and a pipelined group: no message, no id
        assert found is None
        return
    assert found is not None, last
    assert ID_FORMATS[server].fullmatch(found), found
    assert found.encode("ascii") in last.lines[-1]


def test_no_other_captured_reply_names_a_queue_id() -> None:
    """Every reply that does not answer a message (greetings, EHLO, MAIL, RCPT, 354, BDAT's
    first chunk, AUTH, HELP, …) names none, whatever its wording."""
    for path in wire_files():
        replies = wire_replies(path)
        if path.stem.split("-", 1)[1] in MESSAGE_EXCHANGES:
            replies = replies[:-1]
        for each in replies:
            assert queue_id(each) is None, (path.name, each)


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (b"250 2.0.0 Ok: queued as 955792125E0\r\n", "955792125E0"),  # Postfix
        (b"250 2.0.0 Ok: 143 bytes queued as 5547D212608\r\n", "5547D212608"),  # Postfix, BDAT
        (b"250 OK id=1xXPEh-0003iq-06\r\n", "1xXPEh-0003iq-06"),  # Exim
        (b"250- 60 byte chunk, total 143\r\n250 OK id=1xXPEn-0003j6-1T\r\n", "1xXPEn-0003j6-1T"),
        (b"250 2.0.0 4fc9c04c Message accepted for delivery\r\n", "4fc9c04c"),  # OpenSMTPD
        (b"250 2.0.0 Ok: queued as 0000000001\r\n", "0000000001"),  # the embedded server
        (b"250 2.0.0 x7K3abc123 Message accepted for delivery\r\n", "x7K3abc123"),  # Sendmail
        (
            b"250 2.6.0 <AM0PR01MB1234@eurprd01.prod.exchangelabs.com> [InternalId=123, "
            b"Hostname=AM0PR01MB1234.eurprd01.prod.exchangelabs.com] 5120 bytes in 0.105, "
            b"47.619 KB/sec Queued mail for delivery\r\n",
            "AM0PR01MB1234@eurprd01.prod.exchangelabs.com",
        ),  # Microsoft 365, Exchange
        (
            b"250 2.0.0 OK  1700000000 "
            b"a1-20020a17090a123400b00123456789si1234567pjb.12 - gsmtp\r\n",
            "a1-20020a17090a123400b00123456789si1234567pjb.12",
        ),  # Gmail
    ],
)
def test_each_known_wording_gives_its_id(wire: bytes, expected: str) -> None:
    assert queue_id(reply(wire)) == expected


@pytest.mark.parametrize(
    "wire",
    [
        b"250 2.0.0 Ok\r\n",  # accepted, no id said
        b"250 Message accepted\r\n",
        b"554 5.7.1 Ok: queued as 955792125E0\r\n",  # a refusal names no message
        b"250 2.0.0 Ok: queued as \x1b[2J\r\n",  # an escape sequence is no id
        b"250 2.0.0 Ok: queued as caf\xc3\xa9\r\n",  # nor is text that is not ASCII
    ],
)
def test_a_reply_without_a_known_wording_names_none(wire: bytes) -> None:
    assert queue_id(reply(wire)) is None
