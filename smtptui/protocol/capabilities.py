"""EHLO capabilities (RFC 5321 4.1.1.1) as data, each extension with a one-line explanation.

``Capabilities.features`` is exactly what ``smtplib.SMTP.esmtp_features`` holds after the same
reply, so code written against smtplib can read it unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from smtptui.protocol.replies import Reply

_KEYWORD = re.compile(r"(?P<feature>[A-Za-z0-9][A-Za-z0-9\-]*) ?")
"""smtplib's pattern for an EHLO keyword (its parameters follow the optional space)."""

_OLDSTYLE_AUTH = re.compile(r"auth=(.*)", re.IGNORECASE)
"""smtplib's pattern for the pre-standard ``AUTH=`` line."""

_NUMBER = re.compile(r"[0-9]{1,30}")
"""A SIZE value; longer digit strings are no real limit (and int() refuses very long ones)."""


@dataclass(frozen=True, slots=True)
class Extension:
    """One EHLO line after the first: an uppercase keyword and its parameters."""

    keyword: str
    params: tuple[str, ...]
    explanation: str


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a server advertised in its reply to EHLO."""

    hostname: str
    greeting: str
    extensions: tuple[Extension, ...]
    features: dict[str, str] = field(default_factory=dict, hash=False)

    def has(self, keyword: str) -> bool:
        """Whether the server advertised ``keyword`` (any case)."""
        wanted = keyword.upper()
        return any(ext.keyword == wanted for ext in self.extensions)

    @property
    def size(self) -> int | None:
        """The SIZE limit in bytes (0: no fixed limit), or None without SIZE or a number."""
        words = self.features.get("size", "").split()
        return int(words[0]) if words and _NUMBER.fullmatch(words[0]) else None

    @property
    def auth_mechanisms(self) -> tuple[str, ...]:
        """The SASL mechanisms of every AUTH line, uppercase, first occurrence kept."""
        mechanisms = (
            m.upper() for ext in self.extensions if ext.keyword == "AUTH" for m in ext.params
        )
        return tuple(dict.fromkeys(mechanisms))

    @property
    def starttls(self) -> bool:
        return self.has("STARTTLS")

    @property
    def pipelining(self) -> bool:
        return self.has("PIPELINING")

    @property
    def chunking(self) -> bool:
        return self.has("CHUNKING")

    @property
    def smtputf8(self) -> bool:
        return self.has("SMTPUTF8")

    @property
    def eightbitmime(self) -> bool:
        return self.has("8BITMIME")

    @property
    def dsn(self) -> bool:
        return self.has("DSN")

    @property
    def enhanced_status_codes(self) -> bool:
        return self.has("ENHANCEDSTATUSCODES")


def parse_ehlo(reply: Reply) -> Capabilities:
    """Read the capabilities from a reply to EHLO; a reply other than 250 advertises nothing.

    Lines are split as smtplib splits them. Text that is not UTF-8 shows as ``\\xNN`` in
    ``hostname``, ``greeting`` and the extensions; ``features`` decodes Latin-1, like smtplib.
    """
    if reply.code != 250:
        return Capabilities(hostname="", greeting="", extensions=())
    lines = b"\n".join(line.strip(b" \t\r\n") for line in reply.lines).split(b"\n")
    first = lines[0].decode("utf-8", "backslashreplace").split(None, 1)
    extensions = tuple(
        ext for line in lines[1:] if (ext := _extension(line.decode("utf-8", "backslashreplace")))
    )
    return Capabilities(
        hostname=first[0] if first else "",
        greeting=first[1].strip() if len(first) > 1 else "",
        extensions=extensions,
        features=_features(lines[1:]),
    )


def _extension(line: str) -> Extension | None:
    """The extension on one line, found the way smtplib finds it, or None."""
    if auth := _OLDSTYLE_AUTH.match(line):
        keyword, rest = "AUTH", auth[1]
    elif match := _KEYWORD.match(line):
        keyword, rest = match["feature"].upper(), line[match.end("feature") :]
    else:
        return None
    params = tuple(rest.split())
    return Extension(keyword, params, explain_extension(keyword, params))


def _features(lines: Sequence[bytes]) -> dict[str, str]:
    """``esmtp_features`` as smtplib.SMTP.ehlo builds it, step for step."""
    features: dict[str, str] = {}
    for line in lines:
        each = line.decode("latin-1")
        if auth := _OLDSTYLE_AUTH.match(each):
            features["auth"] = features.get("auth", "") + " " + auth[1]
        elif match := _KEYWORD.match(each):
            feature = match["feature"].lower()
            params = each[match.end("feature") :].strip()
            if feature == "auth":
                features[feature] = features.get(feature, "") + " " + params
            else:
                features[feature] = params
    return features


def explain_extension(keyword: str, params: Sequence[str] = ()) -> str:
    """One line saying what an EHLO keyword (with its parameters) tells the client."""
    key = keyword.upper()
    explainer = _EXPLAINERS.get(key)
    if explainer is not None:
        return explainer(params)
    fixed = _EXTENSIONS.get(key)
    if fixed is not None:
        return fixed
    if key.startswith("X"):
        return f"{key}: a private extension of this server's software, not a registered one."
    return f"{key}: not a registered SMTP extension; its meaning is specific to this server."


def _explain_size(params: Sequence[str]) -> str:
    if params and not _NUMBER.fullmatch(params[0]):
        return f"SIZE (RFC 1870): declares a size limit, but '{params[0]}' is not a usable number."
    limit = int(params[0]) if params else 0
    if limit == 0:
        return "SIZE (RFC 1870): the server declares no fixed message size limit."
    return f"SIZE (RFC 1870): accepts messages up to {human_size(limit)} ({limit:,} bytes)."


def human_size(n: int) -> str:
    """``n`` bytes in words: ``35 MiB``, ``1.5 KiB``, ``512 bytes``."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if n % scale == 0 else f"{value:.1f} {unit}"
    return f"{n} bytes"


def _explain_auth(params: Sequence[str]) -> str:
    if not params:
        return "AUTH (RFC 4954): the client may authenticate, but no mechanism is listed."
    mechanisms = ", ".join(p.upper() for p in params)
    return f"AUTH (RFC 4954): the client may authenticate; mechanisms: {mechanisms}."


def _with_params(text: str, label: str) -> Callable[[Sequence[str]], str]:
    """An explainer that says ``text`` and then the parameters, if any, under ``label``."""

    def explain(params: Sequence[str]) -> str:
        return f"{text}; {label}: {' '.join(params)}." if params else f"{text}."

    return explain


_EXPLAINERS: dict[str, Callable[[Sequence[str]], str]] = {
    "SIZE": _explain_size,
    "AUTH": _explain_auth,
    "DELIVERBY": _with_params(
        "DELIVERBY (RFC 2852): the client may ask for delivery within a time limit",
        "shortest time accepted, in seconds",
    ),
    "FUTURERELEASE": _with_params(
        "FUTURERELEASE (RFC 4865): the client may ask the server to hold a message and "
        "release it later",
        "longest hold in seconds, latest release date",
    ),
    "LIMITS": _with_params(
        "LIMITS (RFC 9422): the server announces limits it applies in this session",
        "limits",
    ),
    "MT-PRIORITY": _with_params(
        "MT-PRIORITY (RFC 6710): the client may give messages a priority",
        "priority policy",
    ),
    "NO-SOLICITING": _with_params(
        "NO-SOLICITING (RFC 3865): the client may tag a message's solicitation class "
        "(MAIL ... SOLICIT=), and the server may refuse some classes",
        "classes refused",
    ),
    "BURL": _with_params(
        "BURL (RFC 4468): a submission client may send message content by URL (IMAP)",
        "URL types",
    ),
    "X-EXPS": _with_params(
        "X-EXPS: Microsoft Exchange authentication between Exchange servers",
        "mechanisms",
    ),
}

_EXTENSIONS: dict[str, str] = {
    "PIPELINING": "PIPELINING (RFC 2920): the client may send several commands without "
    "waiting for each reply.",
    "STARTTLS": "STARTTLS (RFC 3207): the client may switch this connection to TLS.",
    "8BITMIME": "8BITMIME (RFC 6152): accepts 8-bit message bodies (MAIL ... BODY=8BITMIME).",
    "SMTPUTF8": "SMTPUTF8 (RFC 6531): accepts UTF-8 addresses and headers.",
    "CHUNKING": "CHUNKING (RFC 3030): the message may be sent in BDAT chunks instead of DATA.",
    "BINARYMIME": "BINARYMIME (RFC 3030): accepts binary MIME bodies, sent with BDAT.",
    "DSN": "DSN (RFC 3461): the client may ask for delivery status notifications "
    "(NOTIFY, RET, ENVID, ORCPT).",
    "ENHANCEDSTATUSCODES": "ENHANCEDSTATUSCODES (RFC 2034): replies carry x.y.z status codes.",
    "ETRN": "ETRN (RFC 1985): the client may ask the server to deliver mail queued for a domain.",
    "ATRN": "ATRN (RFC 2645): an authenticated client may ask for its queued mail on this "
    "connection (roles reverse).",
    "TURN": "TURN (RFC 821): the client may ask to swap roles; unsafe without authentication, "
    "and no longer used.",
    "VRFY": "VRFY: the server answers VRFY; it is a base command of RFC 5321, listed here to "
    "say it is enabled.",
    "EXPN": "EXPN (RFC 5321): the server expands mailing lists on request.",
    "HELP": "HELP (RFC 5321): the server answers HELP.",
    "CHECKPOINT": "CHECKPOINT (RFC 1845): an interrupted message transfer may be resumed.",
    "MTRK": "MTRK (RFC 3885): the client may ask for message tracking.",
    "REQUIRETLS": "REQUIRETLS (RFC 8689): the client may require TLS on every hop of a message.",
    "RRVS": "RRVS (RFC 7293): the client may require the recipient mailbox to have been valid "
    "since a given time.",
    "CONPERM": "CONPERM (RFC 4141): the client may say whether content conversion is allowed.",
    "CONNEG": "CONNEG (RFC 4141): the server may negotiate content conversion.",
    "SUBMITTER": "SUBMITTER (RFC 4405): the client may name the responsible submitter; now "
    "historic.",
    "UTF8SMTP": "UTF8SMTP (RFC 5336): experimental forerunner of SMTPUTF8.",
    "SEND": "SEND (RFC 821): delivery to a user's terminal; no longer used.",
    "SOML": "SOML (RFC 821): send to terminal or mailbox; no longer used.",
    "SAML": "SAML (RFC 821): send to terminal and mailbox; no longer used.",
    "VERB": "VERB (sendmail): the client may ask for verbose delivery output.",
    "ONEX": "ONEX (sendmail): the client may promise one message transaction only.",
    "PIPECONNECT": "PIPECONNECT (Exim, draft-harris-early-pipe): on later connections the "
    "client may pipeline EHLO and the next commands without waiting for the greeting.",
    "PRDR": "PRDR (draft-hall-prdr): after the message data the server may reply to each "
    "recipient separately.",
    "XCLIENT": "XCLIENT (Postfix): a trusted proxy may pass on the original client's name and "
    "address.",
    "XFORWARD": "XFORWARD (Postfix): a trusted client may pass on the original client's "
    "details for logging.",
    "XVERP": "XVERP (Postfix): the client may ask for variable envelope return paths.",
    "XEXCH50": "XEXCH50: Microsoft Exchange 2000/2003 passes Exchange message properties "
    "between its servers.",
    "X-LINK2STATE": "X-LINK2STATE: Microsoft Exchange 2000/2003 link-state routing between "
    "its servers.",
    "X-ANONYMOUSTLS": "X-ANONYMOUSTLS: Microsoft Exchange TLS between its servers, without "
    "certificate authentication.",
}
