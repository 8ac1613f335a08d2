"""What replies mean at the servers that send them: Gmail, Microsoft 365 and Outlook.com,
Yahoo, Postfix (with postscreen, postgrey and milter-greylist) and Exim.

A reply code says what kind of failure happened; the text says which one, and each provider
words its own. Every rule here was written from a real reply in
``tests/data/provider-replies.md`` and matches it by code, enhanced code and a phrase of the
text that only that server uses (or, for "Must issue a STARTTLS command first", that every
server uses). It says what the reply means there, the likely cause and the fix.

A fix may name a step of the session as ``{starttls}``, ``{auth}``, ``{ehlo}``,
``{connect}``, ``{rcpt}`` or a setting as ``{ehlo_name}``: the session fills in how to do it
(its key, its flag), which this layer does not know.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass

from smtptui.protocol.replies import Reply

_LEADING_CODE = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}[ \t]*")


@dataclass(frozen=True, slots=True)
class ProviderAdvice:
    """What one reply means at the server that sent it, why it came, and what to do."""

    who: str
    meaning: str
    cause: str
    fix: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A reply a server is known to send: its codes, its enhanced code and a phrase of it.

    ``codes`` empty matches any reply code; ``enhanced`` is a regular expression the
    enhanced code must match whole ("" for any, or none); ``text`` is searched in the
    reply's text (its lines joined by spaces, a repeated enhanced code taken off each line),
    ignoring case.
    """

    codes: tuple[int, ...]
    enhanced: str
    text: str
    advice: ProviderAdvice

    def matches(self, code: int, enhanced: str, text: str) -> bool:
        return (
            (not self.codes or code in self.codes)
            and (not self.enhanced or re.fullmatch(self.enhanced, enhanced) is not None)
            and re.search(self.text, text, re.IGNORECASE) is not None
        )


def _rule(
    who: str, codes: tuple[int, ...], enhanced: str, text: str, meaning: str, cause: str, fix: str
) -> Rule:
    return Rule(codes, enhanced, text, ProviderAdvice(who, meaning, cause, fix))


_ANY = "Any server"
_GMAIL = "Gmail"
_MICROSOFT = "Microsoft 365"
_OUTLOOK = "Outlook.com"
_MICROSOFT_ANY = "Microsoft 365 / Outlook.com"
_YAHOO = "Yahoo"
_POSTFIX = "Postfix"
_EXIM = "Exim"

_RETRY = "Wait and try again later; a mail server retries a 4xx reply by itself."

RULES: tuple[Rule, ...] = (
    # -- any server ----------------------------------------------------------------------
    _rule(
        _ANY,
        (530, 451, 550),
        "",
        r"must issue a starttls command first",
        "STARTTLS first; AUTH and mail are taken only over TLS.",
        "The connection is still plain text: EHLO was answered, but STARTTLS was not sent "
        "(or the security setting is plain).",
        "Send {starttls}, then EHLO again, then AUTH and MAIL.",
    ),
    # -- Gmail ---------------------------------------------------------------------------
    _rule(
        _GMAIL,
        (421,),
        r"4\.3\.0",
        r"temporary system problem",
        "a temporary problem on Google's side.",
        "Something failed inside Gmail; nothing you sent caused it.",
        _RETRY,
    ),
    _rule(
        _GMAIL,
        (421,),
        r"4\.4\.5",
        r"server busy, try again later",
        "the servers are busy and take no more mail for now.",
        "Load on Google's side.",
        _RETRY,
    ),
    _rule(
        _GMAIL,
        (421,),
        "",
        r"ip not in whitelist for rcpt domain",
        "the recipient's Google Workspace domain takes mail only from the IP addresses its "
        "administrator listed.",
        "The domain routes its mail through a gateway, and you connected from elsewhere.",
        "Send through the domain's own gateway (its MX records), or ask its administrator to "
        "list your IP address.",
    ),
    _rule(
        _GMAIL,
        (421,),
        "",
        r"tls required for rcpt domain",
        "the recipient's Google Workspace domain accepts mail only over TLS.",
        "Its administrator requires TLS for mail coming in, and this connection is plain text.",
        "Send {starttls} before MAIL, or connect with implicit TLS.",
    ),
    _rule(
        _GMAIL,
        (421,),
        r"4\.7\.0",
        r"try again later, closing connection",
        "your mail is deferred and the connection closed.",
        "Something you sent, or where it came from, looks suspicious to Gmail for now: an "
        "unusual amount of mail, a poor IP reputation or missing SPF and DKIM.",
        "Send less, authenticate your domain (SPF, DKIM, DMARC), and try again later.",
    ),
    _rule(
        _GMAIL,
        (421, 450, 550),
        r"[45]\.7\.28",
        r"unusual rate of (unsolicited )?(e-?)?mail|rate limited",
        "mail from your IP address (or domain) is rate-limited.",
        "Gmail saw an unusual amount of mail from this source in a short time.",
        "Send more slowly, spread mail over time, and make sure it is authenticated (SPF, "
        "DKIM); the limit lifts by itself.",
    ),
    _rule(
        _GMAIL,
        (421, 550),
        r"[45]\.7\.26",
        r"dmarc policy",
        "the message fails its sender domain's DMARC policy.",
        "Neither SPF nor DKIM passed for the domain in the From header (or they passed for "
        "another domain), and that domain publishes a DMARC policy of reject or quarantine.",
        "Send from a server the domain's SPF record lists, or sign with a DKIM key of the "
        "From domain.",
    ),
    _rule(
        _GMAIL,
        (421, 550),
        r"[45]\.7\.26",
        r"gmail requires all senders to authenticate",
        "mail whose sender is not authenticated is refused (5xx) or slowed down (4xx).",
        "The message passed neither SPF nor DKIM.",
        "Publish an SPF record that lists this server, or sign the mail with DKIM.",
    ),
    _rule(
        _GMAIL,
        (450,),
        r"4\.2\.1",
        r"receiving (e-?)?mail too quickly",
        "the recipient is getting mail faster than Gmail allows.",
        "Too many messages to this one mailbox in a short time.",
        _RETRY,
    ),
    _rule(
        _GMAIL,
        (450,),
        "",
        r"peak smtp relay limit exceeded",
        "the Google Workspace SMTP relay's sending limit for this customer is reached.",
        "The organisation sent more mail through smtp-relay.gmail.com than its limit allows.",
        "Send less at once; the limit resets by itself. Try again later.",
    ),
    _rule(
        _GMAIL,
        (451,),
        r"4\.4\.2",
        r"timeout - closing connection",
        "the connection was closed because nothing came for too long.",
        "The client was idle between commands (stepping by hand is slow for Gmail).",
        "{connect} again and send the next commands sooner.",
    ),
    _rule(
        _GMAIL,
        (452, 552),
        r"[45]\.2\.2",
        r"out of storage space|over quota",
        "the recipient's mailbox is full.",
        "The recipient has used all of their storage.",
        "Try again later, or reach the recipient another way so they can make room.",
    ),
    _rule(
        _GMAIL,
        (454,),
        "",
        r"too many login attempts",
        "AUTH is refused for now: too many attempts to log in.",
        "Repeated failed logins (often a wrong or old password) from this client or IP.",
        "Wait before trying again, and check the credentials first: Gmail needs an app "
        "password or OAuth for SMTP.",
    ),
    _rule(
        _GMAIL,
        (501,),
        "",
        r"empty helo/ehlo argument not allowed",
        "EHLO or HELO needs a name.",
        "EHLO was sent without the client's host name.",
        "Set {ehlo_name} to this machine's host name, then {connect} again.",
    ),
    _rule(
        _GMAIL,
        (503,),
        "",
        r"^rcpt first\.",
        "a recipient is needed before DATA.",
        "DATA (or BDAT) was sent before any RCPT TO was accepted.",
        "Add a recipient with {rcpt}, then send DATA.",
    ),
    _rule(
        _GMAIL,
        (523, 454),
        "",
        r"no commands allowed to pipeline after starttls",
        "the session was closed: a command came in the same write as STARTTLS.",
        "The client sent commands after STARTTLS before the TLS handshake (RFC 3207 forbids it).",
        "Send {starttls} alone, wait for its 220 and the handshake, then send EHLO.",
    ),
    _rule(
        _GMAIL,
        (535,),
        r"5\.7\.(8|80|1)",
        r"username and password not accepted",
        "the username or password was not accepted.",
        "Gmail does not take an account's normal password over SMTP: with 2-Step "
        "Verification on it needs an app password; otherwise sign in with OAuth.",
        "Turn on 2-Step Verification and make an app password (myaccount.google.com, App "
        "passwords) to use as the password, or authenticate with OAuth (XOAUTH2 or "
        "OAUTHBEARER with an access token).",
    ),
    _rule(
        _GMAIL,
        (534, 535),
        "",
        r"application-specific password required",
        "this account needs an app password.",
        "The account has 2-Step Verification on, so its normal password cannot be used for SMTP.",
        "Make an app password (myaccount.google.com, App passwords) and use it as the "
        "password, or authenticate with OAuth (XOAUTH2 or OAUTHBEARER).",
    ),
    _rule(
        _GMAIL,
        (334,),
        "",
        r'^\{.*"status"\s*:\s*"\d+".*mail\.google\.com',
        "the OAuth token was refused; the error (JSON, in this base64 challenge) asks the "
        "client to end the exchange.",
        "The access token is expired or revoked, lacks the https://mail.google.com/ scope, or "
        "belongs to another user than the one named; or an XOAUTH2 token went to OAUTHBEARER "
        "(or the other way round).",
        "Answer with an empty line (Gmail then sends 535 5.7.8), get a fresh token with the "
        "https://mail.google.com/ scope for this user, and {auth} again with the mechanism it "
        "was made for.",
    ),
    _rule(
        _ANY,
        (334,),
        "",
        r'^\{.*"status"\s*:',
        "the OAuth token was refused; the error (JSON in this base64 challenge, RFC 7628) "
        "asks the client to end the exchange.",
        "The access token is expired, revoked, for another user, or lacks the scope the "
        "server needs (the JSON's status and scope say which).",
        "Answer with an empty line to get the final reply, then {auth} again with a fresh token.",
    ),
    _rule(
        _GMAIL,
        (550,),
        r"5\.1\.1",
        r"the email account that you tried to reach does not exist",
        "no account has this address.",
        "A typo in the recipient, or an account that was deleted.",
        "Check the address for typos or spaces.",
    ),
    _rule(
        _GMAIL,
        (550,),
        r"5\.2\.1",
        r"the email account that you tried to reach is (inactive|disabled)",
        "the account exists but is disabled or inactive.",
        "Google suspended the account, or it has not been used for a long time.",
        "Reach the recipient another way; retrying will not help.",
    ),
    _rule(
        _GMAIL,
        (550,),
        r"5\.7\.1",
        r"violates .* email policy|gcdp",
        "a rule set by the recipient's Google Workspace administrator refused the message.",
        "The domain's own policy (content, sender or attachment rule) matched this message.",
        "Ask the recipient's administrator which rule refused it.",
    ),
    _rule(
        _GMAIL,
        (550,),
        r"5\.7\.1",
        r"missing a valid message-id",
        "messages without a valid Message-ID header are refused.",
        "The message has no Message-ID header, or a malformed one.",
        "Add a Message-ID header (the Compose pane and smtptui run add one; a message typed "
        "by hand needs its own).",
    ),
    _rule(
        _GMAIL,
        (552,),
        r"5\.(3\.4|2\.3)",
        r"exceeded google's message size limits",
        "the message is larger than Gmail accepts (about 25 MB, encoding included).",
        "Attachments grow by a third when base64-encoded.",
        "Send a smaller message, or a link to the file.",
    ),
    _rule(
        _GMAIL,
        (554,),
        r"5\.6\.0",
        r"(email|mail) message is malformed",
        "the message was refused as malformed.",
        "Broken headers or MIME structure, bare CR or LF line endings, or lines over 998 bytes.",
        "Check the message in the preview: header syntax, MIME boundaries, line endings.",
    ),
    _rule(
        _GMAIL,
        (220,),
        "",
        r"mx\.google\.com esmtp",
        "this is the incoming mail server (an MX), not the submission server.",
        "It takes mail for Gmail and Google Workspace addresses on port 25, with no AUTH.",
        "To send as a Gmail user, connect to smtp.gmail.com port 587 (STARTTLS) or 465 "
        "(implicit TLS) and authenticate.",
    ),
    _rule(
        _GMAIL,
        (221,),
        "",
        r"closing connection .*gsmtp",
        "goodbye: the server closes the connection.",
        "The normal answer to QUIT.",
        "Nothing to fix; {connect} again to start a new session.",
    ),
    # -- Microsoft 365 and Outlook.com -------------------------------------------------------
    _rule(
        _MICROSOFT,
        (550,),
        r"5\.7\.708",
        r"traffic not accepted from this ip",
        "mail from this IP address is refused.",
        "The IP has a poor reputation, typical of new tenants or shared cloud addresses.",
        "Send through a relay with a good reputation (or a Microsoft 365 connector); a new "
        "tenant is limited until it has a sending history.",
    ),
    _rule(
        _MICROSOFT,
        (550,),
        r"5\.7\.705",
        r"tenant has exceeded threshold",
        "the sending tenant is blocked.",
        "Too much spam or bulk mail came from the organisation, often from a compromised account.",
        "An administrator must find and secure the compromised accounts, then ask Microsoft "
        "support to lift the block.",
    ),
    _rule(
        _MICROSOFT_ANY,
        (550,),
        r"5\.7\.6([0-3]\d|4[0-9])",
        r"banned sending ip",
        "your sending IP address is on Microsoft's block list.",
        "Spam or a poor reputation from this IP address.",
        "Ask for removal at https://sender.office.com/ (the delist portal), after fixing "
        "whatever sent the spam.",
    ),
    _rule(
        _MICROSOFT,
        (550,),
        r"5\.7\.50[1-3]",
        r"spam abuse detected|access denied",
        "the sender is blocked for spam.",
        "The sending account or tenant sent mail Microsoft took for spam, often because the "
        "account was compromised.",
        "An administrator must secure the account, then release it (Defender portal, "
        "Restricted entities).",
    ),
    _rule(
        _MICROSOFT,
        (550,),
        r"5\.4\.1",
        r"recipient address rejected: access denied",
        "the recipient is refused: it is not a mailbox in this organisation.",
        "The address does not exist (directory-based edge blocking), or the domain is not one "
        "the tenant accepts.",
        "Check the address; if it is right, the recipient's administrator must add it or the "
        "domain (accepted domains).",
    ),
    _rule(
        _MICROSOFT,
        (550,),
        r"5\.1\.10",
        r"recipientnotfound",
        "the recipient cannot be found.",
        "No mailbox, contact or group has this address in the recipient's organisation.",
        "Check the address for typos; the recipient's administrator can tell whether it moved.",
    ),
    _rule(
        _MICROSOFT,
        (530,),
        r"5\.7\.57",
        r"client was not authenticated to send anonymous mail",
        "the submission server needs AUTH before MAIL FROM.",
        "smtp.office365.com (port 587) takes mail only from authenticated users; MAIL was sent "
        "without AUTH.",
        "Send {starttls}, then {auth} with the mailbox's address and password or token "
        "before MAIL. To send without AUTH, use the domain's MX (direct send) on port 25.",
    ),
    _rule(
        _MICROSOFT,
        (535,),
        r"5\.7\.139",
        r"smtpclientauthentication is disabled for the (tenant|mailbox)",
        "SMTP AUTH is disabled for the tenant or for this mailbox.",
        "Authenticated SMTP (SMTP AUTH) is off by default in new tenants, and an "
        "administrator can turn it off per mailbox; the password may well be right.",
        "An administrator enables it in the Microsoft 365 admin centre (the user, Mail, "
        "Manage email apps, Authenticated SMTP) or in PowerShell (Set-CASMailbox -Identity "
        "<user> -SmtpClientAuthenticationDisabled $false; for the tenant, Set-TransportConfig "
        "-SmtpClientAuthenticationDisabled $false); or authenticate with OAuth (XOAUTH2).",
    ),
    _rule(
        _MICROSOFT,
        (535,),
        r"5\.7\.139",
        r"basic authentication is disabled",
        "authentication with a password (basic authentication) is disabled.",
        "The tenant's security defaults or policy block basic authentication, so the "
        "password is refused even when it is right.",
        "Authenticate with OAuth (XOAUTH2 with an access token), or have an administrator "
        "allow SMTP AUTH for this mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled "
        "$false) with security defaults off.",
    ),
    _rule(
        _MICROSOFT,
        (535,),
        r"5\.7\.3",
        r"authentication unsuccessful",
        "the credentials were refused.",
        "A wrong username or password (the username is the full email address), or an "
        "account with MFA that cannot use a password here.",
        "Use the full address as the username and check the password; with MFA, use an app "
        "password or OAuth (XOAUTH2).",
    ),
    _rule(
        _MICROSOFT_ANY,
        (451, 421, 450),
        r"4\.7\.(5\d\d|6\d\d)",
        r"server busy|rate limited|ip reputation",
        "mail from your IP address is throttled.",
        "A new IP address or one with a poor reputation is held back to limit possible spam.",
        "Send less, keep SPF, DKIM and DMARC in order, and try again later; Microsoft retries "
        "are expected and the limit lifts as the IP earns a reputation.",
    ),
    _rule(
        _MICROSOFT,
        (432, 452, 451),
        r"4\.3\.2",
        r"storedrv\.deliver; recipient thread limit exceeded",
        "the recipient is getting too many messages at once.",
        "Many messages to the same mailbox are being delivered at the same time.",
        _RETRY,
    ),
    _rule(
        _OUTLOOK,
        (550,),
        r"5\.7\.515",
        r"does not meet the required authentication level",
        "the sending domain is not authenticated well enough.",
        "High-volume senders to Outlook.com, Hotmail and Live must pass SPF, DKIM and DMARC, "
        "aligned with the From domain.",
        "Publish SPF and DMARC records for the domain and sign with DKIM.",
    ),
    _rule(
        _OUTLOOK,
        (550,),
        "",
        r"part of their network is on our block list",
        "mail from your IP range is refused.",
        "Part of your provider's network is on Microsoft's block list (often residential or "
        "dynamic addresses).",
        "Send through your provider's mail server (its relay), or ask your provider to contact "
        "Microsoft about the block.",
    ),
    _rule(
        _OUTLOOK,
        (550,),
        "",
        r"^requested action not taken: mailbox unavailable$",
        "no mailbox has this address.",
        "At Outlook.com this reply to RCPT means the recipient does not exist (the words are "
        "RFC 5321's own, so other servers use them too).",
        "Check the address for typos.",
    ),
    # -- Yahoo -----------------------------------------------------------------------------
    _rule(
        _YAHOO,
        (421, 553, 554),
        "",
        r"\[tss?\d\d\].*permanently deferred",
        "all mail from your IP address is refused for now; retrying soon will not help.",
        "A poor reputation: complaints, spam or mail to unknown users from this IP.",
        "Fix what harms the reputation, check https://postmaster.yahooinc.com/error-codes, and "
        "ask Yahoo's sender support to look at the IP.",
    ),
    _rule(
        _YAHOO,
        (421,),
        "",
        r"\[tss?\d\d\].*temporarily deferred",
        "mail from your IP address is deferred.",
        "Unexpected volume, or users marking your mail as spam.",
        "Send more slowly, clean the mailing list, authenticate (SPF, DKIM, DMARC) and join "
        "Yahoo's complaint feedback loop; the deferral lifts by itself.",
    ),
    _rule(
        _YAHOO,
        (553, 554, 550, 421),
        "",
        r"\[bl\d\d\]",
        "the connection is refused: your IP address is on Spamhaus's block list.",
        "Spamhaus listed this IP for spam, or as a dynamic or residential address.",
        "Look the IP up at https://check.spamhaus.org/ and follow its steps for removal, or "
        "send through your provider's relay.",
    ),
    _rule(
        _YAHOO,
        (554, 550),
        r"5\.7\.9",
        r"yahoo requires all senders to authenticate",
        "the message is refused: the sender is not authenticated.",
        "The message passed neither SPF nor DKIM.",
        "Publish an SPF record that lists this server, or sign the mail with DKIM.",
    ),
    _rule(
        _YAHOO,
        (554,),
        r"5\.7\.9",
        r"message not accepted for policy reasons",
        "the message is refused for policy reasons.",
        "Its content, its sender's reputation, or missing authentication.",
        "Check SPF, DKIM and DMARC and the content, then see "
        "https://postmaster.yahooinc.com/error-codes.",
    ),
    _rule(
        _YAHOO,
        (554,),
        "",
        r"\[ph01\]",
        "the message is refused for what it contains.",
        "The content or its links look like spam or phishing to Yahoo.",
        "Review the content and its links, and make sure the mail is authenticated.",
    ),
    _rule(
        _YAHOO,
        (554, 550),
        "",
        r"doesn't have a yahoo\.com account",
        "no account has this address.",
        "A typo in the recipient, or a closed account.",
        "Check the address.",
    ),
    _rule(
        _YAHOO,
        (421, 451),
        "",
        r"excessive unknown recipients",
        "your IP address is deferred: it sent to too many addresses that do not exist.",
        "An old mailing list, a dictionary attack, or an open relay on your side.",
        "Remove unknown addresses from your lists and make sure your server is not an open relay.",
    ),
    _rule(
        _YAHOO,
        (421,),
        "",
        r"^resources temporarily unavailable\. please try again later",
        "no mail is taken from you now.",
        "Load on Yahoo's side, or a deferral because of your IP's reputation.",
        _RETRY,
    ),
    _rule(
        _YAHOO,
        (250,),
        "",
        r"^ok dirdel$",
        "not an error: the message was accepted.",
        "Yahoo's usual answer to the end of the message.",
        "Nothing to fix; whether it reaches the inbox is decided after.",
    ),
    _rule(
        _YAHOO,
        (552,),
        "",
        r"^message size exceeds maximum message size$",
        "the message is larger than Yahoo accepts.",
        "The SIZE given with MAIL FROM (or the message) is over Yahoo's limit.",
        "Send a smaller message, or a link to the file.",
    ),
    # -- Postfix and its add-ons --------------------------------------------------------------
    _rule(
        _POSTFIX,
        (554, 550, 454),
        "",
        r"relay access denied",
        "no relaying for you: the recipient is not local, and you may not send elsewhere.",
        "Mail to other domains needs AUTH (or a trusted network), and this session has none.",
        "{auth} first (on the submission port, 587), or send to the recipient domain's own MX.",
    ),
    _rule(
        _POSTFIX,
        (450, 550),
        "",
        r"client host rejected: cannot find your hostname",
        "your IP address is refused: its reverse DNS does not check out.",
        "Your IP has no PTR record, or its name does not resolve back to the IP "
        "(reject_unknown_client_hostname).",
        "Give the sending IP a PTR record whose name resolves to it, or send through a relay "
        "that has one.",
    ),
    _rule(
        _POSTFIX,
        (550, 450),
        "",
        r"recipient address rejected: user unknown in \w+ (recipient|mailbox) table",
        "no mailbox has this address.",
        "The address is not in the server's recipient table: a typo, or a removed user.",
        "Check the address.",
    ),
    _rule(
        _POSTFIX,
        (554, 553, 550),
        "",
        r"sender address rejected: access denied",
        "this sender address is refused by the server's access table.",
        "The server's administrator blocked the sender address or its domain.",
        "Use another sender address, or ask the administrator.",
    ),
    _rule(
        _POSTFIX,
        (554, 550),
        "",
        r"client host \[[^\]]*\] blocked using",
        "your IP address is refused: it is on a DNS block list.",
        "The list named after 'blocked using' has your IP address.",
        "Look the IP up on that list and ask for removal, or send through a relay.",
    ),
    _rule(
        _POSTFIX,
        (504, 404, 450, 550),
        "",
        r"helo command rejected: need fully-qualified hostname",
        "the EHLO name is refused: it is not a full host name.",
        "The name sent with EHLO has no dot (reject_non_fqdn_helo_hostname).",
        "Set {ehlo_name} to a fully qualified name (like mail.example.org), then {ehlo} again.",
    ),
    _rule(
        _POSTFIX,
        (421,),
        "",
        r"error: too many connections from",
        "no more connections from your IP address for now.",
        "Too many connections at once (or too quickly) from this client.",
        "Close other connections and try again later.",
    ),
    _rule(
        _POSTFIX,
        (421,),
        "",
        r"error: too many errors",
        "the session was closed after too many errors.",
        "Too many refused or unknown commands in this session (smtpd_hard_error_limit).",
        "{connect} again and fix the commands the server refused.",
    ),
    _rule(
        _POSTFIX,
        (452,),
        "",
        r"error: too many recipients",
        "no more recipients in this message.",
        "The message has more recipients than the server allows (smtpd_recipient_limit).",
        "Send the message as it is, then send the rest to the other recipients in a new "
        "transaction.",
    ),
    _rule(
        _POSTFIX,
        (421,),
        "",
        r"all server ports are busy",
        "postscreen has no free process to take your connection.",
        "The server is busy.",
        _RETRY,
    ),
    _rule(
        _POSTFIX,
        (552,),
        "",
        r"message size exceeds fixed limit|message file too big",
        "the message is larger than this server accepts.",
        "Its size is over the server's message_size_limit.",
        "Send a smaller message; the limit is in the SIZE the server's EHLO advertises.",
    ),
    _rule(
        "postgrey (Postfix)",
        (450, 451),
        "",
        r"greylisted, see https?://postgrey",
        "greylisting: the first message from this sender, recipient and IP is deferred.",
        "The server refuses unknown senders once, since spam software seldom retries.",
        "Try again after a few minutes; a mail server does that by itself.",
    ),
    _rule(
        "milter-greylist",
        (451, 450),
        "",
        r"greylisting in action",
        "greylisting: the first message from this sender, recipient and IP is deferred.",
        "The server refuses unknown senders once, since spam software seldom retries.",
        "Try again after the time it names; a mail server does that by itself.",
    ),
    # -- Exim ------------------------------------------------------------------------------
    _rule(
        _EXIM,
        (550,),
        "",
        r"^relay not permitted",
        "no relaying for you: the recipient is not local, and you may not send elsewhere.",
        "Mail to other domains needs AUTH (or a trusted host), and this session has none.",
        "{auth} first, or send to the recipient domain's own MX.",
    ),
    _rule(
        _EXIM,
        (554,),
        "",
        r"smtp synchronization error",
        "the session was dropped: a command came before the reply to the one before.",
        "The client pipelined without PIPELINING being offered, or spoke before the greeting.",
        "Wait for each reply; pipeline only after EHLO offers PIPELINING.",
    ),
    _rule(
        _EXIM,
        (421,),
        "",
        r"too many concurrent smtp connections",
        "no more connections now.",
        "Its limit on connections at once (in all, or from your IP address) is reached.",
        _RETRY,
    ),
    _rule(
        _EXIM,
        (451,),
        "",
        r"temporary local problem",
        "a problem of the server's own with this command.",
        "Something failed on the server (a lookup, the spool, a configuration error).",
        "Try again later; the server's administrator finds the cause in Exim's main log.",
    ),
    _rule(
        _EXIM,
        (550,),
        "",
        r"^unrouteable address",
        "mail to this recipient cannot be routed.",
        "The recipient's domain has no usable MX or address, or is not one this server handles.",
        "Check the domain part of the address.",
    ),
    _rule(
        _EXIM,
        (451, 550),
        "",
        r"sender verify callout|sender verify failed",
        "the sender address could not be verified.",
        "It asked the sender domain's MX whether the address exists, and got no answer (451) "
        "or a refusal (550).",
        "Use a sender address that can receive mail.",
    ),
    _rule(
        _EXIM,
        (550,),
        "",
        r"^administrative prohibition",
        "its rules forbid this command or address here.",
        "The server's ACL refused it; EXPN and VRFY are often refused this way.",
        "Nothing in the command will change this; ask the server's administrator.",
    ),
)
"""Every rule, most specific first; the first that matches a reply is its advice."""


def provider_advice(reply: Reply) -> ProviderAdvice | None:
    """What ``reply`` means at the server that sent it, if a rule knows it."""
    enhanced = str(reply.enhanced) if reply.enhanced is not None else ""
    text = _text(reply)
    for rule in RULES:
        if rule.matches(reply.code, enhanced, text):
            return rule.advice
    return None


def _text(reply: Reply) -> str:
    """The reply's lines as one text: a repeated enhanced code off each, joined by spaces;
    a 334's challenge decoded (an OAuth error is JSON in base64)."""
    if reply.code == 334 and len(reply.lines) == 1:
        try:
            return binascii.a2b_base64(reply.lines[0].strip(), strict_mode=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            pass
    lines = (line.decode("utf-8", "backslashreplace").strip() for line in reply.lines)
    return " ".join(_LEADING_CODE.sub("", line) for line in lines)
