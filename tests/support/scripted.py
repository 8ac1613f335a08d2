"""A tiny asyncio TCP server on 127.0.0.1 that plays a script: for misbehaving-server tests.

A script is ``async def script(peer: Peer) -> None``; it runs once per connection and may
read lines, write anything, upgrade to TLS, stall or hang up. :func:`dialogue` makes the
usual script: a server that answers each command by its verb, well or badly, as told;
:func:`play` makes one that goes through fixed moves, for a fault at one exact point.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence

Script = Callable[["Peer"], Awaitable[None]]

PATIENCE = 30.0
"""How long a script waits for the client's next bytes before it fails: long, as a test on a
loaded machine may look at its panes for seconds between two steps (a script still waiting
when its test ends is cancelled, so a test that passes does not wait for it)."""

Answer = bytes | Script
"""What a :func:`dialogue` server does in reply to a command: bytes to send, or a script
that does what it likes with the peer (:func:`hang_up`, :func:`stall`, :func:`dribble`, …)."""


class Peer:
    """One client connection as the script sees it.

    ``received`` holds what the client sent, in the pieces read (lines, or the raw chunks of
    :meth:`read`); message data read by :meth:`skip_message` is counted in
    ``message_sizes`` instead, so a large message is not kept.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.tls = tls
        self.received: list[bytes] = []
        self.message_sizes: list[int] = []

    async def line(self, timeout: float = PATIENCE) -> bytes:
        """The next line from the client (b"" at EOF)."""
        data = await asyncio.wait_for(self.reader.readline(), timeout)
        self.received.append(data)
        return data

    async def read(self, timeout: float = PATIENCE) -> bytes:
        """The next bytes from the client, however many arrived (b"" at EOF)."""
        data = await asyncio.wait_for(self.reader.read(65536), timeout)
        self.received.append(data)
        return data

    async def expect(self, prefix: bytes) -> bytes:
        data = await self.line()
        assert data.upper().startswith(prefix.upper()), (prefix, data)
        return data

    async def skip_message(self) -> None:
        """Read message data up to its final dot, in large pieces, noting only its size
        (without the ``.<CRLF>`` that ends it; an empty message is that line alone)."""
        size = 0
        line_start = True  # the message starts a line: DATA's ended one
        while True:
            try:
                piece = await self.reader.readuntil(b".\r\n")
            except asyncio.LimitOverrunError as more:  # not in the buffer yet: skip what is
                piece = await self.reader.readexactly(more.consumed)
                size, line_start = size + len(piece), piece.endswith(b"\n")
                continue
            before = piece[:-3]
            if before.endswith(b"\n") or (not before and line_start):  # a lone dot: the end
                self.message_sizes.append(size + len(before))
                return
            size, line_start = size + len(piece), True

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def greet(self, ehlo_reply: bytes) -> None:
        """Send the 220, wait for EHLO, answer it with ``ehlo_reply``."""
        await self.send(b"220 hi\r\n")
        await self.expect(b"EHLO")
        await self.send(ehlo_reply)

    async def start_tls(self, context: ssl.SSLContext | None = None) -> None:
        """Upgrade to TLS with ``context``, else the server's certificate."""
        context = context or self.tls
        assert context is not None, "the server has no certificate"
        await self.writer.start_tls(context)

    def close(self) -> None:
        self.writer.close()


class ScriptedServer:
    """Serves ``script`` on 127.0.0.1 and a free port; ``async with`` starts and stops it.

    ``tls`` is the server's certificate, for :meth:`Peer.start_tls` (STARTTLS), or for TLS
    from the first byte with ``implicit_tls`` (the script then starts after the handshake).
    """

    def __init__(
        self, script: Script, *, tls: ssl.SSLContext | None = None, implicit_tls: bool = False
    ) -> None:
        self.script = script
        self.tls = tls
        self.implicit_tls = implicit_tls
        self.port = 0
        self.host = "127.0.0.1"
        self.peers: list[Peer] = []
        self.errors: list[BaseException] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    async def __aenter__(self) -> ScriptedServer:
        listen_tls = self.tls if self.implicit_tls else None
        self._server = await asyncio.start_server(self._handle, self.host, 0, ssl=listen_tls)
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

    async def finished(self, timeout: float = 5) -> None:
        """Wait until every connection's script has ended (at the client's QUIT or EOF)."""
        async with asyncio.timeout(timeout):
            while self._tasks:
                await asyncio.sleep(0.01)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = Peer(reader, writer, self.tls)
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


# -- a server that answers by the verb ------------------------------------------------------

_DEFAULTS: Mapping[str, Answer] = {"DATA": b"354 go ahead\r\n", ".": b"250 ok\r\n"}


def dialogue(
    answers: Mapping[str, Answer | Sequence[Answer]] | None = None,
    *,
    greeting: Answer = b"220 mx.example ESMTP\r\n",
    default: Answer = b"250 ok\r\n",
) -> Script:
    """A server that sends ``greeting``, then answers each command line by its verb.

    ``answers[verb]`` is the answer (a list: one per use of the verb, its last one repeated),
    else ``default``; QUIT gets ``221 bye`` and a hang-up unless answered otherwise. After a 354 to
    DATA it reads the message to its final dot and answers ``answers["."]`` (``250 ok``).
    A SASL line is answered by its text: ``answers["*"]`` for a cancelled exchange.
    """
    table: dict[str, Answer | Sequence[Answer]] = {**_DEFAULTS, **(answers or {})}

    async def script(peer: Peer) -> None:
        uses: Counter[str] = Counter()

        def pick(verb: str) -> Answer:
            answer = table.get(verb, default)
            if isinstance(answer, bytes) or callable(answer):
                return answer
            uses[verb] += 1
            return answer[min(uses[verb], len(answer)) - 1]

        await reply(peer, greeting)
        while line := await peer.line():
            words = line.split(None, 1)
            verb = words[0].decode("ascii", "replace").upper() if words else ""
            if verb == "QUIT" and verb not in table:
                await peer.send(b"221 bye\r\n")
                return
            answer = pick(verb)
            await reply(peer, answer)
            if verb == "DATA" and isinstance(answer, bytes) and answer.startswith(b"354"):
                await peer.skip_message()
                await reply(peer, pick("."))

    return script


def one_line_per_read(
    answers: Mapping[str, bytes] | None = None,
    *,
    greeting: bytes = b"220 mx.example ESMTP\r\n",
    ehlo: bytes = b"250-mx.example\r\n250 PIPELINING\r\n",
) -> Script:
    """A server that advertises PIPELINING (``ehlo``) but takes one line per read: it
    answers the first line of what each read brings (by its verb, as :func:`dialogue`) and
    throws the rest away, so that commands written together are lost. After a 354 to DATA
    it reads the message to its final dot and answers ``answers["."]`` (``250 ok``)."""
    table = {"DATA": b"354 go ahead\r\n", ".": b"250 ok\r\n", "EHLO": ehlo, **(answers or {})}

    async def script(peer: Peer) -> None:
        await peer.send(greeting)
        while chunk := await peer.read():
            first = chunk.split(b"\r\n", 1)[0]  # the rest of the read is lost
            words = first.split(None, 1)
            verb = words[0].decode("ascii", "replace").upper() if words else ""
            if verb == "QUIT":
                await peer.send(b"221 bye\r\n")
                return
            answer = table.get(verb, b"250 ok\r\n")
            await peer.send(answer)
            if verb == "DATA" and answer.startswith(b"354"):
                await peer.skip_message()
                await peer.send(table["."])

    return script


async def reply(peer: Peer, answer: Answer) -> None:
    """Do what ``answer`` says: send its bytes, or run it."""
    if isinstance(answer, bytes):
        await peer.send(answer)
    else:
        await answer(peer)


def play(*moves: Answer) -> Script:
    """A server that makes ``moves`` in order: bytes to send, or scripts (:func:`expect`,
    :func:`heard`, :func:`stall`, :func:`hang_up`, …)."""

    async def script(peer: Peer) -> None:
        for move in moves:
            await reply(peer, move)

    return script


def expect(verb: bytes) -> Script:
    """Read the client's next line, which must start with ``verb``."""

    async def move(peer: Peer) -> None:
        await peer.expect(verb)

    return move


async def heard(peer: Peer) -> None:
    """Wait for the client's next bytes, whatever they are, or its hang-up."""
    await peer.read()


def hang_up(last_words: bytes = b"") -> Script:
    """Send ``last_words`` (if any), then close the connection."""

    async def answer(peer: Peer) -> None:
        if last_words:
            await peer.send(last_words)
        peer.close()

    return answer


async def stall(peer: Peer) -> None:
    """Say nothing, ever (well: for an hour)."""
    await asyncio.sleep(3600)


def held_message(gate: asyncio.Event, answer: bytes = b"250 ok\r\n") -> Script:
    """DATA's answer: 354, then nothing of the message read until ``gate`` is set (the
    client's writes back up, as with a server that reads slowly), then the message read to
    its final dot and ``answer``."""

    async def script(peer: Peer) -> None:
        await peer.send(b"354 go ahead\r\n")
        await gate.wait()
        await peer.skip_message()
        await peer.send(answer)

    return script


def dribble(data: bytes, interval: float) -> Script:
    """Send ``data`` one byte at a time, ``interval`` seconds apart."""

    async def answer(peer: Peer) -> None:
        for i in range(len(data)):
            await peer.send(data[i : i + 1])
            await asyncio.sleep(interval)

    return answer


def flood(head: bytes, chunk: bytes, count: int | None = None, tail: bytes = b"") -> Script:
    """Send ``head``, then ``chunk`` ``count`` times (None: for ever), then ``tail``."""

    async def answer(peer: Peer) -> None:
        await peer.send(head)
        sent = 0
        while count is None or sent < count:
            await peer.send(chunk)
            sent += 1
        await peer.send(tail)

    return answer


def start_tls(injected: bytes = b"") -> Script:
    """Say 220 to STARTTLS, with ``injected`` plaintext in the same packet, and start TLS."""

    async def answer(peer: Peer) -> None:
        await peer.send(b"220 2.0.0 go ahead\r\n" + injected)
        await peer.start_tls()

    return answer


def no_handshake(instead: bytes) -> Script:
    """Say 220 to STARTTLS, then answer the client's handshake with the plaintext
    ``instead``, and read whatever comes until the client hangs up."""

    async def answer(peer: Peer) -> None:
        await peer.send(b"220 2.0.0 go ahead\r\n")
        await peer.read()  # the ClientHello
        await peer.send(instead)
        while await peer.read():
            pass

    return answer


well_behaved = dialogue(
    {"EHLO": b"250-good.example\r\n250 PIPELINING\r\n"}, greeting=b"220 good.example ESMTP\r\n"
)
"""A minimal correct server: greeting, 250 to anything, 354 to DATA, 221 to QUIT."""
