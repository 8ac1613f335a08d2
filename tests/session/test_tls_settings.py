"""The TLS settings (issue 14, part 1): checked where they are made, handed to the client,
and a failure explained by the part that failed."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme

from smtptui.engine import OcspStatus, SMTPTLSError
from smtptui.protocol.errors import CommandError
from smtptui.server import EmbeddedServer
from smtptui.session import (
    Connect,
    Disconnect,
    Security,
    SessionController,
    SessionSettings,
    StartTls,
    VerifyMode,
)
from smtptui.session.advice import explain

from support.certificates import recording_context, threaded_tls_server

NAME = "mail.example.org"


def test_verify_is_a_mode_and_the_old_flag_still_reads() -> None:
    assert SessionSettings().verify is VerifyMode.BOTH
    assert SessionSettings(verify=False).verify is VerifyMode.NONE  # type: ignore[arg-type]
    assert SessionSettings(verify=True).verify is VerifyMode.BOTH  # type: ignore[arg-type]
    assert SessionSettings(verify="ca").verify is VerifyMode.CA  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"verify": "sometimes"}, "verify", "both, ca, host, none"),
        ({"sni": "mail example.org"}, "SNI", "not a host name"),
        ({"sni": "mail.example.org\r\nQUIT"}, "SNI", ""),
        ({"verify_name": "a..b"}, "verify name", "not a host name"),
        ({"tls_min": "1.4"}, "TLS min", "1.0, 1.1, 1.2, 1.3"),
        ({"tls_max": "TLSv1.2"}, "TLS max", "not 'TLSv1.2'"),
        ({"tls_min": "1.3", "tls_max": "1.2"}, "TLS max", "1.2 is below the minimum, 1.3"),
        ({"ciphers": "NO-SUCH-CIPHER"}, "ciphers", "'NO-SUCH-CIPHER' selects no cipher"),
        ({"client_key": "/k.pem"}, "client key", "needs the client certificate"),
    ],
)
def test_bad_tls_settings_name_their_field(changes: dict, field: str, words: str) -> None:
    with pytest.raises(CommandError) as info:
        SessionSettings(**changes)
    assert info.value.field == field
    assert words in str(info.value)


def test_good_tls_settings() -> None:
    settings = SessionSettings(
        sni="", verify_name="127.0.0.1", tls_min="1.2", tls_max="1.3", ciphers="ECDHE+AESGCM"
    )
    assert (settings.sni, settings.verify_name) == ("", "127.0.0.1")


def tls_error(**data: object) -> SMTPTLSError:
    reason = str(data.pop("reason", "tlsv1 alert protocol version"))
    return SMTPTLSError.at(reason, "127.0.0.1", 465, "TLS handshake", **data)  # type: ignore[arg-type]


def test_each_failing_part_gets_its_advice() -> None:
    chain = explain(tls_error(reason="certificate not trusted: self-signed", part="chain"), "x")
    assert "certificate not trusted: self-signed" in chain and "trust its CA (CA file)" in chain
    name = explain(
        tls_error(
            reason=f"certificate is for DNS:{NAME}, not mx.example.net",
            part="name",
            name="mx.example.net",
            names=(f"DNS:{NAME}",),
        ),
        "x",
    )
    assert f"certificate is for DNS:{NAME}, not mx.example.net" in name
    assert "set the verify name" in name
    plain = explain(tls_error(reason="the server's answer is not TLS", part="plaintext"), "x")
    assert "the server spoke plain text, not TLS" in plain and "use STARTTLS" in plain


@pytest.mark.parametrize(
    ("versions", "words"),
    [
        (("1.3", None), "no TLS version from TLS 1.3 up: it may speak only TLS 1.2 or older"),
        (("1.2", "1.2"), "no TLS version from TLS 1.2 up: it may speak only TLS 1.1 or older"),
        ((None, "1.2"), "no TLS version up to TLS 1.2: it may need TLS 1.3 or newer"),
        ((None, None), "share no TLS version"),
    ],
)
def test_a_version_failure_names_both_versions(versions: tuple, words: str) -> None:
    assert words in explain(tls_error(part="version", versions=versions), "connect")


@pytest.fixture
def cafile(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


async def test_the_settings_reach_the_handshake(
    make_server: Callable[..., EmbeddedServer], ca: trustme.CA, cafile: str
) -> None:
    context, seen = recording_context(ca, NAME)
    server = make_server(tls_context=context)
    settings = SessionSettings(
        host=f"127.0.0.1:{server.port}", cafile=cafile, sni="sni.example", verify_name=NAME
    )
    controller = SessionController(settings)
    assert (await controller.run(Connect())).ok
    outcome = await controller.run(StartTls())
    assert outcome.ok, outcome.error
    assert seen[-1] == "sni.example"
    tls = controller.state.tls
    assert tls is not None and tls.verified
    assert tls.verify_note == f"chain and name {NAME} verified"
    await controller.run(Disconnect())


async def test_a_version_refusal_explained_in_the_session(ca: trustme.CA, cafile: str) -> None:
    context, _ = recording_context(ca, "127.0.0.1", maximum=ssl.TLSVersion.TLSv1_2)
    with threaded_tls_server(context) as (host, port):
        settings = SessionSettings(
            host=f"{host}:{port}", security=Security.TLS, cafile=cafile, tls_min="1.3"
        )
        controller = SessionController(settings)
        outcome = await controller.run(Connect())
        await controller.run(Disconnect())
    assert not outcome.ok and outcome.error is not None
    assert "TLS 1.3" in outcome.error and "TLS 1.2" in outcome.error


async def test_the_live_handshake_can_be_asked_for_its_ocsp_staple(
    make_server: Callable[..., EmbeddedServer], ca: trustme.CA, cafile: str
) -> None:
    """A probe like the session's connection (its SNI); an earlier connection's handshake is
    not asked about."""
    context, seen = recording_context(ca, NAME)
    server = make_server(tls_context=context)
    settings = SessionSettings(host=f"127.0.0.1:{server.port}", cafile=cafile, sni=NAME)
    controller = SessionController(settings)
    assert (await controller.run(Connect())).ok
    assert (await controller.run(StartTls())).ok
    assert controller.client is not None and controller.client.tls is not None
    earlier = controller.client.tls
    ask = controller.ocsp_asker(earlier)
    assert ask is not None
    assert await ask() == OcspStatus(False)  # aiosmtpd staples nothing
    assert seen == [NAME, NAME]
    await controller.run(Disconnect())
    assert (await controller.run(Connect())).ok
    assert (await controller.run(StartTls())).ok
    assert controller.ocsp_asker(earlier) is None
    assert controller.ocsp_asker(controller.client.tls) is not None
    await controller.run(Disconnect())
