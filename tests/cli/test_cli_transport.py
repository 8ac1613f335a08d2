"""``smtptui run``'s ways to the server, as a user runs them: unix:/path, --pipe, --via,
--source, -4 and -6, against the embedded server, ``serve --stdio`` and pproxy."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from smtptui.server import EmbeddedServer
from smtptui.session import Exit

from support.processes import smtptui_run_sync
from support.proxies import proxy

STDIO = f"{shlex.quote(sys.executable)} -m smtptui serve --stdio"
SEND = ("--from", "alice@example.org", "--to", "bob@example.org")


def test_run_over_a_unix_socket_checks_tls_for_the_name_given(
    make_server: Callable[..., EmbeddedServer], tmp_path: Path, cafile: str
) -> None:
    path = tmp_path / "smtp.sock"
    server = make_server(unix_path=str(path))
    done = smtptui_run_sync(f"unix:{path}", "--cafile", cafile, "--verify-name", "localhost", *SEND)
    assert done.returncode == Exit.OK, done.stderr
    assert f"=== Connecting to unix:{path}…" in done.stdout
    assert "chain and name localhost verified" in done.stdout
    assert server.messages[0].tls


def test_run_through_a_pipe() -> None:
    done = smtptui_run_sync("--pipe", STDIO, "--no-verify", *SEND)
    assert done.returncode == Exit.OK, done.stderr
    assert f"=== Connecting through `{STDIO}`…" in done.stdout
    assert "=== TLS established" in done.stdout


def test_run_pipe_that_is_not_found_or_fails() -> None:
    done = smtptui_run_sync("--pipe", "smtptui-no-such-command", *SEND)
    assert done.returncode == Exit.CONNECT
    assert "command not found: smtptui-no-such-command" in done.stderr
    script = "import sys; sys.stderr.write('exim: no such config\\n'); sys.exit(3)"
    done = smtptui_run_sync("--pipe", f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}")
    assert done.returncode == Exit.CONNECT
    assert "exited with status 3; its stderr: exim: no such config" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_via_socks5_with_a_source_address(server: EmbeddedServer, cafile: str) -> None:
    with proxy("socks5", "alice:s3cret") as url:
        via = url.replace("//", "//alice:s3cret@")
        done = smtptui_run_sync(
            f"127.0.0.1:{server.port}", "--via", via, "--source", "127.0.0.1", "-4",
            "--cafile", cafile, *SEND,
        )  # fmt: skip
    assert done.returncode == Exit.OK, done.stderr
    shown = url.replace("//", "//alice@")
    assert f"via {shown} from 127.0.0.1 over IPv4…" in done.stdout
    assert "s3cret" not in done.stdout + done.stderr
    assert "chain and name 127.0.0.1 verified" in done.stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("mx.example", "--via", "ftp://proxy:21"), "Invalid value for '--via'"),
        (("mx.example", "--source", "nowhere"), "Invalid value for '--source'"),
        (("unix:/run/lmtp", "-6"), "Invalid value for '-4/-6'"),
        (("mx.example", "--pipe", "cat"), "--pipe runs the server as a command: give no HOST"),
        (("--pipe", "'unclosed"), "Invalid value for '--pipe'"),
    ],
)
def test_bad_transport_flags_are_usage_errors(args: tuple[str, ...], said: str) -> None:
    done = smtptui_run_sync(*args)
    assert done.returncode == Exit.USAGE
    assert said in done.stderr
    assert "Traceback" not in done.stderr


def test_transport_keys_from_the_environment(server: EmbeddedServer) -> None:
    env = {**os.environ, "SMTPTUI_SOURCE": "127.0.0.2"}
    done = smtptui_run_sync(f"127.0.0.1:{server.port}", "--plain", *SEND, env=env)
    assert done.returncode == Exit.OK, done.stderr
    assert server.messages[0].peer.startswith("127.0.0.2")
