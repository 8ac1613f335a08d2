"""The client's events made by hand, and the transcript entries the recorder makes of them."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from smtptui.engine.events import ClientEvent, Received, Sent, SentKind
from smtptui.protocol.dialogue import GREETING, Dialogue, Phase
from smtptui.protocol.replies import ReplyParser
from smtptui.session import Entry
from smtptui.session.recorder import entry


def received(raw: bytes, *, tls: bool = False, unsolicited: bool = False) -> Received:
    """A reply; :func:`record` says what it answers, unless it is ``unsolicited``."""
    [reply] = ReplyParser().feed(raw)
    command = None if unsolicited else GREETING
    latency = None if unsolicited else 0.002
    return Received(reply, time.monotonic(), tls, latency, command, Phase.READY)


def sent(data: bytes, kind: SentKind = SentKind.COMMAND, note: str = "") -> Sent:
    return Sent(kind, data, time.monotonic(), False, note)


def record(*events: Any) -> list[Entry]:
    """The entries for ``events``, which a greeted dialogue follows as the client's would:
    it says what each line sent is and what each reply answers (a NOOP, if nothing)."""
    dialogue = Dialogue()
    dialogue.receive_data(b"220 greeted\r\n")
    dialogue.next_event()
    entries = [entry(_followed(dialogue, event)) for event in events]
    return [item for item in entries if item is not None]


def _followed(dialogue: Dialogue, event: ClientEvent) -> ClientEvent:
    match event:
        case Sent(kind=SentKind.BODY):
            return dataclasses.replace(event, command=dialogue.send_message())
        case Sent(kind=SentKind.COMMAND | SentKind.SASL | SentKind.RAW):
            return dataclasses.replace(event, command=dialogue.send(event.data))
        case Received(command=None):
            return event
        case Received():
            if not dialogue.awaiting:  # a reply on its own: say it answers a NOOP
                dialogue.send(b"NOOP\r\n")
            dialogue.receive_data(event.reply.raw)
            answer = dialogue.next_event()
            assert answer is not None
            return dataclasses.replace(event, command=answer.command, phase=answer.phase)
    return event
