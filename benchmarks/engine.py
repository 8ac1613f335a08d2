"""SMTPClient against smtplib, in one run, against the same local aiosmtpd sink.

    python benchmarks/engine.py [--messages 500] [--noops 2000] [--big-mb 20] [--repeat 10]
                                [--tls-tries 30] [--link-ms 5] [--link-messages 20]

The sink runs in its own process, on a CPU of its own as a server on another machine would
be, so that neither side's work between replies waits for the other's CPU; the client runs
on the other CPUs. Both clients stay connected side by side and take turns in blocks of a
few operations (ABBA: who goes first alternates), so that the drift of a busy machine falls
on both alike. Each figure is measured ``--repeat`` times over, and each client's time
summed over every turn: one message's time varies by half from message to message here, and
500 of them alone leave the ratio uncertain by a few percent. Ratios are ours / smtplib's
(for throughput, smtplib's time / ours). Targets: throughput >= 1.0x, NOOP latency <= 1.2x,
the big message <= 1.2x smtplib's time with peak memory under 3x the message size.

One more figure is the EHLO after STARTTLS (TLS 1.3), against a server that holds its first
reply inside TLS until its session tickets are acknowledged, as Postfix and OpenSMTPD do
(the tests' ``support.tickets``, in a process of its own): a new connection per try, ours
and smtplib's in turns. Target: a few milliseconds, not a delayed ACK's ~40. (On loopback
smtplib waits too: its EHLO leaves between the server's two tickets and cannot acknowledge
the second. The report had it at 0.3 ms against Postfix over a network.)

The last figures are PIPELINING's (RFC 2920), from ``benchmarks/latency.py``: messages of two
recipients to the embedded server (which offers PIPELINING), through a proxy that delays
every chunk ``--link-ms`` each way as a link to a remote server would, in a process of its
own; SMTPClient pipelining (MAIL, RCPT, RCPT and DATA in one write: 2 round trips) against
smtplib (5), target >= 2.0x; SMTPClient not pipelining, which shows what pipelining buys;
and both sending the same without the link, on loopback. A NOOP's round trip through the
link is printed first, to check the link itself (~2 x ``--link-ms``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import smtplib
import socket
import ssl
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

import latency  # benchmarks/latency.py, beside this script (the first on sys.path)

from smtptui.engine import SMTPClient
from smtptui.engine.loop import loop_name, run
from smtptui.server.certs import make_self_signed

SENDER = "bench@example.com"
RECIPIENT = "sink@example.com"


def _cpus() -> tuple[set[int], set[int]]:
    """The CPUs for the client and for the sink: apart, as for a server on another machine
    (on one CPU, or without affinity calls, both get every CPU)."""
    if not hasattr(os, "sched_getaffinity"):
        return set(), set()
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return set(cpus), set(cpus)
    return set(cpus[:-1]), {cpus[-1]}


def _pin(cpus: set[int]) -> None:
    if cpus:
        os.sched_setaffinity(0, cpus)


def _serve(port_queue: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    """aiosmtpd with its Sink handler, which keeps nothing, so rounds do not slow it down."""
    _pin(_cpus()[1])
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        Sink(), hostname="127.0.0.1", port=port, data_size_limit=0, decode_data=False
    )
    controller.start()
    port_queue.put(port)
    stop.wait()
    controller.stop()


def _serve_tls(ready: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    """The tests' Postfix-like STARTTLS server, with a fresh self-signed certificate; puts
    its port and certificate on ``ready``."""
    _pin(_cpus()[1])
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from support.tickets import TicketServer

    certificate = make_self_signed()
    with TicketServer(certificate.server_context()) as server:
        ready.put((server.port, certificate.cert_pem))
        stop.wait()


def message(size: int) -> bytes:
    """A plain message of about ``size`` bytes with 76-character CRLF lines."""
    head = b"From: bench@example.com\r\nTo: sink@example.com\r\nSubject: bench\r\n\r\n"
    line = b"x" * 76 + b"\r\n"
    return head + line * max(1, (size - len(head)) // len(line))


class Figure:
    """One figure measured in paired turns: each client's time, summed over its turns."""

    def __init__(self) -> None:
        self.ours = self.ref = 0.0
        self.operations = 0

    async def turns(
        self,
        ours: Callable[[], Awaitable[object]],
        ref: Callable[[], object],
        operations: int,
        block: int,
    ) -> None:
        """Run ``operations`` calls of each client, ``block`` at a time, in ABBA order."""
        clock = time.perf_counter
        for turn in range(0, operations, block):
            count = min(block, operations - turn)
            for mine in (True, False) if turn // block % 2 == 0 else (False, True):
                started = clock()
                if mine:
                    for _ in range(count):
                        await ours()
                    self.ours += clock() - started
                else:
                    for _ in range(count):
                        ref()
                    self.ref += clock() - started
        self.operations += operations

    def per_operation(self) -> tuple[float, float, float]:
        """Our mean seconds per operation, smtplib's, and the ratio (ours / smtplib's)."""
        return self.ours / self.operations, self.ref / self.operations, self.ours / self.ref


def peak_memory(run: Callable[[], object]) -> float:
    """Peak memory allocated while ``run`` runs, beyond what was allocated before it."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    run()
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    return peak


async def measure(port: int, args: argparse.Namespace, big: bytes) -> dict[str, object]:
    small = message(1024)
    client = SMTPClient()
    await client.connect("127.0.0.1", port)
    await client.ehlo()
    smtp = smtplib.SMTP("127.0.0.1", port)
    smtp.ehlo()
    send, noop, huge = Figure(), Figure(), Figure()
    for _ in range(args.repeat):
        await send.turns(
            lambda: client.sendmail(SENDER, [RECIPIENT], small),
            lambda: smtp.sendmail(SENDER, [RECIPIENT], small),
            args.messages,
            block=5,
        )
        await noop.turns(client.noop, smtp.noop, args.noops, block=20)
    await huge.turns(
        lambda: client.sendmail(SENDER, [RECIPIENT], big),
        lambda: smtp.sendmail(SENDER, [RECIPIENT], big),
        args.big_rounds,
        block=1,
    )
    tracemalloc.start()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    await client.sendmail(SENDER, [RECIPIENT], big)
    ours_memory = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    ref_memory = peak_memory(lambda: smtp.sendmail(SENDER, [RECIPIENT], big))
    await client.quit()
    smtp.quit()
    return {"send": send, "noop": noop, "big": huge, "memory": (ours_memory, ref_memory)}


async def ehlo_after_starttls(port: int, certificate: bytes, tries: int) -> Figure:
    """The EHLO after STARTTLS over TLS 1.3, timed alone, ``tries`` connections each."""
    context = ssl.create_default_context(cadata=certificate.decode("ascii"))
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    figure = Figure()

    async def ours() -> None:
        client = SMTPClient("127.0.0.1", port, "bench.example", ssl_context=context)
        await client.connect()
        await client.ehlo()
        await client.starttls()
        started = time.perf_counter()
        await client.ehlo()
        figure.ours += time.perf_counter() - started
        await client.quit()

    def ref() -> None:
        smtp = smtplib.SMTP("127.0.0.1", port, "bench.example")
        smtp.ehlo()
        smtp.starttls(context=context)
        started = time.perf_counter()
        smtp.ehlo()
        figure.ref += time.perf_counter() - started
        smtp.quit()

    for turn in range(tries):
        for mine in (True, False) if turn % 2 == 0 else (False, True):
            await ours() if mine else ref()
    figure.operations = tries
    return figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--noops", type=int, default=2000)
    parser.add_argument("--big-mb", type=float, default=20)
    parser.add_argument("--repeat", type=int, default=10, help="times each figure is measured")
    parser.add_argument("--big-rounds", type=int, default=4, help="big messages sent by each")
    parser.add_argument("--tls-tries", type=int, default=30, help="STARTTLS connections each")
    latency.add_arguments(parser)
    args = parser.parse_args()

    client_cpus, sink_cpus = _cpus()
    ports: multiprocessing.Queue = multiprocessing.Queue()
    tls_ready: multiprocessing.Queue = multiprocessing.Queue()
    pipelining_ready: multiprocessing.Queue = multiprocessing.Queue()
    link_ready: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    sinks = [
        multiprocessing.Process(target=_serve, args=(ports, stop), daemon=True),
        multiprocessing.Process(target=_serve_tls, args=(tls_ready, stop), daemon=True),
        multiprocessing.Process(
            target=latency.serve_pipelining, args=(pipelining_ready, stop), daemon=True
        ),
    ]
    for sink in sinks:  # before the client pins itself: they take the sink's CPUs
        sink.start()
    port = ports.get(timeout=30)
    tls_port, certificate = tls_ready.get(timeout=30)
    pipelining_port = pipelining_ready.get(timeout=30)
    link = multiprocessing.Process(
        target=latency.serve_link,
        args=(link_ready, stop, pipelining_port, args.link_ms / 1e3),
        daemon=True,
    )
    link.start()
    sinks.append(link)
    link_port, link_cpus = link_ready.get(timeout=30)
    _pin(client_cpus)
    big = message(int(args.big_mb * 1024 * 1024))
    try:
        warm = argparse.Namespace(messages=20, noops=20, repeat=1, big_rounds=0)
        run(measure(port, warm, message(1024)))
        figures = run(measure(port, args, big))
        tls = run(ehlo_after_starttls(tls_port, certificate, args.tls_tries))
        pipelined = run(latency.measure_link(pipelining_port, link_port, args))
    finally:
        stop.set()
        for sink in sinks:
            sink.join(10)

    send_ours, send_ref, send_ratio = figures["send"].per_operation()
    noop_ours, noop_ref, noop_ratio = figures["noop"].per_operation()
    big_ours, big_ref, big_ratio = figures["big"].per_operation()
    tls_ours, tls_ref, tls_ratio = tls.per_operation()
    memory_ours, memory_ref = figures["memory"]
    size = len(big)
    rows = [
        (
            f"{args.messages} x 1 KB messages, one connection (msg/s)",
            f"{1 / send_ours:.0f}",
            f"{1 / send_ref:.0f}",
            1 / send_ratio,
            ">= 1.00x",
        ),
        (
            f"{args.noops} NOOP round trips (us each)",
            f"{noop_ours * 1e6:.1f}",
            f"{noop_ref * 1e6:.1f}",
            noop_ratio,
            "<= 1.20x",
        ),
        (
            f"one {size / 1e6:.1f} MB message (s)",
            f"{big_ours:.3f}",
            f"{big_ref:.3f}",
            big_ratio,
            "<= 1.20x",
        ),
        (
            "peak memory sending it (MB; x message size)",
            f"{memory_ours / 1e6:.1f} ({memory_ours / size:.2f}x)",
            f"{memory_ref / 1e6:.1f} ({memory_ref / size:.2f}x)",
            memory_ours / memory_ref,
            "ours < 3x size",
        ),
        (
            "EHLO after STARTTLS, TLS 1.3 (ms)",
            f"{tls_ours * 1e3:.2f}",
            f"{tls_ref * 1e3:.2f}",
            tls_ratio,
            "ours < 5 ms",
        ),
        *latency.rows(pipelined, args),
    ]
    print(
        f"smtptui's client on {loop_name()}, CPUs {sorted(client_cpus)}; "
        "the sinks (aiosmtpd's Sink; the STARTTLS server; the embedded server) in processes "
        f"of their own, CPUs {sorted(sink_cpus)}"
    )
    print(
        f"each figure measured {args.repeat} times over in paired turns "
        f"({args.big_rounds} big messages each); times are means per operation; "
        f"the EHLO after STARTTLS over {args.tls_tries} connections each, against a server "
        "holding its first reply inside TLS for its session tickets' ACK"
    )
    for line in latency.describe(pipelined, args, link_cpus):
        print(line)
    print(f"{'figure':<48} {'smtptui':>16} {'smtplib':>16} {'ratio':>7}  target")
    for name, mine, theirs, ratio, target in rows:
        print(f"{name:<48} {mine:>16} {theirs:>16} {ratio:>6.2f}x  {target}")


if __name__ == "__main__":
    main()
