"""Two sessions compared step by step (session/diff.py), without Textual: real sessions
against embedded servers that differ, and hand-made latencies and handshakes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import pytest

from smtptui.server import EmbeddedServer
from smtptui.session import (
    Connect,
    Ehlo,
    EntryKind,
    Quit,
    SendMessage,
    SessionController,
    Transcript,
)
from smtptui.session.diff import (
    Aligned,
    Change,
    Status,
    Threshold,
    diff_json,
    diff_sessions,
    differ,
)

from support.sessions import ready, settings_for

MakeServer = Callable[..., EmbeddedServer]
QUIET = Threshold(0.0, 60_000.0)
"""Latencies a minute apart: timing left out of what the test compares."""


async def session(server: EmbeddedServer, context, *, tls: bool, to: str) -> list[Transcript]:
    controller = SessionController(settings_for(server, context))
    if tls:
        await ready(controller)
    else:
        for action in (Connect(), Ehlo()):
            assert (await controller.run(action)).ok
    await controller.run(SendMessage("a@example.org", (to,), b"Hi\r\n"))
    assert (await controller.run(Quit())).ok
    return list(controller.transcripts)


def find(aligned: Sequence[Aligned], label: str, status: Status | None = None) -> Aligned:
    [found] = [
        each
        for each in aligned
        if each.label.startswith(label) and (status is None or each.status is status)
    ]
    return found


async def test_the_same_session_twice_is_the_same(server: EmbeddedServer, client_tls_context):
    a = await session(server, client_tls_context, tls=True, to="b@example.org")
    b = await session(server, client_tls_context, tls=True, to="b@example.org")
    aligned = diff_sessions(a, b, QUIET)
    assert not differ(aligned), [str(c) for each in aligned for c in each.changes]
    labels = [each.label for each in aligned]
    assert labels[:4] == ["connection 1", "greeting", "EHLO client.example", "STARTTLS"]
    assert "TLS handshake" in labels and "message data" in labels
    # the queue ids differ (0000000001, 0000000002): not a change
    assert find(aligned, "message data").status is Status.SAME


async def test_what_changed_between_two_servers(
    server: EmbeddedServer, make_server: MakeServer, client_tls_context
) -> None:
    other = make_server(starttls=False, data_size_limit=1000, hostname="other.example")
    a = await session(server, client_tls_context, tls=True, to="b@example.org")
    b = await session(other, client_tls_context, tls=False, to="reject@example.org")
    aligned = diff_sessions(a, b, QUIET)
    assert differ(aligned)
    greeting = find(aligned, "greeting")
    assert greeting.status is Status.CHANGED
    assert [change.what for change in greeting.changes] == ["text"]
    ehlo, inside = (each for each in aligned if each.label == "EHLO client.example")
    assert inside.status is Status.REMOVED  # what A offered inside TLS
    assert Change("capability", "SIZE 33554432", "SIZE 1000") in ehlo.changes
    assert Change("capability", "STARTTLS", "") in ehlo.changes
    assert find(aligned, "STARTTLS").status is Status.REMOVED
    assert find(aligned, "TLS handshake").status is Status.REMOVED
    rcpt = find(aligned, "RCPT")
    assert rcpt.status is Status.CHANGED
    assert Change("command", "RCPT TO:<b@example.org>", "RCPT TO:<reject@example.org>") in (
        rcpt.changes
    )
    assert Change("code", "250", "550") in rcpt.changes
    assert Change("enhanced code", "2.1.5", "5.1.1") in rcpt.changes
    assert find(aligned, "message data").status is Status.REMOVED
    assert find(aligned, "QUIT").status is Status.SAME
    [record] = [r for r in diff_json(aligned) if str(r["a"]).startswith("RCPT")]
    assert record["status"] == "changed" and record["connection"] == [1, 1]
    assert {"what": "code", "a": "250", "b": "550"} in record["changes"]


async def test_tls_details_and_slow_replies_are_marked(
    server: EmbeddedServer, client_tls_context
) -> None:
    a = await session(server, client_tls_context, tls=True, to="b@example.org")
    [transcript] = a
    b = Transcript(1)
    for entry in transcript:
        if entry.tls_info is not None and entry.tls_info.leaf is not None:
            leaf = dataclasses.replace(entry.tls_info.leaf, subject="CN=elsewhere.example")
            info = dataclasses.replace(
                entry.tls_info, version="TLSv1.2", cipher="ECDHE-RSA-AES128-GCM-SHA256"
            )
            entry = dataclasses.replace(entry, tls_info=dataclasses.replace(info, chain=(leaf,)))
        elif entry.kind is EntryKind.RECEIVED and entry.text.startswith("221"):
            entry = dataclasses.replace(entry, latency=(entry.latency or 0) + 0.5)
        b.append(entry)
    aligned = diff_sessions(a, [b])
    handshake = find(aligned, "TLS handshake")
    assert Change("TLS version", "TLSv1.3", "TLSv1.2") in handshake.changes
    assert any(change.what == "cipher" for change in handshake.changes)
    assert any(change.what == "certificate subject" for change in handshake.changes)
    quit_ = find(aligned, "QUIT")
    [slower] = quit_.changes
    assert slower.what == "latency (slower)" and slower.b.endswith(" ms")
    assert [each.label for each in aligned if each.status is not Status.SAME] == [
        "TLS handshake",
        "QUIT",
    ]


@pytest.mark.parametrize(
    ("text", "threshold", "pairs"),
    [
        ("2x", Threshold(2.0, 20.0), [((0.001, 0.003), False), ((0.010, 0.040), True)]),
        ("3x", Threshold(3.0, 20.0), [((0.100, 0.250), False), ((0.310, 0.100), True)]),
        ("150ms", Threshold(0.0, 150.0), [((0.010, 0.150), False), ((0.010, 0.170), True)]),
    ],
)
def test_thresholds(text: str, threshold: Threshold, pairs: list) -> None:
    assert Threshold.parse(text) == threshold
    for (before, after), past in pairs:
        assert threshold.past(before, after) is past, (before, after)


@pytest.mark.parametrize("text", ["", "1x", "0ms", "fast", "2", "-3x"])
def test_a_bad_threshold_says_what_it_takes(text: str) -> None:
    with pytest.raises(ValueError, match="a factor over 1"):
        Threshold.parse(text)
