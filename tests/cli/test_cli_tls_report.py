"""``smtptui tls-report`` as a real process, against the embedded server with trustme
certificates: its text, --json, the exit statuses, and bad arguments."""

from __future__ import annotations

import json
import ssl
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import trustme
from click.testing import CliRunner

from smtptui.cli import main
from smtptui.engine.dane import tlsa_for
from smtptui.engine.tls import CertificateInfo
from smtptui.server import EmbeddedServer
from smtptui.session.tls_report import WHY

from support.dns import dns_server
from support.processes import smtptui_sync
from support.schemas import validator
from support.tls_servers import closed_port, tls_context

MakeServer = Callable[..., EmbeddedServer]


def report(out: str) -> dict:
    """stdout as the one JSON object, valid against the schema."""
    found = json.loads(out)
    validator("tls-report.schema.json").validate(found)
    return found


def tls_report(*args: str) -> subprocess.CompletedProcess[str]:
    return smtptui_sync("tls-report", *args)


def test_a_good_server(make_server: MakeServer, ca: trustme.CA, cafile: str) -> None:
    server = make_server(tls_context=tls_context(ca))
    result = tls_report(f"127.0.0.1:{server.port}", "--cafile", cafile)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        f"TLS report for 127.0.0.1:{server.port} (starttls)",
        "Connection",
        "  · greeting: 220 smtptui.demo ESMTP smtptui",
        "  ✔ STARTTLS offered",
    ]
    assert lines[4] == "TLS versions"
    assert lines[5:7] == [
        "  ✔ TLS 1.0 refused, as it should be",
        "  ✔ TLS 1.1 refused, as it should be",
    ]
    assert lines[9] == "Certificate"
    assert lines[10] == "  ✔ verified: a chain to a trusted root, for 127.0.0.1"
    assert result.stderr == ""


def test_a_warning_says_why_below_it_and_exits_29(
    make_server: MakeServer, ca: trustme.CA, cafile: str
) -> None:
    server = make_server(tls_context=tls_context(ca, days=10.5))
    result = tls_report(f"127.0.0.1:{server.port}", "--cafile", cafile)
    assert result.returncode == 29
    lines = result.stdout.splitlines()
    (at,) = (n for n, line in enumerate(lines) if line.startswith("  ⚠ valid until "))
    assert lines[at].endswith("(expires in 10 days)")
    why = [f"      {line}" for line in textwrap.wrap(WHY["expiring"], 74)]
    assert lines[at + 1 : at + 1 + len(why)] == why


def test_a_failure_exits_29_and_information_has_no_why(
    make_server: MakeServer, ca: trustme.CA, cafile: str
) -> None:
    server = make_server(tls_context=tls_context(ca, "mail.example"))
    result = tls_report(f"127.0.0.1:{server.port}", "--cafile", cafile)
    assert result.returncode == 29
    lines = result.stdout.splitlines()
    at = lines.index("  ✘ not for 127.0.0.1: for DNS:mail.example")
    assert lines[at + 1] == "      " + textwrap.wrap(WHY["name"], 74)[0]
    issued = next(n for n, line in enumerate(lines) if line.startswith("  · issued to "))
    after = [line for line in lines[issued + 1 :] if not line.startswith("    ")]  # wrapped
    assert after[0].startswith("  · key ")  # information: no why below it


def test_sni_names_the_certificate_checked(
    make_server: MakeServer, ca: trustme.CA, cafile: str
) -> None:
    server = make_server(tls_context=tls_context(ca, "mail.example"))
    result = tls_report(f"127.0.0.1:{server.port}", "--cafile", cafile, "--sni", "mail.example")
    assert result.returncode == 0, result.stdout


def test_implicit_tls(make_server: MakeServer, ca: trustme.CA, cafile: str) -> None:
    server = make_server(tls_context=tls_context(ca), implicit_tls=True)
    result = tls_report(f"127.0.0.1:{server.port}", "--tls", "--cafile", cafile)
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[0] == f"TLS report for 127.0.0.1:{server.port} (tls)"
    assert f"  ✔ 127.0.0.1:{server.port} speaks TLS from the first byte" in result.stdout


def test_json(make_server: MakeServer, ca: trustme.CA, cafile: str) -> None:
    server = make_server(tls_context=tls_context(ca, days=10.5))
    result = tls_report(f"127.0.0.1:{server.port}", "--cafile", cafile, "--json")
    assert result.returncode == 29
    found = report(result.stdout)
    assert (found["level"], found["tls"], found["port"]) == ("warn", True, server.port)
    assert [version["version"] for version in found["versions"]] == ["1.0", "1.1", "1.2", "1.3"]
    expiry = found["sections"][2]["findings"][2]
    assert (expiry["level"], expiry["why"]) == ("warn", WHY["expiring"])


def test_no_starttls_exits_2(make_server: MakeServer) -> None:
    server = make_server(starttls=False)
    result = tls_report(f"127.0.0.1:{server.port}")
    assert result.returncode == 2
    why = [f"      {line}" for line in textwrap.wrap(WHY["no starttls"], 74)]
    assert result.stdout.splitlines()[-1 - len(why) :] == ["  ✘ STARTTLS not offered", *why]


def test_a_dead_port_exits_2() -> None:
    port = closed_port()
    result = tls_report(f"127.0.0.1:{port}", "--json", "--timeout", "2")
    assert result.returncode == 2
    found = report(result.stdout)
    assert found["tls"] is False and found["certificate"] is None
    assert [section["title"] for section in found["sections"]] == ["Connection"]
    assert "refused" in found["sections"][0]["findings"][0]["text"]


def test_bad_arguments_are_usage_errors_naming_them() -> None:
    host = tls_report("[::1")
    assert host.returncode == 1 and host.stdout == ""
    assert "Invalid value for 'HOST[:PORT]': '[::1': " in host.stderr
    sni = tls_report("127.0.0.1", "--sni", "two words")
    assert sni.returncode == 1 and "Invalid value for '--sni': SNI:" in sni.stderr
    timeout = tls_report("127.0.0.1", "--timeout", "0")
    assert timeout.returncode == 1 and "'--timeout'" in timeout.stderr
    for result in (host, sni, timeout):
        assert "Traceback" not in result.stderr


def test_colours_by_level(make_server: MakeServer, ca: trustme.CA, cafile: str) -> None:
    server = make_server(tls_context=tls_context(ca, "mail.example"))
    args = ["tls-report", f"127.0.0.1:{server.port}", "--cafile", cafile]
    result = CliRunner().invoke(main, args, color=True)
    assert result.exit_code == 29
    assert "\x1b[32m  ✔ STARTTLS offered\x1b[0m" in result.output
    assert "\x1b[31m  ✘ not for 127.0.0.1: for DNS:mail.example\x1b[0m" in result.output
    assert "\n  · issued to " in result.output  # information: no colour


def test_a_domain_routed_by_its_mx_with_dane_and_mta_sts(
    make_server: MakeServer, ca: trustme.CA, cafile: str, tmp_path: Path
) -> None:
    """@DOMAIN: its MX found in a real DNS server, the TLSA record given, the MTA-STS TXT
    record from DNS and the policy from a file."""
    leaf = ca.issue_cert("mx.sts.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    leaf.configure_cert(context)
    server = make_server(tls_context=context)
    der = ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode())
    record = tlsa_for(CertificateInfo.from_der(der))
    policy = tmp_path / "mta-sts.txt"
    policy.write_text("version: STSv1\nmode: testing\nmx: mx.sts.test\nmax_age: 604800\n")
    zone = (
        "sts.test. 60 IN MX 10 mx.sts.test.\n"
        "mx.sts.test. 60 IN A 127.0.0.1\n"
        '_mta-sts.sts.test. 60 IN TXT "v=STSv1; id=1"\n'
    )
    with dns_server(zone) as nameserver:
        result = tls_report(
            f"@sts.test:{server.port}",
            *("--nameserver", nameserver, "--cafile", cafile, "--tlsa", record.text),
            *("--policy-file", str(policy), "--json"),
        )
    found = report(result.stdout)
    assert result.returncode == 29, result.stderr  # mode testing: a warning
    assert found["host"] == "mx.sts.test"
    sections = {section["title"]: section["level"] for section in found["sections"]}
    assert sections == {
        "MX": "info",
        "Connection": "ok",
        "TLS versions": "ok",
        "Certificate": "ok",
        "DANE": "ok",
        "MTA-STS": "warn",
    }


def test_bad_dane_and_mta_sts_arguments_are_usage_errors() -> None:
    tlsa = tls_report("127.0.0.1", "--tlsa", "3 1 1 zz")
    assert tlsa.returncode == 1 and "Invalid value for '--tlsa'" in tlsa.stderr
    policy = tls_report("127.0.0.1", "--policy-file", "policy.txt")
    assert policy.returncode == 1
    assert "--policy-file needs a domain: @DOMAIN or --domain" in policy.stderr
    domain = tls_report("@not a domain")
    assert domain.returncode == 1 and "Invalid value for 'HOST'" in domain.stderr
    nameserver = tls_report("127.0.0.1", "--nameserver", "nowhere")
    assert nameserver.returncode == 1 and "Invalid value for '--nameserver'" in nameserver.stderr
