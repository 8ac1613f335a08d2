"""The certificate screen: its plain text from real handshakes, its keys, and its look.

Real `TlsInfo` objects come from `SMTPClient` handshakes with the test servers; the snapshots
use fixed certificate data (dates, serials, fingerprints), so two runs draw the same.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from textual.app import App
from textual.containers import VerticalScroll
from textual.widgets import Static

from smtptui.engine import SMTPClient
from smtptui.engine.ocsp import OcspStatus
from smtptui.engine.tls import CertificateInfo, TlsInfo
from smtptui.server import EmbeddedServer
from smtptui.session import SessionSettings
from smtptui.ui import certificate
from smtptui.ui.app import SmtpTui
from smtptui.ui.certificate import CertificateScreen, certificate_text, ocsp_line
from smtptui.ui.path import PathScreen

from support.certificates import chain_context, common_name, server_context, unverified
from support.pilot import step
from support.stapling import NEXT_UPDATE, THIS_UPDATE, Stapler, ocsp_response
from support.stapling import stapling_server as serving

MakeServer = Callable[..., EmbeddedServer]
SnapCompare = Callable[..., bool]

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


async def handshake(server: EmbeddedServer, context: ssl.SSLContext) -> TlsInfo:
    """STARTTLS with ``context``; the client's TLS details."""
    client = SMTPClient(ssl_context=context, timeout=5, connect_timeout=5)
    await client.connect(server.host, server.port)
    await client.starttls()
    await client.quit()
    assert client.tls is not None
    return client.tls


def expired_self_signed() -> ssl.SSLContext:
    """A server context with a self-signed certificate for mail.test that expired 3 days ago."""
    now = dt.datetime.now(dt.UTC)
    return server_context(
        common_name("mail.test"),
        dns_names=("mail.test",),
        not_before=now - dt.timedelta(days=90),
        not_after=now - dt.timedelta(days=3, hours=1),
    )


def der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


# -- certificate_text from real handshakes ------------------------------------------------


async def test_verified_leaf(server: EmbeddedServer, client_tls_context: ssl.SSLContext) -> None:
    info = await handshake(server, client_tls_context)
    assert info.leaf is not None
    text = certificate_text(info)
    assert "✔ verified" in text and "not verified" not in text
    assert f"Name checked  {info.server_hostname}" in text
    assert info.leaf.subject in text and info.leaf.issuer in text
    assert "DNS:localhost, IP:127.0.0.1, IP:::1" in text
    fingerprint = text.split("SHA-256", 1)[1].split()[:2]
    assert ":".join(fingerprint) == info.leaf.fingerprint
    assert f"0x{info.leaf.serial:X}" in text
    assert "(expires in" in text and "self-signed" not in text
    assert "Key           EC 256-bit (secp256r1)" in text
    assert "Signature     ecdsa-with-SHA256" in text
    # Only the leaf, from a CA the client trusts: nothing is missing.
    chain = f"Chain ✔ complete: 1 certificate, then {info.leaf.issuer}, a trusted root"
    assert chain in " ".join(text.split())
    assert "OCSP stapling not asked: no live connection to ask" in text
    assert max(len(line) for line in text.splitlines()) <= 80


async def test_expired_not_verified(expired_server: EmbeddedServer) -> None:
    info = await handshake(expired_server, unverified())
    text = certificate_text(info)
    assert "✘ not verified: verification is turned off" in text
    assert "Name (SNI)" in text
    assert "(EXPIRED 1 day ago)" in text


async def test_expired_self_signed(make_server: MakeServer) -> None:
    server = make_server(tls_context=expired_self_signed())
    info = await handshake(server, unverified())
    text = certificate_text(info)
    assert "Leaf  mail.test  (self-signed)" in text
    assert "DNS:mail.test" in text
    assert "(EXPIRED 3 days ago)" in text
    assert "Chain         ✔ complete: 1 certificate, self-signed" in text


async def test_self_signed_expiring_soon(
    untrusted_server: EmbeddedServer,
) -> None:
    """The embedded server's own certificate lasts 30 days: under a month is a warning."""
    info = await handshake(untrusted_server, unverified())
    assert info.leaf is not None
    text = certificate_text(info)
    assert "(expires in 29 days)" in text
    assert certificate.validity(info.leaf, dt.datetime.now(dt.UTC))[1] == "$text-warning"


# -- certificate_text from fixed data -----------------------------------------------------


def test_chain_labels() -> None:
    """Leaf, intermediates, and Root only for a self-signed last certificate."""
    root = trustme.CA()
    intermediate = root.create_child_ca()
    leaf = intermediate.issue_cert("localhost")
    chain = [*leaf.cert_chain_pems, root.cert_pem]
    infos = tuple(CertificateInfo.from_der(der(pem.bytes())) for pem in chain)
    info = TlsInfo("TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "localhost", infos, True, "")
    headings = [line for line in certificate_text(info).splitlines() if line[:1].isalpha()]
    assert [heading.split()[0] for heading in headings] == [
        "TLS",
        "Leaf",
        "Intermediate",
        "Root",
    ]
    assert headings[2].startswith("Intermediate 1")
    without_root = TlsInfo("TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "x", infos[:2], True, "")
    assert "Root" not in certificate_text(without_root)
    assert "✔ complete: 3 certificates, at the root" in certificate_text(info)
    assert "✔ complete: 2 certificates, then" in certificate_text(without_root)


@pytest.mark.parametrize(
    ("before", "after", "note", "style"),
    [
        (-10, 400, "expires in 399 days", "$text-success"),
        (-10, 1, "expires today", "$text-warning"),
        (-10, 2, "expires in 1 day", "$text-warning"),
        (-10, 0, "EXPIRED today", "$text-error"),
        (-10, -2, "EXPIRED 2 days ago", "$text-error"),
        (3, 400, "not yet valid: starts in 2 days", "$text-error"),
    ],
)
def test_validity(before: int, after: int, note: str, style: str) -> None:
    """Days count whole days, with a minute to spare so rounding shows."""
    minute = dt.timedelta(minutes=1)
    cert = fixed_certificate(
        not_before=NOW + dt.timedelta(days=before) - minute,
        not_after=NOW + dt.timedelta(days=after) - minute,
    )
    assert certificate.validity(cert, NOW) == (note, style)


def test_chain_line_when_it_cannot_tell_or_nothing_came() -> None:
    """A Python that shows only the leaf cannot judge the chain; no certificate at all is
    incomplete."""
    info = dataclasses.replace(fixed_info(verified=True), whole_chain=False)
    assert "Chain         cannot tell: this Python shows only" in certificate_text(info, NOW)
    empty = TlsInfo("TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, None, (), False, "no certificate")
    assert "none sent" in certificate_text(empty, NOW)
    assert "Chain         ✘ the server sent no certificate" in certificate_text(empty, NOW)


async def test_incomplete_chain_names_the_missing_intermediate(make_server: MakeServer) -> None:
    """A server sending its leaf without the intermediate that issued it."""
    root = trustme.CA()
    intermediate = root.create_child_ca()
    server = make_server(
        tls_context=chain_context(intermediate.issue_cert("127.0.0.1"), intermediates=False)
    )
    info = await handshake(server, unverified())
    missing = x509.load_pem_x509_certificate(intermediate.cert_pem.bytes()).subject
    text = " ".join(certificate_text(info).split())
    assert f"Chain ✘ incomplete: the issuer of {info.chain[0].subject} was not sent: " in text
    assert f"was not sent: {missing.rfc4514_string()}; a client fails" in text


# -- the screen ---------------------------------------------------------------------------


def fixed_certificate(**changes: object) -> CertificateInfo:
    values: dict[str, object] = {
        "subject": "CN=mail.example.org,O=Example Mail Ltd,L=Amsterdam,C=NL",
        "issuer": "CN=Example Issuing CA R3,O=Example Trust Services,C=US",
        "common_name": "mail.example.org",
        "sans": (
            "DNS:mail.example.org",
            "DNS:smtp.example.org",
            "DNS:mx1.example.org",
            "DNS:mx2.example.org",
            "DNS:submission.example.org",
            "DNS:autodiscover.example.org",
            "IP:192.0.2.25",
            "IP:2001:db8::25",
        ),
        "not_before": dt.datetime(2026, 2, 10, 8, 15, tzinfo=dt.UTC),
        "not_after": dt.datetime(2026, 5, 11, 8, 14, tzinfo=dt.UTC),
        "serial": 0x04A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3,
        "sha256": "3F9A0C7D1E2B4A6F8C0D2E4F6A8B0C1D3E5F7A9B1C3D5E7F9A0B2C4D6E8F0A1B",
        "self_signed": False,
        "key_type": "EC",
        "key_bits": 256,
        "curve": "secp256r1",
        "signature_algorithm": "sha256WithRSAEncryption",
        "is_ca": False,
        "ca_issuers": (),
        "der": b"",
        **changes,
    }
    return CertificateInfo(**values)  # type: ignore[arg-type]


def fixed_info(*, verified: bool, chain: tuple[CertificateInfo, ...] | None = None) -> TlsInfo:
    note = (
        "certificate verified for mail.example.org"
        if verified
        else "certificate not verified: verification is turned off"
    )
    chain = chain or (fixed_certificate(),)
    return TlsInfo(
        "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, "mail.example.org", chain, verified, note
    )


def fixed_chain() -> tuple[CertificateInfo, ...]:
    intermediate = fixed_certificate(
        subject="CN=Example Issuing CA R3,O=Example Trust Services,C=US",
        issuer="CN=Example Root CA X1,O=Example Trust Services,C=US",
        common_name="Example Issuing CA R3",
        sans=(),
        not_before=dt.datetime(2024, 3, 13, 0, 0, tzinfo=dt.UTC),
        not_after=dt.datetime(2027, 3, 12, 23, 59, tzinfo=dt.UTC),
        serial=0x8A3F1C92D0B47E6A15C3F2E9B8D7A6C5,
        sha256="A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90",
        key_type="RSA",
        key_bits=2048,
        curve="",
        is_ca=True,
    )
    root = fixed_certificate(
        subject="CN=Example Root CA X1,O=Example Trust Services,C=US",
        issuer="CN=Example Root CA X1,O=Example Trust Services,C=US",
        common_name="Example Root CA X1",
        sans=(),
        not_before=dt.datetime(2015, 6, 4, 11, 4, tzinfo=dt.UTC),
        not_after=dt.datetime(2035, 6, 4, 11, 4, tzinfo=dt.UTC),
        serial=0x8210CFB0D240E3594463E0BB63828B00,
        sha256="96BCEC06264976F37460779ACF28C5A7CFE8A3C0AAE11A8FFCEE05C0BDDF08C6",
        self_signed=True,
        key_type="RSA",
        key_bits=4096,
        curve="",
        signature_algorithm="sha384WithRSAEncryption",
        is_ca=True,
    )
    return (fixed_certificate(), intermediate, root)


class CertificateApp(App[None]):
    """An empty app that shows the certificate screen for ``info`` on mount."""

    def __init__(
        self, info: TlsInfo, ask: Callable[[], Awaitable[OcspStatus]] | None = None
    ) -> None:
        super().__init__()
        self.info = info
        self.ask = ask

    def on_mount(self) -> None:
        self.push_screen(CertificateScreen(self.info, NOW, self.ask))


@pytest.mark.parametrize("key", ["escape", "q", "enter"])
async def test_keys_close(key: str) -> None:
    app = CertificateApp(fixed_info(verified=True))
    async with app.run_test() as pilot:
        await pilot.pause()
        assert isinstance(app.screen, CertificateScreen)
        assert isinstance(app.focused, VerticalScroll)
        await pilot.press(key)
        await pilot.pause()
        assert not isinstance(app.screen, CertificateScreen)


async def test_copy() -> None:
    info = fixed_info(verified=False, chain=fixed_chain())
    app = CertificateApp(info)
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == certificate_text(info, NOW)
        assert [n.message for n in app._notifications] == ["Certificate details copied"]
        assert isinstance(app.screen, CertificateScreen)


async def test_scrolls_long_chains() -> None:
    app = CertificateApp(fixed_info(verified=True, chain=fixed_chain()))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        body = app.screen.query_one(VerticalScroll)
        assert app.focused is body and body.max_scroll_y > 0
        await pilot.press("end")
        await pilot.pause()
        assert body.scroll_y == body.max_scroll_y


def screen_fingerprints(app: App[None]) -> list[str]:
    """The SHA-256 fingerprints the screen shows, as AB:CD:…, in its order."""
    cells = [str(cell.render()) for cell in app.screen.query(Static)]
    return [
        ":".join(cells[index + 1].split()) for index, cell in enumerate(cells) if cell == "SHA-256"
    ]


async def test_save_writes_the_chain_the_screen_shows(
    make_server: MakeServer, tmp_path: Path
) -> None:
    """s asks for a file and writes the certificates as PEM, leaf first: their SHA-256
    fingerprints are the screen's. A directory is refused in the dialog, which stays."""
    root = trustme.CA()
    server = make_server(tls_context=chain_context(root.create_child_ca().issue_cert("x.test")))
    info = await handshake(server, unverified())
    app = CertificateApp(info)
    async with app.run_test() as pilot:
        await pilot.pause()
        shown = screen_fingerprints(app)
        assert shown == [certificate.fingerprint for certificate in info.chain]
        assert len(shown) == 2
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, PathScreen)
        await pilot.press(*str(tmp_path), "enter")
        await pilot.pause()
        error = app.screen.query_one("#error", Static)
        assert "is a directory" in str(error.render()) and isinstance(app.screen, PathScreen)
        path = tmp_path / "chain.pem"
        await pilot.press(*"/chain.pem", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CertificateScreen)
        assert [n.message for n in app._notifications] == [f"Saved 2 certificates to {path}"]
    saved = x509.load_pem_x509_certificates(path.read_bytes())
    assert [
        ":".join(f"{byte:02X}" for byte in cert.fingerprint(hashes.SHA256())) for cert in saved
    ] == shown


async def test_save_with_no_certificate_says_so() -> None:
    empty = TlsInfo("TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, None, (), False, "no certificate")
    app = CertificateApp(empty)
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, CertificateScreen)
        assert [n.message for n in app._notifications] == ["The server sent no certificate"]


# -- OCSP stapling ------------------------------------------------------------------------

DATES = "this update 2026-04-30 12:00 UTC, next update 2026-05-07 12:00 UTC"
A_DAY_BEFORE, A_WEEK_AFTER = NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=6)
REVOKED_AT = dt.datetime(2026, 4, 29, 8, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("status", "line", "style"),
    [
        (
            OcspStatus(True, "good", A_DAY_BEFORE, A_WEEK_AFTER, NOW, "CN=R3"),
            f"✔ stapled: good ({DATES})\nfrom CN=R3, produced 2026-05-01 12:00 UTC",
            "$text-success",
        ),
        (
            OcspStatus(True, "revoked", A_DAY_BEFORE, A_WEEK_AFTER, NOW, "CN=R3", REVOKED_AT),
            f"✘ stapled: revoked 2026-04-29 08:30 UTC ({DATES})\nfrom CN=R3, produced "
            "2026-05-01 12:00 UTC",
            "$text-error",
        ),
        (
            OcspStatus(True, "unknown", A_DAY_BEFORE, None, None, None),
            "stapled: unknown to the responder (this update 2026-04-30 12:00 UTC, next update "
            "not given)\nfrom unknown, produced not given",
            "$text-warning",
        ),
        (
            OcspStatus(True, "good", NOW - dt.timedelta(days=10), A_DAY_BEFORE, None, "R"),
            "✔ stapled: good (this update 2026-04-21 12:00 UTC, next update 2026-04-30 12:00 "
            "UTC: STALE)\nfrom R, produced not given",
            "$text-warning",
        ),
        (OcspStatus(False), "not stapled: the server sent no OCSP response", ""),
        (
            OcspStatus(False, error="greeting answered 554 \x1b[2J go"),
            "could not ask: greeting answered 554 \\x1b[2J go",
            "$text-warning",
        ),
        (
            OcspStatus(True, error="the stapled response is not successful: try later"),
            "✘ stapled, but the stapled response is not successful: try later",
            "$text-error",
        ),
    ],
    ids=["good", "revoked", "unknown", "stale", "none", "refused", "unsuccessful"],
)
def test_ocsp_line(status: OcspStatus, line: str, style: str) -> None:
    """Each outcome in words, the server's bytes written out."""
    content = ocsp_line(status, NOW)
    assert content.plain == line
    assert [span.style for span in content.spans] == ([style] if style else [])


async def test_ocsp_shown_when_the_probe_answers_and_copied() -> None:
    """The screen says it is asking, then shows the answer; `c` copies what it shows."""
    answered = asyncio.Event()

    async def ask() -> OcspStatus:
        await answered.wait()
        return OcspStatus(False, error="no answer within 10 seconds")

    info = fixed_info(verified=True)
    app = CertificateApp(info, ask)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert str(app.screen.query_one("#ocsp", Static).render()) == "asking the server…"
        answered.set()
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        shown = "could not ask: no answer within 10 seconds"
        assert str(app.screen.query_one("#ocsp", Static).render()) == shown
        await pilot.press("c")
        assert f"OCSP stapling {shown}" in app.clipboard


async def test_a_live_session_asks_its_server(ca: trustme.CA) -> None:
    """The app opens the handshake's certificate screen with a probe to the session's server
    (its SNI, its EHLO name), which staples a good response."""
    leaf = ca.issue_cert("mail.staple.test")
    stapler = Stapler(leaf, ocsp_response(ca, leaf, ocsp.OCSPCertStatus.GOOD))
    with serving(stapler) as (host, port):
        settings = SessionSettings(
            host=f"{host}:{port}",
            ssl_context=unverified(),
            sni="mail.staple.test",
            helo_name="client.example",
        )
        app = SmtpTui(settings, show_timing=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await step(pilot, "f2", "f3", "f4")
            await pilot.press("ctrl+f", *"TLS established", "enter", "enter")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, CertificateScreen)
            await screen.workers.wait_for_complete()
            await pilot.pause()
            shown = str(screen.query_one("#ocsp", Static).render())
            when = "%Y-%m-%d %H:%M UTC"
            dates = f"this update {THIS_UPDATE:{when}}, next update {NEXT_UPDATE:{when}}"
            assert shown.startswith(f"✔ stapled: good ({dates})\nfrom ")
    assert stapler.sni == [b"mail.staple.test", b"mail.staple.test"]
    assert stapler.received.count(b"EHLO client.example\r\n") == 2


def test_snapshot_chain(snap_compare: SnapCompare) -> None:
    """120x40: a verified three-certificate chain; the leaf expires in under a month."""
    app = CertificateApp(fixed_info(verified=True, chain=fixed_chain()))
    assert snap_compare(app, terminal_size=(120, 40))


def test_snapshot_expired(snap_compare: SnapCompare) -> None:
    """80x24: an expired self-signed leaf, not verified."""
    leaf = fixed_certificate(
        subject="CN=mail.example.org",
        issuer="CN=mail.example.org",
        not_before=dt.datetime(2025, 4, 1, 9, 30, tzinfo=dt.UTC),
        not_after=dt.datetime(2026, 4, 1, 9, 30, tzinfo=dt.UTC),
        self_signed=True,
    )
    app = CertificateApp(fixed_info(verified=False, chain=(leaf,)))
    assert snap_compare(app, terminal_size=(80, 24))
