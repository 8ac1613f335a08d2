"""A TLS SMTP server that staples an OCSP response, made with pyOpenSSL (Python's ``ssl``
cannot staple), and OCSP responses built with cryptography, signed by a trustme CA."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from OpenSSL import SSL

_TODAY = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0)
THIS_UPDATE = _TODAY - dt.timedelta(days=1)
NEXT_UPDATE = _TODAY + dt.timedelta(days=6)
REVOKED_AT = _TODAY - dt.timedelta(days=2, hours=3, minutes=30)
"""A response's dates: around today, so that it is not stale, in whole seconds as OCSP's."""


def ocsp_response(ca: trustme.CA, leaf: trustme.LeafCert, status: ocsp.OCSPCertStatus) -> bytes:
    """A successful OCSP response (DER) for ``leaf`` saying ``status``, signed by ``ca``;
    dated :data:`THIS_UPDATE` to :data:`NEXT_UPDATE`, revoked at :data:`REVOKED_AT`."""
    issuer = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    key = serialization.load_pem_private_key(ca.private_key_pem.bytes(), None)
    revoked = status is ocsp.OCSPCertStatus.REVOKED
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes()),
            issuer=issuer,
            algorithm=hashes.SHA1(),
            cert_status=status,
            this_update=THIS_UPDATE,
            next_update=NEXT_UPDATE,
            revocation_time=REVOKED_AT if revoked else None,
            revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.NAME, issuer)
    )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]


@dataclass
class Stapler:
    """What the server does: its greeting (None: it hangs up at once), its answer to
    STARTTLS, and the staple (b"": none); ``sni`` records each handshake's SNI name."""

    leaf: trustme.LeafCert
    staple: bytes = b""
    implicit_tls: bool = False
    greeting: bytes | None = b"220 staple.test ESMTP\r\n"
    starttls: bytes = b"220 go ahead\r\n"
    sni: list[bytes | None] = field(default_factory=list)
    received: list[bytes] = field(default_factory=list)

    def context(self) -> SSL.Context:
        context = SSL.Context(SSL.TLS_SERVER_METHOD)
        with self.leaf.private_key_and_cert_chain_pem.tempfile() as path:
            context.use_certificate_chain_file(path)
            context.use_privatekey_file(path)
        context.set_ocsp_server_callback(lambda _connection, _data: self.staple)
        return context

    def serve(self, raw: socket.socket, context: SSL.Context) -> None:
        if not self.implicit_tls:
            if self.greeting is None:
                return
            raw.sendall(self.greeting)
            self.received.append(raw.recv(4096))
            raw.sendall(b"250-staple.test\r\n250 STARTTLS\r\n")
            self.received.append(raw.recv(4096))
            raw.sendall(self.starttls)
            if not self.starttls.startswith(b"220"):
                return
        tls = SSL.Connection(context, raw)
        tls.set_accept_state()
        tls.do_handshake()
        self.sni.append(tls.get_servername())
        if self.implicit_tls:
            tls.sendall(self.greeting or b"")
        while data := tls.recv(4096):
            self.received.append(data)
            if data.upper().startswith(b"QUIT"):
                tls.sendall(b"221 bye\r\n")
                tls.shutdown()
                return


@contextlib.contextmanager
def stapling_server(stapler: Stapler) -> Iterator[tuple[str, int]]:
    """``stapler`` on 127.0.0.1, each connection in a thread of its own (a session's
    connection and its OCSP probe at once); yields its address."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()
    context = stapler.context()

    threads: list[threading.Thread] = []

    def serve(raw: socket.socket) -> None:
        raw.setblocking(True)  # OpenSSL's own reads; the kernel's timeout ends a stall
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 5, 0))
        with contextlib.suppress(OSError, SSL.Error), raw:
            stapler.serve(raw, context)

    def accept() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            threads.append(threading.Thread(target=serve, args=(raw,), daemon=True))
            threads[-1].start()

    threads.append(threading.Thread(target=accept, daemon=True))
    threads[0].start()
    try:
        yield listener.getsockname()[:2]
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        listener.close()
