"""What went wrong, in a sentence, and what to try: the text of the transcript's errors."""

from __future__ import annotations

from smtptui.engine import errors
from smtptui.engine.hosts import format_host
from smtptui.protocol.auth import NoMechanismError
from smtptui.protocol.errors import CommandError
from smtptui.protocol.replies import Reply

Failure = OSError | ValueError
"""What an action may fail with and the session reports instead of raising: smtplib's
exceptions (``SMTPException`` is an ``OSError``), network and TLS errors, and bad input
(``CommandError`` is a ``ValueError``)."""

FAILURES = (OSError, ValueError)
""":data:`Failure` as a tuple, for ``except``."""


def refused(label: str, reply: Reply) -> str:
    """An action the server answered with a failure (or an unexpected code)."""
    return f"{label} refused: {reply.code} {_first_line(reply.text)}"


def explain(error: Failure, label: str) -> str:
    """A failure of the action called ``label``, with advice where there is some."""
    match error:
        case CommandError():
            return f"{error} — nothing was sent"
        case NoMechanismError():
            return f"{error} — many servers offer AUTH only after STARTTLS; or name a mechanism"
        case errors.SMTPTLSError():
            if error.certificate:
                advice = "trust its CA (CA file), or turn verification off to look anyway"
            else:
                advice = "does this port speak TLS? implicit TLS is usually 465, STARTTLS 25/587"
            return f"{error} — {advice}"
        case errors.SMTPTimeoutError():
            if error.step == "connect":
                return f"{error} — is the host reachable, or does a firewall drop the packets?"
            return f"{error} — the server is slow or stuck; try again or raise the reply timeout"
        case errors.SMTPConnectError():
            return _connect_failure(error)
        case errors.SMTPServerDisconnected():
            return f"{error} — connect again"
        case errors.SMTPProtocolError():
            return f"{error} — is this an SMTP server, and is the security (TLS or not) right?"
        case errors.SMTPAuthenticationError():
            reply = f"{error.smtp_code} {_first_line(_text(error.smtp_error))}"
            return f"authentication failed: {reply} — check the username, password and mechanism"
        case errors.SMTPSenderRefused():
            reply = f"{error.smtp_code} {_first_line(_text(error.smtp_error))}"
            return f"sender {error.sender} refused: {reply}"
        case errors.SMTPRecipientsRefused():
            return f"every recipient refused: {recipients(error.recipients)}"
        case errors.SMTPHeloError():
            reply = f"{error.smtp_code} {_first_line(_text(error.smtp_error))}"
            return f"EHLO and HELO refused: {reply}"
        case errors.SMTPNotSupportedError():
            return f"{error} — run EHLO first; many servers offer AUTH only after STARTTLS"
        case errors.SMTPResponseException():
            return f"{label} refused: {error.smtp_code} {_first_line(_text(error.smtp_error))}"
    return f"{label} failed: {error}"


def recipients(refused: dict[str, tuple[int, bytes]]) -> str:
    """Refused recipients with their replies: ``a@x (550 …), b@y (…)``."""
    return ", ".join(
        f"{address} ({code} {_first_line(_text(message))})"
        for address, (code, message) in refused.items()
    )


def _connect_failure(error: errors.SMTPConnectError) -> str:
    match error.cause:
        case "refused":
            where = format_host(error.host, error.port)
            return f"connection refused by {where} — is a server listening? check host and port"
        case "unresolved":
            return f"{error} — check the host name"
        case "address":
            return f"{error} — write host, host:port or [IPv6 address]:port"
    return f"{error} — check the host, the port and the network"


def _text(message: bytes | str) -> str:
    return message.decode("utf-8", "backslashreplace") if isinstance(message, bytes) else message


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0]
