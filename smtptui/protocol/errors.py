"""The two ways SMTP can go wrong before any I/O: the peer's bytes, or our own arguments."""

from __future__ import annotations


class ProtocolError(Exception):
    """The server sent bytes that are not a valid SMTP reply.

    ``data`` holds the offending bytes, exactly as received, so they can be shown.
    """

    def __init__(self, message: str, data: bytes = b"") -> None:
        super().__init__(message)
        self.data = data


class CommandError(ValueError):
    """A command could not be built from its arguments; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
