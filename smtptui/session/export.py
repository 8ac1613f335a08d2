"""The transcript as swaks-style text or JSON Lines; secrets masked unless asked otherwise."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from smtptui.engine.chain import check_chain
from smtptui.engine.tls import CertificateInfo, TlsInfo
from smtptui.session.transcript import Entry, EntryKind, Transcript
from smtptui.session.visible import json_line


class ExportFormat(StrEnum):
    """The formats a session is exported in: its transcript, or a command that sends its
    message again (:mod:`smtptui.session.recipe`)."""

    SWAKS = "swaks"  # swaks-style text
    JSONL = "jsonl"  # JSON Lines, one object per entry
    RUN = "run"  # a shell command running smtptui run
    SWAKS_COMMAND = "swaks-command"  # a shell command running swaks
    PYTHON = "python"  # a Python script using smtplib

    @property
    def suffix(self) -> str:
        return _SUFFIXES[self]

    @property
    def command(self) -> bool:
        """A command that does the session again, not its transcript."""
        return self not in (ExportFormat.SWAKS, ExportFormat.JSONL)


_SUFFIXES = {
    ExportFormat.SWAKS: ".txt",
    ExportFormat.JSONL: ".jsonl",
    ExportFormat.RUN: ".run.sh",
    ExportFormat.SWAKS_COMMAND: ".swaks.sh",
    ExportFormat.PYTHON: ".py",
}


_MARKERS = {
    (EntryKind.SENT, False): " -> ",
    (EntryKind.SENT, True): " ~> ",
    (EntryKind.RECEIVED, False): "<-  ",
    (EntryKind.RECEIVED, True): "<~  ",
    (EntryKind.ERROR, False): "*** ",
    (EntryKind.ERROR, True): "*** ",
}
_INFO = "=== "
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]")  # in a file name


def swaks_lines(entry: Entry, *, redact: bool = True) -> list[str]:
    """One entry as swaks prints it: each line behind its marker; a message body is
    followed by the ``.`` that ends it on the wire."""
    marker = _MARKERS.get((entry.kind, entry.tls), _INFO)
    lines = [marker + line for line in entry.shown(redact).split("\n")]
    if entry.dotted:
        lines.append(marker + ".")
    return lines


def to_swaks(entries: Iterable[Entry], *, redact: bool = True) -> str:
    """The transcript in swaks's format, one line per line, ending with a newline."""
    return "".join(line + "\n" for entry in entries for line in swaks_lines(entry, redact=redact))


def to_json(entry: Entry, start: float, *, redact: bool = True) -> dict[str, object]:
    """One entry as a JSON-ready dict; ``t`` counts seconds from monotonic time ``start``.

    ``data`` is text when it is UTF-8 (``encoding`` "utf-8"), else base64; a redacted
    secret has ``data`` null and ``redacted`` true. ``body`` marks message data (``typed``:
    one line of it typed after 354; ``chunk``: a BDAT chunk's bytes). A command written in a
    pipelined group has its ``group``; a reply names the command it ``answers``. ``flags``
    and (on TLS entries) ``tls_info`` appear when there are any; a certificate's ``serial``
    is upper-case hex, its ``der`` the certificate itself in base64.
    """
    record: dict[str, object] = {
        "kind": str(entry.kind),
        "wall": entry.wall.isoformat(),
        "t": round(entry.time - start, 6),
        "tls": entry.tls,
        "latency": entry.latency,
        "text": entry.shown(redact),
    }
    if entry.reply is not None:
        record["code"] = entry.reply.code
    if entry.note:
        record["note"] = entry.note
    if entry.body:
        record["body"] = True
    if entry.typed:
        record["typed"] = True
    if entry.chunk:
        record["chunk"] = True
    command = entry.command
    if command is not None and command.group and entry.kind is EntryKind.SENT:
        record["group"] = command.group
    if command is not None and entry.kind is EntryKind.RECEIVED:
        record["answers"] = command.label
        if command.recipient:
            record["recipient"] = command.recipient
    if entry.flags:
        record["flags"] = list(entry.flags)
    if entry.tls_info is not None:
        record["tls_info"] = tls_json(entry.tls_info)
    if redact and entry.secret:
        record.update(data=None, redacted=True)
    else:
        try:
            record.update(data=entry.data.decode("utf-8"), encoding="utf-8")
        except UnicodeDecodeError:
            record.update(data=base64.b64encode(entry.data).decode("ascii"), encoding="base64")
    return record


def to_jsonl(entries: Iterable[Entry], *, redact: bool = True) -> str:
    """One JSON object per line per entry; ``t`` counts from the first entry."""
    entries = list(entries)
    start = entries[0].time if entries else 0.0
    return _lines(to_json(entry, start, redact=redact) for entry in entries)


def export(entries: Iterable[Entry], fmt: ExportFormat, *, redact: bool = True) -> str:
    """``entries`` in the format ``fmt``."""
    convert = to_swaks if fmt is ExportFormat.SWAKS else to_jsonl
    return convert(entries, redact=redact)


def default_filename(transcript: Transcript, fmt: ExportFormat, when: datetime) -> str:
    """A file name for ``transcript`` saved at ``when``:
    ``smtptui-127.0.0.1-2525-20261128-233000.txt``."""
    name = file_safe(transcript.title) or "session"
    return f"smtptui-{name}-{when:%Y%m%d-%H%M%S}{fmt.suffix}"


def file_safe(text: str) -> str:
    """``text`` for a file name: anything but ASCII letters, digits, dots and hyphens as
    ``-``."""
    return _UNSAFE.sub("-", text)


def write_export(
    path: Path, transcripts: Sequence[Transcript], fmt: ExportFormat, *, redact: bool = True
) -> int:
    """Write ``transcripts`` to ``path`` (readable by its owner only) in the format ``fmt``,
    mark them saved and return how many entries were written; raises OSError.

    swaks text heads each transcript with ``=== connection N: title`` when there are
    several; each JSON record names its ``connection``, and ``t`` counts from the first.
    """
    if fmt is ExportFormat.SWAKS:
        several = len(transcripts) > 1
        text = "".join(
            (_heading(transcript) if several else "") + to_swaks(transcript, redact=redact)
            for transcript in transcripts
        )
    else:
        start = next((entry.time for transcript in transcripts for entry in transcript), 0.0)
        text = _lines(
            {**to_json(entry, start, redact=redact), "connection": transcript.number}
            for transcript in transcripts
            for entry in transcript
        )
    descriptor = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    with open(descriptor, "w", encoding="utf-8", newline="") as file:
        file.write(text)
    for transcript in transcripts:
        transcript.mark_saved()
    return sum(len(transcript) for transcript in transcripts)


def _heading(transcript: Transcript) -> str:
    title = f": {transcript.title}" if transcript.title else ""
    return f"{_INFO}connection {transcript.number}{title}\n"


def _lines(records: Iterable[dict[str, object]]) -> str:
    """JSON Lines: one object per line."""
    return "".join(json_line(record) + "\n" for record in records)


def tls_json(info: TlsInfo) -> dict[str, object]:
    """A handshake's details as JSON (an entry's ``tls_info``; the run summary's ``tls``)."""
    return {
        "version": info.version,
        "cipher": info.cipher,
        "bits": info.bits,
        "server_hostname": info.server_hostname,
        "verified": info.verified,
        "verify_note": info.verify_note,
        "chain": [_certificate_json(certificate) for certificate in info.chain],
        "whole_chain": info.whole_chain,
        "chain_complete": check_chain(info).complete,
    }


def _certificate_json(certificate: CertificateInfo) -> dict[str, object]:
    """A certificate's facts, and its ``der`` (base64) when known, so that the certificate
    screen can show it again from the file (``smtptui open``)."""
    record: dict[str, object] = {
        "subject": certificate.subject,
        "issuer": certificate.issuer,
        "sans": list(certificate.sans),
        "not_before": certificate.not_before.isoformat(),
        "not_after": certificate.not_after.isoformat(),
        "serial": f"{certificate.serial:X}",
        "fingerprint": certificate.fingerprint,
        "self_signed": certificate.self_signed,
        "is_ca": certificate.is_ca,
        "key_type": certificate.key_type,
        "key_bits": certificate.key_bits,
        "curve": certificate.curve,
        "signature_algorithm": certificate.signature_algorithm,
        "ca_issuers": list(certificate.ca_issuers),
    }
    if certificate.der:
        record["der"] = base64.b64encode(certificate.der).decode("ascii")
    return record
