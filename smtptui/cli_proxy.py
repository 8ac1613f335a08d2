"""``smtptui run``'s PROXY protocol and XCLIENT flags. Each sets the profile key of its name
(so ``SMTPTUI_*`` and profiles give them too) and so the setting; a bad value is a usage
error naming its flag. What they mean is :class:`smtptui.session.SessionSettings`'
(``proxy_header``, ``xclient_attributes``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from smtptui.cli_message import stacked

PROXY_KEY_FLAGS = {
    "proxy_protocol": "--proxy-protocol",
    "proxy_source": "--proxy-source",
    "proxy_dest": "--proxy-dest",
    "xclient": "--xclient",
}
"""Each flag's profile key (its parameter's name too), and the flag."""
PROXY_KEYS = tuple(PROXY_KEY_FLAGS)

PROXY_FLAGS = {
    "proxy protocol": "--proxy-protocol",
    "proxy source": "--proxy-source",
    "proxy dest": "--proxy-dest",
    "xclient": "--xclient",
}
"""The flag for each setting a :class:`CommandError` names (its field)."""

proxy_options: Callable[[Callable[..., Any]], Callable[..., Any]] = stacked(
    click.option(
        "--proxy-protocol",
        type=click.Choice(["v1", "v2"], case_sensitive=False),
        help="Send a PROXY protocol header (HAProxy's, v1 text or v2 binary) before the "
        "greeting, as a load balancer does.",
    ),
    click.option(
        "--proxy-source",
        metavar="ADDR:PORT",
        help="The client the PROXY header names (default: this connection's own address).",
    ),
    click.option(
        "--proxy-dest",
        metavar="ADDR:PORT",
        help="The destination the PROXY header names (default: the server's address).",
    ),
    click.option(
        "--xclient",
        metavar="NAME=VALUE",
        multiple=True,
        help="After the first EHLO, send Postfix's XCLIENT with this attribute (ADDR, NAME, "
        "PORT, PROTO, HELO, LOGIN, DESTADDR, DESTPORT; repeatable), then EHLO again.",
    ),
)
"""The flags, for ``run``: one line above the command."""
