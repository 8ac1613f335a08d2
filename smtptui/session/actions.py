"""Every user intent as a small frozen dataclass, and what running one came to.

Actions hold what the user typed, unchecked: the controller checks it when it runs the
action, so a bad value becomes an error in the transcript rather than an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

from smtptui.protocol.envelope import Envelope
from smtptui.protocol.replies import Reply
from smtptui.session.exits import Exit


class Risk(StrEnum):
    """What the session does not do by accident, only once the user has accepted it (each
    :attr:`question` is what the UI asks)."""

    PLAINTEXT_AUTH = "AUTH without TLS sends the password readable by anyone on the path"
    PLAINTEXT_AFTER_STARTTLS = (
        "STARTTLS failed: going on sends everything, passwords too, in plaintext"
    )
    UNVERIFIED_TLS = "the certificate failed verification: the server may not be who it says"
    UNADVERTISED = "the server did not advertise what these envelope parameters need"

    @property
    def question(self) -> str:
        return _QUESTIONS[self]


_QUESTIONS = {
    Risk.PLAINTEXT_AUTH: "Send credentials without TLS, for the rest of this session?",
    Risk.PLAINTEXT_AFTER_STARTTLS: "Go on without TLS, for this connection?",
    Risk.UNVERIFIED_TLS: "Connect once more without verifying the certificate?",
    Risk.UNADVERTISED: "Send the parameters the server did not advertise anyway, this once?",
}


@dataclass(frozen=True, slots=True)
class Connect:
    """Open a new connection with the current settings (closing any open one)."""

    label: ClassVar[str] = "CONNECT"


@dataclass(frozen=True, slots=True)
class Ehlo:
    """EHLO; the reply lists the server's extensions."""

    name: str | None = None  # None: the settings' EHLO name
    label: ClassVar[str] = "EHLO"


@dataclass(frozen=True, slots=True)
class Helo:
    """HELO, for servers that refuse EHLO (no extensions then)."""

    name: str | None = None
    label: ClassVar[str] = "HELO"


@dataclass(frozen=True, slots=True)
class StartTls:
    """Send STARTTLS and upgrade the connection (EHLO is then needed again)."""

    label: ClassVar[str] = "STARTTLS"


@dataclass(frozen=True, slots=True)
class Authenticate:
    """AUTH with the settings' credentials."""

    mechanism: str | None = None  # None: the settings' mechanism, else the best offered
    label: ClassVar[str] = "AUTH"


@dataclass(frozen=True, slots=True)
class MailFrom:
    """MAIL FROM: ``address``, with ESMTP ``options`` as typed."""

    address: str
    options: tuple[str, ...] = ()
    label: ClassVar[str] = "MAIL FROM"


@dataclass(frozen=True, slots=True)
class RcptTo:
    """RCPT TO: ``address`` (one recipient), with ESMTP ``options`` as typed."""

    address: str
    options: tuple[str, ...] = ()
    label: ClassVar[str] = "RCPT TO"


@dataclass(frozen=True, slots=True)
class SendData:
    """DATA, then the message (str as smtplib encodes it, bytes untouched); after a 354
    (DATA already said), only the message."""

    message: str | bytes
    label: ClassVar[str] = "DATA"


@dataclass(frozen=True, slots=True)
class MessageLine:
    """One line of the message data a 354 asked for, as typed: sent at once (UTF-8, a
    leading '.' doubled, CRLF added), no reply awaited; CR, LF and NUL are refused."""

    text: str
    label: ClassVar[str] = "DATA LINE"


@dataclass(frozen=True, slots=True)
class EndMessage:
    """End a message typed line by line: the line holding only a dot, then the reply."""

    label: ClassVar[str] = "END OF DATA"


@dataclass(frozen=True, slots=True)
class Reset:
    """RSET: abort the transaction under way, the connection kept."""

    label: ClassVar[str] = "RSET"


@dataclass(frozen=True, slots=True)
class Noop:
    """NOOP: ask for a reply, nothing else (is the server still there?)."""

    label: ClassVar[str] = "NOOP"


@dataclass(frozen=True, slots=True)
class Verify:
    """VRFY ``address``: ask whether the server knows the mailbox."""

    address: str
    label: ClassVar[str] = "VRFY"


@dataclass(frozen=True, slots=True)
class Expand:
    """EXPN ``address``: ask for a mailing list's members."""

    address: str
    label: ClassVar[str] = "EXPN"


@dataclass(frozen=True, slots=True)
class Help:
    """HELP, on ``topic`` if given."""

    topic: str = ""
    label: ClassVar[str] = "HELP"


@dataclass(frozen=True, slots=True)
class Raw:
    """One line sent as typed (UTF-8) with CRLF added; CR, LF and NUL are refused."""

    line: str
    label: ClassVar[str] = "RAW"


@dataclass(frozen=True, slots=True)
class Xclient:
    """Postfix's XCLIENT: act as the client the attributes name (ADDR, NAME, HELO, …); the
    server answers with a new 220 greeting, and EHLO is needed again. No attributes: the
    settings' (``xclient``). ``force`` sends those the server did not advertise."""

    attributes: tuple[tuple[str, str], ...] = ()
    force: bool = False
    label: ClassVar[str] = "XCLIENT"


@dataclass(frozen=True, slots=True)
class Quit:
    """QUIT: ask the server to close the connection."""

    label: ClassVar[str] = "QUIT"


@dataclass(frozen=True, slots=True)
class Disconnect:
    """Close the connection at once, without QUIT."""

    label: ClassVar[str] = "DISCONNECT"


@dataclass(frozen=True, slots=True)
class SendMessage:
    """MAIL, every RCPT, DATA, with smtplib's ``sendmail`` semantics: it goes ahead if at
    least one recipient is accepted, and reports the refused ones. MAIL, the RCPTs and DATA
    go in one write if the server offers PIPELINING, unless ``pipelining`` is False;
    ``chunking`` sends the message with BDAT (True, or a chunk size) instead of DATA."""

    sender: str
    recipients: tuple[str, ...]
    message: str | bytes
    mail_options: tuple[str, ...] = ()
    rcpt_options: tuple[str, ...] = ()
    envelope: Envelope | None = None
    chunking: bool | int = False
    pipelining: bool = True
    label: ClassVar[str] = "SEND"


@dataclass(frozen=True, slots=True)
class Pipeline:
    """MAIL FROM, every RCPT TO and DATA written as one pipelined group (RFC 2920), each
    reply matched to its command; after a 354 the message goes next (SendData, or typed
    lines). Sent whether or not the server offers PIPELINING: the transcript says so."""

    sender: str
    recipients: tuple[str, ...]
    envelope: Envelope | None = None
    label: ClassVar[str] = "PIPELINE"


@dataclass(frozen=True, slots=True)
class SendBdat:
    """The message in BDAT chunks (RFC 3030) of ``chunk_size`` bytes, the last one LAST,
    each after the reply to the one before: exact byte counts, no dot-stuffing."""

    message: str | bytes
    chunk_size: int | None = None  # None: one chunk per 256 KiB
    label: ClassVar[str] = "BDAT"


class Stop(StrEnum):
    """A point a whole dialogue (:class:`RunAll`) may stop at: right after that step's reply."""

    CONNECT = "connect"
    EHLO = "ehlo"
    TLS = "tls"
    AUTH = "auth"
    MAIL = "mail"
    RCPT = "rcpt"
    DATA = "data"
    DOT = "dot"


QUIT_STOPS = (Stop.CONNECT, Stop.EHLO, Stop.TLS, Stop.AUTH, Stop.MAIL, Stop.RCPT)
"""Where a dialogue may stop with QUIT: after DATA's 354, QUIT would be message data."""


@dataclass(frozen=True, slots=True)
class RunAll:
    """The whole dialogue: connect, EHLO (HELO if refused with 5xx, or if ``helo``),
    STARTTLS and EHLO again (security STARTTLS), AUTH (when a username is set), ``send`` if
    given, QUIT. Stops at the first failure, with QUIT if the connection is still open.

    ``stop`` ends it right after that step's reply, or after the last step before it when
    the dialogue has no such step (no STARTTLS, no AUTH): with QUIT, or, with ``drop``,
    closing the connection without it."""

    send: SendMessage | None = None
    helo: bool = False
    stop: Stop | None = None
    drop: bool = False
    label: ClassVar[str] = "RUN ALL"


Action = (
    Connect
    | Ehlo
    | Helo
    | StartTls
    | Authenticate
    | MailFrom
    | RcptTo
    | SendData
    | MessageLine
    | EndMessage
    | Reset
    | Noop
    | Verify
    | Expand
    | Help
    | Raw
    | Quit
    | Disconnect
    | SendMessage
    | Pipeline
    | SendBdat
    | Xclient
    | RunAll
)

READS_SETTINGS = (Connect, Ehlo, Helo, Authenticate, Xclient, RunAll)
"""The actions that read the session's settings when they run (the server, the EHLO name,
the credentials): a UI puts what its fields say into the settings before each of them."""

Refused = Mapping[str, tuple[int, bytes]]
"""Refused recipients: address -> (code, message), as smtplib's ``sendmail`` returns them."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What running an action came to. ``error`` says what went wrong and what to try;
    ``risk``, when set, is what the user may accept (:meth:`SessionController.accept`)
    before running the action again."""

    action: Action
    ok: bool
    reply: Reply | None = None
    error: str = ""
    refused: Refused = field(default_factory=dict)
    risk: Risk | None = None
    stage: Exit | None = None  # what failed, when it did (see exits.failed_stage)
