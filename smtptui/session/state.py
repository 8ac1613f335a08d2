"""Where the dialogue stands, as an immutable snapshot, and which actions make sense next."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from smtptui.engine.tls import TlsInfo
from smtptui.protocol.dialogue import Phase
from smtptui.protocol.replies import Reply
from smtptui.session.actions import (
    Action,
    Authenticate,
    Connect,
    Disconnect,
    Ehlo,
    Helo,
    MailFrom,
    Pipeline,
    Quit,
    RcptTo,
    Reset,
    SendBdat,
    SendData,
    SendMessage,
    StartTls,
)


@dataclass(frozen=True, slots=True)
class Transfer:
    """A large message on its way: ``sent`` of ``total`` bytes (the engine's
    :class:`~smtptui.engine.events.Progress`), since ``began`` (``time.monotonic()``), as
    of ``time``."""

    sent: int
    total: int
    began: float
    time: float

    @property
    def rate(self) -> float:
        """Bytes a second so far (0 at the start)."""
        elapsed = self.time - self.began
        return self.sent / elapsed if elapsed > 0 else 0.0


@dataclass(frozen=True, slots=True)
class SessionState:
    """A snapshot of the session; the controller replaces it, never changes it."""

    phase: Phase = Phase.CLOSED  # the dialogue's; GREETING from the start of connecting
    address: str = ""  # host:port of the current or last connection
    tls: TlsInfo | None = None
    esmtp: bool = False  # EHLO (not HELO) accepted
    extensions: frozenset[str] = field(default_factory=frozenset)  # EHLO keywords, upper case
    user: str | None = None  # authenticated as
    busy: bool = False
    running: str = ""  # label of the action under way
    last_reply: Reply | None = None
    transfer: Transfer | None = None  # a large message being sent, until its reply

    @property
    def sasl_due(self) -> bool:
        """A 334 to AUTH came last: the next line sent is a secret."""
        return self.phase is Phase.AUTH

    @property
    def connected(self) -> bool:
        return self.phase not in (Phase.CLOSED, Phase.GREETING)

    def without_connection(self, phase: Phase = Phase.CLOSED) -> SessionState:
        """This state in ``phase`` with nothing left of the connection (TLS, EHLO, user)."""
        return replace(
            self,
            phase=phase,
            tls=None,
            esmtp=False,
            extensions=frozenset(),
            user=None,
            transfer=None,
        )


def suggestions(state: SessionState) -> tuple[type[Action], ...]:
    """The actions that make sense next, most likely first. Advice only: any action runs."""
    match state.phase:
        case Phase.CLOSED:
            return (Connect,)
        case Phase.GREETING | Phase.TLS | Phase.DATA | Phase.QUIT:
            return (Disconnect,)
        case Phase.AUTH:
            return (Quit, Disconnect)
        case Phase.EHLO:
            if state.last_reply is not None and state.last_reply.code >= 400:
                return (Quit, Disconnect)
            return (Ehlo, Helo, Quit)
        case Phase.READY:
            ready: list[type[Action]] = []
            if state.tls is None and "STARTTLS" in state.extensions:
                ready.append(StartTls)
            if state.user is None and "AUTH" in state.extensions:
                ready.append(Authenticate)
            pipeline = (Pipeline,) if "PIPELINING" in state.extensions else ()
            return (*ready, MailFrom, SendMessage, Quit, *pipeline)  # the rarer step last
        case Phase.MAIL:
            return (RcptTo, Reset, Quit)
        case Phase.RCPT:
            bdat = (SendBdat,) if "CHUNKING" in state.extensions else ()
            return (RcptTo, SendData, *bdat, Reset, Quit)
        case Phase.BDAT:
            return (SendBdat, Reset, Quit)
