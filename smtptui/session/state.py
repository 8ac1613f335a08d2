"""Where the dialogue stands, as an immutable snapshot, and which actions make sense next."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from smtptui.engine.tls import TlsInfo
from smtptui.protocol.replies import Reply
from smtptui.session.actions import (
    Action,
    Authenticate,
    Connect,
    Disconnect,
    Ehlo,
    Helo,
    MailFrom,
    Quit,
    RcptTo,
    Reset,
    SendData,
    SendMessage,
    StartTls,
)


class Phase(StrEnum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"  # socket opening, or waiting for the greeting
    CONNECTED = "connected"  # greeted (or after STARTTLS): EHLO/HELO next
    READY = "ready"  # EHLO/HELO accepted, no mail transaction
    MAIL = "mail"  # MAIL FROM accepted
    RCPT = "rcpt"  # at least one RCPT TO accepted
    DATA = "data"  # 354 received: message data goes next


_IN_TRANSACTION = (Phase.MAIL, Phase.RCPT, Phase.DATA)


@dataclass(frozen=True, slots=True)
class SessionState:
    """A snapshot of the session; the controller replaces it, never changes it."""

    phase: Phase = Phase.DISCONNECTED
    address: str = ""  # host:port of the current or last connection
    tls: TlsInfo | None = None
    esmtp: bool = False  # EHLO (not HELO) accepted
    extensions: frozenset[str] = field(default_factory=frozenset)  # EHLO keywords, upper case
    user: str | None = None  # authenticated as
    busy: bool = False
    running: str = ""  # label of the action under way
    last_reply: Reply | None = None
    sasl_due: bool = False  # a 334 to AUTH came last: the next line is a secret

    @property
    def connected(self) -> bool:
        return self.phase not in (Phase.DISCONNECTED, Phase.CONNECTING)

    def without_connection(self, phase: Phase = Phase.DISCONNECTED) -> SessionState:
        """This state in ``phase`` with nothing left of the connection (TLS, EHLO, user)."""
        return replace(
            self,
            phase=phase,
            tls=None,
            esmtp=False,
            extensions=frozenset(),
            user=None,
            sasl_due=False,
        )


def after_reply(phase: Phase, verb: str | None, reply: Reply) -> Phase:
    """The phase once ``reply`` answers ``verb`` (``None``: the greeting; ``"."``: the end
    of message data). Follows what the server said, whatever order things were sent in."""
    code = reply.code
    accepted = 200 <= code < 300
    if phase is Phase.CONNECTING:
        return Phase.CONNECTED
    if verb == ".":
        return Phase.READY  # any reply to the message ends the transaction
    if verb in ("EHLO", "HELO") and accepted:
        return Phase.READY
    if verb == "STARTTLS" and code == 220:
        return Phase.CONNECTED
    if verb == "MAIL" and accepted:
        return Phase.MAIL
    if verb == "RCPT" and accepted:
        return Phase.RCPT
    if verb == "DATA" and code == 354:
        return Phase.DATA
    if verb == "RSET" and accepted and phase in _IN_TRANSACTION:
        return Phase.READY
    return phase


def suggestions(state: SessionState) -> tuple[type[Action], ...]:
    """The actions that make sense next, most likely first. Advice only: any action runs."""
    match state.phase:
        case Phase.DISCONNECTED:
            return (Connect,)
        case Phase.CONNECTING | Phase.DATA:
            return (Disconnect,)
        case Phase.CONNECTED:
            if state.last_reply is not None and state.last_reply.code >= 400:
                return (Quit, Disconnect)
            return (Ehlo, Helo, Quit)
        case Phase.READY:
            ready: list[type[Action]] = []
            if state.tls is None and "STARTTLS" in state.extensions:
                ready.append(StartTls)
            if state.user is None and "AUTH" in state.extensions:
                ready.append(Authenticate)
            return (*ready, MailFrom, SendMessage, Quit)
        case Phase.MAIL:
            return (RcptTo, Reset, Quit)
        case Phase.RCPT:
            return (RcptTo, SendData, Reset, Quit)
