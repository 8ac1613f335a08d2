"""The status line at the top: server, state, TLS, user and the last reply."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from smtptui.session import Phase, SessionState, visible

_PHASES = {
    Phase.CLOSED: "disconnected",
    Phase.GREETING: "connecting…",
    Phase.EHLO: "connected",
    Phase.READY: "ready",
    Phase.TLS: "starting TLS…",
    Phase.AUTH: "authenticating",
    Phase.MAIL: "in transaction",
    Phase.RCPT: "in transaction",
    Phase.DATA: "typing the message (a lone . ends it)",
    Phase.BDAT: "sending chunks (BDAT … LAST ends them)",
    Phase.QUIT: "quitting",
}


class StatusBar(Static):
    """One line: ``smtptui  host:port  ● state  🔒 TLS  user  last reply``; with several
    sessions, which one is live first (``2/3``). TLS whose
    certificate was not verified reads ``⚠ TLS unverified …`` instead (the word early, so that
    80 columns show it), in its own colour and style: a lock would say the server is who it
    claims to be."""

    COMPONENT_CLASSES = {
        "status--name",
        "status--session",
        "status--on",
        "status--off",
        "status--tls",
        "status--unverified",
        "status--busy",
        "status--ok",
        "status--fail",
        "status--muted",
    }
    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $text;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    StatusBar > .status--name { text-style: bold; color: $accent; }
    StatusBar > .status--session { color: $accent; }
    StatusBar > .status--on { color: $success; }
    StatusBar > .status--off { color: $text-muted; }
    StatusBar > .status--tls { color: $smtp-lock; text-style: bold; }
    StatusBar > .status--unverified { color: $smtp-unverified; text-style: $smtp-unverified-style; }
    StatusBar > .status--busy { color: $warning; text-style: bold; }
    StatusBar > .status--ok { color: $success; }
    StatusBar > .status--fail { color: $error; text-style: bold; }
    StatusBar > .status--muted { color: $text-muted; }
    """

    def show(self, state: SessionState, session: str = "") -> None:
        """Show ``state``; ``session`` names the live session where there are several."""
        style = self.get_component_rich_style
        text = Text.assemble(("smtptui", style("status--name")), "  ")
        if session:
            text.append(f"{visible(session, one_line=True)}  ", style("status--session"))
        if state.address:
            text.append(f"{state.address}  ")
        connected = state.phase is not Phase.CLOSED
        phase_style = style("status--on" if connected else "status--off")
        text.append("● " + _PHASES[state.phase], phase_style)
        tls = state.tls
        if tls is not None and tls.verified:
            text.append(f"  🔒 {tls.version} {tls.cipher}", style("status--tls"))
        elif tls is not None:
            text.append(f"  ⚠ {tls.version} unverified {tls.cipher}", style("status--unverified"))
        elif connected:
            text.append("  no TLS", style("status--muted"))
        if state.user:
            text.append(f"  👤 {state.user}")
        if state.busy and state.running:
            text.append(f"  ⏳ {state.running} (Esc cancels)", style("status--busy"))
        elif state.last_reply is not None:
            reply = state.last_reply
            first = visible(reply.text.split("\n", 1)[0], one_line=True)  # the server's words
            ok = reply.code < 400
            text.append(f"  {reply.code} {first}", style("status--ok" if ok else "status--fail"))
        self.update(text)
