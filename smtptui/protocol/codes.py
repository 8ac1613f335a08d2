"""What SMTP reply codes and enhanced status codes mean, for the transcript's explanations.

Basic reply codes come from RFC 5321 section 4.2 and the RFCs that added codes (1845, 1985,
2645, 3207, 4954, 5248, 7504). Enhanced status codes come from RFC 3463 and the IANA
"Enumerated Status Codes" registry (RFC 3886, 4468, 4954, 5248, 6531, 6710, 7293, 7372, 7504,
7505, 8617, 8689 and draft-levine-mailbomb-header), up to X.7.30.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smtptui.protocol.replies import EnhancedCode, Reply

_REPLY_CODES: dict[int, str] = {
    211: "System status, or a reply to a request for help.",
    214: "Help message, meant for a human reader.",
    220: "Service ready: the greeting, or (after STARTTLS) go ahead with the TLS handshake, or"
    " (after XCLIENT) a new greeting: EHLO again.",
    221: "The server is closing the connection, as it does after QUIT.",
    235: "Authentication succeeded (RFC 4954).",
    250: "Requested action done.",
    251: "The recipient is not local; the server will forward the message.",
    252: "The server cannot verify the user, but will accept the message and try to deliver it.",
    253: "ETRN: delivery of the pending messages for that node has started (RFC 1985).",
    334: "Authentication goes on: the server sent a base64 challenge (maybe empty) and waits "
    "for the client's answer (RFC 4954).",
    354: "Send the message now; end it with a line holding only a dot.",
    355: "CHECKPOINT: the server gives the offset from which to resume the message (RFC 1845).",
    421: "Service not available: the server is closing the connection; try again later.",
    432: "A password transition is needed before this mechanism can be used (RFC 4954).",
    450: "Mailbox unavailable for now (busy, or blocked for policy reasons); try again later.",
    451: "Action aborted by a local error in processing; try again later.",
    452: "Action not taken: not enough storage, or too many recipients; try again later.",
    453: "ATRN: there is no mail waiting for the client (RFC 2645).",
    454: "Temporary failure: TLS is not available now (RFC 3207), or authentication failed for "
    "a temporary reason (RFC 4954).",
    455: "The server cannot accommodate the MAIL or RCPT parameters now.",
    458: "ETRN: the server cannot queue messages for that node (RFC 1985).",
    459: "ETRN: that node is not allowed (RFC 1985).",
    500: "Syntax error: command not recognized, or the line is too long.",
    501: "Syntax error in the command's parameters or arguments.",
    502: "Command not implemented.",
    503: "Bad sequence of commands: this command is not allowed at this point.",
    504: "A parameter of the command is not implemented (for AUTH: an unsupported mechanism).",
    521: "This host does not accept mail (RFC 7504).",
    523: "Encryption is needed first (the code RFC 5248 pairs with X.7.10).",
    530: "Access denied until the client authenticates (RFC 4954) or starts TLS (RFC 3207).",
    534: "The authentication mechanism is too weak for this user (RFC 4954).",
    535: "Authentication failed: the credentials are invalid (RFC 4954).",
    538: "This authentication mechanism is allowed only on an encrypted connection (RFC 4954).",
    550: "Action not taken: mailbox unavailable (not found, no access, or refused by policy).",
    551: "The recipient is not local; the server will not forward (it may suggest a path).",
    552: "Action aborted: storage allocation exceeded (usually the message is too large).",
    553: "Action not taken: mailbox name not allowed (for example, bad address syntax).",
    554: "Transaction failed (as a greeting: no SMTP service here).",
    555: "The MAIL or RCPT parameters are not recognized or not implemented.",
    556: "The recipient's domain does not accept mail (RFC 7504).",
}

_REPLY_CLASSES: dict[int, str] = {
    1: "a positive preliminary reply (not used by SMTP)",
    2: "success",
    3: "the server needs more input to go on",
    4: "a temporary failure: the same command may succeed later",
    5: "a permanent failure: repeating the command as it is will not help",
}

_REPLY_CATEGORIES: dict[int, str] = {
    0: "syntax",
    1: "information",
    2: "the connection",
    5: "the mail system",
}

_CLASSES: dict[int, str] = {
    2: "Success",
    4: "Persistent transient failure",
    5: "Permanent failure",
}

_SUBJECTS: dict[int, tuple[str, str]] = {
    0: ("Other or undefined status", "No further information about the subject is available."),
    1: ("Addressing status", "Something about the sender or recipient address caused this."),
    2: ("Mailbox status", "The mailbox exists, but something about it caused this."),
    3: ("Mail system status", "Something about the receiving mail system caused this."),
    4: ("Network and routing status", "Something about the network or routing caused this."),
    5: ("Mail delivery protocol status", "Something about the SMTP exchange caused this."),
    6: ("Message content or media status", "Something about the message content caused this."),
    7: ("Security or policy status", "Security or local policy caused this."),
}

_DETAILS: dict[tuple[int, int], tuple[str, str]] = {
    (0, 0): ("Other undefined status", "Only the class of the status is known."),
    (1, 0): ("Other address status", "Something about an address in the message caused this."),
    (1, 1): (
        "Bad destination mailbox address",
        "The mailbox does not exist: the part before the @ is invalid.",
    ),
    (1, 2): (
        "Bad destination system address",
        "The destination system (the part after the @) does not exist or cannot take mail.",
    ),
    (1, 3): ("Bad destination mailbox address syntax", "The recipient address is malformed."),
    (1, 4): (
        "Destination mailbox address ambiguous",
        "The address matches more than one recipient on the destination system.",
    ),
    (1, 5): ("Destination address valid", "The recipient address is valid."),
    (1, 6): (
        "Destination mailbox has moved, no forwarding address",
        "The address was valid once, but no longer takes mail.",
    ),
    (1, 7): ("Bad sender's mailbox address syntax", "The sender address is malformed."),
    (1, 8): (
        "Bad sender's system address",
        "The sender's domain does not exist or cannot take return mail.",
    ),
    (1, 9): (
        "Message relayed to non-compliant mailer",
        "The address was valid, but the message was relayed to a system that does not speak "
        "this protocol (RFC 3886).",
    ),
    (1, 10): (
        "Recipient address has null MX",
        "The recipient's domain publishes a null MX: it accepts no mail (RFC 7505).",
    ),
    (2, 0): ("Other or undefined mailbox status", "Something about the mailbox caused this."),
    (2, 1): (
        "Mailbox disabled, not accepting messages",
        "The mailbox exists but does not take messages, for now or for good.",
    ),
    (2, 2): ("Mailbox full", "The mailbox is over its quota or out of space."),
    (2, 3): (
        "Message length exceeds administrative limit",
        "The message is larger than this mailbox's size limit.",
    ),
    (2, 4): (
        "Mailing list expansion problem",
        "The address is a mailing list that could not be expanded.",
    ),
    (3, 0): (
        "Other or undefined mail system status",
        "The destination system normally takes mail, but something about it caused this.",
    ),
    (3, 1): ("Mail system full", "The mail system's storage is exhausted."),
    (3, 2): (
        "System not accepting network messages",
        "The host does not take messages now (shutdown, load, maintenance) or at all.",
    ),
    (3, 3): (
        "System not capable of selected features",
        "The destination does not support features requested for the message.",
    ),
    (3, 4): ("Message too big for system", "The message is larger than the per-message limit."),
    (3, 5): (
        "System incorrectly configured",
        "The system is not configured in a way that lets it accept this message.",
    ),
    (3, 6): (
        "Requested priority was changed",
        "The message was accepted, but not with the priority requested (RFC 6710).",
    ),
    (4, 0): ("Other or undefined network or routing status", "Something went wrong on the way."),
    (4, 1): ("No answer from host", "The outbound connection attempt was not answered."),
    (4, 2): (
        "Bad connection",
        "The connection was made but the transaction could not be completed (time-out or poor "
        "connection quality).",
    ),
    (4, 3): (
        "Directory server failure",
        "A directory server, such as DNS, was unavailable.",
    ),
    (4, 4): ("Unable to route", "The next hop for the message could not be determined."),
    (4, 5): ("Mail system congestion", "The mail system is congested."),
    (4, 6): ("Routing loop detected", "The message was forwarded too many times."),
    (4, 7): ("Delivery time expired", "The message was considered too old."),
    (5, 0): (
        "Other or undefined protocol status",
        "Something was wrong with the SMTP exchange.",
    ),
    (5, 1): ("Invalid command", "A command was out of sequence or not supported."),
    (5, 2): ("Syntax error", "A command could not be interpreted."),
    (5, 3): ("Too many recipients", "More recipients were given than can be delivered at once."),
    (5, 4): ("Invalid command arguments", "A valid command was given invalid arguments."),
    (5, 5): ("Wrong protocol version", "A protocol version mismatch could not be resolved."),
    (5, 6): (
        "Authentication Exchange line is too long",
        "An AUTH response was longer than the server accepts (RFC 4954).",
    ),
    (6, 0): ("Other or undefined media error", "Something about the content caused this."),
    (6, 1): ("Media not supported", "The message's media is not supported on this path."),
    (6, 2): (
        "Conversion required and prohibited",
        "The content must be converted to be delivered, and conversion is not allowed.",
    ),
    (6, 3): (
        "Conversion required but not supported",
        "The content must be converted to be forwarded, and that is not possible "
        "(for example 8-bit to 7-bit).",
    ),
    (6, 4): ("Conversion with loss performed", "The message was delivered, but lost data."),
    (6, 5): ("Conversion failed", "A required conversion of the content failed."),
    (6, 6): (
        "Message content not available",
        "The message content could not be fetched from a remote system (RFC 4468).",
    ),
    (6, 7): (
        "Non-ASCII addresses not permitted for that sender/recipient",
        "A MAIL or RCPT address is not ASCII, and that is not allowed here (RFC 6531).",
    ),
    (6, 8): (
        "UTF-8 string reply is required, but not permitted by the SMTP client",
        "The reply needs UTF-8 to show the mailbox name, and the client did not allow it "
        "(RFC 6531).",
    ),
    (6, 9): (
        "UTF-8 header message cannot be transferred to one or more recipients",
        "The message has UTF-8 headers and cannot reach some recipients (RFC 6531).",
    ),
    (6, 10): ("Deprecated duplicate of X.6.8", "Use X.6.8 instead (RFC 6531)."),
    (7, 0): (
        "Other or undefined security status",
        "Something related to security or policy caused this.",
    ),
    (7, 1): (
        "Delivery not authorized, message refused",
        "The sender is not authorized to send to this destination.",
    ),
    (7, 2): (
        "Mailing list expansion prohibited",
        "The sender may not send to this mailing list.",
    ),
    (7, 3): (
        "Security conversion required but not possible",
        "Converting between secure messaging protocols was needed and not possible.",
    ),
    (7, 4): (
        "Security features not supported",
        "Security features requested, such as an authentication mechanism, are not supported.",
    ),
    (7, 5): (
        "Cryptographic failure",
        "A key or other information needed to decrypt or "
        "validate the message was missing or invalid.",
    ),
    (7, 6): ("Cryptographic algorithm not supported", "A needed algorithm is not supported."),
    (7, 7): ("Message integrity failure", "The message was corrupted or altered."),
    (7, 8): (
        "Authentication credentials invalid",
        "Authentication failed: the credentials are wrong or insufficient (RFC 4954).",
    ),
    (7, 9): (
        "Authentication mechanism is too weak",
        "The server's policy requires a stronger authentication mechanism (RFC 4954).",
    ),
    (7, 10): (
        "Encryption needed",
        "A security layer such as TLS is needed for this authentication mechanism (RFC 5248).",
    ),
    (7, 11): (
        "Encryption required for requested authentication mechanism",
        "This authentication mechanism is allowed only on an encrypted connection (RFC 4954).",
    ),
    (7, 12): (
        "A password transition is needed",
        "The user must switch to this mechanism, usually by authenticating once with PLAIN "
        "(RFC 4954).",
    ),
    (7, 13): (
        "User account disabled",
        "The account is disabled; the user has to contact the administrator (RFC 5248).",
    ),
    (7, 14): (
        "Trust relationship required",
        "The server needs a configured trust relationship with a third party (RFC 5248).",
    ),
    (7, 15): (
        "Priority level is too low",
        "The message's priority is below the lowest the server accepts now (RFC 6710).",
    ),
    (7, 16): (
        "Message is too big for the specified priority",
        "The message is too large for its priority level (RFC 6710).",
    ),
    (7, 17): (
        "Mailbox owner has changed",
        "The recipient mailbox changed owner since the date the sender gave (RFC 7293).",
    ),
    (7, 18): (
        "Domain owner has changed",
        "The recipient's domain changed owner since the date the sender gave (RFC 7293).",
    ),
    (7, 19): (
        "RRVS test cannot be completed",
        "The server cannot check the Require-Recipient-Valid-Since date (RFC 7293).",
    ),
    (7, 20): ("No passing DKIM signature found", "The message has no valid DKIM signature."),
    (7, 21): (
        "No acceptable DKIM signature found",
        "The message has valid DKIM signatures, but none is acceptable.",
    ),
    (7, 22): (
        "No valid author-matched DKIM signature found",
        "No valid DKIM signature matches the author in the From header field.",
    ),
    (7, 23): ("SPF validation failed", "The SPF check of the sender failed (RFC 7372)."),
    (7, 24): ("SPF validation error", "The SPF check could not be completed (RFC 7372)."),
    (7, 25): (
        "Reverse DNS validation failed",
        "The client's IP address failed a reverse DNS check (RFC 7372).",
    ),
    (7, 26): (
        "Multiple authentication checks failed",
        "The message failed more than one authentication check, such as SPF and DKIM.",
    ),
    (7, 27): (
        "Sender address has null MX",
        "The sender's domain publishes a null MX, so it cannot receive replies (RFC 7505).",
    ),
    (7, 28): ("Mail flood detected", "The message looks like part of a flood of similar mail."),
    (7, 29): ("ARC validation failure", "The message failed ARC validation (RFC 8617)."),
    (7, 30): (
        "REQUIRETLS support required",
        "The message requires REQUIRETLS and no next hop offers it (RFC 8689).",
    ),
}

_PROVIDER_USAGE: tuple[tuple[str, str, str], ...] = (
    (
        "5.1.10",
        "recipientnotfound",
        "Microsoft 365 sends 5.1.10 for a recipient it cannot find; in the IANA registry "
        "X.1.10 means the recipient's domain has a null MX.",
    ),
    (
        "5.4.1",
        "recipient address rejected",
        "Microsoft 365 sends 5.4.1 when it rejects the recipient address; in the IANA "
        "registry X.4.1 means no answer from host.",
    ),
    (
        "5.7.2",
        "permanently deferred",
        "Yahoo sends 5.7.2 to refuse all mail from the sending IP address; in the IANA "
        "registry X.7.2 means mailing list expansion prohibited.",
    ),
    (
        "5.7.9",
        "yahoo",
        "Yahoo sends 5.7.9 for mail refused on policy or sender-authentication grounds; in "
        "the IANA registry X.7.9 means the AUTH mechanism is too weak.",
    ),
    (
        "5.7.10",
        "pipeline after starttls",
        "Gmail sends 5.7.10 when commands were pipelined after STARTTLS; in the IANA registry "
        "X.7.10 means encryption is needed.",
    ),
)
"""Known uses of registered codes with another meaning: code, text marker, note."""

_QMAIL_ENHANCED = re.compile(rb"\(#([245])\.(\d{1,3})\.(\d{1,3})\)\s*$")
_COLON_ENHANCED = re.compile(rb"^\s*([245])\.(\d{1,3})\.(\d{1,3}):")


@dataclass(frozen=True, slots=True)
class EnhancedExplanation:
    """The meaning of one enhanced status code, split into its three parts."""

    klass: str
    subject: str
    detail: str
    description: str
    registered: bool


@dataclass(frozen=True, slots=True)
class Explanation:
    """What a reply means: its basic code, its enhanced code if any, and notes.

    ``known`` is False when the basic code is not a standard one and ``meaning`` is only the
    general meaning of its digits.
    """

    code: int
    meaning: str
    known: bool
    enhanced: EnhancedCode | None
    enhanced_meaning: EnhancedExplanation | None
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """One line for the code, one for the enhanced code, then one per note."""
        lines = [f"{self.code}: {self.meaning}"]
        if self.enhanced is not None and self.enhanced_meaning is not None:
            e = self.enhanced_meaning
            lines.append(f"{self.enhanced}: {e.klass}; {e.subject}; {e.detail}. {e.description}")
        lines.extend(self.notes)
        return lines


def explain_code(code: int) -> str:
    """A one-sentence meaning of a basic reply code; unknown codes get their digits' meaning."""
    meaning = _REPLY_CODES.get(code)
    if meaning is not None:
        return meaning
    klass = _REPLY_CLASSES.get(code // 100, "an invalid class")
    category = _REPLY_CATEGORIES.get(code // 10 % 10, "an unspecified category")
    return (
        f"Not a standard reply code. In general, {code // 100}yz means {klass}, "
        f"and x{code // 10 % 10}z is about {category}."
    )


def explain_enhanced(code: EnhancedCode) -> EnhancedExplanation:
    """The registry meaning of an enhanced status code; unregistered ones get their subject's."""
    klass = _CLASSES.get(code.klass, f"Unknown class {code.klass}")
    subject, subject_description = _SUBJECTS.get(
        code.subject, (f"Unknown subject {code.subject}", "The subject is not defined.")
    )
    entry = _DETAILS.get((code.subject, code.detail))
    if entry is not None and code.klass in _CLASSES:
        detail, description = entry
        return EnhancedExplanation(klass, subject, detail, description, registered=True)
    return EnhancedExplanation(
        klass,
        subject,
        "not registered",
        f"{subject_description} This code is not in the IANA registry; its meaning is "
        "specific to the server, so read the text.",
        registered=False,
    )


def explain(reply: Reply) -> Explanation:
    """Explain a reply: its code, its enhanced code (wherever the server put it), and notes."""
    enhanced, where = _find_enhanced(reply)
    notes: list[str] = []
    if where:
        notes.append(f"The enhanced code {enhanced} is {where}.")
    enhanced_meaning = None
    if enhanced is not None:
        enhanced_meaning = explain_enhanced(enhanced)
        notes.extend(_provider_notes(str(enhanced), reply.text))
    return Explanation(
        code=reply.code,
        meaning=explain_code(reply.code),
        known=reply.code in _REPLY_CODES,
        enhanced=enhanced,
        enhanced_meaning=enhanced_meaning,
        notes=tuple(notes),
    )


def _find_enhanced(reply: Reply) -> tuple[EnhancedCode | None, str]:
    """The reply's enhanced code and, if it is not in the usual place, where it was found."""
    if reply.enhanced is not None or not reply.lines:
        return reply.enhanced, ""
    for pattern, line, where in (
        (_COLON_ENHANCED, reply.lines[0], "followed by a colon"),
        (_QMAIL_ENHANCED, reply.lines[-1], "at the end of the text, qmail style"),
    ):
        match = pattern.search(line)
        if match is not None and int(match[1]) == reply.code // 100:
            return EnhancedCode(int(match[1]), int(match[2]), int(match[3])), where
    return None, ""


def _provider_notes(code: str, text: str) -> list[str]:
    lowered = text.lower()
    return [note for known, marker, note in _PROVIDER_USAGE if known == code and marker in lowered]
