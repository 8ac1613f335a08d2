"""The embedded mail server (aiosmtpd) for the demo, `smtptui serve` and the tests.

Names are imported on first use (:mod:`smtptui.lazy`): the UI's demo starts its server in
another process (:mod:`smtptui.server.process`) and imports no aiosmtpd itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smtptui import lazy

if TYPE_CHECKING:
    from smtptui.server.certs import SelfSigned, make_self_signed
    from smtptui.server.embedded import EmbeddedServer, describe, serve
    from smtptui.server.handler import DEMO_TOKENS, DEMO_USERS, ReceivedMessage
    from smtptui.server.process import Listening, ServerProcess

__all__ = [
    "DEMO_TOKENS",
    "DEMO_USERS",
    "EmbeddedServer",
    "Listening",
    "ReceivedMessage",
    "SelfSigned",
    "ServerProcess",
    "describe",
    "make_self_signed",
    "serve",
]

_HOMES = {
    "DEMO_TOKENS": "smtptui.server.handler",
    "DEMO_USERS": "smtptui.server.handler",
    "EmbeddedServer": "smtptui.server.embedded",
    "Listening": "smtptui.server.process",
    "ReceivedMessage": "smtptui.server.handler",
    "SelfSigned": "smtptui.server.certs",
    "ServerProcess": "smtptui.server.process",
    "describe": "smtptui.server.embedded",
    "make_self_signed": "smtptui.server.certs",
    "serve": "smtptui.server.embedded",
}
"""The module each exported name lives in (see :mod:`smtptui.lazy`)."""

__getattr__, __dir__ = lazy.exports(__name__, _HOMES)
