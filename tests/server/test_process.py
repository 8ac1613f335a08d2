"""The UI demo's server in a process of its own (``smtptui.server.process``): it says where
it listens and what certificate it presents, serves, says why it could not start, and stops
when the app closes its pipe, however the app ends."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from smtptui.engine import SMTPClient
from smtptui.server import DEMO_USERS, Listening, ServerProcess


@pytest.fixture
def listening() -> Iterator[Listening]:
    with ServerProcess() as process:
        yield process.listening()


def refuses(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port`` any more (waiting up to 30 s for the
    child to go: its exit is what is tested, not how soon)."""
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return True
        time.sleep(0.1)
    return False


async def test_it_serves_starttls_with_the_certificate_it_names(listening: Listening) -> None:
    """The app trusts that certificate and nothing else, and logs in as the demo user."""
    assert listening.host == "127.0.0.1"
    assert (listening.user, listening.password) in DEMO_USERS.items()
    client = SMTPClient()
    await client.connect(listening.host, listening.port)
    await client.ehlo("client.test")
    await client.starttls(listening.client_context())  # verified: chain and name
    await client.ehlo("client.test")
    await client.login(listening.user, listening.password)
    assert await client.sendmail("a@test", ["b@test"], "Subject: hi\r\n\r\nhi\r\n") == {}
    await client.quit()


def test_a_taken_port_is_an_error_that_says_so() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with (
            ServerProcess(taken.getsockname()[1]) as process,
            pytest.raises(OSError, match="in use"),
        ):
            process.listening()


def test_it_stops_when_the_app_closes_it() -> None:
    with ServerProcess() as process:
        port = process.listening().port
    assert refuses(port)


PARENT = """
import os, sys
from smtptui.server import ServerProcess
process = ServerProcess()
print(process.listening().port, flush=True)
sys.stdin.read()  # killed meanwhile
"""


def test_it_stops_when_the_app_is_killed() -> None:
    """SIGKILL: nothing of the app runs, the pipe closes all the same."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    port = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    parent.stdin.close()  # type: ignore[union-attr]
    parent.stdout.close()
    assert refuses(port)


def test_the_line_is_json_with_the_pem() -> None:
    """What the child writes, as the parent reads it: one line, the certificate in PEM."""
    child = subprocess.run(
        [sys.executable, "-m", "smtptui.server.process", "0"],
        input="",  # stdin ends at once: it says where it listened, then stops
        capture_output=True,
        text=True,
        timeout=60,
    )
    [line] = child.stdout.splitlines()
    found = json.loads(line)
    assert found["cert_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert child.returncode == 0


def test_the_app_side_imports_no_server() -> None:
    """Starting the child and reading its line needs neither aiosmtpd nor cryptography."""
    code = (
        "import sys; from smtptui.server import ServerProcess\n"
        "with ServerProcess() as p: p.listening().client_context()\n"
        "print(sorted({'aiosmtpd', 'cryptography'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr
