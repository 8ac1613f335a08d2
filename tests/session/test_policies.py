"""The DANE and MTA-STS sections: records from a real DNS server on 127.0.0.1 against the
chain a real server sent over STARTTLS, policies from a real HTTPS server or a file."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme

from smtptui.engine.client import SMTPClient
from smtptui.engine.dane import Tlsa, tlsa_for
from smtptui.engine.mta_sts import POLICY_PATH
from smtptui.engine.tls import CertificateInfo
from smtptui.server import EmbeddedServer
from smtptui.session.findings import Level, Section
from smtptui.session.policies import WHY, dane_section, mta_sts_section

from support.certificates import chain_context
from support.dns import dns_server
from support.https import Page, https_server

Chain = tuple[CertificateInfo, ...]
HOST = "mx.dane.test"
NAME = "_25._tcp.mx.dane.test"


def lines(section: Section) -> list[str]:
    return [finding.line for finding in section.findings]


def tlsa_zone(*records: Tlsa) -> str:
    return "".join(f"{NAME}. 60 IN TLSA {record.text}\n" for record in records)


@pytest.fixture(scope="module")
def leaf(ca: trustme.CA) -> trustme.LeafCert:
    return ca.create_child_ca().issue_cert(HOST, "127.0.0.1")


@pytest.fixture
async def chain(
    make_server: Callable[..., EmbeddedServer], leaf: trustme.LeafCert, cafile: str
) -> Chain:
    """The certificates the embedded server sent after STARTTLS: the leaf, its issuer."""
    server = make_server(tls_context=chain_context(leaf))
    client = SMTPClient(timeout=5, cafile=cafile)
    await client.connect("127.0.0.1", server.port)
    await client.starttls()
    assert client.tls is not None and client.tls.verified
    await client.quit()
    return client.tls.chain


@pytest.fixture(scope="module")
def stranger() -> CertificateInfo:
    """Another server's certificate."""
    pem = trustme.CA().issue_cert(HOST).cert_chain_pems[0].bytes().decode()
    return CertificateInfo.from_der(ssl.PEM_cert_to_DER_cert(pem))


async def test_a_validated_matching_record_is_ok(chain: Chain) -> None:
    record = tlsa_for(chain[0])
    with dns_server(tlsa_zone(record), authenticated=True) as nameserver:
        section = await dane_section(HOST, 25, chain, nameserver=nameserver)
    assert section.title == "DANE"
    assert section.level is Level.OK
    assert lines(section) == [
        f"· 1 TLSA record(s) at {NAME}",
        "✔ the TLSA records are DNSSEC-validated",
        f"✔ {record.text} (DANE-EE SPKI SHA2-256): matches the server's certificate "
        f"(DNS:{HOST}, IP:127.0.0.1)",
    ]
    assert all(finding.why for finding in section.findings)


async def test_dane_ta_matches_the_issuer_the_server_sent(chain: Chain) -> None:
    record = tlsa_for(chain[1], 2, 0, 2)
    with dns_server(tlsa_zone(record), authenticated=True) as nameserver:
        section = await dane_section(HOST, 25, chain, nameserver=nameserver)
    assert section.level is Level.OK
    assert "matches a certificate the server sent after its own" in lines(section)[-1]


async def test_records_not_validated_are_a_warning_and_say_why(chain: Chain) -> None:
    with dns_server(tlsa_zone(tlsa_for(chain[0]))) as nameserver:
        section = await dane_section(HOST, 25, chain, nameserver=nameserver)
    assert section.level is Level.WARN
    warning = section.findings[1]
    assert warning.text == "the TLSA records are not DNSSEC-validated (the resolver did not set AD)"
    assert warning.why == WHY["unauthenticated"]


async def test_no_match_fails_and_the_record_it_suggests_matches(
    chain: Chain, stranger: CertificateInfo
) -> None:
    with dns_server(tlsa_zone(tlsa_for(stranger)), authenticated=True) as nameserver:
        section = await dane_section(HOST, 25, chain, nameserver=nameserver)
    assert section.level is Level.FAIL
    failure = section.findings[-1]
    assert failure.why == WHY["mismatch"]
    assert "refuse to deliver" in failure.why
    prefix = "no usable TLSA record matches the server's certificate; one that would: "
    assert failure.text.startswith(prefix)
    suggested = failure.text.removeprefix(prefix)
    assert suggested == f"{NAME}. IN TLSA 3 1 1 {tlsa_for(chain[0]).data.hex()}"
    with dns_server(f"{suggested}\n", authenticated=True) as nameserver:
        fixed = await dane_section(HOST, 25, chain, nameserver=nameserver)
    assert fixed.level is Level.OK


async def test_a_stale_record_beside_a_matching_one_is_information(
    chain: Chain, stranger: CertificateInfo
) -> None:
    zone = tlsa_zone(tlsa_for(stranger), tlsa_for(chain[0], 3, 0, 1))
    with dns_server(zone, authenticated=True) as nameserver:
        section = await dane_section(HOST, 25, chain, nameserver=nameserver)
    assert section.level is Level.OK
    stale = section.findings[2]
    assert (stale.level, stale.why) == (Level.INFO, WHY["other"])
    assert stale.text.endswith("does not match the server's certificate")


async def test_only_unusable_records_warn_and_do_not_fail(chain: Chain) -> None:
    zone = tlsa_zone(tlsa_for(chain[0], 1), tlsa_for(chain[1], 0))
    with dns_server(zone, authenticated=True) as nameserver:
        section = await dane_section(HOST, 25, chain, nameserver=nameserver)
    assert section.level is Level.WARN
    assert [finding.level for finding in section.findings[2:]] == [Level.WARN, Level.WARN]
    assert "PKIX-EE is unusable for SMTP" in section.findings[2].text


async def test_given_records_are_checked_without_dns(
    chain: Chain, stranger: CertificateInfo
) -> None:
    given = (tlsa_for(stranger), tlsa_for(chain[0], 3, 1, 2))
    section = await dane_section(HOST, 25, chain, given=given, nameserver="127.0.0.1:9")
    assert section.level is Level.OK
    assert section.findings[0].text == "2 TLSA record(s) given"
    assert section.findings[0].why == WHY["given"]


@pytest.mark.parametrize("authenticated", [False, True])
async def test_no_tlsa_is_no_dane(chain: Chain, authenticated: bool) -> None:
    with dns_server(f"{HOST}. 60 IN A 127.0.0.1", authenticated=authenticated) as nameserver:
        section = await dane_section(HOST, 25, chain, nameserver=nameserver)
    denial = " (a DNSSEC-validated answer)" if authenticated else ""
    assert lines(section) == [f"· no DANE: no TLSA record at {NAME}{denial}"]
    assert section.findings[0].why == WHY["no-dane"]


async def test_a_failed_lookup_is_a_warning(chain: Chain) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:  # bound, never answers
        quiet.bind(("127.0.0.1", 0))
        nameserver = f"127.0.0.1:{quiet.getsockname()[1]}"
        section = await dane_section(HOST, 25, chain, nameserver=nameserver, timeout=0.3)
    assert section.level is Level.WARN
    assert section.findings[0].text.startswith("no answer from DNS for _25._tcp.mx.dane.test")


async def test_without_a_certificate_nothing_matches(chain: Chain) -> None:
    section = await dane_section(HOST, 25, (), given=(tlsa_for(chain[0]),))
    assert section.findings[-1].text == "no certificate to check the records against"
    assert section.level is Level.WARN


STS_ZONE = """
_mta-sts.sts.test.   60 IN TXT "v=STSv1; id=2024a"
mta-sts.sts.test.    60 IN A 127.0.0.1
_mta-sts.two.test.   60 IN TXT "v=STSv1; id=1"
_mta-sts.two.test.   60 IN TXT "v=STSv1; id=2"
"""


def policy(mode: str = "enforce", max_age: int = 604800) -> str:
    return (
        f"version: STSv1\nmode: {mode}\nmx: mx1.sts.test\nmx: *.backup.sts.test\n"
        f"max_age: {max_age}\n"
    )


@pytest.fixture(scope="module")
def sts_nameserver() -> Iterator[str]:
    with dns_server(STS_ZONE) as address:
        yield address


MX = ("mx1.sts.test", "a.backup.sts.test", "mx9.sts.test")


async def sts_section(
    nameserver: str, context: ssl.SSLContext, cafile: str, page: Page | None, **options: object
) -> Section:
    with https_server(context, {POLICY_PATH: page} if page else {}) as port:
        return await mta_sts_section(
            "sts.test", MX, nameserver=nameserver, cafile=cafile, https_port=port, **options
        )


async def test_an_enforced_policy_allows_listed_mx_and_fails_others(
    sts_nameserver: str, policy_context: ssl.SSLContext, cafile: str
) -> None:
    section = await sts_section(sts_nameserver, policy_context, cafile, Page(policy().encode()))
    assert section.title == "MTA-STS"
    assert lines(section) == [
        "✔ _mta-sts.sts.test: v=STSv1; id=2024a",
        f"✔ policy from https://mta-sts.sts.test{POLICY_PATH}: max_age 604800 s, 7 days, "
        "mx mx1.sts.test, *.backup.sts.test",
        "✔ mode enforce",
        "✔ MX mx1.sts.test is allowed by the policy",
        "✔ MX a.backup.sts.test is allowed by the policy",
        "✘ MX mx9.sts.test is not allowed by the policy",
    ]
    assert section.findings[-1].why == WHY["denied"]
    assert section.level is Level.FAIL


@pytest.mark.parametrize(("mode", "denied"), [("testing", Level.WARN), ("none", Level.INFO)])
async def test_testing_and_none_are_explained_and_deny_softly(
    sts_nameserver: str, policy_context: ssl.SSLContext, cafile: str, mode: str, denied: Level
) -> None:
    page = Page(policy(mode).encode())
    section = await sts_section(sts_nameserver, policy_context, cafile, page)
    mode_finding = section.findings[2]
    assert (mode_finding.level, mode_finding.text, mode_finding.why) == (
        Level.WARN,
        f"mode {mode}",
        WHY[mode],
    )
    assert section.findings[-1].level is denied
    assert section.level is Level.WARN


async def test_a_short_max_age_is_a_warning(
    sts_nameserver: str, policy_context: ssl.SSLContext, cafile: str
) -> None:
    page = Page(policy(max_age=3600).encode())
    section = await sts_section(sts_nameserver, policy_context, cafile, page)
    assert "⚠ max_age is under a day (3600 s)" in lines(section)


async def test_a_policy_that_cannot_be_fetched_fails_and_says_why(
    sts_nameserver: str, policy_context: ssl.SSLContext, cafile: str
) -> None:
    section = await sts_section(sts_nameserver, policy_context, cafile, None)
    assert section.level is Level.FAIL
    assert section.findings[-1].text.startswith("no policy: https://mta-sts.sts.test")
    assert section.findings[-1].text.endswith("answered 404 Not Found, not 200")
    assert section.findings[-1].why == WHY["fetch"]


async def test_an_invalid_policy_fails_with_each_problem(
    sts_nameserver: str, policy_context: ssl.SSLContext, cafile: str
) -> None:
    page = Page(b"version: STSv1\nmode: strict\n")
    section = await sts_section(sts_nameserver, policy_context, cafile, page)
    where = f"policy from https://mta-sts.sts.test{POLICY_PATH}"
    assert [finding.text for finding in section.findings[1:]] == [
        f"{where}: mode must be enforce, testing or none, not 'strict'",
        f"{where}: no max_age",
        f"{where}: no mx: the policy allows no mail server",
    ]
    assert all(finding.level is Level.FAIL for finding in section.findings[1:])
    assert section.findings[1].why == WHY["invalid"]


async def test_no_record_is_no_mta_sts(sts_nameserver: str) -> None:
    section = await mta_sts_section("absent.test", MX, nameserver=sts_nameserver)
    assert lines(section) == ["· no MTA-STS: no v=STSv1 TXT record at _mta-sts.absent.test"]
    assert section.findings[0].why == WHY["no-mta-sts"]


async def test_two_records_are_a_warning(sts_nameserver: str) -> None:
    section = await mta_sts_section("two.test", MX, nameserver=sts_nameserver)
    assert section.level is Level.WARN
    assert section.findings[0].why == WHY["record"]
    assert len(section.findings) == 1


async def test_a_policy_file_is_checked_without_a_record(
    sts_nameserver: str, tmp_path: Path
) -> None:
    path = tmp_path / "mta-sts.txt"
    path.write_text(policy().replace("\n", "\r\n"))
    section = await mta_sts_section(
        "absent.test", ("mx9.sts.test",), policy_file=str(path), nameserver=sts_nameserver
    )
    assert lines(section)[1].startswith(f"✔ policy from {path}: ")
    assert lines(section)[-1] == "✘ MX mx9.sts.test is not allowed by the policy"


async def test_no_mx_names_is_said(sts_nameserver: str, tmp_path: Path) -> None:
    path = tmp_path / "mta-sts.txt"
    path.write_text(policy())
    section = await mta_sts_section(
        "sts.test", (), policy_file=str(path), nameserver=sts_nameserver
    )
    assert lines(section)[-1] == "· no MX names to check"


@pytest.mark.parametrize(
    ("content", "error"), [(None, "no such file"), (b"\xff\xfe", "is not UTF-8 text")]
)
async def test_an_unreadable_policy_file_fails_naming_it(
    sts_nameserver: str, tmp_path: Path, content: bytes | None, error: str
) -> None:
    path = tmp_path / "policy.txt"
    if content is not None:
        path.write_bytes(content)
    section = await mta_sts_section(
        "sts.test", MX, policy_file=str(path), nameserver=sts_nameserver
    )
    failure = section.findings[-1]
    assert failure.level is Level.FAIL
    assert failure.text.startswith(f"policy file: {path}")
    assert failure.text.endswith(error)
