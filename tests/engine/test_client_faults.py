"""SMTPClient against servers that misbehave, on purpose: a table of faults and what each
must raise, then the faults that need checks of their own."""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from operator import methodcaller
from typing import Any

import pytest

from smtptui.engine import (
    SMTPClient,
    SMTPConnectError,
    SMTPException,
    SMTPProtocolError,
    SMTPResponseException,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)
from smtptui.engine.events import ClientEvent, Closed, Finding, Received, WireEvent
from smtptui.engine.loop import run
from smtptui.protocol import dialogue as dialogue_module
from smtptui.protocol.replies import MAX_LINE_LENGTH, MAX_REPLY_LINES, Reply, ReplyParser

from support.scripted import (
    Peer,
    Script,
    ScriptedServer,
    expect,
    flood,
    hang_up,
    heard,
    play,
    stall,
    well_behaved,
)

pytestmark = pytest.mark.timeout(20)

Call = Callable[[SMTPClient], Awaitable[object]]
"""A step the client takes, e.g. ``methodcaller("mail", "a@example.org")``."""

EHLO, NOOP = methodcaller("ehlo"), methodcaller("noop")
TO_DATA = (methodcaller("mail", "a@example.org"), methodcaller("rcpt", "b@example.org"))
BIG = (b"x" * 998 + b"\r\n") * (48 * 1024)  # 48 MB: more than any socket buffers hold


@pytest.fixture
async def good() -> AsyncIterator[ScriptedServer]:
    """A well-behaved server to reconnect to after each failure."""
    async with ScriptedServer(well_behaved) as server:
        yield server


def make_client(**kwargs: Any) -> tuple[SMTPClient, list[ClientEvent]]:
    events: list[ClientEvent] = []
    kwargs.setdefault("timeout", 2)
    kwargs.setdefault("connect_timeout", 2)
    return SMTPClient(local_hostname="client.example", listener=events.append, **kwargs), events


def connect(server: ScriptedServer) -> Call:
    """The first step: connecting to ``server``."""
    return lambda client: client.connect(server.host, server.port)


async def assert_reconnects(client: SMTPClient, good: ScriptedServer) -> None:
    """The same client object works again against a good server."""
    assert await client.connect(good.host, good.port) == (220, b"good.example ESMTP")
    assert client.connected
    assert (await client.ehlo())[0] == 250
    assert await client.noop() == (250, b"ok")
    assert await client.quit() == (221, b"bye")
    assert not client.connected


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


async def test_refused_on_every_address_says_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # What asyncio raises when a name has several addresses and each one refuses.
    text = (
        "Multiple exceptions: [Errno 111] Connect call failed ('::1', 2525, 0, 0), "
        "[Errno 111] Connect call failed ('127.0.0.1', 2525)"
    )

    async def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(text)

    monkeypatch.setattr(asyncio.get_running_loop(), "create_connection", refuse)
    client, _ = make_client()
    with pytest.raises(SMTPConnectError) as info:
        await client.connect("localhost:2525")
    assert "connection refused" in str(info.value)
    assert "localhost:2525" in str(info.value)


async def test_connect_timeout(monkeypatch: pytest.MonkeyPatch, good: ScriptedServer) -> None:
    loop = asyncio.get_running_loop()
    real = loop.create_connection

    async def black_hole(factory: Any, host: str, port: int, **kwargs: Any) -> Any:
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


async def test_connecting_again_while_connected_replaces_the_connection(
    good: ScriptedServer,
) -> None:
    client, _ = make_client()
    await client.connect(good.host, good.port)
    await client.noop()
    await assert_reconnects(client, good)
    assert len(good.peers) == 2


# -- faults that end the connection: one row each ---------------------------------------------


@dataclass(frozen=True)
class Fault:
    """A server that fails the client, and the located error that must come of it."""

    id: str
    script: Script
    calls: tuple[Call, ...]  # after connecting; the last one raises (none: connecting does)
    error: type[SMTPException]
    step: str  # the step the error names, after the server's address
    says: tuple[str, ...] = ()  # words of the error's message
    data: bytes | None = None  # the bytes an SMTPProtocolError holds
    hung_up: bool = False  # whether the server's hang-up ended the connection, not the client
    implicit_tls: bool = False  # whether the client connects with implicit TLS
    timeout: float = 2  # the client's reply and connect timeouts
    took: tuple[float, float] = (0, 2)  # the least and most seconds the failing call takes


STARTTLS_OFFERED = (b"220 hi\r\n", expect(b"EHLO"), b"250-x\r\n250 STARTTLS\r\n")
STOPS_READING = (  # says 354 to DATA and never reads another byte
    b"220 hi\r\n",
    expect(b"MAIL"),
    b"250 ok\r\n",
    expect(b"RCPT"),
    b"250 ok\r\n",
    expect(b"DATA"),
    b"354 go on\r\n",
    stall,
)
NO_HANDSHAKE = (*STARTTLS_OFFERED, expect(b"STARTTLS"), b"220 go ahead\r\n", stall)

FAULTS = [
    Fault(
        "no-greeting",
        stall,
        (),
        SMTPTimeoutError,
        "greeting",
        ("0.5 s",),
        timeout=0.5,
        took=(0.4, 2),
    ),
    Fault(
        "no-reply-to-ehlo",
        play(b"220 hi\r\n", expect(b"EHLO"), stall),
        (EHLO,),
        SMTPTimeoutError,
        "EHLO",
        timeout=0.3,
        took=(0.24, 2),
    ),
    Fault(
        "close-mid-multiline-greeting",
        hang_up(b"220-first line\r\n220-second"),
        (),
        SMTPProtocolError,
        "greeting",
        ("middle of a reply",),
        data=b"220-first line\r\n220-second",
        hung_up=True,
    ),
    Fault(
        "close-mid-multiline-ehlo-reply",
        play(b"220 hi\r\n", expect(b"EHLO"), hang_up(b"250-hi\r\n250-SIZE 100\r\n")),
        (EHLO,),
        SMTPProtocolError,
        "EHLO",
        ("middle of a reply",),
        data=b"250-hi\r\n250-SIZE 100\r\n",
        hung_up=True,
    ),
    Fault(
        "close-between-replies",
        play(b"220 hi\r\n", expect(b"NOOP"), hang_up()),
        (NOOP,),
        SMTPServerDisconnected,
        "NOOP",
        ("closed the connection",),
        hung_up=True,
    ),
    Fault(
        "greeting-without-a-code",
        play(b"hello, this is not SMTP\r\n", heard),
        (),
        SMTPProtocolError,
        "greeting",
        ("hello, this is not SMTP",),
        data=b"hello, this is not SMTP\r\n",
    ),
    Fault(
        "malformed-reply-to-mail",
        play(b"220 hi\r\n", expect(b"MAIL"), b"25O 0k\r\n", heard),
        (methodcaller("mail", "a@example.org"),),
        SMTPProtocolError,
        "MAIL",
        data=b"25O 0k\r\n",
    ),
    Fault(
        "never-ending-multiline-reply",
        play(b"220 hi\r\n", expect(b"EHLO"), flood(b"", b"250-and more\r\n" * 100)),
        (EHLO,),
        SMTPProtocolError,
        "EHLO",
        (f"longer than {MAX_REPLY_LINES} lines",),
        data=b"250-and more\r\n" * 5,  # the first five lines
    ),
    Fault(
        "hang-up-during-the-tls-handshake",
        play(*STARTTLS_OFFERED, expect(b"STARTTLS"), b"220 go ahead\r\n", heard, hang_up()),
        (methodcaller("starttls"),),
        SMTPServerDisconnected,
        "TLS handshake",
        ("the server closed the connection",),
        hung_up=True,
    ),
    Fault(
        "hang-up-during-the-implicit-tls-handshake",
        play(heard, hang_up()),  # reads the ClientHello
        (),
        SMTPServerDisconnected,
        "TLS handshake",
        ("the server closed the connection",),
        hung_up=True,
        implicit_tls=True,
    ),
    Fault(
        "no-tls-handshake",
        play(*NO_HANDSHAKE),
        (methodcaller("starttls"),),
        SMTPTimeoutError,
        "TLS handshake",
        ("0.3 s",),
        timeout=0.3,
        took=(0.24, 2),
    ),
    Fault(
        "stops-reading-the-data",
        play(*STOPS_READING),
        (*TO_DATA, methodcaller("data", BIG)),
        SMTPTimeoutError,
        "message data",
        timeout=0.5,
        took=(0.4, 3),
    ),
]


@pytest.mark.parametrize("row", FAULTS, ids=lambda row: row.id)
async def test_fault(row: Fault, server_tls_context: ssl.SSLContext) -> None:
    async with ScriptedServer(row.script) as server:
        client, events = make_client(
            timeout=row.timeout,
            connect_timeout=row.timeout,
            verify=False,
            implicit_tls=row.implicit_tls,
        )
        *before, last = (connect(server), *row.calls)
        for call in before:
            await call(client)
        started = time.monotonic()
        with pytest.raises(row.error) as info:
            await last(client)
        elapsed = time.monotonic() - started
        [closed] = [e for e in events if isinstance(e, Closed)]  # published before the raise
    error = info.value
    assert row.took[0] <= elapsed < row.took[1]
    assert isinstance(error, TimeoutError) is (row.error is SMTPTimeoutError)
    assert (error.host, error.port, error.step) == (server.host, server.port, row.step)
    assert f"{server.host}:{server.port} during {row.step}" in str(error)
    for words in row.says:
        assert words in str(error)
    if row.data is not None:
        assert error.data == row.data
    assert not client.connected
    assert closed is events[-1]
    assert closed.reason == (str(error) if row.hung_up else "closed by the client")
    with pytest.raises(SMTPServerDisconnected) as later:  # whatever ended the connection
        await client.noop()
    assert str(later.value) == f"not connected: {error}"
    assert (later.value.host, later.value.port, later.value.step) == (
        error.host,
        error.port,
        row.step,
    )
    good = ScriptedServer(well_behaved, tls=server_tls_context, implicit_tls=row.implicit_tls)
    async with good:
        await assert_reconnects(client, good)


# -- faults with checks of their own ----------------------------------------------------------


async def test_non_220_greeting_is_returned(good: ScriptedServer) -> None:
    async with ScriptedServer(play(b"554 5.3.2 too busy\r\n", heard)) as server:
        client, _ = make_client()
        assert await client.connect(server.host, server.port) == (554, b"5.3.2 too busy")
    await assert_reconnects(client, good)


async def test_a_reply_before_garbage_in_the_same_read_still_counts(good: ScriptedServer) -> None:
    # The reply and the garbage in one write, so in one read.
    script = play(b"220 hi\r\n", expect(b"NOOP"), b"250 2.0.0 ok\r\nnonsense\r\n", heard)
    async with ScriptedServer(script) as server:
        client, events = make_client()
        await client.connect(server.host, server.port)
        assert await client.noop() == (250, b"2.0.0 ok")
        with pytest.raises(SMTPServerDisconnected) as info:  # the garbage ended the connection
            await client.noop()
    assert str(info.value).startswith("not connected: not an SMTP reply line")
    assert "b'nonsense\\r\\n'" in str(info.value)
    assert not client.connected
    received = [e.reply.raw for e in events if isinstance(e, Received)]
    assert received == [b"220 hi\r\n", b"250 2.0.0 ok\r\n"]
    assert isinstance(events[-1], Closed)
    await assert_reconnects(client, good)


class _MeasuredParser(ReplyParser):
    """Records the most bytes the parser ever held."""

    peak = 0

    def feed(self, data: bytes) -> list[Reply]:
        try:
            return super().feed(data)
        finally:
            _MeasuredParser.peak = max(_MeasuredParser.peak, len(self._buffer))


async def test_one_megabyte_line(good: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dialogue_module, "ReplyParser", _MeasuredParser)
    _MeasuredParser.peak = 0
    script = play(flood(b"220 ", b"x" * 65536, 16, b"\r\n"), heard)  # 1 MB, then a line end

    async with ScriptedServer(script) as server:
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


async def test_starttls_refused_with_454(good: ScriptedServer) -> None:
    script = play(
        *STARTTLS_OFFERED,
        expect(b"STARTTLS"),
        b"454 4.7.0 TLS not available due to temporary reason\r\n",
        expect(b"NOOP"),
        b"250 still here\r\n",
        heard,
    )
    async with ScriptedServer(script) as server:
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


async def test_error_during_auth_does_not_reveal_the_password(good: ScriptedServer) -> None:
    script = play(
        b"220 hi\r\n",
        expect(b"EHLO"),
        b"250-x\r\n250 AUTH LOGIN\r\n",
        expect(b"AUTH LOGIN"),
        b"334 UGFzc3dvcmQ6\r\n",
        heard,  # the password, base64
        hang_up(),
    )
    async with ScriptedServer(script) as server:
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


# -- STARTTLS: plaintext after the 220 ----------------------------------------------------


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
        pytest.param(b"", id="nothing"),
        pytest.param(b"250-injected.example\r\n250 AUTH PLAIN\r\n", id="an-ehlo-reply"),
        pytest.param(b"250 one\r\n250 two\r\n", id="two-replies"),
        pytest.param(b"250 incompl", id="half-a-reply"),
        pytest.param(b"injected, and not a reply\r\n", id="not-a-reply"),
        pytest.param(b"250 one\r\nnot a reply\r\n250 two\r\n", id="replies-and-garbage"),
    ],
)
async def test_plaintext_after_starttls_220_is_discarded(
    good: ScriptedServer,
    server_tls_context: ssl.SSLContext,
    client_tls_context: ssl.SSLContext,
    injected: bytes,
) -> None:
    async with ScriptedServer(_starttls_script(server_tls_context, injected)) as server:
        client, events = make_client(ssl_context=client_tls_context)
        await client.connect(server.host, server.port)
        await client.ehlo()
        assert await client.starttls() == (220, b"2.0.0 go ahead")
        assert client.tls is not None and client.tls.verified
        assert await client.ehlo() == (250, b"tls.example\nAUTH PLAIN")
        assert await client.quit() == (221, b"bye")
    assert server.errors == []
    findings = [e for e in events if isinstance(e, Finding)]
    assert [finding.data for finding in findings] == ([injected] if injected else [])
    assert all(str(len(injected)) in finding.text for finding in findings)
    # None of it was taken as a reply inside TLS.
    assert not any(isinstance(e, Received) and e.tls and b"inj" in e.reply.raw for e in events)
    await assert_reconnects(client, good)


# -- cancellation: one row per place the client can be stuck ----------------------------------


@dataclass(frozen=True)
class Stuck:
    """A server that leaves the client waiting, to be cancelled there."""

    id: str
    script: Script
    calls: tuple[Call, ...]  # after connecting; the last one is stuck (none: connecting is)


STUCK = [
    Stuck("connect", stall, ()),
    Stuck("command", play(b"220 hi\r\n", expect(b"NOOP"), stall), (NOOP,)),
    Stuck("message-data", play(*STOPS_READING), (*TO_DATA, methodcaller("data", BIG))),
    Stuck("tls-handshake", play(*NO_HANDSHAKE), (methodcaller("starttls"),)),
]


@pytest.mark.parametrize("row", STUCK, ids=lambda row: row.id)
async def test_cancelled_call_closes_and_reconnect_works(row: Stuck, good: ScriptedServer) -> None:
    async with ScriptedServer(row.script) as server:
        client, events = make_client(timeout=10, connect_timeout=10, verify=False)
        *before, last = (connect(server), *row.calls)
        for call in before:
            await call(client)
        task = asyncio.create_task(last(client))
        await asyncio.sleep(0.3)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not client.connected
        assert [e.reason for e in events if isinstance(e, Closed)] == ["closed by the client"]
        with pytest.raises(SMTPServerDisconnected) as later:
            await client.noop()
        assert str(later.value).startswith("not connected: the client closed the connection")
    await assert_reconnects(client, good)


@pytest.mark.parametrize("runner", [asyncio.run, run], ids=["asyncio", "app-loop"])
def test_close_during_the_tls_handshake_is_the_clients_doing(runner: Callable) -> None:
    """Whatever asyncio's start_tls makes of it (uvloop returns a dead transport)."""

    async def close_in_the_handshake() -> None:
        async with ScriptedServer(play(*NO_HANDSHAKE)) as server:
            client, events = make_client(timeout=10, connect_timeout=10, verify=False)
            await client.connect(server.host, server.port)
            task = asyncio.create_task(client.starttls())
            await asyncio.sleep(0.3)
            client.close()
            with pytest.raises(SMTPServerDisconnected) as info:
                await task
        assert str(info.value).startswith("the client closed the connection")
        assert [e.reason for e in events if isinstance(e, Closed)] == ["closed by the client"]
        async with ScriptedServer(well_behaved) as good:
            await assert_reconnects(client, good)

    runner(close_in_the_handshake())


async def test_wait_for_timeout_around_a_command(good: ScriptedServer) -> None:
    async with ScriptedServer(play(b"220 hi\r\n", heard, stall)) as server:
        client, _ = make_client(timeout=10)
        await client.connect(server.host, server.port)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.ehlo(), 0.2)
        assert not client.connected
    await assert_reconnects(client, good)


# -- smtplib's reactions to refusals: one row each ------------------------------------------


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


@dataclass(frozen=True)
class Refusal:
    """A server that refuses part of a sendmail, and what smtplib's rules make of it."""

    id: str
    script: Script
    recipients: tuple[str, ...]
    error: type[smtplib.SMTPException]
    attributes: Mapping[str, object]  # the error's
    connected: bool  # whether the client keeps the connection (and then QUITs)
    last: tuple[bytes, ...]  # the last lines the server read


REFUSALS = [
    Refusal(
        "421-to-mail-closes",
        _transaction(b"421 4.3.2 shutting down\r\n", b""),
        ("b@example.org",),
        smtplib.SMTPSenderRefused,
        {"smtp_code": 421, "sender": "a@example.org"},
        connected=False,
        last=(b"MAIL FROM:<a@example.org>\r\n",),  # no RSET after a 421
    ),
    Refusal(
        "421-to-rcpt-closes",
        _transaction(b"250 ok\r\n", b"421 4.3.2 bye now\r\n"),
        ("b@example.org", "c@example.org"),
        smtplib.SMTPRecipientsRefused,
        {"recipients": {"b@example.org": (421, b"4.3.2 bye now")}},
        connected=False,
        last=(b"RCPT TO:<b@example.org>\r\n",),
    ),
    Refusal(
        "refused-data-resets",
        _transaction(b"250 ok\r\n", b"250 ok\r\n", b"552 5.3.4 message too big\r\n"),
        ("b@example.org",),
        smtplib.SMTPDataError,
        {"smtp_code": 552, "smtp_error": b"5.3.4 message too big"},
        connected=True,
        last=(b"RSET\r\n", b"QUIT\r\n"),
    ),
]


@pytest.mark.parametrize("row", REFUSALS, ids=lambda row: row.id)
async def test_refusal(row: Refusal, good: ScriptedServer) -> None:
    async with ScriptedServer(row.script) as server:
        client, _ = make_client()
        await client.connect(server.host, server.port)
        with pytest.raises(row.error) as info:
            await client.sendmail("a@example.org", list(row.recipients), b"x")
        assert {name: getattr(info.value, name) for name in row.attributes} == row.attributes
        assert client.connected is row.connected
        if row.connected:
            assert await client.quit() == (221, b"bye")
    assert server.peers[0].received[-len(row.last) :] == list(row.last)
    await assert_reconnects(client, good)


# -- like smtplib ---------------------------------------------------------------------------


async def test_failed_second_ehlo_forgets_features_like_smtplib() -> None:
    async def second_ehlo_fails(peer: Peer) -> None:
        await peer.greet(b"250-x\r\n250 STARTTLS\r\n")
        await peer.expect(b"EHLO")
        await peer.send(b"502 5.5.1 no more EHLO\r\n")
        await peer.expect(b"QUIT")
        await peer.send(b"221 bye\r\n")

    async with ScriptedServer(second_ehlo_fails) as server:

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
