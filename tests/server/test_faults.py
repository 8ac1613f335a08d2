"""The fault rules applied by the embedded server, seen by the engine's client: each effect
at exactly its stage, over TCP, a UNIX socket, LMTP and stdio."""

from __future__ import annotations

import base64
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from smtptui.engine import SMTPClient
from smtptui.engine.errors import SMTPServerDisconnected, SMTPTimeoutError
from smtptui.engine.events import Received
from smtptui.server import EmbeddedServer
from smtptui.server.rules import Facts, Rules, parse_rules

MakeServer = Callable[..., EmbeddedServer]
PLAIN = "PLAIN " + base64.b64encode(b"\0alice\0wonderland").decode()
MESSAGE = "Subject: faults\r\n\r\nHello.\r\n"
STEPS = ("connect", "ehlo", "auth", "mail", "rcpt", "vrfy", "data", "dot", "quit")
NORMAL = {"connect": 220, "ehlo": 250, "auth": 235, "mail": 250, "rcpt": 250, "vrfy": 252}
NORMAL |= {"data": 354, "dot": 250, "quit": 221}


def ruled(make_server: MakeServer, text: str, **kwargs: object) -> EmbeddedServer:
    kwargs.setdefault("starttls", False)
    return make_server(rules=parse_rules(text, "test"), auth_require_tls=False, **kwargs)


async def walk(
    where: str, port: int = 0, *, timeout: float = 5, recipient: str = "bob@example.org"
) -> dict[str, int | str]:
    """One whole session, a step at a time: each step's reply code, or the name of the
    error that ended the session there (nothing after it)."""
    client = SMTPClient(local_hostname="client.example", timeout=timeout, connect_timeout=5)
    seen: dict[str, int | str] = {}
    steps: dict[str, Callable[[], object]] = {
        "connect": lambda: client.connect(where, port),
        "ehlo": client.ehlo,
        "auth": lambda: client.docmd("AUTH", PLAIN),
        "mail": lambda: client.mail("alice@example.org"),
        "rcpt": lambda: client.rcpt(recipient),
        "vrfy": lambda: client.docmd("VRFY", recipient),
        "data": lambda: client.docmd("DATA"),
        "dot": lambda: client.end_data(MESSAGE),
        "quit": client.quit,
    }
    for step, call in steps.items():
        try:
            seen[step] = (await call())[0]  # type: ignore[misc]
        except (SMTPServerDisconnected, SMTPTimeoutError) as error:
            seen[step] = type(error).__name__
            break
        if step == "data" and seen[step] != 354:
            break
    client.close()
    return seen


def before(stage: str) -> dict[str, int | str]:
    return {step: NORMAL[step] for step in STEPS[: STEPS.index(stage)]}


@pytest.mark.parametrize("stage", STEPS)
async def test_a_refusal_is_seen_at_exactly_its_stage(make_server: MakeServer, stage: str) -> None:
    server = ruled(make_server, f'[[rule]]\nstage = "{stage}"\ncode = 554\nenhanced = "5.7.0"\n')
    seen = await walk("127.0.0.1", server.port)
    assert dict(list(seen.items())[: STEPS.index(stage) + 1]) == before(stage) | {stage: 554}
    if stage in ("mail", "rcpt", "data", "dot"):
        assert server.messages == []


@pytest.mark.parametrize("stage", STEPS)
async def test_a_hang_up_is_seen_at_exactly_its_stage(make_server: MakeServer, stage: str) -> None:
    server = ruled(make_server, f'[[rule]]\nstage = "{stage}"\nclose = true\n')
    seen = await walk("127.0.0.1", server.port)
    assert seen == before(stage) | {stage: "SMTPServerDisconnected"}


@pytest.mark.parametrize(("effect", "seen"), [("code = 454", 454), ("close = true", None)])
async def test_starttls_refused_or_hung_up(
    make_server: MakeServer, effect: str, seen: int | None
) -> None:
    server = make_server(rules=parse_rules(f'[[rule]]\nstage = "starttls"\n{effect}\n', "t"))
    client = SMTPClient("localhost", server.port, timeout=5)
    await client.connect()
    await client.ehlo()
    if seen is None:
        with pytest.raises(SMTPServerDisconnected):
            await client.docmd("STARTTLS")
    else:
        assert (await client.docmd("STARTTLS"))[0] == seen
        assert (await client.ehlo())[0] == 250  # still in plain text, as refused
    client.close()


async def test_a_reply_then_a_hang_up(make_server: MakeServer) -> None:
    text = '[[rule]]\nstage = "rcpt"\ncode = 421\nenhanced = "4.7.0"\ntext = "bye"\nclose = true\n'
    server = ruled(make_server, text)
    seen = await walk("127.0.0.1", server.port)
    assert seen == before("rcpt") | {"rcpt": 421, "vrfy": "SMTPServerDisconnected"}


async def test_a_delay_past_the_clients_timeout_is_its_timeout(make_server: MakeServer) -> None:
    server = ruled(make_server, '[[rule]]\nstage = "mail"\ndelay = 3\n')
    seen = await walk("127.0.0.1", server.port, timeout=0.5)
    assert seen == before("mail") | {"mail": "SMTPTimeoutError"}


async def test_a_delay_within_the_timeout_comes_before_the_usual_reply(
    make_server: MakeServer,
) -> None:
    server = ruled(make_server, '[[rule]]\nstage = "rcpt"\ndelay = 0.4\n')
    client = SMTPClient("127.0.0.1", server.port, timeout=5)
    await client.connect()
    await client.ehlo()
    await client.mail("a@example.org")
    started = time.monotonic()
    assert (await client.rcpt("b@example.org"))[0] == 250
    assert time.monotonic() - started >= 0.4
    client.close()


async def test_a_2xx_reply_replaces_the_commands_own_which_still_takes_effect(
    make_server: MakeServer,
) -> None:
    text = (
        '[[rule]]\nstage = "ehlo"\ncode = 250\ntext = ["mx.example hi", "SIZE 1000", "8BITMIME"]\n'
    )
    server = ruled(make_server, text)
    client = SMTPClient("127.0.0.1", server.port, timeout=5)
    await client.connect()
    code, message = await client.ehlo()
    assert (code, message) == (250, b"mx.example hi\nSIZE 1000\n8BITMIME")
    assert client.esmtp_features.get("size") == "1000"
    await client.sendmail("a@example.org", ["b@example.org"], MESSAGE)  # EHLO counted
    assert len(server.messages) == 1
    client.close()


async def test_matches_address_user_client_and_ehlo_name(make_server: MakeServer) -> None:
    text = """\
[[rule]]
stage = "rcpt"
match = { address_regex = "^carol@", user = "alice", client = "127.0.0.0/8", ehlo = "client.*" }
code = 550
[[rule]]
stage = "rcpt"
match = { client = "192.0.2.0/24" }
code = 551
"""
    server = ruled(make_server, text)
    assert (await walk("127.0.0.1", server.port, recipient="carol@example.org"))["rcpt"] == 550
    assert (await walk("127.0.0.1", server.port, recipient="dave@example.org"))["rcpt"] == 250


async def test_times_then_the_usual_reply(make_server: MakeServer) -> None:
    server = ruled(make_server, '[[rule]]\nstage = "rcpt"\ncode = 451\ntimes = 2\n')
    client = SMTPClient("127.0.0.1", server.port, timeout=5)
    await client.connect()
    await client.ehlo()
    await client.mail("a@example.org")
    codes = [(await client.rcpt(f"{n}@example.org"))[0] for n in range(3)]
    assert codes == [451, 451, 250]
    client.close()


async def test_chance_with_a_seed_refuses_the_sessions_the_rules_foretell(
    make_server: MakeServer,
) -> None:
    text = '[[rule]]\nstage = "connect"\ncode = 421\nclose = true\nchance = 0.3\n'
    foretold = Rules(parse_rules(text, "test"), seed=5)
    expected = [foretold.fire("connect", Facts()) is not None for _ in range(20)]
    server = make_server(rules=parse_rules(text, "test"), seed=5)
    refused = []
    for _ in range(20):
        client = SMTPClient("127.0.0.1", server.port, timeout=5)
        try:
            refused.append((await client.connect())[0] != 220)
        except Exception:  # the engine's error for a 421 greeting
            refused.append(True)
        client.close()
    assert refused == expected
    assert 0 < sum(expected) < 20


async def test_throttled_reads_hold_the_rate(make_server: MakeServer) -> None:
    rate = 100_000
    throttle = f'{{ bytes_per_second = {rate}, direction = "read" }}'
    text = f'[[rule]]\nstage = "data"\nthrottle = {throttle}\n'
    server = ruled(make_server, text)
    body = "Subject: big\r\n\r\n" + "x" * 76 + "\r\n"
    message = body * 1500  # ~120 KB: 1.2 s at the rate
    client = SMTPClient("127.0.0.1", server.port, timeout=10)
    await client.connect()
    await client.ehlo()
    await client.mail("a@example.org")
    await client.rcpt("b@example.org")
    assert (await client.docmd("DATA"))[0] == 354
    started = time.monotonic()
    assert (await client.end_data(message))[0] == 250
    measured = len(server.messages[0].data) / (time.monotonic() - started)
    assert abs(measured - rate) <= rate * 0.1, measured
    client.close()


async def test_throttled_sends_hold_the_rate(make_server: MakeServer) -> None:
    rate = 4000
    lines = ", ".join(f'"line {n:02} ' + "y" * 90 + '"' for n in range(40))
    text = f"""\
[[rule]]
stage = "ehlo"
code = 250
text = [{lines}]
throttle = {{ bytes_per_second = {rate}, direction = "send" }}
"""
    server = ruled(make_server, text)
    client = SMTPClient("127.0.0.1", server.port, timeout=10)
    await client.connect()
    started = time.monotonic()
    code, reply = await client.ehlo()
    elapsed = time.monotonic() - started
    size = len(parse_rules(text, "test")[0].reply.wire()) + 2  # type: ignore[union-attr]
    assert code == 250 and reply.count(b"\n") == 39
    assert abs(size / elapsed - rate) <= rate * 0.1, size / elapsed
    client.close()


async def test_a_throttled_connection_goes_on_inside_tls(
    make_server: MakeServer, client_tls_context: ssl.SSLContext
) -> None:
    server = make_server(
        rules=parse_rules(
            '[[rule]]\nstage = "ehlo"\nthrottle = { bytes_per_second = 50000 }\n', "t"
        )
    )
    client = SMTPClient("localhost", server.port, timeout=5, ssl_context=client_tls_context)
    await client.connect()
    await client.ehlo()
    await client.starttls()
    await client.login("alice", "wonderland")
    await client.sendmail("a@example.org", ["b@example.org"], MESSAGE)
    assert server.messages[0].tls
    client.close()


async def test_lmtp_answers_each_recipient_by_its_rule(make_server: MakeServer) -> None:
    text = '[[rule]]\nstage = "dot"\nmatch = { address = "bob@*" }\ncode = 451\ntext = "later"\n'
    server = ruled(make_server, text, lmtp=True)
    events: list[object] = []
    client = SMTPClient("127.0.0.1", server.port, timeout=5, lmtp=True, listener=events.append)
    await client.connect()
    await client.ehlo()
    await client.mail("a@example.org")
    for recipient in ("bob@example.org", "carol@example.org", "full@example.org"):
        await client.rcpt(recipient)
    await client.docmd("DATA")
    start = len(events)
    await client.end_data(MESSAGE)
    replies = [e.reply for e in events[start:] if isinstance(e, Received)]
    assert [(r.code, r.text) for r in replies] == [
        (451, "later"),
        (250, "2.0.0 <carol@example.org> Ok: queued as 0000000001"),
        (250, "2.0.0 <full@example.org> Ok: queued as 0000000001"),
    ]
    [message] = server.messages
    assert message.rcpt_tos == ("carol@example.org", "full@example.org")  # no default rules
    client.close()


async def test_rules_apply_on_a_unix_socket(make_server: MakeServer, tmp_path: Path) -> None:
    path = str(tmp_path / "smtp.sock")
    ruled(make_server, '[[rule]]\nstage = "mail"\ncode = 452\n', unix_path=path)
    seen = await walk(f"unix:{path}")
    assert seen["mail"] == 452


def test_serve_stdio_applies_a_rules_file_and_says_which_fired(tmp_path: Path) -> None:
    rules = tmp_path / "faults.toml"
    rules.write_text(
        '[[rule]]\nname = "no bob"\nstage = "rcpt"\nmatch = { address = "bob@*" }\n'
        'code = 550\nenhanced = "5.1.1"\ntext = "<{address}> gone"\n'
    )
    session = b"EHLO client\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<bob@example.org>\r\nQUIT\r\n"
    done = subprocess.run(
        [sys.executable, "-m", "smtptui", "serve", "--stdio", "--rules", str(rules)],
        input=session,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert b"\r\n550 5.1.1 <bob@example.org> gone\r\n" in done.stdout
    assert b"at rcpt: rule 'no bob' (line 1): 550 5.1.1" in done.stderr


def test_serve_names_a_mistake_in_the_rules_file_and_its_line(tmp_path: Path) -> None:
    rules = tmp_path / "faults.toml"
    rules.write_text('[[rule]]\nstage = "rcpt"\ncode = 550\ntext = "a\\nb"\n')
    done = subprocess.run(
        [sys.executable, "-m", "smtptui", "serve", "--rules", str(rules)],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"rules {rules}, line 4: text: contains a LF character".encode() in done.stderr
    assert b"Traceback" not in done.stderr
