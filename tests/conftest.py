"""Shared fixtures: a trustme CA, real aiosmtpd servers and a DNS server to test against."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from smtptui.server import EmbeddedServer

from support.dns import dns_server

SERVER_NAMES = ("localhost", "127.0.0.1", "::1")


@pytest.fixture(autouse=True)
def config_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config directory of the test's own: no test reads or writes the user's themes or
    remembered choices."""
    path = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("SMTPTUI_CONFIG_DIR", str(path))
    return path


def _server_context(cert: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    return context


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """The test CA; `client_tls_context` trusts it and nothing else."""
    return trustme.CA()


@pytest.fixture
def cafile(ca: trustme.CA, tmp_path: Path) -> str:
    """The test CA's certificate as a file, for ``--cafile`` and ``SessionSettings.cafile``."""
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def server_tls_context(ca: trustme.CA) -> ssl.SSLContext:
    """A server context with a certificate from `ca` for localhost, 127.0.0.1 and ::1."""
    return _server_context(ca.issue_cert(*SERVER_NAMES))


@pytest.fixture(scope="session")
def expired_tls_context(ca: trustme.CA) -> ssl.SSLContext:
    """Like `server_tls_context`, but the certificate expired yesterday."""
    now = dt.datetime.now(dt.UTC)
    cert = ca.issue_cert(
        *SERVER_NAMES,
        not_before=now - dt.timedelta(days=30),
        not_after=now - dt.timedelta(days=1),
    )
    return _server_context(cert)


@pytest.fixture
def client_tls_context(ca: trustme.CA) -> ssl.SSLContext:
    """A client context trusting only `ca`, with hostname checking on (a fresh one per test)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(context)
    return context


@pytest.fixture
def make_server(
    server_tls_context: ssl.SSLContext,
) -> Iterator[Callable[..., EmbeddedServer]]:
    """`make_server(**kwargs)`: a started `EmbeddedServer` on 127.0.0.1 and a free port,
    with the `ca`-issued certificate unless `tls_context` is given; all are stopped at
    teardown."""
    servers: list[EmbeddedServer] = []

    def make(**kwargs: Any) -> EmbeddedServer:
        kwargs.setdefault("tls_context", server_tls_context)
        server = EmbeddedServer(**kwargs)
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def server(make_server: Callable[..., EmbeddedServer]) -> EmbeddedServer:
    """STARTTLS offered; AUTH (PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256 XOAUTH2 OAUTHBEARER) only
    after it, DEMO_USERS (and DEMO_TOKENS)."""
    return make_server()


@pytest.fixture
def tls_server(make_server: Callable[..., EmbeddedServer]) -> EmbeddedServer:
    """Implicit TLS (like port 465): TLS from the first byte, AUTH offered at once."""
    return make_server(implicit_tls=True)


@pytest.fixture
def untrusted_server(make_server: Callable[..., EmbeddedServer]) -> EmbeddedServer:
    """STARTTLS with the server's own self-signed certificate (`.self_signed`), which
    `client_tls_context` rejects."""
    return make_server(tls_context=None)


@pytest.fixture
def expired_server(
    make_server: Callable[..., EmbeddedServer], expired_tls_context: ssl.SSLContext
) -> EmbeddedServer:
    """STARTTLS with a certificate from `ca` that has expired."""
    return make_server(tls_context=expired_tls_context)


@pytest.fixture(scope="session")
def policy_context(ca: trustme.CA) -> ssl.SSLContext:
    """A server context for mta-sts.sts.test, the MTA-STS policy host of the test domain
    sts.test, with a certificate from `ca` (for ``support.https.https_server``)."""
    return _server_context(ca.issue_cert("mta-sts.sts.test"))


@pytest.fixture(scope="session")
def nameserver() -> Iterator[str]:
    """``"127.0.0.1:PORT"``: a real DNS server answering from ``support.dns.ZONE``."""
    with dns_server() as address:
        yield address
