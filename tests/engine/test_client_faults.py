"""SMTPClient against servers that misbehave, on purpose, one script per test."""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
import time
from collections.abc import AsyncIterator

import pytest

from smtptui.engine import (
    SMTPClient,
    SMTPConnectError,
    SMTPProtocolError,
    SMTPResponseException,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)
from smtptui.engine import client as client_module
from smtptui.engine.events import ClientEvent, Closed, Finding, Received, WireEvent
from smtptui.protocol.replies import MAX_LINE_LENGTH, MAX_REPLY_LINES, ReplyParser

from support.scripted import Peer, Script, ScriptedServer, well_behaved

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
async def good() -> AsyncIterator[ScriptedServer]:
    """A well-behaved server to reconnect to after each failure."""
    async with ScriptedServer(well_behaved) as server:
        yield server


def make_client(**kwargs) -> tuple[SMTPClient, list[ClientEvent]]:
    events: list[ClientEvent] = []
    kwargs.setdefault("timeout", 2)
    kwargs.setdefault("connect_timeout", 2)
    return SMTPClient(local_hostname="client.example", listener=events.append, **kwargs), events


async def assert_reconnects(client: SMTPClient, good: ScriptedServer) -> None:
    """The same client object works again against a good server."""
    assert await client.connect(good.host, good.port) == (220, b"good.example ESMTP")
    assert client.connected
    assert (await client.ehlo())[0] == 250
    assert await client.noop() == (250, b"ok")
    assert await client.quit() == (221, b"bye")
    assert not client.connected


def scripted(script: Script) -> ScriptedServer:
    return ScriptedServer(script)


# -- connecting ---------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_closed_port_is_refused(good: ScriptedServer) -> None:
    port = _closed_port()
    client, _ = make_client()
    with pytest.raises(SMTPConnectError) as info:
        await client.connect("127.0.0.1", port)
    error = info.value
    assert isinstance(error, smtplib.SMTPConnectError)
    assert f"127.0.0.1:{port}" in str(error)
    assert "refused" in str(error).lower()
    assert error.smtp_code == -1
    assert (error.host, error.port, error.step) == ("127.0.0.1", port, "connect")
    assert not client.connected
    await assert_reconnects(client, good)


async def test_unresolvable_name(good: ScriptedServer) -> None:
    client, _ = make_client()
    with pytest.raises(SMTPConnectError) as info:
        await client.connect("no-such-host.invalid", 25)
    assert "cannot resolve" in str(info.value)
    assert "no-such-host.invalid" in str(info.value)
    assert info.value.port == 25
    await assert_reconnects(client, good)


async def test_no_greeting_times_out(good: ScriptedServer) -> None:
    async def silent(peer: Peer) -> None:
        await asyncio.sleep(30)

    async with scripted(silent) as server:
        client, _ = make_client(timeout=0.5)
        started = time.monotonic()
        with pytest.raises(SMTPTimeoutError) as info:
            await client.connect(server.host, server.port)
        elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 2
    assert isinstance(info.value, smtplib.SMTPException) and isinstance(info.value, TimeoutError)
    assert info.value.step == "greeting"
    assert f"127.0.0.1:{server.port}" in str(info.value) and "0.5 s" in str(info.value)
    assert not client.connected
    with pytest.raises(SMTPServerDisconnected):
        await client.noop()
    await assert_reconnects(client, good)


async def test_reply_timeout_names_the_command(good: ScriptedServer) -> None:
    async def stalls_on_ehlo(peer: Peer) -> None:
        await peer.send(b"220 hi\r\n")
        await peer.expect(b"EHLO")
        await asyncio.sleep(30)

    async with scripted(stalls_on_ehlo) as server:
        client, _ = make_client(timeout=0.3)
        await client.connect(server.host, server.port)
        started = time.monotonic()
        with pytest.raises(SMTPTimeoutError) as info:
            await client.ehlo()
        assert time.monotonic() - started < 2
    assert info.value.step == "EHLO"
    assert "during EHLO" in str(info.value)
    assert not client.connected
    await assert_reconnects(client, good)


async def test_non_220_greeting_is_returned(good: ScriptedServer) -> None:
    async def busy(peer: Peer) -> None:
        await peer.send(b"554 5.3.2 too busy\r\n")
        await peer.line()

    async with scripted(busy) as server:
        client, _ = make_client()
        assert await client.connect(server.host, server.port) == (554, b"5.3.2 too busy")
    await assert_reconnects(client, good)


# -- broken replies -----------------------------------------------------------------------


async def test_close_in_the_middle_of_a_multiline_greeting(good: ScriptedServer) -> None:
    async def hangs_up(peer: Peer) -> None:
        await peer.send(b"220-first line\r\n220-second")
        peer.close()

    async with scripted(hangs_up) as server:
        client, _ = make_client()
        with pytest.raises((SMTPProtocolError, SMTPServerDisconnected)) as info:
            await client.connect(server.host, server.port)
    error = info.value
    assert error.step == "greeting" and "greeting" in str(error)
    assert "middle of a reply" in str(error)
    assert isinstance(error, SMTPProtocolError)
    assert error.data == b"220-first line\r\n220-second"
    assert not client.connected
    await assert_reconnects(client, good)


async def test_close_in_the_middle_of_a_multiline_ehlo_reply(good: ScriptedServer) -> None:
    async def hangs_up(peer: Peer) -> None:
        await peer.greet(b"250-hi\r\n250-SIZE 100\r\n")
        peer.close()

    async with scripted(hangs_up) as server:
        client, _ = make_client()
        await client.connect(server.host, server.port)
        with pytest.raises((SMTPProtocolError, SMTPServerDisconnected)) as info:
            await client.ehlo()
    assert info.value.step == "EHLO"
    assert "EHLO" in str(info.value)
    assert not client.connected
    await assert_reconnects(client, good)


async def test_close_between_replies_is_a_disconnect(good: ScriptedServer) -> None:
    async def hangs_up(peer: Peer) -> None:
        await peer.send(b"220 hi\r\n")
        await peer.expect(b"NOOP")
        peer.close()

    async with scripted(hangs_up) as server:
        client, events = make_client()
        await client.connect(server.host, server.port)
        with pytest.raises(SMTPServerDisconnected) as info:
            await client.noop()
    assert isinstance(info.value, smtplib.SMTPServerDisconnected)
    assert info.value.step == "NOOP"
    [closed] = [e for e in events if isinstance(e, Closed)]
    assert "closed the connection" in closed.reason
    assert f"127.0.0.1:{server.port}" in str(info.value)
    await assert_reconnects(client, good)


async def test_reply_without_a_code(good: ScriptedServer) -> None:
    async def garbage(peer: Peer) -> None:
        await peer.send(b"hello, this is not SMTP\r\n")
        await peer.line()

    async with scripted(garbage) as server:
        client, _ = make_client()
        with pytest.raises(SMTPProtocolError) as info:
            await client.connect(server.host, server.port)
    assert info.value.data == b"hello, this is not SMTP\r\n"
    assert "hello, this is not SMTP" in str(info.value)
    assert info.value.step == "greeting"
    assert not client.connected
    await assert_reconnects(client, good)


async def test_malformed_reply_to_a_command(good: ScriptedServer) -> None:
    async def garbage(peer: Peer) -> None:
        await peer.send(b"220 hi\r\n")
        await peer.expect(b"MAIL")
        await peer.send(b"25O 0k\r\n")
        await peer.line()

    async with scripted(garbage) as server:
        client, _ = make_client()
        await client.connect(server.host, server.port)
        with pytest.raises(SMTPProtocolError) as info:
            await client.mail("a@example.org")
    assert info.value.data == b"25O 0k\r\n"
    assert info.value.step == "MAIL"
    await assert_reconnects(client, good)


async def test_a_reply_before_garbage_in_the_same_read_still_counts(good: ScriptedServer) -> None:
    async def garbage(peer: Peer) -> None:
        await peer.send(b"220 hi\r\n")
        await peer.expect(b"NOOP")
        await peer.send(b"250 2.0.0 ok\r\nnonsense\r\n")  # one write, one read
        await peer.line()

    async with scripted(garbage) as server:
        client, events = make_client()
        await client.connect(server.host, server.port)
        assert await client.noop() == (250, b"2.0.0 ok")
        with pytest.raises(SMTPProtocolError) as info:
            await client.noop()
    assert info.value.data == b"nonsense\r\n"
    assert "not an SMTP reply line" in str(info.value)
    assert not client.connected
    received = [e.reply.raw for e in events if isinstance(e, Received)]
    assert received == [b"220 hi\r\n", b"250 2.0.0 ok\r\n"]
    assert isinstance(events[-1], Closed)
    await assert_reconnects(client, good)


class _MeasuredParser(ReplyParser):
    """Records the most bytes the parser ever held."""

    peak = 0

    def feed(self, data: bytes):
        try:
            return super().feed(data)
        finally:
            _MeasuredParser.peak = max(_MeasuredParser.peak, len(self._buffer))


async def test_one_megabyte_line(good: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "ReplyParser", _MeasuredParser)
    _MeasuredParser.peak = 0

    async def flood(peer: Peer) -> None:
        await peer.send(b"220 ")
        chunk = b"x" * 65536
        for _ in range(16):  # 1 MB, no line end
            await peer.send(chunk)
        await peer.send(b"\r\n")
        await peer.line()

    async with scripted(flood) as server:
        client, events = make_client()
        started = time.monotonic()
        with pytest.raises(SMTPProtocolError) as info:
            await client.connect(server.host, server.port)
        elapsed = time.monotonic() - started
    assert elapsed < 1.5
    assert "longer than" in str(info.value)
    assert info.value.data.startswith(b"220 xxx") and len(info.value.data) <= 1024
    assert _MeasuredParser.peak <= MAX_LINE_LENGTH + 65536
    received = sum(len(e.data) for e in events if isinstance(e, WireEvent))
    assert received < 1024 * 1024  # it stopped reading long before the end
    assert not client.connected
    await assert_reconnects(client, good)


async def test_never_ending_multiline_reply(good: ScriptedServer) -> None:
    async def endless(peer: Peer) -> None:
        await peer.send(b"220 hi\r\n")
        await peer.expect(b"EHLO")
        while True:
            await peer.send(b"250-and more\r\n" * 100)

    async with scripted(endless) as server:
        client, _ = make_client()
        await client.connect(server.host, server.port)
        started = time.monotonic()
        with pytest.raises(SMTPProtocolError) as info:
            await client.ehlo()
        assert time.monotonic() - started < 2
    assert f"longer than {MAX_REPLY_LINES} lines" in str(info.value)
    assert info.value.data.startswith(b"250-and more\r\n")
    assert info.value.step == "EHLO"
    assert not client.connected
    await assert_reconnects(client, good)


# -- STARTTLS -----------------------------------------------------------------------------


def _starttls_script(server_tls_context: ssl.SSLContext, after_220: bytes) -> Script:
    async def script(peer: Peer) -> None:
        await peer.greet(b"250-tls.example\r\n250 STARTTLS\r\n")
        await peer.expect(b"STARTTLS")
        await peer.send(b"220 2.0.0 go ahead\r\n" + after_220)  # one write, one packet
        await peer.start_tls(server_tls_context)
        await peer.expect(b"EHLO")
        await peer.send(b"250-tls.example\r\n250 AUTH PLAIN\r\n")
        await peer.expect(b"QUIT")
        await peer.send(b"221 bye\r\n")

    return script


@pytest.mark.parametrize(
    "injected",
    [
        b"250-injected.example\r\n250 AUTH PLAIN\r\n",
        b"250 one\r\n250 two\r\n",
        b"250 incompl",
        b"injected, and not a reply\r\n",
        b"250 one\r\nnot a reply\r\n250 two\r\n",
    ],
)
async def test_plaintext_after_starttls_220_is_discarded(
    good: ScriptedServer,
    server_tls_context: ssl.SSLContext,
    client_tls_context: ssl.SSLContext,
    injected: bytes,
) -> None:
    async with scripted(_starttls_script(server_tls_context, injected)) as server:
        client, events = make_client(ssl_context=client_tls_context)
        await client.connect(server.host, server.port)
        await client.ehlo()
        assert await client.starttls() == (220, b"2.0.0 go ahead")
        assert client.tls is not None and client.tls.verified
        assert await client.ehlo() == (250, b"tls.example\nAUTH PLAIN")
        assert await client.quit() == (221, b"bye")
    assert server.errors == []
    [finding] = [e for e in events if isinstance(e, Finding)]
    assert finding.data == injected
    assert str(len(injected)) in finding.text
    # None of it was taken as a reply inside TLS.
    assert not any(isinstance(e, Received) and e.tls and b"inj" in e.reply.raw for e in events)
    await assert_reconnects(client, good)


async def test_clean_starttls_reports_no_finding(
    server_tls_context: ssl.SSLContext, client_tls_context: ssl.SSLContext
) -> None:
    async with scripted(_starttls_script(server_tls_context, b"")) as server:
        client, events = make_client(ssl_context=client_tls_context)
        await client.connect(server.host, server.port)
        await client.starttls()
        await client.ehlo()
        await client.quit()
    assert not any(isinstance(e, Finding) for e in events)


async def test_starttls_refused_with_454(good: ScriptedServer) -> None:
    async def refuses(peer: Peer) -> None:
        await peer.greet(b"250-x\r\n250 STARTTLS\r\n")
        await peer.expect(b"STARTTLS")
        await peer.send(b"454 4.7.0 TLS not available due to temporary reason\r\n")
        await peer.expect(b"NOOP")
        await peer.send(b"250 still here\r\n")
        await peer.line()

    async with scripted(refuses) as server:
        client, _ = make_client()
        await client.connect(server.host, server.port)
        with pytest.raises(SMTPResponseException) as info:
            await client.starttls()
        assert info.value.smtp_code == 454
        assert info.value.smtp_error == b"4.7.0 TLS not available due to temporary reason"
        assert isinstance(info.value, smtplib.SMTPResponseException)
        assert client.tls is None
        assert await client.noop() == (250, b"still here")  # still in plaintext
    assert server.errors == []
    await assert_reconnects(client, good)


async def test_server_hangs_up_during_the_handshake(good: ScriptedServer) -> None:
    async def hangs_up(peer: Peer) -> None:
        await peer.greet(b"250-x\r\n250 STARTTLS\r\n")
        await peer.expect(b"STARTTLS")
        await peer.send(b"220 go ahead\r\n")
        await peer.reader.read(1)  # the ClientHello
        peer.close()

    async with scripted(hangs_up) as server:
        client, _ = make_client(verify=False)
        await client.connect(server.host, server.port)
        with pytest.raises(smtplib.SMTPException) as info:
            await client.starttls()
    assert f"127.0.0.1:{server.port}" in str(info.value)
    assert "TLS handshake" in str(info.value)
    assert not client.connected
    await assert_reconnects(client, good)


# -- cancellation -------------------------------------------------------------------------


async def test_cancelled_command_closes_and_reconnect_works(good: ScriptedServer) -> None:
    async def never_answers(peer: Peer) -> None:
        await peer.send(b"220 hi\r\n")
        await peer.expect(b"NOOP")
        await asyncio.sleep(30)

    async with scripted(never_answers) as server:
        client, _ = make_client(timeout=10)
        await client.connect(server.host, server.port)
        task = asyncio.create_task(client.noop())
        await asyncio.sleep(0.1)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not client.connected
        with pytest.raises(SMTPServerDisconnected):
            await client.noop()
    await assert_reconnects(client, good)


async def test_cancelled_connect_then_reconnect(good: ScriptedServer) -> None:
    async def silent(peer: Peer) -> None:
        await asyncio.sleep(30)

    async with scripted(silent) as server:
        client, _ = make_client(timeout=10)
        task = asyncio.create_task(client.connect(server.host, server.port))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not client.connected
    await assert_reconnects(client, good)


async def test_wait_for_timeout_around_a_command(good: ScriptedServer) -> None:
    async def never_answers(peer: Peer) -> None:
        await peer.send(b"220 hi\r\n")
        await peer.line()
        await asyncio.sleep(30)

    async with scripted(never_answers) as server:
        client, _ = make_client(timeout=10)
        await client.connect(server.host, server.port)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.ehlo(), 0.2)
        assert not client.connected
    await assert_reconnects(client, good)


async def test_connecting_again_while_connected_replaces_the_connection(
    good: ScriptedServer,
) -> None:
    client, _ = make_client()
    await client.connect(good.host, good.port)
    await client.noop()
    await assert_reconnects(client, good)
    assert len(good.peers) == 2


async def test_refused_on_every_address_says_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # What asyncio raises when a name has several addresses and each one refuses.
    text = (
        "Multiple exceptions: [Errno 111] Connect call failed ('::1', 2525, 0, 0), "
        "[Errno 111] Connect call failed ('127.0.0.1', 2525)"
    )

    async def refuse(*args, **kwargs):
        raise OSError(text)

    monkeypatch.setattr(asyncio.get_running_loop(), "create_connection", refuse)
    client, _ = make_client()
    with pytest.raises(SMTPConnectError) as info:
        await client.connect("localhost:2525")
    assert "connection refused" in str(info.value)
    assert "localhost:2525" in str(info.value)


# -- a server that stops reading the message ------------------------------------------------

BIG = b"x" * 998 + b"\r\n"
BIG = BIG * (48 * 1024)  # 48 MB: more than any socket buffers hold


async def _stops_reading(peer: Peer) -> None:
    await peer.send(b"220 hi\r\n")
    await peer.expect(b"MAIL")
    await peer.send(b"250 ok\r\n")
    await peer.expect(b"RCPT")
    await peer.send(b"250 ok\r\n")
    await peer.expect(b"DATA")
    await peer.send(b"354 go on\r\n")
    await asyncio.sleep(30)  # and never read another byte


async def test_server_that_stops_reading_the_data_times_out(good: ScriptedServer) -> None:
    async with scripted(_stops_reading) as server:
        client, _ = make_client(timeout=0.5)
        await client.connect(server.host, server.port)
        await client.mail("a@example.org")
        await client.rcpt("b@example.org")
        started = time.monotonic()
        with pytest.raises(SMTPTimeoutError) as info:
            await client.data(BIG)
        assert time.monotonic() - started < 3
    assert info.value.step == "message data"
    assert not client.connected
    await assert_reconnects(client, good)


async def test_cancel_while_the_data_is_blocked(good: ScriptedServer) -> None:
    async with scripted(_stops_reading) as server:
        client, _ = make_client(timeout=10)
        await client.connect(server.host, server.port)
        await client.mail("a@example.org")
        await client.rcpt("b@example.org")
        task = asyncio.create_task(client.data(BIG))
        await asyncio.sleep(0.3)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not client.connected
    await assert_reconnects(client, good)


# -- what errors say ------------------------------------------------------------------------


async def test_error_during_auth_does_not_reveal_the_password(good: ScriptedServer) -> None:
    async def drops_after_password(peer: Peer) -> None:
        await peer.greet(b"250-x\r\n250 AUTH LOGIN\r\n")
        await peer.expect(b"AUTH LOGIN")
        await peer.send(b"334 UGFzc3dvcmQ6\r\n")
        await peer.line()  # the password, base64
        peer.close()

    async with scripted(drops_after_password) as server:
        client, _ = make_client()
        await client.connect(server.host, server.port)
        await client.ehlo()
        with pytest.raises(SMTPServerDisconnected) as info:
            await client.login("alice", "wonderland", mechanism="LOGIN")
    secret = "d29uZGVybGFuZA"  # base64 of the password
    assert secret.lower() not in str(info.value).lower()
    assert secret.lower() not in info.value.step.lower()
    assert "AUTH" in info.value.step
    await assert_reconnects(client, good)


async def test_connect_timeout(monkeypatch: pytest.MonkeyPatch, good: ScriptedServer) -> None:
    loop = asyncio.get_running_loop()
    real = loop.create_connection

    async def black_hole(factory, host, port, **kwargs):
        if port == 9:
            await asyncio.sleep(30)  # a SYN nobody answers
        return await real(factory, host, port, **kwargs)

    monkeypatch.setattr(loop, "create_connection", black_hole)
    client, _ = make_client(connect_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(SMTPTimeoutError) as info:
        await client.connect("192.0.2.1", 9)
    assert time.monotonic() - started < 2
    assert info.value.step == "connect" and "192.0.2.1:9" in str(info.value)
    await assert_reconnects(client, good)


# -- smtplib's reactions to refusals --------------------------------------------------------


def _transaction(mail: bytes, rcpt: bytes, end: bytes = b"250 ok\r\n") -> Script:
    async def script(peer: Peer) -> None:
        await peer.greet(b"250 x\r\n")
        await peer.expect(b"MAIL")
        await peer.send(mail)
        if mail.startswith(b"250"):
            await peer.expect(b"RCPT")
            await peer.send(rcpt)
            if rcpt.startswith(b"250"):
                await peer.expect(b"DATA")
                await peer.send(b"354 go\r\n")
                while (await peer.line()) != b".\r\n":
                    pass
                await peer.send(end)
        if not (mail + rcpt + end).startswith(b"421") and b"\r\n421" not in mail + rcpt:
            while line := await peer.line():
                await peer.send(b"221 bye\r\n" if line.startswith(b"QUIT") else b"250 ok\r\n")

    return script


async def test_421_to_mail_closes(good: ScriptedServer) -> None:
    async with scripted(_transaction(b"421 4.3.2 shutting down\r\n", b"")) as server:
        client, _ = make_client()
        await client.connect(server.host, server.port)
        with pytest.raises(smtplib.SMTPSenderRefused) as info:
            await client.sendmail("a@example.org", ["b@example.org"], b"x")
    assert info.value.smtp_code == 421 and info.value.sender == "a@example.org"
    assert not client.connected
    assert server.peers[0].received[-1].startswith(b"MAIL")  # no RSET after a 421
    await assert_reconnects(client, good)


async def test_421_to_rcpt_closes(good: ScriptedServer) -> None:
    async with scripted(_transaction(b"250 ok\r\n", b"421 4.3.2 bye now\r\n")) as server:
        client, _ = make_client()
        await client.connect(server.host, server.port)
        with pytest.raises(smtplib.SMTPRecipientsRefused) as info:
            await client.sendmail("a@example.org", ["b@example.org", "c@example.org"], b"x")
    assert info.value.recipients == {"b@example.org": (421, b"4.3.2 bye now")}
    assert not client.connected
    await assert_reconnects(client, good)


async def test_refused_data_resets(good: ScriptedServer) -> None:
    script = _transaction(b"250 ok\r\n", b"250 ok\r\n", b"552 5.3.4 message too big\r\n")
    async with scripted(script) as server:
        client, _ = make_client()
        await client.connect(server.host, server.port)
        with pytest.raises(smtplib.SMTPDataError) as info:
            await client.sendmail("a@example.org", ["b@example.org"], b"x")
        assert info.value.smtp_code == 552
        assert info.value.smtp_error == b"5.3.4 message too big"
        assert client.connected
        assert await client.quit() == (221, b"bye")
    assert server.peers[0].received[-2:] == [b"RSET\r\n", b"QUIT\r\n"]
    await assert_reconnects(client, good)


async def _no_handshake(peer: Peer) -> None:
    await peer.greet(b"250-x\r\n250 STARTTLS\r\n")
    await peer.expect(b"STARTTLS")
    await peer.send(b"220 go ahead\r\n")
    await asyncio.sleep(30)  # and never answer the ClientHello


async def test_handshake_timeout(good: ScriptedServer) -> None:
    async with scripted(_no_handshake) as server:
        client, _ = make_client(connect_timeout=0.3, verify=False)
        await client.connect(server.host, server.port)
        started = time.monotonic()
        with pytest.raises(SMTPTimeoutError) as info:
            await client.starttls()
        assert time.monotonic() - started < 2
    assert info.value.step == "TLS handshake"
    assert "0.3 s" in str(info.value)
    assert not client.connected
    await assert_reconnects(client, good)


async def test_cancel_during_the_handshake(good: ScriptedServer) -> None:
    async with scripted(_no_handshake) as server:
        client, _ = make_client(connect_timeout=10, verify=False)
        await client.connect(server.host, server.port)
        task = asyncio.create_task(client.starttls())
        await asyncio.sleep(0.3)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not client.connected
        with pytest.raises(SMTPServerDisconnected):
            await client.noop()
    await assert_reconnects(client, good)


async def test_failed_second_ehlo_forgets_features_like_smtplib() -> None:
    async def second_ehlo_fails(peer: Peer) -> None:
        await peer.greet(b"250-x\r\n250 STARTTLS\r\n")
        await peer.expect(b"EHLO")
        await peer.send(b"502 5.5.1 no more EHLO\r\n")
        await peer.expect(b"QUIT")
        await peer.send(b"221 bye\r\n")

    async with scripted(second_ehlo_fails) as server:

        def with_smtplib() -> tuple:
            smtp = smtplib.SMTP(server.host, server.port, local_hostname="client.example")
            first = smtp.ehlo()
            second = smtp.ehlo()
            state = (first, second, smtp.esmtp_features, smtp.does_esmtp, smtp.ehlo_resp)
            smtp.quit()
            return state

        expected = await asyncio.to_thread(with_smtplib)
        client, _ = make_client()
        await client.connect(server.host, server.port)
        first = await client.ehlo()
        second = await client.ehlo()
        state = (first, second, client.esmtp_features, client.does_esmtp, client.ehlo_resp)
        await client.quit()
    assert state == expected
    assert not client.has_extn("starttls")
    assert client.capabilities is None
