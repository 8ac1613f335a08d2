"""The Server tab: the greeting and what EHLO advertised, each extension explained."""

from __future__ import annotations

import re
from collections.abc import Iterator

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Label, Static

from smtptui.protocol.capabilities import Capabilities, Extension
from smtptui.session import visible

_EXPLANATION = re.compile(r"(?P<keyword>[^ :]+)(?: \((?P<source>[^)]*)\))?: (?P<text>.+)", re.S)
"""How capabilities.py words an explanation: ``KEYWORD (RFC 1870): what it means.``"""


class CapabilitiesView(Vertical):
    """The server's greeting and EHLO extensions: keyword, parameters, explanation; each
    :func:`visible`, since every word of them is the server's."""

    DEFAULT_CSS = """
    CapabilitiesView {
        & > VerticalScroll { padding: 0 1; scrollbar-size-vertical: 1; }
        & .pair { height: auto; }
        & .pair > .name { width: 9; color: $text-muted; }
        & .pair > .value { width: 1fr; }
        & .keyword { margin-top: 1; }
        & .explanation { padding-left: 2; }
        & .note { margin-top: 1; color: $text-muted; }
    }
    """

    _shown: tuple[str | None, Capabilities | None] | None = None

    def compose(self) -> ComposeResult:
        yield VerticalScroll(id="capabilities")

    def on_mount(self) -> None:
        self.show(None, None)

    def show(self, greeting: str | None, capabilities: Capabilities | None) -> None:
        """Show the greeting (the 220 reply's text) and the EHLO capabilities, if known."""
        if (greeting, capabilities) == self._shown:
            return  # most state changes (each reply) change neither
        self._shown = (greeting, capabilities)
        scroll = self.query_one("#capabilities", VerticalScroll)
        scroll.remove_children()
        scroll.mount_all(_widgets(greeting, capabilities))


def _widgets(greeting: str | None, capabilities: Capabilities | None) -> Iterator[Widget]:
    if greeting:
        yield _pair("Greeting", greeting)
    if capabilities is None:
        yield Static("Run EHLO to see what the server offers.", classes="note")
        return
    yield _pair("EHLO", f"{capabilities.hostname} {capabilities.greeting}".strip() or "-")
    for extension in capabilities.extensions:
        yield from _extension(extension)
    if not capabilities.extensions:
        yield Static("No extensions advertised.", classes="note")


def _pair(label: str, value: str) -> Horizontal:
    shown = Static(visible(value), markup=False, classes="value")
    return Horizontal(Label(label, classes="name"), shown, classes="pair")


def _extension(extension: Extension) -> Iterator[Static]:
    """``KEYWORD params`` in bold, then what it means and where it is defined."""
    params = visible(" ".join(extension.params), one_line=True)
    keyword = Content.assemble(
        (visible(extension.keyword, one_line=True), "bold $text-accent"), " ", params
    )
    yield Static(keyword, classes="keyword")
    explained = visible(extension.explanation, one_line=True)
    match = _EXPLANATION.fullmatch(explained)
    text = match["text"] if match else explained
    source = f" {match['source']}" if match and match["source"] else ""
    explanation = Content.assemble(text[:1].upper() + text[1:], (source, "$foreground-muted"))
    yield Static(explanation, classes="explanation")
