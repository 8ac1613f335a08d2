"""The submission probe's report: the matrix's cells, the findings and the recommendation,
from real servers (the embedded one on 127.0.0.1, scripted ones that misbehave)."""

from __future__ import annotations

import dataclasses
import json
import socket
import time
from collections.abc import Callable

import pytest

from smtptui.engine.probe import PortSecurity
from smtptui.protocol.errors import CommandError
from smtptui.server import EmbeddedServer
from smtptui.session import (
    PROBE_COLUMNS,
    Level,
    ProbeTarget,
    parse_probe_target,
    probe_cells,
    probe_host,
    probe_json,
)
from smtptui.session.probe import WHY, parse_probe_host, recommend
from smtptui.session.visible import json_line

from support.scripted import ScriptedServer, dialogue, play, stall, well_behaved

STARTTLS = PortSecurity.STARTTLS
TLS = PortSecurity.TLS
ALL_MECHANISMS = "CRAM-MD5 LOGIN OAUTHBEARER PLAIN SCRAM-SHA-256 XOAUTH2"


def free_port() -> int:
    """A port on 127.0.0.1 where nothing listens once this returns."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("587", ProbeTarget(587, STARTTLS)),
        ("465", ProbeTarget(465, TLS)),
        ("465:tls", ProbeTarget(465, TLS)),
        ("2525:plain", ProbeTarget(2525, PortSecurity.PLAIN)),
        ("25:STARTTLS", ProbeTarget(25, STARTTLS)),
        ("1000:tls", ProbeTarget(1000, TLS)),
    ],
)
def test_parse_probe_target(text: str, target: ProbeTarget) -> None:
    assert parse_probe_target(text) == target


@pytest.mark.parametrize("text", ["", "x", "0", "65536", "587:ssl", "-1", "587:", "5 87"])
def test_a_bad_target_is_an_error_naming_the_port(text: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_probe_target(text)
    assert caught.value.field == "port"


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("Mail.Example.ORG", "mail.example.org"),
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_parse_probe_host(text: str, host: str) -> None:
    assert parse_probe_host(text) == host


@pytest.mark.parametrize("text", ["", "a b", "mx.example:587", "bob@example.org", "a\r\nb"])
def test_a_bad_host_is_an_error_naming_the_host(text: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_probe_host(text)
    assert caught.value.field == "host"


async def test_both_tls_ports_verified_implicit_tls_recommended(
    make_server: Callable[..., EmbeddedServer], cafile: str
) -> None:
    starttls, implicit = make_server(), make_server(implicit_tls=True)
    closed = free_port()
    targets = [ProbeTarget(starttls.port, STARTTLS), ProbeTarget(implicit.port, TLS)]
    report = await probe_host("127.0.0.1", [*targets, ProbeTarget(closed, STARTTLS)], cafile=cafile)
    assert report.recommendation == (
        f"Use {implicit.port} with implicit TLS and PLAIN (RFC 8314 prefers implicit TLS "
        f"for submission); {starttls.port} with STARTTLS works too."
    )
    assert report.usable and report.best is report.probes[1]
    assert probe_cells(report.probes[0]) == (
        f"{starttls.port}/starttls",
        "yes",
        "220 smtptui.demo ESMTP smtptui",
        "TLSv1.3 ✔ verified",
        "none",
        ALL_MECHANISMS,
        "32 MiB",
        "SIZE 8BITMIME SMTPUTF8 AUTH PIPELINING CHUNKING BINARYMIME HELP",  # inside TLS
    )
    assert probe_cells(report.probes[1])[3:6] == ("TLSv1.3 ✔ verified", "—", ALL_MECHANISMS)
    assert probe_cells(report.probes[2])[:4] == (f"{closed}/starttls", "no", "—", "—")
    assert len(PROBE_COLUMNS) == len(probe_cells(report.probes[0]))
    levels = {finding.text: finding.level for finding in report.findings}
    assert levels[f"{starttls.port}/starttls: TLSv1.3, certificate verified"] is Level.OK
    assert levels[f"{implicit.port}/tls: AUTH offered inside TLS ({ALL_MECHANISMS})"] is Level.OK
    assert levels[f"{closed}/starttls: no connection ({report.probes[2].error})"] is Level.INFO


async def test_verified_ranks_above_unverified_whatever_the_security(
    make_server: Callable[..., EmbeddedServer], cafile: str
) -> None:
    """The self-signed server loses to the verified one though it speaks implicit TLS."""
    verified = make_server()
    self_signed = make_server(implicit_tls=True, tls_context=None)
    targets = [ProbeTarget(self_signed.port, TLS), ProbeTarget(verified.port, STARTTLS)]
    report = await probe_host("127.0.0.1", targets, cafile=cafile)
    assert report.recommendation == f"Use {verified.port} with STARTTLS and PLAIN."
    cell = probe_cells(report.probes[0])[3]
    assert cell.startswith("TLSv1.3 ✘ ") and "self-signed" in cell
    [unverified] = [f for f in report.findings if "not verified" in f.text]
    assert unverified.level is Level.WARN and unverified.why == WHY["unverified"]
    assert unverified.text.startswith(f"{self_signed.port}/tls: TLSv1.3, certificate not verified")


async def test_a_submission_port_ranks_above_25_and_2525(
    make_server: Callable[..., EmbeddedServer], cafile: str
) -> None:
    """The same server's probe, as if found on 25, 2525 and 587 (ports the tests cannot
    listen on): 587 is recommended, 25 and 2525 not named."""
    server = make_server()
    report = await probe_host("127.0.0.1", [ProbeTarget(server.port, STARTTLS)], cafile=cafile)
    [probe] = report.probes
    as_if = [dataclasses.replace(probe, port=port) for port in (25, 2525, 587)]
    assert recommend(as_if) == "Use 587 with STARTTLS and PLAIN."


async def test_only_an_unverified_port_is_recommended_with_a_but(
    untrusted_server: EmbeddedServer, cafile: str
) -> None:
    report = await probe_host(
        "127.0.0.1", [ProbeTarget(untrusted_server.port, STARTTLS)], cafile=cafile
    )
    assert report.recommendation.startswith(
        f"Use {untrusted_server.port} with STARTTLS and PLAIN, but its certificate is not "
        "verified (certificate not trusted: self-signed"
    )
    assert report.usable


async def test_auth_before_tls_is_a_warning(
    make_server: Callable[..., EmbeddedServer], cafile: str
) -> None:
    server = make_server(auth_require_tls=False)
    report = await probe_host("127.0.0.1", [ProbeTarget(server.port, STARTTLS)], cafile=cafile)
    [before] = [f for f in report.findings if "before TLS" in f.text]
    assert before.level is Level.WARN and before.why == WHY["auth before tls"]
    assert probe_cells(report.probes[0])[4:6] == (ALL_MECHANISMS, ALL_MECHANISMS)


async def test_no_starttls_and_auth_in_clear_is_recommended_with_a_warning() -> None:
    script = dialogue({"EHLO": b"250-mx.example\r\n250-SIZE 0\r\n250 AUTH PLAIN LOGIN\r\n"})
    async with ScriptedServer(script) as server:
        report = await probe_host("127.0.0.1", [ProbeTarget(server.port, STARTTLS)], timeout=2)
    assert report.recommendation == (
        f"Use {server.port} with no TLS and PLAIN, but without TLS: the password would cross "
        "the network in clear."
    )
    assert not report.usable
    texts = {f.text: f for f in report.findings}
    assert texts[f"{server.port}/starttls: STARTTLS is not offered"].why == WHY["no starttls"]
    assert f"{server.port}/starttls: AUTH offered before TLS (PLAIN LOGIN)" in texts
    assert probe_cells(report.probes[0])[3:7] == ("not offered", "PLAIN LOGIN", "—", "no limit")


async def test_a_refused_starttls() -> None:
    script = dialogue(
        {"EHLO": b"250-mx.example\r\n250 STARTTLS\r\n", "STARTTLS": b"454 4.7.0 not now\r\n"}
    )
    async with ScriptedServer(script) as server:
        report = await probe_host("127.0.0.1", [ProbeTarget(server.port, STARTTLS)], timeout=2)
    [refused] = [f for f in report.findings if f.level is Level.FAIL]
    assert refused.text == f"{server.port}/starttls: STARTTLS refused: 454 4.7.0 not now"
    assert refused.why == WHY["starttls refused"]
    assert probe_cells(report.probes[0])[3] == "✘ refused (454 4.7.0 not now)"
    assert (
        report.recommendation
        == f"No port offers AUTH ({server.port}): this server takes no client's login from here."
    )


async def test_a_port_that_is_not_smtp_and_one_that_wants_implicit_tls(
    tls_server: EmbeddedServer,
) -> None:
    async with ScriptedServer(dialogue(greeting=b"554 5.7.1 go away\r\n")) as server:
        targets = [ProbeTarget(server.port, STARTTLS), ProbeTarget(tls_server.port, STARTTLS)]
        report = await probe_host("127.0.0.1", targets, timeout=2)
    texts = {f.text: f for f in report.findings}
    refused = texts[
        f"{server.port}/starttls: not an SMTP greeting: 554 5.7.1 go away "
        "(the server did not greet with 220)"
    ]
    assert refused.level is Level.FAIL and refused.why == WHY["not smtp"]
    port = tls_server.port
    wants = texts[f"{port}/starttls: the port expects implicit TLS (probe it as {port}:tls)"]
    assert wants.level is Level.WARN and wants.why == WHY["implicit tls"]
    assert report.recommendation == (
        f"No port speaks SMTP as far as EHLO ({server.port}, {tls_server.port}): see the findings."
    )


async def test_nothing_answered() -> None:
    ports = [free_port(), free_port()]
    report = await probe_host(
        "127.0.0.1", [ProbeTarget(port, STARTTLS) for port in ports], timeout=2
    )
    assert report.recommendation == f"Nothing answered on {ports[0]}, {ports[1]}."
    assert not report.answered and not report.usable and report.best is None


async def test_a_port_without_auth() -> None:
    async with ScriptedServer(well_behaved) as server:
        report = await probe_host("127.0.0.1", [ProbeTarget(server.port, STARTTLS)], timeout=2)
    assert any(f.text == f"{server.port}/starttls: no AUTH offered" for f in report.findings)


async def test_all_ports_at_once_within_twice_the_timeout(server: EmbeddedServer) -> None:
    async with ScriptedServer(play(stall)) as one, ScriptedServer(play(stall)) as two:
        targets = [ProbeTarget(port, STARTTLS) for port in (one.port, two.port, server.port)]
        started = time.monotonic()
        report = await probe_host("127.0.0.1", targets, timeout=0.5)
        elapsed = time.monotonic() - started
    assert elapsed < 2 * 0.5
    assert [probe.stage for probe in report.probes] == ["greeting", "greeting", "done"]


async def test_a_hostile_greeting_never_shows_raw() -> None:
    greeting = b"220 evil\x1b]0;owned\x07\x1b[2J\xc2\x9b\xe2\x80\xae.example ESMTP\r\n"
    ehlo = b"250-ev\x1b[31mil\r\n250 AUTH PL\x1bAIN\r\n"
    async with ScriptedServer(dialogue({"EHLO": ehlo}, greeting=greeting)) as server:
        report = await probe_host("127.0.0.1", [ProbeTarget(server.port, STARTTLS)], timeout=2)
    shown = [
        *probe_cells(report.probes[0]),
        *(f.text for f in report.findings),
        report.recommendation,
        json_line(probe_json(report)),
    ]
    for text in shown:
        assert not any(c in text for c in "\x1b\x07\x9b\u202e"), text
    assert probe_cells(report.probes[0])[2] == "220 evil\\x1b]0;owned\\x07\\x1b[2J…"
    exact = json.loads(json_line(probe_json(report)))
    assert exact["ports"][0]["greeting"]["lines"] == [greeting[4:-2].decode()]


async def test_probe_json(make_server: Callable[..., EmbeddedServer], cafile: str) -> None:
    server = make_server()
    report = await probe_host("127.0.0.1", [ProbeTarget(server.port, STARTTLS)], cafile=cafile)
    found = json.loads(json_line(probe_json(report)))
    assert found["host"] == "127.0.0.1" and found["usable"] is True
    assert found["best"] == {"port": server.port, "security": "starttls", "mechanism": "PLAIN"}
    assert found["recommendation"] == report.recommendation
    [port] = found["ports"]
    assert (port["stage"], port["error"], port["connected"]) == ("done", None, True)
    assert port["greeting"] == {"code": 220, "lines": ["smtptui.demo ESMTP smtptui"]}
    assert port["before_tls"]["auth"] == [] and port["inside_tls"]["size"] == 33_554_432
    assert port["tls"]["verified"] is True and port["verify_error"] is None
    assert list(port["cells"]) == list(PROBE_COLUMNS)
    assert found["findings"] == [f.as_json() for f in report.findings]
    assert found["why"] == WHY


async def test_a_name_looked_up_in_the_nameserver_is_probed_at_its_address_by_its_name(
    nameserver: str, make_server: Callable[..., EmbeddedServer], cafile: str
) -> None:
    """mx2.mail.test is 127.0.0.1 in the test zone: the probe connects there and sends the
    name in SNI (the test certificate, for localhost, does not match it)."""
    server = make_server()
    target = [ProbeTarget(server.port, STARTTLS)]
    report = await probe_host("mx2.mail.test", target, cafile=cafile, nameserver=nameserver)
    assert (report.host, report.address) == ("mx2.mail.test", "127.0.0.1")
    [probe] = report.probes
    assert probe.host == "127.0.0.1" and probe.tls is not None
    assert probe.tls.server_hostname == "mx2.mail.test" and probe.verify_error
    assert probe_json(report)["address"] == "127.0.0.1"
    missing = await probe_host("mx9.mail.test", target, nameserver=nameserver)
    [probe] = missing.probes
    assert not probe.connected and probe.error == "mx9.mail.test does not exist (NXDOMAIN)"
    assert [(f.level, f.text) for f in missing.findings] == [
        (
            Level.INFO,
            f"{server.port}/starttls: no connection (mx9.mail.test does not exist (NXDOMAIN))",
        )
    ]
    assert not missing.answered
