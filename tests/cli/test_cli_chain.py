"""``run --save-chain FILE``: the certificates the server sent, written as PEM once TLS is up;
a file that cannot be written said on stderr, the dialogue's exit status kept. Real
processes against the embedded server: its own self-signed certificate (``--demo``) and a
trustme chain (a leaf and its intermediate)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from smtptui.server import EmbeddedServer

from support.certificates import chain_context
from support.processes import smtptui_run_sync

pytestmark = pytest.mark.timeout(60)


def smtptui(*args: str) -> subprocess.CompletedProcess[str]:
    return smtptui_run_sync(*args, env={**os.environ, "SMTPTUI_PASSWORD": "wonderland"})


def fingerprints(path: Path) -> list[str]:
    """The SHA-256 fingerprints of the certificates in a PEM file, as AB:CD:…, in order."""
    return [
        ":".join(f"{byte:02X}" for byte in cert.fingerprint(hashes.SHA256()))
        for cert in x509.load_pem_x509_certificates(path.read_bytes())
    ]


def test_demo_saves_the_self_signed_certificate(tmp_path: Path) -> None:
    """The PEM holds what the JSON's tls entry describes; the note says where (on stderr
    beside JSON)."""
    path = tmp_path / "demo.pem"
    result = smtptui("--demo", "--json", "--quit-after", "tls", "--save-chain", str(path))
    assert result.returncode == 0, result.stderr
    [tls] = [
        json.loads(line)["tls_info"] for line in result.stdout.splitlines() if "tls_info" in line
    ]
    assert fingerprints(path) == [certificate["fingerprint"] for certificate in tls["chain"]]
    assert len(tls["chain"]) == 1 and tls["chain"][0]["self_signed"] is True
    assert f"=== Saved 1 certificate as PEM to {path}" in result.stderr.splitlines()


def test_a_chain_is_saved_leaf_first(
    make_server: Callable[..., EmbeddedServer], tmp_path: Path
) -> None:
    root = trustme.CA()
    leaf = root.create_child_ca().issue_cert("127.0.0.1")
    server = make_server(tls_context=chain_context(leaf))
    cafile, path = tmp_path / "root.pem", tmp_path / "chain.pem"
    root.cert_pem.write_to_path(str(cafile))
    result = smtptui(
        f"127.0.0.1:{server.port}",
        f"--cafile={cafile}",
        "--quit-after=tls",
        f"--save-chain={path}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"=== Saved 2 certificates as PEM to {path}" in result.stdout.splitlines()
    sent = [x509.load_pem_x509_certificate(pem.bytes()) for pem in leaf.cert_chain_pems]
    assert fingerprints(path) == [
        ":".join(f"{byte:02X}" for byte in cert.fingerprint(hashes.SHA256())) for cert in sent
    ]


def test_an_unwritable_file_is_said_and_the_status_kept(tmp_path: Path) -> None:
    where = tmp_path / "missing" / "chain.pem"
    result = smtptui("--demo", "--quit-after", "tls", "--save-chain", str(where))
    assert result.returncode == 0
    assert f"*** cannot save the chain: {where}: No such file or directory" in result.stderr
    assert "Traceback" not in result.stderr and not where.exists()


def test_no_tls_no_chain(tmp_path: Path) -> None:
    """--plain is refused before connecting; a session that ends before its handshake says
    there was no chain to save."""
    result = smtptui("--demo", "--plain", "--save-chain", str(tmp_path / "x.pem"))
    assert result.returncode == 1 and "--save-chain needs TLS" in result.stderr
    result = smtptui("--demo", "--quit-after", "ehlo", "--save-chain", str(tmp_path / "x.pem"))
    assert result.returncode == 0
    assert "*** cannot save the chain: the session ended before a TLS handshake" in result.stderr
