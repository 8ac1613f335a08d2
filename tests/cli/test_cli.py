"""The command line, run as a user runs it: a real process against real servers."""

from __future__ import annotations

import os
import subprocess
import sys

from smtptui.server import EmbeddedServer


def smtptui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smtptui", "run", "--no-color", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_demo_runs_the_whole_dialogue_and_exits_zero() -> None:
    result = smtptui("--demo")
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


def test_host_argument_runs_a_session_and_sends(make_server) -> None:
    server: EmbeddedServer = make_server(starttls=False)
    result = smtptui(f"127.0.0.1:{server.port}", "--plain", "--to", "carol@example.org")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "<-  250 2.0.0 Ok: queued" in result.stdout
    assert server.messages[-1].rcpt_tos == ("carol@example.org",)


def test_closed_port_fails_with_a_clear_line_and_no_traceback(make_server) -> None:
    server = make_server()
    port = server.port
    server.stop()
    result = smtptui(f"127.0.0.1:{port}", "--plain")
    assert result.returncode == 1
    assert "*** " in result.stdout and "refused" in result.stdout
    assert "Traceback" not in result.stderr


def test_bad_host_is_a_usage_error_not_a_traceback() -> None:
    result = smtptui("[::1")
    assert result.returncode == 2
    assert "closing ']'" in result.stderr
    assert "Traceback" not in result.stderr


def test_from_without_to_is_a_usage_error() -> None:
    result = smtptui("localhost", "--from", "a@example.org")
    assert result.returncode == 2
    assert "--from needs at least one --to" in result.stderr


def test_auth_without_tls_needs_a_flag(make_server) -> None:
    server = make_server(auth_require_tls=False)
    where = f"{server.host}:{server.port}"
    env = {**os.environ, "SMTPTUI_PASSWORD": "wonderland"}
    refused = smtptui(where, "--plain", "--user", "alice", env=env)
    assert refused.returncode == 1
    assert "AUTH not sent" in refused.stdout and "--plaintext-auth" in refused.stdout
    allowed = smtptui(where, "--plain", "--user", "alice", "--plaintext-auth", env=env)
    assert allowed.returncode == 0, allowed.stdout
    assert "<-  235 " in allowed.stdout and "wonderland" not in allowed.stdout
