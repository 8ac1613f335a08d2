"""``smtptui mx`` and ``run`` routed by MX, against a real DNS server on 127.0.0.1
(support.dns.ZONE) and the embedded server: mail.test's first MX (127.0.0.2) has nothing
listening, its second (127.0.0.1) is the embedded server, on the port given with --port."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable

from smtptui.engine.mx import WHY
from smtptui.server import EmbeddedServer

from support.hostile import raw
from support.processes import printed, smtptui_run_sync, smtptui_sync
from support.scripted import ScriptedServer, dialogue


def smtptui_mx(*args: str) -> subprocess.CompletedProcess[str]:
    """``smtptui mx ARGS`` in a terminal 100 columns wide."""
    return smtptui_sync("mx", *args, columns=100)


def findings(out: str) -> list[str]:
    """The lines that are hosts, addresses and findings (not a why's)."""
    return [line for line in out.splitlines() if not line.startswith(" " * 14)]


def whys(out: str) -> str:
    """The whys below the findings, on one line."""
    return " ".join(line.strip() for line in out.splitlines() if line.startswith(" " * 14))


def test_mx_lists_the_hosts_by_preference_with_reverse_dns(nameserver: str) -> None:
    result = smtptui_mx("bob@mail.test", "--nameserver", nameserver, "--no-connect")
    assert result.returncode == 0, result.stderr
    assert findings(result.stdout) == [
        "MX for mail.test:",
        "   10 mx1.mail.test",
        "        127.0.0.2",
        "          ✔ PTR: liar.test",
        "          ✘ FCrDNS: liar.test does not resolve back",
        "   20 mx2.mail.test",
        "        127.0.0.1",
        "          ✔ PTR: mx2.mail.test",
        "          ✔ FCrDNS: mx2.mail.test resolves back to 127.0.0.1",
    ]
    assert whys(result.stdout) == WHY["fcrdns"]  # below the failure, and wrapped
    assert result.stdout.splitlines()[5].startswith("              Forward-confirmed")
    assert all(len(line) <= 100 for line in result.stdout.splitlines())


def test_mx_says_a_missing_ptr_and_why_it_matters(nameserver: str) -> None:
    result = smtptui_mx("tie.test", "--nameserver", nameserver, "--no-connect")
    assert result.returncode == 0, result.stderr
    lines = findings(result.stdout)
    assert lines[1:4] == [
        "    5 c.tie.test",
        "        ::1",
        "          ✘ PTR: none (::1 has no PTR record)",
    ]
    assert whys(result.stdout) == WHY["ptr"]


def test_mx_json(nameserver: str) -> None:
    result = smtptui_mx("mail.test", "--json", "--nameserver", nameserver, "--no-connect")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["domain"] == "mail.test" and found["error"] is None
    assert [(host["preference"], host["name"]) for host in found["hosts"]] == [
        (10, "mx1.mail.test"),
        (20, "mx2.mail.test"),
    ]
    assert found["hosts"][1]["addresses"] == [
        {
            "address": "127.0.0.1",
            "ptr": ["mx2.mail.test"],
            "fcrdns": True,
            "ptr_is_host": True,
            "error": None,
            "banner": None,
        }
    ]
    assert found["hosts"][0]["addresses"][0]["fcrdns"] is False
    assert found["why"] == WHY


def test_mx_checks_each_banner_and_ehlo_name(
    nameserver: str, make_server: Callable[..., EmbeddedServer]
) -> None:
    """mx2.mail.test calls itself by its name; nothing listens on mx1's address."""
    server = make_server(hostname="MX2.mail.test")
    result = smtptui_mx("mail.test", "--nameserver", nameserver, "--port", str(server.port))
    assert result.returncode == 0, result.stderr
    assert findings(result.stdout) == [
        "MX for mail.test:",
        "   10 mx1.mail.test",
        "        127.0.0.2",
        "          ✔ PTR: liar.test",
        "          ✘ FCrDNS: liar.test does not resolve back",
        f"          · banner: none (connection refused (127.0.0.2:{server.port} during connect))",
        "   20 mx2.mail.test",
        "        127.0.0.1",
        "          ✔ PTR: mx2.mail.test",
        "          ✔ FCrDNS: mx2.mail.test resolves back to 127.0.0.1",
        "          ✔ banner MX2.mail.test, EHLO MX2.mail.test: the MX or PTR name",
    ]
    assert whys(result.stdout) == WHY["fcrdns"]  # a host that is down is no mismatch


def test_mx_says_a_mismatched_banner_and_why_it_matters(
    nameserver: str, server: EmbeddedServer
) -> None:
    port = str(server.port)
    result = smtptui_mx("mail.test", "--nameserver", nameserver, "--port", port)
    lines = findings(result.stdout)
    assert lines[-1] == (
        "          ⚠ banner smtptui.demo, EHLO smtptui.demo: not the MX name nor a PTR name"
    )
    assert whys(result.stdout) == f"{WHY['fcrdns']} {WHY['banner']}"
    found = json.loads(
        smtptui_mx("mail.test", "--json", "--nameserver", nameserver, "--port", port).stdout
    )
    assert found["hosts"][1]["addresses"][0]["banner"] == {
        "greeting_name": "smtptui.demo",
        "ehlo_name": "smtptui.demo",
        "matches": False,
        "error": None,
    }
    assert found["hosts"][0]["addresses"][0]["banner"]["greeting_name"] is None


def test_mx_implicit_mx(nameserver: str) -> None:
    result = smtptui_mx("implicit.test", "--nameserver", nameserver, "--no-connect")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [
        "MX for implicit.test (no MX: the domain's own address, RFC 5321 5.1):",
        "    0 implicit.test",
    ]


def test_mx_null_mx_and_nxdomain_are_errors(nameserver: str) -> None:
    null = smtptui_mx("null.test", "--nameserver", nameserver, "--no-connect")
    assert null.returncode == 2
    assert "null.test accepts no mail: its MX is the null MX '0 .' (RFC 7505)" in null.stderr
    missing = smtptui_mx("missing.test", "--json", "--nameserver", nameserver, "--no-connect")
    assert missing.returncode == 2
    assert json.loads(missing.stdout)["error"] == "missing.test does not exist (NXDOMAIN)"


def test_mx_bad_arguments_are_usage_errors_naming_them() -> None:
    bad = smtptui_mx("exa mple.org")
    assert bad.returncode == 1 and "'DOMAIN'" in bad.stderr and "Traceback" not in bad.stderr
    bad = smtptui_mx("example.org", "--nameserver", "dns.example")
    assert bad.returncode == 1 and "'--nameserver'" in bad.stderr
    bad = smtptui_mx("example.org", "--port", "0")
    assert bad.returncode == 1 and "'--port'" in bad.stderr


def test_run_without_a_host_routes_by_the_last_recipients_mx(
    nameserver: str, make_server: Callable[..., EmbeddedServer]
) -> None:
    """The first MX refuses: each attempt is said, and the message goes to the second."""
    server = make_server(starttls=False)
    port = str(server.port)
    result = smtptui_run_sync(
        "--plain",
        *("--to", "carol@tie.test", "--to", "bob@mail.test"),
        *("--nameserver", nameserver, "--port", port),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        "=== MX for mail.test: 10 mx1.mail.test, 20 mx2.mail.test",
        f"=== Connecting to 127.0.0.2:{port}…",
    ]
    moved = f"=== mx1.mail.test at 127.0.0.2:{port} did not take the connection: the next MX"
    assert moved in lines
    assert lines.index(moved) < lines.index(f"=== Connected to 127.0.0.1:{port}")
    assert lines.count(f"=== Connecting to 127.0.0.1:{port}…") == 1  # no knock first
    [message] = server.messages
    assert message.rcpt_tos == ("carol@tie.test", "bob@mail.test")


def test_run_routed_by_mx_checks_the_certificate_for_the_mx_name(
    nameserver: str, make_server: Callable[..., EmbeddedServer], cafile: str
) -> None:
    """STARTTLS to an MX host: the certificate must be for its name (SNI and check), not
    for the address it was found at; the test certificate is for localhost only."""
    server = make_server()
    result = smtptui_run_sync(
        *("--cafile", cafile, "--to", "bob@mail.test"),
        *("--nameserver", nameserver, "--port", str(server.port)),
    )
    assert result.returncode == 29, result.stdout + result.stderr
    assert "mx2.mail.test" in result.stdout + result.stderr


def test_run_says_why_no_mx_host_can_be_used(nameserver: str) -> None:
    null = smtptui_run_sync("--to", "bob@null.test", "--nameserver", nameserver)
    assert null.returncode == 2
    assert "null.test accepts no mail" in null.stderr and "Traceback" not in null.stderr
    dead = smtptui_run_sync("--to", "bob@implicit.test", "--nameserver", nameserver, "--port", "9")
    assert dead.returncode == 2
    assert "=== Connecting to 127.0.0.1:9…" in dead.stdout
    assert "no MX host answered" in dead.stderr and "Traceback" not in dead.stderr


def test_run_port_and_nameserver_only_without_a_host() -> None:
    result = smtptui_run_sync("mx.example", "--port", "2525", "--to", "bob@example.org")
    assert result.returncode == 1 and "--port and --nameserver" in result.stderr


def test_run_with_neither_host_nor_recipient_says_what_to_give() -> None:
    result = smtptui_run_sync()
    assert result.returncode == 1
    assert "give a HOST[:PORT], a --to (to route by its MX) or --demo" in result.stderr


async def test_mx_never_prints_a_hostile_banner_raw(nameserver: str) -> None:
    evil = b"mx\x1b]0;pwned\x07\x9b.example"
    script = dialogue({"EHLO": b"250 " + evil + b"\r\n"}, greeting=b"220 " + evil + b" ESMTP\r\n")
    async with ScriptedServer(script) as server:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "smtptui", "mx", "mail.test", "--nameserver", nameserver),
            *("--port", str(server.port)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "COLUMNS": "200"},  # the finding on one line
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
    shown = printed(out + err)
    assert raw(shown) == set(), shown
    name = "mx\\x1b]0;pwned\\x07\\x9b.example"
    assert f"⚠ banner {name}, EHLO {name}: not the MX" in shown


def test_run_with_host_at_a_domain_routes_by_its_mx(
    nameserver: str, make_server: Callable[..., EmbeddedServer]
) -> None:
    server = make_server(starttls=False)
    port = str(server.port)
    result = smtptui_run_sync(
        "@mail.test",
        "--plain",
        "--to",
        "bob@example.org",
        "--nameserver",
        nameserver,
        "--port",
        port,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"=== Connected to 127.0.0.1:{port}" in result.stdout.splitlines()
    [message] = server.messages
    assert message.rcpt_tos == ("bob@example.org",)


def test_run_host_at_a_bad_domain_names_host() -> None:
    result = smtptui_run_sync("@exa mple.org", "--to", "bob@example.org")
    assert result.returncode == 1
    assert "'HOST'" in result.stderr and "is not a domain name" in result.stderr
    assert "Traceback" not in result.stderr
