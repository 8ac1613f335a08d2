"""The submission probe screen: which ports of a server connect, greet, speak TLS and offer
AUTH, side by side, with the findings and a recommendation (``smtptui probe``'s, in the
TUI)."""

from __future__ import annotations

from collections.abc import Iterable

from textual.containers import Grid
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from smtptui.engine.hosts import parse_host
from smtptui.session import Security, SessionSettings
from smtptui.session.probe import (
    DEFAULT_PORTS,
    PROBE_COLUMNS,
    ProbeReport,
    ProbeTarget,
    parse_probe_host,
    parse_probe_target,
    probe_cells,
    probe_host,
)
from smtptui.ui.checks import CheckScreen, finding_widgets

LABEL_WIDTH = 17
"""The matrix's first column: its widest label ("AUTH inside TLS") and two spaces."""


def parse_target(text: str) -> tuple[str, tuple[ProbeTarget, ...]]:
    """``HOST [PORT[:plain|starttls|tls] ...]``: the host, and the ports to probe (none
    given: the usual four). A bad one is a :class:`CommandError` naming it."""
    host, *ports = text.split()
    targets = tuple(parse_probe_target(port) for port in ports) or DEFAULT_PORTS
    return parse_probe_host(host), targets


def initial_target(settings: SessionSettings) -> str:
    """What the probe starts from: the Connection pane's host and, when it names a port,
    that port alone, spoken to as the pane says (else the usual four); nothing for a host
    routed by MX."""
    if not settings.host or settings.mx_domain:
        return ""
    host, port = settings.address()
    if settings.port is None and not parse_host(settings.host, 0)[1]:
        return host
    how = "plain" if settings.security is Security.NONE else settings.security.value
    return f"{host} {port}:{how}"


def matrix(report: ProbeReport) -> Grid:
    """The ports side by side: a column a port, a row for each of :data:`PROBE_COLUMNS`
    (the first, the ports themselves, as the header)."""
    rows = list(zip(*(probe_cells(probe) for probe in report.probes), strict=True))
    cells: list[Widget] = [Static("")]
    cells += [Static(Content.styled(port, "bold $text-accent")) for port in rows[0]]
    for label, row in zip(PROBE_COLUMNS[1:], rows[1:], strict=True):
        cells.append(Static(label, classes="label", markup=False))
        cells += [Static(cell, markup=False) for cell in row]
    grid = Grid(*cells, classes="matrix")
    grid.styles.grid_size_columns = 1 + len(report.probes)
    grid.styles.grid_columns = f"{LABEL_WIDTH} " + " ".join(["1fr"] * len(report.probes))
    return grid


class ProbeScreen(CheckScreen):
    """``smtptui probe`` in the TUI: the ports at once, the matrix, the findings and what to
    use. The verification, CA file, SNI and timeout are the Connection pane's."""

    TITLE = "Submission probe"
    PLACEHOLDER = "mail.example.org [587 465:tls 2525:plain …] (default: 25 587 465 2525)"
    RUNNING = "probing the ports at once…"

    DEFAULT_CSS = """
    ProbeScreen {
        & .matrix { height: auto; grid-rows: auto; grid-gutter: 0 1; margin-top: 1; }
        & .matrix .label { color: $text-muted; }
        & #recommendation { margin-top: 1; text-style: bold; }
    }
    """

    async def check(self, target: str) -> Iterable[Widget]:
        host, targets = parse_target(target)
        settings = self.settings
        report = await probe_host(
            host,
            targets,
            timeout=settings.connect_timeout,
            verify=settings.verify,
            cafile=settings.cafile,
            sni=settings.sni,
            nameserver=settings.nameserver,
        )
        return (
            matrix(report),
            Static("Findings", classes="heading"),
            *finding_widgets(report.findings),
            Static(report.recommendation, id="recommendation", markup=False),
        )
