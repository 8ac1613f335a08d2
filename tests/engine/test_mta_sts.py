"""MTA-STS: the TXT record and the policy asked of a real DNS server and fetched from a real
HTTPS server on 127.0.0.1 with trustme certificates; the policy's rules on text."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator

import pytest
import trustme

from smtptui.engine.mta_sts import (
    MAX_AGE,
    POLICY_PATH,
    POLICY_SIZE,
    StsPolicy,
    StsRecord,
    fetch_policy,
    mx_allowed,
    parse_policy,
    sts_record,
)
from smtptui.protocol.errors import CommandError

from support.dns import dns_server
from support.https import Page, https_server

ZONE = """
_mta-sts.good.test.   60 IN TXT "v=STSv1; id=20240101T000000"
_mta-sts.split.test.  60 IN TXT "v=STSv1; " "id=abc;"
_mta-sts.extra.test.  60 IN TXT "v=STSv1;id=1 ; ext=yes;"
_mta-sts.other.test.  60 IN TXT "v=spf1 -all"
_mta-sts.two.test.    60 IN TXT "v=STSv1; id=1"
_mta-sts.two.test.    60 IN TXT "v=STSv1; id=2"
_mta-sts.badid.test.  60 IN TXT "v=STSv1; id=not-an-id"
_mta-sts.noid.test.   60 IN TXT "v=STSv1; mode=enforce"
_mta-sts.junk.test.   60 IN TXT "v=STSv1; id"
mta-sts.sts.test.     60 IN A 127.0.0.1
mta-sts.nowhere.test. 60 IN TXT "no address"
"""

POLICY = (
    "version: STSv1\r\nmode: enforce\r\nmx: mx1.sts.test\r\nmx: *.backup.sts.test\r\n"
    "max_age: 604800\r\n"
)


@pytest.fixture(scope="module")
def zone_server() -> Iterator[str]:
    with dns_server(ZONE) as address:
        yield address


def _context(cert: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    return context


@pytest.mark.parametrize(
    ("domain", "record"),
    [
        ("good.test", StsRecord("20240101T000000", "v=STSv1; id=20240101T000000")),
        ("split.test", StsRecord("abc", "v=STSv1; id=abc;")),
        ("extra.test", StsRecord("1", "v=STSv1;id=1 ; ext=yes;")),
    ],
)
async def test_a_record_gives_its_id(zone_server: str, domain: str, record: StsRecord) -> None:
    assert await sts_record(domain, nameserver=zone_server) == (record, "")


@pytest.mark.parametrize("domain", ["absent.test", "other.test", "sts.test"])
async def test_no_record_is_no_mta_sts_and_no_error(zone_server: str, domain: str) -> None:
    assert await sts_record(domain, nameserver=zone_server) == (None, "")


@pytest.mark.parametrize(
    ("domain", "error"),
    [
        ("two.test", "_mta-sts.two.test has 2 v=STSv1 records: senders use none of them"),
        ("badid.test", "the id must be 1-32 letters and digits, not 'not-an-id'"),
        ("noid.test", "the record must start 'v=STSv1; id=…'"),
        ("junk.test", "'id' is not a key=value field"),
    ],
)
async def test_a_bad_record_is_none_and_says_why(zone_server: str, domain: str, error: str) -> None:
    record, why = await sts_record(domain, nameserver=zone_server)
    assert record is None
    assert error in why


async def test_a_dns_failure_is_said() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:  # bound, never answers
        quiet.bind(("127.0.0.1", 0))
        port = quiet.getsockname()[1]
        record, why = await sts_record("good.test", nameserver=f"127.0.0.1:{port}", timeout=0.3)
    assert record is None
    assert why == "no answer from DNS for _mta-sts.good.test TXT within the timeout"


async def test_a_bad_domain_is_an_error_naming_the_field() -> None:
    with pytest.raises(CommandError) as caught:
        await sts_record("bad\r\ndomain")
    assert caught.value.field == "domain"


def test_a_good_policy_has_no_problems() -> None:
    assert parse_policy(POLICY) == StsPolicy(
        "STSv1", "enforce", ("mx1.sts.test", "*.backup.sts.test"), 604800
    )


def test_lf_unknown_keys_and_repeats_are_taken() -> None:
    policy = parse_policy(
        "version: STSv1\nmode:testing\nmode: enforce\nfoo: bar\nmx: A.test\nmax_age: 0\n"
    )
    assert policy == StsPolicy("STSv1", "testing", ("a.test",), 0)


def test_mode_none_needs_no_mx() -> None:
    assert parse_policy("version: STSv1\nmode: none\nmax_age: 86400").problems == ()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("mode: enforce\nmx: a.test\nmax_age: 1", "no version"),
        (
            "version: STSv2\nmode: enforce\nmx: a.test\nmax_age: 1",
            "version must be STSv1, not 'STSv2'",
        ),
        ("version: STSv1\nmx: a.test\nmax_age: 1", "no mode"),
        (
            "version: STSv1\nmode: strict\nmx: a.test\nmax_age: 1",
            "mode must be enforce, testing or none, not 'strict'",
        ),
        ("version: STSv1\nmode: enforce\nmx: a.test", "no max_age"),
        (
            "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: -1",
            "max_age must be whole seconds up to 31557600, not '-1'",
        ),
        (
            f"version: STSv1\nmode: enforce\nmx: a.test\nmax_age: {MAX_AGE + 1}",
            "max_age must be whole seconds",
        ),
        ("version: STSv1\nmode: enforce\nmax_age: 1", "no mx: the policy allows no mail server"),
        (
            "version: STSv1\nmode: enforce\nmx: a..test\nmax_age: 1",
            "mx 'a..test' is not a host name",
        ),
        (
            "version: STSv1\nmode: enforce\nmx: *.*.test\nmax_age: 1",
            "mx '*.*.test' is not a host name",
        ),
        (
            "version: STSv1\nmode enforce\nmx: a.test\nmax_age: 1",
            "line 2 is not 'key: value': 'mode enforce'",
        ),
    ],
)
def test_problems_are_collected_in_words(text: str, problem: str) -> None:
    assert any(problem in each for each in parse_policy(text).problems)


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("mx1.sts.test", True),
        ("MX1.sts.test.", True),
        ("a.backup.sts.test", True),
        ("backup.sts.test", False),
        ("a.b.backup.sts.test", False),
        ("mx2.sts.test", False),
        ("sts.test", False),
    ],
)
def test_mx_allowed_exact_or_one_label_for_the_star(name: str, allowed: bool) -> None:
    assert mx_allowed(parse_policy(POLICY), name) is allowed


async def test_fetch_policy_gets_the_text(
    zone_server: str, policy_context: ssl.SSLContext, cafile: str
) -> None:
    with https_server(policy_context, {POLICY_PATH: Page(POLICY.encode())}) as port:
        found = await fetch_policy("sts.test", nameserver=zone_server, cafile=cafile, port=port)
    assert found == (POLICY, "")


@pytest.mark.parametrize(
    ("page", "why"),
    [
        (None, "answered 404 Not Found, not 200"),
        (
            Page(status=301, headers=(("Location", "https://elsewhere.test/p"),)),
            "redirects to https://elsewhere.test/p: senders follow no redirect",
        ),
        (
            Page(POLICY.encode(), headers=(("Content-Type", "text/html"),)),
            "is text/html, not text/plain",
        ),
        (Page(b"x" * (POLICY_SIZE + 1)), "is over 64 KB"),
        (Page(b"\xff\xfe"), "is not UTF-8 text"),
    ],
)
async def test_fetch_policy_refuses_what_a_sender_refuses(
    zone_server: str, policy_context: ssl.SSLContext, cafile: str, page: Page | None, why: str
) -> None:
    pages = {POLICY_PATH: page} if page else {}
    with https_server(policy_context, pages) as port:
        text, error = await fetch_policy(
            "sts.test", nameserver=zone_server, cafile=cafile, port=port
        )
    assert text is None
    assert f"https://mta-sts.sts.test{POLICY_PATH}" in error
    assert why in error


async def test_text_plain_with_a_charset_is_taken(
    zone_server: str, policy_context: ssl.SSLContext, cafile: str
) -> None:
    page = Page(POLICY.encode(), headers=(("Content-Type", "Text/Plain; charset=utf-8"),))
    with https_server(policy_context, {POLICY_PATH: page}) as port:
        found = await fetch_policy("sts.test", nameserver=zone_server, cafile=cafile, port=port)
    assert found == (POLICY, "")


@pytest.mark.parametrize("names", [("mta-sts.sts.test",), ("www.sts.test",)])
async def test_an_untrusted_or_misnamed_certificate_is_refused(
    zone_server: str, ca: trustme.CA, cafile: str, names: tuple[str, ...]
) -> None:
    """A certificate from another CA, or from ours for another name."""
    issuer = trustme.CA() if names == ("mta-sts.sts.test",) else ca
    with https_server(
        _context(issuer.issue_cert(*names)), {POLICY_PATH: Page(POLICY.encode())}
    ) as port:
        text, error = await fetch_policy(
            "sts.test", nameserver=zone_server, cafile=cafile, port=port
        )
    assert text is None
    assert error.startswith("mta-sts.sts.test's certificate is not valid: ")


async def test_no_address_and_no_listener_are_said(zone_server: str, cafile: str) -> None:
    assert await fetch_policy("nowhere.test", nameserver=zone_server) == (
        None,
        "mta-sts.nowhere.test has no address (no A or AAAA record)",
    )
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    text, error = await fetch_policy("sts.test", nameserver=zone_server, cafile=cafile, port=port)
    assert text is None
    assert error.startswith(f"cannot connect to mta-sts.sts.test port {port} (127.0.0.1: ")
