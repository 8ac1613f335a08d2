"""No byte from a server, a certificate or a client of ``serve`` reaches the terminal raw:
``smtptui run`` and ``smtptui serve`` as real processes, their stdout and stderr read as bytes."""

from __future__ import annotations

import socket
from collections.abc import Callable

from smtptui.server import EmbeddedServer

from support.certificates import server_context
from support.hostile import HOSTILE, HOSTILE_ASCII, hostile_name, hostile_server, raw
from support.processes import serving, smtptui_run
from support.scripted import ScriptedServer

SHOWN = r"pwned\x07\x1b[2J"
"""How the hostile text looks once written out."""


async def test_run_prints_a_hostile_server_written_out() -> None:
    async with ScriptedServer(hostile_server()) as server:
        where = f"{server.host}:{server.port}"
        status, out, err = await smtptui_run(where, "--plain", "--to", "bob@example.org")
    assert status == 24
    assert raw(out + err) == set(), out + err
    assert f"<-  220 mx.example \\x1b]0;{SHOWN}" in out  # greeting
    assert f"<-  250-X\\x1b]0;{SHOWN}" in out  # EHLO
    assert (
        f"*** every recipient refused: bob@example.org (550 5.1.1 <bob@example.org> \\x1b]0;{SHOWN}"
        in err
    )


async def test_run_prints_a_hostile_certificate_written_out(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    context = server_context(
        hostile_name(), dns_names=(f"mx{HOSTILE_ASCII}.example",), ip="127.0.0.1"
    )
    server = make_server(tls_context=context)
    status, out, err = await smtptui_run(f"{server.host}:{server.port}", "--no-verify")
    assert status == 0, out + err
    assert raw(out + err) == set(), out + err
    [certificate] = [line for line in out.splitlines() if line.startswith("=== certificate ")]
    assert SHOWN in certificate and r"Evil\x0a\<-  250 " in certificate  # no fake line


def test_serve_prints_a_hostile_client_written_out() -> None:
    with serving() as served:
        quoted = b'"' + HOSTILE + b'"@example.org'
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as client:
            replies = client.makefile("rb")
            assert replies.readline().startswith(b"220 ")
            for command in (
                b"EHLO client.example",
                HOSTILE_ASCII.encode() + b" nobody knows",  # aiosmtpd logs it, on stderr
                b"MAIL FROM:<" + quoted + b">",
                b"RCPT TO:<" + quoted + b">",
                b"DATA",
                b"Subject: " + HOSTILE + b"\r\n\r\nHi.\r\n.",
                b"QUIT",
            ):
                client.sendall(command + b"\r\n")
                while (reply := replies.readline())[3:4] == b"-":
                    pass
                assert reply[:1] in b"235", (command, reply)
    out, err = served.out, served.err
    assert raw(out + err, keep="\n") == set(), out + err
    [message] = out.splitlines()  # after the "Listening on" line read above
    assert message.count(SHOWN) == 3  # sender, recipient, subject
    assert r"unrecognised: \x1b]0;PWNED\x07" in err
