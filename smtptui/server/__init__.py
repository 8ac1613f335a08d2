"""The embedded mail server (aiosmtpd) for the demo, `smtptui serve` and the tests."""

from smtptui.server.certs import SelfSigned, make_self_signed
from smtptui.server.embedded import EmbeddedServer, describe, serve
from smtptui.server.handler import DEMO_TOKENS, DEMO_USERS, ReceivedMessage

__all__ = [
    "DEMO_TOKENS",
    "DEMO_USERS",
    "EmbeddedServer",
    "ReceivedMessage",
    "SelfSigned",
    "describe",
    "make_self_signed",
    "serve",
]
