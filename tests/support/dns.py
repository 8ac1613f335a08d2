"""A real DNS server on 127.0.0.1 (dnslib's, UDP and TCP on one free port) answering from a
test zone, for dnspython to ask with ``nameserver="127.0.0.1:PORT"``."""

from __future__ import annotations

import contextlib
import functools
import socket
import threading
from collections.abc import Iterator

from dnslib import QTYPE, RCODE, RR, DNSRecord
from dnslib.server import DNSServer

ZONE = """
mail.test.           60 IN MX 20 mx2.mail.test.
mail.test.           60 IN MX 10 mx1.mail.test.
mx1.mail.test.       60 IN A 127.0.0.2
mx2.mail.test.       60 IN A 127.0.0.1
tie.test.            60 IN MX 10 b.tie.test.
tie.test.            60 IN MX 10 a.tie.test.
tie.test.            60 IN MX 5 c.tie.test.
a.tie.test.          60 IN A 127.0.0.1
b.tie.test.          60 IN A 127.0.0.1
c.tie.test.          60 IN AAAA ::1
null.test.           60 IN MX 0 .
implicit.test.       60 IN A 127.0.0.1
nothing.test.        60 IN TXT "no MX, no address"
1.0.0.127.in-addr.arpa. 60 IN PTR mx2.mail.test.
2.0.0.127.in-addr.arpa. 60 IN PTR liar.test.
liar.test.           60 IN A 127.0.0.9
"""
"""The test zone: ``mail.test`` (mx1 on 127.0.0.2, where nothing listens; mx2 on 127.0.0.1,
PTR and back), ``tie.test`` (two MX of one preference), ``null.test`` (RFC 7505),
``implicit.test`` (no MX, an A), ``nothing.test`` (neither), ``liar.test`` (127.0.0.2's PTR,
which does not resolve back). 127.0.0.3 has no PTR; any other name is NXDOMAIN."""


class ZoneResolver:
    """Answers from a zone in BIND's text form, the records of a name and type in the zone's
    order; NXDOMAIN for a name not in it. ``authenticated``: every answer carries the AD bit,
    as a validating resolver's does for a DNSSEC-signed zone."""

    def __init__(self, zone: str, *, authenticated: bool = False) -> None:
        self.records = RR.fromZone(zone)
        self.authenticated = authenticated

    def resolve(self, request: DNSRecord, handler: object) -> DNSRecord:
        reply = request.reply()
        reply.header.ad = int(self.authenticated)
        name, kind = request.q.qname, request.q.qtype
        named = [record for record in self.records if record.rname == name]
        if not named:
            reply.header.rcode = RCODE.NXDOMAIN
        for record in named:
            if record.rtype == kind or kind == QTYPE.ANY:
                reply.add_answer(record)
        return reply


class _Quiet:
    """dnslib's logger, silent."""

    def __getattr__(self, name: str) -> object:
        return lambda *args: None


@contextlib.contextmanager
def dns_server(zone: str = ZONE, *, authenticated: bool = False, port: int = 0) -> Iterator[str]:
    """The zone served on 127.0.0.1, UDP and TCP on one port (0: a free one):
    ``"127.0.0.1:PORT"``; ``authenticated``: its answers say DNSSEC validated them (AD)."""
    resolver = ZoneResolver(zone, authenticated=authenticated)
    fixed = port
    for _ in range(1 if fixed else 20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", fixed))
            port = probe.getsockname()[1]
        try:
            udp = DNSServer(resolver, address="127.0.0.1", port=port, logger=_Quiet())
        except OSError:  # taken meanwhile: another port
            continue
        try:
            tcp = DNSServer(resolver, address="127.0.0.1", port=port, tcp=True, logger=_Quiet())
        except OSError:
            udp.server.server_close()
            continue
        break
    else:
        raise OSError(f"no port for the test DNS server ({fixed or 'a free one'})")
    for server in (udp, tcp):  # polled often: a test's server stops in 50 ms, not 500
        serve = functools.partial(server.server.serve_forever, poll_interval=0.05)
        threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        udp.stop()
        tcp.stop()
        udp.server.server_close()
        tcp.server.server_close()
