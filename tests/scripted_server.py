"""A tiny asyncio TCP server on 127.0.0.1 that plays a script: for misbehaving-server tests.

A script is ``async def script(peer: Peer) -> None``; it runs once per connection and may
read lines, write anything, upgrade to TLS, stall or hang up.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable

Script = Callable[["Peer"], Awaitable[None]]


class Peer:
    """One client connection as the script sees it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.received: list[bytes] = []

    async def line(self, timeout: float = 5) -> bytes:
        """The next line from the client (b"" at EOF)."""
        data = await asyncio.wait_for(self.reader.readline(), timeout)
        self.received.append(data)
        return data

    async def expect(self, prefix: bytes) -> bytes:
        data = await self.line()
        assert data.upper().startswith(prefix.upper()), (prefix, data)
        return data

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def greet(self, ehlo_reply: bytes) -> None:
        """Send the 220, wait for EHLO, answer it with ``ehlo_reply``."""
        await self.send(b"220 hi\r\n")
        await self.expect(b"EHLO")
        await self.send(ehlo_reply)

    async def start_tls(self, context: ssl.SSLContext) -> None:
        await self.writer.start_tls(context)

    def close(self) -> None:
        self.writer.close()


class ScriptedServer:
    """Serves ``script`` on 127.0.0.1 and a free port; ``async with`` starts and stops it."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.port = 0
        self.host = "127.0.0.1"
        self.peers: list[Peer] = []
        self.errors: list[BaseException] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    async def __aenter__(self) -> ScriptedServer:
        self._server = await asyncio.start_server(self._handle, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        for peer in self.peers:
            peer.writer.transport.abort()
        await self._server.wait_closed()
        if self.errors and exc_info[0] is None:
            raise AssertionError(f"the server's script failed: {self.errors[0]!r}")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = Peer(reader, writer)
        self.peers.append(peer)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.script(peer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # the client went away: that is what many of these tests want
        except asyncio.CancelledError:
            pass  # stopped by __aexit__; ending normally keeps asyncio's streams quiet
        except BaseException as error:  # a broken script must fail the test, not vanish
            self.errors.append(error)
        finally:
            self._tasks.discard(task)
            writer.transport.abort()


async def well_behaved(peer: Peer) -> None:
    """A minimal correct server: greeting, then 250 to anything, 221 to QUIT."""
    await peer.send(b"220 good.example ESMTP\r\n")
    while line := await peer.line():
        if line.upper().startswith(b"QUIT"):
            await peer.send(b"221 bye\r\n")
            return
        if line.upper().startswith(b"EHLO"):
            await peer.send(b"250-good.example\r\n250 PIPELINING\r\n")
        else:
            await peer.send(b"250 ok\r\n")
