"""``smtptui serve --jsonl DIR`` as a real process: each session written when it ends, one
file a session, read back by ``smtptui open``'s reader as the same commands and replies."""

from __future__ import annotations

import asyncio
from pathlib import Path

from smtptui.engine import SMTPClient
from smtptui.session.reopen import read_transcripts
from smtptui.session.transcript import EntryKind

from support.processes import serving, smtptui_sync

RESPONSE = "YWxpY2Ug"
"""The start of alice's CRAM-MD5 response (base64 of ``alice ``), the secret line."""
WAIT = 10.0
"""Seconds a file may take to appear once its session is over."""


async def files_in(directory: Path, count: int) -> list[Path]:
    async with asyncio.timeout(WAIT):
        while len(found := sorted(directory.glob("*.jsonl"))) < count:
            await asyncio.sleep(0.02)
    return found


async def session(port: int) -> list[tuple[str, str]]:
    """A whole client session: EHLO, STARTTLS (unverified: serve's own certificate), AUTH,
    a message, QUIT; what it said, as (kind, text)."""
    client = SMTPClient("127.0.0.1", port, verify=False)
    said: list[tuple[str, str]] = []
    client.add_listener(lambda event: said.append(_said(event)))
    await client.connect()
    await client.ehlo("client.example")
    await client.starttls()
    await client.ehlo("client.example")
    await client.login("alice", "wonderland")
    await client.sendmail("a@example.org", ["b@example.org"], b"Subject: hi\r\n\r\nHi.\r\n")
    await client.quit()
    return [pair for pair in said if pair[0]]


def _said(event: object) -> tuple[str, str]:
    from smtptui.engine.events import Received, Sent, SentKind

    if isinstance(event, Sent) and event.kind is not SentKind.SASL:  # a secret
        return "sent", event.data.decode()
    if isinstance(event, Received):
        return "received", event.reply.raw.decode()
    return "", ""


async def test_each_session_is_a_file_that_open_reads(tmp_path: Path) -> None:
    with serving("--jsonl", str(tmp_path)) as served:
        said = await session(served.port)
        await session(served.port)
        first, second = await files_in(tmp_path, 2)
    assert first.name < second.name and first.name.startswith("serve-")
    [transcript] = read_transcripts(first)
    entries = list(transcript)
    read = [
        (str(e.kind), e.data.decode())
        for e in entries
        if e.kind in (EntryKind.SENT, EntryKind.RECEIVED) and not e.secret
    ]
    assert read == said
    [auth] = [e for e in entries if e.secret]
    assert auth.data == b"" and RESPONSE not in first.read_text()  # redacted
    assert next(e.text for e in entries if e.kind is EntryKind.TLS).startswith("TLS established")


async def test_secrets_are_kept_when_asked(tmp_path: Path) -> None:
    with serving("--jsonl", str(tmp_path), "--jsonl-secrets") as served:
        await session(served.port)
        [path] = await files_in(tmp_path, 1)
    [transcript] = read_transcripts(path)
    assert not any(e.secret for e in transcript) and RESPONSE in path.read_text()


def test_a_directory_that_is_not_there_is_a_usage_error(tmp_path: Path) -> None:
    result = smtptui_sync("serve", "--jsonl", str(tmp_path / "nowhere"))
    assert result.returncode == 2 and "does not exist" in result.stderr
    result = smtptui_sync("serve", "--ui", "--stdio")
    assert result.returncode == 2 and "not both" in result.stderr
