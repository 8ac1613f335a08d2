"""``smtptui run``'s PROXY protocol and XCLIENT flags, checked as settings: a bad value is a
usage error naming its flag, before anything is sent. What they mean is
:class:`smtptui.session.SessionSettings`' (``proxy_header``, ``xclient_attributes``)."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

import click

from smtptui.cli_message import stacked

PROXY_FLAGS = {
    "proxy protocol": "--proxy-protocol",
    "proxy source": "--proxy-source",
    "proxy dest": "--proxy-dest",
    "xclient": "--xclient",
}
"""The flag for each setting a :class:`CommandError` of these names (its field)."""

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


def proxy_settings(options: MutableMapping[str, Any]) -> dict[str, Any]:
    """The flags' settings, taken out of ``options`` and checked; a bad one is a usage error
    naming its flag."""
    from smtptui.protocol.errors import CommandError
    from smtptui.session import SessionSettings

    values = {
        "proxy_protocol": options.pop("proxy_protocol"),
        "proxy_source": options.pop("proxy_source"),
        "proxy_dest": options.pop("proxy_dest"),
        "xclient": tuple(options.pop("xclient")),
    }
    try:
        SessionSettings(**values)
    except CommandError as error:
        flag = PROXY_FLAGS.get(error.field, "--xclient")
        why = str(error).removeprefix(f"{error.field}: ")
        raise click.BadParameter(why, param_hint=f"'{flag}'") from None
    return values
