"""TLS controls against real TLS servers: the SNI sent (recorded by the server's callback),
the name verified apart from it, the verification modes, TLS versions, ciphers, and a port
that speaks TLS first recognised at once (issue 14, part 1)."""

from __future__ import annotations

import contextlib
import ssl
import time
from collections.abc import Callable
from typing import Any

import pytest
import trustme

from smtptui.engine import SMTPClient, SMTPConnectError, SMTPTLSError, VerifyMode
from smtptui.engine.tls import CertificateInfo, make_tls_context, names_match
from smtptui.protocol.errors import CommandError
from smtptui.server import EmbeddedServer

from support.certificates import recording_context, threaded_tls_server
from support.scripted import Peer, ScriptedServer

MakeServer = Callable[..., EmbeddedServer]
NAME = "mail.example.org"


@pytest.fixture
def mail_server(make_server: MakeServer, ca: trustme.CA) -> tuple[EmbeddedServer, list]:
    """Implicit TLS with a certificate for mail.example.org only; the SNI names it saw."""
    return tls_server(make_server, ca, NAME)


def tls_server(make_server: MakeServer, ca: trustme.CA, *names: str) -> tuple[EmbeddedServer, list]:
    """An implicit-TLS embedded server with a certificate for ``names``, and the SNI names
    its clients send (not its own start-up probe's)."""
    context, seen = recording_context(ca, *names)
    server = make_server(implicit_tls=True, tls_context=context)
    seen.clear()
    return server, seen


async def connect(server: EmbeddedServer, host: str = "127.0.0.1", **options: Any) -> SMTPClient:
    client = SMTPClient(implicit_tls=True, timeout=5, connect_timeout=5, **options)
    await client.connect(host, server.port)
    return client


async def refused(server: EmbeddedServer, **options: Any) -> SMTPTLSError:
    with pytest.raises(SMTPTLSError) as info:
        await connect(server, **options)
    return info.value


async def test_the_default_sni_is_the_host(make_server: MakeServer, ca: trustme.CA, cafile: str):
    server, seen = tls_server(make_server, ca, "localhost")
    client = await connect(server, "localhost", cafile=cafile)
    assert seen == ["localhost"]
    assert client.tls is not None and client.tls.verified
    assert client.tls.verify_note == "chain and name localhost verified"
    await client.quit()


async def test_sni_is_sent_and_verified_by_default(mail_server, cafile: str) -> None:
    server, seen = mail_server
    client = await connect(server, cafile=cafile, server_hostname=NAME)
    assert seen == [NAME]
    assert client.tls is not None and client.tls.verified
    assert client.tls.verify_note == f"chain and name {NAME} verified"
    await client.quit()


async def test_an_address_sends_no_sni_and_a_verify_name_passes(mail_server, cafile: str):
    server, seen = mail_server
    client = await connect(server, cafile=cafile, verify_name=NAME)
    assert seen == [None]  # an IP address is never sent in SNI
    assert client.tls is not None and client.tls.verified
    assert client.tls.verify_note == f"chain and name {NAME} verified"
    await client.quit()


async def test_no_sni_at_all(make_server: MakeServer, ca: trustme.CA, cafile: str) -> None:
    server, seen = tls_server(make_server, ca, "localhost")
    client = await connect(server, "localhost", cafile=cafile, server_hostname="")
    assert seen == [None]
    assert client.tls is not None and client.tls.verify_note == "chain and name localhost verified"
    await client.quit()


async def test_a_wrong_verify_name_fails_naming_it_and_the_certificates_names(
    mail_server, cafile: str
) -> None:
    server, seen = mail_server
    error = await refused(server, cafile=cafile, server_hostname=NAME, verify_name="mx.example.net")
    assert seen == [NAME]  # the SNI went as asked; the name checked was the other
    assert (error.part, error.name, error.names) == ("name", "mx.example.net", (f"DNS:{NAME}",))
    assert error.certificate
    assert f"certificate is for DNS:{NAME}, not mx.example.net" in str(error)


async def test_the_host_is_checked_when_nothing_else_is_named(mail_server, cafile: str):
    server, _ = mail_server
    error = await refused(server, cafile=cafile)
    assert error.part == "name" and error.name == "127.0.0.1"
    assert f"certificate is for DNS:{NAME}, not 127.0.0.1" in str(error)


async def test_ca_mode_takes_any_name_but_not_an_unknown_issuer(mail_server, cafile: str):
    server, _ = mail_server
    client = await connect(server, cafile=cafile, verify=VerifyMode.CA)
    assert client.tls is not None and not client.tls.verified
    assert client.tls.verify_note == "chain verified, name not checked"
    await client.quit()
    error = await refused(server, verify=VerifyMode.CA)  # the system's CAs: not trustme's
    assert error.part == "chain" and error.certificate
    assert "certificate not trusted: unable to get local issuer certificate" in str(error)


async def test_host_mode_takes_any_issuer_but_not_another_name(mail_server) -> None:
    server, _ = mail_server
    client = await connect(server, verify=VerifyMode.HOST, verify_name=NAME)
    assert client.tls is not None and not client.tls.verified
    assert client.tls.verify_note == f"name {NAME} verified, chain not checked"
    await client.quit()
    error = await refused(server, verify=VerifyMode.HOST, verify_name="mx.example.net")
    assert error.part == "name" and error.name == "mx.example.net"


async def at(address: tuple[str, int], **options: Any) -> SMTPClient:
    client = SMTPClient(implicit_tls=True, timeout=5, connect_timeout=5, **options)
    await client.connect(*address)
    return client


async def refused_at(address: tuple[str, int], **options: Any) -> SMTPTLSError:
    with pytest.raises(SMTPTLSError) as info:
        await at(address, **options)
    return info.value


async def test_none_mode_checks_nothing_but_still_holds_to_the_versions(ca: trustme.CA) -> None:
    context, _ = recording_context(ca, NAME, maximum=ssl.TLSVersion.TLSv1_2)
    with threaded_tls_server(context) as address:
        client = await at(address, verify=VerifyMode.NONE)
        assert client.tls is not None and not client.tls.verified
        assert client.tls.verify_note == "certificate not verified: verification is turned off"
        client.close()
        error = await refused_at(address, verify=VerifyMode.NONE, tls_min="1.3")
    assert error.part == "version" and error.versions == ("1.3", None)


async def test_a_tls_1_2_server_is_refused_under_a_1_3_minimum(ca: trustme.CA, cafile: str):
    context, _ = recording_context(ca, "127.0.0.1", maximum=ssl.TLSVersion.TLSv1_2)
    with threaded_tls_server(context) as address:
        client = await at(address, cafile=cafile)
        assert client.tls is not None and client.tls.version == "TLSv1.2"
        client.close()
        error = await refused_at(address, cafile=cafile, tls_min="1.3")
    assert error.part == "version" and error.versions == ("1.3", None)
    assert not error.certificate
    assert "protocol version" in error.reason


async def test_a_tls_1_3_server_is_refused_under_a_1_2_maximum(ca: trustme.CA, cafile: str):
    context, _ = recording_context(ca, "127.0.0.1", minimum=ssl.TLSVersion.TLSv1_3)
    with threaded_tls_server(context) as address:
        error = await refused_at(address, cafile=cafile, tls_max="1.2")
    assert error.part == "version" and error.versions == (None, "1.2")


async def test_a_cipher_string_chooses_the_cipher(
    make_server: MakeServer, ca: trustme.CA, cafile: str
) -> None:
    context, _ = recording_context(ca, "127.0.0.1")
    server = make_server(implicit_tls=True, tls_context=context)
    options = {"cafile": cafile, "tls_max": "1.2"}
    for ciphers, bits in (("ECDHE+AESGCM:!AES256", 128), ("ECDHE+AESGCM:!AES128", 256)):
        client = await connect(server, ciphers=ciphers, **options)
        assert client.tls is not None and client.tls.bits == bits
        await client.quit()


def test_a_cipher_string_that_selects_nothing_is_refused() -> None:
    with pytest.raises(CommandError) as info:
        make_tls_context(ciphers="NOT-A-CIPHER")
    assert info.value.field == "ciphers" and "NOT-A-CIPHER" in str(info.value)


def test_the_modes_contexts() -> None:
    for mode, required in (
        (VerifyMode.BOTH, True),
        (VerifyMode.CA, True),
        (VerifyMode.HOST, False),
    ):
        context = make_tls_context(verify=mode)
        assert (context.verify_mode == ssl.CERT_REQUIRED) is required, mode
        assert not context.check_hostname  # the client checks the name itself
    context = make_tls_context(tls_min="1.2", tls_max="1.3")
    assert (context.minimum_version, context.maximum_version) == (
        ssl.TLSVersion.TLSv1_2,
        ssl.TLSVersion.TLSv1_3,
    )
    with pytest.raises(CommandError, match="TLS min"):
        make_tls_context(tls_min="1.4")


def certificate(*sans: str, common_name: str = "") -> CertificateInfo:
    return CertificateInfo(
        subject="",
        issuer="",
        common_name=common_name,
        sans=sans,
        not_before=None,  # type: ignore[arg-type]
        not_after=None,
        serial=0,
        sha256="",
        self_signed=False,  # type: ignore[arg-type]
        key_type="EC",
        key_bits=256,
        curve="secp256r1",
        signature_algorithm="ecdsa-with-SHA256",
        is_ca=False,
        ca_issuers=(),
        der=b"",
    )


@pytest.mark.parametrize(
    ("sans", "name", "matches"),
    [
        (("DNS:mail.example.org",), "mail.example.org", True),
        (("DNS:mail.example.org",), "MAIL.Example.org.", True),
        (("DNS:mail.example.org",), "mx.example.org", False),
        (("DNS:*.example.org",), "mail.example.org", True),
        (("DNS:*.example.org",), "a.mail.example.org", False),
        (("DNS:*.example.org",), "example.org", False),
        (("DNS:*.org",), "example.org", False),  # a wildcard needs two labels after it
        (("DNS:m*.example.org",), "mail.example.org", False),  # no partial wildcards
        (("IP:127.0.0.1",), "127.0.0.1", True),
        (("IP:::1",), "[0:0::1]", True),
        (("DNS:127.0.0.1",), "127.0.0.1", False),  # an address matches IP SANs only
        (("IP:127.0.0.1",), "127.0.0.2", False),
        (("DNS:xn--bcher-kva.example",), "bücher.example", True),
    ],
)
def test_names_match(sans: tuple[str, ...], name: str, matches: bool) -> None:
    assert names_match(certificate(*sans), name) is matches


def test_the_common_name_counts_only_without_dns_names() -> None:
    assert names_match(certificate(common_name="mail.example.org"), "mail.example.org")
    assert names_match(certificate("IP:10.0.0.1", common_name=NAME), NAME)
    assert not names_match(certificate("DNS:mx.example.org", common_name=NAME), NAME)


async def test_starttls_to_an_implicit_tls_port_is_recognised_at_once(mail_server) -> None:
    server, _ = mail_server
    client = SMTPClient(timeout=30)  # STARTTLS's dialogue: it waits for a greeting
    started = time.monotonic()
    with pytest.raises(SMTPConnectError) as info:
        await client.connect("127.0.0.1", server.port)
    assert time.monotonic() - started < 3
    assert info.value.cause == "implicit-tls"
    assert "this port expects implicit TLS" in str(info.value)
    assert not client.connected


async def test_a_slow_greeting_is_waited_for() -> None:
    """A plain server that greets after 2 s: the second connection's question gets plain
    text (or nothing), so the first goes on waiting, and gets the greeting."""

    async def script(peer: Peer) -> None:
        with contextlib.suppress(TimeoutError):
            await peer.read(timeout=2)  # the greeting delay: what comes in it is recorded
        await peer.send(b"220 slow.example ESMTP\r\n")
        await peer.line()

    async with ScriptedServer(script) as server:
        client = SMTPClient(timeout=5)
        assert await client.connect(server.host, server.port) == (220, b"slow.example ESMTP")
        client.close()
    first, question = server.peers
    assert b"".join(first.received) == b""  # nothing was sent before the greeting
    assert question.received[0].startswith(b"\x16\x03")  # a TLS ClientHello


async def test_implicit_tls_to_a_plain_port_says_it_spoke_plain_smtp(
    make_server: MakeServer,
) -> None:
    server = make_server()
    error = await refused(server)
    assert error.part == "plaintext"
    assert "the server's answer is not TLS" in str(error)
