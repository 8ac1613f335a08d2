"""``smtptui run``'s output modes as a script reads them: --json checked against the schema
in the repository, --quiet, -n/--hide-body, --show-time and --show-raw; real processes
against the embedded server (``--demo``) and scripted servers where a failure is needed."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import pytest

from smtptui.cli_output import hex_lines
from smtptui.protocol.queue_id import queue_id
from smtptui.session import Exit

from support.fixtures import wire_files, wire_replies
from support.hostile import hostile_server, raw
from support.processes import smtptui_run
from support.schemas import validator
from support.scripted import ScriptedServer, dialogue

pytestmark = pytest.mark.timeout(60)

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "run.schema.json"
PASSWORD_FORMS = ("wonderland", "d29uZGVybGFuZA==", "AGFsaWNlAHdvbmRlcmxhbmQ=")
"""The demo user's password, LOGIN's base64 of it, and PLAIN's base64 of its credentials."""
SCRIPTED = ("--plain", "--from", "alice@example.org", "--to", "bob@example.org")
STAMP = re.compile(r"\[ *\d+\.\d{3}s +(\d+\.\dms)?\] ")
HEX = re.compile(r"  ([RW]) [0-9a-f]{4}: ((?:[0-9a-f]{2} )*[0-9a-f]{2}) *  (.*)")


def json_lines(out: str) -> tuple[list[dict], dict]:
    """stdout as JSON Lines, each valid against the schema: the entries and the summary
    (the last line, the only one whose kind is summary)."""
    records = [json.loads(line) for line in out.splitlines()]
    for record in records:
        validator("run.schema.json").validate(record)
    *entries, summary = records
    assert summary["kind"] == "summary"
    assert all(entry["kind"] != "summary" for entry in entries)
    return entries, summary


def demo_env(password: str = "wonderland") -> dict[str, str]:
    return {**os.environ, "SMTPTUI_PASSWORD": password}


# -- --json ----------------------------------------------------------------------------------


def test_the_schema_knows_every_exit_status_and_its_stage() -> None:
    summary = json.loads(SCHEMA.read_text("utf-8"))["$defs"]["summary"]["properties"]
    assert summary["exit_code"]["enum"] == [status.value for status in Exit]
    stages = [None, *(status.name.lower() for status in Exit if status is not Exit.OK)]
    assert summary["stage"]["enum"] == stages


async def test_json_is_the_export_records_then_a_summary_of_a_message_sent() -> None:
    status, out, err = await smtptui_run("--demo", "--json", env=demo_env())
    assert status == Exit.OK, err
    entries, summary = json_lines(out)
    assert [entry["kind"] for entry in entries[:2]] == ["info", "info"]  # connecting, connected
    assert any(entry.get("body") for entry in entries)
    assert summary["ok"] is True and summary["exit_code"] == 0 and summary["stage"] is None
    assert summary["accepted"] == ["bob@smtptui.demo"] and summary["refused"] == {}
    assert re.fullmatch(r"[0-9A-F]{10}", summary["queue_id"])
    assert f"queued as {summary['queue_id']}" in entries[-4]["text"]  # before QUIT, 221, closed
    assert summary["tls"]["verified"] is True and "chain" not in summary["tls"]
    timings = summary["timings"]
    assert 0 <= timings["connect_ms"] <= timings["total_ms"]
    assert timings["replies"][-1]["answers"] == "QUIT"
    assert not any(form in out + err for form in PASSWORD_FORMS)
    assert "*** " not in err and err.startswith("=== Demo server on ")  # notes beside JSON


async def test_json_of_a_refused_recipient_exits_24_with_the_refusal_on_stderr() -> None:
    status, out, err = await smtptui_run("--demo", "--json", "--to", "unknown@smtptui.demo")
    assert status == Exit.RCPT
    entries, summary = json_lines(out)
    assert summary["ok"] is False and summary["exit_code"] == 24 and summary["stage"] == "rcpt"
    assert summary["accepted"] == [] and summary["queue_id"] is None
    [(address, (code, text))] = summary["refused"].items()
    assert (address, code) == ("unknown@smtptui.demo", 550) and "User unknown" in text
    assert any(entry["kind"] == "error" for entry in entries)  # in the JSON, and as text:
    assert "*** every recipient refused: unknown@smtptui.demo (550 5.1.1 " in err


async def test_json_of_an_auth_failure_exits_28() -> None:
    status, out, _ = await smtptui_run("--demo", "--json", env=demo_env("not-the-password"))
    assert status == Exit.AUTH
    _, summary = json_lines(out)
    assert (summary["ok"], summary["exit_code"], summary["stage"]) == (False, 28, "auth")
    assert "not-the-password" not in out


async def test_json_of_quit_after_rcpt_is_ok_without_a_queue_id() -> None:
    status, out, _ = await smtptui_run("--demo", "--json", "--quit-after", "rcpt")
    assert status == Exit.OK
    entries, summary = json_lines(out)
    assert summary["ok"] is True and summary["exit_code"] == 0
    assert summary["accepted"] == ["bob@smtptui.demo"] and summary["queue_id"] is None
    assert not any(entry.get("body") for entry in entries)


@pytest.mark.parametrize("path", wire_files("*-data.bin"), ids=lambda path: path.stem)
async def test_the_queue_id_is_read_as_each_captured_server_words_it(path: Path) -> None:
    """A scripted server answers the dot with the reply a real MTA sent (tests/data/wire)."""
    final = wire_replies(path)[-1]
    async with ScriptedServer(dialogue({".": final.raw})) as server:
        status, out, err = await smtptui_run(f"{server.host}:{server.port}", *SCRIPTED, "--json")
    assert status == Exit.OK, err
    _, summary = json_lines(out)
    assert summary["queue_id"] == queue_id(final) is not None
    assert summary["tls"] is None and summary["accepted"] == ["bob@example.org"]


async def test_json_of_a_message_refused_after_the_dot_exits_26() -> None:
    async with ScriptedServer(dialogue({".": b"554 5.7.1 spam\r\n"})) as server:
        status, out, err = await smtptui_run(f"{server.host}:{server.port}", *SCRIPTED, "--json")
    assert status == Exit.DOT
    _, summary = json_lines(out)
    assert (summary["ok"], summary["stage"], summary["queue_id"]) == (False, "dot", None)
    assert summary["accepted"] == ["bob@example.org"]  # the recipient was; the message was not
    assert "*** " in err


async def test_json_of_a_hostile_server_prints_no_byte_raw() -> None:
    async with ScriptedServer(hostile_server()) as server:
        status, out, err = await smtptui_run(f"{server.host}:{server.port}", *SCRIPTED, "--json")
    assert status == Exit.RCPT
    assert raw(out + err) == set(), out + err
    json_lines(out)


# -- --quiet ---------------------------------------------------------------------------------


async def test_quiet_prints_nothing_when_all_goes_well() -> None:
    status, out, err = await smtptui_run("--demo", "--quiet")
    assert (status, out, err) == (Exit.OK, "", "")


async def test_quiet_prints_only_the_errors_on_stderr() -> None:
    status, out, err = await smtptui_run("--demo", "-q", "--to", "unknown@smtptui.demo")
    assert (status, out) == (Exit.RCPT, "")
    assert err.startswith("*** ") and all(line.startswith("*** ") for line in err.splitlines())


async def test_quiet_json_prints_the_summary_alone() -> None:
    status, out, err = await smtptui_run("--demo", "--json", "--quiet")
    assert status == Exit.OK and err == ""
    entries, summary = json_lines(out)
    assert entries == [] and summary["queue_id"] is not None


# -- --hide-body -----------------------------------------------------------------------------


async def test_hide_body_shows_the_message_as_one_line_with_its_size() -> None:
    status, out, _ = await smtptui_run("--demo", "-n", "--body", "secret line one\nline two")
    assert status == Exit.OK
    lines = out.splitlines()
    assert lines[-1].startswith("=== The server received: ")
    assert not any("secret line one" in line or "Subject:" in line for line in lines[:-1])
    [hidden] = [n for n, line in enumerate(lines) if "(message hidden: " in line]
    assert re.fullmatch(r" ~> \(message hidden: \d+ lines, \d+ bytes\)", lines[hidden])
    assert lines[hidden + 1] == " ~> ."  # the dialogue otherwise as it was
    assert lines[hidden + 2].startswith("<~  250 2.0.0 Ok: queued as ")


async def test_hide_body_with_json_nulls_the_data_and_marks_it_hidden() -> None:
    status, out, _ = await smtptui_run("--demo", "--json", "--hide-body", "--chunking")
    assert status == Exit.OK
    entries, _ = json_lines(out)
    bodies = [entry for entry in entries if entry.get("body")]
    assert bodies and all(entry["data"] is None and entry["hidden"] for entry in bodies)
    assert all(entry["text"].startswith("(BDAT chunk hidden: ") for entry in bodies)
    assert "Hello from smtptui" not in out


# -- --show-time -----------------------------------------------------------------------------


async def test_show_time_stamps_each_entry_and_each_reply_with_its_latency() -> None:
    status, out, _ = await smtptui_run("--demo", "--show-time")
    assert status == Exit.OK
    lines = out.splitlines()
    assert lines[0].startswith("=== Demo server on ")  # run's own note: no entry, no time
    stamped = lines[1:-1]  # ... and the server's account of the message, at the end
    width = len(STAMP.match(stamped[0])[0])
    for line in stamped:
        found = STAMP.match(line)
        assert found is not None or line[:width].isspace(), line  # an entry's next lines
        if found is not None and line[width:].startswith(("<-  ", "<~  ")):
            assert found[1] is not None, line  # a reply: its latency
        elif found is not None and line[width:].startswith((" -> ", " ~> ")):
            assert found[1] is None, line
    seconds = [
        float(found[0].strip("[ ").split("s")[0]) for found in map(STAMP.match, stamped) if found
    ]
    assert seconds[0] == 0.0 and seconds == sorted(seconds)


# -- --show-raw ------------------------------------------------------------------------------


def dumped(out: str, direction: str) -> bytes:
    """The bytes of every hex dump line of ``direction`` (R or W), joined."""
    found = (HEX.fullmatch(line) for line in out.splitlines())
    return b"".join(
        bytes.fromhex(match[2]) for match in found if match is not None and match[1] == direction
    )


async def test_show_raw_dumps_each_read_and_write_in_hex_before_what_it_means() -> None:
    status, out, _ = await smtptui_run("--demo", "--show-raw", "--auth", "PLAIN")
    assert status == Exit.OK
    lines = out.splitlines()
    greeting = next(n for n, line in enumerate(lines) if line.startswith("<-  220 "))
    assert lines[greeting - 2].startswith("  R 0000: 32 32 30 20 ")  # "220 ", in two lines
    ehlo = lines.index(" -> EHLO client.smtptui.demo")
    assert lines[ehlo - 2].startswith("  W 0000: 45 48 4c 4f 20 ")
    assert lines[ehlo - 2].endswith("  EHLO client.smtp")
    written = dumped(out, "W")
    assert b"STARTTLS\r\n" in written and b"QUIT\r\n" in written
    assert b"Hello from smtptui" in written  # the message, as it went
    assert b"AUTH PLAIN \r\n" not in written and b"AUTH PLAIN " in written
    assert "  W       (the SASL secret and its line end, not shown)" in lines
    everything = written + dumped(out, "R") + out.encode()
    assert not any(form.encode() in everything for form in PASSWORD_FORMS)
    assert base64.b64encode(b"\0alice\0wonderland")[:12] not in written


async def test_show_raw_with_hide_body_hides_the_message_on_the_wire_too() -> None:
    status, out, _ = await smtptui_run("--demo", "--show-raw", "-n")
    assert status == Exit.OK
    assert b"Hello from smtptui" not in dumped(out, "W")
    assert re.search(r"\n  W       \(message data hidden: \d+ bytes on the wire\)\n", out)


def test_a_hex_dump_line_holds_sixteen_bytes_and_their_safe_ascii() -> None:
    data = b"250-mx.example\r\n250 \x1b[2J\x9b\xff ok\r\n"
    assert list(hex_lines("R", data)) == [
        "  R 0000: 32 35 30 2d 6d 78 2e 65 78 61 6d 70 6c 65 0d 0a  250-mx.example..",
        "  R 0010: 32 35 30 20 1b 5b 32 4a 9b ff 20 6f 6b 0d 0a     250 .[2J.. ok..",
    ]
    assert list(hex_lines("W", b"")) == []


async def test_show_raw_of_a_hostile_server_shows_its_bytes_as_dots() -> None:
    async with ScriptedServer(hostile_server()) as server:
        where = f"{server.host}:{server.port}"
        status, out, err = await smtptui_run(where, *SCRIPTED, "--show-raw", "--show-time")
    assert status == Exit.RCPT
    assert raw(out + err) == set(), out + err
    assert b"\x1b]0;pwned\x07" in dumped(re.sub(r"^\[[^]]*\] ", "", out, flags=re.M), "R")


# -- what does not go together ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("--json", "--show-raw"), "--show-raw: for text output"),
        (("--json", "--show-time", "--show-raw"), "--show-time and --show-raw: for text output"),
        (("--quiet", "--show-time"), "--show-time: nothing is shown with --quiet"),
    ],
)
async def test_options_that_contradict_each_other_are_a_usage_error(
    args: tuple[str, ...], why: str
) -> None:
    status, out, err = await smtptui_run("--demo", *args)
    assert (status, out) == (Exit.USAGE, "")
    assert why in err and "Traceback" not in err


# -- LMTP ------------------------------------------------------------------------------------


async def test_lmtp_json_counts_each_recipients_reply_to_the_message(make_server) -> None:
    server = make_server(lmtp=True)
    recipients = ("bob@example.org", "full@example.org", "unknown@example.org")
    to = [flag for address in recipients for flag in ("--to", address)]
    where = f"{server.host}:{server.port}"
    status, out, err = await smtptui_run(where, "--lmtp", "--plain", *to, "--json")
    assert status == Exit.OK, err
    entries, summary = json_lines(out)
    assert next(e["text"] for e in entries if e["kind"] == "sent").startswith("LHLO ")
    assert [(e["recipient"], e["code"]) for e in entries if "recipient" in e] == [
        ("bob@example.org", 250),
        ("full@example.org", 452),
    ]
    assert summary["accepted"] == ["bob@example.org"]
    assert {address: code for address, (code, _) in summary["refused"].items()} == {
        "unknown@example.org": 550,
        "full@example.org": 452,
    }
    assert summary["deliveries"] == {
        "bob@example.org": [250, "2.0.0 <bob@example.org> Ok: queued as 0000000001"],
        "full@example.org": [452, "4.2.2 <full@example.org> Mailbox is full"],
    }
    assert "*** sent, but refused: unknown@example.org (550 " in err
    assert "full@example.org (452 4.2.2 <full@example.org> Mailbox is full)" in err


async def test_lmtp_text_shows_each_reply_and_every_refusal_after_the_dot_exits_26() -> None:
    status, out, err = await smtptui_run(
        "--demo", "--lmtp", "--plain", "--to", "full@smtptui.demo", "--to", "full2@smtptui.demo"
    )
    assert status == Exit.DOT, err
    lines = out.splitlines()
    assert " -> LHLO client.smtptui.demo" in lines
    dot = lines.index(" -> .")
    assert lines[dot + 1 : dot + 3] == [
        "<-  452 4.2.2 <full@smtptui.demo> Mailbox is full",
        "<-  452 4.2.2 <full2@smtptui.demo> Mailbox is full",
    ]
    assert "*** SEND: every recipient refused: full@smtptui.demo (452 " in err


async def test_lmtp_from_the_environment_and_smtp_undoing_it(make_server) -> None:
    server = make_server(lmtp=True)
    env = {**os.environ, "SMTPTUI_LMTP": "true"}
    where = (f"{server.host}:{server.port}", "--plain", "--to", "bob@example.org", "--quiet")
    assert (await smtptui_run(*where, env=env))[0] == Exit.OK
    status, _, err = await smtptui_run(*where, "--smtp", env=env)
    assert status == Exit.EHLO  # aiosmtpd's LMTP refuses EHLO and HELO
    assert "EHLO" in err


async def test_show_raw_with_hide_body_hides_a_large_message_in_one_line(tmp_path: Path) -> None:
    """A message of many writes (whose progress the client publishes between them) is
    still one line saying its size."""
    body = tmp_path / "body.txt"
    body.write_text("A line of a message sent in several writes.\n" * 20_000)
    status, out, _ = await smtptui_run("--demo", "--show-raw", "-n", "--body", f"@{body}")
    assert status == Exit.OK
    [line] = [line for line in out.splitlines() if "message data hidden" in line]
    size = int(re.fullmatch(r"  W       \(message data hidden: (\d+) bytes on the wire\)", line)[1])
    assert size > 20_000 * 45
