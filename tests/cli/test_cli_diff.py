"""``smtptui diff A B`` as a real process on real sessions' exports: its text, --json, and
diff(1)'s exit statuses (0 the same, 1 different, 2 trouble); ``smtptui open`` on a file
it cannot read."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from smtptui.server import EmbeddedServer
from smtptui.session import ExportFormat, Quit, SendMessage, SessionController, write_export

from support.processes import smtptui
from support.sessions import ready, settings_for

MakeServer = Callable[..., EmbeddedServer]


async def saved(server: EmbeddedServer, context, path: Path, to: str = "b@example.org") -> Path:
    controller = SessionController(settings_for(server, context))
    await ready(controller)
    await controller.run(SendMessage("a@example.org", (to,), b"Hi\r\n"))
    assert (await controller.run(Quit())).ok
    fmt = ExportFormat.JSONL if path.suffix == ".jsonl" else ExportFormat.SWAKS
    write_export(path, list(controller.transcripts), fmt)
    return path


async def test_two_sessions_that_differ(
    server: EmbeddedServer, client_tls_context, tmp_path: Path
) -> None:
    a = await saved(server, client_tls_context, tmp_path / "a.jsonl")
    b = await saved(server, client_tls_context, tmp_path / "b.jsonl", to="reject@example.org")
    status, out, err = await smtptui("diff", "--no-color", "--slower", "60000ms", str(a), str(b))
    assert (status, err) == (1, "")
    lines = out.splitlines()
    assert lines[:2] == [f"--- {a}", f"+++ {b}"]
    assert "~ RCPT TO:<b@example.org>" in lines
    assert "      code: 250 → 550" in lines
    assert "      enhanced code: 2.1.5 → 5.1.1" in lines
    assert "~ DATA" in lines and "      code: 354 → 503" in lines  # pipelined: DATA went
    assert "- message data   250 2.0.0 Ok: queued as 0000000001" in lines
    assert "+ RSET   250 2.0.0 Ok" in lines
    assert "\x1b" not in out
    assert lines[-1] == "2 changed, 1 only in A, 1 only in B, 8 the same"


async def test_the_same_session_exits_0_and_json_says_so(
    server: EmbeddedServer, client_tls_context, tmp_path: Path
) -> None:
    a = await saved(server, client_tls_context, tmp_path / "a.jsonl")
    b = await saved(server, client_tls_context, tmp_path / "b.jsonl")
    status, out, _ = await smtptui("diff", "--json", "--slower", "60000ms", str(a), str(b))
    record = json.loads(out)
    assert status == 0 and record["same"] is True and record["slower"] == "60000 ms"
    assert {step["status"] for step in record["steps"]} == {"same"}
    assert record["steps"][1] == {
        "status": "same",
        "a": "greeting",
        "b": "greeting",
        "connection": [1, 1],
        "changes": [],
    }
    text = await saved(server, client_tls_context, tmp_path / "c.txt")  # swaks text
    status, out, _ = await smtptui("diff", "--no-color", str(text), str(b))
    assert status == 1 and "- TLS handshake" not in out and "+ TLS handshake" in out
    status, out, _ = await smtptui("diff", "--no-color", str(text), str(text))
    assert status == 0 and out.splitlines()[-1].startswith("the same: ")


@pytest.mark.parametrize("command", ["diff", "open"])
async def test_an_unreadable_file_is_trouble(tmp_path: Path, command: str) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\n{oops\x1b[2J\n")
    args = [str(bad), str(bad)] if command == "diff" else [str(bad)]
    status, out, err = await smtptui(command, *args)
    assert status == 2 and out == ""
    assert err.startswith(f"error: {bad}:2: Expecting property name")
    assert "Traceback" not in err


async def test_a_bad_threshold_is_trouble(tmp_path: Path) -> None:
    status, _, err = await smtptui("diff", "--slower", "soon", "a", "b")
    assert status == 2 and "a factor over 1" in err


async def test_run_json_output_is_compared_as_its_entries_without_auth_noise(
    server: EmbeddedServer, cafile: str, tmp_path: Path
) -> None:
    """What `smtptui run --json` printed (its summary line last) diffs as a session; the
    CRAM-MD5 challenge, a new nonce each time, is not a change."""
    outputs = []
    for to in ("b@example.org", "unknown@example.org"):
        status, out, _ = await smtptui(
            "run", f"{server.host}:{server.port}", "--cafile", cafile, "--to", to,
            "--user", "alice", "--auth", "CRAM-MD5", "--json",
            env={**os.environ, "SMTPTUI_PASSWORD": "wonderland"},
        )  # fmt: skip
        outputs.append(tmp_path / f"{to.partition('@')[0]}.jsonl")
        outputs[-1].write_text(out)
    a, b = map(str, outputs)
    status, out, err = await smtptui("diff", "--no-color", "--slower", "60000ms", a, b)
    assert (status, err) == (1, "")
    assert "~ RCPT TO:<b@example.org>" in out and "      code: 250 → 550" in out
    assert "  AUTH CRAM-MD5" in out.splitlines()  # the same, challenge and all
