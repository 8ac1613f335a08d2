"""DANE: TLSA records made at test time from trustme certificates, served by a real DNS
server on 127.0.0.1, matched against the certificates as a server would send them."""

from __future__ import annotations

import hashlib
import socket
import ssl

import pytest
import trustme
from cryptography.hazmat.primitives import serialization

from smtptui.engine.dane import (
    Tlsa,
    TlsaLookup,
    match_tlsa,
    parse_tlsa,
    tlsa_for,
    tlsa_records,
)
from smtptui.engine.tls import CertificateInfo
from smtptui.protocol.errors import CommandError

from support.dns import dns_server

Chain = tuple[CertificateInfo, ...]


def sent_chain(leaf: trustme.LeafCert) -> Chain:
    """The certificates a server configured with ``leaf`` sends: it, then its issuers."""
    return tuple(
        CertificateInfo.from_der(ssl.PEM_cert_to_DER_cert(pem.bytes().decode()))
        for pem in leaf.cert_chain_pems
    )


@pytest.fixture(scope="module")
def root() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def leaf(root: trustme.CA) -> trustme.LeafCert:
    """mx.dane.test's certificate, issued by an intermediate of ``root``."""
    return root.create_child_ca().issue_cert("mx.dane.test")


@pytest.fixture(scope="module")
def chain(leaf: trustme.LeafCert) -> Chain:
    return sent_chain(leaf)


@pytest.fixture(scope="module")
def stranger() -> CertificateInfo:
    """Another server's certificate."""
    return sent_chain(trustme.CA().issue_cert("mx.dane.test"))[0]


def test_the_chain_is_the_leaf_then_its_issuer(chain: Chain) -> None:
    assert [certificate.is_ca for certificate in chain] == [False, True]


def test_spki_sha256_is_the_key_digest_openssl_would_print(leaf: trustme.LeafCert) -> None:
    """The key from the private key, not from the certificate: an oracle of its own."""
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), None)
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    certificate = sent_chain(leaf)[0]
    assert tlsa_for(certificate) == Tlsa(3, 1, 1, hashlib.sha256(spki).digest())
    assert tlsa_for(certificate, 3, 1, 2).data == hashlib.sha512(spki).digest()
    assert tlsa_for(certificate, 3, 1, 0).data == spki
    assert tlsa_for(certificate, 3, 0, 0).data == certificate.der
    assert tlsa_for(certificate, 3, 0, 1).data == hashlib.sha256(certificate.der).digest()


@pytest.mark.parametrize("selector", [0, 1])
@pytest.mark.parametrize("matching", [0, 1, 2])
def test_dane_ee_matches_the_leaf_and_nothing_else(
    chain: Chain, stranger: CertificateInfo, selector: int, matching: int
) -> None:
    own = tlsa_for(chain[0], 3, selector, matching)
    issuers = tlsa_for(chain[1], 3, selector, matching)
    others = tlsa_for(stranger, 3, selector, matching)
    good, issuer, other = match_tlsa((own, issuers, others), chain)
    assert (good.matched, good.certificate) == (True, 0)
    assert good.note == "matches the server's certificate (DNS:mx.dane.test)"
    assert (issuer.matched, issuer.certificate) == (False, None)
    assert issuer.note == "does not match the server's certificate"
    assert not other.matched


@pytest.mark.parametrize("selector", [0, 1])
@pytest.mark.parametrize("matching", [0, 1, 2])
def test_dane_ta_matches_an_issuer_sent_not_the_leaf(
    root: trustme.CA, chain: Chain, selector: int, matching: int
) -> None:
    issuer = tlsa_for(chain[1], 2, selector, matching)
    leaf = tlsa_for(chain[0], 2, selector, matching)
    absent_root = tlsa_for(sent_chain(root.issue_cert("x.test"))[0], 2, selector, matching)
    good, own, unsent = match_tlsa((issuer, leaf, absent_root), chain)
    assert (good.matched, good.certificate) == (True, 1)
    assert good.note == (
        f"matches a certificate the server sent after its own ({chain[1].subject}); "
        "senders also want the chain up to it valid and the host's name on it"
    )
    assert not own.matched
    assert own.note == "matches no certificate the server sent after its own"
    assert not unsent.matched


def test_dane_ta_without_issuers_says_the_chain_is_not_there(chain: Chain) -> None:
    (found,) = match_tlsa((tlsa_for(chain[1], 2),), chain[:1])
    assert not found.matched
    assert "sent only its own certificate" in found.note


@pytest.mark.parametrize("usage", [0, 1])
def test_pkix_usages_are_unusable_for_smtp_even_when_they_would_match(
    chain: Chain, usage: int
) -> None:
    (found,) = match_tlsa((tlsa_for(chain[0], usage),), chain)
    assert (found.matched, found.certificate) == (False, None)
    assert tlsa_for(chain[0], usage).problem == found.note
    assert "unusable for SMTP (RFC 7672 §3.1.3)" in found.note


@pytest.mark.parametrize(
    ("record", "note"),
    [
        (Tlsa(4, 1, 1, bytes(32)), "certificate usage 4 is unknown"),
        (Tlsa(3, 2, 1, bytes(32)), "selector 2 is unknown"),
        (Tlsa(3, 1, 3, bytes(32)), "matching type 3 is unknown"),
        (Tlsa(3, 1, 1, bytes(31)), "a SHA2-256 digest is 32 bytes, this one 31"),
        (Tlsa(2, 1, 2, bytes(32)), "a SHA2-512 digest is 64 bytes, this one 32"),
    ],
)
def test_unknown_fields_and_short_digests_are_unusable(
    chain: Chain, record: Tlsa, note: str
) -> None:
    (found,) = match_tlsa((record,), chain)
    assert not found.matched
    assert found.note.startswith(note)
    assert record.problem == found.note


def test_no_certificate_matches_nothing(chain: Chain) -> None:
    (found,) = match_tlsa((tlsa_for(chain[0]),), ())
    assert (found.matched, found.note) == (False, "no certificate to check it against")


def test_text_and_names() -> None:
    record = Tlsa(3, 1, 1, bytes.fromhex("ab12"))
    assert record.text == "3 1 1 ab12"
    assert record.names == "DANE-EE SPKI SHA2-256"
    assert record.problem == "a SHA2-256 digest is 32 bytes, this one 2: unusable"
    assert Tlsa(2, 0, 0, b"any").problem == ""
    assert Tlsa(9, 0, 2, b"").names == "9 Cert SHA2-512"


@pytest.mark.parametrize(
    ("text", "record"),
    [
        ("3 1 1 AB12", Tlsa(3, 1, 1, b"\xab\x12")),
        ("  2 0 2  ab 12\tcd ", Tlsa(2, 0, 2, b"\xab\x12\xcd")),
        ("0 0 0 00", Tlsa(0, 0, 0, b"\x00")),
    ],
)
def test_parse_tlsa_takes_the_presentation_form(text: str, record: Tlsa) -> None:
    assert parse_tlsa(text) == record
    assert parse_tlsa(record.text) == record


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is not 'USAGE SELECTOR MATCHING HEX'"),
        ("3 1 1", "is not 'USAGE SELECTOR MATCHING HEX'"),
        ("3 x 1 ab", "the selector must be a number 0-255, not 'x'"),
        ("256 1 1 ab", "the usage must be a number 0-255, not '256'"),
        ("3 1 -1 ab", "the matching type must be a number 0-255, not '-1'"),
        ("\uff13 1 1 ab", "the usage must be a number 0-255"),
        ("3 1 1 abc", "the data must be hex digits in pairs, not 'abc'"),
        ("3 1 1 zz", "the data must be hex digits in pairs, not 'zz'"),
    ],
)
def test_parse_tlsa_errors_name_the_field(text: str, message: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_tlsa(text)
    assert caught.value.field == "tlsa"
    assert message in str(caught.value)


def zone(*records: Tlsa, name: str = "_25._tcp.mx.dane.test.") -> str:
    return "".join(f"{name} 60 IN TLSA {record.text}\n" for record in records)


@pytest.mark.parametrize("authenticated", [False, True])
async def test_records_come_from_dns_with_the_ad_bit(chain: Chain, authenticated: bool) -> None:
    records = (tlsa_for(chain[0]), tlsa_for(chain[1], 2, 0, 2))
    with dns_server(zone(*records), authenticated=authenticated) as nameserver:
        found = await tlsa_records("mx.dane.test", nameserver=nameserver)
    assert found == TlsaLookup("_25._tcp.mx.dane.test", records, authenticated)
    assert [match.matched for match in match_tlsa(found.records, chain)] == [True, True]


async def test_the_port_picks_the_name_and_none_there_is_said(chain: Chain) -> None:
    with dns_server(zone(tlsa_for(chain[0])), authenticated=True) as nameserver:
        found = await tlsa_records("mx.dane.test.", 587, nameserver=nameserver)
    assert found == TlsaLookup(
        "_587._tcp.mx.dane.test", (), True, "no TLSA record at _587._tcp.mx.dane.test"
    )
    assert found.absent


async def test_a_name_with_other_records_has_no_tlsa(chain: Chain) -> None:
    with dns_server('_25._tcp.mx.dane.test. 60 IN TXT "not a TLSA"') as nameserver:
        found = await tlsa_records("mx.dane.test", nameserver=nameserver)
    assert (found.records, found.authenticated) == ((), False)
    assert found.error == "no TLSA record at _25._tcp.mx.dane.test"


async def test_an_address_has_no_dane() -> None:
    found = await tlsa_records("127.0.0.1", nameserver="127.0.0.1:9")
    assert found.error == "127.0.0.1 is an address: DANE needs a host name"


async def test_a_dns_failure_is_said() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
        quiet.bind(("127.0.0.1", 0))
        port = quiet.getsockname()[1]
        found = await tlsa_records("mx.dane.test", nameserver=f"127.0.0.1:{port}", timeout=0.3)
    assert (found.records, found.absent) == ((), False)
    assert found.error == "no answer from DNS for _25._tcp.mx.dane.test TLSA within the timeout"
