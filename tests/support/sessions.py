"""Sessions against the embedded server: settings for it, and the way to a ready session."""

from __future__ import annotations

import ssl
from dataclasses import replace

from smtptui.server import EmbeddedServer
from smtptui.session import Connect, Ehlo, SessionController, SessionSettings, StartTls


def settings_for(
    server: EmbeddedServer, context: ssl.SSLContext, **changes: object
) -> SessionSettings:
    """Settings for ``server`` (STARTTLS, trusting ``context``) as alice, with ``changes``."""
    settings = SessionSettings(
        host=f"{server.host}:{server.port}",
        ssl_context=context,
        helo_name="client.example",
        username="alice",
        password="wonderland",
    )
    return replace(settings, **changes)  # type: ignore[arg-type]


async def ready(controller: SessionController) -> None:
    """Connect, EHLO, STARTTLS, EHLO again."""
    for action in (Connect(), Ehlo(), StartTls(), Ehlo()):
        outcome = await controller.run(action)
        assert outcome.ok, outcome.error
