"""Real proxies on 127.0.0.1: pproxy (SOCKS5, SOCKS4, HTTP CONNECT) run as a process, and a
SOCKS5 server that refuses every target with a given reply code (pproxy answers a CONNECT
before it tries the target, so it never refuses one)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

_LAUNCH = (
    "import sys; sys.modules['uvloop'] = None; "  # pproxy's uvloop start fails on Python 3.11+
    "from pproxy.server import main; sys.argv[0] = 'pproxy'; main()"
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def proxy(scheme: str = "socks5", credentials: str = "") -> Iterator[str]:
    """A proxy speaking ``scheme`` (``socks5``, ``socks4``, ``http``), asking for
    ``credentials`` ("user:password") if given; yields the URL that reaches it, without
    the credentials. It is stopped when the block ends."""
    port = free_port()
    listen = f"{scheme}://127.0.0.1:{port}" + (f"#{credentials}" if credentials else "")
    process = subprocess.Popen(
        [sys.executable, "-c", _LAUNCH, "-l", listen, "--auth=-1"],  # no pass for a known IP
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pproxy did not start on {listen}")
            time.sleep(0.05)
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@contextlib.contextmanager
def refusing_socks5(code: int) -> Iterator[str]:
    """A SOCKS5 server (no authentication) answering every CONNECT with reply ``code``
    (RFC 1928 section 6: 5 is "connection refused"); yields its URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:  # closed: the block ended
                return
            with conn, contextlib.suppress(OSError):
                version, count = conn.recv(2)
                conn.recv(count)
                conn.sendall(bytes([version, 0]))  # no authentication
                request = conn.recv(512)  # VER CMD RSV ATYP ADDR PORT, in one segment here
                assert request[:2] == b"\x05\x01"
                conn.sendall(bytes([5, code, 0, 1, 0, 0, 0, 0, 0, 0]))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"socks5://127.0.0.1:{port}"
    finally:
        listener.close()
        thread.join(5)
