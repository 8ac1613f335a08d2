"""``smtptui run``'s transport flags: the way to the server (--via, --pipe, --source, -4,
-6). Each is a profile key too (``via``, ``pipe``, ``source``, ``family``), checked by the
engine's ``Route`` when the settings are made; this module only declares the flags."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from smtptui.cli_message import stacked

TRANSPORT_KEYS = {"via": "via", "pipe": "pipe", "source": "source", "family": "family"}
"""The parameters these flags set, and the profile key each sets."""

TRANSPORT_FLAGS = {"via": "--via", "pipe": "--pipe", "source": "--source", "family": "-4/-6"}
"""The flag that gives each transport key (and names the field of its CommandError)."""


def transport_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--via, --pipe, --source, -4 and -6."""
    options = [
        click.option(
            "--via",
            metavar="URL",
            help="Connect through a proxy: socks5://[USER:PASS@]HOST:PORT (socks5h:// to let "
            "it resolve the name), socks4://, socks4a:// or http:// (CONNECT). TLS is still "
            "checked for HOST.",
        ),
        click.option(
            "--pipe",
            metavar="CMD",
            help="Run CMD (split as the shell would, but no shell) and speak SMTP over its "
            "stdin and stdout instead of connecting (swaks' --pipe; try "
            "'smtptui serve --stdio' or 'exim -bh 192.0.2.1'); no HOST then.",
        ),
        click.option("--source", metavar="ADDR", help="Connect from this local address."),
        click.option("-4", "family", flag_value=4, type=int, help="Connect over IPv4 only."),
        click.option("-6", "family", flag_value=6, type=int, help="Connect over IPv6 only."),
    ]
    return stacked(*options)(command)
