"""make_tls_context: create_default_context's semantics, without the system's CA store
where nothing would use it (issue 13, part 3)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme

from smtptui.engine.tls import make_tls_context

SETTINGS = ("protocol", "options", "minimum_version", "maximum_version", "verify_flags")


def default(**kwargs: str) -> ssl.SSLContext:
    return ssl.create_default_context(**kwargs)


def test_verified_with_the_systems_cas_is_create_default_context() -> None:
    context = make_tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert not context.check_hostname  # the client checks the name (names_match)
    assert context.cert_store_stats() == default().cert_store_stats()


def test_verified_with_a_cafile_trusts_that_file_only(ca: trustme.CA, tmp_path: Path) -> None:
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(cafile)
    context = make_tls_context(cafile=str(cafile))
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert not context.check_hostname  # the client checks the name (names_match)
    assert context.cert_store_stats()["x509_ca"] == 1
    assert context.get_ca_certs() == default(cafile=str(cafile)).get_ca_certs()


def test_unverified_loads_no_ca_store_and_keeps_every_other_setting() -> None:
    context = make_tls_context(verify=False)
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname
    assert context.get_ca_certs() == []
    expected = default()
    for name in SETTINGS:
        assert getattr(context, name) == getattr(expected, name), name
    assert context.get_ciphers() == expected.get_ciphers()


def test_unverified_still_reads_a_cafile_and_refuses_a_bad_one(
    ca: trustme.CA, tmp_path: Path
) -> None:
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(cafile)
    assert make_tls_context(verify=False, cafile=str(cafile)).cert_store_stats()["x509_ca"] == 1
    (tmp_path / "bad.pem").write_text("not a certificate")
    with pytest.raises(ssl.SSLError):
        make_tls_context(verify=False, cafile=str(tmp_path / "bad.pem"))


def test_unverified_honours_sslkeylogfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSLKEYLOGFILE", str(tmp_path / "keys.log"))
    assert make_tls_context(verify=False).keylog_filename == str(tmp_path / "keys.log")
