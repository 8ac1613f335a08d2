"""What ``smtptui run`` prints, line by line: the dialogue as swaks prints it, or as JSON
Lines (the JSONL export's records) ending with a summary, under the output options.

The dialogue goes to stdout, errors and notes to stderr. Nothing here prints: each line
goes to an :data:`Echo` (``cli.say``, which makes every line safe for a terminal)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from smtptui.engine.client import SMTPClient
from smtptui.engine.events import ClientEvent, Direction, Progress, Sent, SentKind, WireEvent
from smtptui.protocol.auth import split_secret
from smtptui.session.export import swaks_lines, to_json
from smtptui.session.summary import Summary
from smtptui.session.transcript import Entry, EntryKind
from smtptui.session.visible import json_line

Echo = Callable[[str, str | None, bool], None]
"""Prints one line: its text, its colour (None: the terminal's), and whether it goes to
stderr."""

COLOURS = {"*** ": "red", "=== ": "cyan", "<-  ": "green", "<~  ": "green"}
"""The colour of a line by its swaks marker."""

ERROR = "*** "

_BODY = (SentKind.BODY, SentKind.CHUNK, SentKind.MESSAGE_LINE)

HEX_WIDTH = 16
"""Bytes per line of a --show-raw dump."""


@dataclass(frozen=True, slots=True)
class OutputOptions:
    """``run``'s output flags. ``json``: JSON Lines on stdout (``quiet``: the summary
    alone); ``hide_body``: the message data as one line saying its size (in JSON, its
    record's ``data`` null and ``hidden`` true); ``show_time`` and ``show_raw``: text
    only."""

    json: bool = False
    quiet: bool = False
    hide_body: bool = False
    show_time: bool = False
    show_raw: bool = False

    def conflict(self) -> str | None:
        """Why these flags do not go together, if they do not."""
        flags = (("--show-time", self.show_time), ("--show-raw", self.show_raw))
        shown = " and ".join(flag for flag, on in flags if on)
        if shown and self.quiet:
            return f"{shown}: nothing is shown with --quiet"
        if shown and self.json:
            return f"{shown}: for text output (JSON records carry t, latency and data)"
        return None


class RunOutput:
    """Prints a run as it happens: :meth:`entry` for each transcript entry, :meth:`wire`
    (a client listener) for the wire tap's chunks, :meth:`summary` at the end and
    :meth:`note` for what ``run`` itself says."""

    def __init__(self, options: OutputOptions, echo: Echo) -> None:
        self.options = options
        self._echo = echo
        self._start: float | None = None  # the first entry's time: "since connect"
        self._unsent: list[WireEvent] = []  # written chunks, until their Sent says what they were

    def client(self, **options: Any) -> SMTPClient:
        """A client (the session's client factory) whose wire tap this prints, with
        --show-raw."""
        client = SMTPClient(**options)
        if self.options.show_raw:
            client.add_listener(self.wire)
        return client

    def error(self, text: str) -> None:
        """A line of ``run``'s own about what went wrong, on stderr."""
        self._echo(ERROR + text, COLOURS[ERROR], True)

    def note(self, line: str) -> None:
        """A line of ``run``'s own (``=== …``): on stdout as text, on stderr beside JSON,
        nowhere with --quiet."""
        if not self.options.quiet:
            self._echo(line, COLOURS.get(line[:4]), self.options.json)

    def entry(self, entry: Entry) -> None:
        """One transcript entry: JSON or swaks' lines on stdout, an error's lines on
        stderr (as text, in either mode)."""
        options = self.options
        start = self._start = entry.time if self._start is None else self._start
        if options.json:
            if not options.quiet:
                self._echo(json_line(self._record(entry, start)), None, False)
            if entry.kind is EntryKind.ERROR:
                for line in swaks_lines(entry):
                    self._echo(line, COLOURS[ERROR], True)
            return
        shown = dataclasses.replace(entry, text=hidden(entry)) if self._hides(entry) else entry
        stamp = self._stamp(entry.time, entry.latency)
        for number, line in enumerate(swaks_lines(shown)):
            error = line.startswith(ERROR)
            if options.quiet and not error:
                continue
            colour = COLOURS.get(line[:4])
            if options.show_time:
                line = (stamp if number == 0 else " " * len(stamp)) + line
            self._echo(line, colour, error)

    def summary(self, summary: Summary) -> None:
        """The summary: JSON's last line (with --quiet, its only one); nothing as text."""
        if self.options.json:
            self._echo(json_line(summary.as_json()), None, False)

    def wire(self, event: ClientEvent) -> None:
        """A client event, for --show-raw: each chunk read or written as a hex dump.

        A written chunk waits for the event after it: the client follows each write with
        its Sent at once, which says whether it holds a SASL secret (masked), except the
        pieces of a message, whose Sent comes after the last (or never, if the connection
        is lost): message data, hidden with --hide-body. A large message's progress says
        nothing of the chunks."""
        if isinstance(event, Progress):
            return
        if isinstance(event, WireEvent):
            if event.direction is Direction.SENT:
                self._unsent.append(event)
            else:
                self._dump("R", event.data, event.time)
            return
        unsent, self._unsent = self._unsent, []
        if not unsent:
            return
        sent = event if isinstance(event, Sent) else None
        if sent is None or sent.kind in _BODY:
            if self.options.hide_body:
                size = sum(len(chunk.data) for chunk in unsent)
                self._raw_note(unsent[0].time, f"message data hidden: {size} bytes on the wire")
            else:
                for chunk in unsent:
                    self._dump("W", chunk.data, chunk.time)
            return
        sasl = sent.kind is SentKind.SASL or (sent.command is not None and sent.command.sasl)
        for chunk in unsent:  # one: a pipelined group is one write, too
            secret = split_secret(chunk.data, sasl_due=sasl)
            if secret is None:
                self._dump("W", chunk.data, chunk.time)
                continue
            shown = secret[0].encode("ascii")
            if shown:
                self._dump("W", shown, chunk.time)
            self._raw_note(chunk.time, "the SASL secret and its line end, not shown")

    def _dump(self, direction: str, data: bytes, when: float) -> None:
        stamp = self._stamp(when, None)
        for line in hex_lines(direction, data):
            self._echo(stamp + line if self.options.show_time else line, None, False)

    def _raw_note(self, when: float, text: str) -> None:
        line = f"  W       ({text})"
        self._echo(self._stamp(when, None) + line if self.options.show_time else line, None, False)

    def _hides(self, entry: Entry) -> bool:
        return self.options.hide_body and entry.body

    def _record(self, entry: Entry, start: float) -> dict[str, object]:
        """The entry's JSONL record (secrets redacted); message data hidden if asked."""
        record = to_json(entry, start)
        if self._hides(entry):
            record.pop("encoding", None)
            record.update(text=hidden(entry), data=None, hidden=True)
        return record

    def _stamp(self, when: float, latency: float | None) -> str:
        """``[  0.012s   3.1ms] ``: seconds since the first entry, and a reply's latency."""
        since = when - (self._start if self._start is not None else when)
        lag = f"{latency * 1000:.1f}ms" if latency is not None else ""
        return f"[{since:7.3f}s {lag:>8}] "


def hidden(entry: Entry) -> str:
    """What --hide-body shows for message data: how much of it there is."""
    data = entry.data
    what = "BDAT chunk" if entry.chunk else "message"
    lines = len(data.splitlines())
    return f"({what} hidden: {lines} line{'s' * (lines != 1)}, {len(data)} bytes)"


def hex_lines(direction: str, data: bytes) -> Iterator[str]:
    """``data`` as a hex dump, :data:`HEX_WIDTH` bytes a line, each behind ``direction``
    (R read, W written): offset, hex, and the bytes as ASCII with every other byte a dot."""
    for offset in range(0, len(data), HEX_WIDTH):
        row = data[offset : offset + HEX_WIDTH]
        hexes = " ".join(f"{byte:02x}" for byte in row)
        text = "".join(chr(byte) if 0x20 <= byte < 0x7F else "." for byte in row)
        yield f"  {direction} {offset:04x}: {hexes:<{HEX_WIDTH * 3 - 1}}  {text}"
