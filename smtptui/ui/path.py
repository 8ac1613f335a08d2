"""Asking for one line, a file's path (``~`` and relative paths welcome) or a name, checked
before the dialog closes, so a mistake is named in it and what was typed stays to be fixed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from smtptui.protocol.commands import check
from smtptui.protocol.errors import CommandError
from smtptui.session.eml import find_file
from smtptui.session.message import Attachment, check_mime_type
from smtptui.session.visible import visible
from smtptui.ui.dialog import Dialog

Taken = TypeVar("Taken")


class PathScreen(Dialog[Taken | None], Generic[Taken]):
    """Ask for a path (or, with another ``placeholder``, any one line); ``take`` turns what
    was typed into the answer or raises ValueError, whose words the dialog shows, staying
    open. Esc or Cancel answers None."""

    AUTO_FOCUS = "#path"
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    DEFAULT_CSS = """
    PathScreen {
        & Input { margin-top: 1; }
        & #error { color: $text-error; margin-top: 1; }
        & #error.-empty { display: none; }
    }
    """

    def __init__(
        self,
        title: str,
        take: Callable[[str], Taken],
        *,
        note: str = "",
        action: str = "Open",
        placeholder: str = "path: ~/mail/message.eml, ./file",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.take = take
        self.note = note
        self.action = action
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical() as dialog:
            dialog.border_title = self.title_text
            dialog.border_subtitle = f"Enter: {self.action.lower()} · Esc cancels"
            if self.note:
                yield Static(self.note, markup=False)
            yield Input(placeholder=self.placeholder, id="path", compact=True)
            yield from self.more()
            yield Static("", id="error", classes="-empty", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self.action, id="open", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def more(self) -> ComposeResult:
        """Fields after the path (none here)."""
        yield from ()

    def answer(self, typed: str) -> Taken:
        """The answer for the path ``typed``; ValueError saying what is wrong."""
        return self.take(typed)

    @on(Input.Submitted)
    @on(Button.Pressed, "#open")
    def _open(self) -> None:
        try:
            answer = self.answer(self.query_one("#path", Input).value)
        except ValueError as error:
            shown = self.query_one("#error", Static)
            shown.update(visible(str(error)))
            shown.remove_class("-empty")
            return
        self.dismiss(answer)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class AttachScreen(PathScreen[Attachment]):
    """Ask for a file to attach, with its MIME type and name (empty: guessed, its own)."""

    def __init__(self) -> None:
        super().__init__(
            "Attach a file",
            find_file,
            note="Sent base64, byte for byte; read when the message is built.",
            action="Attach",
        )

    def more(self) -> ComposeResult:
        yield Input(placeholder="MIME type: guessed from the name", id="type", compact=True)
        yield Input(placeholder="name in the message: the file's own", id="name", compact=True)

    def answer(self, typed: str) -> Attachment:
        path = find_file(typed)
        mime_type = self.query_one("#type", Input).value.strip()
        if mime_type:
            check_mime_type(mime_type)
        name = self.query_one("#name", Input).value.strip()
        try:
            check("name", name)
        except CommandError as error:
            raise ValueError(str(error)) from None
        return Attachment(path, mime_type or None, name or None)
