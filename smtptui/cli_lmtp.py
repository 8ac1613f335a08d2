"""``run``'s LMTP flag (RFC 2033), a stacked option group applied to ``run`` in one line;
the profile key it sets is ``lmtp``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def lmtp_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--lmtp/--smtp``: which protocol ``run`` speaks (``--smtp`` undoes a profile's)."""
    return click.option(
        "--lmtp/--smtp",
        default=False,
        help="Speak LMTP (RFC 2033): LHLO, and a reply per recipient to the message, each "
        "counted; port 24 unless given. --smtp undoes a profile's lmtp.",
    )(command)
