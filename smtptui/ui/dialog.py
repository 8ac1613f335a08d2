"""The look every dialog shares, and the ones a step asks with: before a risk, for a
password, and how to leave a message being typed."""

from __future__ import annotations

from typing import TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from smtptui.session import Risk
from smtptui.session.keymap import keys_name

ResultType = TypeVar("ResultType")


class Dialog(ModalScreen[ResultType]):
    """The look every dialog shares: a bordered box in the middle, buttons on the right
    (← and → move between them)."""

    BINDINGS = [
        Binding("left", "app.focus_previous", show=False),
        Binding("right", "app.focus_next", show=False),
    ]

    DEFAULT_CSS = """
    Dialog {
        align: center middle;
        & > Vertical {
            width: 70;
            max-width: 90%;
            height: auto;
            max-height: 100%;
            padding: 1 1 0 1;
            border: round $primary;
            border-title-color: $text-accent;
            border-subtitle-color: $text-muted;
            background: $surface;
        }
        & .buttons {
            height: auto;
            margin-top: 1;
            align-horizontal: right;
            & > Button { margin-left: 2; min-width: 10; }
        }
    }
    """


class ChoiceDialog(Dialog[str]):
    """A dialog whose buttons are its answers: it returns the id of the one pressed."""

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id is not None:
            self.dismiss(event.button.id)


class ScrollingDialog(ModalScreen[None]):
    """The look of a screen of reading (help, a certificate): a bordered, scrolling box in
    the middle, its sections under ``.heading`` lines. The box has the focus, so the keys
    scroll it."""

    AUTO_FOCUS = "VerticalScroll"

    DEFAULT_CSS = """
    ScrollingDialog {
        align: center middle;
        & > VerticalScroll {
            height: auto;
            padding: 0 1;
            border: round $border;
            border-title-color: $text-accent;
            border-subtitle-color: $text-muted;
            background: $surface;
            scrollbar-size-vertical: 1;
        }
        & .heading { margin-top: 1; }
        & .heading.first { margin-top: 0; }
        & .note { color: $text-muted; }
    }
    """


class ConfirmScreen(Dialog[bool]):
    """Ask before a step takes ``risk``: True to take it, False (also Esc) not to."""

    AUTO_FOCUS = "#no"
    BINDINGS = [Binding("escape", "dismiss(False)", "Cancel")]
    DEFAULT_CSS = """
    ConfirmScreen .risk { color: $text-warning; text-style: bold; margin-bottom: 1; }
    """

    def __init__(self, risk: Risk) -> None:
        super().__init__()
        self.risk = risk

    def compose(self) -> ComposeResult:
        with Vertical() as dialog:
            dialog.border_title = "Are you sure?"
            dialog.border_subtitle = "Esc cancels"
            yield Static(f"⚠ {self.risk[0].upper()}{self.risk[1:]}.", classes="risk")
            yield Static(self.risk.question)
            with Horizontal(classes="buttons"):
                yield Button("Yes, go on", id="yes", variant="warning", compact=True)
                yield Button("No", id="no", variant="primary", compact=True)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class PasswordScreen(Dialog[str | None]):
    """Ask for the password AUTH would otherwise send empty, masked: Enter (or the button)
    returns what was typed; Esc or Cancel returns None, and nothing is sent."""

    AUTO_FOCUS = "#password"
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    DEFAULT_CSS = """
    PasswordScreen #password { margin-top: 1; }
    """

    def __init__(self, username: str) -> None:
        super().__init__()
        self.username = username

    def compose(self) -> ComposeResult:
        with Vertical() as dialog:
            dialog.border_title = "Password"
            dialog.border_subtitle = "Enter sends · Esc cancels"
            yield Static(
                f"AUTH as {self.username} needs a password, and the Auth pane has none.",
                markup=False,
            )
            yield Input(password=True, placeholder="password", id="password", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Authenticate", id="send", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#send")
    def _send(self) -> None:
        self.dismiss(self.query_one("#password", Input).value)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class EndMessageScreen(ChoiceDialog):
    """Esc while a message is typed: "end" it (the line holding only a dot), "drop" the
    connection (the message is lost), or "keep" typing (also Esc)."""

    AUTO_FOCUS = "#keep"
    BINDINGS = [Binding("escape", "dismiss('keep')", "Keep typing")]

    def compose(self) -> ComposeResult:
        with Vertical() as dialog:
            dialog.border_title = "The message is open"
            dialog.border_subtitle = "Esc keeps typing"
            yield Static(
                "The server takes every line as the message until a line holding only a dot. "
                "End the message there (the server then says whether it takes it), or drop "
                "the connection and the message with it?"
            )
            with Horizontal(classes="buttons"):
                yield Button("End it with .", id="end", variant="primary", compact=True)
                yield Button("Drop the connection", id="drop", variant="error", compact=True)
                yield Button("Keep typing", id="keep", compact=True)


class ForgetDialog(ChoiceDialog):
    """Before entries go for good: ``forget`` (the id and label of the button that lets
    them go) or "keep" (also Esc, and the button focused). ``unsaved`` of them were never
    exported."""

    AUTO_FOCUS = "#keep"
    BINDINGS = [Binding("escape", "dismiss('keep')", "Keep")]

    def __init__(
        self, title: str, sentence: str, forget: tuple[str, str], keep: str, unsaved: int
    ) -> None:
        super().__init__()
        self.title_text, self.sentence, self.forget, self.keep = title, sentence, forget, keep
        self.unsaved = unsaved

    def compose(self) -> ComposeResult:
        with Vertical() as dialog:
            dialog.border_title = self.title_text
            dialog.border_subtitle = f"Esc keeps {self.keep.partition(' ')[2]}"
            yield Static(Content(self.sentence))  # Content: a host in it is not markup
            with Horizontal(classes="buttons"):
                id, label = self.forget
                yield Button(label, id=id, variant="error", compact=True)
                yield Button(self.keep, id="keep", variant="primary", compact=True)


def _entries(count: int) -> str:
    return "1 entry" if count == 1 else f"{count} entries"


def _saves() -> str:
    """The key that exports them, as a dialog says it."""
    return f"({keys_name('export', first=True)} saves them)"


class ClearScreen(ForgetDialog):
    """Before the transcript shown is cleared: "clear" or "keep"."""

    def __init__(self, count: int, unsaved: int) -> None:
        never = f" {unsaved} of them were never exported {_saves()}." if unsaved else ""
        sentence = f"The {_entries(count)} shown will be gone for good.{never}"
        super().__init__(
            "Clear the transcript?", sentence, ("clear", "Clear"), "Keep them", unsaved
        )


class CloseSessionScreen(ForgetDialog):
    """Before a session with entries never exported is closed: "close" or "keep"."""

    def __init__(self, name: str, unsaved: int) -> None:
        sentence = (
            f"Session {name} holds {_entries(unsaved)} never exported {_saves()}; closing it "
            "forgets them for good."
        )
        super().__init__("Close the session?", sentence, ("close", "Close"), "Keep it", unsaved)
