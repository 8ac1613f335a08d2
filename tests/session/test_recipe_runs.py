"""A session's recipe, run: the generated ``smtptui run`` command, Python script and swaks
command each send the session's message again to the embedded server, and the server
receives the same bytes for the same envelope."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from smtptui.protocol.envelope import Envelope
from smtptui.server import EmbeddedServer, ReceivedMessage
from smtptui.session import RunAll, Security, SendMessage, SessionController, SessionSettings
from smtptui.session.message import build_message
from smtptui.session.recipe import Recipe, as_python, as_run, as_swaks

WORKTREE = Path(__file__).resolve().parents[2]
PASSWORD = "wonderland"
PROGRAM = f"{shlex.quote(sys.executable)} -m smtptui"
SENDER = "alice@smtptui.demo"
RECIPIENTS = ("bob@smtptui.demo", "carol@smtptui.demo")


def message(subject: str = "Recipe") -> bytes:
    """A message as run builds one (Date, Message-ID), with a line that needs stuffing and
    text a shell would expand if the here-document were not quoted."""
    body = "Hello.\n.a line with a dot\n$HOME `date` 'quoted' \\n %NOT_A_TOKEN%\nEOF\n"
    return build_message(SENDER, RECIPIENTS[:1], subject=subject, body=body)


async def sent(server: EmbeddedServer, settings: SessionSettings, send: SendMessage) -> Recipe:
    """The recipe of a session that sent ``send`` with ``settings``."""
    controller = SessionController(settings)
    outcome = await controller.run(RunAll(send))
    assert outcome.ok, outcome.error
    assert len(server.messages) == 1
    assert controller.recipe is not None
    return controller.recipe


async def shell(
    script: str, *args: str, typed: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``script`` run by bash, or Python running ``args`` (a ``.py`` path); the worktree on
    the path, ``env`` added, ``typed`` on standard input (else none)."""
    command = [sys.executable, *args] if args else ["bash", "-c", script]
    full = {**os.environ, "PYTHONPATH": str(WORKTREE), **env}
    process = await asyncio.to_thread(
        subprocess.run,
        command,
        env=full,
        input=typed,
        stdin=subprocess.DEVNULL if typed is None else None,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 0, process.stdout + process.stderr
    return process


def same(first: ReceivedMessage, again: ReceivedMessage, *, parameters: bool = True) -> None:
    assert again.data == first.data
    assert again.mail_from == first.mail_from
    assert again.rcpt_tos == first.rcpt_tos
    assert again.authenticated_as == first.authenticated_as
    assert again.tls == first.tls
    if parameters:  # smtplib writes its SIZE= in lower case
        assert tuple(each.upper() for each in again.mail_options) == first.mail_options
        assert again.rcpt_options == first.rcpt_options


async def starttls_session(server: EmbeddedServer, cafile: str) -> Recipe:
    settings = SessionSettings(
        host=f"{server.host}:{server.port}",
        cafile=cafile,
        helo_name="client.example",
        username="alice",
        password=PASSWORD,
        mechanism="LOGIN",
    )
    send = SendMessage(SENDER, RECIPIENTS, message(), envelope=Envelope(body="8BITMIME"))
    return await sent(server, settings, send)


async def test_the_run_command_sends_the_same_message(server: EmbeddedServer, cafile: str) -> None:
    recipe = await starttls_session(server, cafile)
    command = as_run(recipe, program=PROGRAM)
    assert PASSWORD not in command
    await shell(command, SMTPTUI_PASSWORD=PASSWORD)
    first, again = server.messages
    same(first, again)
    assert first.tls and first.authenticated_as == "alice"
    assert first.mail_options[1:] == ("BODY=8BITMIME",)


async def test_the_python_script_sends_the_same_message(
    server: EmbeddedServer, cafile: str, tmp_path: Path
) -> None:
    recipe = await starttls_session(server, cafile)
    script = tmp_path / "again.py"
    script.write_text(as_python(recipe))
    assert PASSWORD not in script.read_text()
    await shell("", str(script), SMTPTUI_PASSWORD=PASSWORD)
    same(*server.messages)


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is not installed")
async def test_the_swaks_command_sends_the_same_message(
    server: EmbeddedServer, cafile: str
) -> None:
    recipe = await starttls_session(server, cafile)
    command = as_swaks(recipe)
    assert "# not reproduced: the MAIL FROM parameters BODY=8BITMIME" in command
    await shell(command, typed=f"{PASSWORD}\n")  # swaks asks for it
    first, again = server.messages
    same(first, again, parameters=False)  # swaks has no BODY= (said in the command)


async def test_implicit_tls_without_auth_in_chunks(
    tls_server: EmbeddedServer, cafile: str, tmp_path: Path
) -> None:
    settings = SessionSettings(
        host=f"{tls_server.host}:{tls_server.port}", security=Security.TLS, cafile=cafile
    )
    send = SendMessage(SENDER, RECIPIENTS[1:], message("In chunks"), chunking=100)
    recipe = await sent(tls_server, settings, send)
    command = as_run(recipe, program=PROGRAM)
    assert "--tls" in command and "--chunk-size 100" in command and "--user" not in command
    await shell(command)
    script = tmp_path / "again.py"
    script.write_text(as_python(recipe))
    await shell("", str(script))
    first, by_run, by_python = tls_server.messages
    same(first, by_run)
    same(first, by_python)
    assert first.authenticated_as is None


async def test_the_demo_certificate_held_in_memory_is_not_verified(
    untrusted_server: EmbeddedServer, tmp_path: Path
) -> None:
    """The demo trusts its server's self-signed certificate through a context no file
    holds: the commands say so and skip verification, and still send the message."""
    assert untrusted_server.self_signed is not None
    settings = SessionSettings(
        host=f"{untrusted_server.host}:{untrusted_server.port}",
        ssl_context=untrusted_server.self_signed.client_context(),
        username="alice",
        password=PASSWORD,
    )
    recipe = await sent(untrusted_server, settings, SendMessage(SENDER, RECIPIENTS, message()))
    command = as_run(recipe, program=PROGRAM)
    assert "--no-verify" in command
    assert "the certificate the session trusted from memory" in command
    await shell(command, SMTPTUI_PASSWORD=PASSWORD)
    script = tmp_path / "again.py"
    script.write_text(as_python(recipe))
    await shell("", str(script), SMTPTUI_PASSWORD=PASSWORD)
    first, by_run, by_python = untrusted_server.messages
    same(first, by_run)
    same(first, by_python)
