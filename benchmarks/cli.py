"""``smtptui run`` against swaks, and ``smtptui --version`` against ``python -c pass``.

    python benchmarks/cli.py [--runs 20]

The whole dialogue a script runs, both ways, each a new process as a script starts it:
connect, EHLO, STARTTLS with the certificate verified against a CA file, EHLO again, AUTH
PLAIN as alice, one message (MAIL, RCPT, DATA), QUIT. The server is the embedded one
(``smtptui.server.EmbeddedServer``, STARTTLS with its self-signed certificate, which is the
CA file both clients trust), in a process of its own on the last CPU; the clients run on the
others. The two commands take turns, ABBA (who goes first alternates), ``--runs`` each, so
that the drift of a busy machine falls on both alike; each wall time is the child process's,
from start to exit. Target: ``smtptui run`` <= 0.6x swaks' mean wall time. A third takes
the same turns: the shortest Python script that runs this dialogue with smtplib, the floor
for any Python client (the interpreter's own start-up included). Every child caches its
byte code (in the run's temporary directory), as an installed program does. Then ``python
-X importtime``'s slowest imports of that run (the top level's and the level below), to show
where its time goes.

Then start-up alone, the same way: ``python -m smtptui --version`` against ``python -c
pass`` (the same interpreter; target <= 2x), and its slowest imports.

swaks is needed for the first figure (``apt-get install swaks``); without it that figure is
skipped and the rest is measured. smtptui is run with ``python -m smtptui`` from this
checkout, not through the installed ``smtptui`` script (a pyenv shim, say, adds its own
start-up to every run).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from multiprocessing.synchronize import Event
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
USER, PASSWORD = "alice", "wonderland"
SENDER, RECIPIENT = "alice@smtptui.demo", "bob@smtptui.demo"

SMTPLIB = """
import os, smtplib, ssl, sys
host, port, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
client = smtplib.SMTP(host, port, local_hostname="client.smtptui.demo")
client.starttls(context=ssl.create_default_context(cafile=cafile))
client.login("alice", os.environ["SMTPTUI_PASSWORD"])
client.sendmail(
    "alice@smtptui.demo",
    ["bob@smtptui.demo"],
    "From: alice@smtptui.demo\\r\\nTo: bob@smtptui.demo\\r\\n\\r\\nHello.\\r\\n",
)
client.quit()
"""
"""The same dialogue as the shortest Python script can run it, with smtplib: what any Python
client pays, start-up included, the floor ``smtptui run`` is measured against beside swaks."""


def _cpus() -> tuple[set[int], set[int]]:
    """The server's CPU (the last) and the clients' (the others; all of them with one)."""
    if not hasattr(os, "sched_getaffinity"):
        return set(), set()
    cpus = sorted(os.sched_getaffinity(0))
    return {cpus[-1]}, set(cpus[:-1]) or {cpus[-1]}


def _pin(cpus: set[int]) -> None:
    if cpus:
        os.sched_setaffinity(0, cpus)


def serve(queue: multiprocessing.Queue, stop: Event) -> None:
    """The embedded server (STARTTLS, AUTH inside TLS) as a sink on its own CPU; puts its
    port and certificate (PEM) on ``queue``."""
    _pin(_cpus()[0])
    sys.path.insert(0, str(ROOT))
    from smtptui.server import EmbeddedServer

    server = EmbeddedServer(HOST, 0, on_message=lambda _: server.messages.clear())
    with server:
        assert server.self_signed is not None
        queue.put((server.port, server.self_signed.cert_pem))
        stop.wait()


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    """The children's environment: this checkout first on the path, and byte code cached
    (in a directory of the run's own, not in the checkout), as an installed program's is
    even where PYTHONDONTWRITEBYTECODE is set here: compiling every module from source on
    every start is not what a user's ``smtptui`` pays."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": path, "PYTHONPYCACHEPREFIX": str(tmp / "pycache"), **extra}


def wall(command: Sequence[str], env: dict[str, str]) -> float:
    """One run's wall time, in seconds; the command must succeed."""
    start = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode()}")
    return elapsed


def race(runs: int, *commands: tuple[Sequence[str], dict[str, str]]) -> list[list[float]]:
    """``runs`` wall times of each command, taking turns: each round's order is the last
    one's reversed (ABBA for two), so a drifting machine weighs on all alike; one run each
    first, not counted."""
    for command in commands:
        wall(*command)
    times: list[list[float]] = [[] for _ in commands]
    order = list(range(len(commands)))
    for _ in range(runs):
        for n in order:
            times[n].append(wall(*commands[n]))
        order.reverse()
    return times


def _line(name: str, times: list[float]) -> str:
    mean, stdev = statistics.mean(times), statistics.stdev(times)
    return (
        f"  {name:<34} mean {mean * 1000:7.1f} ms  ± {stdev * 1000:5.1f}"
        f"  (min {min(times) * 1000:6.1f}, median {statistics.median(times) * 1000:6.1f})"
    )


def _ratio(name: str, ours: list[float], theirs: list[float], target: float | None) -> str:
    ratio = statistics.mean(ours) / statistics.mean(theirs)
    if target is None:
        return f"  {name}: {ratio:.2f}x"
    verdict = "met" if ratio <= target else "NOT met"
    return f"  {name}: {ratio:.2f}x (target <= {target}x: {verdict})"


def importtime(args: Sequence[str], env: dict[str, str], top: int) -> list[str]:
    """``python -X importtime -m smtptui ARGS``'s ``top`` slowest imports (cumulative), of
    the top level and the level below it."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "smtptui", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            depth = (len(parts[2]) - len(parts[2].lstrip()) - 1) // 2
            if depth <= 1:  # smtptui.cli and what it imports itself
                rows.append((int(parts[1]), "  " * depth + parts[2].strip()))
    rows.sort(reverse=True)
    return [f"    {us / 1000:6.1f} ms  {name}" for us, name in rows[:top]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="runs of each (>= 10)")
    args = parser.parse_args()
    runs = max(args.runs, 10)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {runs} runs each, ABBA")

    queue: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(queue, stop), daemon=True)
    server.start()
    port, cert_pem = queue.get(timeout=30)
    _pin(_cpus()[1])  # the clients (children inherit it) off the server's CPU
    with tempfile.TemporaryDirectory() as tmp:
        try:
            cafile = Path(tmp) / "ca.pem"
            cafile.write_bytes(cert_pem)
            dialogue(runs, port, cafile)
        finally:
            stop.set()
            server.join(timeout=10)
        startup(runs, Path(tmp))


def dialogue(runs: int, port: int, cafile: Path) -> None:
    ours = (
        [
            *(sys.executable, "-m", "smtptui", "run", f"{HOST}:{port}", "--no-color"),
            *("--cafile", str(cafile), "--user", USER, "--auth", "PLAIN"),
            *("--from", SENDER, "--to", RECIPIENT),
        ],
        _env(cafile.parent, SMTPTUI_PASSWORD=PASSWORD),
    )
    smtplib = (
        [sys.executable, "-c", SMTPLIB, HOST, str(port), str(cafile)],
        _env(cafile.parent, SMTPTUI_PASSWORD=PASSWORD),
    )
    swaks = shutil.which("swaks")
    print(f"\nThe whole dialogue (STARTTLS verified, AUTH PLAIN, one message, QUIT), {HOST}:{port}")
    if swaks is None:
        print(
            "  swaks is not installed: apt-get install swaks (or https://jetmore.org/john/code/swaks/)"
        )
        times_ours, times_smtplib = race(runs, ours, smtplib)
    else:
        theirs = (
            [
                *(swaks, "--server", HOST, "--port", str(port), "--tls", "--tls-verify"),
                *("--tls-ca-path", str(cafile), "--auth", "PLAIN", "--auth-user", USER),
                *("--auth-password", PASSWORD, "--from", SENDER, "--to", RECIPIENT),
                *("--helo", "client.smtptui.demo"),
            ],
            _env(cafile.parent),
        )
        times_ours, times_swaks, times_smtplib = race(runs, ours, theirs, smtplib)
    print(_line("smtptui run", times_ours))
    if swaks is not None:
        print(_line("swaks", times_swaks))
    print(_line("python smtplib script", times_smtplib))
    if swaks is not None:
        print(_ratio("smtptui run / swaks", times_ours, times_swaks, 0.6))
        print(_ratio("smtplib script / swaks", times_smtplib, times_swaks, None))
    print(_ratio("smtptui run / smtplib script", times_ours, times_smtplib, None))
    print("\n  slowest imports, this smtptui run:")
    print("\n".join(importtime(ours[0][3:], ours[1], 14)))


def startup(runs: int, tmp: Path) -> None:
    env = _env(tmp)
    version = ([sys.executable, "-m", "smtptui", "--version"], env)
    nothing = ([sys.executable, "-c", "pass"], env)
    print("\nStart-up")
    times_version, times_pass = race(runs, version, nothing)
    print(_line("python -m smtptui --version", times_version))
    print(_line("python -c pass", times_pass))
    print(_ratio("--version / python -c pass", times_version, times_pass, 2.0))
    print("\n  slowest imports, smtptui --version:")
    print("\n".join(importtime(["--version"], env, 10)))


if __name__ == "__main__":
    main()
