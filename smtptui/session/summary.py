"""What a whole dialogue came to, in a few fields a script reads: ``smtptui run --json``'s
last line. Everything in it is read from the transcript and the outcome, nothing worked
out again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from smtptui.protocol.queue_id import queue_id
from smtptui.session.actions import Outcome
from smtptui.session.exits import Exit
from smtptui.session.export import tls_json
from smtptui.session.transcript import Entry, EntryKind

SUMMARY = "summary"
"""The ``kind`` of the summary line: an entry's ``kind`` is never this."""

TLS_KEYS = ("version", "cipher", "bits", "server_hostname", "verified", "verify_note")
"""What the summary says of TLS: an entry's ``tls_info`` without the certificate chain."""


@dataclass(frozen=True, slots=True)
class Summary:
    """A dialogue's result. ``stage`` names what failed (an :class:`Exit`'s name, lower
    case) or is None; ``accepted`` and ``refused`` are the RCPT addresses as sent, without
    angle brackets (in LMTP, a recipient refused after the message is among ``refused``,
    not ``accepted``); ``deliveries`` are LMTP's replies to the message, each recipient's
    (code, text) in order; ``queue_id`` is read from the reply to the message; ``tls`` is the last
    handshake's (as :func:`~smtptui.session.export.tls_json` gives it, without the chain).
    Times are milliseconds: ``connect_ms`` the TCP connection, ``total_ms`` the first entry
    to the last, ``replies`` each reply's latency and the command it answers."""

    ok: bool
    exit_code: Exit
    accepted: tuple[str, ...] = ()
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)
    queue_id: str | None = None
    tls: dict[str, object] | None = None
    deliveries: dict[str, tuple[int, str]] = field(default_factory=dict)
    connect_ms: float | None = None
    total_ms: float = 0.0
    replies: tuple[tuple[str, float], ...] = ()

    @property
    def stage(self) -> str | None:
        return None if self.exit_code is Exit.OK else self.exit_code.name.lower()

    def as_json(self) -> dict[str, object]:
        """The summary as a JSON-ready dict, ``kind`` "summary" first."""
        return {
            "kind": SUMMARY,
            "ok": self.ok,
            "exit_code": int(self.exit_code),
            "stage": self.stage,
            "accepted": list(self.accepted),
            "refused": {address: list(reply) for address, reply in self.refused.items()},
            "queue_id": self.queue_id,
            "deliveries": {address: list(reply) for address, reply in self.deliveries.items()},
            "tls": self.tls,
            "timings": {
                "connect_ms": self.connect_ms,
                "total_ms": self.total_ms,
                "replies": [{"answers": label, "ms": ms} for label, ms in self.replies],
            },
        }


def summarize(entries: Iterable[Entry], outcome: Outcome) -> Summary:
    """The summary of a dialogue recorded as ``entries`` that came to ``outcome``."""
    entries = list(entries)
    accepted: list[str] = []
    refused: dict[str, tuple[int, str]] = {}
    deliveries: dict[str, tuple[int, str]] = {}
    queued = tls = connect = None
    replies: list[tuple[str, float]] = []
    for entry in entries:
        reply, command = entry.reply, entry.command
        if entry.tls_info is not None:
            tls = {key: tls_json(entry.tls_info)[key] for key in TLS_KEYS}
        if entry.kind is EntryKind.INFO and entry.latency is not None:
            connect = _ms(entry.latency)  # the Connected entry carries the connection's time
        if reply is None or command is None:
            continue
        if entry.latency is not None:
            replies.append((command.label, _ms(entry.latency)))
        if command.verb == "RCPT":
            if 200 <= reply.code < 300:
                accepted.append(command.path)
            else:
                refused[command.path] = (reply.code, reply.text)
        elif command.recipient:  # LMTP: a recipient's reply to the message; any names it
            deliveries[command.recipient] = (reply.code, reply.text)
            queued = queue_id(reply) or queued
        elif command.ends_message:
            queued = queue_id(reply)
    for address, (code, text) in deliveries.items():
        if not 200 <= code < 300:  # refused after the message, as by RCPT
            refused[address] = (code, text)
    total = _ms(entries[-1].time - entries[0].time) if entries else 0.0
    return Summary(
        ok=outcome.ok,
        exit_code=outcome.stage or Exit.OK,
        accepted=tuple(address for address in accepted if address not in refused),
        refused=refused,
        queue_id=queued,
        tls=tls,
        deliveries=deliveries,
        connect_ms=connect,
        total_ms=total,
        replies=tuple(replies),
    )


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)
