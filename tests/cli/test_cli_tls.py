"""``run``'s TLS flags (issue 14, part 1), as a user runs them: a real process against the
embedded server and real TLS servers; bad values as usage errors naming their flag."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable

import pytest
import trustme
from click.testing import CliRunner

from smtptui.cli import main
from smtptui.server import EmbeddedServer

from support.certificates import recording_context, threaded_tls_server
from support.processes import smtptui_run_sync

MakeServer = Callable[..., EmbeddedServer]
NAME = "mail.example.org"
TLS_FAILED = 29  # Exit.TLS


@pytest.fixture
def mail_server(make_server: MakeServer, ca: trustme.CA) -> tuple[EmbeddedServer, list]:
    """STARTTLS with a certificate for mail.example.org only; the SNI names clients send."""
    context, seen = recording_context(ca, NAME)
    server = make_server(tls_context=context)
    return server, seen


def test_sni_verify_name_versions_and_ciphers_end_to_end(mail_server, cafile: str) -> None:
    server, seen = mail_server
    result = smtptui_run_sync(
        f"127.0.0.1:{server.port}",
        *("--cafile", cafile, "--sni", "sni.example", "--verify-name", NAME),
        *("--tls-min", "1.2", "--tls-max", "1.2", "--ciphers", "ECDHE+AESGCM:!AES256"),
        *("--to", "bob@example.org"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert seen[-1] == "sni.example"
    assert f"chain and name {NAME} verified" in result.stdout
    assert "TLSv1.2" in result.stdout and "AES128-GCM" in result.stdout
    assert server.messages[-1].rcpt_tos == ("bob@example.org",)


def test_a_wrong_verify_name_fails_naming_both_names(mail_server, cafile: str) -> None:
    server, seen = mail_server
    result = smtptui_run_sync(
        f"127.0.0.1:{server.port}", "--cafile", cafile, "--verify-name", "mx.example"
    )
    assert result.returncode == TLS_FAILED
    assert f"certificate is for DNS:{NAME}, not mx.example" in result.stderr
    assert seen[-1] is None  # an address: no SNI


@pytest.mark.parametrize(
    ("flags", "status", "words"),
    [
        (("--verify", "ca"), 0, "chain verified, name not checked"),
        (("--verify", "host", "--verify-name", NAME), 0, f"name {NAME} verified, chain not"),
        (("--verify", "host"), TLS_FAILED, f"certificate is for DNS:{NAME}, not 127.0.0.1"),
        (("--verify", "none"), 0, "verification is turned off"),
        (("--no-verify",), 0, "verification is turned off"),
    ],
)
def test_verify_modes(mail_server, cafile: str, flags: tuple, status: int, words: str) -> None:
    server, _ = mail_server
    result = smtptui_run_sync(f"127.0.0.1:{server.port}", "--cafile", cafile, *flags)
    assert result.returncode == status, result.stdout + result.stderr
    assert words in result.stdout + result.stderr


def test_ca_mode_still_refuses_an_unknown_issuer(mail_server) -> None:
    server, _ = mail_server
    result = smtptui_run_sync(f"127.0.0.1:{server.port}", "--verify", "ca")
    assert result.returncode == TLS_FAILED
    assert "certificate not trusted: unable to get local issuer certificate" in result.stderr


def test_a_tls_1_2_server_under_tls_min_1_3(ca: trustme.CA, cafile: str) -> None:
    context, _ = recording_context(ca, "127.0.0.1", maximum=ssl.TLSVersion.TLSv1_2)
    with threaded_tls_server(context) as (host, port):
        result = smtptui_run_sync(f"{host}:{port}", "--tls", "--cafile", cafile, "--tls-min", "1.3")
    assert result.returncode == TLS_FAILED
    assert "it may speak only TLS 1.2 or older" in result.stderr
    assert "no TLS version from TLS 1.3 up" in result.stderr


def test_a_client_certificate(make_server: MakeServer, ca: trustme.CA, cafile: str, tmp_path):
    context, _ = recording_context(ca, "127.0.0.1")
    context.verify_mode = ssl.CERT_REQUIRED  # the server asks for a client certificate
    ca.configure_trust(context)
    server = make_server(tls_context=context)
    client = ca.issue_cert("client.example")
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    client.cert_chain_pems[0].write_to_path(str(cert))
    client.private_key_pem.write_to_path(str(key))
    address = f"127.0.0.1:{server.port}"
    result = smtptui_run_sync(address, "--cafile", cafile, "--cert", str(cert), "--key", str(key))
    assert result.returncode == 0, result.stdout + result.stderr
    without = smtptui_run_sync(address, "--cafile", cafile, "--to", "bob@example.org")
    assert without.returncode != 0 and not server.messages


def test_starttls_to_an_implicit_tls_port_is_explained_at_once(
    make_server: MakeServer, cafile: str
) -> None:
    server = make_server(implicit_tls=True)
    started = time.monotonic()
    result = smtptui_run_sync(f"127.0.0.1:{server.port}", "--cafile", cafile, "--timeout", "30")
    assert time.monotonic() - started < 10  # not the 30 s reply timeout (a process starts too)
    assert result.returncode != 0
    assert "this port expects implicit TLS" in result.stderr
    assert "--tls" in result.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--ciphers", "NO-SUCH-CIPHER"], "Invalid value for '--ciphers'"),
        (["--tls-min", "1.4"], "Invalid value for '--tls-min'"),
        (["--tls-max", "2"], "Invalid value for '--tls-max'"),
        (["--tls-min", "1.3", "--tls-max", "1.2"], "Invalid value for '--tls-max'"),
        (["--verify", "always"], "Invalid value for '--verify'"),
        (["--no-verify", "--verify", "both"], "--no-verify means --verify none"),
        (["--sni", "a b"], "Invalid value for '--sni'"),
        (["--verify-name", "a\r\nb"], "Invalid value for '--verify-name'"),
        (["--key", __file__], "Invalid value for '--key': client key: needs the client"),
        (["--cert", "/no/such/file.pem"], "Invalid value for '--cert'"),
    ],
)
def test_bad_tls_flags_are_usage_errors_naming_the_flag(args: list[str], words: str) -> None:
    result = CliRunner().invoke(main, ["run", "192.0.2.1:9", *args])
    assert result.exit_code == 1, result.output
    assert words in result.output
    assert "Traceback" not in result.output
