"""Saving the certificates a server sent as PEM: what is written, and each way a path can be
wrong said in words (the certificate screen shows them in its dialog, ``run`` on stderr)."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from smtptui.engine.tls import CertificateInfo
from smtptui.session import save_chain


def chain() -> tuple[CertificateInfo, ...]:
    """A leaf and the intermediate that issued it."""
    leaf = trustme.CA().create_child_ca().issue_cert("mail.test")
    return tuple(
        CertificateInfo.from_der(
            x509.load_pem_x509_certificate(pem.bytes()).public_bytes(serialization.Encoding.DER)
        )
        for pem in leaf.cert_chain_pems
    )


def test_writes_every_certificate_leaf_first(tmp_path: Path) -> None:
    certificates = chain()
    (tmp_path / "old.pem").write_text("replaced")
    path = save_chain(certificates, str(tmp_path / "old.pem"))
    assert path == tmp_path / "old.pem"
    saved = x509.load_pem_x509_certificates(path.read_bytes())
    assert [cert.fingerprint(hashes.SHA256()).hex().upper() for cert in saved] == [
        certificate.sha256 for certificate in certificates
    ]


def test_expands_home_and_relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert save_chain(chain(), "~/chain.pem") == tmp_path / "chain.pem"
    monkeypatch.chdir(tmp_path)
    assert save_chain(chain(), "here.pem") == tmp_path / "here.pem"


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("  ", "type the path of the file to write"),
        ("{tmp}", "{tmp} is a directory: name a file in it"),
        ("{tmp}/no/such/chain.pem", "{tmp}/no/such/chain.pem: No such file or directory"),
    ],
)
def test_a_wrong_path_is_said_in_words(tmp_path: Path, typed: str, said: str) -> None:
    with pytest.raises(ValueError) as error:
        save_chain(chain(), typed.format(tmp=tmp_path))
    assert str(error.value) == said.format(tmp=tmp_path)


def test_nothing_to_save() -> None:
    with pytest.raises(ValueError, match="the server sent no certificate"):
        save_chain((), "chain.pem")
