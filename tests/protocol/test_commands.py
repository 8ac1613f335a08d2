"""Command builders: no control character smuggled in, one address per address field, one
CRLF per command, ESMTP parameters."""

from __future__ import annotations

import re
import smtplib
import string
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtptui.protocol import commands
from smtptui.protocol.commands import address, quote_address
from smtptui.protocol.envelope import Envelope, RcptParams
from smtptui.protocol.errors import CommandError

from support.fuzz import examples

FORBIDDEN = ("\r", "\n", "\0")
CONTROLS = (*map(chr, range(32)), "\x7f")
"""Every C0 control character and DEL: no form field may send one."""


def mail_options(**fields: Any) -> list[str]:
    """MAIL FROM's parameters for an envelope of ``fields``."""
    return Envelope(**fields).mail_options(0, international=False, advertised=None)


# Every builder that takes text, as the line it makes, with the field its error must name.
BUILDERS: dict[str, tuple[Callable[[str], bytes], str]] = {
    "helo": (commands.helo, "HELO name"),
    "ehlo": (commands.ehlo, "EHLO name"),
    "lhlo": (commands.lhlo, "LHLO name"),
    "mail": (commands.mail, "sender"),
    "rcpt": (commands.rcpt, "recipient"),
    "vrfy": (commands.vrfy, "VRFY address"),
    "expn": (commands.expn, "EXPN list"),
    "help": (commands.help, "HELP topic"),
    "auth mechanism": (commands.auth, "mechanism"),
    "auth initial response": (
        lambda v: commands.auth("PLAIN", v.encode("utf-8", "surrogatepass")),
        "SASL response",
    ),
    "sasl": (lambda v: commands.sasl(v.encode("utf-8", "surrogatepass")), "SASL response"),
    "line argument": (lambda v: commands.line("XTEST", v), "argument"),
    "line named field": (lambda v: commands.line("XTEST", v, field="my field"), "my field"),
    "line verb": (lambda v: commands.line(v or "X", "arg"), "command"),
    "line verb alone": (lambda v: commands.line(v or "X"), "command"),
    "mail parameter": (lambda v: commands.mail("a@b.example", [f"X={v}"]), "parameter"),
    "rcpt parameter": (lambda v: commands.rcpt("a@b.example", [f"X={v}"]), "parameter"),
    "ENVID": (lambda v: commands.mail("a@b.example", mail_options(envid=v)), "ENVID"),
    "ORCPT": (lambda v: commands.rcpt("a@b.example", RcptParams(orcpt=v).options()), "ORCPT"),
    "BODY": (lambda v: commands.mail("a@b.example", mail_options(body=v)), "BODY"),
    "RET": (lambda v: commands.mail("a@b.example", mail_options(ret=v)), "RET"),
    "NOTIFY": (
        lambda v: commands.rcpt("a@b.example", RcptParams(notify=(v,)).options()),
        "NOTIFY",
    ),
}

clean_text = st.text(max_size=40).filter(lambda s: not any(c in s for c in FORBIDDEN))

any_text = st.text(
    st.one_of(st.characters(), st.sampled_from(FORBIDDEN), st.characters(categories=["Cs"])),
    max_size=40,
)
"""Any text at all: CR, LF, NUL and lone surrogates often."""


@st.composite
def dirty_text(draw) -> str:
    """A string with at least one CR, LF or NUL somewhere in it."""
    before = draw(st.text(max_size=20))
    bad = draw(st.sampled_from(FORBIDDEN))
    after = draw(st.text(max_size=20))
    return before + bad + after


def assert_one_address(path: str) -> None:
    """``path`` is ``<address>`` and nothing else: no white space or ``>`` outside quoted
    strings, so no ESMTP parameter can follow it; and it is built again unchanged."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', path)
    assert bare.startswith("<") and bare.endswith(">")
    assert not re.search(r"[\s<>]", bare[1:-1]), path
    assert quote_address("address", path, null=True) == path


def assert_one_line(built: bytes) -> None:
    """``built`` is one command line: CRLF at its end and no other CR, LF or NUL."""
    assert built.endswith(b"\r\n")
    assert built.count(b"\r") == 1 and built.count(b"\n") == 1
    assert b"\0" not in built


@pytest.mark.parametrize("name", BUILDERS)
@settings(max_examples=examples(40))
@given(value=dirty_text())
def test_every_builder_refuses_cr_lf_nul_naming_the_field(name: str, value: str) -> None:
    build, field = BUILDERS[name]
    with pytest.raises(CommandError) as info:
        build(value)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


@pytest.mark.parametrize("name", BUILDERS)
@settings(max_examples=examples(60))
@given(value=any_text)
def test_any_text_makes_one_line_or_an_error_naming_the_field(name: str, value: str) -> None:
    build, field = BUILDERS[name]
    try:
        built = build(value)
    except CommandError as error:
        assert error.field == field
        return
    assert_one_line(built)


@settings(max_examples=examples(50))
@given(size=st.integers(), last=st.booleans())
def test_sizes_make_one_line_or_an_error_naming_the_field(size: int, last: bool) -> None:
    for build, field in (
        (lambda: commands.bdat(size, last), "BDAT size"),
        (lambda: commands.mail("a@b.example", mail_options(size=size)), "SIZE"),
    ):
        try:
            assert_one_line(build())
        except CommandError as error:
            assert error.field == field and size < 0
        else:
            assert size >= 0


@pytest.mark.parametrize("char", FORBIDDEN)
@pytest.mark.parametrize("name", BUILDERS)
def test_each_forbidden_character_is_refused(name: str, char: str) -> None:
    build, field = BUILDERS[name]
    with pytest.raises(CommandError) as info:
        build(f"bob{char}RSET")
    assert info.value.field == field


def test_error_names_the_character() -> None:
    for char, name in (("\r", "CR"), ("\n", "LF"), ("\0", "NUL")):
        with pytest.raises(CommandError, match=name):
            commands.helo(f"a{char}b")


def test_a_lone_surrogate_is_refused_naming_the_field() -> None:
    # What Python makes of bytes that are not UTF-8 in argv or a file name (surrogateescape).
    with pytest.raises(CommandError, match="surrogate") as info:
        commands.ehlo(b"client-\xff".decode("utf-8", "surrogateescape"))
    assert info.value.field == "EHLO name"


def test_command_error_is_a_value_error() -> None:
    assert issubclass(CommandError, ValueError)


@pytest.mark.parametrize("char", CONTROLS, ids=lambda char: f"0x{ord(char):02X}")
@pytest.mark.parametrize("name", BUILDERS)
def test_each_control_character_is_refused_naming_the_field(name: str, char: str) -> None:
    build, field = BUILDERS[name]
    with pytest.raises(CommandError) as info:
        build(f"bob{char}x")
    assert info.value.field == field


@pytest.mark.parametrize("char", CONTROLS, ids=lambda char: f"0x{ord(char):02X}")
def test_check_names_the_control_character_and_lets_a_tab_through_for_headers(char: str) -> None:
    with pytest.raises(CommandError, match=r"ESC \(0x1B\)"):
        commands.check("Subject", "\x1b[31mred")
    with pytest.raises(CommandError, match=r"DEL \(0x7F\)"):
        commands.check("Subject", "a\x7f")
    if char == "\t":
        assert commands.check("Subject", "a\tb", tab=True) == "a\tb"
    else:
        with pytest.raises(CommandError):
            commands.check("Subject", f"a{char}b", tab=True)


def test_the_raw_command_line_refuses_only_cr_lf_and_nul() -> None:
    odd = "XTEST \t\x1b\x7f\x01é"
    assert commands.raw_line(odd) == odd.encode("utf-8") + b"\r\n"
    for char, name in (("\r", "CR"), ("\n", "LF"), ("\0", "NUL")):
        with pytest.raises(CommandError, match=name) as info:
            commands.raw_line(f"NOOP{char}RSET")
        assert info.value.field == "raw command"
    with pytest.raises(CommandError, match="surrogate"):
        commands.raw_line(b"NOOP \xff".decode("utf-8", "surrogateescape"))


@settings(max_examples=examples(100))
@given(sender=any_text, recipient=any_text)
def test_mail_and_rcpt_lines_hold_one_address_or_refuse(sender: str, recipient: str) -> None:
    for build, text, verb, field in (
        (commands.mail, sender, b"MAIL FROM:", "sender"),
        (commands.rcpt, recipient, b"RCPT TO:", "recipient"),
    ):
        try:
            built = build(text)
        except CommandError as error:
            assert error.field == field
            continue
        assert_one_line(built)
        assert built.startswith(verb + b"<") and built.endswith(b">\r\n")
        assert_one_address(built[len(verb) : -2].decode("utf-8"))


def test_builders_exact_bytes() -> None:
    assert commands.helo("client.example") == b"HELO client.example\r\n"
    assert commands.ehlo("client.example") == b"EHLO client.example\r\n"
    assert commands.lhlo("client.example") == b"LHLO client.example\r\n"
    assert commands.mail("alice@example.org") == b"MAIL FROM:<alice@example.org>\r\n"
    assert commands.mail("") == b"MAIL FROM:<>\r\n"
    assert commands.rcpt("Bob <bob@example.org>") == b"RCPT TO:<bob@example.org>\r\n"
    assert commands.vrfy("postmaster") == b"VRFY postmaster\r\n"
    assert commands.expn("staff") == b"EXPN staff\r\n"
    assert commands.help() == b"HELP\r\n"
    assert commands.help("MAIL") == b"HELP MAIL\r\n"
    assert commands.auth("LOGIN") == b"AUTH LOGIN\r\n"
    assert commands.auth("PLAIN", b"AGFsaWNlAHg=") == b"AUTH PLAIN AGFsaWNlAHg=\r\n"
    assert commands.auth("PLAIN", b"=") == b"AUTH PLAIN =\r\n"
    assert commands.sasl(b"*") == b"*\r\n"
    assert commands.sasl(b"") == b"\r\n"
    assert commands.bdat(0, last=True) == b"BDAT 0 LAST\r\n"
    assert commands.bdat(83) == b"BDAT 83\r\n"
    assert commands.line("NOOP") == b"NOOP\r\n"
    assert commands.line("XCLIENT", "NAME=é") == "XCLIENT NAME=é\r\n".encode()
    assert commands.mail("a@b", ["SIZE=10", "BODY=8BITMIME"]) == (
        b"MAIL FROM:<a@b> SIZE=10 BODY=8BITMIME\r\n"
    )
    assert commands.rcpt("a@b", ["NOTIFY=NEVER"]) == b"RCPT TO:<a@b> NOTIFY=NEVER\r\n"
    for constant, text in [
        (commands.DATA, b"DATA\r\n"),
        (commands.RSET, b"RSET\r\n"),
        (commands.NOOP, b"NOOP\r\n"),
        (commands.QUIT, b"QUIT\r\n"),
        (commands.STARTTLS, b"STARTTLS\r\n"),
    ]:
        assert constant == text


def test_bdat_refuses_negative_size() -> None:
    with pytest.raises(CommandError) as info:
        commands.bdat(-1)
    assert info.value.field == "BDAT size"


def test_raw_sends_anything_exactly() -> None:
    assert (
        commands.raw(b"MAIL FROM:<a>\r\nRCPT TO:<b>\r\n\0") == b"MAIL FROM:<a>\r\nRCPT TO:<b>\r\n\0"
    )
    assert commands.raw("NOOP\r\n") == b"NOOP\r\n"


@pytest.mark.parametrize("option", ["", "SIZE=1 BODY=7BIT", "A B"])
def test_an_option_must_be_one_parameter(option: str) -> None:
    with pytest.raises(CommandError) as info:
        commands.mail("a@b", [option])
    assert info.value.field == "parameter"


# -- addresses ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "path"),
    [
        ("alice@example.org", "<alice@example.org>"),
        ("<alice@example.org>", "<alice@example.org>"),
        ("  alice@example.org  ", "<alice@example.org>"),
        ("Alice <alice@example.org>", "<alice@example.org>"),
        ('"Liddell, Alice" <alice@example.org>', "<alice@example.org>"),
        ("Alice B. Liddell<alice@example.org>", "<alice@example.org>"),
        ('"x y"@example.org', '<"x y"@example.org>'),
        ('"a\\"b"@example.org', '<"a\\"b"@example.org>'),
        ("user@[127.0.0.1]", "<user@[127.0.0.1]>"),
        ("user@[IPv6:2001:db8::1]", "<user@[IPv6:2001:db8::1]>"),
        ("postmaster", "<postmaster>"),
        ("root@build_host.example", "<root@build_host.example>"),  # a machine's name, as run's
        ("José <jose@exämple.org>", "<jose@exämple.org>"),
        ("δοκιμή@παράδειγμα.δοκιμή", "<δοκιμή@παράδειγμα.δοκιμή>"),
        ("<@relay.example:bob@example.org>", "<@relay.example:bob@example.org>"),
    ],
)
def test_an_address_field_takes_one_address_in_any_usual_form(typed: str, path: str) -> None:
    assert quote_address("recipient", typed) == path
    assert quote_address("sender", typed, null=True) == path
    assert commands.rcpt(typed) == f"RCPT TO:{path}\r\n".encode()
    assert commands.vrfy(typed) == f"VRFY {path[1:-1]}\r\n".encode()
    if "@relay" not in typed:  # smtplib's parseaddr drops a source route
        assert smtplib.quoteaddr(typed) == path


def test_the_null_sender_is_for_mail_from_only() -> None:
    assert commands.mail("") == commands.mail("<>") == commands.mail("  ") == b"MAIL FROM:<>\r\n"
    assert address("sender", "<>", null=True) == ""
    with pytest.raises(CommandError, match="null sender, for MAIL FROM only"):
        commands.rcpt("<>")
    for build, field in ((commands.rcpt, "recipient"), (commands.vrfy, "VRFY address")):
        with pytest.raises(CommandError, match="is empty") as info:
            build("")
        assert info.value.field == field


SMUGGLERS = [
    ("<a@example.org> NOTIFY=NEVER", "'NOTIFY=NEVER' follows the address <a@example.org>"),
    ("a@example.org NOTIFY=NEVER", "'NOTIFY=NEVER' follows the address"),
    ("<a@example.org> SIZE=1 BODY=8BITMIME", "'SIZE=1 BODY=8BITMIME' follows"),
    ("Bob <b@example.org> X-PARAM=1", "'X-PARAM=1' follows"),
    ("a@example.org, c@example.org", "', c@example.org' follows"),
    ("a@example.org c@example.org", "'c@example.org' follows"),
    ("a@example.org (Alice)", "'(Alice)' follows"),
    ("<a@example.org>>", "'>' follows"),
    ("<a@example.org", "is not an address"),
    ("@example.org", "is not an address"),
    ('"unclosed@example.org', "is not an address"),
    ("Name <>", "'<>' follows the address <Name>"),
    ("a\u00a0b@example.org", "U+00A0, which is not printable"),
    ("a@exa\u200bmple.org", "U+200B, which is not printable"),
    ("a@example.org\x85", "U+0085, which is not printable"),
    ("a@example.org\t", "TAB (0x09)"),
    ("a@example.org\x1b[0m", "ESC (0x1B)"),
]
"""Typed into an address field: each must be refused, and the error say why."""

ADDRESS_BUILDERS: dict[str, tuple[Callable[[str], bytes], str]] = {
    name: BUILDERS[name] for name in ("mail", "rcpt", "vrfy", "expn", "ORCPT")
}


@pytest.mark.parametrize(("typed", "words"), SMUGGLERS)
@pytest.mark.parametrize("name", ADDRESS_BUILDERS)
def test_an_address_field_refuses_anything_else_naming_the_field(
    name: str, typed: str, words: str
) -> None:
    build, field = ADDRESS_BUILDERS[name]
    with pytest.raises(CommandError) as info:
        build(typed)
    assert info.value.field == field
    assert words in str(info.value)


_ATOM_CHARS = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
_LABEL_CHARS = string.ascii_letters + string.digits + "-"

atoms = st.text(_ATOM_CHARS, min_size=1, max_size=8)
utf8_atoms = st.text(
    st.one_of(st.sampled_from(_ATOM_CHARS), st.characters(min_codepoint=0xA1, categories=["L"])),
    min_size=1,
    max_size=8,
)
mailboxes = st.builds(
    lambda local, domain: ".".join(local) + "@" + ".".join(domain),
    st.lists(st.one_of(atoms, utf8_atoms), min_size=1, max_size=3),
    st.lists(st.text(_LABEL_CHARS, min_size=1, max_size=8), min_size=1, max_size=3),
)
names = st.text(string.ascii_letters + " .", min_size=1, max_size=12).filter(str.strip)


@st.composite
def typed_addresses(draw) -> tuple[str, str]:
    """An address as someone might type it, in one of the accepted forms, and its mailbox."""
    mailbox = draw(mailboxes)
    form = draw(st.sampled_from(["{}", "<{}>", "{name} <{}>", '"{name}" <{}>']))
    return form.format(mailbox, name=draw(names)), mailbox


@settings(max_examples=examples(100))
@given(typed_addresses())
def test_typed_addresses_are_found_and_quote_as_smtplib_does(typed: tuple[str, str]) -> None:
    text, mailbox = typed
    assert address("recipient", text) == mailbox
    assert quote_address("recipient", text) == smtplib.quoteaddr(text) == f"<{mailbox}>"


@settings(max_examples=examples(100))
@given(
    typed_addresses(),
    st.text(st.characters(codec="utf-8", exclude_characters=","), min_size=1, max_size=20),
    st.sampled_from(list(ADDRESS_BUILDERS)),
)
def test_nothing_may_follow_an_address(typed: tuple[str, str], after: str, name: str) -> None:
    """An address, a space, then anything at all: refused, naming the field."""
    build, field = ADDRESS_BUILDERS[name]
    if not after.strip(" "):
        after += "x"
    with pytest.raises(CommandError) as info:
        build(f"{typed[0]} {after}")
    assert info.value.field == field


@settings(max_examples=examples(100))
@given(
    st.lists(atoms, min_size=1, max_size=3),
    st.lists(st.text(_LABEL_CHARS, min_size=1, max_size=8), min_size=1, max_size=3),
)
def test_plain_addresses_quote_as_smtplib_does(local: list[str], domain: list[str]) -> None:
    text = ".".join(local) + "@" + ".".join(domain)
    assert quote_address("recipient", text) == smtplib.quoteaddr(text)
