"""The bytes DATA will carry, shown line by line: each CRLF written out, a bare LF marked,
the dots stuffing added highlighted, headers and MIME boundaries set apart, the final dot."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from smtptui.session.preview import LONGEST, LineKind, Preview, PreviewLine, preview
from smtptui.ui.dialog import ScrollingDialog

_STYLES = {
    LineKind.HEADER: "",
    LineKind.BLANK: "",
    LineKind.BOUNDARY: "bold $text-warning",
    LineKind.BODY: "",
    LineKind.TERMINATOR: "bold $text-success",
    LineKind.ELIDED: "italic $text-muted",
}

_ENDINGS = {
    "\r\n": ("\\r\\n", "dim"),
    "\n": ("\\n (a bare LF)", "bold $text-error"),
    "": ("", ""),
}
"""How a line's end is shown: written out, as :func:`visible` writes a control byte (the
control pictures ␍␊ are missing from common terminal fonts)."""


class PreviewScreen(ScrollingDialog):
    """What DATA sends for ``message``, after the 354: a summary line, then every line
    (the middle of a long message elided). Esc or q closes it."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close")]
    DEFAULT_CSS = """
    PreviewScreen {
        & > VerticalScroll { width: 100; max-width: 100%; max-height: 100%; }
    }
    """

    def __init__(self, message: bytes, *, international: bool = False) -> None:
        super().__init__()
        self.preview = preview(message, international=international, head=1000)

    def compose(self) -> ComposeResult:
        with VerticalScroll() as body:
            body.border_title = "What DATA sends"
            body.border_subtitle = "Esc closes"
            yield Static(summary(self.preview), classes="note")
            yield Static(
                Content("\n").join(render(line) for line in self.preview.lines),
                id="lines",
                classes="heading",
            )


def summary(shown: Preview) -> Content:
    """Bytes, lines and what the server must offer for them."""
    needs = [
        "needs 8BITMIME (bytes over 127)" if shown.eight_bit else "7-bit: any server takes it",
    ]
    if shown.smtputf8:
        needs.append("needs SMTPUTF8")
    parts = [f"{shown.size:,} bytes after the 354", f"{shown.count:,} lines", *needs]
    if shown.longest > LONGEST:
        parts.append(f"a line of {shown.longest:,} bytes (over {LONGEST})")
    return Content(" · ".join(parts))


def render(line: PreviewLine) -> Content:
    """One line: header names in the accent colour, a stuffed dot highlighted, the line
    end made visible."""
    text = line.text
    pieces: list[str | tuple[str, str]] = []
    if line.stuffed:
        pieces.append((".", "reverse $text-warning"))
        text = text[1:]
    if line.kind is LineKind.HEADER and ":" in text and text[:1] not in " \t\\":
        name, _, value = text.partition(":")
        pieces += [(name + ":", "bold $text-accent"), value]
    else:
        pieces.append((text, _STYLES[line.kind]))
    mark, style = _ENDINGS[line.ending]
    pieces.append((mark, style))
    return Content.assemble(*pieces)
