"""EHLO capabilities, checked against smtplib's own parsing of the same bytes."""

from __future__ import annotations

import io
import re
import smtplib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtptui.protocol.capabilities import Capabilities, explain_extension, parse_ehlo
from smtptui.protocol.replies import Reply

from support.fixtures import lines_to_wire, parse_replies, provider_blocks, wire_files, wire_replies
from support.fuzz import examples


def smtplib_features(raw: bytes) -> dict[str, str]:
    """What smtplib.SMTP.ehlo() leaves in esmtp_features when the server sends ``raw``.

    The client is never connected: its reply file is the bytes themselves, read by smtplib's
    own getreply(), and the command it would send goes nowhere.
    """
    client = smtplib.SMTP(local_hostname="client.interop.test")
    client.file = io.BytesIO(raw)
    client.putcmd = lambda cmd, args="": None
    client.ehlo()
    return client.esmtp_features


def capabilities(path) -> Capabilities:
    (reply,) = wire_replies(path)
    return parse_ehlo(reply)


EHLO_FILES = wire_files("*-ehlo-plain.bin") + wire_files("*-ehlo-tls.bin")


def gmail_ehlo_replies() -> list[Reply]:
    """Gmail submission's two EHLO replies (before and after STARTTLS) in provider-replies.md."""
    (block,) = [b for b in provider_blocks() if b[0].startswith("220 smtp.gmail.com")]
    replies = [r for r in parse_replies(lines_to_wire(block)) if r.code == 250]
    assert len(replies) == 2
    return replies


def by_name(name: str) -> Capabilities:
    return capabilities(*wire_files(name))


@pytest.mark.parametrize("path", EHLO_FILES, ids=lambda p: p.stem)
def test_features_equal_smtplib_for_captured_ehlo(path) -> None:
    (reply,) = wire_replies(path)
    caps = parse_ehlo(reply)
    assert caps.features == smtplib_features(path.read_bytes())
    assert set(caps.features) == {ext.keyword.lower() for ext in caps.extensions}
    assert caps.hostname == f"{path.stem.split('-')[0]}.interop.test"
    assert len(caps.extensions) == len(reply.lines) - 1
    for ext in caps.extensions:
        assert ext.keyword == ext.keyword.upper()
        assert ext.explanation == explain_extension(ext.keyword, ext.params)


def test_features_equal_smtplib_for_gmail() -> None:
    for reply in gmail_ehlo_replies():
        caps = parse_ehlo(reply)
        assert caps.features == smtplib_features(reply.raw)
        assert caps.hostname == "smtp.gmail.com"
        assert caps.greeting == "at your service, [<ip>]"


def test_gmail_before_and_after_starttls() -> None:
    before, after = (parse_ehlo(r) for r in gmail_ehlo_replies())
    assert before.starttls and not after.starttls
    assert before.auth_mechanisms == ()
    assert after.auth_mechanisms == (
        "LOGIN",
        "PLAIN",
        "XOAUTH2",
        "PLAIN-CLIENTTOKEN",
        "OAUTHBEARER",
        "XOAUTH",
    )
    assert after.size == 35882577
    assert explain_extension("SIZE", ["35882577"]) == (
        "SIZE (RFC 1870): accepts messages up to 34.2 MiB (35,882,577 bytes)."
    )
    for caps in (before, after):
        assert caps.pipelining and caps.chunking and caps.smtputf8 and caps.eightbitmime
        assert caps.enhanced_status_codes and not caps.dsn


@pytest.mark.parametrize("server", ["postfix", "exim", "opensmtpd"])
def test_starttls_disappears_after_tls(server: str) -> None:
    plain, tls = by_name(f"{server}-ehlo-plain.bin"), by_name(f"{server}-ehlo-tls.bin")
    assert plain.starttls and plain.has("starttls")
    assert not tls.starttls and not tls.has("STARTTLS")


def test_postfix_facts() -> None:
    plain, tls = by_name("postfix-ehlo-plain.bin"), by_name("postfix-ehlo-tls.bin")
    assert plain.greeting == ""
    assert not plain.has("AUTH") and not plain.has("HELP")
    assert plain.auth_mechanisms == ()
    assert tls.auth_mechanisms == ("PLAIN", "LOGIN", "CRAM-MD5")
    assert tls.features["auth"] == " PLAIN LOGIN CRAM-MD5"  # smtplib's leading space
    assert plain.size == 10240000
    assert plain.has("VRFY") and plain.has("ETRN")
    assert plain.pipelining and plain.chunking and plain.smtputf8 and plain.dsn
    assert plain.eightbitmime and plain.enhanced_status_codes


def test_exim_facts() -> None:
    plain, tls = by_name("exim-ehlo-plain.bin"), by_name("exim-ehlo-tls.bin")
    assert plain.greeting == "Hello client.interop.test [127.0.0.1]"
    assert plain.auth_mechanisms == ("CRAM-MD5",)  # AUTH before TLS
    assert tls.auth_mechanisms == ("PLAIN", "LOGIN", "CRAM-MD5")
    assert plain.has("PIPECONNECT") and plain.has("PRDR")
    assert not plain.enhanced_status_codes
    assert plain.size == 52428800
    (size,) = [ext for ext in plain.extensions if ext.keyword == "SIZE"]
    assert size.params == ("52428800",)
    assert size.explanation == "SIZE (RFC 1870): accepts messages up to 50 MiB (52,428,800 bytes)."


def test_opensmtpd_facts() -> None:
    plain, tls = by_name("opensmtpd-ehlo-plain.bin"), by_name("opensmtpd-ehlo-tls.bin")
    assert plain.greeting == "Hello client.interop.test [127.0.0.1], pleased to meet you"
    for caps in (plain, tls):
        assert not caps.pipelining and not caps.chunking and not caps.smtputf8
    assert plain.auth_mechanisms == ()
    assert tls.auth_mechanisms == ("PLAIN", "LOGIN")
    assert plain.size == 36700160
    assert "35 MiB (36,700,160 bytes)" in explain_extension("SIZE", ["36700160"])


@pytest.mark.parametrize("server", ["postfix", "exim", "opensmtpd"])
def test_a_rejected_ehlo_advertises_nothing(server: str) -> None:
    (path,) = wire_files(f"{server}-ehlo-no-arg.bin")
    (reply,) = wire_replies(path)
    assert reply.code == 501
    caps = parse_ehlo(reply)
    assert caps == Capabilities(hostname="", greeting="", extensions=())
    assert caps.features == smtplib_features(path.read_bytes()) == {}
    assert caps.size is None and not caps.has("SIZE")


def ehlo(*lines: bytes) -> Reply:
    """An EHLO reply with these lines after ``host``, parsed from wire bytes."""
    body = [b"host greeting", *lines]
    raw = b"".join(
        b"250" + (b" " if i == len(body) - 1 else b"-") + line + b"\r\n"
        for i, line in enumerate(body)
    )
    (reply,) = parse_replies(raw)
    return reply


def test_oldstyle_auth_lines_are_merged_like_smtplib() -> None:
    reply = ehlo(b"AUTH LOGIN PLAIN", b"AUTH=LOGIN PLAIN", b"auth cram-md5 login")
    caps = parse_ehlo(reply)
    assert caps.features == smtplib_features(reply.raw)
    assert caps.features["auth"] == " LOGIN PLAIN LOGIN PLAIN cram-md5 login"
    assert caps.auth_mechanisms == ("LOGIN", "PLAIN", "CRAM-MD5")
    assert [ext.keyword for ext in caps.extensions] == ["AUTH", "AUTH", "AUTH"]


def test_size_edge_cases() -> None:
    assert parse_ehlo(ehlo(b"SIZE")).size is None
    assert parse_ehlo(ehlo(b"SIZE big")).size is None
    assert parse_ehlo(ehlo(b"SIZE 0")).size == 0
    assert parse_ehlo(ehlo(b"PIPELINING")).size is None
    assert parse_ehlo(ehlo(b"SIZE 1000 extra")).size == 1000
    assert explain_extension("SIZE") == explain_extension("SIZE", ["0"])
    assert "no fixed message size limit" in explain_extension("size", ["0"])
    assert "'big' is not a usable number" in explain_extension("SIZE", ["big"])
    assert explain_extension("SIZE", ["00"]) == explain_extension("SIZE", ["0"])
    huge = parse_ehlo(ehlo(b"SIZE " + b"9" * 5000))
    assert huge.size is None
    assert "not a usable number" in huge.extensions[0].explanation
    assert "up to 512 bytes (512 bytes)" in explain_extension("SIZE", ["512"])
    assert "up to 1.5 KiB (1,536 bytes)" in explain_extension("SIZE", ["1536"])
    assert "up to 2 GiB (2,147,483,648 bytes)" in explain_extension("SIZE", ["2147483648"])


def test_non_utf8_bytes_do_not_crash() -> None:
    reply = ehlo(b"X-\xffFOO bar\xfe", b"\xe9t\xe9", b"SIZE \xff", b"AUTH PL\xc3\xa9IN")
    caps = parse_ehlo(reply)
    assert caps.features == smtplib_features(reply.raw)
    assert caps.size is None
    (x,) = [ext for ext in caps.extensions if ext.keyword == "X-"]
    assert x.params == ("\\xffFOO", "bar\\xfe")
    assert caps.auth_mechanisms == ("PLÉIN",)


def test_lines_that_are_not_keywords_are_skipped_like_smtplib() -> None:
    reply = ehlo(b"", b"-DASH", b"   ", b"8BITMIME", b"_UNDERSCORE")
    caps = parse_ehlo(reply)
    assert caps.features == smtplib_features(reply.raw) == {"8bitmime": ""}
    assert [ext.keyword for ext in caps.extensions] == ["8BITMIME"]


@pytest.mark.parametrize(
    ("keyword", "params", "expected"),
    [
        (
            "AUTH",
            ["plain", "login"],
            "AUTH (RFC 4954): the client may authenticate; mechanisms: PLAIN, LOGIN.",
        ),
        ("AUTH", [], "AUTH (RFC 4954): the client may authenticate, but no mechanism is listed."),
        (
            "DELIVERBY",
            ["300"],
            "DELIVERBY (RFC 2852): the client may ask for delivery within a "
            "time limit; shortest time accepted, in seconds: 300.",
        ),
        (
            "DELIVERBY",
            [],
            "DELIVERBY (RFC 2852): the client may ask for delivery within a time limit.",
        ),
        (
            "XSOMETHING",
            [],
            "XSOMETHING: a private extension of this server's software, not a registered one.",
        ),
        (
            "FOO",
            ["1"],
            "FOO: not a registered SMTP extension; its meaning is specific to this server.",
        ),
    ],
)
def test_explain_extension_wording(keyword: str, params: list[str], expected: str) -> None:
    assert explain_extension(keyword, params) == expected


KNOWN = [
    "SIZE",
    "AUTH",
    "PIPELINING",
    "STARTTLS",
    "8BITMIME",
    "SMTPUTF8",
    "CHUNKING",
    "BINARYMIME",
    "DSN",
    "ENHANCEDSTATUSCODES",
    "ETRN",
    "VRFY",
    "EXPN",
    "HELP",
    "DELIVERBY",
    "PIPECONNECT",
    "PRDR",
    "MTRK",
    "FUTURERELEASE",
    "REQUIRETLS",
    "LIMITS",
    "ATRN",
    "CHECKPOINT",
    "NO-SOLICITING",
    "MT-PRIORITY",
    "RRVS",
    "XCLIENT",
    "XFORWARD",
    "X-EXPS",
    "XEXCH50",
    "X-LINK2STATE",
    "TURN",
    "VERB",
    "ONEX",
    "BURL",
    "CONPERM",
    "CONNEG",
    "SUBMITTER",
    "UTF8SMTP",
    "SEND",
    "SOML",
    "SAML",
    "XVERP",
    "X-ANONYMOUSTLS",
]


@pytest.mark.parametrize("keyword", KNOWN)
def test_every_common_extension_has_its_own_explanation(keyword: str) -> None:
    for params in ((), ("1",)):
        text = explain_extension(keyword.lower(), params)
        assert text.startswith(f"{keyword}")
        assert "not a registered" not in text and "private extension of" not in text
        assert text.endswith(".")


KEYWORD = re.compile(r"[A-Z0-9][A-Z0-9-]*")


@settings(max_examples=examples(200))
@given(
    code=st.one_of(st.just(250), st.integers(min_value=100, max_value=599)),
    lines=st.lists(st.binary(max_size=50), max_size=10).map(tuple),
)
def test_parse_ehlo_never_raises(code: int, lines: tuple[bytes, ...]) -> None:
    caps = parse_ehlo(Reply(code=code, lines=lines, raw=b""))
    assert set(caps.features) == {ext.keyword.lower() for ext in caps.extensions}
    for ext in caps.extensions:
        assert KEYWORD.fullmatch(ext.keyword) and caps.has(ext.keyword.lower())
        assert ext.explanation.endswith(".") and all(ext.params)
    assert caps.size is None or caps.size >= 0
    assert all(m == m.upper() for m in caps.auth_mechanisms)
    assert code == 250 or caps == Capabilities(hostname="", greeting="", extensions=())


line_bytes = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"AUTH", b"auth=", b"SIZE", b"8BITMIME", b"X-", b"-"]).flatmap(
        lambda head: st.binary(max_size=20).map(lambda tail: head + tail)
    ),
).map(lambda line: line.replace(b"\n", b""))


@settings(max_examples=examples(100))
@given(lines=st.lists(line_bytes, min_size=1, max_size=10))
def test_features_equal_smtplib_for_any_ehlo_reply(lines: list[bytes]) -> None:
    raw = b"".join(
        b"250" + (b" " if i == len(lines) - 1 else b"-") + line + b"\r\n"
        for i, line in enumerate(lines)
    )
    (reply,) = parse_replies(raw)
    assert parse_ehlo(reply).features == smtplib_features(raw)
