"""``smtptui --demo``'s first frame and memory against a bare Textual app showing one Static.

    python benchmarks/startup.py [--runs 10] [--megabytes 15]

First frame: each run is a fresh ``python -c`` process, so that every import counts. The
parent notes the monotonic clock (``time.perf_counter``, the same clock in every process on
Linux) just before it starts the child; the child runs the app headless (120x40) through
its real entry point (``smtptui.cli.main(["--demo"])``, embedded server included; for the
bare app, ``App.run``) and, once the app is mounted, asks for a callback after the next
refresh (``App._ready`` then ``call_after_refresh``: the first frame has been composed and
drawn), prints the clock and exits. The apps take turns (the order reverses each round),
``--runs`` each after one warm-up each; figures are medians, the ratio the median of the
rounds' ratios (demo / bare). Target: <= 1.5x. A third app, "its widgets alone", takes its
turn too: plain Textual drawing what the demo's first frame shows (the status line, four
tabs, the Connection form's fields, radio buttons, select, collapsibles and buttons, a Log
for the transcript, an Input, the Footer) and nothing of smtptui. Its ratio to the bare app
is what Textual alone costs for that screen: the floor under the demo's. Byte code is
cached (in the run's temporary directory) as an installed program's is; config.toml is the
run's own (empty).

Memory: again each in a fresh process, the demo driven with Pilot as a person would: F2
connect, F3 EHLO, F4 STARTTLS, F3, F5 AUTH, then F9 sends a message with a ``--megabytes``
attachment (random bytes; 15 MB make a message of some 20 MB in base64), each step awaited;
after a garbage collection the process's resident set (``VmRSS``) and its peak (``VmHWM``)
are read. The bare app's are read the same way once it has drawn its first frame. Target:
the demo's RSS after the send <= 3x the bare app's. tracemalloc's peak of the send alone
(Python's own allocations, from F9 to its reply) is shown beside it, as a count of the
message's copies; it is measured in a run of its own, since tracing costs memory of its
own (some 10 MB for this send) that the resident set would keep.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FIRST_FRAME = """
import sys, time
from textual.app import App

_ready, _run_async = App._ready, App.run_async

async def ready(self):
    await _ready(self)
    def drawn():
        print(time.perf_counter(), flush=True)
        self.exit()
    self.call_after_refresh(drawn)

def run_async(self, **kwargs):
    return _run_async(self, **{**kwargs, "headless": True, "size": (120, 40)})

App._ready, App.run_async = ready, run_async
if sys.argv[1] == "demo":
    from smtptui.cli import main
    main(["--demo"], standalone_mode=False)
elif sys.argv[1] == "widgets":
    from textual.containers import Horizontal
    from textual.widgets import (
        Button, Collapsible, Footer, Input, Label, Log, RadioButton, RadioSet, Select, Static,
        TabbedContent, TabPane,
    )

    def field(label, *widgets):
        return Horizontal(Label(label, classes="label"), *widgets)

    class Widgets(App):
        BINDINGS = [("f1", "a", "All keys"), ("f2", "b", "Connect")]
        CSS = "Horizontal { height: auto; } .label { width: 12; } #left { width: 50; }"

        def compose(self):
            yield Static("smtptui  disconnected")
            with Horizontal():
                with TabbedContent(id="left"):
                    with TabPane("Connection"):
                        for name in ("Host", "Port", "DNS server"):
                            yield field(name, Input(compact=True))
                        buttons = (RadioButton(name) for name in ("STARTTLS", "TLS", "none"))
                        yield field("Security", RadioSet(*buttons))
                        yield field("Verify", Select([("chain and name", 1)], compact=True))
                        yield Collapsible(title="TLS options")
                        yield field("EHLO name", Input(compact=True))
                        yield field("Timeouts", Input(compact=True), Label("s to connect"))
                        yield field("", Input(compact=True), Label("s per reply"))
                        for title in ("Protocol", "Transport", "PROXY / XCLIENT"):
                            yield Collapsible(title=title)
                        yield Horizontal(*(Button(n, compact=True) for n in ("Connect", "Quit")))
                    for title in ("Auth", "Compose", "Server"):
                        yield TabPane(title)
                yield Log()
            yield Input(compact=True)
            yield Footer()

        def on_mount(self):
            self.query_one(Log).write_lines(["=== Demo server"] * 8)

    Widgets().run()
else:
    from textual.widgets import Static

    class Bare(App):
        def compose(self):
            yield Static("Hello")

    Bare().run()
"""
"""The child of a first-frame run: ``demo`` or ``bare``."""

MEMORY = """
import asyncio, gc, json, os, sys, tracemalloc
from pathlib import Path


def rss():
    status = Path("/proc/self/status").read_text().splitlines()
    kb = {line.split(":")[0]: int(line.split()[1]) for line in status if line.startswith("Vm")}
    return kb["VmRSS"] * 1024, kb["VmHWM"] * 1024


async def bare():
    from textual.app import App
    from textual.widgets import Static

    class Bare(App):
        def compose(self):
            yield Static("Hello")

    async with Bare().run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        gc.collect()
        return {"rss": rss(), "peak": 0}


async def step(pilot, *keys):
    for key in keys:
        await pilot.press(key)
        await asyncio.wait_for(pilot.app.workers.wait_for_complete(), 300)
        await pilot.pause()


async def demo(path):
    from contextlib import ExitStack

    from smtptui.cli import demo_app

    with ExitStack() as stack:
        return await _demo(demo_app(stack), path)


async def _demo(app, path):
    from smtptui.session.message import Attachment
    from smtptui.ui.panes.compose import ComposePane

    async with app.run_test(size=(120, 40)) as pilot:
        await app.started()
        await step(pilot, "f2", "f3", "f4", "f3", "f5")
        compose = app.query_one(ComposePane)
        compose.attachments.append(Attachment(Path(path)))
        if trace:
            tracemalloc.start()
        await step(pilot, "f9")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        replies = [e.text for e in app.controller.transcript if e.reply and e.text[:4] == "250 "]
        assert any("queued" in text.lower() or "ok" in text.lower() for text in replies), replies
        gc.collect()
        return {"rss": rss(), "peak": peak}


which, trace = sys.argv[1], sys.argv[-1] == "trace"
print(json.dumps(asyncio.run(demo(sys.argv[2]) if which == "demo" else bare())))
"""
"""The child of a memory run: ``demo FILE [trace]`` or ``bare``; prints its figures as JSON
(``trace``: the send's tracemalloc peak, else 0)."""


def _env(tmp: Path) -> dict[str, str]:
    """This checkout first on the path, byte code cached in the run's directory, and a
    config directory of the run's own (no remembered theme, no profiles)."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {
        **env,
        "PYTHONPATH": path,
        "PYTHONPYCACHEPREFIX": str(tmp / "pycache"),
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "SMTPTUI_ROOT": str(ROOT),
    }


def first_frame(which: str, env: dict[str, str]) -> float:
    """Seconds from starting a fresh process to the first frame of app ``which``."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME, which], env=env, capture_output=True, text=True
    )
    if done.returncode != 0 or not done.stdout.strip():
        sys.exit(f"{which} failed ({done.returncode}): {done.stderr}")
    return float(done.stdout.split()[0]) - start


def memory(env: dict[str, str], *args: str) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", MEMORY, *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"memory {args[0]} failed ({done.returncode}): {done.stderr}")
    figures = json.loads(done.stdout.splitlines()[-1])
    return {"rss": figures["rss"][0], "hwm": figures["rss"][1], "peak": figures["peak"]}


def _verdict(ratio: float, target: float) -> str:
    return f"{ratio:.2f}x (target <= {target}x: {'met' if ratio <= target else 'NOT met'})"


def startup(runs: int, env: dict[str, str]) -> None:
    print(f"\nFirst frame (fresh process each; {runs} runs each, in turns, one warm-up)")
    order = ["demo", "widgets", "bare"]
    for which in order:
        first_frame(which, env)
    times: dict[str, list[float]] = {which: [] for which in order}
    ratios, floors = [], []
    for _ in range(runs):
        for which in order:
            times[which].append(first_frame(which, env))
        ratios.append(times["demo"][-1] / times["bare"][-1])
        floors.append(times["widgets"][-1] / times["bare"][-1])
        order.reverse()
    names = {"demo": "smtptui --demo", "widgets": "its widgets alone", "bare": "bare App + Static"}
    for which, name in names.items():
        median, least = statistics.median(times[which]), min(times[which])
        print(f"  {name:<20} median {median * 1000:6.1f} ms  (min {least * 1000:6.1f})")
    print(f"  demo / bare: {_verdict(statistics.median(ratios), 1.5)}")
    print(f"  its widgets alone / bare: {statistics.median(floors):.2f}x")


def footprint(megabytes: int, env: dict[str, str], tmp: Path) -> None:
    print(f"\nMemory (fresh process each; the demo after sending a {megabytes} MB attachment)")
    attachment = tmp / "attachment.bin"
    attachment.write_bytes(os.urandom(megabytes * 1024 * 1024))
    demo = memory(env, "demo", str(attachment))
    bare = memory(env, "bare")
    demo["peak"] = memory(env, "demo", str(attachment), "trace")["peak"]
    mb = 1024 * 1024
    for name, figures in (("smtptui --demo", demo), ("bare App + Static", bare)):
        print(
            f"  {name:<20} RSS {figures['rss'] / mb:6.1f} MB  (peak {figures['hwm'] / mb:6.1f} MB)"
        )
    print(
        f"  the send's tracemalloc peak: {demo['peak'] / mb:.1f} MB, "
        f"{demo['peak'] / attachment.stat().st_size:.1f}x the attachment"
    )
    print(f"  demo / bare RSS: {_verdict(demo['rss'] / bare['rss'], 3.0)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="first-frame runs of each")
    parser.add_argument("--megabytes", type=int, default=15, help="the attachment's size")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        env = _env(tmp)
        startup(max(args.runs, 3), env)
        footprint(args.megabytes, env, tmp)


if __name__ == "__main__":
    main()
