"""``smtptui probe`` as a real process against real servers on 127.0.0.1: the matrix, the
findings, the recommendation, JSON, the exit statuses, and bad arguments."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable

import pytest

from smtptui.server import EmbeddedServer
from smtptui.session.probe import PROBE_COLUMNS, WHY

from support.hostile import hostile_server, raw
from support.processes import smtptui
from support.scripted import ScriptedServer, well_behaved


async def smtptui_probe(*args: str, columns: int = 80) -> tuple[int, str, str]:
    """``smtptui probe ARGS`` in a terminal ``columns`` wide: status, stdout, stderr."""
    return await smtptui("probe", *args, columns=columns)


def free_port() -> int:
    """A port on 127.0.0.1 where nothing listens once this returns."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_probe_prints_each_port_the_findings_and_the_recommendation(
    make_server: Callable[..., EmbeddedServer], cafile: str
) -> None:
    starttls, implicit = make_server(), make_server(implicit_tls=True)
    status, out, err = await smtptui_probe(
        "127.0.0.1",
        *("--port", str(starttls.port), "--port", f"{implicit.port}:tls"),
        *("--cafile", cafile),
    )
    assert status == 0, err
    lines = out.splitlines()
    assert lines[:3] == [
        "Probe of 127.0.0.1:",
        f"{starttls.port}/starttls",
        "  connects         yes",
    ]
    assert "  TLS              TLSv1.3 ✔ verified" in lines
    assert f"{implicit.port}/tls" in lines
    assert all(len(line) <= 80 for line in lines)
    assert f"✔ {starttls.port}/starttls: TLSv1.3, certificate verified" in lines
    assert " ".join(out.split("\n\n")[-1].split()) == (
        f"Recommendation: Use {implicit.port} with implicit TLS and PLAIN (RFC 8314 prefers "
        f"implicit TLS for submission); {starttls.port} with STARTTLS works too."
    )


async def test_a_wide_terminal_gets_the_matrix_as_a_table(server: EmbeddedServer) -> None:
    status, out, _ = await smtptui_probe(
        "127.0.0.1", "--port", str(server.port), "--verify", "none", columns=1000
    )
    assert status == 0
    header, row = out.splitlines()[1:3]
    assert header.split("  ")[0] == "port" and "AUTH inside TLS" in header
    assert row.startswith(f"{server.port}/starttls") and "TLSv1.3 not verified" in row
    assert header.index("greeting") == row.index("220 smtptui.demo")


async def test_warnings_say_why_they_matter(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server(auth_require_tls=False, tls_context=None)
    status, out, _ = await smtptui_probe("127.0.0.1", "--port", str(server.port), columns=1000)
    assert status == 0  # usable, with a "but"
    lines = out.splitlines()
    before = lines.index(
        f"⚠ {server.port}/starttls: AUTH offered before TLS "
        "(CRAM-MD5 LOGIN OAUTHBEARER PLAIN SCRAM-SHA-256 XOAUTH2)"
    )
    assert lines[before + 1] == f"    {WHY['auth before tls']}"
    assert "but its certificate is not verified" in lines[-1]


async def test_no_auth_anywhere_exits_28() -> None:
    async with ScriptedServer(well_behaved) as server:
        status, out, _ = await smtptui_probe("127.0.0.1", "--port", str(server.port))
    assert status == 28
    assert " ".join(out.split("\n\n")[-1].split()) == (
        f"Recommendation: No port offers AUTH ({server.port}): this server takes no client's "
        "login from here."
    )


async def test_nothing_answers_exits_2() -> None:
    port = free_port()
    status, out, _ = await smtptui_probe("127.0.0.1", "--port", str(port), "--timeout", "2")
    assert status == 2
    assert out.splitlines()[-1] == f"Recommendation: Nothing answered on {port}."


async def test_probe_json(server: EmbeddedServer) -> None:
    status, out, _ = await smtptui_probe(
        "127.0.0.1", "--port", str(server.port), "--verify", "none", "--json"
    )
    assert status == 0
    found = json.loads(out)
    assert found["usable"] is True and found["best"]["port"] == server.port
    [port] = found["ports"]
    assert list(port["cells"]) == list(PROBE_COLUMNS)
    assert port["tls"]["verified"] is False and port["verify_error"] is None


async def test_a_hostile_server_never_reaches_the_terminal_raw() -> None:
    async with ScriptedServer(hostile_server()) as server:
        for extra in ((), ("--json",)):
            _, out, err = await smtptui_probe("127.0.0.1", "--port", str(server.port), *extra)
            assert raw(out + err) == set(), out + err
            assert "\\x1b]0;pwned" in out


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["bad host"], "HOST"),
        (["mx.example:587"], "HOST"),
        (["bob@example.org"], "HOST"),
        (["mx.example", "--port", "587:ssl"], "--port"),
        (["mx.example", "--port", "99999"], "--port"),
        (["mx.example", "--verify", "maybe"], "--verify"),
        (["mx.example", "--nameserver", "dns.example"], "--nameserver"),
    ],
)
async def test_bad_arguments_exit_1_naming_the_culprit(args: list[str], named: str) -> None:
    status, out, err = await smtptui_probe(*args)
    assert status == 1 and out == ""
    assert f"'{named}'" in err and "Traceback" not in err


async def test_nameserver_looks_the_host_up_there_and_checks_the_certificate_for_its_name(
    nameserver: str, make_server: Callable[..., EmbeddedServer], cafile: str
) -> None:
    """mx2.mail.test is 127.0.0.1 in the test zone; the test certificate is for localhost
    only, so the probe's certificate check is for the name, not the address."""
    server = make_server()
    args = ("mx2.mail.test", "--nameserver", nameserver, "--port", str(server.port))
    status, out, err = await smtptui_probe(*args, "--cafile", cafile, columns=200)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == "Probe of mx2.mail.test at 127.0.0.1:"
    [unverified] = [line for line in lines if line.startswith(f"⚠ {server.port}/starttls")]
    assert "certificate not verified" in unverified and "mx2.mail.test" in unverified
    status, out, err = await smtptui_probe(*args, "--cafile", cafile, "--sni", "localhost")
    assert status == 0, err
    assert f"✔ {server.port}/starttls: TLSv1.3, certificate verified" in out.splitlines()


async def test_a_host_the_nameserver_has_no_address_for_is_said_on_every_port(
    nameserver: str,
) -> None:
    status, out, _ = await smtptui_probe("nothing.test", "--nameserver", nameserver, "--json")
    assert status == 2
    found = json.loads(out)
    assert found["address"] is None
    assert [port["error"] for port in found["ports"]] == [
        "nothing.test has no address (no A or AAAA record)"
    ] * 4
    assert [f["level"] for f in found["findings"]] == ["info"] * 4
