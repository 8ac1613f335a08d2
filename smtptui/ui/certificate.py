"""The certificate screen: the TLS session and the server's certificate chain, and a plain-text
copy of the same facts."""

from __future__ import annotations

import textwrap
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from smtptui.engine.chain import check_chain, counted
from smtptui.engine.ocsp import OcspStatus
from smtptui.engine.tls import CertificateInfo, TlsInfo
from smtptui.session import Level, save_chain, visible, visible_tls
from smtptui.session import certificate as words
from smtptui.ui.dialog import ScrollingDialog
from smtptui.ui.path import PathScreen

LABEL_WIDTH = 14
"""Columns for a label and the space after it."""

PLAIN_WIDTH = 80
"""The plain text is wrapped to fit this many columns."""

FINGERPRINT_BYTES = 16
"""Bytes per line of a fingerprint: 47 columns, so it fits beside the labels at 80 columns."""

OCSP_NOT_ASKED = "not asked: no live connection to ask"
"""The OCSP line for a handshake the screen cannot ask the server about again."""

OCSP_ASKING = "asking the server…"
"""The OCSP line while the probe connection asks."""


@dataclass(frozen=True, slots=True)
class Section:
    """A heading and its labelled values, each value one or more lines."""

    title: Content
    rows: tuple[tuple[str, Content], ...]


def certificate_text(
    info: TlsInfo, now: datetime | None = None, ocsp: Content | None = None
) -> str:
    """The screen's facts as plain text, wrapped to 80 columns, for the clipboard."""
    now = now or datetime.now(UTC)
    indent = " " * (2 + LABEL_WIDTH)
    lines: list[str] = []
    for section in sections(info, now, ocsp):
        lines.append(section.title.plain)
        for label, value in section.rows:
            for number, line in enumerate(value.plain.splitlines()):
                head = f"  {label:<{LABEL_WIDTH}}" if number == 0 else indent
                lines += textwrap.wrap(
                    line,
                    PLAIN_WIDTH,
                    initial_indent=head,
                    subsequent_indent=indent,
                    break_on_hyphens=False,
                )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def sections(info: TlsInfo, now: datetime, ocsp: Content | None = None) -> list[Section]:
    """The TLS session, then each certificate of the chain, leaf first: the names in them
    made :func:`visible <smtptui.session.visible_tls>`, for the screen and its copy alike.
    ``ocsp`` is the OCSP stapling line (:func:`ocsp_line`); None: not asked."""
    check = check_chain(info)  # on the names as sent: two could look alike made visible
    mark = {True: "✔ ", False: "✘ ", None: ""}[check.complete]
    style = {True: "$text-success", False: "$text-error", None: "$text-warning"}[check.complete]
    chain = Content.styled(mark + visible(check.text, one_line=True), style)
    info = visible_tls(info)
    if info.verified:
        verification = Content.styled("✔ verified", "$text-success")
    else:
        # The engine's note may repeat what the mark already says.
        reason = info.verify_note.removeprefix("certificate not verified: ")
        mark = f"✘ not verified: {reason}" if reason else "✘ not verified"
        verification = Content.styled(mark, "$text-error")
    session = Section(
        Content.styled("TLS session", "bold $text-accent"),
        (
            ("Protocol", Content(info.version or "unknown")),
            ("Cipher", Content(f"{info.cipher} ({info.bits}-bit)" if info.cipher else "unknown")),
            (
                "Name checked" if info.verified else "Name (SNI)",
                Content(info.server_hostname or "none sent"),
            ),
            ("Verification", verification),
            ("Chain", chain),
            ("OCSP stapling", ocsp or Content(OCSP_NOT_ASKED)),
        ),
    )
    return [
        session,
        *(_certificate(cert, _label(info, index), now) for index, cert in enumerate(info.chain)),
    ]


def ocsp_line(status: OcspStatus, now: datetime) -> Content:
    """What the probe found about the stapled OCSP response, the server's words made
    :func:`visible <smtptui.session.visible>`; a response past its next update is stale."""
    if status.error is not None:
        error = visible(status.error, one_line=True)
        if status.stapled:
            return Content.styled(f"✘ stapled, but {error}", "$text-error")
        return Content.styled(f"could not ask: {error}", "$text-warning")
    if not status.stapled:
        return Content("not stapled: the server sent no OCSP response")
    dates = f"this update {_maybe(status.this_update)}, next update {_maybe(status.next_update)}"
    stale = status.next_update is not None and status.next_update < now
    if stale:
        dates += ": STALE"
    responder = visible(status.responder or "unknown", one_line=True)
    signed = f"\nfrom {responder}, produced {_maybe(status.produced_at)}"
    if status.status == "good":
        style = "$text-warning" if stale else "$text-success"
        return Content.styled(f"✔ stapled: good ({dates}){signed}", style)
    if status.status == "revoked":
        when = f" {_maybe(status.revoked_at)}" if status.revoked_at else ""
        return Content.styled(f"✘ stapled: revoked{when} ({dates}){signed}", "$text-error")
    return Content.styled(f"stapled: unknown to the responder ({dates}){signed}", "$text-warning")


def _maybe(moment: datetime | None) -> str:
    return words.when(moment) if moment else "not given"


def _label(info: TlsInfo, index: int) -> str:
    if index == 0:
        return "Leaf"
    if index == len(info.chain) - 1 and info.chain[index].self_signed:
        return "Root"
    return f"Intermediate {index}"


def _certificate(cert: CertificateInfo, label: str, now: datetime) -> Section:
    title = Content.assemble(
        (label, "bold $text-accent"),
        f"  {cert.common_name}" if cert.common_name else "",
        ("  (self-signed)" if cert.self_signed else "", "$text-muted"),
    )
    valid_from, valid_until = (
        Content(words.when(cert.not_before)),
        Content(words.when(cert.not_after)),
    )
    note, style = validity(cert, now)
    if now < cert.not_before:
        valid_from += Content.styled(f"  ({note})", style)
    else:
        valid_until += Content.styled(f"  ({note})", style)
    rows = (
        ("Subject", Content(cert.subject or "(empty)")),
        ("Issuer", Content(cert.issuer or "(empty)")),
        ("SANs", Content(", ".join(cert.sans) or "none")),
        ("Key", Content(words.key_text(cert))),
        ("Signature", Content(cert.signature_algorithm or "unknown")),
        ("Valid from", valid_from),
        ("Valid until", valid_until),
        ("Serial", Content(f"0x{cert.serial:X}")),
        ("SHA-256", Content("\n".join(_fingerprint_lines(cert.fingerprint)))),
    )
    return Section(title, rows)


_STYLES = {Level.OK: "$text-success", Level.WARN: "$text-warning", Level.FAIL: "$text-error"}
"""The style of each level a certificate's validity can have."""


def validity(cert: CertificateInfo, now: datetime) -> tuple[str, str]:
    """How the validity period stands at ``now`` (the session's words), and the style that
    says how urgent it is."""
    note, level = words.validity(cert, now)
    return note, _STYLES[level]


def _fingerprint_lines(fingerprint: str) -> Iterator[str]:
    step = FINGERPRINT_BYTES * 3
    for start in range(0, len(fingerprint), step):
        yield fingerprint[start : start + step].rstrip(":")


class CertificateScreen(ScrollingDialog):
    """The TLS session and the certificate chain of a handshake; ``c`` copies it as text,
    ``s`` saves the certificates as PEM, Esc, q or Enter closes it. Given ``ask_ocsp`` (the
    live connection's :meth:`~smtptui.session.SessionController.ocsp_asker`), it asks the
    server for its stapled OCSP response when it opens."""

    BINDINGS = [
        Binding("escape,q,enter", "dismiss", "Close"),
        Binding("c", "copy", "Copy"),
        Binding("s", "save", "Save PEM"),
    ]

    DEFAULT_CSS = f"""
    CertificateScreen {{
        & > VerticalScroll {{ width: 90%; max-width: 100; max-height: 90%; }}
        & Grid {{
            grid-size: 2;
            grid-columns: {LABEL_WIDTH} 1fr;
            grid-rows: auto;
            height: auto;
            padding-left: 2;
        }}
        & .label {{ color: $text-muted; }}
    }}
    """

    def __init__(
        self,
        info: TlsInfo,
        now: datetime | None = None,
        ask_ocsp: Callable[[], Awaitable[OcspStatus]] | None = None,
    ) -> None:
        super().__init__()
        self.info = info
        self.now = now or datetime.now(UTC)
        self.ask_ocsp = ask_ocsp
        self.ocsp = Content(OCSP_ASKING if ask_ocsp else OCSP_NOT_ASKED)

    def compose(self) -> ComposeResult:
        with VerticalScroll() as body:
            body.border_title = "TLS certificate"
            body.border_subtitle = "c copy · s save PEM · Esc, q or Enter close"
            for number, section in enumerate(sections(self.info, self.now, self.ocsp)):
                yield Static(section.title, classes="heading first" if number == 0 else "heading")
                with Grid():
                    for label, value in section.rows:
                        yield Static(label, classes="label", markup=False)
                        yield Static(value, id="ocsp" if value is self.ocsp else None)

    def on_mount(self) -> None:
        if self.ask_ocsp is not None:
            self._ask(self.ask_ocsp)

    @work(exclusive=True)
    async def _ask(self, ask: Callable[[], Awaitable[OcspStatus]]) -> None:
        self.show_ocsp(await ask())

    def show_ocsp(self, status: OcspStatus) -> None:
        """Show what the server stapled, on the screen and in its copy."""
        self.ocsp = ocsp_line(status, self.now)
        self.query_one("#ocsp", Static).update(self.ocsp)

    def action_copy(self) -> None:
        """Copy the details as plain text."""
        self.app.copy_to_clipboard(certificate_text(self.info, self.now, self.ocsp))
        self.notify("Certificate details copied")

    def action_save(self) -> None:
        """Ask for a file and write the certificates the server sent to it as PEM."""
        chain = self.info.chain
        if not chain:
            self.notify("The server sent no certificate", severity="warning")
            return
        screen = PathScreen(
            "Save the certificates as PEM",
            lambda typed: save_chain(chain, typed),
            note=f"The {counted(len(chain))} the server sent, leaf first (a file there is "
            "replaced).",
            action="Save",
        )
        self.app.push_screen(screen, self._saved)

    def _saved(self, path: Path | None) -> None:
        if path is not None:
            where = visible(str(path), one_line=True)
            self.notify(f"Saved {counted(len(self.info.chain))} to {where}")
