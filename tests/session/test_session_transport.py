"""A session's way to the server: the settings that name it, checked, and the controller
connecting over a UNIX socket, a command's pipe and a SOCKS5 proxy."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from smtptui.protocol.errors import CommandError
from smtptui.server import EmbeddedServer
from smtptui.session import Connect, Ehlo, EntryKind, Quit, SessionController, SessionSettings

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
