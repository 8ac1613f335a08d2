"""The ways to a server (engine/transport.py) against real counterparts: the embedded server
on a UNIX socket, pproxy as SOCKS5 / SOCKS4a / HTTP CONNECT proxy, a refusing SOCKS5 server,
``smtptui serve --stdio`` through a pipe, TCP from a chosen source address and family."""

from __future__ import annotations

import os
import shlex
import socket
import ssl
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme

from smtptui.engine import SMTPClient, SMTPConnectError
from smtptui.engine.events import ClientEvent, Connected, Connecting
from smtptui.engine.transport import Route
from smtptui.protocol.errors import CommandError
from smtptui.server import EmbeddedServer

from support.proxies import free_port, proxy, refusing_socks5

MESSAGE = "Subject: transports\r\n\r\nHello.\r\n"
STDIO = f"{shlex.quote(sys.executable)} -m smtptui serve --stdio"


async def send_one(client: SMTPClient) -> None:
    await client.connect()
    await client.sendmail("alice@example.org", ["bob@example.org"], MESSAGE)
    await client.quit()


def first(events: list[ClientEvent], kind: type) -> ClientEvent:
    return next(event for event in events if isinstance(event, kind))


# -- UNIX sockets ----------------------------------------------------------------------


async def test_unix_socket_carries_a_session(
    make_server: Callable[..., EmbeddedServer], tmp_path: Path
) -> None:
    path = tmp_path / "smtp.sock"
    server = make_server(unix_path=str(path))
    events: list[ClientEvent] = []
    client = SMTPClient(f"unix:{path}", listener=events.append)
    await send_one(client)
    assert [m.rcpt_tos for m in server.messages] == [("bob@example.org",)]
    assert first(events, Connecting).route == f"to unix:{path}"
    assert first(events, Connected).peer == (f"unix:{path}", 0)


async def test_missing_unix_socket_is_named(tmp_path: Path) -> None:
    with pytest.raises(SMTPConnectError) as caught:
        await SMTPClient(f"unix:{tmp_path}/none.sock").connect()
    assert caught.value.cause == "missing"
    assert f"no UNIX socket at {tmp_path}/none.sock" in str(caught.value)


async def test_unix_socket_nobody_listens_on(tmp_path: Path) -> None:
    path = tmp_path / "stale.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))  # bound, never listening: a server that died
        with pytest.raises(SMTPConnectError) as caught:
            await SMTPClient(f"unix:{path}").connect()
    assert caught.value.cause == "refused"


@pytest.mark.skipif(os.geteuid() == 0, reason="root connects whatever the permissions")
async def test_unix_socket_without_permission(
    make_server: Callable[..., EmbeddedServer], tmp_path: Path
) -> None:
    path = tmp_path / "smtp.sock"
    make_server(unix_path=str(path))
    path.chmod(0)
    with pytest.raises(SMTPConnectError) as caught:
        await SMTPClient(f"unix:{path}").connect()
    assert caught.value.cause == "permission"


# -- proxies ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ip_only_context(ca: trustme.CA) -> ssl.SSLContext:
    """A server certificate for 127.0.0.1 only: not for "localhost", the proxy's name."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


async def test_starttls_through_socks5_verifies_the_target(
    make_server: Callable[..., EmbeddedServer], ip_only_context: ssl.SSLContext, cafile: str
) -> None:
    server = make_server(tls_context=ip_only_context)
    events: list[ClientEvent] = []
    with proxy("socks5") as url:
        via = url.replace("127.0.0.1", "localhost")  # a name the certificate is not for
        client = SMTPClient("127.0.0.1", server.port, cafile=cafile, via=via)
        client.add_listener(events.append)
        await client.connect()
        await client.starttls()
        await client.sendmail("alice@example.org", ["bob@example.org"], MESSAGE)
        await client.quit()
    assert client.tls is not None and client.tls.verified
    assert client.tls.verify_note == "chain and name 127.0.0.1 verified"
    assert first(events, Connecting).route == f"to 127.0.0.1:{server.port} via {via}"
    assert server.messages[0].tls


async def test_socks5_with_user_and_password(server: EmbeddedServer) -> None:
    with proxy("socks5", "alice:s3cret") as url:
        events: list[ClientEvent] = []
        via = url.replace("//", "//alice:s3cret@")
        await send_one(SMTPClient("127.0.0.1", server.port, via=via, listener=events.append))
    assert len(server.messages) == 1
    route = first(events, Connecting).route
    assert "alice@" in route and "s3cret" not in route  # the password is never shown


@pytest.mark.parametrize(
    ("credentials", "said"),
    [("alice:wrong", "it refused the user name or password"), ("", "it wants a user name")],
)
async def test_socks5_authentication_failure_is_explained(
    server: EmbeddedServer, credentials: str, said: str
) -> None:
    with proxy("socks5", "alice:s3cret") as url:
        via = url.replace("//", f"//{credentials}@") if credentials else url
        with pytest.raises(SMTPConnectError) as caught:
            await SMTPClient("127.0.0.1", server.port, via=via).connect()
    assert caught.value.cause == "proxy-auth"
    assert said in str(caught.value)
    assert "wrong" not in str(caught.value)


async def test_socks5_refusing_the_target_is_explained() -> None:
    with refusing_socks5(5) as url, pytest.raises(SMTPConnectError) as caught:
        await SMTPClient("127.0.0.1", 25, via=url).connect()
    assert caught.value.cause == "proxy-refused"
    assert "the target refused the proxy's connection" in str(caught.value)
    assert "(SOCKS5 reply 5)" in str(caught.value)


async def test_unreachable_proxy_is_named() -> None:
    url = f"socks5://127.0.0.1:{free_port()}"
    with pytest.raises(SMTPConnectError) as caught:
        await SMTPClient("127.0.0.1", 25, via=url).connect()
    assert caught.value.cause == "proxy-unreachable"
    assert f"cannot reach the proxy {url}: connection refused" in str(caught.value)


@pytest.mark.parametrize(("listens", "scheme"), [("socks4", "socks4a"), ("http", "http")])
async def test_socks4a_and_http_connect(server: EmbeddedServer, listens: str, scheme: str) -> None:
    with proxy(listens) as url:
        via = url.replace(listens, scheme, 1)
        await send_one(SMTPClient("127.0.0.1", server.port, via=via))
    assert len(server.messages) == 1


# -- a command's pipe ------------------------------------------------------------------


async def test_pipe_to_serve_stdio_carries_a_session_and_starttls() -> None:
    events: list[ClientEvent] = []
    client = SMTPClient(pipe=STDIO, verify=False, listener=events.append)
    code, _ = await client.connect()
    assert code == 220
    await client.starttls()
    assert client.tls is not None
    await client.sendmail("alice@example.org", ["bob@example.org"], MESSAGE)
    assert (await client.quit())[0] == 221
    assert first(events, Connecting).route == f"through `{STDIO}`"


async def test_pipe_command_not_found() -> None:
    with pytest.raises(SMTPConnectError) as caught:
        await SMTPClient(pipe="smtptui-no-such-command --flag").connect()
    assert caught.value.cause == "command"
    assert "command not found: smtptui-no-such-command" in str(caught.value)


async def test_pipe_command_exit_status_and_stderr() -> None:
    script = "import sys; print('no config file', file=sys.stderr); sys.exit(3)"
    with pytest.raises(SMTPConnectError) as caught:
        await SMTPClient(pipe=f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}").connect()
    assert caught.value.cause == "exited"
    assert "exited with status 3; its stderr: no config file" in str(caught.value)


# -- TCP: source address and family ----------------------------------------------------


async def test_source_address(make_server: Callable[..., EmbeddedServer]) -> None:
    server = make_server()
    events: list[ClientEvent] = []
    client = SMTPClient("127.0.0.1", server.port, source_address="127.0.0.2")
    client.add_listener(events.append)
    await send_one(client)
    assert server.messages[0].peer.startswith("127.0.0.2")
    assert first(events, Connecting).route.endswith("from 127.0.0.2")


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback here")
async def test_ipv6_only(make_server: Callable[..., EmbeddedServer]) -> None:
    server = make_server(host="::1")
    events: list[ClientEvent] = []
    await send_one(SMTPClient("::1", server.port, family=6, listener=events.append))
    assert first(events, Connected).peer[0] == "::1"
    assert first(events, Connecting).route.endswith("over IPv6")


async def test_ipv4_only_refuses_an_ipv6_address() -> None:
    with pytest.raises(SMTPConnectError) as caught:
        await SMTPClient("::1", free_port(), family=4).connect()
    assert caught.value.cause == "unresolved"


# -- the route's rules -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "field", "said"),
    [
        ({"host": "mx", "via": "ftp://proxy:21"}, "via", "a proxy URL starts socks5://"),
        ({"host": "mx", "via": "socks5://proxy"}, "via", "scheme://host:port"),
        ({"host": "unix:/s", "via": "socks5://p:1080"}, "via", "not a UNIX socket"),
        ({"host": "mx", "via": "socks5://p:1080\r\nRSET"}, "via", "a CR character"),
        ({"host": "mx", "pipe": "exim -bh 1.2.3.4"}, "pipe", "give no host"),
        ({"pipe": "'unclosed"}, "pipe", "No closing quotation"),
        ({"pipe": "   "}, "pipe", "give the command to run"),
        ({"host": "mx", "source": "mx.example"}, "source", "is not an IP address"),
        ({"host": "mx", "source": "10.0.0.1", "family": 6}, "source", "not an IPv6 address"),
        ({"host": "unix:/s", "source": "10.0.0.1"}, "source", "not a UNIX socket"),
        ({"pipe": "cat", "family": 4}, "family", "not a command's pipe"),
        ({"host": "mx", "family": 5}, "family", "must be 4 or 6"),
    ],
)
def test_bad_routes_name_their_field(given: dict[str, object], field: str, said: str) -> None:
    with pytest.raises(CommandError) as caught:
        Route(**given)  # type: ignore[arg-type]
    assert str(caught.value).startswith(f"{field}: ")
    assert said in str(caught.value)


def test_describe_names_the_way() -> None:
    route = Route("mx.example", 25, source="10.0.0.5", family=4, via="socks5://u:p@proxy:1080")
    assert route.describe() == "to mx.example:25 via socks5://u@proxy:1080 from 10.0.0.5 over IPv4"
    assert Route(pipe="exim -bh 10.0.0.1").describe() == "through `exim -bh 10.0.0.1`"
    assert Route("unix:/run/dovecot/lmtp").describe() == "to unix:/run/dovecot/lmtp"
    assert Route("mx", 25).plain and not Route("mx", 25, family=6).plain
