"""SMTPClient against smtplib, in one run, against the same local aiosmtpd sink.

    python benchmarks/engine.py [--messages 500] [--noops 2000] [--big-mb 20] [--blocks 20]

The sink runs in its own process so that it does not share the GIL with the client being
measured. Both clients stay connected side by side and take turns in short blocks (who goes
first alternates), so that the drift of a busy machine falls on both alike; each figure is
the median over the blocks, and the ratio the median of the blocks' ratios (ours / smtplib's).
Targets: throughput >= 1.0x, NOOP latency <= 1.2x, the big message <= 1.2x smtplib's time
with peak memory under 3x the message size.
"""

from __future__ import annotations

import argparse
import multiprocessing
import smtplib
import socket
import statistics
import time
import tracemalloc
from collections.abc import Awaitable, Callable

from smtptui.engine import SMTPClient
from smtptui.engine.loop import loop_name, run

SENDER = "bench@example.com"
RECIPIENT = "sink@example.com"


def _serve(port_queue: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    """aiosmtpd with its Sink handler, which keeps nothing, so rounds do not slow it down."""
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


def message(size: int) -> bytes:
    """A plain message of about ``size`` bytes with 76-character CRLF lines."""
    head = b"From: bench@example.com\r\nTo: sink@example.com\r\nSubject: bench\r\n\r\n"
    line = b"x" * 76 + b"\r\n"
    return head + line * max(1, (size - len(head)) // len(line))


class Figure:
    """One figure measured in paired blocks: seconds per operation for each client."""

    def __init__(self) -> None:
        self.ours: list[float] = []
        self.ref: list[float] = []

    async def block(
        self,
        ours: Callable[[], Awaitable[object]],
        ref: Callable[[], object],
        operations: int,
        ours_first: bool,
    ) -> None:
        """Time ``operations`` calls of each client, one right after the other."""

        async def time_ours() -> None:
            started = time.perf_counter()
            for _ in range(operations):
                await ours()
            self.ours.append((time.perf_counter() - started) / operations)

        def time_ref() -> None:
            started = time.perf_counter()
            for _ in range(operations):
                ref()
            self.ref.append((time.perf_counter() - started) / operations)

        if ours_first:
            await time_ours()
            time_ref()
        else:
            time_ref()
            await time_ours()

    def medians(self) -> tuple[float, float, float]:
        """Our median, smtplib's median, and the median of the blocks' ratios."""
        ratios = [ours / ref for ours, ref in zip(self.ours, self.ref, strict=True)]
        return statistics.median(self.ours), statistics.median(self.ref), statistics.median(ratios)


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
    for block in range(args.blocks):
        first = block % 2 == 0
        await send.block(
            lambda: client.sendmail(SENDER, [RECIPIENT], small),
            lambda: smtp.sendmail(SENDER, [RECIPIENT], small),
            max(1, args.messages // args.blocks),
            first,
        )
        await noop.block(client.noop, smtp.noop, max(1, args.noops // args.blocks), first)
    for round_ in range(args.big_rounds):
        await huge.block(
            lambda: client.sendmail(SENDER, [RECIPIENT], big),
            lambda: smtp.sendmail(SENDER, [RECIPIENT], big),
            1,
            round_ % 2 == 0,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--noops", type=int, default=2000)
    parser.add_argument("--big-mb", type=float, default=20)
    parser.add_argument("--blocks", type=int, default=20, help="paired blocks per figure")
    parser.add_argument("--big-rounds", type=int, default=5, help="paired big-message rounds")
    args = parser.parse_args()

    ports: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    sink = multiprocessing.Process(target=_serve, args=(ports, stop), daemon=True)
    sink.start()
    port = ports.get(timeout=30)
    big = message(int(args.big_mb * 1024 * 1024))
    try:
        warm = argparse.Namespace(messages=20, noops=20, blocks=2, big_rounds=0)
        run(measure(port, warm, message(1024)))
        figures = run(measure(port, args, big))
    finally:
        stop.set()
        sink.join(10)

    send_ours, send_ref, send_ratio = figures["send"].medians()
    noop_ours, noop_ref, noop_ratio = figures["noop"].medians()
    big_ours, big_ref, big_ratio = figures["big"].medians()
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
    ]
    print(f"smtptui's client on {loop_name()}; the sink is aiosmtpd's Sink in its own process")
    print(f"medians of {args.blocks} paired blocks ({args.big_rounds} for the big message)")
    print(f"{'figure':<48} {'smtptui':>16} {'smtplib':>16} {'ratio':>7}  target")
    for name, mine, theirs, ratio, target in rows:
        print(f"{name:<48} {mine:>16} {theirs:>16} {ratio:>6.2f}x  {target}")


if __name__ == "__main__":
    main()
