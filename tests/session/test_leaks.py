"""Nothing leaks: many sessions in one process leave no socket and no task behind, and a
large message is sent in memory bounded by a small multiple of its size."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import ssl
import sys
import time
import tracemalloc
import warnings
from collections.abc import Awaitable, Callable, Iterator

import pytest

from smtptui.engine import SMTPClient
from smtptui.server import EmbeddedServer
from smtptui.session import (
    Connect,
    Ehlo,
    Quit,
    RunAll,
    SendMessage,
    SessionController,
    SessionSettings,
)

from support.scripted import ScriptedServer, dialogue
from support.sessions import settings_for

pytestmark = [
    pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts sockets in /proc"),
    pytest.mark.filterwarnings("error::ResourceWarning"),
]

CYCLES = 50
MESSAGE = b"From: a@example.com\r\nTo: b@example.org\r\nSubject: cycle\r\n\r\nHello.\r\n"
BIG = 20 * 1024 * 1024


def open_sockets() -> int:
    """How many of this process's file descriptors are sockets."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor is gone by now
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    return count


@contextlib.contextmanager
def unraisable() -> Iterator[list[sys.UnraisableHookArgs]]:
    """What the interpreter could not raise meanwhile (a socket or transport collected
    unclosed warns so): this test's own, not what earlier tests left for the collector,
    which pytest reports as warnings wherever the collector happens to run."""
    found: list[sys.UnraisableHookArgs] = []
    previous, sys.unraisablehook = sys.unraisablehook, found.append
    try:
        yield found
    finally:
        sys.unraisablehook = previous


async def until(condition: Callable[[], bool], seconds: float = 5) -> None:
    """Wait until ``condition`` holds (the server's thread closes its side in its own time)."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


async def engine_cycles(server: EmbeddedServer, context: ssl.SSLContext) -> None:
    """Connect, send, quit, in plaintext: the engine alone."""
    for _ in range(CYCLES):
        client = SMTPClient(local_hostname="client.example", ssl_context=context)
        await client.connect(server.host, server.port)
        assert await client.sendmail("a@example.com", ["b@example.org"], MESSAGE) == {}
        await client.quit()


async def controller_cycles(server: EmbeddedServer, context: ssl.SSLContext) -> None:
    """Connect, STARTTLS, AUTH, send, quit: RunAll, on one controller as in one sitting."""
    controller = SessionController(settings_for(server, context))
    send = SendMessage("a@example.com", ("b@example.org",), MESSAGE)
    for _ in range(CYCLES):
        outcome = await controller.run(RunAll(send))
        assert outcome.ok, outcome.error
    assert len(controller.transcripts) == CYCLES
    assert all(message.tls and message.authenticated_as for message in server.messages)


@pytest.mark.parametrize("cycles", [engine_cycles, controller_cycles])
async def test_cycles_leave_no_socket_and_no_task(
    cycles: Callable[[EmbeddedServer, ssl.SSLContext], Awaitable[None]],
    server: EmbeddedServer,
    client_tls_context: ssl.SSLContext,
) -> None:
    with warnings.catch_warnings():  # what earlier tests left for the collector is theirs
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    sockets = open_sockets()  # the server's listening socket and both loops' own among them
    with unraisable() as found:
        await cycles(server, client_tls_context)
        assert len(server.messages) == CYCLES
        gc.collect()
    assert not found, [str(each.exc_value) for each in found]
    await until(lambda: open_sockets() <= sockets)
    assert open_sockets() <= sockets
    await asyncio.sleep(0)  # callbacks of the last closing run
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_a_20_mb_message_in_bounded_memory() -> None:
    """What sending costs and what the session keeps of it (the transcript's entry holds the
    message itself, not a copy, and no text made of it); the message is the user's, made
    before."""
    line = b"x" * 76 + b"\r\n"
    message = b"Subject: big\r\n\r\n" + (line + b"." + line) * (BIG // (2 * len(line) + 1))
    send = SendMessage("a@example.com", ("b@example.org",), message)
    async with ScriptedServer(dialogue()) as server:
        settings = SessionSettings(host=f"{server.host}:{server.port}", helo_name="client.example")
        controller = SessionController(settings)
        for action in (Connect(), Ehlo()):
            assert (await controller.run(action)).ok
        tracemalloc.start()
        try:
            outcome = await controller.run(send)
            gc.collect()
            kept, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert outcome.ok, outcome.error
        [body] = [entry for entry in controller.transcript if entry.body]
        assert body.data is message  # the message held once, as given
        assert body.text.count("\n..") == 0 and body.text.startswith("Subject: big\n\nxx")
        assert (await controller.run(Quit())).ok
    [peer] = server.peers
    assert peer.message_sizes == [len(message) + message.count(b"\n.")]  # dot-stuffed
    assert kept < len(message) // 10, f"{kept:,} bytes kept of a {len(message):,}-byte message"
    assert peak < len(message) // 4, f"{peak:,} bytes for a {len(message):,}-byte message"
