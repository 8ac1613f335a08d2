"""PIPELINING over a link with latency: the part of ``benchmarks/engine.py`` that sends
through a proxy delaying every chunk, as a link to a remote server would.

The sink is the project's embedded server (aiosmtpd with PIPELINING and CHUNKING in its
EHLO reply), in a process of its own on the sink's CPU. The link is a forwarding TCP proxy,
also in a process of its own (on the sink's CPU with two CPUs: it is the remote side's
half of the way; with three or more, on the one before it), which delivers each chunk it reads
``delay`` seconds after it arrived, in each direction, in order. Chunks in flight overlap as
on a real link: each has its own due time (arrival + delay), so that ten chunks read 1 ms
apart leave 1 ms apart, ``delay`` later, not one ``delay`` after another. A round trip is
thus two delays (5 ms each way: ~10 ms), plus the proxy's own time and the event loop's
timer granularity (asyncio's epoll waits in whole milliseconds: up to 1 ms late per hop).

A network namespace with ``tc qdisc ... netem delay`` would delay packets in the kernel,
exactly; but it needs root, iproute2 and the netem module, on Linux only. The proxy runs
wherever Python does, and for SMTP's short commands and replies a chunk is a packet.

Messages: MAIL, two RCPT, DATA and a small body. smtplib waits for each reply before the
next command: 5 round trips (MAIL, RCPT, RCPT, DATA, the body). SMTPClient with PIPELINING
sends MAIL, the RCPTs and DATA in one write: 2 round trips, hence the target >= 2.0x.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import inspect
import multiprocessing
import os
import smtplib
import socket
import time
from collections.abc import Awaitable, Callable

from smtptui.engine import SMTPClient

SENDER = "bench@example.com"
RECIPIENTS = ["sink@example.com", "copy@example.com"]
HOST = "127.0.0.1"


def _cpu(link: bool) -> set[int]:
    """The sink's CPU, the last one (as in engine.py); the link's: the one before it with
    three CPUs or more (not the client's only one), else the sink's too."""
    if not hasattr(os, "sched_getaffinity"):
        return set()
    cpus = sorted(os.sched_getaffinity(0))
    return {cpus[-2] if link and len(cpus) >= 3 else cpus[-1]}


def _pin(cpus: set[int]) -> None:
    if cpus:
        os.sched_setaffinity(0, cpus)


def serve_pipelining(ports: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    """The embedded server as a sink (it keeps nothing: each message is dropped once
    received), on the sink's CPU; puts its port on ``ports``."""
    _pin(_cpu(link=False))
    from smtptui.server.embedded import EmbeddedServer

    server = EmbeddedServer(HOST, 0, starttls=False, on_message=lambda _: server.messages.clear())
    with server:
        ports.put(server.port)
        stop.wait()


class _Direction(asyncio.Protocol):
    """One side of a proxied connection: what it reads is written to ``peer``'s side
    ``delay`` seconds after it arrived. An EOF (queued as b"") and the end of the
    connection (None) travel the same way, behind the data before them."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.transport: asyncio.Transport | None = None
        self.peer: _Direction | None = None
        self.eof = False  # this side has read its EOF
        self.queue: collections.deque[tuple[float, bytes | None]] = collections.deque()
        self.timer: asyncio.TimerHandle | None = None
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self._carry(data)

    def eof_received(self) -> bool:
        self.eof = True
        self._carry(b"")
        return True  # half open: the other way may still carry replies

    def connection_lost(self, exc: Exception | None) -> None:
        self._carry(None)

    def _carry(self, data: bytes | None) -> None:
        self.queue.append((self.loop.time() + self.delay, data))
        if self.timer is None:
            self.timer = self.loop.call_at(self.queue[0][0], self._deliver)

    def _deliver(self) -> None:
        """Write every chunk now due, in order; wake again for the next one."""
        self.timer = None
        now = self.loop.time()
        peer = self.peer
        while self.queue and self.queue[0][0] <= now:
            _, data = self.queue.popleft()
            if peer is None or peer.transport is None or peer.transport.is_closing():
                continue
            if data:
                peer.transport.write(data)
            elif data is None or peer.eof or not peer.transport.can_write_eof():
                peer.transport.close()  # closed, or EOF both ways: the connection is over
                if self.transport is not None:
                    self.transport.close()
            else:
                peer.transport.write_eof()
        if self.queue:
            self.timer = self.loop.call_at(self.queue[0][0], self._deliver)

    def pause_writing(self) -> None:
        """The peer sends faster than this side's socket takes it: hold the peer back."""
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()


class _Accepted(_Direction):
    """The client's side: on connecting, it connects the server's side to ``port``."""

    def __init__(self, delay: float, port: int) -> None:
        super().__init__(delay)
        self.port = port
        self.upstream: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.transport.pause_reading()  # until there is somewhere to write to
        self.upstream = self.loop.create_task(self._connect())

    async def _connect(self) -> None:
        assert self.transport is not None
        try:
            _, server = await self.loop.create_connection(
                lambda: _Direction(self.delay), HOST, self.port
            )
        except OSError:
            self.transport.close()
            return
        self.peer, server.peer = server, self
        self.transport.resume_reading()


async def _link(
    ports: multiprocessing.Queue, stop: multiprocessing.Event, port: int, delay: float
) -> None:
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(lambda: _Accepted(delay, port), HOST, 0)
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    ports.put((listener.sockets[0].getsockname()[1], cpus))
    await loop.run_in_executor(None, stop.wait)
    listener.close()


def serve_link(
    ports: multiprocessing.Queue, stop: multiprocessing.Event, port: int, delay: float
) -> None:
    """The delaying proxy to ``port``, on the link's CPU, until ``stop``; puts its port and
    CPUs on ``ports``. On asyncio's own loop: uvloop's clock and timers count whole milliseconds."""
    _pin(_cpu(link=True))
    asyncio.run(_link(ports, stop, port, delay))


def message(size: int = 1024) -> bytes:
    head = (f"From: {SENDER}\r\nTo: {', '.join(RECIPIENTS)}\r\nSubject: bench\r\n\r\n").encode()
    line = b"x" * 76 + b"\r\n"
    return head + line * max(1, (size - len(head)) // len(line))


class Rounds:
    """Several clients' time, each summed over its turns; the order alternates, forward
    then backward (ABBA with two, ABCCBA with three), so that drift falls on all alike."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.seconds = dict.fromkeys(names, 0.0)
        self.operations = 0

    async def turns(
        self, clients: dict[str, Callable[[], object]], operations: int, block: int
    ) -> None:
        clock = time.perf_counter
        for turn in range(0, operations, block):
            count = min(block, operations - turn)
            order = self.names if turn // block % 2 == 0 else self.names[::-1]
            for name in order:
                call = clients[name]
                started = clock()
                for _ in range(count):
                    result = call()
                    if inspect.isawaitable(result):
                        await result
                self.seconds[name] += clock() - started
        self.operations += operations

    def rate(self, name: str) -> float:
        """Operations per second."""
        return self.operations / self.seconds[name]


def _send(client: SMTPClient, body: bytes, pipelining: bool) -> Callable[[], Awaitable[object]]:
    return lambda: client.sendmail(SENDER, RECIPIENTS, body, pipelining=pipelining)


def _noop_round_trip(port: int, tries: int) -> tuple[float, float]:
    """Mean and least seconds of a NOOP round trip, smtplib's, ``tries`` of them."""
    smtp = smtplib.SMTP(HOST, port)
    smtp.ehlo()
    times = []
    for _ in range(tries):
        started = time.perf_counter()
        smtp.noop()
        times.append(time.perf_counter() - started)
    smtp.quit()
    return sum(times) / len(times), min(times)


async def measure_link(sink: int, link: int, args: argparse.Namespace) -> dict[str, object]:
    """Through the link: SMTPClient pipelined, unpipelined and smtplib, in turns; then
    without it: SMTPClient pipelined and smtplib; and NOOP round trips with and without."""
    body = message()
    result: dict[str, object] = {
        "noop_link": _noop_round_trip(link, 20),
        "noop_direct": _noop_round_trip(sink, 200),
    }
    on, off = SMTPClient(), SMTPClient()
    for client in (on, off):
        await client.connect(HOST, link)
        await client.ehlo()
    result["advertised"] = on.has_extn("pipelining")
    smtp = smtplib.SMTP(HOST, link)
    smtp.ehlo()
    remote = Rounds(["pipelined", "smtplib", "unpipelined"])
    clients = {
        "pipelined": _send(on, body, True),
        "unpipelined": _send(off, body, False),
        "smtplib": lambda: smtp.sendmail(SENDER, RECIPIENTS, body),
    }
    await remote.turns(clients, 2, block=1)  # warm-up: not counted
    remote = Rounds(remote.names)
    for _ in range(args.repeat):
        await remote.turns(clients, args.link_messages, block=5)
    for client in (on, off):
        await client.quit()
    smtp.quit()
    result["link"] = remote

    near = SMTPClient()
    await near.connect(HOST, sink)
    await near.ehlo()
    smtp = smtplib.SMTP(HOST, sink)
    smtp.ehlo()
    local = Rounds(["pipelined", "smtplib"])
    clients = {
        "pipelined": _send(near, body, True),
        "smtplib": lambda: smtp.sendmail(SENDER, RECIPIENTS, body),
    }
    await local.turns(clients, 20, block=5)  # warm-up
    local = Rounds(local.names)
    for _ in range(args.repeat):
        await local.turns(clients, args.messages, block=5)
    await near.quit()
    smtp.quit()
    result["loopback"] = local
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--link-ms", type=float, default=5, help="the link's delay each way (ms)")
    parser.add_argument(
        "--link-messages", type=int, default=20, help="messages each through the link, per repeat"
    )


def describe(result: dict[str, object], args: argparse.Namespace, cpus: list[int]) -> list[str]:
    """Lines to print before the table: the link's measured round trip, and what was sent."""
    mean, least = result["noop_link"]
    direct, _ = result["noop_direct"]
    lines = [
        f"the link: a proxy delaying each chunk {args.link_ms:g} ms each way, in a process of "
        f"its own, CPUs {cpus}; a NOOP's round trip through it "
        f"{mean * 1e3:.2f} ms (least {least * 1e3:.2f}; expected ~{2 * args.link_ms:g}), "
        f"{direct * 1e3:.3f} ms without; the sink behind it: the embedded server, "
        f"PIPELINING {'advertised' if result['advertised'] else 'NOT ADVERTISED'}"
    ]
    return lines


def rows(result: dict[str, object], args: argparse.Namespace) -> list[tuple]:
    """The table's rows: (figure, ours, smtplib's, ratio, target)."""
    remote: Rounds = result["link"]
    local: Rounds = result["loopback"]
    total = remote.operations
    return [
        (
            f"{total} x 2-RCPT via {args.link_ms:g} ms link, pipelined (msg/s)",
            f"{remote.rate('pipelined'):.1f}",
            f"{remote.rate('smtplib'):.1f}",
            remote.rate("pipelined") / remote.rate("smtplib"),
            ">= 2.00x",
        ),
        (
            f"{total} x 2-RCPT via {args.link_ms:g} ms link, unpipelined (msg/s)",
            f"{remote.rate('unpipelined'):.1f}",
            f"{remote.rate('smtplib'):.1f}",
            remote.rate("unpipelined") / remote.rate("smtplib"),
            "(without it)",
        ),
        (
            f"{local.operations} x 2-RCPT, loopback, pipelined (msg/s)",
            f"{local.rate('pipelined'):.0f}",
            f"{local.rate('smtplib'):.0f}",
            local.rate("pipelined") / local.rate("smtplib"),
            "(no link)",
        ),
    ]
