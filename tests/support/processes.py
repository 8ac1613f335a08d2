"""``smtptui run`` as a real process, from a test whose servers run on its own event loop."""

from __future__ import annotations

import asyncio
import subprocess
import sys


def printed(output: bytes) -> str:
    """What a process printed, each byte that is not UTF-8 kept (as a lone surrogate)."""
    return output.decode("utf-8", "surrogateescape")


async def smtptui_run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """``smtptui run --no-color ARGS``: exit status, stdout, stderr (without blocking the
    loop the test's server runs on)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "smtptui",
        "run",
        "--no-color",
        *args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, printed(out), printed(err)


def smtptui_run_sync(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``smtptui run --no-color ARGS``, blocking: for tests whose server runs in a thread of
    its own (the embedded server) or in another process."""
    return subprocess.run(
        [sys.executable, "-m", "smtptui", "run", "--no-color", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
