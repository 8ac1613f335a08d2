"""``smtptui run``'s transfer flags (--no-pipelining, --chunking, --chunk-size) and
--unadvertised-ok, run as a user runs them: a real process against the embedded server."""

from __future__ import annotations

import math

from click.testing import CliRunner

from smtptui.cli import DEMO_RECIPIENT, DEMO_SENDER, demo_message, main
from smtptui.protocol.data import encode_message
from smtptui.server import EmbeddedServer

from support.processes import smtptui_run_sync

MESSAGE = encode_message(demo_message(DEMO_SENDER, (DEMO_RECIPIENT,)))
"""The demo message as it goes on the wire (CRLF line ends)."""
MAIL = f" ~> MAIL FROM:<{DEMO_SENDER}>"
RCPT = f" ~> RCPT TO:<{DEMO_RECIPIENT}>"


def transaction(out: str) -> list[str]:
    """The printed commands and replies from MAIL FROM to the message's reply, without
    the message's own lines: where the order of the dialogue shows."""
    lines = out.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith(MAIL))
    end = next(n for n, line in enumerate(lines) if line.startswith("<~  250 2.0.0 Ok: queued"))
    return [line for line in lines[start : end + 1] if not _body(line)]


def _body(line: str) -> bool:
    """A line of the message itself (its text, not a command or a reply)."""
    return line.startswith(" ~> ") and not line[4:].startswith(("MAIL", "RCPT", "DATA", "BDAT"))


def test_demo_pipelines_mail_rcpt_and_data_then_reads_the_replies() -> None:
    result = smtptui_run_sync("--demo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert transaction(result.stdout)[:6] == [
        f"{MAIL} size={len(MESSAGE)}",
        RCPT,
        " ~> DATA",
        "<~  250 2.1.0 Ok",
        "<~  250 2.1.5 Ok",
        "<~  354 End data with <CR><LF>.<CR><LF>",
    ]


def test_no_pipelining_waits_for_each_reply() -> None:
    result = smtptui_run_sync("--demo", "--no-pipelining")
    assert result.returncode == 0, result.stdout + result.stderr
    assert transaction(result.stdout)[:6] == [
        f"{MAIL} size={len(MESSAGE)}",
        "<~  250 2.1.0 Ok",
        RCPT,
        "<~  250 2.1.5 Ok",
        " ~> DATA",
        "<~  354 End data with <CR><LF>.<CR><LF>",
    ]
    assert "=== The server received" in result.stdout


def test_chunking_sends_the_message_in_one_last_bdat() -> None:
    result = smtptui_run_sync("--demo", "--chunking")
    assert result.returncode == 0, result.stdout + result.stderr
    assert transaction(result.stdout) == [
        f"{MAIL} size={len(MESSAGE)}",
        RCPT,
        "<~  250 2.1.0 Ok",
        "<~  250 2.1.5 Ok",
        f" ~> BDAT {len(MESSAGE)} LAST",
        "<~  250 2.0.0 Ok: queued as 0000000001",
    ]
    assert " ~> DATA" not in result.stdout and " ~> ." not in result.stdout
    assert f"{len(MESSAGE)} bytes Subject: Hello from smtptui" in result.stdout


def test_chunk_size_sends_chunks_of_that_size_and_the_server_gets_the_message(
    make_server,
) -> None:
    server: EmbeddedServer = make_server(starttls=False)
    where = f"{server.host}:{server.port}"
    to = ("--from", DEMO_SENDER, "--to", DEMO_RECIPIENT)
    result = smtptui_run_sync(where, "--plain", *to, "--chunk-size", "10")
    assert result.returncode == 0, result.stdout + result.stderr
    bdats = [line for line in result.stdout.splitlines() if line.startswith(" -> BDAT")]
    chunks = math.ceil(len(MESSAGE) / 10)
    assert bdats == [" -> BDAT 10"] * (chunks - 1) + [f" -> BDAT {len(MESSAGE) % 10} LAST"]
    assert f"<-  250 2.0.0 10 bytes received, {10 * (chunks - 1)} in total" in result.stdout
    [message] = server.messages
    assert message.data == MESSAGE


def test_demo_chunk_size_prints_bdat_lines() -> None:
    result = smtptui_run_sync("--demo", "--chunk-size", "10")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.count(" ~> BDAT 10\n") == len(MESSAGE) // 10
    assert f" ~> BDAT {len(MESSAGE) % 10} LAST\n" in out
    assert f"{len(MESSAGE)} bytes Subject: Hello from smtptui" in out


def test_an_unadvertised_parameter_is_refused_with_a_hint_and_nothing_sent() -> None:
    result = smtptui_run_sync("--demo", "--notify", "success")
    assert result.returncode == 23
    out = result.stdout
    assert result.stderr == (
        "*** SEND not sent: the server did not advertise what these envelope parameters "
        "need (NOTIFY needs DSN); it needs your confirmation\n"
        "*** add --unadvertised-ok to send them anyway\n"
    )
    assert "MAIL FROM" not in out and "The server received" not in out
    assert "Traceback" not in result.stderr


def test_unadvertised_ok_sends_them_and_shows_what_the_server_answers() -> None:
    result = smtptui_run_sync("--demo", "--notify", "success", "--unadvertised-ok")
    out = result.stdout
    assert "=== ⚠ As you chose: the next envelope goes with parameters the server did not" in out
    assert f"{RCPT} NOTIFY=SUCCESS\n" in out
    # aiosmtpd knows no DSN: it refuses the parameter, and so the only recipient.
    assert "<~  555 RCPT TO parameters not recognized or not implemented" in out
    assert f"*** every recipient refused: {DEMO_RECIPIENT} (555 " in result.stderr
    assert "--unadvertised-ok to send" not in out + result.stderr
    assert result.returncode == 24
    assert "Traceback" not in result.stderr


def test_chunk_size_must_be_positive() -> None:
    # Port 9 on a reserved address: the error must come before any attempt to connect.
    result = CliRunner().invoke(main, ["run", "192.0.2.1:9", "--plain", "--chunk-size", "0"])
    assert result.exit_code == 1, result.output
    assert "Invalid value for '--chunk-size': 0 is not in the range x>=1" in result.output


def test_transfer_flags_need_a_recipient() -> None:
    for flag in ("--chunking", "--no-pipelining", "--chunk-size=5"):
        result = CliRunner().invoke(main, ["run", "192.0.2.1:9", "--plain", flag])
        assert result.exit_code == 1, result.output
        assert "--chunking, --chunk-size and --no-pipelining need at least one --to" in (
            result.output
        )
