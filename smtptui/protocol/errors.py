"""The two ways SMTP can go wrong before any I/O: the peer's bytes, or our own arguments."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smtptui.protocol.replies import Reply


class ProtocolError(Exception):
    """The server sent bytes that are not a valid SMTP reply.

    ``data`` holds the offending bytes, exactly as received, so they can be shown. From the
    reply parser, ``replies`` holds the valid replies that came before them in the same
    read, and ``rest`` every byte received that is not part of one of those.
    """

    def __init__(self, message: str, data: bytes = b"") -> None:
        super().__init__(message)
        self.data = data
        self.replies: tuple[Reply, ...] = ()
        self.rest = data


class CommandError(ValueError):
    """A command could not be built from its arguments; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
