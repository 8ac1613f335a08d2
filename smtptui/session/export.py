"""The transcript as swaks-style text or JSON Lines; secrets masked unless asked otherwise."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from enum import StrEnum

from smtptui.session.transcript import Entry, EntryKind


class ExportFormat(StrEnum):
    """The formats a transcript is exported in."""

    SWAKS = "swaks"  # swaks-style text
    JSONL = "jsonl"  # JSON Lines, one object per entry

    @property
    def suffix(self) -> str:
        return ".txt" if self is ExportFormat.SWAKS else ".jsonl"


_MARKERS = {
    (EntryKind.SENT, False): " -> ",
    (EntryKind.SENT, True): " ~> ",
    (EntryKind.RECEIVED, False): "<-  ",
    (EntryKind.RECEIVED, True): "<~  ",
    (EntryKind.ERROR, False): "*** ",
    (EntryKind.ERROR, True): "*** ",
}
_INFO = "=== "


def swaks_lines(entry: Entry, *, redact: bool = True) -> list[str]:
    """One entry as swaks prints it: each line behind its marker; a message body is
    followed by the ``.`` that ends it on the wire."""
    marker = _MARKERS.get((entry.kind, entry.tls), _INFO)
    lines = [marker + line for line in entry.shown(redact).split("\n")]
    if entry.body:
        lines.append(marker + ".")
    return lines


def to_swaks(entries: Iterable[Entry], *, redact: bool = True) -> str:
    """The transcript in swaks's format, one line per line, ending with a newline."""
    return "".join(line + "\n" for entry in entries for line in swaks_lines(entry, redact=redact))


def to_json(entry: Entry, start: float, *, redact: bool = True) -> dict[str, object]:
    """One entry as a JSON-ready dict; ``t`` counts seconds from monotonic time ``start``.

    ``data`` is text when it is UTF-8 (``encoding`` "utf-8"), else base64; a redacted
    secret has ``data`` null and ``redacted`` true.
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
    return "".join(
        json.dumps(to_json(entry, start, redact=redact), ensure_ascii=False) + "\n"
        for entry in entries
    )
