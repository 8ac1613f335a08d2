"""How soon replies come, and the latency the engine and the transcript give them.

The first reply inside TLS 1.3 (to the EHLO after STARTTLS; the greeting, with implicit
TLS) must not wait for a delayed ACK of the server's session tickets (~40 ms on Linux):
against a server that holds it until they are acknowledged, as Postfix and OpenSMTPD do
(``support.tickets``), and against the embedded server (which does not: its sockets have
Nagle's algorithm off), on uvloop and on asyncio's loop.
A reply's latency runs from the command (or the connection) to the reply's first byte, in
the ``Received`` event and in the transcript alike.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest
import trustme

from smtptui.engine import SMTPClient
from smtptui.engine.events import ClientEvent, Connected, Received
from smtptui.engine.loop import run
from smtptui.server import EmbeddedServer
from smtptui.session.recorder import entry

from support.scripted import Peer, ScriptedServer, dialogue
from support.tickets import TicketServer

pytestmark = pytest.mark.timeout(60)

TRIES = 9
PROMPT = 0.035
"""Bound on the median latency of the EHLO after STARTTLS (or of the implicit TLS greeting,
handshake included): a few milliseconds on an idle machine, some 25 on one running four
test processes per core, and under the 40 ms a delayed ACK always adds (Linux's minimum)."""

LOOPS: dict[str, Callable[[Coroutine[Any, Any, list[float]]], list[float]]] = {
    "default loop": run,  # uvloop where installed
    "asyncio": asyncio.run,
}


def tls13(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(context)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    return context


async def ehlo_after_starttls(port: int, ca: trustme.CA) -> list[float]:
    """The EHLO-after-STARTTLS reply's latency, as the engine gives it, ``TRIES`` times."""
    latencies = []
    for _ in range(TRIES):
        events: list[ClientEvent] = []
        client = SMTPClient(
            "127.0.0.1", port, "client.example", ssl_context=tls13(ca), listener=events.append
        )
        await client.connect()
        await client.ehlo()
        await client.starttls()
        assert client.tls is not None and client.tls.version == "TLSv1.3"
        started = time.monotonic()
        assert (await client.ehlo())[0] == 250
        elapsed = time.monotonic() - started
        latency = [event for event in events if isinstance(event, Received)][-1].latency
        assert latency is not None and latency <= elapsed
        latencies.append(elapsed)
        await client.quit()
    return latencies


async def implicit_tls_greeting(port: int, ca: trustme.CA) -> list[float]:
    """How long ``connect`` takes with implicit TLS (the handshake, then the greeting),
    ``TRIES`` times."""
    times = []
    for _ in range(TRIES):
        client = SMTPClient(
            "127.0.0.1", port, "client.example", implicit_tls=True, ssl_context=tls13(ca)
        )
        started = time.monotonic()
        assert (await client.connect())[0] == 220
        times.append(time.monotonic() - started)
        assert client.tls is not None and client.tls.version == "TLSv1.3"
        await client.quit()
    return times


@pytest.mark.skipif(not hasattr(socket, "TCP_QUICKACK"), reason="Linux's TCP_QUICKACK")
@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("server_kind", ["holds for the tickets' ACK", "embedded"])
@pytest.mark.parametrize("implicit_tls", [False, True], ids=["ehlo-after-starttls", "greeting"])
def test_the_first_reply_inside_tls_13_comes_at_once(
    loop: str,
    server_kind: str,
    implicit_tls: bool,
    ca: trustme.CA,
    server_tls_context: ssl.SSLContext,
    make_server: Callable[..., EmbeddedServer],
) -> None:
    """The EHLO after STARTTLS, or the greeting after an implicit TLS handshake."""
    measure = implicit_tls_greeting if implicit_tls else ehlo_after_starttls
    if server_kind == "embedded":
        times = LOOPS[loop](measure(make_server(implicit_tls=implicit_tls).port, ca))
    else:
        with TicketServer(server_tls_context, implicit_tls=implicit_tls) as server:
            times = LOOPS[loop](measure(server.port, ca))
    assert statistics.median(times) < PROMPT, [f"{x * 1e3:.1f} ms" for x in times]


def in_two(first: bytes, rest: bytes, pause: float) -> Callable[[Peer], Awaitable[None]]:
    """An answer sent in two parts, ``pause`` seconds apart."""

    async def answer(peer: Peer) -> None:
        await peer.send(first)
        await asyncio.sleep(pause)
        await peer.send(rest)

    return answer


async def test_latency_runs_to_the_first_byte_of_the_reply_in_engine_and_transcript() -> None:
    pause = 0.3
    script = dialogue(
        {"EHLO": in_two(b"250-mx.example\r\n", b"250 SIZE 1000\r\n", pause)},
        greeting=in_two(b"220-mx.example\r\n", b"220 ESMTP\r\n", pause),
    )
    events: list[ClientEvent] = []
    async with ScriptedServer(script) as server:
        client = SMTPClient(local_hostname="client.example", listener=events.append)
        await client.connect(server.host, server.port)
        await client.ehlo()
        await client.quit()
    [connected] = [event for event in events if isinstance(event, Connected)]
    greeting, ehlo, _ = [event for event in events if isinstance(event, Received)]
    for reply in (greeting, ehlo):
        assert reply.latency is not None and reply.latency < pause / 2
    assert greeting.time - connected.time >= pause  # its last byte came after the pause
    entries = [entry(event) for event in events]
    assert [item.latency for item in entries if item and item.reply] == [
        event.latency for event in events if isinstance(event, Received)
    ]
