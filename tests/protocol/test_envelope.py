"""Envelope parameters: each one's words, each refusal naming the parameter, what each needs
the server to offer, and xtext."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtptui.protocol import commands
from smtptui.protocol.capabilities import Capabilities, parse_ehlo
from smtptui.protocol.envelope import (
    Envelope,
    RcptParams,
    parse_notify,
    parse_recipient_params,
    unxtext,
    xtext,
)
from smtptui.protocol.errors import CommandError
from smtptui.protocol.replies import ReplyParser

from support.fuzz import examples


def ehlo(*keywords: str) -> Capabilities:
    lines = ["mx.example", *keywords]
    text = "".join(
        f"250{'-' if n < len(lines) - 1 else ' '}{line}\r\n" for n, line in enumerate(lines)
    )
    [reply] = ReplyParser().feed(text.encode())
    return parse_ehlo(reply)


def mail(envelope: Envelope, size: int = 0, *, international: bool = False) -> list[str]:
    return envelope.mail_options(size, international=international, advertised=None)


# -- MAIL FROM ------------------------------------------------------------------------------


def test_every_mail_parameter_in_order() -> None:
    envelope = Envelope(
        size=1234, body="8bitmime", smtputf8=True, ret="hdrs", envid="QQ314159", requiretls=True
    )
    options = mail(envelope)
    assert options == [
        "SIZE=1234",
        "BODY=8BITMIME",
        "SMTPUTF8",
        "RET=HDRS",
        "ENVID=QQ314159",
        "REQUIRETLS",
    ]
    assert commands.mail("a@b", options) == (
        b"MAIL FROM:<a@b> SIZE=1234 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ314159 REQUIRETLS\r\n"
    )


def test_nothing_set_sends_nothing_and_is_empty() -> None:
    assert Envelope().empty
    assert mail(Envelope(), 500) == []
    assert Envelope().rcpt_options("bob@example.org") == []
    assert Envelope().needs() == {} and Envelope().unadvertised(None) == []


@pytest.mark.parametrize(
    "envelope",
    [
        Envelope(size=0),
        Envelope(body="7BIT"),
        Envelope(smtputf8=False),
        Envelope(ret="FULL"),
        Envelope(envid="x"),
        Envelope(requiretls=True),
        Envelope(notify=("NEVER",)),
        Envelope(orcpt={"a@b": "a@b"}),
        Envelope(rcpt={"a@b": RcptParams()}),
    ],
)
def test_anything_set_is_not_empty(envelope: Envelope) -> None:
    assert not envelope.empty


def test_automatic_size_only_when_the_server_offers_it() -> None:
    automatic = Envelope()
    assert automatic.mail_options(812, international=False, advertised=ehlo("SIZE 1000")) == [
        "SIZE=812"
    ]
    assert automatic.mail_options(812, international=False, advertised=ehlo("8BITMIME")) == []
    assert automatic.mail_options(812, international=False, advertised=None) == []


def test_an_explicit_size_is_always_sent() -> None:
    explicit = Envelope(size=99)
    for advertised in (None, ehlo(), ehlo("SIZE")):
        assert explicit.mail_options(812, international=False, advertised=advertised) == ["SIZE=99"]


@pytest.mark.parametrize("body", ["7bit", "8BITMIME", "BinaryMime", " 8bitmime "])
def test_body_values(body: str) -> None:
    assert mail(Envelope(body=body)) == [f"BODY={body.strip().upper()}"]


@pytest.mark.parametrize(
    ("smtputf8", "international", "sent"),
    [
        (None, False, False),
        (None, True, True),
        (True, False, True),
        (True, True, True),
        (False, True, False),
        (False, False, False),
    ],
)
def test_smtputf8_automatic_or_forced(
    smtputf8: bool | None, international: bool, sent: bool
) -> None:
    options = mail(Envelope(smtputf8=smtputf8), international=international)
    assert options == (["SMTPUTF8"] if sent else [])


@pytest.mark.parametrize("ret", ["full", "HDRS"])
def test_ret_values(ret: str) -> None:
    assert mail(Envelope(ret=ret)) == [f"RET={ret.upper()}"]


@pytest.mark.parametrize(
    ("envid", "sent"),
    [("id=1+2", "ENVID=id+3D1+2B2"), ("a b", "ENVID=a+20b"), ("x" * 100, "ENVID=" + "x" * 100)],
)
def test_envid_is_xtext(envid: str, sent: str) -> None:
    assert mail(Envelope(envid=envid)) == [sent]


@pytest.mark.parametrize(
    ("envelope", "field", "words"),
    [
        (Envelope(size=-1), "SIZE", "negative"),
        (Envelope(body="8BIT"), "BODY", "'8BIT' is not 7BIT, 8BITMIME or BINARYMIME"),
        (Envelope(body="7BIT X"), "BODY", "is not"),
        (Envelope(ret="ALL"), "RET", "'ALL' is not FULL or HDRS"),
        (Envelope(envid="x\ny"), "ENVID", "LF"),
        (Envelope(envid="x" * 101), "ENVID", "101 characters; at most 100"),
        (Envelope(envid="é"), "ENVID", "ASCII"),
    ],
)
def test_mail_refusals_name_the_parameter(envelope: Envelope, field: str, words: str) -> None:
    for build in (lambda: mail(envelope), envelope.needs, lambda: envelope.unadvertised(None)):
        with pytest.raises(CommandError) as info:
            build()
        assert info.value.field == field
        assert words in str(info.value)


# -- RCPT TO --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("notify", "expected"),
    [
        (("never",), "NOTIFY=NEVER"),
        (("SUCCESS",), "NOTIFY=SUCCESS"),
        (("success", "failure", "delay"), "NOTIFY=SUCCESS,FAILURE,DELAY"),
        (("DELAY", "FAILURE"), "NOTIFY=DELAY,FAILURE"),
    ],
)
def test_notify(notify: tuple[str, ...], expected: str) -> None:
    assert RcptParams(notify=notify).options() == [expected]


@pytest.mark.parametrize(
    ("orcpt", "expected"),
    [
        ("bob@example.org", "ORCPT=rfc822;bob@example.org"),
        ("rfc822;bob@example.org", "ORCPT=rfc822;bob@example.org"),
        ("rfc822;bob+tag@example.org", "ORCPT=rfc822;bob+2Btag@example.org"),
        ("b=b@example.org", "ORCPT=rfc822;b+3Db@example.org"),
        ("Bob <bob@example.org>", "ORCPT=rfc822;bob@example.org"),
        ("x400;c=US;a=X", "ORCPT=x400;c+3DUS;a+3DX"),
    ],
)
def test_orcpt(orcpt: str, expected: str) -> None:
    assert RcptParams(orcpt=orcpt).options() == [expected]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        (RcptParams(notify=("ALWAYS",)), "'ALWAYS' is not NEVER"),
        (RcptParams(notify=("NEVER", "FAILURE")), "NEVER cannot be combined"),
        (RcptParams(notify=("",)), "is not NEVER"),
        (RcptParams(notify=("DELAY", "delay")), "twice"),
        (RcptParams(orcpt="rfc822;a\r\n@b"), "CR"),
        (RcptParams(orcpt="rfc 822;a@b"), "not an address type"),
        (RcptParams(orcpt="rfc822;a@b c@d"), "follows the address"),
        (RcptParams(orcpt="x400;"), "no address"),
    ],
)
def test_rcpt_refusals_name_the_parameter(params: RcptParams, words: str) -> None:
    with pytest.raises(CommandError) as info:
        params.options()
    assert info.value.field == ("NOTIFY" if params.notify else "ORCPT")
    assert words in str(info.value)


def test_rcpt_options_per_recipient_over_the_defaults() -> None:
    envelope = Envelope(
        notify=("FAILURE",),
        orcpt={"bob@example.org": "robert@example.org"},
        rcpt={"carol@example.org": RcptParams(("SUCCESS", "DELAY"), "x400;c=US")},
    )
    assert envelope.rcpt_options("bob@example.org") == [
        "NOTIFY=FAILURE",
        "ORCPT=rfc822;robert@example.org",
    ]
    assert envelope.rcpt_options("carol@example.org") == [
        "NOTIFY=SUCCESS,DELAY",
        "ORCPT=x400;c+3DUS",
    ]
    assert envelope.rcpt_options("dave@example.org") == ["NOTIFY=FAILURE"]
    assert commands.rcpt("bob@example.org", envelope.rcpt_options("bob@example.org")) == (
        b"RCPT TO:<bob@example.org> NOTIFY=FAILURE ORCPT=rfc822;robert@example.org\r\n"
    )


@pytest.mark.parametrize(
    ("text", "notify"),
    [
        ("", ()),
        ("  ", ()),
        ("never", ("NEVER",)),
        ("success, failure", ("SUCCESS", "FAILURE")),
        ("Delay,SUCCESS", ("DELAY", "SUCCESS")),
    ],
)
def test_parse_notify(text: str, notify: tuple[str, ...]) -> None:
    assert parse_notify(text) == notify


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("never,failure", "NEVER cannot be combined"),
        ("sucess", "'SUCESS' is not NEVER"),
        ("success,", "'' is not NEVER"),
        ("success failure", "'SUCCESS FAILURE' is not"),
        ("success\n", "LF"),
    ],
)
def test_parse_notify_refuses(text: str, words: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_notify(text)
    assert info.value.field == "NOTIFY"
    assert words in str(info.value)


# -- per-recipient parameters ----------------------------------------------------------------


def test_parse_recipient_params_one_line_each() -> None:
    text = (
        "bob@example.org NOTIFY=never\n"
        "\n"
        "  Carol <carol@example.org> orcpt=rfc822;list@example.org Notify=success,delay \n"
        "dave@example.org\tORCPT=dave@old.example\n"
    )
    assert parse_recipient_params(text) == {
        "bob@example.org": RcptParams(notify=("NEVER",)),
        "carol@example.org": RcptParams(("SUCCESS", "DELAY"), "rfc822;list@example.org"),
        "dave@example.org": RcptParams(orcpt="dave@old.example"),
    }
    assert parse_recipient_params("") == {}
    assert parse_recipient_params("\n  \n") == {}


def test_parse_recipient_params_feed_rcpt_options() -> None:
    rcpt = parse_recipient_params("carol@example.org NOTIFY=NEVER")
    envelope = Envelope(notify=("FAILURE",), rcpt=rcpt)
    assert envelope.rcpt_options("carol@example.org") == ["NOTIFY=NEVER"]
    assert envelope.rcpt_options("bob@example.org") == ["NOTIFY=FAILURE"]


def test_parse_recipient_params_an_address_with_equals_is_still_the_address() -> None:
    assert parse_recipient_params("a=b@example.org notify=delay") == {
        "a=b@example.org": RcptParams(notify=("DELAY",))
    }


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("bob@example.org", "line 1: bob@example.org has neither NOTIFY= nor ORCPT="),
        ("\nbob@example.org RET=FULL", "line 2: unknown parameter RET"),
        ("bob@example.org NOTIFY=", "line 1: NOTIFY has no value"),
        ("bob@example.org orcpt", "line 1: ORCPT has no value"),
        ("bob@example.org NOTIFY=never notify=delay", "line 1: NOTIFY is given twice"),
        ("bob@example.org NOTIFY=success, delay", "line 1: 'delay' is not NOTIFY="),
        ("NOTIFY=never", "line 1: no address before NOTIFY=never"),
        ("bob@ex ample.org NOTIFY=never", "line 1: address: 'ample.org' follows"),
        ("<bob@example.org NOTIFY=never", "line 1: address: '<bob@example.org' is not"),
        ("bob@example.org NOTIFY=always", "line 1: NOTIFY: 'ALWAYS' is not NEVER"),
        ("bob@example.org NOTIFY=never,delay", "line 1: NOTIFY: NEVER cannot be combined"),
        ("bob@example.org ORCPT=rfc 822;a@b", "line 1: '822;a@b' is not NOTIFY="),
        ("bob@example.org ORCPT=x_y;a", "line 1: ORCPT: 'x_y' is not an address type"),
        ("a@b.org NOTIFY=never\nb@b.org ORCPT=x@y\na@b.org ORCPT=x@y", "line 3: a@b.org is on"),
        ("a@b.org\x00 NOTIFY=never", "line 1: text: contains NUL"),
    ],
)
def test_parse_recipient_params_refuses_naming_the_line(text: str, words: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_recipient_params(text)
    assert info.value.field == "per recipient"
    assert words in str(info.value)


# -- what the server must offer -------------------------------------------------------------


def test_needs_names_each_parameter_and_its_extension() -> None:
    envelope = Envelope(
        size=1,
        body="8BITMIME",
        smtputf8=True,
        ret="FULL",
        envid="e",
        requiretls=True,
        notify=("NEVER",),
        orcpt={"a@b": "a@b"},
    )
    assert envelope.needs() == {
        "SIZE": "SIZE",
        "BODY": "8BITMIME",
        "SMTPUTF8": "SMTPUTF8",
        "RET": "DSN",
        "ENVID": "DSN",
        "REQUIRETLS": "REQUIRETLS",
        "NOTIFY": "DSN",
        "ORCPT": "DSN",
    }


@pytest.mark.parametrize(
    ("envelope", "international", "needs"),
    [
        (Envelope(body="7BIT"), False, {"BODY": "8BITMIME"}),
        (Envelope(body="binarymime"), False, {"BODY": "BINARYMIME"}),
        (Envelope(), True, {"SMTPUTF8": "SMTPUTF8"}),
        (Envelope(smtputf8=False), True, {}),
        (Envelope(rcpt={"a@b": RcptParams(orcpt="a@b")}), False, {"ORCPT": "DSN"}),
        (Envelope(rcpt={"a@b": RcptParams(("DELAY",))}), False, {"NOTIFY": "DSN"}),
    ],
)
def test_needs(envelope: Envelope, international: bool, needs: dict[str, str]) -> None:
    assert envelope.needs(international=international) == needs


def test_unadvertised_lists_what_the_server_did_not_offer() -> None:
    envelope = Envelope(size=10, ret="HDRS", requiretls=True, notify=("FAILURE",))
    assert envelope.unadvertised(None) == ["SIZE", "RET", "REQUIRETLS", "NOTIFY"]
    assert envelope.unadvertised(ehlo()) == ["SIZE", "RET", "REQUIRETLS", "NOTIFY"]
    assert envelope.unadvertised(ehlo("SIZE", "DSN")) == ["REQUIRETLS"]
    assert envelope.unadvertised(ehlo("size 100", "dsn", "REQUIRETLS")) == []
    assert Envelope().unadvertised(ehlo(), international=True) == ["SMTPUTF8"]
    assert Envelope().unadvertised(ehlo("SMTPUTF8"), international=True) == []


def test_binarymime_needs_chunking_too() -> None:
    binary = Envelope(body="BINARYMIME")
    assert binary.unadvertised(ehlo("BINARYMIME")) == ["BODY"]
    assert binary.unadvertised(ehlo("CHUNKING")) == ["BODY"]
    assert binary.unadvertised(ehlo("BINARYMIME", "CHUNKING")) == []
    assert Envelope(body="8BITMIME").unadvertised(ehlo("BINARYMIME", "CHUNKING")) == ["BODY"]


# -- xtext ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("QQ314159", "QQ314159"),
        ("a+b=c", "a+2Bb+3Dc"),
        ("with space", "with+20space"),
        ("tab\there", "tab+09here"),
        ("~!", "~!"),
        ("\x7f", "+7F"),
        ("é", "+C3+A9"),  # xtext encodes octets: UTF-8 first
        ("€", "+E2+82+AC"),
        ("", ""),
    ],
)
def test_xtext(value: str, encoded: str) -> None:
    assert xtext(value) == encoded
    assert unxtext(encoded) == value


def test_unxtext_keeps_what_is_not_utf8_and_takes_lowercase_hex() -> None:
    assert unxtext("a+ffb") == "a\udcffb"
    assert unxtext("+c3+a9") == "é"
    assert unxtext("a+2") == "a+2"  # not an escape: as it is


@settings(max_examples=examples(100))
@given(st.text(max_size=30))
def test_xtext_round_trips_and_is_printable_ascii_without_plus_or_equals(value: str) -> None:
    encoded = xtext(value)
    assert unxtext(encoded) == value
    assert all(33 <= ord(c) <= 126 and c != "=" for c in encoded)
    # Every "+" starts an escape of two uppercase hex digits: no ambiguity.
    for at in (n for n, c in enumerate(encoded) if c == "+"):
        assert all(c in "0123456789ABCDEF" for c in encoded[at + 1 : at + 3])
        assert len(encoded) >= at + 3


# -- any envelope ---------------------------------------------------------------------------

any_text = st.text(max_size=20)
notify_values = st.sampled_from(["NEVER", "SUCCESS", "FAILURE", "DELAY", "never", "x", ""])
envelopes = st.builds(
    Envelope,
    size=st.none() | st.integers(min_value=-5, max_value=10**12),
    body=st.none() | st.sampled_from(["7BIT", "8bitmime", "BINARYMIME", "8BIT", ""]) | any_text,
    smtputf8=st.none() | st.booleans(),
    ret=st.none() | st.sampled_from(["FULL", "hdrs", "NONE"]) | any_text,
    envid=st.none() | any_text,
    requiretls=st.booleans(),
    notify=st.lists(notify_values, max_size=3).map(tuple),
    orcpt=st.dictionaries(st.just("a@b"), st.sampled_from(["a@b", "x400;q", "a b"]) | any_text),
)


def assert_parameters(words: list[str]) -> None:
    """Each word is one parameter: no space, no control character, and the MAIL and RCPT
    builders take it."""
    for word in words:
        assert word and " " not in word
        assert not any(ord(c) < 32 or ord(c) == 127 for c in word)
    commands.mail("a@b", words)
    commands.rcpt("a@b", words)


@settings(max_examples=examples(150))
@given(envelope=envelopes, size=st.integers(min_value=0, max_value=10**9), intl=st.booleans())
def test_any_envelope_makes_parameters_or_an_error_naming_one(
    envelope: Envelope, size: int, intl: bool
) -> None:
    try:
        words = envelope.mail_options(size, international=intl, advertised=ehlo("SIZE"))
        words += envelope.rcpt_options("a@b")
        needed = envelope.needs(international=intl)
    except CommandError as error:
        assert error.field in {"SIZE", "BODY", "RET", "ENVID", "NOTIFY", "ORCPT"}
        return
    assert_parameters(words)
    assert set(needed) <= {word.partition("=")[0] for word in words}
    assert envelope.unadvertised(ehlo(*set(needed.values()), "CHUNKING")) == []
