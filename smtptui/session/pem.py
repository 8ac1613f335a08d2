"""Saving the certificates a server sent as a PEM file, for ``openssl``, a CA bundle or a
bug report: the certificate screen's ``s`` and ``run --save-chain`` alike."""

from __future__ import annotations

from pathlib import Path

from smtptui.engine.chain import chain_pem
from smtptui.engine.tls import CertificateInfo


def save_chain(chain: tuple[CertificateInfo, ...], typed: str) -> Path:
    """Write ``chain`` (leaf first) as PEM to the file ``typed`` names (``~`` expanded,
    relative to the working directory; replaced if it exists) and return its path;
    ValueError saying what is wrong in words."""
    if not typed.strip():
        raise ValueError("type the path of the file to write")
    if not chain:
        raise ValueError("the server sent no certificate")
    path = Path(typed).expanduser().absolute()
    if path.is_dir():
        raise ValueError(f"{path} is a directory: name a file in it")
    try:
        path.write_text(chain_pem(chain), encoding="ascii")
    except OSError as error:
        raise ValueError(f"{path}: {error.strerror or error}") from None
    return path
