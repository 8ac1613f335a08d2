"""The export dialog (where, in which format: the transcript, with or without secrets, or a
command that sends the session's message again) and the quit prompt.

The screens only ask: they return the user's choice and the app writes the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, RadioSet, Static

from smtptui.session.export import ExportFormat
from smtptui.ui.dialog import ChoiceDialog, Dialog
from smtptui.ui.panes.form import Form, choices, field

FORMATS = {
    ExportFormat.SWAKS: "swaks-style text",
    ExportFormat.JSONL: "JSON Lines",
    ExportFormat.RUN: "smtptui run command",
    ExportFormat.SWAKS_COMMAND: "swaks command",
    ExportFormat.PYTHON: "Python (smtplib) script",
}
"""Each format as the dialog, the palette and the notices name it."""


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What to export, where: the answer of :class:`ExportScreen`."""

    path: Path
    fmt: ExportFormat
    redact: bool
    everything: bool
    """All the connections of this run, not only the one shown."""


class ExportScreen(Dialog[ExportRequest | None]):
    """Ask for a file, a format, whether to keep secrets and which connections (for a
    transcript; a command has no secret and is one session); return an
    :class:`ExportRequest`, or None when cancelled. A relative path is taken from
    ``directory``."""

    AUTO_FOCUS = "#file"
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    DEFAULT_CSS = """
    ExportScreen {
        & Form { height: auto; padding: 0; }
        & .under { margin-left: 12; }
        & #message { color: $text-error; display: none; }
        & #warning { margin-left: 16; color: $text-warning; display: none; }
        & #transcript-options { height: auto; }
        &.-command #transcript-options { display: none; }
    }
    """

    def __init__(
        self,
        directory: Path,
        filenames: Mapping[ExportFormat, str],
        connections: int,
        secrets: bool,
        *,
        everything: bool = False,
    ) -> None:
        super().__init__()
        self._directory = directory
        self._filenames = dict(filenames)
        self._connections = connections
        self._secrets = secrets
        self._everything = everything  # the "all connections" box starts ticked
        self._fmt = ExportFormat.SWAKS
        self._replace: Path | None = None  # the existing file the user was warned about

    def compose(self) -> ComposeResult:
        with Vertical() as dialog:
            dialog.border_title = "Export"
            dialog.border_subtitle = "Esc cancels"
            with Form():
                yield field("Format", choices("format", FORMATS, self._fmt))
                yield field(
                    "File",
                    Input(
                        self._default(self._fmt),
                        select_on_focus=False,
                        id="file",
                        compact=True,
                    ),
                )
                yield Static(id="message", classes="under", markup=False)
                with Vertical(id="transcript-options"):
                    yield from self._transcript_options()
            with Horizontal(classes="buttons"):
                yield Button("Export", id="export", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def _transcript_options(self) -> ComposeResult:
        if self._secrets:
            yield Checkbox(
                "Include passwords and tokens (not redacted)",
                id="secrets",
                classes="under",
                compact=True,
            )
            yield Static("The file will contain the password in clear text", id="warning")
        if self._connections > 1:
            yield Checkbox(
                f"All {self._connections} connections of this run",
                self._everything,
                id="everything",
                classes="under",
                compact=True,
            )

    def _default(self, fmt: ExportFormat) -> str:
        return str(self._directory / self._filenames[fmt])

    def _say(self, message: str) -> None:
        """Show ``message`` under the file name (an empty one hides it)."""
        shown = self.query_one("#message", Static)
        shown.update(message)
        shown.display = bool(message)

    @on(RadioSet.Changed, "#format")
    def _format_changed(self, event: RadioSet.Changed) -> None:
        """A name as filled in follows the format; an edited one only changes its suffix."""
        fmt = ExportFormat(event.pressed.name)
        file = self.query_one("#file", Input)
        if file.value == self._default(self._fmt):
            file.value = self._default(fmt)
        else:
            file.value = _with_suffix(file.value, fmt.suffix)
        self._fmt = fmt
        self.set_class(fmt.command, "-command")

    @on(Checkbox.Changed, "#secrets")
    def _secrets_changed(self, event: Checkbox.Changed) -> None:
        self.query_one("#warning").display = event.value

    @on(Input.Changed, "#file")
    def _file_changed(self) -> None:
        self._replace = None
        self._say("")

    @on(Input.Submitted, "#file")
    @on(Button.Pressed, "#export")
    def _export(self) -> None:
        text = self.query_one("#file", Input).value.strip()
        if not text:
            self._say("Type the name of the file to write")
            return
        path = self._directory / Path(text).expanduser()
        if not path.parent.is_dir():
            self._say(f"No such directory: {path.parent}")
        elif path.is_dir():
            self._say("That is a directory: add a file name")
        elif path.exists() and path != self._replace:
            self._replace = path
            self._say("The file exists: press Export again to replace it")
        else:
            transcript = not self._fmt.command
            keep = transcript and self._secrets and self.query_one("#secrets", Checkbox).value
            everything = (
                transcript
                and self._connections > 1
                and self.query_one("#everything", Checkbox).value
            )
            self.dismiss(ExportRequest(path, self._fmt, redact=not keep, everything=everything))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class QuitScreen(ChoiceDialog):
    """Quitting with entries not exported: return "export", "quit" or "cancel" (also Esc).
    ``again``: an export has just left these out."""

    AUTO_FOCUS = "#export"
    BINDINGS = [Binding("escape", "dismiss('cancel')", "Cancel")]

    def __init__(self, unsaved: int, *, again: bool = False) -> None:
        super().__init__()
        self._unsaved = unsaved
        self._again = again

    def compose(self) -> ComposeResult:
        entries = "1 entry that was" if self._unsaved == 1 else f"{self._unsaved} entries that were"
        has = "still has" if self._again else "has"
        why = ": the export left them out" if self._again else ""
        with Vertical() as dialog:
            dialog.border_title = "Quit smtptui"
            dialog.border_subtitle = "Esc cancels"
            yield Static(f"The transcript {has} {entries} not exported{why}.")
            with Horizontal(classes="buttons"):
                yield Button("Export…", id="export", variant="primary", compact=True)
                yield Button("Quit without saving", id="quit", variant="error", compact=True)
                yield Button("Cancel", id="cancel", compact=True)


def _with_suffix(name: str, suffix: str) -> str:
    """``name`` with an export suffix (.txt, .jsonl, .run.sh, …) swapped for ``suffix``;
    other names unchanged."""
    for old in {fmt.suffix for fmt in ExportFormat}:
        if name.endswith(old):
            return name[: -len(old)] + suffix
    return name
