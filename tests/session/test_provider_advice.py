"""Advice that knows the providers, where the user sees it: under a reply in the transcript
(:func:`explanation`, what the transcript pane shows when an entry is expanded) and in the
error a refused step records.

"Generic" is precise here: the explanation of a reply that no provider's rule knows is what
its codes alone say, so its first line is the reply code's meaning (``550  Action not
taken…``). A specific explanation starts with the provider's name and what the reply means
there, then ``why`` (the likely cause) and ``fix``, and only then the code's meaning.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable

import pytest

from smtptui.engine import errors
from smtptui.protocol.codes import explain_code
from smtptui.protocol.providers import RULES
from smtptui.server import EmbeddedServer
from smtptui.session import (
    Authenticate,
    Connect,
    Ehlo,
    EntryKind,
    MailFrom,
    Risk,
    SessionController,
    SessionSettings,
    advice,
    explanation,
)
from smtptui.session.settings import Security

from support.events import received, record
from support.fixtures import lines_to_wire, parse_replies, provider_blocks, provider_rows
from support.scripted import ScriptedServer, dialogue

ROWS = provider_rows()

MS_5_7_139 = (
    b"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
    b"Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. "
    b"[AM0PR02CA0001.eurprd02.prod.outlook.com 2026-12-06T11:00:00.000Z 08DD1234]\r\n"
)


def explained(raw: bytes) -> list[str]:
    [entry] = record(received(raw))
    return explanation(entry)


def generic_first_line(code: int) -> str:
    return f"{code}  {explain_code(code)}"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.number}-{row.who}-{row.code}")
def test_every_collected_reply_is_explained_specifically(row) -> None:
    lines = explained(row.wire())  # a 2-line reply (row 17) arrives as 535- then 535 space
    assert lines[0] != generic_first_line(row.code), f"row {row.number} falls back to generic"
    who, why, fix = lines[:3]
    provider = who.split(": ")[0]
    assert provider == "Any server" or row.who.split()[0] in provider
    assert why.startswith("why  ") and fix.startswith("fix  ")
    assert lines[3] == generic_first_line(row.code)  # then what the codes alone say


def test_multi_line_failures_as_published_are_explained_specifically() -> None:
    blocks = [b for b in provider_blocks() if b[0].startswith(("220 mx.google", "220 smtp.g"))]
    failures = [r for b in blocks for r in parse_replies(lines_to_wire(b)) if r.code >= 400]
    assert [(r.code, len(r.lines)) for r in failures] == [(550, 4), (535, 2)]
    for reply in failures:
        assert explained(reply.raw)[0].startswith("Gmail: "), reply


def test_a_reply_no_rule_knows_gets_the_generic_explanation() -> None:
    lines = explained(b"550 5.1.1 <nobody@example.org>: Recipient address rejected\r\n")
    assert lines[0] == generic_first_line(550) and len(lines) == 3
    assert explained(b"250 OK\r\n") == [generic_first_line(250)]


def test_the_fix_names_the_key_and_runs_flag() -> None:
    lines = explained(b"530 5.7.0 Must issue a STARTTLS command first\r\n")
    assert lines[:3] == [
        "Any server: STARTTLS first; AUTH and mail are taken only over TLS.",
        "why  The connection is still plain text: EHLO was answered, but STARTTLS was not sent "
        "(or the security setting is plain).",
        "fix  Send STARTTLS (F4; smtptui run: --starttls), then EHLO again, then AUTH and MAIL.",
    ]


def test_every_fix_names_only_steps_the_session_knows() -> None:
    for rule in RULES:
        text = advice.fix(rule.advice)  # a step it does not know raises KeyError
        assert "{" not in text and "}" not in text, rule


def test_microsoft_5_7_139_in_the_transcript() -> None:
    who, why, fix, code, *_ = explained(MS_5_7_139)
    assert who == "Microsoft 365: SMTP AUTH is disabled for the tenant or for this mailbox."
    assert "the password may well be right" in why
    assert "Set-CASMailbox -Identity <user> -SmtpClientAuthenticationDisabled $false" in fix
    assert code == generic_first_line(535)


def test_an_auth_error_leads_with_the_providers_advice() -> None:
    error = errors.SMTPAuthenticationError(535, MS_5_7_139[4:-2])
    assert isinstance(error, smtplib.SMTPAuthenticationError)
    text = advice.explain(error, "AUTH")
    assert text.startswith("authentication failed: 535 5.7.139 Authentication unsuccessful")
    assert " — Microsoft 365: SMTP AUTH is disabled for the tenant or for this mailbox. " in text
    assert "Likely cause: " in text and "Fix: An administrator enables it" in text
    assert text.endswith(
        "(In general: check the username, password and mechanism.)"
    )  # then the generic


# -- real sessions -------------------------------------------------------------------------


async def test_mail_before_starttls_at_a_server_that_requires_it(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server(require_starttls=True)
    settings = SessionSettings(host=f"{server.host}:{server.port}", security=Security.NONE)
    controller = SessionController(settings)
    for action in (Connect(), Ehlo()):
        assert (await controller.run(action)).ok
    outcome = await controller.run(MailFrom("alice@example.org"))
    assert not outcome.ok
    assert outcome.error.startswith("MAIL FROM refused: 530 Must issue a STARTTLS command first")
    assert "Any server: STARTTLS first" in outcome.error
    assert "Send STARTTLS (F4; smtptui run: --starttls)" in outcome.error
    [reply] = [e for e in controller.transcript if e.kind is EntryKind.RECEIVED][-1:]
    assert explanation(reply)[0].startswith("Any server: STARTTLS first")


async def test_auth_refused_by_microsoft_365() -> None:
    answers = {"EHLO": b"250-outlook.example\r\n250 AUTH LOGIN PLAIN\r\n", "AUTH": MS_5_7_139}
    async with ScriptedServer(dialogue(answers)) as server:
        settings = SessionSettings(
            host=f"{server.host}:{server.port}",
            security=Security.NONE,
            username="alice@example.org",
            password="wonderland",
            mechanism="PLAIN",
        )
        controller = SessionController(settings)
        controller.accept(Risk.PLAINTEXT_AUTH)
        for action in (Connect(), Ehlo()):
            assert (await controller.run(action)).ok
        outcome = await controller.run(Authenticate())
    assert not outcome.ok
    assert "Microsoft 365: SMTP AUTH is disabled for the tenant or for this mailbox." in (
        outcome.error
    )
    [error] = [e for e in controller.transcript if e.kind is EntryKind.ERROR]
    assert error.text == outcome.error
    assert "wonderland" not in error.text
