"""Turns the client's events into transcript entries. What each line sent and each reply
is (which command a reply answers, which line is a SASL response: a secret) is the
dialogue's word, carried by the events; nothing here follows the dialogue itself."""

from __future__ import annotations

from dataclasses import replace

from smtptui.engine.events import (
    ClientEvent,
    Closed,
    Connected,
    Connecting,
    Finding,
    Received,
    Sent,
    SentKind,
    TlsEstablished,
)
from smtptui.engine.hosts import format_host
from smtptui.engine.tls import TlsInfo
from smtptui.protocol.auth import MASK, decode_challenge, split_secret
from smtptui.protocol.errors import ProtocolError
from smtptui.protocol.replies import Reply
from smtptui.session.transcript import (
    Entry,
    EntryKind,
    display_line,
    reply_text,
    wall_clock,
)
from smtptui.session.visible import decoded, visible_tls

FLAG_BARE_LF = "bare LF line endings"
FLAG_NOT_UTF8 = "reply text is not UTF-8"
FLAG_UNSOLICITED = "unsolicited: arrived before any command asked for it"
FLAG_OUT_OF_ORDER = "out of order"


def entry(event: ClientEvent) -> Entry | None:
    """The entry for ``event``; none for a raw wire chunk."""
    match event:
        case Connecting(host=host, port=port, implicit_tls=implicit_tls, route=route, lmtp=lmtp):
            how = " to speak LMTP" if lmtp else ""
            how += " with implicit TLS" if implicit_tls else ""
            way = route or f"to {format_host(host, port)}"
            return _info(event.time, f"Connecting {way}{how}…")
        case Connected(host=host, port=port, peer=peer, elapsed=elapsed):
            where = format_host(host, port)
            reached = format_host(*peer)
            via = f" ({reached})" if reached != where else ""
            entry = _info(event.time, f"Connected to {where}{via}")
            return replace(entry, latency=elapsed)  # shown where reply latencies are
        case Sent():
            return _sent(event)
        case Received():
            return _received(event)
        case TlsEstablished(info=info):
            when = event.time
            return Entry(EntryKind.TLS, when, wall_clock(when), _tls(info), tls=True, tls_info=info)
        case Finding(text=text, data=data):
            return Entry(EntryKind.ERROR, event.time, wall_clock(event.time), text, data)
        case Closed(reason=reason):
            return _info(event.time, f"Connection closed: {reason}")
    return None


def _sent(event: Sent) -> Entry:
    data, command = event.data, event.command
    if event.kind in (SentKind.BODY, SentKind.CHUNK, SentKind.MESSAGE_LINE):
        return Entry(  # its text made from data when read: the message is held once
            EntryKind.SENT,
            event.time,
            wall_clock(event.time),
            None,
            data,
            event.tls,
            body=True,
            typed=event.kind is SentKind.MESSAGE_LINE,
            chunk=event.kind is SentKind.CHUNK,
            command=command,
        )
    if event.kind is SentKind.PROXY:  # binary in v2: shown in words, its bytes kept
        return Entry(EntryKind.SENT, event.time, wall_clock(event.time), event.note, data)
    sasl = event.kind is SentKind.SASL or (command is not None and command.sasl)
    secret = split_secret(data, sasl_due=sasl)
    text = display_line(data)
    redacted = revealed = None
    if secret is not None:
        shown, response = secret
        redacted = event.note or shown + MASK
        revealed = _reveal(response, shown, text)
    flags = (
        (f"{FLAG_OUT_OF_ORDER}: {command.out_of_order}",)
        if command and command.out_of_order
        else ()
    )
    return Entry(
        EntryKind.SENT,
        event.time,
        wall_clock(event.time),
        text,
        data,
        event.tls,
        redacted=redacted,
        revealed=revealed,
        flags=flags,
        command=command,
    )


def _received(event: Received) -> Entry:
    reply, command = event.reply, event.command
    flags = []
    if reply.bare_lf:
        flags.append(FLAG_BARE_LF)
    if not reply.utf8:
        flags.append(FLAG_NOT_UTF8)
    if command is None:
        flags.append(FLAG_UNSOLICITED)
    challenge = command is not None and command.verb == "AUTH" and reply.code == 334
    note = _challenge(reply) if challenge else ""
    if command is not None and command.recipient:  # LMTP: one reply per recipient
        note = f"for {command.recipient}"  # made visible by the entry, as all its text
    return Entry(
        EntryKind.RECEIVED,
        event.time,
        wall_clock(event.time),
        reply_text(reply),
        reply.raw,
        event.tls,
        event.latency,
        reply,
        note=note,
        flags=tuple(flags),
        command=command,
    )


def _info(when: float, text: str) -> Entry:
    return Entry(EntryKind.INFO, when, wall_clock(when), text)


def _challenge(reply: Reply) -> str:
    """A 334 challenge decoded for reading, or "" if it is not base64."""
    try:
        challenge = decode_challenge(reply.message)
    except ProtocolError:
        return ""
    return f"challenge: {decoded(challenge)}" if challenge else "challenge: (empty)"


def _reveal(response: bytes, prefix: str, text: str) -> str:
    """A SASL response decoded for reading, secret visible, after ``prefix``; ``text`` (the
    line as sent) if it is not base64."""
    try:
        secret = decode_challenge(response.strip())
    except ProtocolError:
        return text
    return prefix + (decoded(secret) if secret else "(empty)")


def _tls(info: TlsInfo) -> str:
    """Two lines about a handshake: protocol and cipher; certificate and verification (the
    certificate's names on one line each, whatever LF they hold)."""
    info = visible_tls(info)
    text = f"TLS established: {info.version} {info.cipher} ({info.bits} bits)\n"
    leaf = info.leaf
    if leaf is not None:
        text += f"certificate {leaf.subject or leaf.common_name}"
        if leaf.self_signed:
            text += " (self-signed)"
        elif leaf.issuer:
            text += f" issued by {leaf.issuer}"
        text += "; "
    return text + info.verify_note
