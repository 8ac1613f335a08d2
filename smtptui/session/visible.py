"""The one rule for showing text that came from outside: no byte of it reaches a terminal raw.

A server's reply, a certificate's subject, an exception's message or a client's MAIL FROM
may hold ESC, BEL, CSI (0x9b) or OSC sequences that would clear the screen, retitle the
window or fake a line when written to a terminal. Every path that shows such text (the
TUI, ``smtptui run``, ``smtptui serve``, the swaks-text export) passes it through
:func:`visible` first; only the JSON Lines export keeps the exact text, written by
:func:`json_line` so that it too prints safely.
"""

from __future__ import annotations

import dataclasses
import json
import re

from smtptui.engine.tls import CertificateInfo, TlsInfo

_UNSAFE = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff"
)
"""C0 controls but tab and LF, DEL, C1 controls, the bidirectional marks and overrides (which
reorder what the terminal shows), the Unicode line and paragraph separators (line breaks to
some readers), and lone surrogates (``surrogateescape`` holds a byte that is not UTF-8 as
one, and writing it back out sends the raw byte)."""

_MULTILINE = re.compile(f"[{_UNSAFE}]")
_ONE_LINE = re.compile(f"[\t\n{_UNSAFE}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        code -= 0xDC00
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, one_line: bool = False) -> str:
    """``text`` with every control character written out (``\\x1b``, ``\\x9b``,
    ``\\u202e``); tab and LF are kept unless ``one_line``. Text :meth:`str.isprintable`
    accepts (most of it) holds none of them and is returned as is, found at C speed."""
    if text.isprintable():
        return text
    return (_ONE_LINE if one_line else _MULTILINE).sub(_escape, text)


def decoded(data: bytes | memoryview) -> str:
    """Bytes as text: UTF-8, and every byte that is not as ``\\xNN``; control characters
    are left for :func:`visible` (an :class:`~smtptui.session.transcript.Entry` applies it
    to its own text, so what becomes an entry is scanned once). A memoryview is read where
    it lies (a slice of a large message is not copied first)."""
    return str(data, "utf-8", "backslashreplace")


def visible_bytes(data: bytes, *, one_line: bool = False) -> str:
    """Bytes as :func:`visible` text: :func:`decoded`, control characters written out."""
    return visible(decoded(data), one_line=one_line)


def visible_tls(info: TlsInfo) -> TlsInfo:
    """A copy of ``info`` for display: every name in it (the certificates' subjects, issuers,
    SANs and issuer URLs, which whoever made the certificate chose) :func:`visible` on one line.
    Its version and cipher too: Python's names live, but a file read back holds any text."""
    return dataclasses.replace(
        info,
        version=visible(info.version, one_line=True),
        cipher=visible(info.cipher, one_line=True),
        server_hostname=info.server_hostname and visible(info.server_hostname, one_line=True),
        verify_note=visible(info.verify_note, one_line=True),
        chain=tuple(_visible_certificate(certificate) for certificate in info.chain),
    )


def _visible_certificate(certificate: CertificateInfo) -> CertificateInfo:
    return dataclasses.replace(
        certificate,
        subject=visible(certificate.subject, one_line=True),
        issuer=visible(certificate.issuer, one_line=True),
        common_name=visible(certificate.common_name, one_line=True),
        sans=tuple(visible(name, one_line=True) for name in certificate.sans),
        ca_issuers=tuple(visible(url, one_line=True) for url in certificate.ca_issuers),
        # cryptography's names, not the certificate's bytes: made visible all the same, so
        # that no string field is left to reason about.
        key_type=visible(certificate.key_type, one_line=True),
        curve=visible(certificate.curve, one_line=True),
        signature_algorithm=visible(certificate.signature_algorithm, one_line=True),
    )


def json_line(record: object) -> str:
    """``record`` as one line of JSON that decodes to exactly what it holds and is safe to
    print: readable UTF-8, but every character :func:`visible` would write out escaped as
    ``\\uXXXX`` (the json module escapes only C0, and DEL, C1 or U+202E would go raw)."""
    text = json.dumps(record, ensure_ascii=False)
    return _MULTILINE.sub(lambda match: f"\\u{ord(match[0]):04x}", text)
