"""``smtptui run``'s --proxy-protocol, --proxy-source, --proxy-dest and --xclient, run as a
user runs them: a real process against the embedded server (the demo's, or one expecting
a PROXY header)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Callable

import pytest

from smtptui.server import EmbeddedServer

from support.processes import smtptui_run_sync, smtptui_sync

MakeServer = Callable[..., EmbeddedServer]


def test_demo_with_a_header_and_xclient() -> None:
    result = smtptui_run_sync(
        "--demo",
        "--proxy-protocol",
        "v1",
        "--proxy-source",
        "192.0.2.1:5555",
        "--proxy-dest",
        "198.51.100.2:25",
        "--xclient",
        "ADDR=203.0.113.7",
        "--xclient",
        "name=spam.example",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert " -> PROXY v1 TCP4 192.0.2.1:5555 → 198.51.100.2:25" in out
    assert " -> XCLIENT ADDR=203.0.113.7 NAME=spam.example" in out
    lines = out.splitlines()
    at = lines.index(" -> XCLIENT ADDR=203.0.113.7 NAME=spam.example")
    assert lines[at + 1].startswith("<-  220 ")
    assert lines[at + 2].startswith(" -> EHLO ")
    assert "client (PROXY): 192.0.2.1:5555; XCLIENT ADDR=203.0.113.7 NAME=spam.example" in out


def test_v2_to_a_server_expecting_it(make_server: MakeServer) -> None:
    server = make_server(proxy_protocol=True)
    result = smtptui_sync(
        "run",
        f"{server.host}:{server.port}",
        "--plain",
        "--proxy-protocol",
        "v2",
        "--to",
        "b@example.org",
        "--from",
        "a@example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " -> PROXY v2 TCP4 127.0.0.1:" in result.stdout
    assert "(28 bytes)" in result.stdout
    [message] = server.messages
    assert message.proxied == message.peer


@pytest.mark.parametrize(
    ("args", "flag", "words"),
    [
        (("--proxy-protocol", "v1", "--proxy-source", "nowhere:1"), "--proxy-source", "IP"),
        (("--proxy-dest", "192.0.2.1:25"), "--proxy-dest", "PROXY protocol version"),
        (("--xclient", "ADDR"), "--xclient", "NAME=VALUE"),
        (("--proxy-protocol", "v3"), "--proxy-protocol", "v3"),
    ],
)
def test_bad_values_name_their_flag(args, flag, words) -> None:
    result = smtptui_sync("run", "127.0.0.1:9", *args)
    assert result.returncode == 1, result.stdout + result.stderr  # run: usage errors are 1
    assert flag in result.stderr and words in result.stderr
    assert "Traceback" not in result.stderr


def test_an_xclient_attribute_the_demo_does_not_know() -> None:
    result = smtptui_run_sync("--demo", "--xclient", "FOO=1")
    assert result.returncode != 0
    assert "XCLIENT FOO: not an XCLIENT attribute" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_the_environment_gives_them_too(make_server: MakeServer) -> None:
    server = make_server(proxy_protocol=True, xclient=True)
    env = {
        "SMTPTUI_PROXY_PROTOCOL": "v1",
        "SMTPTUI_PROXY_SOURCE": "192.0.2.1:5555",
        "SMTPTUI_PROXY_DEST": "198.51.100.2:25",
        "SMTPTUI_XCLIENT": "ADDR=203.0.113.7 LOGIN=bob",
    }
    result = smtptui_sync(
        "run",
        f"{server.host}:{server.port}",
        "--plain",
        "--to",
        "b@example.org",
        "--from",
        "a@example.org",
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [message] = server.messages
    assert message.proxied == "192.0.2.1:5555"
    assert message.xclient == (("ADDR", "203.0.113.7"), ("LOGIN", "bob"))


def test_serve_with_proxy_protocol_shows_the_client_told() -> None:
    serve = subprocess.Popen(
        [sys.executable, "-m", "smtptui", "serve", "--port", "0", "--proxy-protocol"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        listening = serve.stdout.readline() if serve.stdout else ""
        assert "a PROXY header first" in listening, listening
        port = re.search(r"127\.0\.0\.1:(\d+)", listening)
        assert port is not None, listening
        result = smtptui_sync(
            "run",
            f"127.0.0.1:{port[1]}",
            "--plain",
            "--proxy-protocol",
            "v2",
            "--proxy-source",
            "192.0.2.1:5555",
            "--proxy-dest",
            "198.51.100.2:25",
            "--xclient",
            "NAME=[UNAVAILABLE]",
            "--to",
            "b@example.org",
            "--from",
            "a@example.org",
        )
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        serve.send_signal(signal.SIGINT)
        out, err = serve.communicate(timeout=30)
    assert serve.returncode == 0, err
    [message] = out.splitlines()
    assert message.endswith("; client (PROXY): 192.0.2.1:5555; XCLIENT NAME=[UNAVAILABLE]")
