"""The embedded server behind a PROXY header and with XCLIENT, driven by smtplib and raw
sockets: what it was told is kept on the message and said by describe()."""

from __future__ import annotations

import datetime as dt
import smtplib
import socket
from collections.abc import Callable

import pytest

from smtptui.protocol.proxy import proxy_v2
from smtptui.server import EmbeddedServer, ReceivedMessage, describe

MakeServer = Callable[..., EmbeddedServer]
MESSAGE = b"Subject: Hello\r\n\r\nHi.\r\n"


def test_xclient_with_smtplib(make_server: MakeServer) -> None:
    server = make_server(xclient=True)
    with smtplib.SMTP(server.host, server.port, timeout=5) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("xclient")
        code, text = smtp.docmd("XCLIENT", "ADDR=192.0.2.1 NAME=spam+2Ebot.example PORT=4000")
        assert (code, text) == (220, b"smtptui.demo ESMTP smtptui")
        assert smtp.docmd("MAIL", "FROM:<a@example.org>")[0] == 503  # EHLO again first
        smtp.ehlo()
        smtp.sendmail("a@example.org", ["b@example.org"], MESSAGE)
        assert smtp.docmd("XCLIENT", "ADDR")[0] == 501
        assert smtp.docmd("XCLIENT", "BOGUS=1")[1] == b"5.5.4 Bad XCLIENT attribute name: BOGUS"
    [message] = server.messages
    told = (("ADDR", "192.0.2.1"), ("NAME", "spam.bot.example"), ("PORT", "4000"))
    assert message.xclient == told
    assert message.proxied is None


def test_without_xclient_it_is_not_offered(make_server: MakeServer) -> None:
    server = make_server()
    with smtplib.SMTP(server.host, server.port, timeout=5) as smtp:
        smtp.ehlo()
        assert not smtp.has_extn("xclient")
        assert smtp.docmd("XCLIENT", "ADDR=192.0.2.1")[0] == 500


def test_a_proxy_v2_header_over_a_raw_socket(make_server: MakeServer) -> None:
    server = make_server(proxy_protocol=True)
    with socket.create_connection((server.host, server.port), 5) as sock:
        sock.sendall(proxy_v2(("203.0.113.9", 6000), ("198.51.100.2", 25)))
        with sock.makefile("rb") as replies:
            assert replies.readline().startswith(b"220 ")
            sock.sendall(b"QUIT\r\n")
            assert replies.readline().startswith(b"221 ")


def test_no_header_no_greeting(make_server: MakeServer) -> None:
    """A server expecting a PROXY header hangs up on a client that sends bytes that are
    not one (aiosmtpd's way): nothing reaches SMTP."""
    server = make_server(proxy_protocol=True)
    with socket.create_connection((server.host, server.port), 5) as sock:
        sock.sendall(b"EHLO me\r\n")
        assert sock.recv(100) == b""
    assert not server.messages


def test_proxy_protocol_and_implicit_tls_are_refused() -> None:
    with pytest.raises(ValueError, match="before TLS"):
        EmbeddedServer(proxy_protocol=True, implicit_tls=True)


def test_describe_says_what_it_was_told() -> None:
    message = ReceivedMessage(
        peer="127.0.0.1:40000",
        mail_from="a@example.org",
        rcpt_tos=("b@example.org",),
        data=MESSAGE,
        mail_options=(),
        rcpt_options=(),
        authenticated_as=None,
        tls=False,
        received_at=dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        proxied="192.0.2.1:5555",
        xclient=(("ADDR", "192.0.2.7"), ("NAME", "[UNAVAILABLE]")),
    )
    assert describe(message).endswith(
        "Subject: Hello; client (PROXY): 192.0.2.1:5555; XCLIENT ADDR=192.0.2.7 NAME=[UNAVAILABLE]"
    )


def test_xclient_without_attributes(make_server: MakeServer) -> None:
    server = make_server(xclient=True)
    with smtplib.SMTP(server.host, server.port, timeout=5) as smtp:
        assert smtp.docmd("XCLIENT") == (501, b"5.5.4 Syntax: XCLIENT attribute=value [...]")
