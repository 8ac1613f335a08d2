"""Explanations of reply codes and enhanced status codes, checked against real replies."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smtptui.protocol.codes import (
    EnhancedExplanation,
    explain,
    explain_code,
    explain_enhanced,
)
from smtptui.protocol.replies import EnhancedCode, Reply

from support.fixtures import (
    lines_to_wire,
    parse_replies,
    provider_blocks,
    provider_rows,
    wire_files,
    wire_replies,
)

STANDARD_CODES = [
    # RFC 5321 4.2
    *(211, 214, 220, 221, 250, 251, 252, 354, 421, 450, 451, 452, 455),
    *(500, 501, 502, 503, 504, 550, 551, 552, 553, 554, 555),
    # RFC 4954 (AUTH), RFC 3207 (STARTTLS), RFC 7504 (521, 556), RFC 5248 (523)
    *(235, 334, 432, 454, 530, 534, 535, 538, 521, 523, 556),
    # RFC 1985 (ETRN), RFC 2645 (ATRN), RFC 1845 (CHECKPOINT)
    *(253, 458, 459, 453, 355),
]

# Every detail in the IANA "Enumerated Status Codes" registry (RFC 3463 and later), by subject.
REGISTERED_DETAILS = {0: 0, 1: 10, 2: 4, 3: 6, 4: 7, 5: 6, 6: 10, 7: 30}

# Enhanced codes in provider-replies.md that are not in the IANA registry. Per the notes:
# Microsoft documents its own ranges (5.7.501-503, 5.7.606-649, 4.7.500-699, and others);
# Gmail's 2026 list prints 5.7.90 for what 2023's printed as 5.7.1.
PROVIDER_UNREGISTERED = {
    "5.7.90",
    "5.7.708",
    "5.7.705",
    "5.7.606",
    "5.7.501",
    "5.7.57",
    "5.7.139",
    "4.7.500",
    "4.7.650",
    "5.7.515",
}


def one_reply(data: bytes) -> Reply:
    (reply,) = parse_replies(data)
    return reply


@pytest.mark.parametrize("code", STANDARD_CODES)
def test_standard_codes_have_their_own_meaning(code: int) -> None:
    reply = one_reply(f"{code} text\r\n".encode())
    explanation = explain(reply)
    assert explanation.known
    assert explanation.meaning == explain_code(code)
    assert not explanation.meaning.startswith("Not a standard reply code")


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (404, ["4yz", "temporary failure", "x0z", "syntax"]),
        (299, ["2yz", "success", "x9z", "unspecified"]),
        (526, ["5yz", "permanent failure", "x2z", "connection"]),
        (357, ["3yz", "more input", "x5z", "mail system"]),
    ],
)
def test_unknown_codes_get_a_general_meaning_from_their_digits(code: int, words: list[str]) -> None:
    meaning = explain_code(code)
    assert meaning.startswith("Not a standard reply code. In general,")
    for word in words:
        assert word in meaning
    assert not explain(one_reply(f"{code} x\r\n".encode())).known


def test_enhanced_code_is_split_into_class_subject_and_detail() -> None:
    assert explain_enhanced(EnhancedCode(5, 1, 1)) == EnhancedExplanation(
        klass="Permanent failure",
        subject="Addressing status",
        detail="Bad destination mailbox address",
        description="The mailbox does not exist: the part before the @ is invalid.",
        registered=True,
    )
    assert explain_enhanced(EnhancedCode(4, 7, 1)).klass == "Persistent transient failure"
    assert explain_enhanced(EnhancedCode(2, 0, 0)).klass == "Success"


@pytest.mark.parametrize("klass", [2, 4, 5])
@pytest.mark.parametrize("subject", sorted(REGISTERED_DETAILS))
def test_every_registered_detail_is_known_and_the_next_one_is_not(klass: int, subject: int) -> None:
    last = REGISTERED_DETAILS[subject]
    for detail in range(last + 1):
        meaning = explain_enhanced(EnhancedCode(klass, subject, detail))
        assert meaning.registered, (klass, subject, detail)
        assert meaning.detail and meaning.description.endswith(".")
    beyond = explain_enhanced(EnhancedCode(klass, subject, last + 1))
    assert not beyond.registered


def test_unregistered_detail_falls_back_to_the_subject() -> None:
    meaning = explain_enhanced(EnhancedCode(5, 7, 139))
    assert not meaning.registered
    assert meaning.klass == "Permanent failure"
    assert meaning.subject == "Security or policy status"
    assert meaning.detail == "not registered"
    assert "not in the IANA registry" in meaning.description


def test_a_class_outside_2_4_5_is_not_registered() -> None:
    meaning = explain_enhanced(EnhancedCode(3, 1, 1))
    assert not meaning.registered
    assert meaning.klass == "Unknown class 3"


WIRE_FILES = wire_files()


@pytest.mark.parametrize("path", WIRE_FILES, ids=lambda p: p.stem)
def test_every_captured_reply_is_explained(path) -> None:
    replies = wire_replies(path)
    assert replies
    for reply in replies:
        explanation = explain(reply)
        assert explanation.known, reply
        assert explanation.enhanced == reply.enhanced
        if reply.enhanced is not None:
            assert explanation.enhanced_meaning.registered, reply
        lines = explanation.lines()
        assert lines[0] == f"{reply.code}: {explanation.meaning}"
        assert len(lines) == (2 if reply.enhanced else 1)


def test_captured_codes_read_as_the_readme_describes() -> None:
    (too_big,) = [
        r for r in wire_replies(*wire_files("opensmtpd-data-too-big.bin")) if r.code > 500
    ]
    explanation = explain(too_big)
    assert str(explanation.enhanced) == "5.3.4"
    assert explanation.enhanced_meaning.detail == "Message too big for system"
    assert explanation.code == 554

    (postfix_help,) = wire_replies(*wire_files("postfix-help.bin"))
    assert explain(postfix_help).lines() == [
        "500: Syntax error: command not recognized, or the line is too long.",
        "5.5.2: Permanent failure; Mail delivery protocol status; Syntax error. "
        "A command could not be interpreted.",
    ]

    (auth_fail,) = wire_replies(*wire_files("opensmtpd-auth-plain-fail.bin"))
    assert explain(auth_fail).enhanced is None
    assert explain(auth_fail).lines() == [f"535: {explain_code(535)}"]


ROWS = provider_rows()


def test_provider_table_has_80_rows() -> None:
    assert [row.number for row in ROWS] == list(range(1, 81))


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.number}-{row.who}-{row.code}")
def test_every_provider_reply_is_explained(row) -> None:
    reply = one_reply(row.wire())
    explanation = explain(reply)
    if row.code == 404:  # Postfix soft_bounce turns 504 into 404: not an RFC 5321 code.
        assert not explanation.known
        assert "4yz" in explanation.meaning
    else:
        assert explanation.known
    if row.enhanced is None:
        return
    assert str(explanation.enhanced) == row.enhanced
    assert explanation.enhanced_meaning.registered == (row.enhanced not in PROVIDER_UNREGISTERED)
    if not explanation.enhanced_meaning.registered:
        subject = explain_enhanced(explanation.enhanced).subject
        assert explanation.enhanced_meaning.subject == subject != ""


def test_provider_rows_with_no_enhanced_code() -> None:
    by_number = {row.number: row for row in ROWS}
    # Outlook's "SC-001" stands where an enhanced code would; it is not one.
    assert explain(one_reply(by_number[44].wire())).enhanced is None
    # Yahoo's qmail-style "(#4.1.8)" at the end of the text is found and explained.
    qmail = explain(one_reply(by_number[55].wire()))
    assert str(qmail.enhanced) == "4.1.8"
    assert qmail.enhanced_meaning.registered
    assert qmail.enhanced_meaning.detail == "Bad sender's system address"
    assert any("qmail" in note for note in qmail.notes)


def test_enhanced_code_followed_by_a_colon_is_found() -> None:
    # Yahoo's help page writes "554 5.7.9: Message not accepted for policy reasons".
    explanation = explain(one_reply(b"554 5.7.9: Message not accepted for policy reasons\r\n"))
    assert str(explanation.enhanced) == "5.7.9"
    assert any("colon" in note for note in explanation.notes)


@pytest.mark.parametrize(
    ("number", "code"),
    [(34, "5.1.10"), (33, "5.4.1"), (49, "5.7.2"), (51, "5.7.9"), (52, "5.7.9"), (15, "5.7.10")],
)
def test_provider_use_of_a_registered_code_is_noted(number: int, code: str) -> None:
    # The notes: "The documented enhanced code can differ ... match on the reply text".
    row = next(row for row in ROWS if row.number == number)
    explanation = explain(one_reply(row.wire()))
    assert str(explanation.enhanced) == code
    assert explanation.enhanced_meaning.registered
    (note,) = explanation.notes
    assert "IANA registry" in note
    assert note in explanation.lines()


def test_registered_meaning_without_a_provider_note_when_the_text_does_not_match() -> None:
    explanation = explain(one_reply(b"550 5.1.10 Recipient address has null MX\r\n"))
    assert explanation.notes == ()


def test_verbatim_examples_are_explained() -> None:
    blocks = provider_blocks()
    # The callout block was rewrapped by a bounce: its second line has no reply code.
    callout = [b for b in blocks if b[0].startswith("550-Callout")]
    assert len(callout) == 1 and not callout[0][1][:3].isdigit()
    replies = [r for b in blocks if b not in callout for r in parse_replies(lines_to_wire(b))]
    assert [r.code for r in replies] == [
        *(220, 250, 250, 550),
        *(220, 250, 220, 250, 535, 221),
        421,
        250,
    ]
    for reply in replies:
        explanation = explain(reply)
        assert explanation.known
        if explanation.enhanced is not None:
            assert explanation.enhanced_meaning.registered
    gmail_550 = explain(replies[3])
    assert str(gmail_550.enhanced) == "5.1.1"
    assert gmail_550.enhanced_meaning.detail == "Bad destination mailbox address"
    assert str(explain(replies[8]).enhanced) == "5.7.8"
    assert str(explain(replies[10]).enhanced) == "4.1.8"  # Yahoo 2004, qmail style


@given(
    code=st.integers(min_value=100, max_value=599),
    lines=st.lists(st.binary(max_size=40), max_size=5).map(tuple),
)
def test_explain_never_raises(code: int, lines: tuple[bytes, ...]) -> None:
    explanation = explain(Reply(code=code, lines=lines, raw=b""))
    assert explanation.lines()[0].startswith(f"{code}: ")


@given(st.integers(0, 9), st.integers(0, 999), st.integers(0, 999))
def test_explain_enhanced_never_raises(klass: int, subject: int, detail: int) -> None:
    meaning = explain_enhanced(EnhancedCode(klass, subject, detail))
    assert meaning.klass and meaning.subject and meaning.detail and meaning.description
