"""The OCSP response a server staples to its TLS handshake, asked for on a probe connection.

Python's ``ssl`` cannot request a stapled response or show one, so a short connection of its
own, made with pyOpenSSL, asks for it: the same host, port, security and SNI as the session,
EHLO and STARTTLS first when the session used them. The probe only reads the staple (its
certificate is not verified: the session's own connection did that), and it never raises:
what went wrong is its :attr:`OcspStatus.error`.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from smtptui.protocol.commands import ehlo
from smtptui.protocol.errors import ProtocolError
from smtptui.protocol.replies import Reply, ReplyParser

if TYPE_CHECKING:
    from collections.abc import Callable

    from OpenSSL import SSL

_QUIT_WAIT = 0.2
"""Seconds QUIT and the server's answer to it may take before the probe closes anyway."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class OcspStatus:
    """What the server stapled: the certificate's status in it and its dates, or, with
    ``stapled`` False, nothing (``error`` None) or why it could not be asked (``error``).

    Text in it comes from the server: make it visible before showing it."""

    stapled: bool
    status: str | None = None  # "good", "revoked" or "unknown"
    this_update: datetime | None = None
    next_update: datetime | None = None
    produced_at: datetime | None = None
    responder: str | None = None
    revoked_at: datetime | None = None
    error: str | None = None


async def stapled_ocsp(
    host: str,
    port: int,
    *,
    implicit_tls: bool,
    sni: str | None,
    ehlo_name: str,
    timeout: float,
) -> OcspStatus:
    """Ask ``host:port`` for its stapled OCSP response on a connection of its own (STARTTLS
    first unless ``implicit_tls``), sending ``sni`` (None: none) in the handshake; each step
    may take up to ``timeout`` seconds."""
    return await asyncio.to_thread(
        _probe, host, port, implicit_tls=implicit_tls, sni=sni, ehlo_name=ehlo_name, timeout=timeout
    )


def _probe(
    host: str, port: int, *, implicit_tls: bool, sni: str | None, ehlo_name: str, timeout: float
) -> OcspStatus:
    from OpenSSL import SSL  # only here: `run` and start-up never need it

    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            if not implicit_tls:
                refused = _starttls(sock, ehlo_name)
                if refused is not None:
                    return OcspStatus(False, error=refused)
            staple = _handshake(sock, sni, timeout)
    except TimeoutError:
        return OcspStatus(False, error=f"no answer within {timeout:g} seconds")
    except ProtocolError as error:
        said = error.data.decode("utf-8", "backslashreplace").rstrip()
        return OcspStatus(False, error=f"{error}: {said}")
    except (OSError, SSL.Error) as error:
        return OcspStatus(False, error=_error_text(error))
    except ValueError as error:  # an EHLO name or SNI that cannot be sent
        return OcspStatus(False, error=str(error))
    return read_staple(staple)


def _starttls(sock: socket.socket, ehlo_name: str) -> str | None:
    """Greeting, EHLO, STARTTLS: None once the server says 220 to STARTTLS, else what it
    said instead."""
    parser = ReplyParser()
    for command in (None, ehlo(ehlo_name), b"STARTTLS\r\n"):
        if command is not None:
            sock.sendall(command)
        reply = _read_reply(sock, parser)
        if reply.kind != 2:
            step = "greeting" if command is None else command.split()[0].decode()
            said = " ".join(line.decode("utf-8", "backslashreplace") for line in reply.lines)
            return f"{step} answered {reply.code} {said}"
    return None


def _read_reply(sock: socket.socket, parser: ReplyParser) -> Reply:
    while True:
        data = sock.recv(4096)
        if not data:
            parser.eof()
            raise ConnectionResetError("the server closed the connection")
        if replies := parser.feed(data):
            return replies[0]


def _handshake(sock: socket.socket, sni: str | None, timeout: float) -> bytes:
    """A TLS handshake asking for the staple; the staple's bytes (b"" for none)."""
    from OpenSSL import SSL

    stapled: list[bytes] = []

    def keep(_connection: SSL.Connection, data: bytes, _extra: object) -> bool:
        stapled.append(data)
        return True  # read, not judged: the handshake goes on whatever came

    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    context.set_verify(SSL.VERIFY_NONE)
    context.set_ocsp_client_callback(keep)
    connection = SSL.Connection(context, sock)
    if sni:
        connection.set_tlsext_host_name(sni.encode("idna"))
    connection.request_ocsp()
    connection.set_connect_state()
    _until_done(sock, connection.do_handshake, timeout)
    with contextlib.suppress(OSError, SSL.Error):  # polite, and not waited for long
        _until_done(sock, lambda: connection.sendall(b"QUIT\r\n"), _QUIT_WAIT)
        deadline = time.monotonic() + _QUIT_WAIT
        while (left := deadline - time.monotonic()) > 0 and _until_done(
            sock, lambda: connection.recv(4096), left
        ):
            pass  # the greeting, 221, till the server closes
    return stapled[0] if stapled else b""


def _until_done(sock: socket.socket, step: Callable[[], T], timeout: float) -> T:
    """Run ``step`` on the non-blocking socket, waiting for it as OpenSSL asks; what it
    returns."""
    from OpenSSL import SSL

    deadline = time.monotonic() + timeout
    while True:
        try:
            return step()
        except SSL.WantReadError:
            readable, writable = [sock], []
        except SSL.WantWriteError:
            readable, writable = [], [sock]
        left = deadline - time.monotonic()
        if left <= 0 or not any(select.select(readable, writable, [], left)):
            raise TimeoutError


def read_staple(data: bytes) -> OcspStatus:
    """What a stapled response (DER) says; b"" is none stapled."""
    from cryptography import x509
    from cryptography.x509 import ocsp

    if not data:
        return OcspStatus(False)
    try:
        response = ocsp.load_der_ocsp_response(data)
    except ValueError as error:
        return OcspStatus(True, error=f"the stapled response cannot be read: {error}")
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        name = response.response_status.name.lower().replace("_", " ")
        return OcspStatus(True, error=f"the stapled response is not successful: {name}")
    if isinstance(response.responder_name, x509.Name):
        responder = response.responder_name.rfc4514_string()
    else:
        responder = "key " + response.responder_key_hash.hex(":").upper()  # type: ignore[union-attr]
    revoked = response.certificate_status is ocsp.OCSPCertStatus.REVOKED
    return OcspStatus(
        True,
        status=response.certificate_status.name.lower(),
        this_update=response.this_update_utc,
        next_update=response.next_update_utc,
        produced_at=response.produced_at_utc,
        responder=responder,
        revoked_at=response.revocation_time_utc if revoked else None,
    )


def _error_text(error: OSError | SSL.Error) -> str:
    """An OS or OpenSSL error in words."""
    from OpenSSL import SSL

    if isinstance(error, SSL.SysCallError):
        return "the TLS handshake failed: the server closed the connection"
    if isinstance(error, SSL.Error):
        reasons = [part[2] for part in error.args[0] if len(part) == 3] if error.args else []
        return "the TLS handshake failed: " + ("; ".join(reasons) or "no reason given")
    return error.strerror.lower() if error.strerror else str(error)
