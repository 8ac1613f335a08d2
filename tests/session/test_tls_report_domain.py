"""The TLS report on a domain's mail server (``@domain``): routed by its MX in a real DNS
server on 127.0.0.1, DANE from that DNS server or given, MTA-STS from a policy file,
against the embedded server with a trustme certificate for the MX name."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme

from smtptui.engine.dane import Tlsa, parse_tlsa, tlsa_for
from smtptui.engine.tls import CertificateInfo
from smtptui.protocol.errors import CommandError
from smtptui.server import EmbeddedServer
from smtptui.session.findings import Level
from smtptui.session.tls_report import TlsReport, tls_report

from support.dns import dns_server

MakeServer = Callable[..., EmbeddedServer]
MX = "mx.sts.test"
POLICY = "version: STSv1\nmode: enforce\n{mx}max_age: 604800\n"


@pytest.fixture(scope="module")
def leaf(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert(MX)


@pytest.fixture
def server(make_server: MakeServer, leaf: trustme.LeafCert) -> EmbeddedServer:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    leaf.configure_cert(context)
    return make_server(tls_context=context)


def record_for(leaf: trustme.LeafCert) -> Tlsa:
    pem = leaf.cert_chain_pems[0].bytes().decode()
    return tlsa_for(CertificateInfo.from_der(ssl.PEM_cert_to_DER_cert(pem)))


def zone(port: int, record: Tlsa) -> str:
    return (
        f"sts.test. 60 IN MX 10 {MX}.\n"
        f"sts.test. 60 IN MX 20 backup.sts.test.\n"
        f"{MX}. 60 IN A 127.0.0.1\n"
        f"backup.sts.test. 60 IN A 127.0.0.3\n"
        f'_mta-sts.sts.test. 60 IN TXT "v=STSv1; id=20261206"\n'
        f"_{port}._tcp.{MX}. 60 IN TLSA {record.text}\n"
        "null.test. 60 IN MX 0 .\n"
    )


@pytest.fixture
def nameserver(server: EmbeddedServer, leaf: trustme.LeafCert) -> Iterator[str]:
    """The test domain sts.test, its MX on 127.0.0.1 with a TLSA record for the server's
    certificate; the answers marked DNSSEC-validated."""
    with dns_server(zone(server.port, record_for(leaf)), authenticated=True) as address:
        yield address


def policy(tmp_path: Path, *mx: str) -> str:
    path = tmp_path / "mta-sts.txt"
    path.write_text(POLICY.format(mx="".join(f"mx: {name}\n" for name in mx)))
    return str(path)


def lines(report: TlsReport, title: str) -> list[str]:
    (section,) = (section for section in report.sections if section.title == title)
    return [finding.line for finding in section.findings]


def levels(report: TlsReport) -> dict[str, Level]:
    return {section.title: section.level for section in report.sections}


async def test_a_domain_is_reported_on_its_first_mx(
    server: EmbeddedServer, nameserver: str, cafile: str, tmp_path: Path
) -> None:
    report = await tls_report(
        "bob@sts.test",
        server.port,
        nameserver=nameserver,
        cafile=cafile,
        policy_file=policy(tmp_path, MX, "*.sts.test"),
        timeout=5,
    )
    assert (report.host, report.port) == (MX, server.port)
    assert levels(report) == {
        "MX": Level.INFO,
        "Connection": Level.OK,
        "TLS versions": Level.OK,
        "Certificate": Level.OK,
        "DANE": Level.OK,
        "MTA-STS": Level.OK,
    }
    assert lines(report, "MX") == [
        f"· MX for sts.test: 10 {MX}, 20 backup.sts.test",
        f"· reporting on {MX}, the first with an address",
    ]
    assert f"✔ for {MX} (names: DNS:{MX})" in lines(report, "Certificate")
    assert f"✔ MX {MX} is allowed by the policy" in lines(report, "MTA-STS")
    assert "✔ MX backup.sts.test is allowed by the policy" in lines(report, "MTA-STS")


async def test_a_certificate_unlike_the_records_and_an_mx_the_policy_omits_fail(
    server: EmbeddedServer, nameserver: str, cafile: str, tmp_path: Path
) -> None:
    stranger = record_for(trustme.CA().issue_cert(MX))
    report = await tls_report(
        MX,
        server.port,
        nameserver=nameserver,
        cafile=cafile,
        tlsa=(stranger,),
        domain="sts.test",
        policy_file=policy(tmp_path, "mail.elsewhere.test"),
        timeout=5,
    )
    assert "MX" not in levels(report)  # a host by name: no routing, only the policy's MX list
    assert levels(report)["DANE"] is Level.FAIL
    assert levels(report)["MTA-STS"] is Level.FAIL
    assert any("no usable TLSA record matches" in line for line in lines(report, "DANE"))
    assert f"✘ MX {MX} is not allowed by the policy" in lines(report, "MTA-STS")


async def test_a_host_name_without_a_domain_says_how_to_check_mta_sts(
    server: EmbeddedServer, nameserver: str, cafile: str
) -> None:
    record = parse_tlsa(record_for(trustme.CA().issue_cert(MX)).text)
    report = await tls_report(
        MX, server.port, nameserver=nameserver, cafile=cafile, tlsa=(record,), timeout=5
    )
    assert lines(report, "MTA-STS") == [
        "· not checked: report on @DOMAIN to check its policy against its MX hosts"
    ]


async def test_a_domain_without_mail_ends_the_report_at_its_mx(nameserver: str) -> None:
    report = await tls_report("@null.test", nameserver=nameserver, timeout=5)
    assert [section.title for section in report.sections] == ["MX"]
    assert lines(report, "MX") == [
        "✘ null.test accepts no mail: its MX is the null MX '0 .' (RFC 7505)"
    ]
    assert not report.reached


async def test_a_bad_domain_names_the_host() -> None:
    with pytest.raises(CommandError) as raised:
        await tls_report("@not a domain")
    assert raised.value.field == "host"
    with pytest.raises(CommandError) as raised:
        await tls_report("127.0.0.1", domain="not a domain")
    assert raised.value.field == "domain"
