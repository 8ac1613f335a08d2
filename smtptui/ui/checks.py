"""The screens that check a server from a name the user types (the submission probe, the
TLS report): the name at the top, Enter runs the check, its findings below.

A check may take seconds (timeouts are the point of some of them): it runs in a worker, the
screen says what it is doing, Enter runs it again, Esc stops it or, when none runs, closes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Static
from textual.worker import Worker

from smtptui.session import Finding, Level, Section, SessionSettings

LEVEL_STYLES = {
    Level.OK: "$text-success",
    Level.WARN: "$text-warning",
    Level.FAIL: "$text-error",
    Level.INFO: "$text-muted",
}
"""How each level's mark is drawn."""


def finding_widgets(findings: Iterable[Finding]) -> Iterator[Widget]:
    """Each finding on its line, its mark coloured by level; for a warning or a failure,
    why it matters below it, muted and indented (wrapped under itself)."""
    for finding in findings:
        mark = Content.styled(finding.level.mark, LEVEL_STYLES[finding.level])
        yield Static(Content.assemble(mark, " ", finding.text), classes="finding")
        if finding.why and finding.level in (Level.WARN, Level.FAIL):
            yield Static(finding.why, classes="why", markup=False)


def section_widgets(sections: Iterable[Section]) -> Iterator[Widget]:
    """Each section as a heading (marked and coloured by its worst finding) and its
    findings."""
    for section in sections:
        style = f"bold {LEVEL_STYLES[section.level]}"
        yield Static(
            Content.styled(f"{section.level.mark} {section.title}", style), classes="heading"
        )
        yield from finding_widgets(section.findings)


class CheckScreen(ModalScreen[None]):
    """A check of a server named in the box at the top. Subclasses say what it is
    (``TITLE``, ``PLACEHOLDER``, ``RUNNING``) and run it (:meth:`check`), returning the widgets
    that show its result; the connection settings (timeouts, CA file, verification, DNS
    server) are the session's."""

    TITLE = ""
    PLACEHOLDER = ""
    RUNNING = "checking…"

    AUTO_FOCUS = "#target"
    BINDINGS = [Binding("escape", "stop_or_close", "Close")]

    DEFAULT_CSS = """
    CheckScreen {
        align: center middle;
        & > Vertical {
            width: 100%;
            max-width: 110;
            height: 100%;
            border: round $border;
            border-title-color: $text-accent;
            border-subtitle-color: $text-muted;
            background: $surface;
            padding: 0 1;
        }
        & #target { margin-bottom: 0; }
        & #status { color: $text-muted; height: auto; padding: 0 1; }
        & #status.error { color: $text-error; }
        & #results { height: 1fr; scrollbar-size-vertical: 1; }
        & .heading { margin-top: 1; text-style: bold; }
        & .finding { padding-left: 2; }
        & .why { padding-left: 4; color: $text-muted; }
    }
    """

    def __init__(self, target: str, settings: SessionSettings) -> None:
        super().__init__()
        self.target = target
        self.settings = settings
        self._check: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.TITLE
            box.border_subtitle = "Enter run · Esc stop or close"
            yield Input(self.target, placeholder=self.PLACEHOLDER, id="target")
            status = Static("", id="status", markup=False)
            status.display = False  # until a check runs
            yield status
            yield VerticalScroll(id="results")

    def on_mount(self) -> None:
        if self.target.strip():
            self.run_check(self.target.strip())

    @on(Input.Submitted, "#target")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.run_check(event.value.strip())

    def run_check(self, target: str) -> None:
        """Run the check on ``target``, replacing what an earlier one showed."""
        self._check = self._run(target)

    @work(exclusive=True, group="check")
    async def _run(self, target: str) -> None:
        status = self.query_one("#status", Static)
        results = self.query_one("#results", VerticalScroll)
        status.remove_class("error")
        status.display = True
        status.update(f"{self.RUNNING} ({target})")
        await results.remove_children()
        try:
            widgets = list(await self.check(target))
        except (ValueError, OSError) as error:  # a bad target (CommandError), a local failure
            status.add_class("error")
            status.update(str(error))
            return
        status.display = False
        await results.mount_all(widgets)

    async def check(self, target: str) -> Iterable[Widget]:
        """Run the check on ``target``; the widgets showing its result. A bad target is a
        :class:`~smtptui.protocol.errors.CommandError`, shown under the box."""
        raise NotImplementedError

    def action_stop_or_close(self) -> None:
        if self._check is not None and self._check.is_running:
            self._check.cancel()
            status = self.query_one("#status", Static)
            status.update("stopped: Enter runs it again")
        else:
            self.dismiss()
