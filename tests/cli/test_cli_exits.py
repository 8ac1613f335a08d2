"""``smtptui run``'s exit status, one scripted misbehaving server per row of swaks' table, and
its stop points: the real command against a server address, as a script runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

from smtptui.session import Exit

from support.certificates import common_name, server_context
from support.processes import smtptui_run
from support.scripted import Answer, ScriptedServer, dialogue, hang_up, start_tls, well_behaved

pytestmark = pytest.mark.timeout(60)

TO = ("--to", "bob@example.org")
STARTTLS = b"250-mx.example\r\n250 STARTTLS\r\n"
REFUSED = b"550 5.7.1 no\r\n"


@dataclass(frozen=True)
class Row:
    status: Exit
    answers: dict[str, Answer | list[Answer]] = field(default_factory=dict)
    args: tuple[str, ...] = ("--plain", *TO)
    greeting: bytes = b"220 mx.example ESMTP\r\n"
    quits: bool = True  # the connection is still open after the failure: QUIT goes


ROWS = [
    Row(Exit.OK),
    Row(Exit.CLOSED, {"MAIL": hang_up()}, quits=False),
    Row(Exit.BANNER, greeting=b"554 5.3.2 no service here\r\n"),
    Row(Exit.EHLO, {"EHLO": REFUSED, "HELO": REFUSED}),
    Row(Exit.MAIL, {"MAIL": REFUSED}),
    Row(Exit.RCPT, {"RCPT": REFUSED}),
    Row(Exit.DATA, {"DATA": b"554 5.5.1 no valid recipients\r\n"}),
    Row(Exit.DOT, {".": b"554 5.7.1 spam\r\n"}),
    Row(
        Exit.AUTH,
        {"EHLO": b"250-mx.example\r\n250 AUTH PLAIN\r\n", "AUTH": b"535 5.7.8 no\r\n"},
        ("--plain", "--user", "alice", "--plaintext-auth", *TO),
    ),
    Row(
        Exit.TLS,
        {"EHLO": STARTTLS, "STARTTLS": b"454 4.7.0 not now\r\n"},
        ("--no-verify", *TO),
    ),
    Row(
        Exit.EHLO_TLS,
        {"EHLO": [STARTTLS, REFUSED], "HELO": REFUSED, "STARTTLS": start_tls()},
        ("--no-verify", *TO),
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.status.name for row in ROWS])
async def test_each_failure_exits_with_its_status_and_quits_if_it_can(row: Row) -> None:
    env = {**os.environ, "SMTPTUI_PASSWORD": "secret"}
    script = dialogue(row.answers, greeting=row.greeting)
    context = server_context(common_name("mx.example"), ip="127.0.0.1")
    async with ScriptedServer(script, tls=context) as server:
        status, out, err = await smtptui_run(f"{server.host}:{server.port}", *row.args, env=env)
        await server.finished()
    assert status == row.status, out + err
    assert "*** " not in out and "Traceback" not in err
    assert ("*** " in err) == (row.status is not Exit.OK)
    received = server.peers[0].received
    assert (received[-1] == b"QUIT\r\n") == row.quits, received
    if row.quits:  # inside TLS, the arrows are ~> and <~
        assert out.replace("~", "-").splitlines()[-3:-1] == [" -> QUIT", "<-  221 bye"]


async def test_a_connection_refused_exits_2() -> None:
    with socket.socket() as probe:  # a port nothing listens on any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    status, out, err = await smtptui_run(f"127.0.0.1:{port}", "--plain")
    assert status == Exit.CONNECT
    assert out.startswith("=== Connecting to ") and err.startswith("*** ") and "refused" in err


async def test_bad_arguments_exit_1_not_clicks_2() -> None:
    status, _, err = await smtptui_run("127.0.0.1:9", "--quit-after", "dot")
    assert status == Exit.USAGE and "Invalid value for '--quit-after'" in err


def test_every_row_of_the_table_is_tested_and_shown_in_help() -> None:
    tested = {row.status for row in ROWS} | {Exit.CONNECT, Exit.USAGE}
    assert tested == set(Exit)
    shown = subprocess.run(
        [sys.executable, "-m", "smtptui", "run", "--help"], capture_output=True, text=True
    ).stdout
    for status in Exit:
        assert f"{status.value:>4}  {status.meaning}" in shown


async def test_ehlo_refused_with_5xx_falls_back_to_helo() -> None:
    async with ScriptedServer(dialogue({"EHLO": b"502 5.5.2 what?\r\n"})) as server:
        status, out, err = await smtptui_run(f"{server.host}:{server.port}", "--plain", *TO)
    assert status == Exit.OK, out + err
    assert [line.split()[0] for line in server.peers[0].received[:3]] == [
        b"EHLO",
        b"HELO",
        b"MAIL",
    ]


async def test_helo_forces_helo() -> None:
    async with ScriptedServer(well_behaved) as server:
        status, out, err = await smtptui_run(
            f"{server.host}:{server.port}", "--plain", "--helo", *TO
        )
    assert status == Exit.OK, out + err
    assert server.peers[0].received[0].startswith(b"HELO ")


@pytest.mark.parametrize(
    ("flag", "sent"),
    [
        ("--quit-after=connect", [b"QUIT"]),
        ("--quit-after=ehlo", [b"EHLO", b"QUIT"]),
        ("--quit-after=mail", [b"EHLO", b"MAIL", b"QUIT"]),
        ("--quit-after=rcpt", [b"EHLO", b"MAIL", b"RCPT", b"RCPT", b"QUIT"]),
        ("--drop-after=connect", []),
        ("--drop-after=rcpt", [b"EHLO", b"MAIL", b"RCPT", b"RCPT"]),
        ("--drop-after=data", [b"EHLO", b"MAIL", b"RCPT", b"RCPT", b"DATA"]),
        ("--drop-after=dot", [b"EHLO", b"MAIL", b"RCPT", b"RCPT", b"DATA"]),
    ],
)
async def test_stop_points_end_the_dialogue_there(flag: str, sent: list[bytes]) -> None:
    """A stop the run cannot reach here (tls, auth on a plain run without a user) stops
    after the last step before it: --quit-after=ehlo stands for them."""
    async with ScriptedServer(well_behaved) as server:
        where = f"{server.host}:{server.port}"
        status, out, err = await smtptui_run(where, "--plain", flag, *TO, "--to", "c@example.org")
        await server.finished()
    assert status == Exit.OK, out + err
    assert [line.split()[0] for line in server.peers[0].received if line] == sent
    assert err == ""
    last = out.splitlines()[-1]
    if flag.startswith("--quit"):
        assert out.splitlines()[-3:-1] == [" -> QUIT", "<-  221 bye"]
    else:
        assert last.startswith("=== ") and "QUIT" not in out


async def test_quit_after_rcpt_reports_a_refused_recipient() -> None:
    """The loop over addresses: one --to each, the status says whether it is taken."""
    async with ScriptedServer(dialogue({"RCPT": REFUSED})) as server:
        where = f"{server.host}:{server.port}"
        status, out, err = await smtptui_run(where, "--plain", "--quit-after", "rcpt", *TO)
    assert status == Exit.RCPT, out + err
    assert server.peers[0].received[-1] == b"QUIT\r\n"
    assert not any(line.startswith(b"DATA") for line in server.peers[0].received)


AUTH_OFFERED = b"250-mx.example\r\n250 AUTH PLAIN LOGIN\r\n"
AUTH_REFUSED = b"535 5.7.8 no\r\n"


@pytest.mark.parametrize(
    ("mechanisms", "answers", "status", "tried"),
    [
        ("XOAUTH2,PLAIN,LOGIN", [AUTH_REFUSED, b"235 2.7.0 ok\r\n"], Exit.OK, ["PLAIN", "LOGIN"]),
        ("login,plain", [b"235 2.7.0 ok\r\n"], Exit.OK, ["LOGIN"]),
        ("PLAIN,LOGIN", [AUTH_REFUSED], Exit.AUTH, ["PLAIN", "LOGIN"]),
        ("CRAM-MD5,XOAUTH2", [AUTH_REFUSED], Exit.AUTH, []),
    ],
)
async def test_auth_tries_each_allowed_mechanism_the_server_offers(
    mechanisms: str, answers: list[Answer], status: Exit, tried: list[str]
) -> None:
    env = {**os.environ, "SMTPTUI_PASSWORD": "secret"}
    script = dialogue({"EHLO": AUTH_OFFERED, "AUTH": answers})
    async with ScriptedServer(script) as server:
        where = f"{server.host}:{server.port}"
        args = ("--plain", "--user", "alice", "--plaintext-auth", "--auth", mechanisms)
        code, out, err = await smtptui_run(where, *args, env=env)
        await server.finished()
    assert code == status, out + err
    received = server.peers[0].received
    assert [line.split()[1].decode() for line in received if line.startswith(b"AUTH")] == tried
    assert received[-1] == b"QUIT\r\n"
    if not tried:
        assert "no AUTH mechanism allowed: the server advertises PLAIN LOGIN" in err
