"""A certificate's key and signature, and whether the chain a server sent reaches a root:
real handshakes with the embedded server presenting trustme chains (a root, an intermediate
made with ``create_child_ca``, a leaf), sent whole or as the leaf alone."""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Callable

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from smtptui.engine import SMTPClient, SMTPTLSError
from smtptui.engine.chain import ONLY_LEAF, chain_pem, check_chain
from smtptui.engine.tls import CertificateInfo, TlsInfo
from smtptui.server import EmbeddedServer

from support.certificates import chain_context, common_name, server_context, unverified

MakeServer = Callable[..., EmbeddedServer]

pytestmark = pytest.mark.timeout(30)


async def handshake(server: EmbeddedServer, context: ssl.SSLContext) -> TlsInfo:
    """STARTTLS with ``context``; the client's TLS details."""
    client = SMTPClient(ssl_context=context, timeout=5, connect_timeout=5)
    await client.connect(server.host, server.port)
    try:
        await client.starttls()
    finally:
        client.close()
    assert client.tls is not None
    return client.tls


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    """A client context trusting ``ca`` alone, hostname checks on."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(context)
    return context


def der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def root() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def intermediate(root: trustme.CA) -> trustme.CA:
    return root.create_child_ca()


@pytest.fixture(scope="module")
def leaf(intermediate: trustme.CA) -> trustme.LeafCert:
    return intermediate.issue_cert("127.0.0.1", "localhost")


# -- a certificate's key and signature ------------------------------------------------------


@pytest.mark.parametrize(
    ("key_type", "described", "algorithm"),
    [
        (trustme.KeyType.RSA, ("RSA", 2048, ""), "sha256WithRSAEncryption"),
        (trustme.KeyType.ECDSA, ("EC", 256, "secp256r1"), "ecdsa-with-SHA256"),
    ],
)
def test_key_and_signature(
    key_type: trustme.KeyType, described: tuple[str, int, str], algorithm: str
) -> None:
    """trustme's keys: RSA 2048, and ECDSA on P-256, each CA signing with SHA-256."""
    ca = trustme.CA(key_type=key_type)
    issued = ca.issue_cert("mail.test", key_type=key_type)
    leaf = CertificateInfo.from_der(der(issued.cert_chain_pems[0].bytes()))
    root = CertificateInfo.from_der(der(ca.cert_pem.bytes()))
    assert (leaf.key_type, leaf.key_bits, leaf.curve) == described
    assert leaf.signature_algorithm == root.signature_algorithm == algorithm
    assert (leaf.is_ca, root.is_ca) == (False, True)
    assert leaf.ca_issuers == () and not leaf.self_signed and root.self_signed


async def test_p256_key_and_issuer_url(make_server: MakeServer) -> None:
    """A P-256 key signed with ECDSA-SHA256, and the URL its issuer is published at (AIA),
    from a real handshake; the DER kept is the certificate's to the byte."""
    context = server_context(
        common_name("mail.test"),
        issuer=common_name("Issuing CA"),
        ip="127.0.0.1",
        ca_issuers=("http://ca.test/issuing.der",),
    )
    info = await handshake(make_server(tls_context=context), unverified())
    assert info.leaf is not None and info.whole_chain
    assert (info.leaf.key_type, info.leaf.key_bits, info.leaf.curve) == ("EC", 256, "secp256r1")
    assert info.leaf.signature_algorithm == "ecdsa-with-SHA256"
    assert info.leaf.ca_issuers == ("http://ca.test/issuing.der",)
    cert = x509.load_der_x509_certificate(info.leaf.der)
    assert cert.fingerprint(hashes.SHA256()).hex().upper() == info.leaf.sha256
    assert "der=" not in repr(info.leaf)


# -- whether the chain is complete ----------------------------------------------------------


async def test_leaf_and_intermediate_sent_is_complete(
    make_server: MakeServer, root: trustme.CA, leaf: trustme.LeafCert
) -> None:
    server = make_server(tls_context=chain_context(leaf))
    info = await handshake(server, trusting(root))
    assert info.verified and info.whole_chain and len(info.chain) == 2
    assert info.chain[1].is_ca and info.chain[0].issuer == info.chain[1].subject
    check = check_chain(info)
    assert check.complete is True and check.missing == ""
    assert check.text == f"complete: 2 certificates, then {info.chain[1].issuer}, a trusted root"
    # Unverified, a path ending at a CA certificate is complete all the same.
    unchecked = check_chain(await handshake(server, unverified()))
    assert unchecked.complete is True and "a root the client must trust" in unchecked.text


async def test_leaf_alone_names_the_missing_intermediate(
    make_server: MakeServer, root: trustme.CA, intermediate: trustme.CA, leaf: trustme.LeafCert
) -> None:
    """The leaf alone: OpenSSL cannot find its issuer and fails; unverified, the check names
    the intermediate the server should have sent."""
    server = make_server(tls_context=chain_context(leaf, intermediates=False))
    with pytest.raises(SMTPTLSError, match="unable to get local issuer certificate"):
        await handshake(server, trusting(root))
    info = await handshake(server, unverified())
    assert len(info.chain) == 1
    check = check_chain(info)
    wanted = x509.load_pem_x509_certificate(intermediate.cert_pem.bytes())
    assert check.complete is False
    assert check.missing == wanted.subject.rfc4514_string() == info.chain[0].issuer
    assert check.text.startswith(f"incomplete: the issuer of {info.chain[0].subject} ")
    assert check.missing in check.text and check.urls == ()


def test_missing_issuer_names_its_url() -> None:
    leaf = fixed_chain()[0]
    info = tls_info((dataclasses.replace(leaf, ca_issuers=("http://ca.test/i.der",)),))
    check = check_chain(info)
    assert check.urls == ("http://ca.test/i.der",)
    assert f"{leaf.issuer} (from http://ca.test/i.der);" in check.text


async def test_self_signed_is_complete(untrusted_server: EmbeddedServer) -> None:
    check = check_chain(await handshake(untrusted_server, unverified()))
    assert (check.complete, check.text) == (True, "complete: 1 certificate, self-signed")


def fixed_chain() -> tuple[CertificateInfo, ...]:
    """A leaf, its intermediate and the root, as trustme makes them."""
    root = trustme.CA()
    leaf = root.create_child_ca().issue_cert("mail.test")
    pems = [*leaf.cert_chain_pems, root.cert_pem]
    return tuple(CertificateInfo.from_der(der(pem.bytes())) for pem in pems)


def tls_info(chain: tuple[CertificateInfo, ...], *, verified: bool = False) -> TlsInfo:
    return TlsInfo("TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "mail.test", chain, verified, "")


def test_root_sent_and_stray_certificates() -> None:
    """Sent out of order with an unrelated certificate: the path is followed by names, and
    what is not on it is counted."""
    leaf, intermediate, root = fixed_chain()
    stranger = fixed_chain()[1]
    check = check_chain(tls_info((leaf, stranger, root, intermediate)))
    assert check.complete is True
    assert check.text == (
        f"complete: 3 certificates, at the root {root.subject}; "
        "also sent: 1 certificate not in the chain"
    )


def test_no_certificate_and_only_the_leaf_shown() -> None:
    assert check_chain(tls_info(())).complete is False
    hidden = dataclasses.replace(tls_info(fixed_chain()[:1]), whole_chain=False)
    assert (check_chain(hidden).complete, check_chain(hidden).text) == (None, ONLY_LEAF)


def test_chain_pem_holds_the_certificates_in_order() -> None:
    chain = fixed_chain()
    loaded = x509.load_pem_x509_certificates(chain_pem(chain).encode())
    assert [cert.fingerprint(hashes.SHA256()).hex().upper() for cert in loaded] == [
        certificate.sha256 for certificate in chain
    ]
