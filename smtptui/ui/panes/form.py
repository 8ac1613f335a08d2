"""What the form panes share: compact rows with the label left, and focusing a culprit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeVar

from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, RadioButton, RadioSet, Select

from smtptui.protocol.errors import CommandError

Choice = TypeVar("Choice", bound=str)


class FormPane(Vertical):
    """A pane holding a :class:`Form` and, under it, its buttons (always in view).

    Each field's widget is *named* as :class:`CommandError` names the field (``"port"``,
    ``"EHLO name"``, ``"To"``…), so :meth:`focus_field` can take the user to the culprit.
    """

    DEFAULT_CSS = """
    FormPane {
        & > .buttons {
            height: auto;
            padding: 0 1;
            margin-top: 1;
            & > Button { margin-right: 1; min-width: 10; }
        }
        & > .hint { padding: 0 1; color: $text-muted; }
    }
    """

    class Invalid(Message):
        """A button of the pane could not make its action: ``error`` names the field."""

        def __init__(self, error: CommandError) -> None:
            super().__init__()
            self.error = error

    def report(self, error: CommandError) -> None:
        """Take the user to the field at fault and tell the app (``on_form_pane_invalid``)."""
        self.focus_field(error.field)
        self.post_message(self.Invalid(error))

    def text(self, id: str, value: str | None = None) -> str:
        """The text of the Input ``#id``, as typed; with ``value``, set it first."""
        widget = self.query_one(f"#{id}", Input)
        if value is not None:
            widget.value = value
        return widget.value

    def choice(self, id: str) -> str:
        """The value of the Select ``#id``."""
        return str(self.query_one(f"#{id}", Select).value)

    def focus_field(self, name: str) -> bool:
        """Focus the widget for the field ``name``; False if this pane has none."""
        for widget in self.query(Widget):
            if widget.name == name and widget.focusable:
                widget.focus()
                return True
        return False


class Form(VerticalScroll):
    """Rows made by :func:`field`, compact enough for a 40-column pane at 80x24. Focus
    goes to the fields (and the form scrolls to follow it), not to the form itself."""

    can_focus = False

    DEFAULT_CSS = """
    Form {
        padding: 0 1;
        scrollbar-size-vertical: 1;
        & > .field { height: auto; }
        & .field-label { width: 12; padding-right: 1; color: $text-muted; }
        & Input, & Select, & RadioSet, & TextArea { width: 1fr; }
        & Input.-textual-compact, & TextArea.-textual-compact { background: $boost; }
        & TextArea.-textual-compact { padding: 0; }
        & Input.-textual-compact:focus, & TextArea.-textual-compact:focus {
            background: $surface-lighten-1;
        }
        & ToggleButton.-textual-compact:focus { border: none; }
        & .unit { width: auto; padding-left: 1; color: $text-muted; }
        & .hint { width: 1fr; color: $text-muted; }
        & > .hint { margin-left: 12; }
    }
    """


def field(label: str, *widgets: Widget, id: str | None = None) -> Horizontal:
    """One form row: ``label`` in the left column, ``widgets`` side by side on the right."""
    return Horizontal(Label(label, classes="field-label"), *widgets, id=id, classes="field")


def choices(id: str, options: Mapping[Choice, str], selected: Choice) -> RadioSet:
    """A compact RadioSet, one button per option (value → label), ``selected`` pressed; each
    button is named by its value and has the id ``{id}-{value}``."""
    return RadioSet(
        *(
            RadioButton(label, value == selected, id=f"{id}-{value}", name=value)
            for value, label in options.items()
        ),
        id=id,
        compact=True,
    )


def select(id: str, name: str, options: Mapping[str, str]) -> Select[str]:
    """A compact Select of ``options`` (value → label), the first chosen; ``name`` as for
    :func:`text_input`."""
    return Select(
        [(label, value) for value, label in options.items()],
        value=next(iter(options)),
        allow_blank=False,
        id=id,
        name=name,
        compact=True,
    )


def text_input(
    id: str,
    name: str,
    placeholder: str = "",
    *,
    password: bool = False,
    type: Literal["integer", "number", "text"] = "text",
) -> Input:
    """A compact Input whose ``name`` is the field's name in :class:`CommandError`; empty
    is never marked invalid (it means "the default" or "none")."""
    return Input(
        placeholder=placeholder,
        password=password,
        type=type,
        valid_empty=True,
        id=id,
        name=name,
        compact=True,
    )
