"""Exported transcripts read back: smtptui's JSON Lines, and swaks-style text (smtptui's own
``.txt`` export and swaks' output), for ``smtptui open`` and ``smtptui diff``.

Every byte of the file is hostile: each entry is made through :class:`Entry`, which makes its
text visible, and anything that does not parse is a :class:`ReadError` naming the line.
A JSON Lines file gives back all that the export holds (replies re-parsed from their exact
bytes, TLS details and the certificates, timings), so exporting it again gives the same
bytes; swaks text holds only lines, so its entries have no timings and no certificate.
A file is read a chunk of lines at a time (:class:`Reading`): ``smtptui open`` shows the
first entries at once and the rest as they come.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from smtptui.engine.tls import CertificateInfo, TlsInfo
from smtptui.protocol.dialogue import END_OF_DATA, GREETING, Command, split_command
from smtptui.protocol.errors import ProtocolError
from smtptui.protocol.replies import Reply, ReplyParser
from smtptui.session.summary import SUMMARY
from smtptui.session.transcript import Entry, EntryKind, Transcript
from smtptui.session.visible import decoded, visible, visible_tls

T = TypeVar("T")


class ReadError(Exception):
    """A file that cannot be read back: ``line`` (from 1; 0 for the whole file) and why."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(visible(f"{where}: {reason}", one_line=True))
        self.line = line


CHUNK = 500
"""Lines a :meth:`Reading.step` reads by default: a few milliseconds of work, so that an
app reading between frames still answers keys at once."""


def read_transcripts(path: Path) -> list[Transcript]:
    """The transcripts exported to ``path``, JSON Lines or swaks-style text (told apart by
    the first character); raises :class:`ReadError`, never anything else for a bad file."""
    reading = Reading(path)
    while not reading.done:
        reading.step()
    return reading.transcripts


class Reading:
    """A file read back a chunk of lines at a time (:meth:`step`), for ``smtptui open`` to
    show the first entries at once and the rest as they come: every transcript grows as
    :class:`Transcript` does live (its subscribers are told of each entry).

    The file is read whole at once (a read is fast; parsing it is what takes time). A bad
    line stops the reading: :meth:`step` raises :class:`ReadError` naming it, and the
    entries before it stay in the transcripts."""

    def __init__(self, path: Path) -> None:
        name = str(path)
        try:
            data = path.read_bytes()
            mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except OSError as error:
            raise ReadError(name, 0, error.strerror or str(error)) from None
        self._parser: _JsonLines | _TextReader
        self._lines: list[bytes] | list[str]
        if data.lstrip()[:1] == b"{":
            self._parser, self._lines = _JsonLines(name), data.split(b"\n")
        else:
            self._parser, self._lines = _TextReader(name, mtime), _text_lines(decoded(data))
        self._read = 0  # lines read
        self.done = False

    @property
    def transcripts(self) -> list[Transcript]:
        """The transcripts read so far, by connection number."""
        return self._parser.transcripts

    @property
    def progress(self) -> float:
        """The share of the file's lines read, from 0 to 1."""
        return self._read / len(self._lines) if self._lines else 1.0

    def step(self, count: int = CHUNK) -> None:
        """Read the next ``count`` lines (the last step finishes the file); raises
        :class:`ReadError` at a bad line, after adding the entries before it."""
        start = self._read
        self._read = min(start + count, len(self._lines))
        try:
            self._parser.read(self._lines[start : self._read], start + 1)
            if self._read == len(self._lines):
                self._parser.finish()
        except ReadError:
            self._read = len(self._lines)
            raise
        finally:
            self.done = self._read == len(self._lines)


# -- JSON Lines ----------------------------------------------------------------------------


class _JsonLines:
    """JSON Lines read a chunk at a time: each chunk's lines parsed by one ``json.loads``
    (many times faster than one per line), line by line only to name a bad one."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._transcripts: dict[int, Transcript] = {}
        self._waiting: dict[int, Waiting] = {}  # by connection
        self._replies: dict[tuple[bytes, int], Reply] = {}  # repeated replies parsed once
        self._shapes: set[tuple[object, ...]] = set()  # checked: see _check
        self._commands: dict[tuple[str, int], tuple[Command, str]] = {}  # by line: its label
        # (the latest lines only: a session's every RCPT differs, but its MAIL, RSET and DATA
        # lines repeat)
        self._wall: str | None = None  # the latest wall time read, as text and as
        self._when = datetime.min  # a datetime, which the entries that have it share

    @property
    def transcripts(self) -> list[Transcript]:
        return [self._transcripts[number] for number in sorted(self._transcripts)]

    def read(self, lines: Sequence[bytes], first: int) -> None:
        """Lines numbered from ``first``; blank lines are skipped."""
        chosen = [line for line in lines if line.strip()]
        numbers: Sequence[int] = range(first, first + len(lines))
        if len(chosen) < len(lines):
            numbers = [number for number, line in enumerate(lines, first) if line.strip()]
        try:
            records = json.loads(b"[" + b",".join(chosen) + b"]")
        except ValueError:
            records = None
        if isinstance(records, list) and len(records) == len(numbers):
            self._records(zip(numbers, records, strict=True))
            return
        self._records(
            (number, self._decoded(number, line))
            for number, line in zip(numbers, chosen, strict=True)
        )
        raise ReadError(self.name, 0, "not JSON Lines: one JSON object per line")

    def finish(self) -> None:
        """Nothing is left over at the end of JSON Lines."""

    def _decoded(self, number: int, line: bytes) -> object:
        try:
            return json.loads(line)
        except ValueError as error:
            raise ReadError(self.name, number, _reason(error)) from None

    def _records(self, records: Iterable[tuple[int, object]]) -> None:
        """Entries from ``records``, appended a run of one connection's at a time (those
        before a bad record too)."""
        shapes, last = self._shapes, None
        transcript, waiting = Transcript(), {}  # the latest record's connection's
        entries: list[Entry] = []  # its entries not yet appended
        entry_of, add = self._entry, entries.append
        try:
            for number, record in records:
                try:
                    if not isinstance(record, dict):
                        raise ValueError("not a JSON object")
                    if record.get("kind") == SUMMARY:  # run --json's last line: its entries
                        continue
                    shape = (*record, *map(type, record.values()))  # keys, then their types
                    if shape not in shapes:  # a session's records have a handful of shapes
                        _check(record)
                        shapes.add(shape)
                    connection = record.get("connection", 1)
                    if connection != last:
                        if connection < 1:
                            raise ValueError("'connection' must be 1 or more")
                        transcript.extend(entries)
                        entries.clear()
                        if connection not in self._transcripts:
                            self._transcripts[connection] = Transcript(connection)
                        transcript = self._transcripts[connection]
                        waiting = self._waiting.setdefault(connection, {})
                        last = connection
                    add(entry_of(record, waiting))
                except (ValueError, TypeError, KeyError, ProtocolError) as error:
                    raise ReadError(self.name, number, _reason(error)) from None
        finally:
            transcript.extend(entries)

    def _entry(self, record: dict[str, Any], waiting: Waiting) -> Entry:
        """One entry from a record :func:`_check` passed: its types are not looked at
        again, and what repeats (replies, command lines, wall times) is made once."""
        get = record.get
        kind = _KINDS.get(record["kind"])
        if kind is None:
            raise ValueError(f"'kind' must be one of {', '.join(_KINDS)}")
        text, redacted = visible(record["text"]), None  # before a command is made of it
        if get("redacted") is True:
            data, redacted = b"", text
        elif (data := record["data"]) is None:
            raise ValueError("'data' must be str, not NoneType")
        elif get("encoding") == "base64":
            data = base64.b64decode(data, validate=True)
        else:
            data = data.encode("utf-8", "surrogatepass")
        reply = None
        if "code" in record:
            key = (data, record["code"])
            reply = self._replies.get(key) or self._replies.setdefault(key, _reply(*key))
        wall = record["wall"]
        if wall != self._wall:
            self._wall, self._when = wall, _when(wall)
        body = get("body", False)
        if kind is EntryKind.SENT and not body:
            command: Command | None = self._sent(text, get("group", 0), waiting)
        elif kind is EntryKind.RECEIVED and "answers" in record:
            answers, recipient = record["answers"], get("recipient", "")
            command = _answered(_one_line(answers), _one_line(recipient), waiting)
        else:
            command = None
        flags = get("flags")
        info = get("tls_info")
        return _new_entry(
            kind,
            float(get("t", 0.0)),
            self._when,
            text,
            data,
            record["tls"],
            get("latency"),
            reply,
            redacted,
            get("note", ""),
            body,
            tuple(_one_line(_get_item(flag, str, "a flag")) for flag in flags) if flags else (),
            None if info is None else tls_info(info),
            get("typed", False),
            command,
            get("chunk", False),
        )

    def _sent(self, text: str, group: int, waiting: Waiting) -> Command:
        """A command line's :class:`Command` (the same for the same line: it is a value),
        remembered until a reply answers it."""
        commands = self._commands
        known = commands.get((text, group))
        if known is None:
            verb, argument = split_command(text.encode("utf-8", "surrogatepass"))
            command = Command(verb, argument, group)
            if len(commands) >= _COMMANDS_KEPT:
                commands.clear()
            known = commands[text, group] = command, command.label
        command, label = known
        queued = waiting.get(label)
        if queued is None:
            waiting[label] = command
        elif isinstance(queued, deque):
            queued.append(command)
        else:
            waiting[label] = deque((queued, command))
        return command


_COMMANDS_KEPT = 1024
"""Command lines :class:`_JsonLines` keeps made (a few hundred bytes each)."""

Waiting = dict[str, Command | deque[Command]]
"""A connection's commands sent and not yet answered, by label, in the order sent: one
alone as itself (a deque is a few hundred bytes, and most labels are sent once)."""


class _Unfrozen:
    """:class:`Entry`'s slots without its frozen ``__setattr__``: an entry read back is
    filled in as one, then becomes an :class:`Entry` (the same layout, so ``__class__`` may
    change), three times faster than the frozen ``__init__``, which sets each of its 17
    fields through ``object.__setattr__``: a 100,000-entry file makes as many."""

    __slots__ = Entry.__slots__


def _new_entry(
    kind: EntryKind,
    time: float,
    wall: datetime,
    text: str,
    data: bytes,
    tls: bool,
    latency: float | None,
    reply: Reply | None,
    redacted: str | None,
    note: str,
    body: bool,
    flags: tuple[str, ...],
    tls_info: TlsInfo | None,
    typed: bool,
    command: Command | None,
    chunk: bool,
) -> Entry:
    """``Entry(kind, time, ..., chunk=chunk)`` (nothing read back is ``revealed``);
    tests/session/test_reopen.py holds it to the constructor, field by field. Its own
    ``__post_init__`` makes its text visible, called only when a field is not printable
    (the shortcut :func:`~smtptui.session.visible.visible` takes first): most entries read
    back have nothing to make visible, and the call was near a tenth of the reading."""
    entry: Any = _Unfrozen.__new__(_Unfrozen)
    entry.kind = kind
    entry.time = time
    entry.wall = wall
    entry.text = text
    entry.data = data
    entry.tls = tls
    entry.latency = latency
    entry.reply = reply
    entry.redacted = redacted
    entry.note = note
    entry.body = body
    entry.revealed = None
    entry.flags = flags
    entry.tls_info = tls_info
    entry.typed = typed
    entry.command = command
    entry.chunk = chunk
    entry.__class__ = Entry
    if redacted is not None or not (text.isprintable() and note.isprintable()):
        entry.__post_init__()
    return entry  # type: ignore[no-any-return]


def _text_lines(text: str) -> list[str]:
    """swaks text's lines, without the newline that ends the last one."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


_NUMBER = (int, float)
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "kind": str,
    "wall": str,
    "t": _NUMBER,
    "tls": bool,
    "latency": (*_NUMBER, type(None)),
    "text": str,
    "code": int,
    "note": str,
    "body": bool,
    "typed": bool,
    "chunk": bool,
    "group": int,
    "answers": str,
    "recipient": str,
    "flags": list,
    "tls_info": dict,
    "data": (str, type(None)),
    "encoding": str,
    "redacted": bool,
    "connection": int,
}
"""The type of each field of an exported entry (others are ignored, as ``hidden``)."""
_REQUIRED = ("kind", "wall", "tls", "text")
_KINDS = {str(kind): kind for kind in EntryKind}


def _check(record: dict[str, Any]) -> None:
    """Every field known holds its type (a bool is no number here); the required are there.
    Done once per shape (the keys and their values' types), which a session has a handful of."""
    for key, value in record.items():
        kind = _FIELDS.get(key)
        if kind is None:
            continue
        if not isinstance(value, kind) or (value.__class__ is bool and kind is not bool):
            raise ValueError(f"{key!r} must not be {type(value).__name__}")
    for key in _REQUIRED:
        if key not in record:
            raise KeyError(key)


def _one_line(text: str) -> str:
    """A name read from the file (a flag, the command a reply answers) as it may be shown:
    :func:`visible` on one line, as the entry's own text is made visible."""
    return visible(text, one_line=True)


def _reason(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"missing field {error.args[0]!r}"
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8"
    return str(error) or type(error).__name__


def _get(record: dict[str, Any], key: str, kind: type[T], default: T | None = None) -> T:
    """``record[key]`` if it is a ``kind`` (``default`` when absent and one is given)."""
    if key not in record and default is not None:
        return default
    value = record[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{key!r} must be {kind.__name__}, not {type(value).__name__}")
    return value


def _when(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _reply(data: bytes, code: int) -> Reply:
    """The one reply ``data`` holds, which must have ``code``."""
    parser = ReplyParser()
    replies = parser.feed(data)
    parser.eof()
    if len(replies) != 1 or replies[0].code != code:
        raise ValueError(f"'data' is not one reply with code {code}")
    return replies[0]


def _answered(label: str, recipient: str, waiting: Waiting) -> Command:
    """The command a reply ``answers``: the same object as its line's (so pipelined groups
    show as sent), or, if no line sent is waiting for it, one made from its label."""
    queued = waiting.get(label)
    if isinstance(queued, deque):
        command = queued.popleft()
        if not queued:
            del waiting[label]
        return command
    if queued is not None:
        del waiting[label]
        return queued
    return command_of(label.removesuffix(f" for {recipient}") if recipient else label, recipient)


def command_of(label: str, recipient: str = "") -> Command:
    """The :class:`Command` whose ``label`` is ``label`` (a reply's ``answers``)."""
    if label == "greeting":
        return GREETING
    if label == "message data":
        return Command(END_OF_DATA, recipient=recipient)
    verb, _, argument = label.partition(" ")
    return Command(verb, argument, recipient=recipient)


def tls_info(record: dict[str, Any]) -> TlsInfo:
    """A handshake's details from the export's ``tls_info``, every name in them
    :func:`visible <smtptui.session.visible.visible_tls>` (the diff shows them as text)."""
    return visible_tls(
        TlsInfo(
            version=_get(record, "version", str),
            cipher=_get(record, "cipher", str),
            bits=_get(record, "bits", int),
            server_hostname=record.get("server_hostname") and _get(record, "server_hostname", str),
            chain=tuple(
                _certificate(_get_item(item, dict, "a certificate"))
                for item in _get(record, "chain", list)
            ),
            verified=_get(record, "verified", bool),
            verify_note=_get(record, "verify_note", str),
            whole_chain=_get(record, "whole_chain", bool, True),
        )
    )


def _get_item(value: object, kind: type[T], what: str) -> T:
    if not isinstance(value, kind):
        raise ValueError(f"{what} must be {kind.__name__}")
    return value


def _certificate(record: dict[str, Any]) -> CertificateInfo:
    """A certificate from its DER when the export holds it (since ``der`` was added), else
    from the facts exported (older files: no PEM to save)."""
    if "der" in record:
        try:
            der = base64.b64decode(_get(record, "der", str), validate=True)
        except binascii.Error:
            raise ValueError("a certificate's 'der' is not base64") from None
        try:
            return CertificateInfo.from_der(der)
        except ValueError as error:
            raise ValueError(f"a certificate's 'der' is not a certificate: {error}") from None
    subject = _get(record, "subject", str)
    common_name = re.search(r"(?:^|,)CN=((?:[^,\\]|\\.)*)", subject)
    return CertificateInfo(
        subject=subject,
        issuer=_get(record, "issuer", str),
        common_name=common_name[1] if common_name else "",
        sans=tuple(_get_item(name, str, "a SAN") for name in _get(record, "sans", list)),
        not_before=_when(_get(record, "not_before", str)),
        not_after=_when(_get(record, "not_after", str)),
        serial=int(_get(record, "serial", str), 16),
        sha256=_get(record, "fingerprint", str).replace(":", "").upper(),
        self_signed=_get(record, "self_signed", bool),
        key_type=_get(record, "key_type", str),
        key_bits=_get(record, "key_bits", int),
        curve=_get(record, "curve", str),
        signature_algorithm=_get(record, "signature_algorithm", str),
        is_ca=_get(record, "is_ca", bool),
        ca_issuers=tuple(
            _get_item(url, str, "a caIssuers URL") for url in _get(record, "ca_issuers", list)
        ),
        der=b"",
    )


# -- swaks-style text ----------------------------------------------------------------------

_SENT = {" -> ": False, " ~> ": True}
_RECEIVED = {"<-  ": False, "<~  ": True, "<** ": False, "<~* ": True}  # <**: swaks' refusals
_INFO, _ERROR = "=== ", "*** "
_HEADING = re.compile(r"=== connection (\d+)(?:: (.*))?$")
_LAST_LINE = re.compile(r"\d{3}(?: |$)")  # a reply's last line: the code, then a space


def parse_swaks(text: str, name: str = "<text>", when: datetime | None = None) -> list[Transcript]:
    """The transcripts of swaks-style text: each reply's lines as one entry, a message after
    354 up to its ``.`` as one body, ``=== connection N: title`` starting a transcript.
    There are no timings: every entry is stamped ``when`` (the file's time)."""
    builder = _TextReader(name, when or datetime.now(UTC))
    builder.read(_text_lines(text), 1)
    builder.finish()
    return builder.transcripts


class _TextReader:
    """swaks text read a chunk of lines at a time; a reply or a message may span chunks."""

    def __init__(self, name: str, when: datetime) -> None:
        self.name, self.when = name, when
        self.replies: dict[bytes, Reply] = {}  # a session repeats its replies: parsed once
        self.transcripts: list[Transcript] = []
        self.reply: list[str] = []  # lines of a reply not yet complete
        self.reply_tls = False
        self.reply_start = 0
        self.body: list[str] | None = None  # lines of a message after 354, until its dot
        self.body_tls = False
        self.errors: list[str] = []

    @property
    def current(self) -> Transcript:
        if not self.transcripts:
            self.transcripts.append(Transcript(1))
        return self.transcripts[-1]

    def add(self, kind: EntryKind, text: str, data: bytes = b"", **fields: Any) -> None:
        self.current.append(Entry(kind, 0.0, self.when, text, data, **fields))

    def read(self, lines: Sequence[str], first: int) -> None:
        """Lines numbered from ``first``."""
        for number, line in enumerate(lines, first):
            self.line(number, line.removesuffix("\r"))

    def line(self, number: int, line: str) -> None:
        marker, rest = line[:4], line[4:]
        if marker in _RECEIVED:
            self._received(number, rest, _RECEIVED[marker])
            return
        if self.reply:
            reason = "a reply's lines end without its last line"
            raise ReadError(self.name, self.reply_start, reason)
        if marker == _ERROR:
            self.errors.append(rest)
            return
        self._flush_errors()
        if marker in _SENT:
            self._sent(rest, _SENT[marker])
            return
        self._flush_body()
        heading = _HEADING.match(line)
        if heading is not None:
            self.transcripts.append(Transcript(int(heading[1]), heading[2] or ""))
        elif marker == _INFO:
            self.add(EntryKind.INFO, rest)
        elif line:
            raise ReadError(self.name, number, f"not a transcript line: {line[:60]!r}")

    def _received(self, number: int, rest: str, tls: bool) -> None:
        self._flush_errors()
        self._flush_body()
        if not self.reply:
            self.reply_tls, self.reply_start = tls, number
        self.reply.append(rest)
        if not _LAST_LINE.match(rest):
            return
        lines, self.reply = self.reply, []
        data = "".join(line + "\r\n" for line in lines).encode("utf-8", "surrogatepass")
        reply = self.replies.get(data) or self.replies.setdefault(data, self._reply(data))
        self.add(EntryKind.RECEIVED, "\n".join(lines), data, tls=self.reply_tls, reply=reply)
        if reply.code == 354:
            self.body, self.body_tls = [], tls

    def _reply(self, data: bytes) -> Reply:
        try:
            replies = ReplyParser().feed(data)
        except ProtocolError as error:
            raise ReadError(self.name, self.reply_start, f"not a reply: {error}") from None
        if len(replies) != 1:
            raise ReadError(self.name, self.reply_start, "not one reply")
        return replies[0]

    def _sent(self, rest: str, tls: bool) -> None:
        if self.body is None:
            self.add(
                EntryKind.SENT, rest, (rest + "\r\n").encode("utf-8", "surrogatepass"), tls=tls
            )
        elif rest == ".":
            lines, self.body = self.body, None
            text = "\n".join(lines)
            data = "".join(line + "\r\n" for line in lines).encode("utf-8", "surrogatepass")
            self.add(EntryKind.SENT, text, data, tls=self.body_tls, body=True)
        else:
            self.body.append(rest)

    def _flush_body(self) -> None:
        """Lines after 354 that no dot ended: each as it was, a line sent."""
        lines, self.body = self.body or [], None
        for line in lines:
            self._sent(line, self.body_tls)

    def _flush_errors(self) -> None:
        if self.errors:
            self.add(EntryKind.ERROR, "\n".join(self.errors))
            self.errors = []

    def finish(self) -> None:
        """The end of the file: a message no dot ended and errors last are added."""
        if self.reply:
            raise ReadError(self.name, self.reply_start, "the file ends in the middle of a reply")
        self._flush_errors()
        self._flush_body()
