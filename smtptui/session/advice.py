"""What went wrong, in a sentence, and what to try: the text of the transcript's errors."""

from __future__ import annotations

from smtptui.engine import errors
from smtptui.engine.hosts import format_host
from smtptui.engine.tls import TLS_VERSIONS
from smtptui.protocol.auth import NoMechanismError
from smtptui.protocol.errors import CommandError
from smtptui.protocol.providers import ProviderAdvice, provider_advice
from smtptui.protocol.replies import Reply
from smtptui.session.keymap import keys_name

Failure = OSError | ValueError
"""What an action may fail with and the session reports instead of raising: smtplib's
exceptions (``SMTPException`` is an ``OSError``), network and TLS errors, and bad input
(``CommandError`` is a ``ValueError``)."""

FAILURES = (OSError, ValueError)
""":data:`Failure` as a tuple, for ``except``."""


_CLOSING = "the server is closing the connection; connect again later"
"""What a 421 means (RFC 5321 3.8), whatever it answered."""


def _step(step: str, label: str, run: str = "") -> str:
    run = f"; smtptui run: {run}" if run else ""
    return f"{label} ({keys_name(step, first=True)}{run})"


def _how() -> dict[str, str]:
    """How to do each step or setting a provider's fix names (see ``protocol.providers``),
    with the step's key as the keymap has it now."""
    return {
        "connect": _step("connect", "Connect"),
        "ehlo": _step("ehlo", "EHLO"),
        "starttls": _step("starttls", "STARTTLS", "--starttls"),
        "auth": _step("auth", "AUTH", "--user"),
        "rcpt": _step("rcpt", "RCPT TO"),
        "ehlo_name": "the EHLO name (Connection pane; smtptui run: --ehlo)",
    }


def fix(known: ProviderAdvice) -> str:
    """A provider's fix, each step it names given with its key (and ``run``'s flag)."""
    return known.fix.format_map(_how())


def provider_sentence(known: ProviderAdvice) -> str:
    """A provider's advice in one line: who, what it means, the likely cause, the fix."""
    return f"{known.who}: {known.meaning} Likely cause: {known.cause} Fix: {fix(known)}"


def refused(label: str, reply: Reply) -> str:
    """An action the server answered with a failure (or an unexpected code)."""
    return f"{label} refused: {_reply(reply.code, reply.message)}"


def explain(error: Failure, label: str) -> str:
    """A failure of the action called ``label``, with advice where there is some."""
    match error:
        case CommandError():
            return f"{error} — nothing was sent"
        case NoMechanismError():
            return f"{error} — many servers offer AUTH only after STARTTLS; or name a mechanism"
        case errors.SMTPTLSError():
            return f"{error} — {_tls_advice(error)}"
        case errors.SMTPTimeoutError():
            if error.step == "connect":
                return f"{error} — is the host reachable, or does a firewall drop the packets?"
            return f"{error} — the server is slow or stuck; try again or raise the reply timeout"
        case errors.SMTPConnectError():
            return _connect_failure(error)
        case errors.SMTPServerDisconnected():
            return f"{error} — connect again"
        case errors.SMTPProtocolError() if error.cancelled:
            return f"{error} — smtptui cancelled the AUTH exchange (sent *); try another mechanism"
        case errors.SMTPProtocolError() if error.step.startswith("AUTH"):
            return f"{error} — the connection is closed; connect again and try another mechanism"
        case errors.SMTPProtocolError():
            return f"{error} — is this an SMTP server, and is the security (TLS or not) right?"
        case errors.SMTPAuthenticationError():
            advice = "check the username, password and mechanism"
            return f"authentication failed: {_reply(error.smtp_code, error.smtp_error, advice)}"
        case errors.SMTPSenderRefused():
            return f"sender {error.sender} refused: {_reply(error.smtp_code, error.smtp_error)}"
        case errors.SMTPRecipientsRefused():
            refused = recipients(error.recipients)
            if any(code == 421 for code, _ in error.recipients.values()):
                return f"the message was not sent: {refused} — {_CLOSING}"
            return f"every recipient refused: {refused}"
        case errors.SMTPHeloError():
            return f"EHLO and HELO refused: {_reply(error.smtp_code, error.smtp_error)}"
        case errors.SMTPNotSupportedError():
            return f"{error} — run EHLO first; many servers offer AUTH only after STARTTLS"
        case errors.SMTPResponseException():
            return f"{label} refused: {_reply(error.smtp_code, error.smtp_error)}"
    return f"{label} failed: {error}"


def recipients(refused: dict[str, tuple[int, bytes]]) -> str:
    """Refused recipients with their replies: ``a@x (550 …), b@y (…)``."""
    return ", ".join(
        f"{address} ({_said(code, message)})" for address, (code, message) in refused.items()
    )


def _said(code: int, message: bytes | str) -> str:
    """A reply in a few words: its code and the first line of its text."""
    return f"{code} {_first_line(_text(message))}"


def _reply(code: int, message: bytes | str, advice: str = "") -> str:
    """A reply in a few words, then what the server that sent it means by it (if a
    provider's rule knows it), then what a 421 means, else ``advice`` (if any)."""
    advice = _CLOSING if code == 421 else advice
    raw = message.encode("utf-8") if isinstance(message, str) else message
    known = provider_advice(Reply(code, tuple(raw.split(b"\n")), b""))
    if known is not None:
        advice = f"{provider_sentence(known)}{f' (In general: {advice}.)' if advice else ''}"
    return f"{_said(code, message)} — {advice}" if advice else _said(code, message)


def _tls_advice(error: errors.SMTPTLSError) -> str:
    """What to try after a TLS failure, by the part that failed."""
    match error.part:
        case "chain":
            return (
                "trust its CA (CA file), verify the name alone (verify mode host), "
                "or turn verification off to look anyway"
            )
        case "name":
            return (
                f"the certificate is not for {error.name}: connect by a name it is for, "
                "or set the verify name to one"
            )
        case "version":
            return _version_advice(*error.versions)
        case "plaintext":
            return (
                "the server spoke plain text, not TLS: it speaks plain SMTP first — "
                "use STARTTLS (usually port 587 or 25), not implicit TLS"
            )
    return "does this port speak TLS? implicit TLS is usually 465, STARTTLS 25/587"


def _version_advice(low: str | None, high: str | None) -> str:
    """A handshake that found no common TLS version, within the client's limits."""
    older = _neighbour(low, -1)
    newer = _neighbour(high, +1)
    if older is not None:
        return (
            f"the server speaks no TLS version from TLS {low} up: it may speak only TLS "
            f"{older} or older — lower the minimum version (TLS min)"
        )
    if newer is not None:
        return (
            f"the server speaks no TLS version up to TLS {high}: it may need TLS {newer} "
            "or newer — raise the maximum version (TLS max)"
        )
    return "the server and the client share no TLS version: an old server, or an old client"


def _neighbour(version: str | None, step: int) -> str | None:
    """The TLS version ``step`` after ``version`` ("1.3", -1: "1.2"), if there is one."""
    if version is None:
        return None
    names = list(TLS_VERSIONS)
    index = names.index(version) + step
    return names[index] if 0 <= index < len(names) else None


def _connect_failure(error: errors.SMTPConnectError) -> str:
    match error.cause:
        case "implicit-tls":
            return (
                f"{error} — connect with implicit TLS (security: implicit TLS, run --tls), "
                "or to the port that speaks STARTTLS (587 or 25)"
            )
        case "refused":
            where = format_host(error.host, error.port)
            return f"connection refused by {where} — is a server listening? check host and port"
        case "unresolved":
            return f"{error} — check the host name"
        case "address":
            return f"{error} — write host, host:port or [IPv6 address]:port"
        case "mx":
            return f"{error} — check the domain, and the DNS server asked (the system's if unset)"
        case "missing" | "permission":
            return f"{error} — check the socket's path, that its server runs, and who may use it"
        case "proxy-unreachable":
            return f"{error} — check the proxy's host and port (--via)"
        case "proxy-auth":
            return f"{error} — put the proxy's credentials in its URL: scheme://user:pass@host:port"
        case "proxy-refused":
            return f"{error} — the proxy answers: check the target's host and port, and its rules"
        case "command" | "exited":
            return f"{error} — run the command (--pipe) by hand to see what it needs"
    return f"{error} — check the host, the port and the network"


def _text(message: bytes | str) -> str:
    return message.decode("utf-8", "backslashreplace") if isinstance(message, bytes) else message


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0]
