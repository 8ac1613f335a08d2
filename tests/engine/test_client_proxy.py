"""The PROXY header: written the moment the connection is made, before the greeting, to the
embedded server reading it with aiosmtpd's own parser; and to one that does not expect it."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Callable

import pytest

from smtptui.engine import SMTPClient
from smtptui.engine.events import ClientEvent, Direction, Received, Sent, SentKind, WireEvent
from smtptui.protocol.errors import CommandError
from smtptui.protocol.proxy import ProxyHeader, proxy_v1, proxy_v2
from smtptui.server import EmbeddedServer

MakeServer = Callable[..., EmbeddedServer]
MESSAGE = b"Subject: told\r\n\r\nHi.\r\n"


async def send_through(server: EmbeddedServer, header: ProxyHeader, **kwargs) -> list[ClientEvent]:
    """Connect with ``header``, send one message, quit; the client's events."""
    events: list[ClientEvent] = []
    client = SMTPClient(
        local_hostname="client.example",
        timeout=5,
        listener=events.append,
        proxy_header=header,
        **kwargs,
    )
    code, _ = await client.connect(server.host, server.port)
    assert code == 220
    await client.sendmail("a@example.org", ["b@example.org"], MESSAGE)
    await client.quit()
    return events


@pytest.mark.parametrize(
    ("version", "source", "dest", "told", "words"),
    [
        (1, ("192.0.2.1", 5555), ("198.51.100.2", 25), "192.0.2.1:5555", "PROXY v1 TCP4"),
        (2, ("192.0.2.1", 5555), ("198.51.100.2", 25), "192.0.2.1:5555", "PROXY v2 TCP4"),
        (1, ("2001:db8::1", 5555), ("2001:db8::2", 25), "[2001:db8::1]:5555", "PROXY v1 TCP6"),
        (2, ("2001:db8::1", 5555), ("2001:db8::2", 25), "[2001:db8::1]:5555", "PROXY v2 TCP6"),
    ],
)
async def test_the_server_hears_of_the_client_told(
    make_server: MakeServer, version, source, dest, told, words
) -> None:
    server = make_server(proxy_protocol=True)
    events = await send_through(server, ProxyHeader(version, source, dest))
    [message] = server.messages
    assert message.proxied == told
    sent = [e for e in events if isinstance(e, Sent)]
    assert sent[0].kind is SentKind.PROXY
    assert sent[0].data == (proxy_v1 if version == 1 else proxy_v2)(source, dest)
    assert sent[0].note.startswith(words)
    # the header went first, before the greeting was read, on the wire tap as well
    wire = [e for e in events if isinstance(e, WireEvent)]
    assert (wire[0].direction, wire[0].data) == (Direction.SENT, sent[0].data)
    received = [e for e in events if isinstance(e, Received)]
    assert received[0].reply.code == 220 and received[0].command is not None


async def test_the_connections_own_addresses_by_default(make_server: MakeServer) -> None:
    server = make_server(proxy_protocol=True)
    events = await send_through(server, ProxyHeader(2))
    [message] = server.messages
    assert message.proxied == message.peer  # the real client: 127.0.0.1 and its port
    [header] = [e for e in events if isinstance(e, Sent) and e.kind is SentKind.PROXY]
    port = int(message.peer.rpartition(":")[2])
    assert header.note == f"PROXY v2 TCP4 127.0.0.1:{port} → 127.0.0.1:{server.port} (28 bytes)"


@pytest.mark.parametrize("version", [1, 2])
async def test_unknown_and_local(make_server: MakeServer, version) -> None:
    server = make_server(proxy_protocol=True)
    await send_through(server, ProxyHeader(version, unknown=True))
    assert server.messages[0].proxied == "unknown"


async def test_over_implicit_tls_the_header_comes_before_the_handshake(
    server_tls_context: ssl.SSLContext, client_tls_context: ssl.SSLContext
) -> None:
    """As HAProxy sends it: the header in plaintext, then TLS. (aiosmtpd would read it
    inside TLS, so a plain socket server plays the part, reading the header's exact bytes.)"""
    header = ProxyHeader(1, ("192.0.2.1", 5555), ("198.51.100.2", 465))
    expected = b"PROXY TCP4 192.0.2.1 198.51.100.2 5555 465\r\n"
    heard: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            heard.append(conn.recv(len(expected), socket.MSG_WAITALL))
            with server_tls_context.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"220 behind a balancer\r\n")
                heard.append(tls.recv(100))
                tls.sendall(b"221 bye\r\n")

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        client = SMTPClient(
            timeout=5, proxy_header=header, implicit_tls=True, ssl_context=client_tls_context
        )
        assert (await client.connect(*listener.getsockname()))[0] == 220
        assert client.tls is not None
        await client.quit()
    finally:
        await asyncio.to_thread(thread.join, 5)
        listener.close()
    assert heard == [expected, b"QUIT\r\n"]


async def test_a_server_not_expecting_it_says_so(make_server: MakeServer) -> None:
    """Its refusal of the header comes after the greeting, answering no command: published
    as unsolicited (the transcript flags it), and the dialogue goes on in step."""
    server = make_server()
    events: list[ClientEvent] = []
    header = ProxyHeader(1, ("192.0.2.1", 5555), ("198.51.100.2", 25))
    client = SMTPClient(timeout=5, listener=events.append, proxy_header=header)
    assert (await client.connect(server.host, server.port))[0] == 220
    async with asyncio.timeout(5):
        while not any(isinstance(e, Received) and e.reply.code == 500 for e in events):
            await asyncio.sleep(0.01)
    refusal = next(e for e in events if isinstance(e, Received) and e.reply.code == 500)
    assert b'command "PROXY" not recognized' in refusal.reply.raw  # aiosmtpd's words
    assert refusal.command is None
    assert (await client.noop())[0] == 250
    client.close()


async def test_a_header_that_cannot_be_told_is_refused_on_connect(
    make_server: MakeServer,
) -> None:
    server = make_server(proxy_protocol=True)
    client = SMTPClient(timeout=5, proxy_header=ProxyHeader(1, source=("2001:db8::1", 1)))
    with pytest.raises(CommandError, match="one family") as caught:
        await client.connect(server.host, server.port)  # the real destination is IPv4
    assert caught.value.field == "proxy dest"
    assert not client.connected
