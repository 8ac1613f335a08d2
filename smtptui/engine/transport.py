"""How a connection is opened: TCP (from a source address, over IPv4 or IPv6), a UNIX
socket, through a SOCKS or HTTP CONNECT proxy, or over a command's stdin and stdout.

Whatever the way, the client gets one socket transport, so STARTTLS (``loop.start_tls``)
works on each: a proxy hands over its connected socket, and a command is given one end of
a socket pair as its stdin and stdout (swaks' ``--pipe``; ``exim -bh`` reads and writes a
socket as it does a pipe). TLS is for the target, never the proxy: the client names the
target's host in SNI and checks its certificate for it.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import os
import shlex
import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import SplitResult, unquote, urlsplit

from smtptui.engine.errors import SMTPConnectError
from smtptui.engine.hosts import format_host, unix_path
from smtptui.protocol.commands import check
from smtptui.protocol.errors import CommandError

PROXY_SCHEMES = {
    "socks5": ("SOCKS5", False),
    "socks5h": ("SOCKS5", True),
    "socks4": ("SOCKS4", False),
    "socks4a": ("SOCKS4", True),
    "http": ("HTTP", True),
}
"""The proxies ``via`` may name: python-socks' ``ProxyType``, and whether the proxy resolves
the target's name (SOCKS4a, curl's ``socks5h``, HTTP CONNECT) or this machine does."""

_STDERR_LINES = 5
"""How many of a command's last stderr lines its failure quotes."""

_EXIT_WAIT = 2.0
"""Seconds to wait for a command whose pipe closed to exit, for its status."""


@dataclass(frozen=True, slots=True)
class Route:
    """The way to the server: ``host`` and ``port`` (a host ``unix:/path`` is a UNIX
    socket, port 0); TCP from ``source`` (an address) over ``family`` (4 or 6, None: either);
    or ``via`` a proxy (``socks5://[user:pass@]host:port``, ``socks5h://``, ``socks4://``,
    ``socks4a://``, ``http://``); or ``pipe``, a command line run without a shell, whose
    stdin and stdout carry the session (no host then).

    A value that cannot be used raises :class:`CommandError` naming its field (``"via"``,
    ``"pipe"``, ``"source"``, ``"family"``).
    """

    host: str = ""
    port: int = 0
    source: str | None = None
    family: int | None = None
    via: str | None = None
    pipe: str | None = None

    def __post_init__(self) -> None:
        if self.pipe is not None:
            check("pipe", self.pipe)
            _command(self.pipe)
            if self.host:
                raise CommandError("pipe", "runs a command instead of connecting: give no host")
        network = "a UNIX socket" if self.path is not None else "a command's pipe"
        tcp_only = self.path is not None or self.pipe is not None
        if self.via is not None:
            check("via", self.via)
            _proxy_url(self.via)
            if tcp_only:
                raise CommandError("via", f"a proxy reaches TCP ports, not {network}")
        if self.family not in (None, 4, 6):
            raise CommandError("family", f"must be 4 or 6, not {self.family!r}")
        if self.family is not None and tcp_only:
            raise CommandError("family", f"IPv4 or IPv6 is for TCP, not {network}")
        if self.source is not None:
            try:
                source = ipaddress.ip_address(self.source.strip("[]"))
            except ValueError:
                raise CommandError("source", f"{self.source!r} is not an IP address") from None
            if tcp_only:
                raise CommandError("source", f"a source address is for TCP, not {network}")
            if self.family is not None and source.version != self.family:
                raise CommandError("source", f"{source} is not an IPv{self.family} address")

    @property
    def path(self) -> str | None:
        """The UNIX socket's path, when the host names one."""
        return unix_path(self.host)

    @property
    def plain(self) -> bool:
        """Whether this is plain TCP to the host, nothing said of the way."""
        return self.path is None and not (self.pipe or self.via or self.source or self.family)

    @property
    def name(self) -> str:
        """The server as errors and the transcript name it: ``host:port``,
        ``unix:/path``, or the command in backquotes."""
        return f"`{self.pipe}`" if self.pipe is not None else format_host(self.host, self.port)

    @property
    def where(self) -> str:
        """The server and the way to it, as the status line shows it
        ("mx:25 via socks5://proxy:1080 from 10.0.0.5", "`exim -bh 10.0.0.1`"); a proxy's
        password is never shown."""
        words = [self.name]
        if self.via is not None:
            words.append(f"via {shown_proxy(self.via)}")
        if self.source is not None:
            words.append(f"from {self.source}")
        if self.family is not None:
            words.append(f"over IPv{self.family}")
        return " ".join(words)

    def describe(self) -> str:
        """The way, as the transcript's first line says it ("to mx:25 via
        socks5://proxy:1080", "through `exim -bh 10.0.0.1`")."""
        return f"{'through' if self.pipe is not None else 'to'} {self.where}"


def shown_proxy(url: str) -> str:
    """A proxy URL without its password (the user name kept)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}@{parts.netloc.rpartition('@')[2]}"
    return parts._replace(netloc=netloc).geturl()


@dataclass(eq=False)
class Link:
    """An open connection: its transport, and the command at its other end, if a pipe.

    The command is a plain ``subprocess.Popen`` and its stderr is read by a thread, not by
    the loop: a command may outlive the loop (killed a moment after the client lets go),
    which asyncio's subprocess transports do not survive quietly."""

    transport: asyncio.Transport
    process: subprocess.Popen[bytes] | None = None
    _stderr: deque[str] = field(default_factory=lambda: deque(maxlen=_STDERR_LINES))
    _reader: threading.Thread | None = None

    async def exit_reason(self) -> str | None:
        """Why the command closed its pipe: its exit status and last stderr lines (None if
        it still runs after a moment, or is no command)."""
        process = self.process
        if process is None:
            return None
        deadline = time.monotonic() + _EXIT_WAIT
        while (process.poll() is None or self._reading) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        status = process.returncode
        if status is None:
            return None
        said = " / ".join(self._stderr)
        how = f"status {status}" if status >= 0 else f"signal {-status}"
        text = f"the command exited with {how}"
        return f"{text}; its stderr: {said}" if said else f"{text}, saying nothing on stderr"

    @property
    def _reading(self) -> bool:
        return self._reader is not None and self._reader.is_alive()

    def release(self) -> None:
        """The client closed the connection: a command still running a moment later (it
        has read EOF on its stdin by then) is killed."""
        if self.process is not None and self.process.poll() is None:
            timer = threading.Timer(_EXIT_WAIT, _stop, (self.process,))
            timer.daemon = True
            timer.start()

    def _read_stderr(self, stream: IO[bytes]) -> None:
        with stream:
            for line in stream:
                if text := line.decode("utf-8", "backslashreplace").strip():
                    self._stderr.append(text)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()


async def open_connection(
    route: Route, factory: Callable[[], asyncio.Protocol], *, timeout: float
) -> Link:
    """Open the connection ``route`` describes, with the protocol ``factory()``
    makes; a failure is an :class:`SMTPConnectError` saying why. ``timeout`` bounds the
    whole of it (a proxy's handshake, a command's start); TimeoutError when it passes."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout):
        if route.pipe is not None:
            return await _spawn(route, factory)
        if route.path is not None:
            try:
                transport, _ = await loop.create_unix_connection(factory, route.path)
            except OSError as error:
                raise _unix_error(route, error) from None
            return Link(transport)
        if route.via is not None:
            sock = await _through_proxy(route, timeout)
            transport, _ = await loop.create_connection(factory, sock=sock)
            return Link(transport)
        family = {4: socket.AF_INET, 6: socket.AF_INET6}.get(route.family or 0, 0)
        source = (route.source.strip("[]"), 0) if route.source else None
        transport, _ = await loop.create_connection(
            factory,
            route.host,
            route.port,
            family=family,
            local_addr=source,
        )
        return Link(transport)


def _unix_error(route: Route, error: OSError) -> SMTPConnectError:
    path = route.path
    if isinstance(error, FileNotFoundError):
        cause, text = "missing", f"no UNIX socket at {path}"
    elif isinstance(error, PermissionError):
        cause, text = "permission", f"permission denied to connect to the UNIX socket {path}"
    elif isinstance(error, ConnectionRefusedError):
        cause, text = "refused", f"nothing listens on the UNIX socket {path}"
    else:
        cause, text = "network", f"{path}: {os.strerror(error.errno or 0).lower()}"
    return SMTPConnectError.at(cause, text, route.host, 0)


async def _through_proxy(route: Route, timeout: float) -> socket.socket:
    """A socket connected to the target through the proxy: SOCKS by python-socks (imported
    here: only a session with a proxy pays for it), HTTP CONNECT by :func:`_http_connect`."""
    from python_socks import ProxyConnectionError, ProxyError, ProxyTimeoutError, ProxyType
    from python_socks.async_.asyncio import Proxy

    assert route.via is not None
    parts = _proxy_url(route.via)
    shown = shown_proxy(route.via)
    if parts.scheme.lower() == "http":
        return await _http_connect(route, parts, shown)
    kind, remote_names = PROXY_SCHEMES[parts.scheme.lower()]
    proxy = Proxy(
        ProxyType[kind],
        parts.hostname or "",
        parts.port or 0,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        rdns=remote_names,
    )
    try:
        return await proxy.connect(route.host, route.port, timeout=timeout)
    except ProxyTimeoutError:
        raise TimeoutError from None
    except ProxyConnectionError as error:
        raise _unreachable(route, shown, error) from None
    except ProxyError as error:
        raise _proxy_refused(route, shown, str(error), error.error_code) from None


async def _http_connect(route: Route, parts: SplitResult, shown: str) -> socket.socket:
    """HTTP CONNECT (RFC 9110 9.3.6), read a byte at a time up to the blank line: the
    server speaks first in SMTP, and its greeting may follow the proxy's 200 in the same
    segment, which a buffered read would swallow (as python-socks' HTTP client can)."""
    loop = asyncio.get_running_loop()
    try:
        _, writer = await asyncio.open_connection(parts.hostname, parts.port)
    except OSError as error:
        raise _unreachable(route, shown, error) from None
    sock: socket.socket = writer.get_extra_info("socket").dup()
    writer.transport.abort()
    sock.setblocking(False)
    target = format_host(route.host, route.port)
    head = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"
    if parts.username:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        head += f"Proxy-Authorization: Basic {base64.b64encode(pair.encode()).decode()}\r\n"
    try:
        await loop.sock_sendall(sock, f"{head}\r\n".encode())
        answer = b""
        while not answer.endswith(b"\r\n\r\n") and len(answer) < 16384:
            byte = await loop.sock_recv(sock, 1)
            if not byte:
                break
            answer += byte
    except OSError as error:
        sock.close()
        raise _unreachable(route, shown, error) from None
    status = answer.split(b"\r\n", 1)[0].split()
    code = int(status[1]) if len(status) > 1 and status[1].isdigit() else None
    if code is not None and 200 <= code < 300 and answer.endswith(b"\r\n\r\n"):
        return sock
    sock.close()
    said = "Connection closed unexpectedly" if not answer else "not an HTTP answer"
    raise _proxy_refused(route, shown, said, code)


def _unreachable(route: Route, shown: str, error: OSError) -> SMTPConnectError:
    why = os.strerror(error.errno) if error.errno else str(error.__cause__ or error)
    text = f"cannot reach the proxy {shown}: {why.lower()}"
    return SMTPConnectError.at("proxy-unreachable", text, route.host, route.port)


_SOCKS5_REPLIES = {
    1: "the proxy failed (general SOCKS server failure)",
    2: "the proxy's rules do not allow this connection",
    3: "the proxy cannot reach the target's network",
    4: "the proxy cannot reach the target host",
    5: "the target refused the proxy's connection (nothing listens there)",
    6: "the proxy's connection to the target timed out",
    7: "the proxy does not support CONNECT",
    8: "the proxy does not support this kind of address",
}
"""What a SOCKS5 server's reply code means (RFC 1928 section 6), said for a person."""

_SOCKS4_REPLIES = {
    0x5B: "the proxy refused or could not make the connection",
    0x5C: "the proxy could not reach identd on this machine",
    0x5D: "identd did not confirm the user",
}


def _proxy_refused(route: Route, shown: str, said: str, code: int | None) -> SMTPConnectError:
    """The proxy answered but would not connect: why, in its reply code's meaning."""
    scheme = urlsplit(route.via or "").scheme.lower()
    lowered = said.lower()
    if "authentication" in lowered or code == 407:
        cause = "proxy-auth"
        if "no acceptable" in lowered:
            meaning = "the proxy wants a user name and password (scheme://user:pass@host:port)"
        else:
            meaning = "the proxy refused the user name and password"
    elif scheme.startswith("socks5") and code in _SOCKS5_REPLIES:
        cause, meaning = "proxy-refused", f"{_SOCKS5_REPLIES[code]} (SOCKS5 reply {code})"
    elif scheme.startswith("socks4") and code in _SOCKS4_REPLIES:
        cause, meaning = "proxy-refused", f"{_SOCKS4_REPLIES[code]} (SOCKS4 reply {code:#x})"
    elif scheme == "http" and code is not None:
        cause, meaning = "proxy-refused", f"the proxy answered CONNECT with HTTP {code}"
    elif "closed unexpectedly" in lowered:  # the proxy hung up mid-handshake, as many do
        cause = "proxy-auth"
        if urlsplit(route.via or "").username:
            meaning = "the proxy hung up during its handshake: it refused the user name or password"
        else:
            meaning = (
                "the proxy hung up during its handshake: it wants a user name and password "
                "(scheme://user:pass@host:port)"
            )
    else:
        cause, meaning = "proxy-refused", said
    text = f"the proxy {shown} did not connect to {route.name}: {meaning}"
    return SMTPConnectError.at(cause, text, route.host, route.port)


async def _spawn(route: Route, factory: Callable[[], asyncio.Protocol]) -> Link:
    """Run the command with one end of a socket pair as its stdin and stdout."""
    assert route.pipe is not None
    argv = _command(route.pipe)
    ours, theirs = socket.socketpair()
    try:
        process = subprocess.Popen(argv, stdin=theirs, stdout=theirs, stderr=subprocess.PIPE)
    except OSError as error:
        ours.close()
        if isinstance(error, FileNotFoundError):
            text = f"command not found: {argv[0]}"
        elif isinstance(error, PermissionError):
            text = f"permission denied to run {argv[0]}"
        else:
            text = f"cannot run {argv[0]}: {os.strerror(error.errno or 0).lower()}"
        raise SMTPConnectError.at("command", text, route.name, 0) from None
    finally:
        theirs.close()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_unix_connection(factory, sock=ours)
    link = Link(transport, process)
    assert process.stderr is not None
    link._reader = threading.Thread(target=link._read_stderr, args=(process.stderr,), daemon=True)
    link._reader.start()
    return link


def _command(line: str) -> list[str]:
    """A command line split as a POSIX shell would (no shell runs it)."""
    try:
        argv = shlex.split(line)
    except ValueError as error:
        raise CommandError("pipe", f"{line!r}: {error}") from None
    if not argv:
        raise CommandError("pipe", "give the command to run")
    return argv


def _proxy_url(url: str) -> SplitResult:
    """``url`` split, if it is a proxy this module can use; else a CommandError."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in PROXY_SCHEMES:
        known = ", ".join(f"{scheme}://" for scheme in PROXY_SCHEMES)
        raise CommandError("via", f"{url!r}: a proxy URL starts {known}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise CommandError("via", f"{shown_proxy(url)!r}: give the proxy as scheme://host:port")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise CommandError("via", f"{shown_proxy(url)!r}: a proxy URL has no path")
    return parts
