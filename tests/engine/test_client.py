"""SMTPClient against the real embedded server, side by side with smtplib."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import smtplib
import socket
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest
import trustme
from cryptography import x509

from smtptui.engine import (
    SMTPAuthenticationError,
    SMTPClient,
    SMTPConnectError,
    SMTPNotSupportedError,
    SMTPRecipientsRefused,
    SMTPSenderRefused,
    SMTPServerDisconnected,
    SMTPTLSError,
)
from smtptui.engine.events import (
    ClientEvent,
    Connected,
    Connecting,
    Direction,
    Received,
    Sent,
    SentKind,
    TlsEstablished,
    WireEvent,
)
from smtptui.engine.loop import run
from smtptui.protocol.auth import AuthOptions
from smtptui.protocol.data import data_payload
from smtptui.server import EmbeddedServer
from smtptui.server.handler import OAUTHBEARER_ERROR

MakeServer = Callable[..., EmbeddedServer]
USER, PASSWORD = "alice", "wonderland"
HELO = "client.example"
MESSAGE = b"From: a@example.org\r\nSubject: Hello\r\n\r\nHi there.\r\n.dot line\r\n"


def make_client(context: ssl.SSLContext | None, **kwargs: Any) -> tuple[SMTPClient, list]:
    events: list[ClientEvent] = []
    kwargs.setdefault("timeout", 5)
    kwargs.setdefault("connect_timeout", 5)
    client = SMTPClient(local_hostname=HELO, ssl_context=context, listener=events.append, **kwargs)
    return client, events


async def secured(
    server: EmbeddedServer, context: ssl.SSLContext, *, login: bool = False
) -> tuple[SMTPClient, list]:
    client, events = make_client(context)
    await client.connect(server.host, server.port)
    await client.ehlo()
    await client.starttls()
    await client.ehlo()
    if login:
        await client.login(USER, PASSWORD)
    return client, events


def stdlib(server: EmbeddedServer, context: ssl.SSLContext, *, login: bool = True):
    smtp = smtplib.SMTP(server.host, server.port, local_hostname=HELO, timeout=5)
    smtp.ehlo()
    smtp.starttls(context=context)
    smtp.ehlo()
    if login:
        smtp.login(USER, PASSWORD)
    return smtp


async def in_thread(function: Callable[[], Any]) -> Any:
    return await asyncio.to_thread(function)


async def stdlib_error(
    server: EmbeddedServer,
    context: ssl.SSLContext,
    action: Callable[[smtplib.SMTP], Any],
    *,
    login: bool = True,
) -> Exception:
    """Run ``action`` on a secured smtplib session in a thread; return what it raised."""

    def run() -> Exception:
        with stdlib(server, context, login=login) as smtp:
            try:
                action(smtp)
            except smtplib.SMTPException as error:
                return error
        raise AssertionError("smtplib raised nothing")

    return await in_thread(run)


# -- the whole dialogue --------------------------------------------------------------------


async def test_session_return_values_match_smtplib(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    def with_smtplib() -> list:
        smtp = smtplib.SMTP(local_hostname=HELO, timeout=5)
        smtp._host = server.host  # what SMTP(host) would set; starttls() needs it for SNI
        out = [smtp.connect(server.host, server.port), smtp.ehlo()]
        out.append(smtp.starttls(context=client_tls_context))
        out += [smtp.ehlo(), smtp.login(USER, PASSWORD), smtp.noop(), smtp.rset()]
        out += [smtp.verify("bob@example.org"), smtp.verify("unknown@example.org")]
        out += [smtp.expn("staff"), smtp.help(), smtp.help("MAIL"), smtp.docmd("XYZZY")]
        out.append(smtp.sendmail("a@example.org", ["b@example.org"], MESSAGE))
        out.append(smtp.quit())
        return out

    expected = await in_thread(with_smtplib)

    client, _ = make_client(client_tls_context)
    ours = [await client.connect(server.host, server.port), await client.ehlo()]
    assert client.has_extn("starttls") and client.does_esmtp
    ours.append(await client.starttls())
    ours += [await client.ehlo(), await client.login(USER, PASSWORD)]
    ours += [await client.noop(), await client.rset()]
    ours += [await client.verify("bob@example.org"), await client.verify("unknown@example.org")]
    ours += [await client.expn("staff"), await client.help(), await client.help("MAIL")]
    ours.append(await client.docmd("XYZZY"))
    ours.append(await client.sendmail("a@example.org", ["b@example.org"], MESSAGE))
    ours.append(await client.quit())

    assert ours == expected
    assert ours[0] == (220, b"smtptui.demo ESMTP smtptui")
    assert ours[4][0] == 235
    assert ours[9][0] == 502 and isinstance(ours[10], bytes) and ours[12][0] == 500
    for value in ours:
        if isinstance(value, tuple):
            code, text = value
            assert isinstance(code, int) and isinstance(text, bytes)
    assert not client.connected
    first, second = server.messages
    assert first.data == second.data == MESSAGE
    assert first.mail_from == second.mail_from == "a@example.org"
    assert first.rcpt_tos == second.rcpt_tos == ("b@example.org",)
    assert first.mail_options == second.mail_options == (f"SIZE={len(MESSAGE)}",)
    assert second.authenticated_as == USER and second.tls


async def test_starttls_forgets_capabilities(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    client, _ = make_client(client_tls_context)
    await client.connect(server.host, server.port)
    await client.ehlo()
    assert client.has_extn("starttls") and not client.has_extn("auth")
    assert client.capabilities is not None
    await client.starttls()
    assert client.esmtp_features == {}
    assert client.capabilities is None
    assert client.ehlo_resp is None and client.helo_resp is None
    assert not client.does_esmtp
    await client.ehlo()
    assert client.has_extn("auth") and not client.has_extn("starttls")
    assert client.esmtp_features["auth"].split() == [
        "CRAM-MD5",
        "LOGIN",
        "OAUTHBEARER",
        "PLAIN",
        "SCRAM-SHA-256",
        "XOAUTH2",
    ]
    await client.quit()


async def test_starttls_without_ehlo_does_it_first(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    client, events = make_client(client_tls_context)
    await client.connect(server.host, server.port)
    assert await client.starttls() == (220, b"Ready to start TLS")
    sent = [e.data for e in events if isinstance(e, Sent)]
    assert sent == [f"EHLO {HELO}\r\n".encode(), b"STARTTLS\r\n"]
    await client.quit()


async def test_starttls_not_offered(make_server: MakeServer) -> None:
    server = make_server(starttls=False)
    client, _ = make_client(None)
    await client.connect(server.host, server.port)
    with pytest.raises(SMTPNotSupportedError):
        await client.starttls()
    with pytest.raises(smtplib.SMTPNotSupportedError):  # smtplib's own type catches it
        await client.starttls()
    assert await client.noop() == (250, b"2.0.0 Ok")
    await client.quit()


async def test_tls_info_is_data(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext, ca: trustme.CA
) -> None:
    def leaf_der() -> bytes:
        smtp = stdlib(server, client_tls_context, login=False)
        der = smtp.sock.getpeercert(binary_form=True)
        smtp.quit()
        return der

    der = await in_thread(leaf_der)
    client, events = await secured(server, client_tls_context)
    info = client.tls
    assert info is not None
    assert info.version in ("TLSv1.2", "TLSv1.3")
    assert info.cipher and info.bits >= 128
    assert info.verified is True
    assert "verified" in info.verify_note and "127.0.0.1" in info.verify_note
    assert info.server_hostname == "127.0.0.1"
    leaf = info.leaf
    assert leaf is not None
    assert leaf.sha256 == hashlib.sha256(der).hexdigest().upper()
    assert leaf.fingerprint == hashlib.sha256(der).digest().hex(":").upper()
    cert = x509.load_der_x509_certificate(der)
    assert leaf.subject == cert.subject.rfc4514_string()
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    assert leaf.issuer == ca_cert.subject.rfc4514_string()
    assert set(leaf.sans) == {"DNS:localhost", "IP:127.0.0.1", "IP:::1"}
    assert leaf.serial == cert.serial_number
    assert leaf.not_before < leaf.not_after
    assert not leaf.self_signed
    [established] = [e for e in events if isinstance(e, TlsEstablished)]
    assert established.info == info
    await client.quit()
    assert client.tls is not None  # kept for inspection after the session


# -- implicit TLS ---------------------------------------------------------------------------


async def test_implicit_tls(tls_server: EmbeddedServer, client_tls_context: ssl.SSLContext) -> None:
    client, events = make_client(client_tls_context, implicit_tls=True)
    code, _ = await client.connect(tls_server.host, tls_server.port)
    assert code == 220
    assert client.tls is not None and client.tls.verified
    wire = [e for e in events if isinstance(e, WireEvent)]
    assert wire[0].direction is Direction.RECEIVED and wire[0].tls
    await client.ehlo()
    assert client.has_extn("auth") and not client.has_extn("starttls")
    assert (await client.login(USER, PASSWORD))[0] == 235
    assert await client.sendmail("a@example.org", "b@example.org", MESSAGE) == {}
    await client.quit()
    [message] = tls_server.messages
    assert message.tls and message.authenticated_as == USER and message.data == MESSAGE


def test_the_greeting_is_expected_and_comes_after_the_connection(server: EmbeddedServer) -> None:
    """However soon the greeting arrives, the connection is published first, and the
    greeting is the awaited reply, not an unsolicited one. (On the app's loop, uvloop, the
    greeting can be read before ``create_connection`` returns: a race, so try many times.)"""

    async def connect() -> list[ClientEvent]:
        events: list[ClientEvent] = []
        for _ in range(40):
            client = SMTPClient(listener=events.append)
            await client.connect(server.host, server.port)
            client.close()
        return events

    events = [e for e in run(connect()) if isinstance(e, Connecting | Connected | Received)]
    assert [type(e) for e in events] == [Connecting, Connected, Received] * 40
    assert not any(e.unsolicited for e in events if isinstance(e, Received))


async def test_implicit_tls_default_port_is_465(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    calls: list[tuple[str, int, object]] = []

    async def refuse(factory, host, port, **kwargs):
        calls.append((host, port, kwargs.get("ssl")))
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(loop, "create_connection", refuse)
    client = SMTPClient(implicit_tls=True, connect_timeout=1)
    with pytest.raises(SMTPConnectError) as info:
        await client.connect("mx.example")
    assert calls[0][:2] == ("mx.example", 465)
    assert client.port == 465 and info.value.port == 465
    assert "mx.example:465" in str(info.value)

    plain = SMTPClient(connect_timeout=1)
    with pytest.raises(SMTPConnectError):
        await plain.connect("mx.example")
    assert calls[1] == ("mx.example", 25, None)
    with pytest.raises(SMTPConnectError):
        await plain.connect("mx.example:2525")
    assert calls[2][:2] == ("mx.example", 2525)


async def test_implicit_tls_untrusted(
    make_server: MakeServer, client_tls_context: ssl.SSLContext
) -> None:
    server = make_server(implicit_tls=True, tls_context=None)
    client, _ = make_client(client_tls_context, implicit_tls=True)
    with pytest.raises(SMTPTLSError) as info:
        await client.connect(server.host, server.port)
    assert "self-signed" in str(info.value) or "self signed" in str(info.value)
    assert f"127.0.0.1:{server.port}" in str(info.value)
    assert not client.connected


# -- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mechanism", "kwargs"),
    [
        ("PLAIN", {}),
        ("LOGIN", {}),
        ("CRAM-MD5", {}),
        ("XOAUTH2", {"token": PASSWORD}),
        ("plain", {"initial_response_ok": False}),
        ("LOGIN", {"initial_response_ok": False}),
        ("XOAUTH2", {"token": PASSWORD, "initial_response_ok": False}),
        ("OAUTHBEARER", {"token": "demo-token"}),
        ("OAUTHBEARER", {"token": "demo-token", "initial_response_ok": False}),
        ("SCRAM-SHA-256", {}),
        ("SCRAM-SHA-256", {"initial_response_ok": False}),
        ("LOGIN", {"options": AuthOptions(login_initial_response=False)}),
        ("PLAIN", {"options": AuthOptions(authzid="alice")}),
    ],
)
async def test_each_mechanism(
    server: EmbeddedServer,
    client_tls_context: ssl.SSLContext,
    mechanism: str,
    kwargs: dict,
) -> None:
    client, events = await secured(server, client_tls_context)
    password = "" if "token" in kwargs else PASSWORD
    code, text = await client.login(USER, password, mechanism=mechanism, **kwargs)
    assert (code, text) == (235, b"2.7.0 Authentication successful")
    assert client.authenticated_as == USER
    auth_lines = [e.data for e in events if isinstance(e, Sent) and e.data.startswith(b"AUTH ")]
    expected = f"AUTH {mechanism.upper()}".encode()
    assert len(auth_lines) == 1 and auth_lines[0].startswith(expected)
    waits = mechanism == "CRAM-MD5" or ("options" in kwargs and mechanism == "LOGIN")  # not asked
    if not kwargs.get("initial_response_ok", True) or waits:
        assert auth_lines[0] == expected + b"\r\n"
    await client.sendmail("a@example.org", ["b@example.org"], MESSAGE)
    await client.quit()
    assert server.messages[0].authenticated_as == USER


async def test_sasl_secrets_are_masked_in_events(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    client, events = await secured(server, client_tls_context)
    await client.login(USER, PASSWORD, mechanism="LOGIN")
    notes = [e.note for e in events if isinstance(e, Sent) and e.kind is SentKind.SASL]
    assert notes and all(PASSWORD not in note for note in notes)
    await client.quit()


async def test_automatic_mechanism_is_smtplibs_choice(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    client, events = await secured(server, client_tls_context)
    assert (await client.login(USER, PASSWORD))[0] == 235
    auth = [e.data for e in events if isinstance(e, Sent) and e.data.startswith(b"AUTH ")]
    assert auth == [b"AUTH CRAM-MD5\r\n"]  # smtplib prefers CRAM-MD5, then PLAIN, then LOGIN
    await client.quit()

    client, events = await secured(server, client_tls_context)
    assert (await client.login(USER, "", token=PASSWORD))[0] == 235
    auth = [e.data for e in events if isinstance(e, Sent) and e.data.startswith(b"AUTH ")]
    assert len(auth) == 1 and auth[0].startswith(b"AUTH XOAUTH2 ")
    await client.quit()


async def test_auth_not_offered_before_tls(server: EmbeddedServer) -> None:
    client, _ = make_client(None)
    await client.connect(server.host, server.port)
    with pytest.raises(SMTPNotSupportedError):
        await client.login(USER, PASSWORD)
    await client.quit()


async def test_wrong_password_like_smtplib(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    expected = await stdlib_error(
        server, client_tls_context, lambda smtp: smtp.login(USER, "not-the-password"), login=False
    )
    assert isinstance(expected, smtplib.SMTPAuthenticationError)
    client, _ = await secured(server, client_tls_context)
    with pytest.raises(SMTPAuthenticationError) as info:
        await client.login(USER, "not-the-password")
    assert isinstance(info.value, smtplib.SMTPAuthenticationError)
    assert info.value.smtp_code == expected.smtp_code == 535
    assert info.value.smtp_error == expected.smtp_error
    assert client.authenticated_as is None
    # The session goes on: the right password still works.
    assert (await client.login(USER, PASSWORD, mechanism="PLAIN"))[0] == 235
    await client.quit()


async def test_wrong_xoauth2_token(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    client, _ = await secured(server, client_tls_context)
    with pytest.raises(SMTPAuthenticationError) as info:
        await client.login(USER, "", mechanism="XOAUTH2", token="expired-token")
    assert info.value.smtp_code == 535
    assert info.value.smtp_error.startswith(b"5.7.8 Username and Password not accepted")
    assert b"\n5.7.8 https://support.google.com/" in info.value.smtp_error
    await client.quit()


def sasl_lines(events: list[ClientEvent]) -> list[bytes]:
    """What went and came from the AUTH line to its final reply, in order."""
    wire = [
        e.data if isinstance(e, Sent) else e.reply.raw
        for e in events
        if isinstance(e, (Sent, Received))
    ]
    start = next(n for n, line in enumerate(wire) if line.startswith(b"AUTH "))
    end = next(n for n in range(start, len(wire)) if wire[n][:3] in (b"235", b"535", b"501"))
    return wire[start : end + 1]


def b64(data: bytes) -> bytes:
    return base64.b64encode(data)


async def test_oauthbearer_bytes_on_the_wire(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    """RFC 7628 section 4.1's shape, byte for byte, with this connection's host and port."""
    client, events = await secured(server, client_tls_context)
    assert (await client.login(USER, "", mechanism="OAUTHBEARER", token="demo-token"))[0] == 235
    gs2 = f"n,a=alice,\x01host=127.0.0.1\x01port={server.port}\x01auth=Bearer demo-token\x01\x01"
    assert sasl_lines(events) == [
        b"AUTH OAUTHBEARER " + b64(gs2.encode()) + b"\r\n",
        b"235 2.7.0 Authentication successful\r\n",
    ]
    await client.quit()


async def test_oauthbearer_error_challenge_exchange(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    """RFC 7628 section 3.2.3: a 334 carrying the JSON error, the client's single ^A, 535."""
    client, events = await secured(server, client_tls_context)
    with pytest.raises(SMTPAuthenticationError) as info:
        await client.login(USER, "", mechanism="OAUTHBEARER", token="expired-token")
    assert info.value.smtp_code == 535
    _, challenge, answer, final = sasl_lines(events)
    assert challenge == b"334 " + b64(OAUTHBEARER_ERROR.encode()) + b"\r\n"
    assert answer == b"AQ==\r\n"
    assert final.startswith(b"535 ")
    notes = [e.note for e in events if isinstance(e, Sent) and e.kind is SentKind.SASL]
    assert "expired-token" not in " ".join(notes)
    assert '"status":"invalid_token"' in notes[-1]  # the error, shown beside the ^A
    await client.quit()


async def test_scram_sha_256_against_the_embedded_server(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    client, events = await secured(server, client_tls_context)
    assert (await client.login(USER, PASSWORD, mechanism="SCRAM-SHA-256"))[0] == 235
    auth, first, final, signature, empty, done = sasl_lines(events)
    assert auth.startswith(b"AUTH SCRAM-SHA-256 " + b64(b"n,,n=alice,r=")[:16])
    assert base64.b64decode(first[4:]).startswith(b"r=")
    assert base64.b64decode(final).startswith(b"c=biws,r=")
    assert base64.b64decode(signature[4:]).startswith(b"v=")
    assert empty == b"\r\n" and done.startswith(b"235 ")
    await client.quit()
    client, _ = await secured(server, client_tls_context)
    with pytest.raises(SMTPAuthenticationError) as info:
        await client.login(USER, "not-the-password", mechanism="SCRAM-SHA-256")
    assert info.value.smtp_code == 535
    await client.quit()


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        # aiosmtpd asks "User Name\0", then "Password\0"
        (
            AuthOptions(login_initial_response=False),
            [b"AUTH LOGIN\r\n", b"334 VXNlciBOYW1lAA==\r\n", b"YWxpY2U=\r\n"],
        ),
        (AuthOptions(), [b"AUTH LOGIN YWxpY2U=\r\n"]),  # as smtplib sends it
    ],
)
async def test_login_with_and_without_initial_response_on_the_wire(
    server: EmbeddedServer,
    client_tls_context: ssl.SSLContext,
    options: AuthOptions,
    expected: list[bytes],
) -> None:
    client, events = await secured(server, client_tls_context)
    assert (await client.login(USER, PASSWORD, mechanism="LOGIN", options=options))[0] == 235
    assert sasl_lines(events) == [
        *expected,
        b"334 UGFzc3dvcmQA\r\n",
        b64(PASSWORD.encode()) + b"\r\n",
        b"235 2.7.0 Authentication successful\r\n",
    ]
    await client.quit()


async def test_plain_with_an_authorisation_identity_on_the_wire(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    client, events = await secured(server, client_tls_context)
    options = AuthOptions(authzid="postmaster")
    assert (await client.login(USER, PASSWORD, mechanism="PLAIN", options=options))[0] == 235
    assert sasl_lines(events)[0] == b"AUTH PLAIN " + b64(b"postmaster\0alice\0wonderland") + b"\r\n"
    await client.quit()


# -- refusals -------------------------------------------------------------------------------


async def test_refused_sender_like_smtplib(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    sender = "reject@example.org"
    expected = await stdlib_error(
        server, client_tls_context, lambda smtp: smtp.sendmail(sender, ["b@example.org"], MESSAGE)
    )
    assert isinstance(expected, smtplib.SMTPSenderRefused)
    client, events = await secured(server, client_tls_context, login=True)
    with pytest.raises(SMTPSenderRefused) as info:
        await client.sendmail(sender, ["b@example.org"], MESSAGE)
    error = info.value
    assert isinstance(error, smtplib.SMTPSenderRefused)
    assert (error.smtp_code, error.smtp_error, error.sender) == (
        expected.smtp_code,
        expected.smtp_error,
        expected.sender,
    )
    assert error.smtp_code == 553
    assert [e.data for e in events if isinstance(e, Sent)][-1] == b"RSET\r\n"
    assert await client.sendmail("a@example.org", ["b@example.org"], MESSAGE) == {}
    await client.quit()
    assert len(server.messages) == 1


async def test_some_recipients_refused_like_smtplib(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    recipients = ["b@example.org", "reject-me@example.org", "c@example.org", "unknown@x.org"]

    def with_smtplib() -> dict:
        with stdlib(server, client_tls_context) as smtp:
            return smtp.sendmail("a@example.org", recipients, MESSAGE)

    expected = await in_thread(with_smtplib)
    client, _ = await secured(server, client_tls_context, login=True)
    refused = await client.sendmail("a@example.org", recipients, MESSAGE)
    await client.quit()
    assert refused == expected
    assert set(refused) == {"reject-me@example.org", "unknown@x.org"}
    assert refused["unknown@x.org"][0] == 550
    first, second = server.messages
    assert first.rcpt_tos == second.rcpt_tos == ("b@example.org", "c@example.org")
    assert first.data == second.data


async def test_all_recipients_refused_like_smtplib(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    recipients = ["reject@example.org", "unknown@example.org"]
    expected = await stdlib_error(
        server,
        client_tls_context,
        lambda smtp: smtp.sendmail("a@example.org", recipients, MESSAGE),
    )
    assert isinstance(expected, smtplib.SMTPRecipientsRefused)
    client, events = await secured(server, client_tls_context, login=True)
    for pipelining in (False, True):
        del events[:]
        with pytest.raises(SMTPRecipientsRefused) as info:
            await client.sendmail("a@example.org", recipients, MESSAGE, pipelining=pipelining)
        assert isinstance(info.value, smtplib.SMTPRecipientsRefused)
        assert info.value.recipients == expected.recipients
        assert list(info.value.recipients) == recipients
        sent = [e.data for e in events if isinstance(e, Sent)]
        # Pipelined, DATA went with the RCPTs (and was refused); in lock step it never went.
        assert (b"DATA\r\n" in sent) is pipelining and sent[-1] == b"RSET\r\n"
        assert await client.noop() == (250, b"2.0.0 Ok")
    await client.quit()
    assert server.messages == []


# -- certificate failures -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("untrusted_server", "self-signed certificate"),
        ("expired_server", "certificate has expired"),
    ],
)
async def test_certificate_failure(
    request: pytest.FixtureRequest,
    client_tls_context: ssl.SSLContext,
    fixture: str,
    reason: str,
) -> None:
    server: EmbeddedServer = request.getfixturevalue(fixture)
    client, _ = make_client(client_tls_context)
    await client.connect(server.host, server.port)
    await client.ehlo()
    with pytest.raises(SMTPTLSError) as info:
        await client.starttls()
    error = info.value
    assert isinstance(error, smtplib.SMTPException)
    assert reason in str(error) and reason in error.reason
    assert f"127.0.0.1:{server.port}" in str(error)
    assert error.host == "127.0.0.1" and error.port == server.port
    assert error.step == "TLS handshake"
    assert not client.connected
    with pytest.raises(SMTPServerDisconnected):
        await client.noop()

    # Verification off: the same server works, and the TLS info says it was not verified.
    insecure, _ = make_client(None, verify=False)
    await insecure.connect(server.host, server.port)
    await insecure.starttls()
    assert insecure.tls is not None and insecure.tls.verified is False
    assert "not verified" in insecure.tls.verify_note
    assert insecure.tls.leaf is not None
    await insecure.ehlo()
    assert (await insecure.login(USER, PASSWORD))[0] == 235
    await insecure.quit()

    # And the first client object can still connect again (verification off this time).
    assert (await client.connect(server.host, server.port))[0] == 220
    unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    unverified.check_hostname, unverified.verify_mode = False, ssl.CERT_NONE
    await client.starttls(unverified)
    assert client.tls is not None and not client.tls.verified
    await client.quit()


async def test_untrusted_certificate_trusted_through_its_own_context(
    untrusted_server: EmbeddedServer,
) -> None:
    assert untrusted_server.self_signed is not None
    context = untrusted_server.self_signed.client_context()
    client, _ = make_client(context)
    await client.connect(untrusted_server.host, untrusted_server.port)
    await client.starttls()
    assert client.tls is not None and client.tls.verified
    assert client.tls.leaf is not None and client.tls.leaf.self_signed
    assert client.tls.leaf.fingerprint == untrusted_server.self_signed.sha256
    await client.quit()


# -- the wire tap ---------------------------------------------------------------------------


class RecordingProxy:
    """A TCP relay on 127.0.0.1 that records every byte in each direction."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.to_server = bytearray()
        self.to_client = bytearray()
        self.done = asyncio.Event()
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(src, dst, record: bytearray) -> None:
            try:
                while data := await src.read(65536):
                    record += data
                    dst.write(data)
                    await dst.drain()
            except ConnectionError:
                pass
            finally:
                dst.close()

        await asyncio.gather(
            pipe(reader, up_writer, self.to_server), pipe(up_reader, writer, self.to_client)
        )
        self.done.set()

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


def _accounted(events: list[ClientEvent]) -> bytes:
    """What the Sent events say went out: commands as they are, bodies stuffed."""
    out = b""
    for event in events:
        if isinstance(event, Sent):
            out += data_payload(event.data) if event.kind is SentKind.BODY else event.data
    return out


def _wire(events: list[ClientEvent], direction: Direction) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, WireEvent) and e.direction is direction)


async def test_wire_events_are_exactly_the_bytes_on_the_socket(make_server: MakeServer) -> None:
    server = make_server(auth_require_tls=False)
    proxy = RecordingProxy(server.port)
    port = await proxy.start()
    client, events = make_client(None)
    await client.connect("127.0.0.1", port)
    await client.ehlo()
    await client.login(USER, PASSWORD, mechanism="LOGIN")
    body = b"Subject: dots\r\n\r\n.leading dot\r\n..two\r\n.\r\nend"
    await client.sendmail("a@example.org", ["b@example.org", "unknown@example.org"], body)
    await client.send_raw(b"NOOP raw\r\n")
    await client.verify("bob@example.org")
    await client.quit()
    await asyncio.wait_for(proxy.done.wait(), 5)
    await proxy.close()

    received = _wire(events, Direction.RECEIVED)
    sent = _wire(events, Direction.SENT)
    assert received == bytes(proxy.to_client)
    assert sent == bytes(proxy.to_server)
    replies = b"".join(e.reply.raw for e in events if isinstance(e, Received))
    assert replies == received
    assert _accounted(events) == sent
    assert b"\r\n..leading dot\r\n...two\r\n..\r\nend\r\n.\r\n" in sent
    assert not any(e.tls for e in events if isinstance(e, WireEvent))
    assert server.messages[0].data == body + b"\r\n"
    times = [e.time for e in events if isinstance(e, WireEvent)]
    assert times == sorted(times)


async def test_wire_events_through_starttls(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    client, events = await secured(server, client_tls_context, login=True)
    await client.sendmail("a@example.org", ["b@example.org"], MESSAGE)
    await client.quit()
    received = _wire(events, Direction.RECEIVED)
    replies = b"".join(e.reply.raw for e in events if isinstance(e, Received))
    assert received == replies
    assert received.startswith(b"220 smtptui.demo ESMTP smtptui\r\n")
    assert received.endswith(b"221 2.0.0 Bye\r\n")
    assert _accounted(events) == _wire(events, Direction.SENT)
    # Everything before the TLS handshake was in the clear, everything after inside TLS.
    cut = next(i for i, e in enumerate(events) if isinstance(e, TlsEstablished))
    wire = [(i, e) for i, e in enumerate(events) if isinstance(e, WireEvent)]
    assert all(e.tls == (i > cut) for i, e in wire)
    assert [e.data for i, e in wire if not e.tls][-1] == b"220 Ready to start TLS\r\n"
    latencies = [e.latency for e in events if isinstance(e, Received)]
    assert latencies[0] is not None and all(v is not None and v >= 0 for v in latencies)


# -- host strings ---------------------------------------------------------------------------


async def test_host_port_string(server: EmbeddedServer, client_tls_context: ssl.SSLContext) -> None:
    client, _ = make_client(client_tls_context)
    assert (await client.connect(f"127.0.0.1:{server.port}"))[0] == 220
    assert (client.host, client.port) == ("127.0.0.1", server.port)
    await client.starttls()
    assert client.tls is not None and client.tls.verified
    await client.quit()


def _ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="::1 cannot be bound on this machine")
async def test_ipv6_host_string(
    make_server: MakeServer, client_tls_context: ssl.SSLContext
) -> None:
    server = make_server(host="::1")
    client, events = make_client(client_tls_context)
    assert (await client.connect(f"[::1]:{server.port}"))[0] == 220
    assert (client.host, client.port) == ("::1", server.port)
    connected = next(e for e in events if type(e).__name__ == "Connected")
    assert connected.peer == ("::1", server.port)
    await client.starttls()  # the certificate names IP ::1
    assert client.tls is not None and client.tls.verified
    await client.ehlo()
    assert (await client.login(USER, PASSWORD))[0] == 235
    assert await client.sendmail("a@example.org", "b@example.org", MESSAGE) == {}
    await client.quit()
    assert server.messages[0].peer.startswith("[::1]:")


@pytest.mark.parametrize("text", ["[::1", "[::1]x", "host:notaport", "host:0", "host:70000", ":25"])
async def test_bad_host_strings(text: str) -> None:
    client = SMTPClient(connect_timeout=1)
    with pytest.raises(SMTPConnectError) as info:
        await client.connect(text)
    assert info.value.step == "connect"
    assert repr(text) in str(info.value)


# -- send_message ---------------------------------------------------------------------------


async def test_send_message(server: EmbeddedServer, client_tls_context: ssl.SSLContext) -> None:
    msg = EmailMessage()
    msg["From"] = "Alice <alice@example.org>"
    msg["To"] = "Bob <bob@example.org>, carol@example.org"
    msg["Cc"] = "dave@example.org"
    msg["Bcc"] = "eve@example.org"
    msg["Subject"] = "Hello"
    msg.set_content("Hello Bob.\n.a dot line\n")
    client, _ = await secured(server, client_tls_context, login=True)
    assert await client.send_message(msg) == {}
    await client.quit()
    [message] = server.messages
    assert message.mail_from == "alice@example.org"
    assert message.rcpt_tos == (
        "bob@example.org",
        "carol@example.org",
        "eve@example.org",
        "dave@example.org",
    )
    assert b"Bcc" not in message.data and b"eve@" not in message.data
    assert b"\r\nSubject: Hello\r\n" in message.data
    assert b"\r\n.a dot line\r\n" in message.data
    assert msg["Bcc"] == "eve@example.org"  # the caller's message is untouched


async def test_context_manager_quits(server: EmbeddedServer) -> None:
    client, events = make_client(None)
    async with client:
        await client.connect(server.host, server.port)
        await client.noop()
    assert not client.connected
    assert [e.data for e in events if isinstance(e, Sent)][-1] == b"QUIT\r\n"


async def test_command_before_connect_raises_disconnected() -> None:
    client = SMTPClient()
    with pytest.raises(SMTPServerDisconnected, match="not connected"):
        await client.noop()
    with pytest.raises(smtplib.SMTPServerDisconnected):
        await client.ehlo("x")


async def test_host_and_port_given_to_the_constructor(server: EmbeddedServer) -> None:
    client = SMTPClient(server.host, server.port, local_hostname=HELO, timeout=5)
    assert (await client.connect())[0] == 220
    assert (client.host, client.port) == (server.host, server.port)
    await client.quit()
    client = SMTPClient(f"{server.host}:{server.port}", local_hostname=HELO, timeout=5)
    assert (await client.connect())[0] == 220
    assert client.port == server.port
    await client.quit()


async def test_auth_with_an_smtplib_style_authobject(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    client, _ = await secured(server, client_tls_context)
    challenges: list[bytes | None] = []

    def auth_login(challenge: bytes | None = None) -> str:
        challenges.append(challenge)
        return USER if challenge is None else PASSWORD

    assert (await client.auth("LOGIN", auth_login))[0] == 235
    assert len(challenges) == 2 and challenges[0] is None
    assert challenges[1] is not None and challenges[1].startswith(b"Password")
    await client.quit()


async def test_docmd_refuses_line_breaks(server: EmbeddedServer) -> None:
    client, events = make_client(None)
    await client.connect(server.host, server.port)
    with pytest.raises(ValueError, match="command"):
        await client.docmd("NOOP\r\nRSET")
    with pytest.raises(ValueError, match="argument"):
        await client.docmd("VRFY", "bob\r\nRSET")
    assert not [e for e in events if isinstance(e, Sent)]
    assert await client.docmd("NOOP") == (250, b"2.0.0 Ok")
    reply = await client.send_raw(b"NOOP\r\nNOOP\r\n")  # the explicit way: two replies come
    assert reply.code == 250
    await client.quit()


async def test_hostname_mismatch(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    client, _ = make_client(client_tls_context, server_hostname="mx.example.org")
    await client.connect(server.host, server.port)
    with pytest.raises(SMTPTLSError) as info:
        await client.starttls()
    assert "hostname mismatch" in str(info.value) and "mx.example.org" in str(info.value)
    assert f"127.0.0.1:{server.port}" in str(info.value)
