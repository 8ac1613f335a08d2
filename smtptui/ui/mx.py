"""The MX view: where mail for a domain goes, each host's addresses with their reverse DNS
and the names their servers give explained, and a way to put a host, or the domain to route
by MX, in the Host field."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from smtptui.engine.hosts import SMTP_PORT
from smtptui.engine.mx import parse_nameserver, target_domain
from smtptui.protocol.errors import CommandError
from smtptui.session import Level
from smtptui.session.routing import MxReport, check_banners, look_up
from smtptui.session.visible import visible
from smtptui.ui.checks import LEVEL_STYLES
from smtptui.ui.dialog import Dialog

LOOKING_UP = "Looking up the MX hosts of {domain}…"

GREETING = "greeting…"
"""Said under an address while its server is being greeted (the banner check)."""


def rows(report: MxReport, *, greeting: bool = False) -> list[tuple[str, Content]]:
    """The list's rows: each host (its value its name), then each of its addresses (its
    value the address) with the findings about it, indented under it; ``greeting``: the
    banner checks are under way, and an address without one says so."""
    found: list[tuple[str, Content]] = []
    for host in report.found.hosts:
        name = visible(host.name, one_line=True)
        head = Content.assemble((f"{host.preference:>5} ", "$text-muted"), (name, "bold"))
        if host.error:
            head += Content.styled(f"  ({visible(host.error, one_line=True)})", "$text-error")
        found.append((host.name, head))
        for address in host.addresses:
            lines = [Content(f"        {address}")]
            lines += [
                Content.styled(f"          {finding.line}", LEVEL_STYLES[finding.level])
                for finding in report.findings(address)
            ]
            if greeting and address not in report.banners:
                lines.append(Content.styled(f"          {GREETING}", "$text-muted"))
            found.append((address, Content("\n").join(lines)))
    return found


def heading(report: MxReport) -> Content:
    """What the lookup came to, in a line: the problem, or how the hosts were found."""
    found = report.found
    if found.problem:
        return Content.styled(f"✘ {visible(found.problem, one_line=True)}", "$text-error")
    if found.implicit:
        return Content(
            f"{found.domain} has no MX record: its own address takes its mail "
            "(the implicit MX, RFC 5321 §5.1)"
        )
    count = len(found.hosts)
    return Content(f"MX for {found.domain}: {count} host{'s' * (count != 1)}, by preference")


def reasons(report: MxReport) -> Content:
    """Why each check that failed matters, once each."""
    whys = dict.fromkeys(
        finding.why
        for address in report.addresses
        for finding in report.findings(address)
        if finding.why and finding.level is not Level.OK
    )
    return Content("\n").join(Content.styled(why, "$text-muted") for why in whys)


class MxScreen(Dialog[str | None]):
    """Ask for a domain (or an address), look up its MX hosts and their reverse DNS, show
    them, then greet every address at once on ``port`` (None: 25) for the banner check, and
    return what goes in the Host field: the host (or address) chosen with Enter or "Use
    host", or ``@domain`` to route by MX; None when closed. Esc cancels a lookup or the
    greeting under way (the DNS answer stays), else closes."""

    AUTO_FOCUS = "#domain"
    BINDINGS = [Binding("escape", "cancel", "Cancel or close")]
    DEFAULT_CSS = """
    MxScreen {
        & > Vertical { width: 76; }
        & .ask { height: auto; & > Input { width: 1fr; } & > Button { margin-left: 1; } }
        & #state { margin-top: 1; }
        & #hosts { height: auto; max-height: 12; margin-top: 1; border: none; padding: 0; }
        & #why { margin-top: 1; }
    }
    """

    def __init__(
        self,
        domain: str = "",
        *,
        nameserver: str | None,
        timeout: float,
        port: int | None = None,
    ) -> None:
        super().__init__()
        self.domain = domain
        self.nameserver = nameserver
        self.timeout = timeout
        self.port = port or SMTP_PORT
        self.report: MxReport | None = None
        self._values: list[str] = []  # each row's value: a host name or an address
        self._lookup: Worker[MxReport] | None = None

    def compose(self) -> ComposeResult:
        with Vertical() as dialog:
            dialog.border_title = "MX: mail servers of a domain"
            dialog.border_subtitle = "Enter looks up, then uses the host · Esc closes"
            with Horizontal(classes="ask"):
                yield Input(
                    self.domain,
                    placeholder="example.org or bob@example.org",
                    id="domain",
                    name="domain",
                    compact=True,
                )
                yield Button("Look up", id="look-up", variant="primary", compact=True)
            yield Static(self._asking(), id="state")
            yield OptionList(id="hosts", compact=True)
            yield Static("", id="why")
            with Horizontal(classes="buttons"):
                yield Button("Use host", id="use", compact=True, disabled=True)
                yield Button("Route by MX", id="route", compact=True, disabled=True)
                yield Button("Close", id="close", compact=True)

    def on_mount(self) -> None:
        if self.domain:
            self._start()

    def _asking(self) -> Content:
        where = f"DNS server {self.nameserver}" if self.nameserver else "the system's DNS"
        return Content.styled(f"Asks {where}.", "$text-muted")

    @on(Input.Submitted, "#domain")
    @on(Button.Pressed, "#look-up")
    def _start(self) -> None:
        """Look up what the field says (a bad domain or DNS server is said here, and what
        was typed stays)."""
        text = self.query_one("#domain", Input).value
        try:
            domain = target_domain(text)
            if self.nameserver is not None:
                parse_nameserver(self.nameserver)
        except CommandError as error:
            self._show_problem(Content.styled(f"✘ {error}", "$text-error"))
            return
        self._show_problem(Content(LOOKING_UP.format(domain=domain)))
        self._lookup = self._look_up(domain)

    def _show_problem(self, state: Content) -> None:
        """``state`` in the status line, and no result under it."""
        self.report = None
        self._values = []
        self.query_one("#state", Static).update(state)
        self.query_one("#hosts", OptionList).clear_options()
        self.query_one("#why", Static).update("")
        self.query_one("#use", Button).disabled = True
        self.query_one("#route", Button).disabled = True

    @work(exclusive=True, group="mx")
    async def _look_up(self, domain: str) -> MxReport:
        """The DNS answer, shown at once; then the greetings, which a dead or filtered port
        may make wait for the timeout."""
        report = await look_up(domain, nameserver=self.nameserver, timeout=self.timeout)
        greeting = bool(report.addresses)
        self._show(report, greeting=greeting)
        if greeting:
            report = await check_banners(report, self.port, timeout=self.timeout)
            self._show(report)
        return report

    def _show(self, report: MxReport, *, greeting: bool = False) -> None:
        """``report`` in the list; the row highlighted stays when the rows are the same
        hosts and addresses (the greetings came)."""
        again = self.report is not None and self.report.found == report.found
        self.report = report
        found = rows(report, greeting=greeting)
        self._values = [value for value, _ in found]
        self.query_one("#state", Static).update(heading(report))
        hosts = self.query_one("#hosts", OptionList)
        highlighted = hosts.highlighted if again else None
        hosts.clear_options()
        hosts.add_options([Option(prompt) for _, prompt in found])
        self.query_one("#why", Static).update(reasons(report))
        self.query_one("#use", Button).disabled = not found
        self.query_one("#route", Button).disabled = bool(report.found.problem)
        if found:
            hosts.highlighted = highlighted or 0
            if not again:
                hosts.focus()

    def action_cancel(self) -> None:
        lookup = self._lookup
        if lookup is not None and lookup.state in (WorkerState.PENDING, WorkerState.RUNNING):
            lookup.cancel()
            if self.report is None:
                self._show_problem(Content.styled("Lookup cancelled.", "$text-warning"))
            else:  # the DNS answer is shown: it stays, without the greetings
                self._show(self.report)
                self.query_one("#state", Static).update(
                    heading(self.report) + Content.styled(" · greeting cancelled", "$text-warning")
                )
            return
        self.dismiss(None)

    @on(OptionList.OptionSelected, "#hosts")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._values[event.option_index])

    @on(Button.Pressed, "#use")
    def _use(self) -> None:
        index = self.query_one("#hosts", OptionList).highlighted
        if index is not None:
            self.dismiss(self._values[index])

    @on(Button.Pressed, "#route")
    def _route(self) -> None:
        if self.report is not None:
            self.dismiss(f"@{self.report.found.domain}")

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss(None)
