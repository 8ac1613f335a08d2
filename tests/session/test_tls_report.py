"""The TLS report's verdicts, against the embedded server with trustme certificates: held
to TLS 1.2 or 1.3, speaking TLS 1.0, a missing intermediate, near or past expiry, another
name, implicit TLS, no STARTTLS, a dead port."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import ssl
from collections.abc import Callable

import pytest
import trustme

from smtptui.engine.probe import PortSecurity, probe_port
from smtptui.engine.tls_versions import VersionResult, client_offers, probe_versions
from smtptui.protocol.errors import CommandError
from smtptui.server import EmbeddedServer
from smtptui.session import tls_report as tls_report_module
from smtptui.session.findings import Finding, Level, Section
from smtptui.session.tls_report import (
    WHY,
    Seen,
    TlsReport,
    certificate_section,
    report_json,
    tls_report,
    versions_section,
)

from support.scripted import ScriptedServer, dialogue, no_handshake
from support.tls_servers import (
    closed_port,
    incomplete_context,
    legacy_context,
    tls_context,
)

MakeServer = Callable[..., EmbeddedServer]
TLS11, TLS12, TLS13 = ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3


async def report_on(server: EmbeddedServer, cafile: str, **options: object) -> TlsReport:
    return await tls_report("127.0.0.1", server.port, cafile=cafile, timeout=5, **options)  # type: ignore[arg-type]


def lines(report: TlsReport, title: str) -> list[str]:
    """The findings of the section ``title``, each as its line (mark and text)."""
    (section,) = (section for section in report.sections if section.title == title)
    return [finding.line for finding in section.findings]


def levels(report: TlsReport) -> dict[str, Level]:
    return {section.title: section.level for section in report.sections}


async def test_a_good_server(make_server: MakeServer, ca: trustme.CA, cafile: str) -> None:
    report = await report_on(make_server(tls_context=tls_context(ca)), cafile)
    assert report.security is PortSecurity.STARTTLS and report.reached and report.verified
    assert levels(report) == {
        "Connection": Level.OK,
        "TLS versions": Level.OK,
        "Certificate": Level.OK,
    }
    assert report.level is Level.OK
    assert lines(report, "Connection") == [
        "· greeting: 220 smtptui.demo ESMTP smtptui",
        "✔ STARTTLS offered",
    ]
    versions = lines(report, "TLS versions")
    assert versions[:2] == [
        "✔ TLS 1.0 refused, as it should be",
        "✔ TLS 1.1 refused, as it should be",
    ]
    assert versions[2].startswith("✔ TLS 1.2 accepted: ECDHE-")
    assert versions[3].startswith("✔ TLS 1.3 accepted: TLS_")
    certificate = lines(report, "Certificate")
    assert certificate[0] == "✔ verified: a chain to a trusted root, for 127.0.0.1"
    assert certificate[1].startswith("✔ chain complete: 1 certificate, then ")
    assert certificate[2].startswith("✔ valid until 3000-01-01 00:00 UTC (expires in ")
    assert certificate[3] == "✔ for 127.0.0.1 (names: DNS:localhost, IP:127.0.0.1)"
    assert certificate[5] == "· key EC 256-bit (secp256r1), signed with ecdsa-with-SHA256"


async def test_tls_1_2_only_misses_1_3_which_is_information(
    make_server: MakeServer, ca: trustme.CA, cafile: str
) -> None:
    server = make_server(tls_context=tls_context(ca, minimum=TLS12, maximum=TLS12))
    report = await report_on(server, cafile)
    assert lines(report, "TLS versions")[3] == (
        "· TLS 1.3 refused: 1.2 serves, though 1.3 is faster and hides the certificate"
    )
    assert report.level is Level.OK
    assert report.tls is not None and report.tls.version == "TLSv1.2"


async def test_tls_1_3_only(make_server: MakeServer, ca: trustme.CA, cafile: str) -> None:
    report = await report_on(make_server(tls_context=tls_context(ca, minimum=TLS13)), cafile)
    assert lines(report, "TLS versions")[2] == (
        "· TLS 1.2 refused: clients without TLS 1.3 cannot use TLS here"
    )
    assert [found.accepted for found in report.versions] == [False, False, False, True]
    assert report.level is Level.OK


@pytest.mark.skipif(client_offers("1.0", "ALL:@SECLEVEL=0") != "", reason="no TLS 1.0 here")
async def test_tls_1_0_and_1_1_accepted_are_warnings(
    make_server: MakeServer, ca: trustme.CA, cafile: str
) -> None:
    report = await report_on(make_server(tls_context=legacy_context(ca)), cafile)
    (section,) = (section for section in report.sections if section.title == "TLS versions")
    old = section.findings[:2]
    assert [finding.level for finding in old] == [Level.WARN, Level.WARN]
    assert old[0].text.startswith("TLS 1.0 accepted: ") and "RFC 8996" in old[0].why
    assert report.level is Level.WARN


@pytest.mark.skipif(client_offers("1.1", "ALL:@SECLEVEL=0") != "", reason="no TLS 1.1 here")
async def test_only_deprecated_versions_fail_and_the_certificate_is_still_judged(
    make_server: MakeServer, ca: trustme.CA, cafile: str
) -> None:
    """A default client (TLS 1.2 and up) cannot connect: the certificate is judged from
    the TLS 1.0 handshake, unverified."""
    report = await report_on(make_server(tls_context=legacy_context(ca, TLS11)), cafile)
    assert lines(report, "TLS versions")[-1] == "✘ only deprecated TLS versions accepted"
    connection = lines(report, "Connection")[-1]
    assert connection.startswith("⚠ stopped at handshake: ")
    certificate = lines(report, "Certificate")
    assert certificate[0].startswith("· not verified: the handshake failed (")
    assert certificate[3] == "✔ for 127.0.0.1 (names: DNS:localhost, IP:127.0.0.1)"
    assert report.reached and not report.verified and report.level is Level.FAIL


async def test_a_missing_intermediate(make_server: MakeServer, ca: trustme.CA, cafile: str) -> None:
    report = await report_on(make_server(tls_context=incomplete_context(ca)), cafile)
    (section,) = (section for section in report.sections if section.title == "Certificate")
    verification, chain = section.findings[:2]
    assert verification.level is Level.FAIL
    assert "unable to get local issuer certificate" in verification.text
    assert chain.level is Level.FAIL and chain.text.startswith("chain incomplete: the issuer of")
    assert chain.why == WHY["chain"]
    assert report.level is Level.FAIL


async def test_ten_days_left_is_a_warning(
    make_server: MakeServer, ca: trustme.CA, cafile: str
) -> None:
    report = await report_on(make_server(tls_context=tls_context(ca, days=10.5)), cafile)
    (section,) = (section for section in report.sections if section.title == "Certificate")
    expiry = section.findings[2]
    assert expiry.level is Level.WARN and expiry.text.endswith("(expires in 10 days)")
    assert expiry.why == WHY["expiring"]
    assert report.verified and report.level is Level.WARN


async def test_an_expired_certificate_has_a_complete_chain_all_the_same(
    make_server: MakeServer, ca: trustme.CA, cafile: str
) -> None:
    """OpenSSL builds the chain before it checks the dates: an expired certificate from a
    trusted CA is not taken for a missing intermediate."""
    report = await report_on(make_server(tls_context=tls_context(ca, days=-2.5)), cafile)
    certificate = lines(report, "Certificate")
    assert certificate[0] == "✘ not verified: certificate not trusted: certificate has expired"
    assert certificate[1].startswith("✔ chain complete: ")
    assert certificate[2].startswith("✘ valid until ") and certificate[2].endswith(
        "(EXPIRED 2 days ago)"
    )


async def test_now_decides_the_expiry(make_server: MakeServer, ca: trustme.CA, cafile: str) -> None:
    later = dt.datetime(3000, 1, 3, tzinfo=dt.UTC)
    report = await report_on(make_server(tls_context=tls_context(ca)), cafile, now=later)
    assert lines(report, "Certificate")[2] == (
        "✘ valid until 3000-01-01 00:00 UTC (EXPIRED 2 days ago)"
    )


async def test_another_name(make_server: MakeServer, ca: trustme.CA, cafile: str) -> None:
    """The chain is trusted; the name is not this host's: told apart."""
    report = await report_on(make_server(tls_context=tls_context(ca, "mail.example")), cafile)
    certificate = lines(report, "Certificate")
    assert certificate[0] == "✘ not verified: not for 127.0.0.1"
    assert certificate[1].startswith("✔ chain complete")
    assert certificate[3] == "✘ not for 127.0.0.1: for DNS:mail.example"
    assert not report.verified


async def test_the_sni_is_the_name_checked(
    make_server: MakeServer, ca: trustme.CA, cafile: str
) -> None:
    server = make_server(tls_context=tls_context(ca, "mail.example"))
    report = await report_on(server, cafile, sni="mail.example")
    assert report.verified and report.level is Level.OK
    assert lines(report, "Certificate")[3] == "✔ for mail.example (names: DNS:mail.example)"


async def test_implicit_tls(make_server: MakeServer, ca: trustme.CA, cafile: str) -> None:
    server = make_server(tls_context=tls_context(ca), implicit_tls=True)
    report = await report_on(server, cafile, security=PortSecurity.TLS)
    assert lines(report, "Connection")[1] == (
        f"✔ 127.0.0.1:{server.port} speaks TLS from the first byte"
    )
    assert [found.refused for found in report.versions] == [True, True, False, False]
    assert report.verified and report.level is Level.OK


async def test_port_465_means_implicit_tls() -> None:
    """Nothing listens on 127.0.0.1:465 here: the report says so, and how it would speak."""
    report = await tls_report("127.0.0.1", 465, timeout=2)
    assert report.security is PortSecurity.TLS and report.port == 465
    assert not report.reached


async def test_no_starttls(make_server: MakeServer, cafile: str) -> None:
    report = await report_on(make_server(starttls=False), cafile)
    assert [section.title for section in report.sections] == ["Connection"]
    assert lines(report, "Connection")[-1] == "✘ STARTTLS not offered"
    assert not report.reached and report.level is Level.FAIL


async def test_a_dead_port() -> None:
    port = closed_port()
    report = await tls_report("127.0.0.1", port, timeout=2)
    assert [section.title for section in report.sections] == ["Connection"]
    (line,) = lines(report, "Connection")
    assert line == f"✘ could not connect: connection refused (127.0.0.1:{port} during connect)"
    assert not report.reached and report.tls is None


async def test_starttls_offered_but_no_handshake_succeeds() -> None:
    """A server that answers every ClientHello in plain text: each version refused, no
    certificate to judge."""
    ehlo = b"250-mx.example\r\n250 STARTTLS\r\n"
    script = dialogue({"EHLO": ehlo, "STARTTLS": no_handshake(b"500 what?\r\n")})
    async with ScriptedServer(script) as server:
        report = await tls_report("127.0.0.1", server.port, timeout=2)
    assert [section.title for section in report.sections] == ["Connection", "TLS versions"]
    assert lines(report, "Connection")[-1].startswith("✘ stopped at handshake: TLS failed: ")
    assert lines(report, "TLS versions")[-1] == "✘ no TLS version accepted"
    assert all(found.refused for found in report.versions)
    assert not report.reached and report.level is Level.FAIL


async def test_a_weak_key_or_signature_is_a_warning(
    make_server: MakeServer, ca: trustme.CA, cafile: str
) -> None:
    """Servers refuse to load such keys today: the certificate seen is made weak after."""
    server = make_server(tls_context=tls_context(ca))
    probe = await probe_port(
        "127.0.0.1", server.port, PortSecurity.STARTTLS, cafile=cafile, timeout=5
    )
    assert probe.tls is not None and probe.tls.leaf is not None
    now = dt.datetime.now(dt.UTC)
    weak = {"key_type": "RSA", "key_bits": 1024, "curve": ""}
    for change, text in [
        (weak, "key RSA 1024-bit, signed with ecdsa-with-SHA256"),
        (
            {"signature_algorithm": "sha1WithRSAEncryption"},
            "key EC 256-bit (secp256r1), signed with sha1WithRSAEncryption",
        ),
    ]:
        leaf = dataclasses.replace(probe.tls.leaf, **change)
        tls = dataclasses.replace(probe.tls, chain=(leaf,))
        seen = Seen(
            "127.0.0.1", server.port, PortSecurity.STARTTLS, "127.0.0.1",
            dataclasses.replace(probe, tls=tls), (), now,
        )  # fmt: skip
        section = certificate_section(seen)
        assert section is not None
        key = section.findings[-1]
        assert (key.level, key.text, key.why) == (Level.WARN, text, WHY["weak key"])


async def test_a_section_that_looks_again_comes_after_the_others(
    make_server: MakeServer, ca: trustme.CA, cafile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LOOKS, where DANE and MTA-STS go: each is awaited with what the probes saw."""
    seen: list[Seen] = []

    async def chain_length(found: Seen) -> Section:
        seen.append(found)
        assert found.tls is not None
        return Section("Chain length", (Finding(Level.INFO, str(len(found.tls.chain))),))

    async def nothing(found: Seen) -> None:
        return None

    monkeypatch.setattr(tls_report_module, "LOOKS", (nothing, chain_length))
    report = await report_on(make_server(tls_context=tls_context(ca)), cafile)
    assert [section.title for section in report.sections][-2:] == ["Certificate", "Chain length"]
    assert lines(report, "Chain length") == ["· 1"]
    assert [found.port for found in seen] == [report.port]


async def test_a_version_the_client_cannot_offer_is_not_the_servers_refusal(
    make_server: MakeServer, ca: trustme.CA
) -> None:
    server = make_server(tls_context=tls_context(ca))
    untested = VersionResult("1.0", None, client_offers("1.0", "ECDHE+AESGCM"))
    tried = await probe_versions("127.0.0.1", server.port, PortSecurity.STARTTLS, timeout=5)
    probe = await probe_port("127.0.0.1", server.port, PortSecurity.STARTTLS, timeout=5)
    now = dt.datetime.now(dt.UTC)
    seen = Seen(
        "127.0.0.1",
        server.port,
        PortSecurity.STARTTLS,
        "127.0.0.1",
        probe,
        (untested, *tried[1:]),
        now,
    )
    section = versions_section(seen)
    assert section is not None
    first = section.findings[0]
    assert first.level is Level.INFO
    assert first.text.startswith("TLS 1.0 not tested: this machine's OpenSSL (")
    assert "cannot offer it: no ciphers available" in first.text


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"host": "mail\r\nexample"}, "host"),
        ({"sni": "two words"}, "SNI"),
        ({"port": 0}, "port"),
        ({"timeout": 0}, "connect timeout"),
        ({"security": PortSecurity.PLAIN}, "security"),
    ],
)
async def test_bad_arguments_name_their_setting(options: dict, field: str) -> None:
    arguments = {"host": "127.0.0.1", "port": closed_port(), **options}
    with pytest.raises(CommandError) as raised:
        await tls_report(**arguments)
    assert raised.value.field == field


async def test_json(make_server: MakeServer, ca: trustme.CA, cafile: str) -> None:
    server = make_server(tls_context=tls_context(ca, minimum=TLS12, maximum=TLS12))
    found = json.loads(json.dumps(report_json(await report_on(server, cafile))))
    assert (found["host"], found["port"], found["security"]) == (
        "127.0.0.1",
        server.port,
        "starttls",
    )
    assert (found["level"], found["tls"]) == ("ok", True)
    assert found["greeting"] == "220 smtptui.demo ESMTP smtptui"
    assert [version["accepted"] for version in found["versions"]] == [False, False, True, False]
    assert found["versions"][2]["cipher"].startswith("ECDHE-")
    assert found["versions"][2]["reason"] is None and found["versions"][3]["refused"] is True
    certificate = found["certificate"]
    assert certificate["names"] == ["DNS:localhost", "IP:127.0.0.1"]
    assert certificate["verified"] is True and certificate["not_after"].startswith("3000-01-01")
    assert [section["title"] for section in found["sections"]] == [
        "Connection",
        "TLS versions",
        "Certificate",
    ]
    assert found["sections"][1]["findings"][3]["level"] == "info"
