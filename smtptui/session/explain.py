"""What a transcript entry means, in the lines shown under it when the user expands it.

Reply codes come from :mod:`smtptui.protocol.codes`; commands and their parameters from
RFC 5321, 3207 (STARTTLS), 4954 (AUTH), 1870 (SIZE), 6152 (8BITMIME), 6531 (SMTPUTF8),
3461 (DSN), 3030 (CHUNKING, BINARYMIME) and 8689 (REQUIRETLS).
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

from smtptui.engine.tls import TlsInfo
from smtptui.protocol.codes import explain
from smtptui.protocol.envelope import unxtext
from smtptui.protocol.providers import provider_advice
from smtptui.protocol.replies import Reply
from smtptui.session.advice import fix
from smtptui.session.transcript import Entry, EntryKind
from smtptui.session.visible import visible, visible_bytes

REVEAL_KEY = "r"
"""The key that reveals a secret on screen (the UI binds it)."""

MASKED_RESPONSE = f"a SASL response (masked; press {REVEAL_KEY} to reveal)"

ERROR_WIDTH = 96
"""Columns an error's text is wrapped at."""

MAX_BYTES_SHOWN = 200
"""Characters of an error's offending bytes shown before they are cut."""

MAX_SANS_SHOWN = 4
"""Subject alternative names listed before "+N more"."""

_COMMANDS: dict[str, str] = {
    "EHLO": "EHLO greets the server with the client's name and asks which ESMTP extensions it "
    "offers (RFC 5321)",
    "HELO": "HELO greets the server with the client's name, in plain SMTP: no extensions "
    "(RFC 5321)",
    "STARTTLS": "STARTTLS asks to turn the connection into TLS; after the handshake the session "
    "starts again from EHLO (RFC 3207)",
    "AUTH": "AUTH authenticates the client with a SASL mechanism (RFC 4954)",
    "MAIL": "MAIL FROM starts a mail transaction and names the envelope sender (the bounce "
    "address)",
    "RCPT": "RCPT TO adds one envelope recipient to the mail transaction",
    "DATA": "DATA asks to send the message; after a 354 it follows, ended by a line holding "
    "only a dot",
    ".": "A line holding only a dot ends the message data; the server's reply says whether it "
    "took the message",
    "BDAT": "BDAT sends the next chunk of the message, of the size given, without dot-stuffing; "
    "LAST marks the final one (RFC 3030)",
    "RSET": "RSET abandons the mail transaction under way; the connection stays open",
    "NOOP": "NOOP does nothing but ask for a 250: a check that the server is listening",
    "QUIT": "QUIT asks the server to answer 221 and close the connection",
    "VRFY": "VRFY asks whether an address is a mailbox here (servers often answer 252 or refuse)",
    "EXPN": "EXPN asks the server to list the members of a mailing list (usually disabled)",
    "HELP": "HELP asks the server for help text, on the command named if any",
    "XCLIENT": "XCLIENT (Postfix) asks the server to act as if the client were the one these "
    "attributes name (ADDR, NAME, HELO, …); it answers with a new 220 greeting, and the "
    "session starts again: now EHLO again",
    "PROXY": "The PROXY protocol header (HAProxy), sent before the greeting as a load balancer "
    "does: it names the client and the address it reached; a server not expecting one "
    "refuses it as a command",
}

_PARAMETERS: dict[str, tuple[str, str]] = {
    "SIZE": ("MAIL", "the message's size in bytes, so the server can refuse it early (RFC 1870)"),
    "BODY": ("MAIL", "the body's type: 7BIT, 8BITMIME (RFC 6152) or BINARYMIME (RFC 3030)"),
    "SMTPUTF8": ("MAIL", "addresses and header fields may be UTF-8 (RFC 6531)"),
    "RET": ("MAIL", "a failure report returns FULL (the message) or HDRS (its header) (RFC 3461)"),
    "ENVID": ("MAIL", "the sender's name for this envelope, quoted in DSN reports (RFC 3461)"),
    "REQUIRETLS": (
        "MAIL",
        "every hop must relay this message over verified TLS, or bounce it (RFC 8689)",
    ),
    "NOTIFY": ("RCPT", "when to send a DSN: NEVER, or SUCCESS, FAILURE, DELAY (RFC 3461)"),
    "ORCPT": ("RCPT", "the original recipient address, quoted in DSN reports (RFC 3461)"),
}
"""ESMTP parameters of MAIL and RCPT: the command each belongs to, and what it says."""

_BODIES = {
    "7BIT": "the body is 7-bit ASCII in lines of at most 998 octets (RFC 6152)",
    "8BITMIME": "the body may hold 8-bit octets, still in lines of text (RFC 6152)",
    "BINARYMIME": "the body is binary: any octets, no line structure; BDAT only (RFC 3030)",
}
"""What each BODY value says, in place of BODY's general meaning."""


def explanation(entry: Entry) -> list[str]:
    """The lines that explain ``entry``; for an info entry, its text whole (the pane cuts a
    long line at its edge; here the view wraps it).

    Each is :func:`visible` on one line: they quote the reply's text, the certificate's
    names and the command's parameters."""
    return [visible(line, one_line=True) for line in _explanation(entry)]


def _explanation(entry: Entry) -> list[str]:
    match entry.kind:
        case EntryKind.RECEIVED:
            lines = [] if entry.reply is None else _reply(entry.reply)
            return lines + [f"⚠ {flag}" for flag in entry.flags]
        case EntryKind.SENT:
            return _sent(entry)
        case EntryKind.TLS:
            return [] if entry.tls_info is None else _tls(entry.tls_info)
        case EntryKind.ERROR:
            return _error(entry)
    return entry.text.split("\n")


def _reply(reply: Reply) -> list[str]:
    """What the server that sent the reply means by it, if a provider's rule knows it (who,
    what, why, the fix); then its code and enhanced code with their meanings, and the
    explainer's notes."""
    return _provider(reply) + _codes(reply)


def _provider(reply: Reply) -> list[str]:
    known = provider_advice(reply)
    if known is None:
        return []
    return [f"{known.who}: {known.meaning}", f"why  {known.cause}", f"fix  {fix(known)}"]


def _codes(reply: Reply) -> list[str]:
    """A reply's code and enhanced code with their meanings, then the explainer's notes: all
    that the codes alone say, whoever sent it."""
    meaning = explain(reply)
    lines = [f"{meaning.code}  {meaning.meaning}"]
    enhanced = meaning.enhanced_meaning
    if meaning.enhanced is not None and enhanced is not None:
        code = str(meaning.enhanced)
        lines.append(f"{code}  {enhanced.klass} · {enhanced.subject} · {enhanced.detail}")
        lines.append(" " * (len(code) + 2) + enhanced.description)
    return lines + list(meaning.notes)


def _command(text: str) -> list[str]:
    """What a command line does, then what each MAIL or RCPT parameter in it says."""
    words = text.split()
    verb = words[0].upper() if words else ""
    what = _COMMANDS.get(verb)
    if what is None:
        return [f"{verb or 'an empty line'}: not a command smtptui describes; see the reply"]
    if verb == "AUTH" and len(words) > 1:
        what += f", here {words[1].upper()}"
    lines = [what]
    if verb in ("MAIL", "RCPT"):
        lines += [_parameter(verb, word) for word in text.partition(">")[2].split()]
    return lines


def _tls(info: TlsInfo) -> list[str]:
    """A handshake: protocol and cipher, the server's certificate, the verification."""
    lines = [f"protocol     {info.version}, {info.cipher}, {info.bits}-bit key"]
    leaf = info.leaf
    if leaf is not None:
        expired = " (expired)" if leaf.not_after < datetime.now(UTC) else ""
        names = ", ".join(leaf.sans[:MAX_SANS_SHOWN]) or "(none)"
        if len(leaf.sans) > MAX_SANS_SHOWN:
            names += f" +{len(leaf.sans) - MAX_SANS_SHOWN} more"
        lines += [
            f"subject      {leaf.subject}",
            f"issuer       {leaf.issuer}{' (self-signed)' if leaf.self_signed else ''}",
            f"valid until  {leaf.not_after.date().isoformat()}{expired}",
            f"names        {names}",
        ]
    return [*lines, f"verification {info.verify_note}", "Enter opens the certificate chain"]


def _sent(entry: Entry) -> list[str]:
    if entry.body:
        size, lines = len(entry.data), len(entry.data.splitlines())
        return [f"message data: {_count(size, 'byte')} in {_count(lines, 'line')}"]
    if entry.redacted is None:
        return _command(entry.text)
    if entry.redacted.startswith("AUTH "):  # an initial response, sent with AUTH
        return [_command(entry.text)[0], MASKED_RESPONSE]
    return [MASKED_RESPONSE]


def _parameter(verb: str, word: str) -> str:
    keyword, _, value = word.partition("=")
    known = _PARAMETERS.get(keyword.upper())
    if known is None:
        return f"{word}  a parameter smtptui does not describe (an extension's, or a typo)"
    owner, meaning = known
    if keyword.upper() == "BODY":
        meaning = _BODIES.get(value.upper(), meaning)
    elif keyword.upper() == "ENVID" and value:
        meaning += f', decoded: "{unxtext(value)}"'
    elif keyword.upper() == "ORCPT" and value:
        kind, semicolon, text = value.partition(";")  # type;xtext
        meaning += f', decoded: {kind}{semicolon}"{unxtext(text)}"' if semicolon else ""
    wrong = "" if owner == verb else f" — but it belongs to {owner}, not {verb}"
    return f"{word}  {meaning}{wrong}"


def _error(entry: Entry) -> list[str]:
    lines = [
        wrapped
        for paragraph in entry.text.split("\n")
        for wrapped in textwrap.wrap(paragraph, ERROR_WIDTH) or [""]
    ]
    if entry.data:
        shown = visible_bytes(entry.data, one_line=True)
        if len(shown) > MAX_BYTES_SHOWN:
            shown = shown[:MAX_BYTES_SHOWN] + "…"
        lines.append(f"{_count(len(entry.data), 'byte')}: {shown}")
    return lines


def _count(number: int, word: str) -> str:
    return f"{number:,} {word}{'' if number == 1 else 's'}"
