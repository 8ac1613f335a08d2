"""The Connection tab: where to connect, how securely, and how long to wait."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Button, Collapsible, Input, Label, RadioButton, RadioSet, Select

from smtptui.engine.hosts import SMTP_PORT, parse_host, unix_path
from smtptui.engine.tls import TLS_VERSIONS, VerifyMode
from smtptui.protocol.errors import CommandError
from smtptui.session import Connect, Disconnect, Security, SessionSettings
from smtptui.session.settings import mx_domain
from smtptui.ui.messages import RunAction
from smtptui.ui.panes.form import Form, FormPane, choices, field, select, text_input

_SECURITY = {
    Security.STARTTLS: "STARTTLS",
    Security.TLS: "implicit TLS",
    Security.NONE: "none",
}
_VERIFY = {
    VerifyMode.BOTH: "chain and name",
    VerifyMode.CA: "chain only (CA)",
    VerifyMode.HOST: "name only (host)",
    VerifyMode.NONE: "nothing",
}
_VERSIONS = {"": "any", **{version: f"TLS {version}" for version in TLS_VERSIONS}}
_PROTOCOLS = {"smtp": "SMTP", "lmtp": "LMTP (RFC 2033)"}
_FAMILY = {"": "either", "4": "IPv4 only", "6": "IPv6 only"}
_PROXY = {"": "none", "v1": "v1 (text)", "v2": "v2 (binary)"}
_PROXY_SETTINGS = ("proxy_protocol", "proxy_source", "proxy_dest", "xclient")
"""Applied before the rest, so that their errors are named first."""
_IN_SECTIONS = (
    *_PROXY_SETTINGS,
    *("client_cert", "client_key", "sni", "verify_name", "tls_min", "tls_max", "ciphers"),
    *("via", "pipe", "source_address", "family"),
)
"""The settings whose fields are in the sections shown collapsed (the protocol's is the
pane's ``_lmtp``)."""
_NO_SNI = "-"
"""What the SNI field holds for "send no SNI" (empty is the default: the host)."""
_CONNECT_TIMEOUT = SessionSettings.connect_timeout
_REPLY_TIMEOUT = SessionSettings.reply_timeout


class ConnectionPane(FormPane):
    """Host (or ``@domain``, to route by MX), port, the DNS server that routing asks,
    security, verification, EHLO name and timeouts; the rest of TLS (client
    certificate, SNI, verify name, versions, ciphers) in a section that opens, the
    protocol (SMTP or LMTP) in another, the way to the server (a proxy, a command's pipe,
    the source address, IPv4 or IPv6) in a third, and a PROXY header and XCLIENT's
    attributes in a fourth; Connect and Disconnect."""

    DEFAULT_CSS = """
    ConnectionPane {
        & #connect-timeout, & #reply-timeout { width: 6; }
        & Collapsible {
            padding: 0;
            border: none;
            background: transparent;
            & > Contents { padding: 0; height: auto; }
            & .field { height: auto; }
            & CollapsibleTitle { padding: 0; color: $text-muted; }
        }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._security = SessionSettings.security  # the RadioSet's choice, known at once
        self._lmtp = SessionSettings.lmtp  # the protocol RadioSet's, likewise
        self._loaded = SessionSettings()  # what the sections show once built
        self._built = False  # the sections' fields (:meth:`build_sections`)

    def compose(self) -> ComposeResult:
        with Form():
            yield field("Host", text_input("host", "host", "host or @domain"))
            yield field("Port", text_input("port", "port", type="integer"))
            yield field("DNS server", text_input("nameserver", "nameserver", "the system's"))
            yield field("Security", choices("security", _SECURITY, self._security))
            yield field("Verify", select("verify", "verify", _VERIFY))
            yield Collapsible(title="TLS options", id="tls-options")
            yield field("EHLO name", text_input("ehlo-name", "EHLO name", "this machine's name"))
            yield field(
                "Timeouts",
                text_input(
                    "connect-timeout", "connect timeout", _seconds(_CONNECT_TIMEOUT), type="number"
                ),
                Label("s to connect", classes="unit"),
            )
            yield field(
                "",
                text_input(
                    "reply-timeout", "reply timeout", _seconds(_REPLY_TIMEOUT), type="number"
                ),
                Label("s per reply", classes="unit"),
            )
            yield Collapsible(title="Protocol", id="protocol-options")
            yield Collapsible(title="Transport", id="transport")
            yield Collapsible(title="PROXY / XCLIENT", id="proxy-options")
        with Horizontal(classes="buttons"):
            yield Button("Connect", id="connect", variant="primary", compact=True)
            yield Button("Disconnect", id="disconnect", compact=True)
            yield Button(
                "Profile…",
                id="profile",
                compact=True,
                action="app.open_profile",
                tooltip="Fill the panes from a profile in config.toml",
            )

    def _section(self, id: str) -> list[Widget]:
        """The fields of the section ``id``, shown collapsed at first."""
        if id == "tls-options":
            return [
                field("Client cert", text_input("client-cert", "client certificate", "PEM file")),
                field("Client key", text_input("client-key", "client key", "PEM file")),
                field("SNI", text_input("sni", "SNI", f"the host ({_NO_SNI}: none)")),
                field("Verify name", text_input("verify-name", "verify name", "the SNI")),
                field("TLS min", select("tls-min", "TLS min", _VERSIONS)),
                field("TLS max", select("tls-max", "TLS max", _VERSIONS)),
                field("Ciphers", text_input("ciphers", "ciphers", "OpenSSL's default")),
            ]
        if id == "protocol-options":
            return [field("Protocol", choices("protocol", _PROTOCOLS, _protocol(self._lmtp)))]
        if id == "transport":
            return [
                field("Via proxy", text_input("via", "via", "socks5://[user:pass@]host:port")),
                field("Pipe", text_input("pipe", "pipe", "a command, instead of a host")),
                field("Source", text_input("source", "source", "any local address")),
                field("IP version", select("family", "family", _FAMILY)),
            ]
        return [
            field("PROXY header", select("proxy-protocol", "proxy protocol", _PROXY)),
            field("Source", text_input("proxy-source", "proxy source", "ADDR:PORT")),
            field("Destination", text_input("proxy-dest", "proxy dest", "ADDR:PORT")),
            field("XCLIENT", text_input("xclient", "xclient", "NAME=VALUE …")),
        ]

    async def build_sections(self) -> None:
        """Build the fields of the sections shown collapsed, after the first frame (some 80
        widgets it need not wait for), and show the settings last loaded in them."""
        for section in self.query(Collapsible):
            await section.query_one(Collapsible.Contents).mount_all(self._section(section.id))
        self._built = True
        self._load_sections(self._loaded)

    def on_mount(self) -> None:
        self._show_port()

    def load(self, settings: SessionSettings) -> None:
        """Show ``settings`` in the fields (in the sections' once they are built)."""
        self.text("host", settings.host)
        self.text("port", str(settings.port) if settings.port else "")
        self.text("nameserver", settings.nameserver or "")
        self._security = settings.security
        self.query_one(f"#security-{settings.security}", RadioButton).value = True
        self.query_one("#verify", Select).value = settings.verify
        self.text("ehlo-name", settings.helo_name)
        self.text("connect-timeout", _seconds(settings.connect_timeout))
        self.text("reply-timeout", _seconds(settings.reply_timeout))
        self._lmtp = settings.lmtp
        self._loaded = settings
        if self._built:
            self._load_sections(settings)
        self._show_port()

    def _load_sections(self, settings: SessionSettings) -> None:
        self.text("client-cert", settings.client_cert or "")
        self.text("client-key", settings.client_key or "")
        self.text("sni", _NO_SNI if settings.sni == "" else settings.sni or "")
        self.text("verify-name", settings.verify_name or "")
        self.query_one("#tls-min", Select).value = settings.tls_min or ""
        self.query_one("#tls-max", Select).value = settings.tls_max or ""
        self.text("ciphers", settings.ciphers or "")
        self.query_one(f"#protocol-{_protocol(settings.lmtp)}", RadioButton).value = True
        self.text("via", settings.via or "")
        self.text("pipe", settings.pipe or "")
        self.text("source", settings.source_address or "")
        self.query_one("#family", Select).value = str(settings.family or "")
        self.query_one("#proxy-protocol", Select).value = settings.proxy_protocol or ""
        self.text("proxy-source", settings.proxy_source or "")
        self.text("proxy-dest", settings.proxy_dest or "")
        self.text("xclient", " ".join(settings.xclient))

    def apply(self, settings: SessionSettings) -> SessionSettings:
        """``settings`` with this pane's values; raises :class:`CommandError` naming a bad
        field (the fields keep what was typed)."""
        sections = self._in_sections()
        settings = replace(settings, **{name: sections.pop(name) for name in _PROXY_SETTINGS})
        return replace(
            settings,
            host=self.text("host").strip(),
            port=self._port(),
            nameserver=self.text("nameserver").strip() or None,
            security=self._security,
            verify=VerifyMode(self.choice("verify")),
            helo_name=self.text("ehlo-name").strip(),
            connect_timeout=self._timeout("connect-timeout", "connect timeout", _CONNECT_TIMEOUT),
            reply_timeout=self._timeout("reply-timeout", "reply timeout", _REPLY_TIMEOUT),
            lmtp=self._lmtp,
            **sections,
        )

    def _in_sections(self) -> dict[str, Any]:
        """The settings the sections' fields hold (before they are built, those loaded)."""
        if not self._built:
            return {name: getattr(self._loaded, name) for name in _IN_SECTIONS}
        sni = self.text("sni").strip()
        return {
            "proxy_protocol": self.choice("proxy-protocol") or None,
            "proxy_source": self.text("proxy-source").strip() or None,
            "proxy_dest": self.text("proxy-dest").strip() or None,
            "xclient": tuple(self.text("xclient").split()),
            "client_cert": self.text("client-cert").strip() or None,
            "client_key": self.text("client-key").strip() or None,
            "sni": "" if sni == _NO_SNI else sni or None,
            "verify_name": self.text("verify-name").strip() or None,
            "tls_min": self.choice("tls-min") or None,
            "tls_max": self.choice("tls-max") or None,
            "ciphers": self.text("ciphers").strip() or None,
            "via": self.text("via").strip() or None,
            "pipe": self.text("pipe").strip() or None,
            "source_address": self.text("source").strip() or None,
            "family": int(self.choice("family") or 0) or None,
        }

    def focus_field(self, name: str) -> bool:
        """Open the section (TLS options, Transport, PROXY / XCLIENT) the field is in first."""
        for section in self.query(Collapsible):
            if any(widget.name == name for widget in section.query(Widget)):
                section.collapsed = False
        return super().focus_field(name)

    @on(Button.Pressed, "#connect")
    def _connect(self) -> None:
        self.post_message(RunAction(Connect()))

    @on(Button.Pressed, "#disconnect")
    def _disconnect(self) -> None:
        self.post_message(RunAction(Disconnect()))

    @on(RadioSet.Changed, "#security")
    def _security_changed(self, event: RadioSet.Changed) -> None:
        self._security = Security(event.pressed.name)
        self._show_port()

    @on(RadioSet.Changed, "#protocol")
    def _protocol_changed(self, event: RadioSet.Changed) -> None:
        self._lmtp = event.pressed.name == "lmtp"
        self._show_port()

    @on(Input.Changed, "#host")
    def _show_port(self) -> None:
        """The Port placeholder says which port an empty Port field means (a domain routed
        by MX: 25, its hosts')."""
        host = self.text("host")
        try:
            routed = mx_domain(host) is not None
        except CommandError:  # a domain half typed: routed all the same
            routed = True
        try:
            _, written = parse_host(host, 0)  # 0: no port in the host field
        except ValueError:
            written = 0
        default = SessionSettings(security=self._security, lmtp=self._lmtp).default_port
        if unix_path(host) is not None:
            placeholder = "none (UNIX socket)"
        elif routed:
            placeholder = f"{SMTP_PORT} (MX)"
        elif written:
            placeholder = f"{written} (from host)"
        else:
            placeholder = f"{default} (default)"
        self.query_one("#port", Input).placeholder = placeholder

    def _port(self) -> int | None:
        text = self.text("port").strip()
        if not text:
            return None
        if not text.isdigit():
            raise CommandError("port", f"must be a number from 1 to 65535, not {text!r}")
        return int(text)

    def _timeout(self, id: str, name: str, default: float) -> float:
        text = self.text(id).strip()
        if not text:
            return default
        try:
            seconds = float(text)
        except ValueError:
            seconds = math.nan
        if not math.isfinite(seconds):
            raise CommandError(name, f"must be a number of seconds, not {text!r}")
        return seconds


def _protocol(lmtp: bool) -> str:
    return "lmtp" if lmtp else "smtp"


def _seconds(seconds: float) -> str:
    return f"{seconds:g}"
