"""A session's way to the server: the settings that name it, checked, and the controller
connecting over a UNIX socket, a command's pipe and a SOCKS5 proxy."""

from __future__ import annotations

import asyncio
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from smtptui.protocol.errors import CommandError
from smtptui.server import EmbeddedServer
from smtptui.session import (
    Connect,
    Ehlo,
    EntryKind,
    Quit,
    RunAll,
    Security,
    SendMessage,
    SessionController,
    SessionSettings,
)
from smtptui.session.recipe import Recipe, as_python, as_run

from support.proxies import proxy

STDIO = f"{shlex.quote(sys.executable)} -m smtptui serve --stdio"


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"host": "unix:/run/lmtp", "port": 24}, "port"),
        ({"host": "unix:"}, "host"),
        ({"host": "mx.example", "pipe": "exim -bh 10.0.0.1"}, "pipe"),
        ({"host": "@example.org", "pipe": "exim -bh 10.0.0.1"}, "pipe"),
        ({"host": "mx.example", "via": "ftp://proxy:21"}, "via"),
        ({"host": "mx.example", "source_address": "mx.example"}, "source"),
        ({"host": "unix:/run/lmtp", "family": 6}, "family"),
    ],
)
def test_bad_transport_settings_name_their_field(given: dict[str, Any], field: str) -> None:
    with pytest.raises(CommandError) as caught:
        SessionSettings(**given)
    assert str(caught.value).startswith(f"{field}: ")


def test_addresses_without_a_port() -> None:
    assert SessionSettings(host="unix:/run/lmtp").address() == ("unix:/run/lmtp", 0)
    assert SessionSettings(pipe="exim -bh 10.0.0.1").address() == ("", 0)


async def run_session(settings: SessionSettings) -> SessionController:
    controller = SessionController(settings)
    for action in (Connect(), Ehlo(), Quit()):
        outcome = await controller.run(action)
        assert outcome.ok, outcome.error
    return controller


def first_info(controller: SessionController) -> str:
    return next(entry.text for entry in controller.transcript if entry.kind is EntryKind.INFO)


async def test_session_over_a_unix_socket(
    make_server: Callable[..., EmbeddedServer], tmp_path: Path
) -> None:
    path = tmp_path / "smtp.sock"
    make_server(unix_path=str(path))
    controller = await run_session(SessionSettings(host=f"unix:{path}", helo_name="c.example"))
    assert controller.state.address == f"unix:{path}"
    assert first_info(controller) == f"Connecting to unix:{path}…"


async def test_session_through_a_pipe() -> None:
    settings = SessionSettings(pipe=STDIO, helo_name="c.example", verify=False)
    controller = await run_session(settings)
    assert controller.state.address == f"`{STDIO}`"
    assert first_info(controller) == f"Connecting through `{STDIO}`…"


async def test_session_via_socks5(server: EmbeddedServer) -> None:
    with proxy("socks5") as url:
        settings = SessionSettings(
            host=f"127.0.0.1:{server.port}", via=url, source_address="127.0.0.1"
        )
        controller = await run_session(settings)
    where = f"127.0.0.1:{server.port} via {url} from 127.0.0.1"
    assert controller.state.address == where
    assert first_info(controller) == f"Connecting to {where}…"


async def test_recipe_of_a_unix_socket_session_runs_again(
    make_server: Callable[..., EmbeddedServer], tmp_path: Path
) -> None:
    path = tmp_path / "smtp.sock"
    server = make_server(unix_path=str(path))
    settings = SessionSettings(host=f"unix:{path}", security=Security.NONE)
    send = SendMessage("alice@example.org", ("bob@example.org",), b"Subject: again\r\n\r\nHi.\r\n")
    controller = SessionController(settings)
    assert (await controller.run(RunAll(send))).ok
    assert controller.recipe is not None
    script = as_run(controller.recipe, f"{shlex.quote(sys.executable)} -m smtptui")
    done = await asyncio.to_thread(
        subprocess.run, ["bash", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert [m.data for m in server.messages] == [server.messages[0].data] * 2


def test_recipe_names_the_way_without_the_proxy_password() -> None:
    settings = SessionSettings(
        host="mx.example", via="socks5://u:secret@proxy:1080", source_address="192.0.2.1", family=4
    )
    send = SendMessage("a@example.org", ("b@example.org",), b"Subject: x\r\n\r\nx\r\n")
    script = as_run(Recipe.of(settings, send, None))
    for group in ("--via socks5://u@proxy:1080 \\\n", "--source 192.0.2.1 \\\n", "-4 \\\n"):
        assert group in script
    assert "secret" not in script
    assert "add it to --via" in script
    piped = as_run(Recipe.of(SessionSettings(pipe="exim -bh 192.0.2.1"), send, None))
    assert "# smtptui run: `exim -bh 192.0.2.1`, STARTTLS" in piped
    assert "smtptui run --starttls \\\n    --pipe 'exim -bh 192.0.2.1' \\\n" in piped
    assert "does not connect through `exim -bh 192.0.2.1`" in as_python(
        Recipe.of(SessionSettings(pipe="exim -bh 192.0.2.1"), send, None)
    )
