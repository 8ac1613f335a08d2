"""The embedded server with its fault rules on, against plain aiosmtpd, in one run.

    python benchmarks/serve.py [--clients 50] [--messages 2000] [--size 1024] [--repeat 3]
                                [--port 43700]

Each server runs in a process of its own, on a CPU of its own when there are two, started
afresh for each turn: plain aiosmtpd (a bare ``Controller`` with a sink handler that keeps
nothing), the embedded server with no rules, and the embedded server with a rules file (the
shipped rules and a few more, checked on every command, one of them firing on every QUIT);
the embedded server keeps no message, as ``smtptui serve`` does.
``--clients`` engine clients at once send ``--messages`` messages between them, each over
one connection. The servers take turns, their order turned round each repeat, so that the
drift of a busy machine falls on all alike; throughput is the messages over the time of all
turns. Target: the rules on >= 0.8x aiosmtpd's throughput. The servers' memory (RSS, from
/proc) is sampled as the messages go: its peak, and where it stands after each quarter of
the run (flat: it does not grow with the messages).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from smtptui.engine import SMTPClient
from smtptui.engine.loop import loop_name, run

SENDER = "bench@example.com"
RECIPIENT = "sink@example.com"
RULES = """\
[[rule]]
stage = "mail"
match = { address = ["reject", "reject@*", "reject-*"] }
code = 553
[[rule]]
stage = "mail"
match = { client = "192.0.2.0/24" }
code = 554
[[rule]]
stage = "rcpt"
match = { address = ["reject*", "unknown*", "*@blocked.example"] }
code = 550
[[rule]]
stage = "rcpt"
match = { address_regex = "^nobody@" }
delay = 5
[[rule]]
stage = "dot"
match = { address = "full*", protocol = "lmtp" }
code = 452
[[rule]]
stage = "quit"
code = 221
text = "bye from the rules"
"""
KINDS = ("aiosmtpd", "embedded, no rules", "embedded, rules")


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    """A process's resident memory now (``VmHWM``: its peak), in KB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    return 0


def _serve(kind: str, port: int, cpu: int | None, conn: Connection) -> None:
    """Serve until told to stop; send the port first (aiosmtpd's needs one given)."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    if kind == "aiosmtpd":
        from aiosmtpd.controller import Controller

        class Sink:
            async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
                return "250 OK"

        controller = Controller(Sink(), hostname="127.0.0.1", port=port, decode_data=False)
        controller.start()
        conn.send(controller.port)
        conn.recv()
        controller.stop()
        return
    from smtptui.server import EmbeddedServer
    from smtptui.server.rules import parse_rules

    rules = parse_rules(RULES, "benchmark") if kind == "embedded, rules" else ()
    with EmbeddedServer(starttls=False, rules=rules, seed=1, keep_messages=False) as server:
        conn.send(server.port)
        conn.recv()


async def _load(port: int, clients: int, messages: int, body: bytes, sample: Callable[[], None]):
    per_client = [messages // clients + (i < messages % clients) for i in range(clients)]
    sent = 0
    marks = {messages * q // 4 for q in range(1, 4)}

    async def client(count: int) -> None:
        nonlocal sent
        smtp = SMTPClient("127.0.0.1", port, timeout=60)
        await smtp.connect()
        await smtp.ehlo()
        for _ in range(count):
            await smtp.sendmail(SENDER, [RECIPIENT], body)
            sent += 1
            if sent in marks:
                sample()
        await smtp.quit()

    await asyncio.gather(*(client(n) for n in per_client))


def turn(kind: str, args: argparse.Namespace, body: bytes) -> tuple[float, list[int], int]:
    """One server's turn: the time for all the messages, its RSS (KB) idle, after each
    quarter and at the end, and its peak RSS."""
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu = cpus[-1] if len(cpus) > 1 else None
    if server_cpu is not None:
        os.sched_setaffinity(0, set(cpus[:-1]))
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.Process(target=_serve, args=(kind, args.port, server_cpu, theirs))
    process.start()
    try:
        port = ours.recv()
        assert process.pid is not None
        pid = process.pid
        samples = [_rss_kb(pid)]
        started = time.perf_counter()
        run(_load(port, args.clients, args.messages, body, lambda: samples.append(_rss_kb(pid))))
        elapsed = time.perf_counter() - started
        samples.append(_rss_kb(pid))
        peak = _rss_kb(pid, "VmHWM")
        ours.send("stop")
    finally:
        process.join(10)
        os.sched_setaffinity(0, set(cpus))
    return elapsed, samples, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--size", type=int, default=1024, help="bytes per message")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--port", type=int, default=43700, help="for aiosmtpd")
    args = parser.parse_args()
    line = b"x" * 76 + b"\r\n"
    body = b"Subject: bench\r\n\r\n" + line * max(1, args.size // len(line))
    times = dict.fromkeys(KINDS, 0.0)
    memory: dict[str, list[list[int]]] = {kind: [] for kind in KINDS}
    peaks = dict.fromkeys(KINDS, 0)
    for round_ in range(args.repeat):
        for kind in KINDS if round_ % 2 == 0 else KINDS[::-1]:
            elapsed, samples, peak = turn(kind, args, body)
            times[kind] += elapsed
            memory[kind].append(samples)
            peaks[kind] = max(peaks[kind], peak)
            print(f"  {kind:<20} {args.messages / elapsed:7.0f} msg/s  RSS KB {samples}")
    total = args.messages * args.repeat
    print(
        f"\n{args.clients} clients, {args.messages} messages of {len(body)} bytes, "
        f"x{args.repeat}, client loop {loop_name()}"
    )
    for kind in KINDS:
        peak = peaks[kind]
        # from the first quarter (every client connected) to the end: the messages' share
        growth = max(samples[-1] - samples[1] for samples in memory[kind])
        print(
            f"{kind:<20} {total / times[kind]:7.0f} msg/s  peak RSS {peak / 1024:5.1f} MB  "
            f"grew {growth} KB at most from the first quarter to the end"
        )
    ratio = times["aiosmtpd"] / times["embedded, rules"]
    print(f"rules on / aiosmtpd throughput: {ratio:.2f}x (target >= 0.8x)")
    cost = times["embedded, no rules"] / times["embedded, rules"]
    print(f"rules on / no rules throughput: {cost:.2f}x")


if __name__ == "__main__":
    main()
