"""AUTH through the controller: the settings' AUTH options on the wire, a server that cannot
prove itself, and no secret of any mechanism in the transcript or an export."""

from __future__ import annotations

import base64
import ssl
from pathlib import Path

import pytest

from smtptui.protocol import scram
from smtptui.server import EmbeddedServer
from smtptui.session import (
    Authenticate,
    Connect,
    Ehlo,
    EntryKind,
    ExportFormat,
    Quit,
    Risk,
    SessionController,
    SessionSettings,
    write_export,
)

from support.scripted import Peer, ScriptedServer
from support.sessions import ready, settings_for

TOKEN = "demo-token"
PASSWORD = "wonderland"


def b64(data: bytes) -> bytes:
    return base64.b64encode(data)


def sent(controller: SessionController) -> list[bytes]:
    return [entry.data for entry in controller.transcript if entry.kind is EntryKind.SENT]


# -- the settings' AUTH options reach the wire ---------------------------------------------


@pytest.mark.parametrize(
    ("initial_response", "auth_line", "shown"),
    [
        (False, b"AUTH LOGIN\r\n", "AUTH LOGIN"),
        (True, b"AUTH LOGIN " + b64(b"alice") + b"\r\n", "AUTH LOGIN username: alice"),
    ],
)
async def test_login_initial_response_is_a_choice_seen_on_the_wire(
    server: EmbeddedServer,
    client_tls_context: ssl.SSLContext,
    initial_response: bool,
    auth_line: bytes,
    shown: str,
) -> None:
    settings = settings_for(server, client_tls_context, login_initial_response=initial_response)
    controller = SessionController(settings)
    await ready(controller)
    assert (await controller.run(Authenticate("LOGIN"))).ok
    auth = next(e for e in controller.transcript if e.data.startswith(b"AUTH "))
    assert auth.data == auth_line and auth.shown() == shown
    assert sent(controller)[-1] == b64(PASSWORD.encode()) + b"\r\n"


async def test_plain_sends_the_authorisation_identity(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    controller = SessionController(settings_for(server, client_tls_context, authzid="boss"))
    await ready(controller)
    assert (await controller.run(Authenticate("PLAIN"))).ok
    auth = next(e for e in controller.transcript if e.data.startswith(b"AUTH "))
    assert auth.data == b"AUTH PLAIN " + b64(b"boss\0alice\0wonderland") + b"\r\n"
    assert auth.shown() == 'AUTH PLAIN authzid="boss" user="alice" password=••••••••'


async def test_auto_prefers_oauthbearer_with_a_token(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    settings = settings_for(server, client_tls_context, password="", oauth_token=TOKEN)
    controller = SessionController(settings)
    await ready(controller)
    assert (await controller.run(Authenticate())).ok
    assert sent(controller)[-1].startswith(b"AUTH OAUTHBEARER ")


# -- a server that cannot prove it knows the password ------------------------------------------


def scram_server(signature: bytes) -> object:
    """A server that runs SCRAM-SHA-256 as far as its final message, which carries
    ``signature`` as v=, then answers the client's ``*`` and QUIT."""

    async def script(peer: Peer) -> None:
        await peer.send(b"220 mx.example ESMTP\r\n")
        await peer.expect(b"EHLO")
        await peer.send(b"250-mx.example\r\n250 AUTH SCRAM-SHA-256\r\n")
        auth = await peer.expect(b"AUTH SCRAM-SHA-256 ")
        client_first = base64.b64decode(auth.split()[2])
        nonce = scram.parse_attributes(client_first.split(b",", 2)[2])["r"]
        first = f"r={nonce}server,s={scram.b64(b'salt')},i=4096".encode()
        await peer.send(b"334 " + b64(first) + b"\r\n")
        await peer.line()  # the client's proof
        await peer.send(b"334 " + b64(b"v=" + b64(signature)) + b"\r\n")
        if await peer.line() == b"*\r\n":
            await peer.send(b"501 5.7.0 Auth aborted\r\n")
        await peer.expect(b"QUIT")
        await peer.send(b"221 bye\r\n")

    return script


async def test_a_wrong_server_signature_fails_and_says_why() -> None:
    async with ScriptedServer(scram_server(bytes(32))) as server:
        settings = SessionSettings(
            host=f"{server.host}:{server.port}",
            security="none",
            username="alice",
            password="pencil",
            mechanism="SCRAM-SHA-256",
        )
        controller = SessionController(settings)
        controller.accept(Risk.PLAINTEXT_AUTH)
        for action in (Connect(), Ehlo()):
            assert (await controller.run(action)).ok
        outcome = await controller.run(Authenticate())
        assert not outcome.ok and controller.state.user is None
        assert "could not prove it knows the password" in outcome.error
        [error] = [e for e in controller.transcript if e.kind is EntryKind.ERROR]
        assert "server signature (v=) is wrong" in error.text
        assert sent(controller)[-1] == b"*\r\n"  # the exchange cancelled
        assert (await controller.run(Quit())).ok


# -- no secret of any mechanism in the transcript or an export ----------------------------


def secret_forms(secret: str) -> set[str]:
    """``secret`` and its base64 at each of the three offsets it may start at in a SASL
    response (the middle of each, which does not depend on what is around it)."""
    forms = {secret}
    for pad in range(3):
        encoded = base64.b64encode(b"x" * pad + secret.encode()).decode()
        forms.add(encoded[4 : len(encoded) - 4])
    return forms


# Each: the mechanism, changes to alice's settings, and whether AUTH succeeds.
EXCHANGES = [
    ("OAUTHBEARER", {"password": "", "oauth_token": TOKEN}, True),
    ("OAUTHBEARER", {"password": "", "oauth_token": "expired-t0ken"}, False),
    ("SCRAM-SHA-256", {}, True),
    ("SCRAM-SHA-256", {"password": "not-the-password"}, False),
    ("LOGIN", {"login_initial_response": True}, True),
    ("PLAIN", {"authzid": "boss"}, True),
]


@pytest.mark.parametrize(("mechanism", "changes", "succeeds"), EXCHANGES)
async def test_no_secret_in_the_transcript_or_any_export(
    server: EmbeddedServer,
    client_tls_context: ssl.SSLContext,
    tmp_path: Path,
    mechanism: str,
    changes: dict[str, object],
    succeeds: bool,
) -> None:
    settings = settings_for(server, client_tls_context, **changes)
    secret = settings.oauth_token or settings.password
    controller = SessionController(settings)
    await ready(controller)
    assert (await controller.run(Authenticate(mechanism))).ok is succeeds
    secrets = [entry for entry in controller.transcript if entry.secret]
    assert secrets, "the exchange sent no SASL response"
    responses = [entry.data.split()[-1] if entry.data.strip() else b"" for entry in secrets]
    proofs = {r.decode() for r in responses if base64.b64decode(r).startswith(b"c=biws")}
    forbidden = secret_forms(secret) | proofs
    shown = "\n".join(entry.shown() for entry in controller.transcript)
    assert not [form for form in forbidden if form in shown]
    for fmt in ExportFormat:
        path = tmp_path / f"masked{fmt.suffix}"
        write_export(path, controller.transcripts, fmt)
        text = path.read_text("utf-8")
        assert not [form for form in forbidden if form in text], fmt
