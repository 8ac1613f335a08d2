"""Where a session failed, as ``smtptui run``'s exit status: swaks' table, so that scripts
written against swaks read smtptui's status the same way. The one home of that table."""

from __future__ import annotations

from enum import IntEnum

from smtptui.protocol.auth import NoMechanismError
from smtptui.protocol.errors import CommandError


class Exit(IntEnum):
    """The exit status of ``smtptui run``: what failed first (swaks' codes)."""

    OK = 0
    USAGE = 1
    CONNECT = 2
    CLOSED = 6
    BANNER = 21
    EHLO = 22
    MAIL = 23
    RCPT = 24
    DATA = 25
    DOT = 26
    AUTH = 28
    TLS = 29
    EHLO_TLS = 32

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]


_MEANINGS = {
    Exit.OK: "every step worked",
    Exit.USAGE: "bad arguments (nothing sent)",
    Exit.CONNECT: "the connection failed",
    Exit.CLOSED: "the connection closed unexpectedly",
    Exit.BANNER: "the greeting refused the session",
    Exit.EHLO: "EHLO and HELO refused",
    Exit.MAIL: "MAIL FROM refused",
    Exit.RCPT: "no recipient accepted",
    Exit.DATA: "DATA refused",
    Exit.DOT: "the message refused after the dot",
    Exit.AUTH: "AUTH failed",
    Exit.TLS: "STARTTLS or the TLS handshake failed",
    Exit.EHLO_TLS: "EHLO refused after STARTTLS",
}


_BY_NAME = {
    "CONNECT": Exit.CONNECT,
    "GREETING": Exit.BANNER,
    "EHLO": Exit.EHLO,
    "HELO": Exit.EHLO,
    "STARTTLS": Exit.TLS,
    "TLS": Exit.TLS,
    "AUTH": Exit.AUTH,
    "MAIL": Exit.MAIL,
    "SEND": Exit.MAIL,  # a SendMessage refused before anything went: its first command
    "RCPT": Exit.RCPT,
    "DATA": Exit.DATA,
    "MESSAGE": Exit.DOT,  # "message data": the reply after the dot
    "BDAT": Exit.DOT,
    "END": Exit.DOT,
}


def failed_stage(
    label: str,
    error: Exception | None = None,
    refused: str | None = None,
    *,
    after_starttls: bool = False,
) -> Exit:
    """What failed, for a step called ``label`` that failed with ``error`` (None: it was
    refused, or not sent), ``refused`` naming the last command a reply refused in it (not
    the last reply: a message refused after the dot is followed by RSET's 250).

    The error says it where it can (a hang-up, a refused sender); the refused command next,
    then the step itself. EHLO after STARTTLS has its own status."""
    from smtptui.engine import errors  # here: `run --help` shows the table without ssl

    match error:
        case CommandError():
            return Exit.USAGE
        case errors.SMTPConnectError():
            return Exit.CONNECT
        case errors.SMTPServerDisconnected():
            return Exit.CLOSED
        case errors.SMTPTLSError():
            return Exit.TLS
        case errors.SMTPAuthenticationError() | NoMechanismError():
            return Exit.AUTH
        case errors.SMTPSenderRefused():
            return Exit.MAIL
        case errors.SMTPRecipientsRefused():
            return Exit.RCPT
        case errors.Located(step=step) if step:  # a timeout, a protocol error: where it was
            name = step
        case errors.SMTPHeloError():
            name = "EHLO"
        case _:
            name = refused if refused is not None else label
    stage = _BY_NAME.get(name.split()[0].upper(), Exit.CLOSED)
    return Exit.EHLO_TLS if stage is Exit.EHLO and after_starttls else stage
