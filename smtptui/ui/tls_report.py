"""The TLS report screen: ``smtptui tls-report`` in the TUI, its sections one under
another, each headed by its worst finding."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from textual.widget import Widget
from textual.widgets import Static

from smtptui.engine.hosts import format_host, parse_host
from smtptui.engine.probe import PortSecurity
from smtptui.protocol.errors import CommandError
from smtptui.session import Security, SessionSettings
from smtptui.session.tls_report import tls_report
from smtptui.ui.checks import CheckScreen, section_widgets


class TlsReportScreen(CheckScreen):
    """The TLS report of ``HOST[:PORT]`` or ``@domain`` (its first MX, and its MTA-STS
    policy). Implicit TLS when the Connection pane says so or the port is 465; the SNI,
    CA file, DNS server and timeout are the pane's."""

    TITLE = "TLS report"
    PLACEHOLDER = "mx.example.org[:port] or @example.org"
    RUNNING = "trying TLS 1.0 to 1.3 and the certificate…"

    def __init__(self, target: str, settings: SessionSettings, now: datetime | None = None) -> None:
        super().__init__(target, settings)
        self.now = now  # None: the clock's (a fixed one draws the same dates every day)

    async def check(self, target: str) -> Iterable[Widget]:
        try:
            host, port = parse_host(target, 0)
        except ValueError as error:
            raise CommandError("host", str(error)) from None
        settings = self.settings
        report = await tls_report(
            host,
            port or None,
            security=PortSecurity.TLS if settings.security is Security.TLS else None,
            sni=settings.sni,
            cafile=settings.cafile,
            timeout=settings.connect_timeout,
            nameserver=settings.nameserver,
            now=self.now,
        )
        where = f"{format_host(report.host, report.port)} ({report.security.value})"
        return (Static(where, classes="where", markup=False), *section_widgets(report.sections))
