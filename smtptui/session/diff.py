"""Two sessions compared step by step, for ``smtptui diff`` and its view.

A session becomes :class:`Step` s (each command line with its reply, the greeting, the
message, a TLS handshake), keyed by what they are (EHLO, MAIL, RCPT, …) so that
:func:`compare` aligns them as diff(1) aligns lines (difflib): a step only in one session is
added or removed, and a step in both is compared for what matters when a server changes:
the reply's code, enhanced code and text (a queue id aside), EHLO's capabilities, the TLS
version, cipher and certificate, and a latency past a :class:`Threshold`.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from enum import StrEnum

from smtptui.engine.tls import TlsInfo
from smtptui.protocol.capabilities import parse_ehlo
from smtptui.protocol.dialogue import split_command
from smtptui.protocol.queue_id import queue_id
from smtptui.session.transcript import Entry, EntryKind, Transcript
from smtptui.session.visible import visible, visible_tls

GREETING = "greeting"
MESSAGE = "message data"
TLS = "TLS handshake"
GREETS = frozenset({"EHLO", "HELO", "LHLO"})
JITTER_MS = 20.0
"""How far apart two latencies must be, besides their ratio, to count: a local reply in 1 ms
and one in 3 ms are 3x apart and mean nothing."""


@dataclass(frozen=True, slots=True)
class Threshold:
    """When a reply counts as slower or faster: ``factor`` times the other side's latency
    and at least ``at_least_ms`` apart (so that jitter on a quick local reply does not
    count), or, with ``factor`` 0, ``at_least_ms`` apart alone."""

    factor: float = 2.0
    at_least_ms: float = JITTER_MS

    @classmethod
    def parse(cls, text: str) -> Threshold:
        """``2x`` (twice as slow, and 20 ms apart) or ``150ms`` (150 ms apart); raises
        ValueError naming what it takes."""
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(x|ms)\s*", text.lower())
        if match is None or float(match[1]) <= 0 or (match[2] == "x" and float(match[1]) <= 1):
            raise ValueError(
                f"{text!r} is not a threshold: give a factor over 1 (2x) or ms (150ms)"
            )
        value = float(match[1])
        return cls(value, JITTER_MS) if match[2] == "x" else cls(0.0, value)

    def __str__(self) -> str:
        if self.factor:
            return f"{self.factor:g}x and {self.at_least_ms:g} ms"
        return f"{self.at_least_ms:g} ms"

    def past(self, before: float, after: float) -> bool:
        """Whether ``after`` (seconds) is past the threshold from ``before``, either way."""
        slow, quick = max(before, after), min(before, after)
        if (slow - quick) * 1000 < self.at_least_ms:
            return False
        return not self.factor or slow >= quick * self.factor


@dataclass(slots=True)
class Step:
    """One step of a session: a command line (or the greeting, the message, a handshake)
    and the reply it got. ``key`` is what aligns it with the other session's."""

    key: str
    label: str
    connection: int
    sent: Entry | None = None
    reply: Entry | None = None
    tls_info: TlsInfo | None = None


class Status(StrEnum):
    SAME = "same"
    CHANGED = "changed"
    REMOVED = "removed"  # only in A
    ADDED = "added"  # only in B


@dataclass(frozen=True, slots=True)
class Change:
    """One thing that differs in a step: ``what`` was ``a`` and is ``b`` ("" where one side
    has none, as a capability added)."""

    what: str
    a: str
    b: str

    def __str__(self) -> str:
        if not self.a:
            return f"{self.what} added: {self.b}"
        if not self.b:
            return f"{self.what} removed: {self.a}"
        return f"{self.what}: {self.a} → {self.b}"


@dataclass(frozen=True, slots=True)
class Aligned:
    """A step of either session, or the pair of steps that align, with what changed."""

    status: Status
    a: Step | None
    b: Step | None
    changes: tuple[Change, ...] = field(default=())

    @property
    def label(self) -> str:
        step = self.a or self.b
        assert step is not None
        return step.label


def steps(transcripts: Iterable[Transcript]) -> list[Step]:
    """Each connection's steps in order, each reply given to the oldest step awaiting one
    (so pipelined commands get theirs), a connection starting with a ``connection`` step."""
    found: list[Step] = []
    for transcript in transcripts:
        number = transcript.number
        found.append(Step("connection", f"connection {number}", number))
        waiting: deque[Step] = deque()
        for entry in transcript:
            if entry.kind is EntryKind.RECEIVED:
                _answer(entry, waiting, found, number)
            elif entry.kind is EntryKind.SENT:
                _sent(entry, waiting, found, number)
            elif entry.tls_info is not None:
                found.append(Step(TLS, TLS, number, tls_info=entry.tls_info))
    return found


def _sent(entry: Entry, waiting: deque[Step], found: list[Step], number: int) -> None:
    last = found[-1]
    if entry.body or (entry.text == "." and last.key == MESSAGE and last.reply is None):
        if last.key != MESSAGE or last.reply is not None:  # message lines typed: one step
            last = Step(MESSAGE, MESSAGE, number, sent=entry)
            found.append(last)
            waiting.append(last)
        return
    verb, _ = split_command(entry.text.encode("utf-8", "surrogatepass"))
    key = verb or "(empty line)"
    if verb in GREETS and entry.tls:  # what a server offers inside TLS is another list
        key += " in TLS"
    step = Step(key, entry.shown(), number, sent=entry)
    found.append(step)
    waiting.append(step)


def _answer(entry: Entry, waiting: deque[Step], found: list[Step], number: int) -> None:
    command = entry.command
    if command is not None and command.recipient:  # LMTP: one reply per recipient
        label = f"{MESSAGE} for {command.recipient}"
        found.append(Step(label, label, number, reply=entry))
    elif waiting:
        waiting.popleft().reply = entry
    else:
        label = GREETING if found[-1].key == "connection" else "unsolicited reply"
        found.append(Step(label, label, number, reply=entry))


def compare(a: Sequence[Step], b: Sequence[Step], threshold: Threshold) -> list[Aligned]:
    """``a``'s steps aligned with ``b``'s by key, each pair with its changes."""
    aligned: list[Aligned] = []
    keys = [step.key for step in a], [step.key for step in b]
    matcher = SequenceMatcher(None, *keys, autojunk=False)
    for tag, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        if tag == "equal":
            for left, right in zip(a[a_start:a_end], b[b_start:b_end], strict=True):
                changes = tuple(changes_between(left, right, threshold))
                status = Status.CHANGED if changes else Status.SAME
                aligned.append(Aligned(status, left, right, changes))
            continue
        aligned += [Aligned(Status.REMOVED, step, None) for step in a[a_start:a_end]]
        aligned += [Aligned(Status.ADDED, None, step) for step in b[b_start:b_end]]
    return aligned


def changes_between(a: Step, b: Step, threshold: Threshold) -> Iterable[Change]:
    """What differs between two aligned steps."""
    sent = a.sent is not None and b.sent is not None and not a.sent.body
    if sent and a.sent.shown() != b.sent.shown():  # type: ignore[union-attr]
        yield Change("command", a.sent.shown(), b.sent.shown())
    if a.reply is not None and b.reply is not None:
        yield from _reply_changes(a.key, a.reply, b.reply, threshold)
    elif (a.reply is None) != (b.reply is None):
        yield Change("reply", _first_line(a.reply), _first_line(b.reply))
    if a.tls_info is not None and b.tls_info is not None:
        yield from _tls_changes(visible_tls(a.tls_info), visible_tls(b.tls_info))


def _first_line(entry: Entry | None) -> str:
    return "" if entry is None else entry.text.split("\n", 1)[0]


def _reply_changes(key: str, a: Entry, b: Entry, threshold: Threshold) -> Iterable[Change]:
    if a.reply is None or b.reply is None:
        if a.text != b.text:
            yield Change("reply", a.text, b.text)
        return
    if a.reply.code != b.reply.code:
        yield Change("code", str(a.reply.code), str(b.reply.code))
    enhanced_a, enhanced_b = a.reply.enhanced, b.reply.enhanced
    if enhanced_a != enhanced_b:
        yield Change("enhanced code", str(enhanced_a or ""), str(enhanced_b or ""))
    if key.split()[0] in ("EHLO", "LHLO") and a.reply.code == b.reply.code == 250:
        yield from _capability_changes(a, b)
    elif _text(a) != _text(b):
        yield Change("text", _text(a), _text(b))
    if a.latency is not None and b.latency is not None and threshold.past(a.latency, b.latency):
        slower = "slower" if b.latency > a.latency else "faster"
        yield Change(f"latency ({slower})", _ms(a.latency), _ms(b.latency))


def _text(entry: Entry) -> str:
    """A reply's text without its codes, its queue id (different for every message) put
    as ``<queue id>``; a SASL challenge (334) as ``<challenge>``: a nonce, new each time."""
    reply = entry.reply
    assert reply is not None
    if reply.code == 334:
        return "<challenge>"
    enhanced = f"{reply.enhanced} " if reply.enhanced else ""
    text = " / ".join(line[4:].removeprefix(enhanced) for line in entry.text.split("\n"))
    queued = queue_id(reply)
    return text.replace(visible(queued), "<queue id>") if queued else text


def _capability_changes(a: Entry, b: Entry) -> Iterable[Change]:
    assert a.reply is not None and b.reply is not None
    before = {ext.keyword: ext for ext in parse_ehlo(a.reply).extensions}
    after = {ext.keyword: ext for ext in parse_ehlo(b.reply).extensions}
    for keyword in dict.fromkeys([*before, *after]):
        old, new = before.get(keyword), after.get(keyword)
        old_text = visible(" ".join((keyword, *old.params))) if old else ""
        new_text = visible(" ".join((keyword, *new.params))) if new else ""
        if old_text != new_text:
            yield Change("capability", old_text, new_text)


def _tls_changes(a: TlsInfo, b: TlsInfo) -> Iterable[Change]:
    pairs = [("TLS version", a.version, b.version), ("cipher", a.cipher, b.cipher)]
    pairs.append(("verified", _yes(a.verified), _yes(b.verified)))
    leaf_a, leaf_b = a.leaf, b.leaf
    if leaf_a is not None and leaf_b is not None:
        pairs += [
            ("certificate subject", leaf_a.subject, leaf_b.subject),
            ("certificate issuer", leaf_a.issuer, leaf_b.issuer),
            ("certificate expiry", f"{leaf_a.not_after:%Y-%m-%d}", f"{leaf_b.not_after:%Y-%m-%d}"),
        ]
    elif (leaf_a is None) != (leaf_b is None):
        pairs.append(("certificate", _subject(a), _subject(b)))
    for what, old, new in pairs:
        if old != new:
            yield Change(what, old or "(none)", new or "(none)")


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _subject(info: TlsInfo) -> str:
    return info.leaf.subject if info.leaf is not None else ""


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def diff_sessions(
    a: Sequence[Transcript], b: Sequence[Transcript], threshold: Threshold | None = None
) -> list[Aligned]:
    """Two sessions (each its connections' transcripts) aligned, with what changed."""
    return compare(steps(a), steps(b), threshold or Threshold())


def differ(aligned: Iterable[Aligned]) -> bool:
    """Whether anything differs (diff(1)'s exit status 1)."""
    return any(each.status is not Status.SAME for each in aligned)


def diff_json(aligned: Iterable[Aligned]) -> list[dict[str, object]]:
    """The aligned steps as JSON-ready dicts: status, each side's label and connection,
    and the changes."""
    return [
        {
            "status": str(each.status),
            "a": None if each.a is None else each.a.label,
            "b": None if each.b is None else each.b.label,
            "connection": [step.connection if step else None for step in (each.a, each.b)],
            "changes": [{"what": c.what, "a": c.a, "b": c.b} for c in each.changes],
        }
        for each in aligned
    ]
