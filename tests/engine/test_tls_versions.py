"""probe_versions: each TLS version probed apart, against the embedded server held to some
versions with trustme certificates, one that speaks TLS 1.0, and ports that offer no TLS."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable

import pytest
import trustme

from smtptui.engine.probe import DEADLINE, PortSecurity
from smtptui.engine.tls_versions import LEGACY_CIPHERS, client_offers, probe_versions
from smtptui.server import EmbeddedServer

from support.scripted import ScriptedServer, stall
from support.tls_servers import closed_port, legacy_context, tls_context

MakeServer = Callable[..., EmbeddedServer]
TLS12, TLS13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3


def accepted(results: tuple) -> dict[str, str]:
    return {found.version: found.cipher for found in results if found.accepted}


async def test_a_tls_1_2_only_server(make_server: MakeServer, ca: trustme.CA) -> None:
    server = make_server(tls_context=tls_context(ca, minimum=TLS12, maximum=TLS12))
    results = await probe_versions("127.0.0.1", server.port, PortSecurity.STARTTLS, timeout=5)
    assert [found.version for found in results] == ["1.0", "1.1", "1.2", "1.3"]
    assert list(accepted(results)) == ["1.2"]
    assert accepted(results)["1.2"]  # the cipher it chose
    assert all(found.refused and found.reason for found in results if not found.accepted)
    assert results[2].probe is not None and results[2].probe.tls is not None
    assert results[2].probe.tls.version == "TLSv1.2"


async def test_a_tls_1_3_only_server_over_implicit_tls(
    make_server: MakeServer, ca: trustme.CA
) -> None:
    """A server that hangs up on a version it does not speak refuses it, as one that sends
    an alert does."""
    server = make_server(tls_context=tls_context(ca, minimum=TLS13), implicit_tls=True)
    results = await probe_versions("127.0.0.1", server.port, PortSecurity.TLS, timeout=5)
    assert accepted(results) == {"1.3": results[3].cipher}
    assert results[3].cipher.startswith("TLS_")
    assert [found.refused for found in results] == [True, True, True, False]


@pytest.mark.skipif(client_offers("1.0", LEGACY_CIPHERS) != "", reason="no TLS 1.0 here")
async def test_tls_1_0_and_1_1_are_offered_at_security_level_0(
    make_server: MakeServer, ca: trustme.CA
) -> None:
    server = make_server(tls_context=legacy_context(ca))
    results = await probe_versions("127.0.0.1", server.port, PortSecurity.STARTTLS, timeout=5)
    assert set(accepted(results)) == {"1.0", "1.1", "1.2", "1.3"}
    assert results[0].probe is not None and results[0].probe.tls is not None
    assert results[0].probe.tls.version == "TLSv1"


def test_a_version_the_client_cannot_offer_is_said_so() -> None:
    """AES-GCM ciphers need TLS 1.2: with them alone TLS 1.0 cannot be offered, the
    client's doing, found without a connection."""
    assert client_offers("1.2") == ""
    reason = client_offers("1.0", "ECDHE+AESGCM")
    assert "cannot offer it: no ciphers available" in reason
    assert ssl.OPENSSL_VERSION in reason


async def test_no_starttls_is_neither_accepted_nor_refused(make_server: MakeServer) -> None:
    server = make_server(starttls=False)
    results = await probe_versions("127.0.0.1", server.port, PortSecurity.STARTTLS, timeout=5)
    assert not any(found.accepted or found.refused for found in results)
    assert {found.reason for found in results} == {"the server does not offer STARTTLS"}


async def test_a_dead_port() -> None:
    port = closed_port()
    results = await probe_versions("127.0.0.1", port, PortSecurity.STARTTLS, timeout=5)
    assert not any(found.accepted or found.refused for found in results)
    assert all("refused" in found.reason for found in results)
    assert all(found.probe and found.probe.stage == "connect" for found in results)


async def test_the_versions_are_probed_at_once() -> None:
    """Four probes of a server that never greets end near one probe's deadline, well
    before four."""
    async with ScriptedServer(stall) as server:
        started = time.monotonic()
        results = await probe_versions("127.0.0.1", server.port, PortSecurity.STARTTLS, timeout=0.5)
        elapsed = time.monotonic() - started
    assert all("no answer" in found.reason for found in results)
    assert elapsed < 2 * DEADLINE * 0.5  # one after another: 4 * DEADLINE * 0.5
