"""``smtptui`` as a real process, from a test whose servers run on its own event loop or in
a thread (or process) of their own."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


def printed(output: bytes) -> str:
    """What a process printed, each byte that is not UTF-8 kept (as a lone surrogate)."""
    return output.decode("utf-8", "surrogateescape")


def _environment(env: dict[str, str] | None, columns: int | None) -> dict[str, str] | None:
    """``env`` (None: this process's), in a terminal ``columns`` wide if given."""
    if columns is None:
        return env
    return {**(os.environ if env is None else env), "COLUMNS": str(columns)}


async def smtptui(
    *args: str, env: dict[str, str] | None = None, columns: int | None = None
) -> tuple[int, str, str]:
    """``smtptui ARGS``: exit status, stdout, stderr (without blocking the loop the test's
    server runs on)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "smtptui",
        *args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_environment(env, columns),
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, printed(out), printed(err)


def smtptui_sync(
    *args: str, env: dict[str, str] | None = None, columns: int | None = None
) -> subprocess.CompletedProcess[str]:
    """``smtptui ARGS``, blocking: for tests whose server runs in a thread of its own (the
    embedded server) or in another process."""
    return subprocess.run(
        [sys.executable, "-m", "smtptui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=_environment(env, columns),
    )


async def smtptui_run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """``smtptui run --no-color ARGS`` (see :func:`smtptui`)."""
    return await smtptui("run", "--no-color", *args, env=env)


def smtptui_run_sync(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``smtptui run --no-color ARGS``, blocking (see :func:`smtptui_sync`)."""
    return smtptui_sync("run", "--no-color", *args, env=env)


@dataclass
class Serving:
    """A ``smtptui serve`` process: its port, and once stopped what it printed after its
    "Listening on" line."""

    port: int
    out: str = ""
    err: str = ""


@contextmanager
def serving(*args: str) -> Iterator[Serving]:
    """``smtptui serve --port 0 ARGS`` running; on leaving, stopped as Ctrl+C stops it,
    which must end it with status 0."""
    serve = subprocess.Popen(
        [sys.executable, "-m", "smtptui", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    listening = serve.stdout.readline() if serve.stdout else b""
    port = re.search(rb"127\.0\.0\.1:(\d+)", listening)
    served = Serving(int(port[1]) if port else 0)
    try:
        assert port is not None, listening
        yield served
    finally:
        serve.send_signal(signal.SIGINT)
        served.out, served.err = (printed(output) for output in serve.communicate(timeout=30))
    assert serve.returncode == 0, served.err
