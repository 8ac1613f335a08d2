"""SCRAM-SHA-256 (RFC 5802, RFC 7677): the arithmetic and message syntax both sides share.

The client mechanism (:class:`smtptui.protocol.auth.ScramSha256`) and the embedded server's
``auth_SCRAM_SHA_256`` both compute proofs and signatures here, so they cannot drift apart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import stringprep
import unicodedata
from dataclasses import dataclass

from smtptui.protocol.errors import CommandError

HASH = "sha256"
MIN_ITERATIONS = 4096
"""RFC 7677 section 4's count: what the embedded server asks for."""

MAX_ITERATIONS = 1_000_000
"""The most iterations a client computes (about a second): a server asking for more would
hold it up for as long as it liked."""


def saslprep(text: str, field: str) -> str:
    """``text`` prepared by SASLprep (RFC 4013) as a query (unassigned code points allowed,
    as RFC 5802 section 5.1 asks); :class:`CommandError` naming ``field`` if it holds a
    prohibited character or breaks the bidirectional rule."""
    mapped = "".join(
        " " if stringprep.in_table_c12(char) else char
        for char in text
        if not stringprep.in_table_b1(char)
    )
    prepared = unicodedata.normalize("NFKC", mapped)
    prohibited = (
        stringprep.in_table_c12,
        stringprep.in_table_c21_c22,
        stringprep.in_table_c3,
        stringprep.in_table_c4,
        stringprep.in_table_c5,
        stringprep.in_table_c6,
        stringprep.in_table_c7,
        stringprep.in_table_c8,
        stringprep.in_table_c9,
    )
    for char in prepared:
        if any(table(char) for table in prohibited):
            raise CommandError(field, f"holds U+{ord(char):04X}, which SASLprep prohibits")
    if any(stringprep.in_table_d1(char) for char in prepared) and (
        any(stringprep.in_table_d2(char) for char in prepared)
        or not (stringprep.in_table_d1(prepared[0]) and stringprep.in_table_d1(prepared[-1]))
    ):
        raise CommandError(field, "mixes right-to-left and left-to-right text (SASLprep)")
    return prepared


def escape_name(name: str) -> str:
    """A saslname (RFC 5802 section 5.1, RFC 5801): ``=`` as ``=3D``, ``,`` as ``=2C``."""
    return name.replace("=", "=3D").replace(",", "=2C")


def unescape_name(name: str) -> str:
    return name.replace("=2C", ",").replace("=3D", "=")


def parse_attributes(message: bytes) -> dict[str, str]:
    """``k=v,k=v`` as a dict; an attribute without ``=`` maps to ""."""
    text = message.decode("utf-8", "replace")
    return dict(part.partition("=")[::2] for part in text.split(","))


def salted_password(password: str, salt: bytes, iterations: int) -> bytes:
    """Hi(Normalize(password), salt, i): PBKDF2-HMAC-SHA-256; ValueError unless ``iterations``
    is from 1 to :data:`MAX_ITERATIONS`."""
    if not 0 < iterations <= MAX_ITERATIONS:
        raise ValueError(f"{iterations} iterations: from 1 to {MAX_ITERATIONS} are computed")
    return hashlib.pbkdf2_hmac(HASH, saslprep(password, "password").encode(), salt, iterations)


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, HASH)


@dataclass(frozen=True)
class Keys:
    """What a salted password yields: the client proves it holds ``client_key``; the server
    proves it holds ``server_key`` (and stores only ``stored_key``)."""

    client_key: bytes
    stored_key: bytes
    server_key: bytes

    @classmethod
    def derive(cls, salted: bytes) -> Keys:
        client_key = _hmac(salted, b"Client Key")
        return cls(client_key, hashlib.new(HASH, client_key).digest(), _hmac(salted, b"Server Key"))

    def client_proof(self, auth_message: bytes) -> bytes:
        """ClientKey XOR HMAC(StoredKey, AuthMessage)."""
        signature = _hmac(self.stored_key, auth_message)
        return bytes(a ^ b for a, b in zip(self.client_key, signature, strict=True))

    def server_signature(self, auth_message: bytes) -> bytes:
        return _hmac(self.server_key, auth_message)

    def verify_proof(self, auth_message: bytes, proof: bytes) -> bool:
        """The server's check: H(proof XOR ClientSignature) is the stored key."""
        signature = _hmac(self.stored_key, auth_message)
        if len(proof) != len(signature):
            return False
        client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
        return hmac.compare_digest(hashlib.new(HASH, client_key).digest(), self.stored_key)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
