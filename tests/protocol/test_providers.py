"""The providers' rules: each collected reply finds the rule for the server that sent it, the
issue's examples say what they must, and replies no rule was written for find none."""

from __future__ import annotations

import base64
import json

import pytest

from smtptui.protocol.providers import RULES, ProviderAdvice, Rule, provider_advice
from smtptui.protocol.replies import Reply

from support.fixtures import (
    lines_to_wire,
    parse_replies,
    provider_blocks,
    provider_rows,
    wire_files,
    wire_replies,
)

ROWS = provider_rows()

PROVIDERS = ("Gmail", "Microsoft", "Outlook.com", "Yahoo")
"""The providers' names: none of them may advise on a reply from our own captured MTAs."""


def advice(data: bytes) -> ProviderAdvice | None:
    [reply] = parse_replies(data)
    return provider_advice(reply)


def challenge(error: dict[str, str]) -> bytes:
    """A 334 whose challenge is ``error`` as JSON in base64, as an OAuth server sends it."""
    return b"334 " + base64.b64encode(json.dumps(error).encode()) + b"\r\n"


GMAIL_OAUTH_ERROR = challenge(
    {"status": "400", "schemes": "Bearer", "scope": "https://mail.google.com/"}
)
RFC_7628_ERROR = challenge(  # RFC 7628 3.2.2's example
    {
        "status": "invalid_token",
        "scope": "example_scope",
        "openid-configuration": "https://example.com/.well-known/openid-configuration",
    }
)

EXAMPLES: dict[str, bytes] = {
    "530 after EHLO (aiosmtpd, Postfix)": b"530 Must issue a STARTTLS command first\r\n",
    "530 5.7.0 after EHLO": b"530 5.7.0 Must issue a STARTTLS command first\r\n",
    "Gmail's OAuth error": GMAIL_OAUTH_ERROR,
    "an OAuth error (RFC 7628)": RFC_7628_ERROR,
    "Postfix 550 5.1.1": b"550 5.1.1 <bob@example.org>: Recipient address rejected: User "
    b"unknown in local recipient table\r\n",
}
"""Replies of the issue's examples that are not rows of the table."""


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.number}-{row.who}-{row.code}")
def test_every_collected_reply_has_the_rule_of_its_server(row) -> None:
    known = advice(row.wire())
    assert known is not None, f"row {row.number} has no rule"
    if known.who != "Any server":  # "Must issue a STARTTLS command first" is everyone's
        assert row.who.split()[0] in known.who
    assert known.meaning and known.cause and known.fix


def test_every_rule_is_met_by_a_collected_reply_or_an_example() -> None:
    replies = [reply for row in ROWS for reply in parse_replies(row.wire())]
    blocks = [b for b in provider_blocks() if not b[0].startswith("550-Callout")]  # rewrapped
    replies += [reply for block in blocks for reply in parse_replies(lines_to_wire(block))]
    replies += [reply for data in EXAMPLES.values() for reply in parse_replies(data)]
    met = {_first_rule(reply) for reply in replies}
    assert [rule for rule in RULES if rule not in met] == []


def _first_rule(reply: Reply) -> Rule | None:
    known = provider_advice(reply)
    return next((rule for rule in RULES if rule.advice is known), None)


# -- the examples --------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        EXAMPLES["530 after EHLO (aiosmtpd, Postfix)"],
        EXAMPLES["530 5.7.0 after EHLO"],
        next(row for row in ROWS if row.number == 16).wire(),  # Gmail's, with "- gsmtp"
    ],
)
def test_530_after_ehlo_is_starttls_first_at_any_server(data: bytes) -> None:
    known = advice(data)
    assert known is not None and known.who == "Any server"
    assert known.meaning.startswith("STARTTLS first")
    assert known.fix.startswith("Send {starttls}")  # the session names its key


def test_microsoft_5_7_139_smtp_auth_disabled() -> None:
    known = advice(
        b"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for "
        b"the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information. "
        b"[AM0PR02CA0001.eurprd02.prod.outlook.com]\r\n"
    )
    assert known is not None and known.who == "Microsoft 365"
    assert known.meaning == "SMTP AUTH is disabled for the tenant or for this mailbox."
    assert "admin centre" in known.fix
    assert "Set-CASMailbox -Identity <user> -SmtpClientAuthenticationDisabled $false" in known.fix
    assert "OAuth (XOAUTH2)" in known.fix
    basic = advice(next(row for row in ROWS if row.number == 36).wire())
    assert basic is not None and "basic authentication" in basic.meaning


def test_gmail_5_7_8_needs_an_app_password_or_oauth() -> None:
    [block] = [b for b in provider_blocks() if b[0].startswith("220 smtp.gmail.com")]
    failed = [r for r in parse_replies(lines_to_wire(block)) if r.code == 535]
    assert [len(reply.lines) for reply in failed] == [2]  # 535- then 535 space
    known = provider_advice(failed[0])
    assert known is not None and known.who == "Gmail"
    assert "2-Step Verification" in known.cause
    assert "app password" in known.fix and "OAuth (XOAUTH2 or OAUTHBEARER" in known.fix


def test_gmail_oauth_error_json_in_a_334() -> None:
    gmail = advice(GMAIL_OAUTH_ERROR)
    assert gmail is not None and gmail.who == "Gmail"
    assert "https://mail.google.com/ scope" in gmail.fix and "empty line" in gmail.fix
    assert "XOAUTH2 token went to OAUTHBEARER" in gmail.cause
    other = advice(RFC_7628_ERROR)
    assert other is not None and other.who == "Any server" and "RFC 7628" in other.meaning


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"421 4.7.0 [TS03] All messages from 192.0.2.1 permanently deferred\r\n", "for now"),
        (b"553 5.7.2 [TSS11] All messages from 192.0.2.1 will be permanently deferred\r\n", ""),
        (
            b"421 4.7.0 [TSS05] Messages from 192.0.2.1 temporarily deferred due to user "
            b"complaints\r\n",
            "deferred",
        ),
        (b"421 4.7.0 [TS02] Messages from 192.0.2.1 temporarily deferred\r\n", "deferred"),
    ],
)
def test_yahoo_ts_codes_tell_permanent_from_temporary(data: bytes, words: str) -> None:
    known = advice(data)
    assert known is not None and known.who == "Yahoo"
    permanent = b"permanently" in data
    assert ("retrying soon will not help" in known.meaning) == permanent
    assert words in known.meaning


# -- no false positives ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"250 OK\r\n",
        b"250 2.0.0 Ok: queued as 4Zx1Qd2Kq9z9sWv\r\n",
        b"550 5.1.1 no such user\r\n",
        b"535 5.7.8 Error: authentication failed: authentication failure\r\n",
        b"451 4.7.1 Greylisted, try again in 60 seconds\r\n",  # no greylister's own words
        b"334 VXNlcm5hbWU6\r\n",  # "Username:", base64 but not JSON
    ],
)
def test_replies_without_a_rule_get_no_advice(data: bytes) -> None:
    assert advice(data) is None


def test_a_postfix_dnsbl_reply_naming_spamhaus_is_not_yahoos() -> None:
    known = advice(  # Yahoo's [BL21] names Spamhaus too
        b"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org\r\n"
    )
    assert known is not None and known.who == "Postfix"


def test_postfix_550_5_1_1_is_postfix_not_gmail() -> None:
    known = advice(EXAMPLES["Postfix 550 5.1.1"])  # Gmail sends 550 5.1.1 too (row 19)
    assert known is not None and known.who == "Postfix"


@pytest.mark.parametrize("path", wire_files(), ids=lambda path: path.stem)
def test_our_captured_mtas_get_no_providers_advice(path) -> None:
    server = path.stem.split("-")[0]  # postfix, exim or opensmtpd
    for reply in wire_replies(path):
        known = provider_advice(reply)
        if known is not None:
            assert not any(name in known.who for name in PROVIDERS), (path.name, known)
            assert known.who.lower() == server, (path.name, known)
