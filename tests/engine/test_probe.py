"""``probe_port`` against real servers: the embedded server (STARTTLS, implicit TLS, a
self-signed certificate, AUTH before TLS) and scripted ones that misbehave. Every failure
must come back as data, at the stage it happened, within ``DEADLINE`` step timeouts."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from smtptui.engine.probe import DEADLINE, PortSecurity, probe_port
from smtptui.server import EmbeddedServer

from support.scripted import ScriptedServer, dialogue, play, stall

MECHANISMS = ("CRAM-MD5", "LOGIN", "OAUTHBEARER", "PLAIN", "SCRAM-SHA-256", "XOAUTH2")
"""What the embedded server offers (inside TLS unless told otherwise)."""

REFUSED_STARTTLS = dialogue(
    {
        "EHLO": b"250-mx.example\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n",
        "STARTTLS": b"454 4.7.0 TLS not available due to temporary reason\r\n",
    }
)


def free_port() -> int:
    """A port on 127.0.0.1 where nothing listens once this returns."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_starttls_port_with_auth_only_inside_tls(
    make_server: Callable[..., EmbeddedServer], cafile: str
) -> None:
    server = make_server()
    probe = await probe_port("127.0.0.1", server.port, PortSecurity.STARTTLS, cafile=cafile)
    assert (probe.stage, probe.error, probe.verify_error) == ("done", "", "")
    assert probe.greeting is not None and probe.greeting.code == 220
    assert probe.before is not None and probe.before.starttls
    assert probe.before.auth_mechanisms == ()
    assert probe.after is not None and probe.after.auth_mechanisms == MECHANISMS
    assert probe.tls is not None and probe.tls_verified and probe.connected


async def test_implicit_tls_port(tls_server: EmbeddedServer, cafile: str) -> None:
    probe = await probe_port("127.0.0.1", tls_server.port, PortSecurity.TLS, cafile=cafile)
    assert (probe.stage, probe.error) == ("done", "")
    assert probe.before is None and probe.after is not None
    assert probe.after.auth_mechanisms == MECHANISMS
    assert probe.tls_verified and probe.tls is not None and probe.tls.version.startswith("TLSv1")


async def test_a_self_signed_certificate_is_noted_and_the_probe_goes_on(
    untrusted_server: EmbeddedServer, cafile: str
) -> None:
    probe = await probe_port(
        "127.0.0.1", untrusted_server.port, PortSecurity.STARTTLS, cafile=cafile
    )
    assert "self-signed" in probe.verify_error
    assert probe.stage == "done" and probe.tls is not None and not probe.tls_verified
    assert probe.after is not None and probe.after.auth_mechanisms == MECHANISMS


async def test_a_refused_port() -> None:
    probe = await probe_port("127.0.0.1", free_port(), PortSecurity.STARTTLS, timeout=2)
    assert probe.stage == "connect" and not probe.connected
    assert "refused" in probe.error


async def test_a_silent_server_ends_within_the_deadline() -> None:
    async with ScriptedServer(play(stall)) as server:
        probe = await probe_port("127.0.0.1", server.port, PortSecurity.STARTTLS, timeout=0.5)
    assert probe.stage == "greeting" and probe.connected and probe.greeting is None
    assert probe.error and probe.elapsed < DEADLINE * 0.5


async def test_a_refused_starttls_stops_at_starttls_with_the_reply() -> None:
    async with ScriptedServer(REFUSED_STARTTLS) as server:
        probe = await probe_port("127.0.0.1", server.port, PortSecurity.STARTTLS, timeout=2)
    assert probe.stage == "starttls" and probe.error.startswith("454 4.7.0")
    assert probe.tls is None and probe.after is None
    assert probe.before is not None and probe.before.auth_mechanisms == ("PLAIN",)


async def test_auth_offered_before_tls_is_seen_outside_and_inside(
    make_server: Callable[..., EmbeddedServer], cafile: str
) -> None:
    server = make_server(auth_require_tls=False)
    probe = await probe_port("127.0.0.1", server.port, PortSecurity.STARTTLS, cafile=cafile)
    assert probe.stage == "done"
    assert probe.before is not None and probe.before.auth_mechanisms == MECHANISMS
    assert probe.after is not None and probe.after.auth_mechanisms == MECHANISMS


async def test_plain_stops_after_ehlo(server: EmbeddedServer) -> None:
    probe = await probe_port("127.0.0.1", server.port, PortSecurity.PLAIN, timeout=2)
    assert probe.stage == "done" and probe.tls is None and probe.after is None
    assert probe.before is not None and probe.before.hostname == "smtptui.demo"


async def test_starttls_on_an_implicit_tls_port_says_so(tls_server: EmbeddedServer) -> None:
    probe = await probe_port("127.0.0.1", tls_server.port, PortSecurity.STARTTLS, timeout=2)
    assert (probe.stage, probe.cause) == ("greeting", "implicit-tls")
    assert probe.connected and "implicit TLS" in probe.error


async def test_implicit_tls_on_a_starttls_port_says_so(server: EmbeddedServer) -> None:
    probe = await probe_port("127.0.0.1", server.port, PortSecurity.TLS, timeout=2)
    assert (probe.stage, probe.cause) == ("handshake", "plaintext")


@pytest.mark.parametrize(
    ("greeting", "stage"),
    [(b"554 5.7.1 go away\r\n", "greeting"), (b"HTTP/1.1 400 Bad Request\r\n\r\n", "greeting")],
)
async def test_a_port_that_does_not_greet_with_220(greeting: bytes, stage: str) -> None:
    async with ScriptedServer(dialogue(greeting=greeting)) as server:
        probe = await probe_port("127.0.0.1", server.port, PortSecurity.STARTTLS, timeout=2)
    assert probe.stage == stage and probe.error and probe.before is None


async def test_a_hostile_greeting_is_kept_exactly_as_data() -> None:
    """The engine keeps the bytes; making them visible is the session's (tests/session)."""
    async with ScriptedServer(dialogue(greeting=b"220 evil\x1b[2J.example ESMTP\r\n")) as server:
        probe = await probe_port("127.0.0.1", server.port, PortSecurity.STARTTLS, timeout=2)
    assert probe.greeting is not None and probe.greeting.lines == (b"evil\x1b[2J.example ESMTP",)
