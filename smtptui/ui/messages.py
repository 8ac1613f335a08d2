"""The messages widgets post upward; the app owns the session and runs what they ask."""

from __future__ import annotations

from textual.message import Message

from smtptui.session import Action


class RunAction(Message):
    """Run ``action`` on the session (one at a time; the app queues nothing: Esc cancels)."""

    def __init__(self, action: Action) -> None:
        super().__init__()
        self.action = action
