"""The server's side of a connection as a transcript (`session.server_side`): a real client
session against the embedded server, its events turned into entries that read as the
client's own transcript does, without Textual."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable

from smtptui.engine import SMTPClient
from smtptui.server import EmbeddedServer
from smtptui.server.events import ClientGone, ServerEvent
from smtptui.session import SessionController
from smtptui.session.actions import Authenticate, Quit, SendMessage
from smtptui.session.export import swaks_lines
from smtptui.session.server_side import FLAG_RULE, FLAG_UNENDED, ServerSessions, ServerSide
from smtptui.session.transcript import DIALOGUE, Entry, EntryKind

from support.hostile import HOSTILE, raw
from support.sessions import ready, settings_for

STEP_TIMEOUT = 5.0


async def ended(events: list[ServerEvent], count: int = 1) -> None:
    """Wait until ``count`` connections have ended on the server (it tells on its thread)."""
    async with asyncio.timeout(STEP_TIMEOUT):
        while sum(isinstance(event, ClientGone) for event in events) < count:
            await asyncio.sleep(0.01)


def watched(make_server: Callable[..., EmbeddedServer], **kwargs: object):
    events: list[ServerEvent] = []
    return make_server(on_event=events.append, **kwargs), events


def sides(events: list[ServerEvent]) -> dict[int, ServerSide]:
    sessions = ServerSessions()
    for event in events:
        sessions.take(event)
    return sessions.sessions


def dialogue(entries) -> list[tuple[EntryKind, bool, bytes, str]]:
    """What was said, in order: who, inside TLS or not, the exact bytes, what a reply
    answers."""
    return [
        (e.kind, e.tls, e.data, e.command.label if e.kind is EntryKind.RECEIVED else "")
        for e in entries
        if e.kind in (EntryKind.SENT, EntryKind.RECEIVED)
    ]


async def test_the_servers_transcript_says_what_the_clients_says(
    make_server, client_tls_context: ssl.SSLContext
) -> None:
    server, events = watched(make_server)
    controller = SessionController(settings_for(server, client_tls_context))
    await ready(controller)
    assert (await controller.run(Authenticate("PLAIN"))).ok
    message = SendMessage("a@example.org", ("reject@example.org", "b@example.org"), b"Hi\r\n")
    assert (await controller.run(message)).ok
    assert (await controller.run(Quit())).ok
    await ended(events)
    [side] = sides(events).values()
    [client] = controller.transcripts
    assert dialogue(side.transcript) == dialogue(client)  # same bytes, same commands answered
    entries = list(side.transcript)
    markers = {swaks_lines(e)[0][:4] for e in entries if e.kind in DIALOGUE}
    assert markers == {" -> ", "<-  ", " ~> ", "<~  ", "=== "}  # as the client's view
    [auth] = [e for e in entries if e.text.startswith("AUTH PLAIN")]
    assert auth.secret and "••" in auth.shown() and b"AUTH PLAIN " in auth.data
    [rule] = [e for e in entries if FLAG_RULE in e.flags]
    assert rule.kind is EntryKind.ERROR and rule.text.startswith("Rule fired at rcpt: 550 5.1.1")
    after = entries[entries.index(rule) + 1]
    assert after.reply is not None and after.reply.code == 550  # the reply it made
    [tls] = [e for e in entries if e.kind is EntryKind.TLS]
    assert tls.tls_info is not None and tls.tls_info.version.startswith("TLS")
    assert entries[0].text.startswith(f"Connection from {side.peer} to ")
    assert entries[-1].text == "Connection closed: after QUIT"
    assert (side.ehlo, side.state, side.rules) == ("client.example", "closed", 1)
    [taken] = side.messages
    assert (taken.mail_from, taken.rcpt_tos, taken.data) == (
        "a@example.org",
        ("b@example.org",),
        b"Hi\r\n",
    )


async def test_implicit_tls_and_bdat(make_server, client_tls_context) -> None:
    server, events = watched(make_server, implicit_tls=True)
    client = SMTPClient(server.host, server.port, implicit_tls=True, ssl_context=client_tls_context)
    await client.connect()
    await client.ehlo("client.example")
    await client.sendmail("a@example.org", ["b@example.org"], b"Hi\r\n.dot\r\n", chunking=4)
    await client.quit()
    await ended(events)
    [side] = sides(events).values()
    entries = list(side.transcript)
    assert entries[1].kind is EntryKind.TLS  # before the greeting
    assert all(e.tls for e in entries if e.kind in (EntryKind.SENT, EntryKind.RECEIVED))
    chunks = [e.data for e in entries if e.chunk]
    assert b"".join(chunks) == b"Hi\r\n.dot\r\n" and len(chunks) > 1  # as sent: no stuffing
    replies = [e for e in entries if e.kind is EntryKind.RECEIVED]
    assert replies[-2].command is not None and replies[-2].command.ends_message  # BDAT LAST


async def test_a_hostile_client_is_written_out_and_every_byte_kept(make_server) -> None:
    server, events = watched(make_server, starttls=False)
    reader, writer = await asyncio.open_connection(server.host, server.port)
    await reader.readline()
    for line in (b"EHLO evil" + HOSTILE + b".example\r\n", b"X" + HOSTILE + b"\r\n"):
        writer.write(line)
        while (await reader.readline())[3:4] == b"-":
            pass
    writer.write(b"NOOP with no end")
    await writer.drain()
    writer.close()
    await ended(events)
    [side] = sides(events).values()
    entries: list[Entry] = list(side.transcript)
    shown = "\n".join(line for e in entries for line in swaks_lines(e)) + side.ehlo
    assert raw(shown) == set(), shown
    assert r"\x1b]0;pwned\x07" in side.ehlo and r"\x1b]0;pwned\x07" in shown
    sent = [e.data for e in entries if e.kind is EntryKind.SENT]
    assert sent[:2] == [b"EHLO evil" + HOSTILE + b".example\r\n", b"X" + HOSTILE + b"\r\n"]
    [unended] = [e for e in entries if FLAG_UNENDED in e.flags]
    assert unended.data == b"NOOP with no end"
    assert entries[-1].text == "Connection closed: the client hung up"
