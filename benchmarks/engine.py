"""SMTPClient against smtplib, in one run, against the same local aiosmtpd sink.

    python benchmarks/engine.py [--messages 500] [--noops 2000] [--big-mb 20]

The sink runs in its own process so that it does not share the GIL with the client being
measured. Each figure is printed beside smtplib's, with the ratio ours / smtplib's; each is
the best of a few alternating rounds, since a 2-core machine is noisy. Targets: throughput
>= 1.0x, NOOP latency <= 1.2x, the big message <= 1.2x smtplib's time with peak memory
under 3x the message size.
"""

from __future__ import annotations

import argparse
import multiprocessing
import smtplib
import socket
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


def timed_sync(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


async def timed_async(run: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await run()
    return time.perf_counter() - started


def smtplib_figures(port: int, count: int, noops: int, big: bytes) -> dict[str, float]:
    small = message(1024)
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.ehlo()
        figures = {
            "throughput": count
            / timed_sync(lambda: [smtp.sendmail(SENDER, [RECIPIENT], small) for _ in range(count)]),
            "noop": timed_sync(lambda: [smtp.noop() for _ in range(noops)]) / noops,
            "big": timed_sync(lambda: smtp.sendmail(SENDER, [RECIPIENT], big)),
        }
        figures["memory"] = peak_sync(lambda: smtp.sendmail(SENDER, [RECIPIENT], big))
    return figures


async def client_figures(port: int, count: int, noops: int, big: bytes) -> dict[str, float]:
    small = message(1024)
    client = SMTPClient()
    await client.connect("127.0.0.1", port)
    await client.ehlo()

    async def send_small() -> None:
        for _ in range(count):
            await client.sendmail(SENDER, [RECIPIENT], small)

    async def noop() -> None:
        for _ in range(noops):
            await client.noop()

    figures = {
        "throughput": count / await timed_async(send_small),
        "noop": await timed_async(noop) / noops,
        "big": await timed_async(lambda: client.sendmail(SENDER, [RECIPIENT], big)),
    }
    tracemalloc.start()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    await client.sendmail(SENDER, [RECIPIENT], big)
    figures["memory"] = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    await client.quit()
    return figures


def peak_sync(run: Callable[[], object]) -> float:
    """Peak memory allocated while ``run`` runs, beyond what was allocated before it."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    run()
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    return peak


def best(rounds: list[dict[str, float]]) -> dict[str, float]:
    """The best of several rounds: the most throughput, the least time and memory."""
    return {
        key: (max if key == "throughput" else min)(figures[key] for figures in rounds)
        for key in rounds[0]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--noops", type=int, default=2000)
    parser.add_argument("--big-mb", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds; best kept")
    args = parser.parse_args()

    ports: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    sink = multiprocessing.Process(target=_serve, args=(ports, stop), daemon=True)
    sink.start()
    port = ports.get(timeout=30)
    big = message(int(args.big_mb * 1024 * 1024))
    try:
        # Warm both up once, then alternate rounds on the same sink; keep each one's best.
        smtplib_figures(port, 20, 20, message(1024))
        run(client_figures(port, 20, 20, message(1024)))
        refs, ourses = [], []
        for _ in range(args.rounds):
            refs.append(smtplib_figures(port, args.messages, args.noops, big))
            ourses.append(run(client_figures(port, args.messages, args.noops, big)))
        ref, ours = best(refs), best(ourses)
    finally:
        stop.set()
        sink.join(10)

    mb = len(big) / 1e6
    rows = [
        (
            f"{args.messages} x 1 KB messages, one connection (msg/s)",
            f"{ours['throughput']:.0f}",
            f"{ref['throughput']:.0f}",
            ours["throughput"] / ref["throughput"],
            ">= 1.00x",
        ),
        (
            f"{args.noops} NOOP round trips (us each)",
            f"{ours['noop'] * 1e6:.1f}",
            f"{ref['noop'] * 1e6:.1f}",
            ours["noop"] / ref["noop"],
            "<= 1.20x",
        ),
        (
            f"one {mb:.1f} MB message (s)",
            f"{ours['big']:.3f}",
            f"{ref['big']:.3f}",
            ours["big"] / ref["big"],
            "<= 1.20x",
        ),
        (
            "peak memory sending it (MB; x message size)",
            f"{ours['memory'] / 1e6:.1f} ({ours['memory'] / len(big):.2f}x)",
            f"{ref['memory'] / 1e6:.1f} ({ref['memory'] / len(big):.2f}x)",
            ours["memory"] / ref["memory"],
            "ours < 3x size",
        ),
    ]
    print(f"smtptui's client on {loop_name()}; the sink is aiosmtpd's Sink in its own process")
    print(f"{'figure':<48} {'smtptui':>16} {'smtplib':>16} {'ratio':>7}  target")
    for name, mine, theirs, ratio, target in rows:
        print(f"{name:<48} {mine:>16} {theirs:>16} {ratio:>6.2f}x  {target}")


if __name__ == "__main__":
    main()
