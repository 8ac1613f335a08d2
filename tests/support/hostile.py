"""What a hostile server, certificate or client of ``serve`` sends to reach the user's terminal,
and how to find any of it that got through."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID
from textual.app import App

from support.scripted import Script, dialogue

HOSTILE = b"\x1b]0;pwned\x07\x1b[2J\x1b\x07\x9b\xc2\x9b\x7f"
"""An OSC that retitles the window, a CSI that clears the screen, a lone ESC and BEL, CSI
as C1: the raw byte 0x9b (not UTF-8) and U+009B in UTF-8, and DEL."""

HOSTILE_UTF8 = HOSTILE.replace(b"\x9b\xc2", b"\xc2")
""":data:`HOSTILE` without the byte that is not UTF-8 (C1 CSI only as U+009B)."""

HOSTILE_TEXT = HOSTILE_UTF8.decode() + "\u202e"
""":data:`HOSTILE_UTF8` as text, and a right-to-left override: for certificates."""

HOSTILE_ASCII = "\x1b]0;pwned\x07\x1b[2J\x7f"
"""What a DNS name in a certificate can hold of it (cryptography takes only ASCII there)."""


def raw(text: str, *, keep: str = "\t\n") -> set[str]:
    """The characters of ``text`` a terminal would act on rather than show (but ``keep``):
    control characters (C0, DEL, C1), bidirectional controls, line and paragraph separators
    and lone surrogates. Worked out from the Unicode database, not from smtptui's rule."""
    return {char for char in text if char not in keep and _acts(char)}


def _acts(char: str) -> bool:
    category = unicodedata.category(char)
    bidi = unicodedata.bidirectional(char) in {"LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI"}
    return category in {"Cc", "Cs", "Zl", "Zp"} or bidi or char in "\u061c\u200e\u200f\u2068\u2069"


def hostile_name(text: str = HOSTILE_TEXT) -> x509.Name:
    """A distinguished name whose common name and organisation hold ``text``."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"mail{text}.example"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"Evil\n<-  250 {text} Corp"),
        ]
    )


HOSTILE_REFUSAL = b"550 5.1.1 <bob@example.org> " + HOSTILE_UTF8 + b" unknown\r\n"
"""A refused RCPT, its text holding :data:`HOSTILE_UTF8`."""


def hostile_server() -> Script:
    """A server whose greeting holds :data:`HOSTILE`, whose EHLO advertises it (as a keyword and
    as parameters), and which refuses STARTTLS and every RCPT with it in the reply's text."""
    return dialogue(
        {
            "EHLO": b"250-mx.example " + HOSTILE + b"\r\n250-X" + HOSTILE + b"\r\n"
            b"250-SIZE " + HOSTILE + b"\r\n250 AUTH PLAIN " + HOSTILE + b"\r\n",
            "STARTTLS": b"454 4.7.0 " + HOSTILE + b"\r\n",
            "RCPT": HOSTILE_REFUSAL,
        },
        greeting=b"220 mx.example " + HOSTILE + b" ESMTP\r\n",
    )


def screen_text(app: App[object]) -> str:
    """Every character the screen on top draws now, row by row: the strips Textual's
    compositor sends the terminal, with every widget, dialog and toast on it."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def hostile_export(path: Path, text: str = HOSTILE_TEXT) -> Path:
    """A JSON Lines export at ``path`` with ``text`` in every name it holds beside the
    entries' texts: a command line (a reply's hint names it), the command a reply answers
    and its recipient, a flag, and each name of a handshake and its certificate."""
    wall = "2026-12-06T15:00:00+00:00"
    certificate = {
        **dict.fromkeys(["subject", "issuer", "key_type", "signature_algorithm"], f"CN=a{text}"),
        "sans": [f"a{text}"],
        "ca_issuers": [f"http://a{text}"],
        "curve": text,
        "not_before": wall,
        "not_after": wall,
        "serial": "01",
        "fingerprint": "AB",
        "self_signed": False,
        "is_ca": False,
        "key_bits": 2048,
    }
    handshake = {
        **dict.fromkeys(["version", "cipher", "server_hostname", "verify_note"], f"x{text}"),
        "bits": 256,
        "chain": [certificate],
        "verified": False,
    }
    base = {"wall": wall, "tls": False, "encoding": "utf-8"}
    reply = {**base, "kind": "received", "text": "250 ok", "code": 250, "data": "250 ok\r\n"}
    records = [
        {**base, "kind": "sent", "text": f"MAIL FROM:<a{text}>", "data": "MAIL FROM:<a>\r\n"},
        {**reply, "answers": f"RCPT TO:<b{text}>", "recipient": text, "flags": [text]},
        {**base, "kind": "tls", "text": "TLS established", "data": "", "tls_info": handshake},
    ]
    path.write_text("".join(json.dumps(record) + "\n" for record in records), "utf-8")
    return path
