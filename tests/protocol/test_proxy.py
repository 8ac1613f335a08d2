"""The PROXY protocol header: the spec's bytes, checked addresses, and aiosmtpd's own parser
(the server side of the tests) reading back what was told."""

from __future__ import annotations

import asyncio
import struct

import pytest
from aiosmtpd.proxy_protocol import ProxyData, get_proxy

from smtptui.protocol.errors import CommandError
from smtptui.protocol.proxy import ProxyHeader, describe, proxy_v1, proxy_v2

V4 = (("192.0.2.1", 5555), ("198.51.100.2", 25))
V6 = (("2001:db8::1", 5555), ("2001:db8::2", 25))


def parsed(header: bytes) -> ProxyData:
    """What aiosmtpd's PROXY parser makes of ``header``."""

    async def parse() -> ProxyData:
        reader = asyncio.StreamReader()
        reader.feed_data(header)
        reader.feed_eof()
        return await get_proxy(reader)

    return asyncio.run(parse())


def test_v1_is_the_specs_text_line() -> None:
    assert proxy_v1(*V4) == b"PROXY TCP4 192.0.2.1 198.51.100.2 5555 25\r\n"
    assert proxy_v1(*V6) == b"PROXY TCP6 2001:db8::1 2001:db8::2 5555 25\r\n"
    assert proxy_v1(None, None) == b"PROXY UNKNOWN\r\n"
    # the spec's longest TCP4 line: 56 bytes with its CRLF
    longest = proxy_v1(("255.255.255.255", 65535), ("255.255.255.255", 65535))
    assert longest == b"PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n"
    assert len(longest) == 56


def test_v2_tcp4_has_the_signature_command_family_and_length() -> None:
    header = proxy_v2(*V4)
    assert header[:12] == b"\r\n\r\n\x00\r\nQUIT\n"
    assert header[12] == 0x21  # version 2, PROXY
    assert header[13] == 0x11  # AF_INET, STREAM
    assert struct.unpack("!H", header[14:16]) == (12,)
    assert header[16:] == bytes([192, 0, 2, 1, 198, 51, 100, 2]) + struct.pack("!HH", 5555, 25)


def test_v2_tcp6_and_local() -> None:
    header = proxy_v2(*V6)
    assert (header[12], header[13]) == (0x21, 0x21)  # AF_INET6, STREAM
    assert struct.unpack("!H", header[14:16]) == (36,)
    assert len(header) == 16 + 36
    assert header[-4:] == struct.pack("!HH", 5555, 25)
    assert proxy_v2(None, None) == b"\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00"  # LOCAL, UNSPEC


@pytest.mark.parametrize("build", [proxy_v1, proxy_v2])
@pytest.mark.parametrize("pair", [V4, V6], ids=["tcp4", "tcp6"])
def test_aiosmtpd_reads_back_the_addresses(build, pair) -> None:
    (src, sport), (dst, dport) = pair
    data = parsed(build(*pair))
    assert data.valid, data.error
    assert (str(data.src_addr), data.src_port) == (src, sport)
    assert (str(data.dst_addr), data.dst_port) == (dst, dport)


@pytest.mark.parametrize("build", [proxy_v1, proxy_v2])
def test_aiosmtpd_takes_unknown_and_local(build) -> None:
    data = parsed(build(None, None))
    assert data.valid, data.error
    assert data.src_addr is None


@pytest.mark.parametrize(
    ("source", "dest", "field", "words"),
    [
        (("192.0.2.1", 70000), V4[1], "proxy source", "0 to 65535"),
        (V4[0], ("198.51.100.2", -1), "proxy dest", "0 to 65535"),
        (("mx.example", 25), V4[1], "proxy source", "not an IP address"),
        (V4[0], V6[1], "proxy dest", "one family"),
        (V4[0], None, "proxy dest", "needed with a source"),
        (None, V4[1], "proxy source", "needed with a destination"),
    ],
)
def test_bad_addresses_are_named(source, dest, field, words) -> None:
    for build in (proxy_v1, proxy_v2):
        with pytest.raises(CommandError, match=words) as caught:
            build(source, dest)
        assert caught.value.field == field


def test_the_header_fills_in_the_connections_own_addresses() -> None:
    local, peer = ("127.0.0.1", 40000), ("127.0.0.1", 2525)
    assert ProxyHeader(1).encode(local, peer) == (
        b"PROXY TCP4 127.0.0.1 127.0.0.1 40000 2525\r\n",
        "PROXY v1 TCP4 127.0.0.1:40000 → 127.0.0.1:2525",
    )
    told = ProxyHeader(1, source=V4[0]).encode(local, peer)[1]
    assert told == "PROXY v1 TCP4 192.0.2.1:5555 → 127.0.0.1:2525"
    six = ProxyHeader(2, *V6).encode(("::1", 1, 0, 0), ("::1", 25, 0, 0))
    assert six == (proxy_v2(*V6), "PROXY v2 TCP6 [2001:db8::1]:5555 → [2001:db8::2]:25 (52 bytes)")
    # a UNIX socket has no IP address: UNKNOWN
    assert ProxyHeader(2).encode("/run/smtp.sock", "") == (
        proxy_v2(None, None),
        "PROXY v2 LOCAL (UNSPEC) (16 bytes)",
    )
    assert ProxyHeader(1, unknown=True).encode(local, peer)[0] == b"PROXY UNKNOWN\r\n"


def test_a_header_is_checked_when_made() -> None:
    with pytest.raises(CommandError, match="proxy source"):
        ProxyHeader(1, source=("nowhere", 1))
    with pytest.raises(CommandError, match="proxy protocol"):
        ProxyHeader(3)  # type: ignore[arg-type]
    assert describe(proxy_v1(None, None), None, None) == "PROXY v1 UNKNOWN"
