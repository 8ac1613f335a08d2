"""The client's events made by hand, and the transcript entries a Recorder makes of them."""

from __future__ import annotations

import time
from typing import Any

from smtptui.engine.events import Received, Sent, SentKind
from smtptui.protocol.replies import ReplyParser
from smtptui.session import Entry
from smtptui.session.recorder import Recorder


def received(raw: bytes, *, tls: bool = False, unsolicited: bool = False) -> Received:
    [reply] = ReplyParser().feed(raw)
    return Received(reply, time.monotonic(), tls, None if unsolicited else 0.002, unsolicited)


def sent(data: bytes, kind: SentKind = SentKind.COMMAND, note: str = "") -> Sent:
    return Sent(kind, data, time.monotonic(), False, note)


def record(*events: Any) -> list[Entry]:
    recorder = Recorder()
    entries = [recorder.entry(event) for event in events]
    return [entry for entry in entries if entry is not None]
