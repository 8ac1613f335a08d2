"""``smtptui web``: the UI in a browser, served by textual-serve.

textual-serve starts one process per browser tab and talks to it through Textual's web
driver, so each tab runs ``smtptui ui`` with the options ``web`` was given: the very app a
terminal would open. Only ``smtptui web`` imports this module (textual-serve brings aiohttp).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import shlex
import signal
import socket
import sys

import click
from aiohttp import web
from textual_serve.server import Server

from smtptui.engine.hosts import format_host

TABS_CLOSE = 1.0
"""Seconds Ctrl+C gives open tabs before their apps are told to quit (aiohttp would wait a
minute for their websockets to end, and textual-serve does not close them)."""


def tab_command(ui_args: list[str]) -> str:
    """The shell command each tab runs: this Python's ``smtptui ui`` with ``ui_args``."""
    return shlex.join([sys.executable, "-m", "smtptui", "ui", *ui_args])


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is a loopback one (a name is looked up): only
    this machine's users can reach the app then, which can send mail and hold a password."""
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as error:
        raise click.BadParameter(
            f"cannot look up {host!r}: {error}", param_hint="'--host'"
        ) from None
    addresses = {info[4][0].partition("%")[0] for info in found}
    return all(ipaddress.ip_address(address).is_loopback for address in addresses)


def serve(command: str, host: str, port: int) -> None:
    """Serve ``command`` (one process per tab) on ``host``:``port`` until Ctrl+C, saying where
    once it listens. textual-serve's own ``serve()`` would print its logo before it knows
    whether the port is free; this runs the same aiohttp app (``_make_app``) its way."""
    url = f"http://{format_host(host, port)}"
    server = _Server(command, host=host, port=port, title="smtptui", public_url=url)
    loop = asyncio.new_event_loop()
    for stop in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C is KeyboardInterrupt
            loop.add_signal_handler(stop, server.request_exit)
    said = f"smtptui in the browser at {url} (Ctrl+C stops it)"
    try:
        web.run_app(
            server._make_app(),
            host=host,
            port=port,
            loop=loop,
            handle_signals=False,
            shutdown_timeout=TABS_CLOSE,
            print=lambda _: click.echo(said),
        )
    except OSError as error:  # the port taken, the address not this machine's
        raise click.ClickException(f"cannot listen on {url}: {error.strerror or error}") from None


class _Server(Server):
    """textual-serve's server, without its start-up logo."""

    async def on_startup(self, app: web.Application) -> None:
        pass
