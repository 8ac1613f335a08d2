"""The stapled-OCSP probe against real pyOpenSSL servers that staple (or not), refuse,
hang up, or greet with escape sequences."""

from __future__ import annotations

import socket
import time

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import ocsp

from smtptui.engine.ocsp import OcspStatus, read_staple, stapled_ocsp
from smtptui.session import visible

from support.stapling import NEXT_UPDATE, REVOKED_AT, THIS_UPDATE, Stapler, ocsp_response
from support.stapling import stapling_server as serving


@pytest.fixture(scope="module")
def leaf(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert("mail.staple.test")


async def ask(stapler: Stapler, timeout: float = 5) -> OcspStatus:
    with serving(stapler) as (host, port):
        return await stapled_ocsp(
            host,
            port,
            implicit_tls=stapler.implicit_tls,
            sni="mail.staple.test",
            ehlo_name="probe.test",
            timeout=timeout,
        )


@pytest.mark.parametrize("implicit_tls", [False, True], ids=["starttls", "implicit"])
async def test_good(ca: trustme.CA, leaf: trustme.LeafCert, implicit_tls: bool) -> None:
    staple = ocsp_response(ca, leaf, ocsp.OCSPCertStatus.GOOD)
    stapler = Stapler(leaf, staple, implicit_tls=implicit_tls)
    status = await ask(stapler)
    assert status.stapled and status.error is None and status.status == "good"
    assert (status.this_update, status.next_update) == (THIS_UPDATE, NEXT_UPDATE)
    assert status.produced_at is not None and status.revoked_at is None
    signer = x509.load_pem_x509_certificate(ca.cert_pem.bytes()).subject
    assert status.responder == signer.rfc4514_string()
    assert stapler.sni == [b"mail.staple.test"]
    starttls = [] if implicit_tls else [b"EHLO probe.test\r\n", b"STARTTLS\r\n"]
    assert stapler.received == [*starttls, b"QUIT\r\n"]


async def test_revoked(ca: trustme.CA, leaf: trustme.LeafCert) -> None:
    stapler = Stapler(leaf, ocsp_response(ca, leaf, ocsp.OCSPCertStatus.REVOKED))
    status = await ask(stapler)
    assert (status.stapled, status.status, status.revoked_at) == (True, "revoked", REVOKED_AT)


async def test_nothing_stapled(leaf: trustme.LeafCert) -> None:
    assert await ask(Stapler(leaf)) == OcspStatus(False)


async def test_unsuccessful_response(leaf: trustme.LeafCert) -> None:
    failed = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.TRY_LATER)
    status = await ask(Stapler(leaf, failed.public_bytes(serialization.Encoding.DER)))
    assert status == OcspStatus(True, error="the stapled response is not successful: try later")


def test_unreadable_staple() -> None:
    status = read_staple(b"\x30\x03junk")
    assert status.stapled and status.status is None
    assert status.error is not None and status.error.startswith("the stapled response cannot")


async def test_starttls_refused(leaf: trustme.LeafCert) -> None:
    status = await ask(Stapler(leaf, starttls=b"454 4.7.0 TLS not available\r\n"))
    assert status == OcspStatus(False, error="STARTTLS answered 454 4.7.0 TLS not available")


async def test_server_closes_at_once(leaf: trustme.LeafCert) -> None:
    status = await ask(Stapler(leaf, greeting=None))
    assert status == OcspStatus(False, error="the server closed the connection")


async def test_hostile_greeting_is_kept_for_visible(leaf: trustme.LeafCert) -> None:
    """The server's words come back as sent; the screen's `visible` writes the escape out."""
    status = await ask(Stapler(leaf, greeting=b"554 \x1b[2J\x1b]0;owned\x07 go away\r\n"))
    assert status.error == "greeting answered 554 \x1b[2J\x1b]0;owned\x07 go away"
    shown = visible(status.error, one_line=True)
    assert "\x1b" not in shown and "\x07" not in shown
    assert shown == "greeting answered 554 \\x1b[2J\\x1b]0;owned\\x07 go away"


async def test_not_smtp(leaf: trustme.LeafCert) -> None:
    status = await ask(Stapler(leaf, greeting=b"HTTP/1.1 400 Bad Request\r\n"))
    assert status.error == "not an SMTP reply line (no 3-digit code): HTTP/1.1 400 Bad Request"


async def test_multiline_refusal_on_one_line(leaf: trustme.LeafCert) -> None:
    status = await ask(Stapler(leaf, starttls=b"454-4.7.0 TLS\r\n454 not now\r\n"))
    assert status.error == "STARTTLS answered 454 4.7.0 TLS not now"


async def test_an_ehlo_name_that_cannot_be_sent(leaf: trustme.LeafCert) -> None:
    with serving(Stapler(leaf)) as (host, port):
        status = await stapled_ocsp(
            host, port, implicit_tls=False, sni=None, ehlo_name="a\r\nRSET", timeout=2
        )
    assert not status.stapled
    assert status.error is not None and status.error.startswith("EHLO name: ")


async def test_no_one_listening() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    status = await stapled_ocsp(
        "127.0.0.1", port, implicit_tls=True, sni=None, ehlo_name="x", timeout=2
    )
    assert status == OcspStatus(False, error="connection refused")


async def test_silent_server_times_out() -> None:
    """A server that accepts and says nothing: the probe gives up after its timeout."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        started = time.monotonic()
        status = await stapled_ocsp(
            "127.0.0.1", port, implicit_tls=False, sni=None, ehlo_name="x", timeout=0.3
        )
    assert status == OcspStatus(False, error="no answer within 0.3 seconds")
    assert time.monotonic() - started < 2


async def test_implicit_tls_server_not_speaking_tls(leaf: trustme.LeafCert) -> None:
    """A STARTTLS server asked as implicit TLS: its greeting is no handshake."""
    with serving(Stapler(leaf)) as (host, port):
        status = await stapled_ocsp(
            host, port, implicit_tls=True, sni=None, ehlo_name="x", timeout=2
        )
    assert not status.stapled
    assert status.error is not None and status.error.startswith("the TLS handshake failed: ")
