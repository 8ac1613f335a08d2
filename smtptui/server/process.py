"""The UI demo's embedded server in a process of its own.

``smtptui --demo``'s app starts it after its first frame: the app's process then imports
neither aiosmtpd nor cryptography, and the server's buffers (aiosmtpd's copy of each
message, its thread's memory) are not the app's. The child, ``python -m
smtptui.server.process PORT``, serves on 127.0.0.1 (STARTTLS, XCLIENT, no message kept) and
writes one JSON line on its stdout: where it listens, its certificate and the demo user
(:class:`Listening`), or why it did not start. It serves until its stdin ends: when the app
closes it, or exits however it exits.
"""

from __future__ import annotations

import contextlib
import json
import select
import ssl
import subprocess
import sys
from dataclasses import asdict, dataclass
from types import TracebackType

from smtptui.server.certs import trusting

START_TIMEOUT = 30.0
"""Seconds the app waits for the child's line (it takes well under one)."""

STOP_TIMEOUT = 5.0
"""Seconds the child has to stop once its stdin is closed, before it is killed."""


@dataclass(frozen=True)
class Listening:
    """Where a started demo server listens, the certificate it presents (PEM) and the
    demo user's name and password."""

    host: str
    port: int
    cert_pem: str
    user: str
    password: str

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate and nothing else."""
        return trusting(self.cert_pem.encode("ascii"))


class ServerProcess:
    """The demo server's child process, started on ``port`` (0: a free one) at once;
    :meth:`listening` waits for it, :meth:`close` (or leaving the ``with``) stops it."""

    def __init__(self, port: int = 0) -> None:
        self._child = subprocess.Popen(
            [sys.executable, "-m", __name__, str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # the app owns the terminal; failures come as a line
            start_new_session=True,  # a Ctrl-C at the terminal is the app's, not the server's
        )

    def listening(self, timeout: float = START_TIMEOUT) -> Listening:
        """Wait for the child's line; an :class:`OSError` says why it did not start."""
        out = self._child.stdout
        assert out is not None
        if not select.select([out], [], [], timeout)[0]:
            raise TimeoutError(f"the server process did not answer within {timeout:g} s")
        line = out.readline()
        if not line:
            status = self._child.wait()
            raise ChildProcessError(f"the server process ended (status {status}) unstarted")
        found = json.loads(line)
        if "error" in found:
            raise OSError(found["error"])
        return Listening(**found)

    def close(self) -> None:
        """Close the child's stdin, so that it stops, and wait for it (killed if it is
        slow to)."""
        for pipe in (self._child.stdin, self._child.stdout):
            if pipe is not None:
                pipe.close()
        try:
            self._child.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _serve(port: int) -> None:
    """The child: start the server, say where it listens (or why it did not start) on
    stdout, and serve until stdin ends."""
    try:
        from smtptui.server.embedded import EmbeddedServer
        from smtptui.server.handler import DEMO_USERS

        server = EmbeddedServer(port=port, xclient=True, keep_messages=False)
        server.start()
    except Exception as error:  # any of it: the app says it in its transcript
        _say({"error": str(error) or type(error).__name__})
        return
    assert server.self_signed is not None
    user, password = next(iter(DEMO_USERS.items()))
    pem = server.self_signed.cert_pem.decode("ascii")
    try:
        with contextlib.suppress(BrokenPipeError):  # the app has gone already
            _say(asdict(Listening(server.host, server.port, pem, user, password)))
            sys.stdin.buffer.read()  # nothing comes: this returns when the app closes it
    finally:
        server.stop()


def _say(found: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(found) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
