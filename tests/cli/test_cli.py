"""The command line, run as a user runs it: a real process against real servers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from smtptui.server import EmbeddedServer

from support.processes import smtptui_run_sync


def test_demo_runs_the_whole_dialogue_and_exits_zero() -> None:
    result = smtptui_run_sync("--demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for line in (
        "<-  220 ",
        " -> EHLO client.smtptui.demo",
        " -> STARTTLS",
        "=== TLS established: TLSv1.3",
        " ~> AUTH ",
        "<~  235 ",
        " ~> MAIL FROM:<alice@smtptui.demo>",
        " ~> RCPT TO:<bob@smtptui.demo>",
        "<~  354 ",
        " ~> .",
        " ~> QUIT",
        "<~  221 ",
        "=== The server received",
    ):
        assert line in out, f"{line!r} missing from:\n{out}"
    lines = out.splitlines()
    connected = next(n for n, line in enumerate(lines) if line.startswith("=== Connected to "))
    assert lines[connected + 1].startswith("<-  220 ")  # the greeting after the connection
    assert "unsolicited" not in out
    assert "wonderland" not in out
    assert "Traceback" not in result.stderr
    assert result.stderr == ""


def test_demo_takes_to_and_shows_a_refused_recipient() -> None:
    result = smtptui_run_sync("--demo", "--to", "unknown@smtptui.demo")
    assert result.returncode == 24
    out = result.stdout
    assert " ~> RCPT TO:<unknown@smtptui.demo>" in out
    assert "<~  550 5.1.1 <unknown@smtptui.demo>: Recipient address rejected" in out
    assert "*** every recipient refused: unknown@smtptui.demo (550 5.1.1 " in result.stderr
    assert "The server received" not in out
    assert "Traceback" not in result.stderr


def test_demo_takes_from_to_and_user() -> None:
    env = {**os.environ, "SMTPTUI_PASSWORD": "not-the-password"}
    result = smtptui_run_sync("--demo", "--from", "carol@smtptui.demo", "--to", "dave@smtptui.demo")
    assert result.returncode == 0, result.stdout
    assert " ~> MAIL FROM:<carol@smtptui.demo>" in result.stdout
    assert " ~> RCPT TO:<dave@smtptui.demo>" in result.stdout
    assert "carol@smtptui.demo -> dave@smtptui.demo" in result.stdout  # what the server got
    refused = smtptui_run_sync("--demo", "--user", "mallory", env=env)
    assert refused.returncode == 28
    assert "<~  535 " in refused.stdout and "MAIL FROM" not in refused.stdout
    assert refused.stdout.splitlines()[-3:-1] == [" ~> QUIT", "<~  221 2.0.0 Bye"]


def test_demo_plain_runs_without_tls() -> None:
    result = smtptui_run_sync("--demo", "--plain")
    assert result.returncode == 0, result.stdout
    out = result.stdout
    assert " -> MAIL FROM:<alice@smtptui.demo>" in out  # -> : not inside TLS
    assert " -> STARTTLS" not in out and "TLS established" not in out
    assert " ~> " not in out and "<~  " not in out
    assert "AUTH" not in out.replace("250-AUTH", "")  # the demo offers AUTH inside TLS only
    assert "=== The server received" in out


def test_run_host_sends_from_logname_at_this_host(make_server) -> None:
    server: EmbeddedServer = make_server(starttls=False)
    env = {**os.environ, "LOGNAME": "tester"}
    result = smtptui_run_sync(
        f"127.0.0.1:{server.port}", "--plain", "--to", "carol@example.org", env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sender = f"tester@{socket.getfqdn()}"
    assert f" -> MAIL FROM:<{sender}>" in result.stdout
    assert server.messages[-1].mail_from == sender
    assert "alice@smtptui.demo" not in result.stdout
    assert "$LOGNAME@<this host's name>" in smtptui_run_sync("--help").stdout


def test_a_host_and_demo_together_is_a_usage_error() -> None:
    result = smtptui_run_sync("localhost", "--demo")
    assert result.returncode == 1
    assert "not both" in result.stderr


def test_host_argument_runs_a_session_and_sends(make_server) -> None:
    server: EmbeddedServer = make_server(starttls=False)
    result = smtptui_run_sync(f"127.0.0.1:{server.port}", "--plain", "--to", "carol@example.org")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "<-  250 2.0.0 Ok: queued" in result.stdout
    assert server.messages[-1].rcpt_tos == ("carol@example.org",)


def test_closed_port_fails_with_a_clear_line_and_no_traceback(make_server) -> None:
    server = make_server()
    port = server.port
    server.stop()
    result = smtptui_run_sync(f"127.0.0.1:{port}", "--plain")
    assert result.returncode == 2
    assert "*** " in result.stderr and "refused" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_host_is_a_usage_error_not_a_traceback() -> None:
    result = smtptui_run_sync("[::1")
    assert result.returncode == 1
    assert "closing ']'" in result.stderr
    assert "Traceback" not in result.stderr


def test_from_without_to_is_a_usage_error() -> None:
    result = smtptui_run_sync("localhost", "--from", "a@example.org")
    assert result.returncode == 1
    assert "--from needs at least one --to" in result.stderr


def test_auth_without_tls_needs_a_flag(make_server) -> None:
    server = make_server(auth_require_tls=False)
    where = f"{server.host}:{server.port}"
    env = {**os.environ, "SMTPTUI_PASSWORD": "wonderland"}
    refused = smtptui_run_sync(where, "--plain", "--user", "alice", env=env)
    assert refused.returncode == 28
    assert "AUTH not sent" in refused.stderr and "--plaintext-auth" in refused.stderr
    assert " -> QUIT" in refused.stdout
    allowed = smtptui_run_sync(where, "--plain", "--user", "alice", "--plaintext-auth", env=env)
    assert allowed.returncode == 0, allowed.stdout
    assert "<-  235 " in allowed.stdout and "wonderland" not in allowed.stdout


def test_a_reader_that_leaves_early_ends_nothing_in_a_traceback() -> None:
    """``smtptui run --demo | head -1``: the pipe closes after the first line; what is left
    goes nowhere, and the run still ends with its own status."""
    command = [sys.executable, "-m", "smtptui", "run", "--no-color", "--demo"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()
        process.stdout.close()  # as head does, once it has its line
        errors = process.stderr.read().decode()
        assert process.wait(timeout=60) == 0
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors
