"""``smtptui run``'s message flags, run as a user runs them against the embedded server:
what arrived is checked in the test's own server (the demo's keeps it in its process)."""

from __future__ import annotations

import email.policy
import hashlib
import os
import smtplib
import subprocess
import sys
from collections.abc import Callable
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from smtptui.cli import main
from smtptui.server import EmbeddedServer

ServerFactory = Callable[..., EmbeddedServer]
ENVELOPE = ("--plain", "--from", "a@smtptui.demo", "--to", "b@smtptui.demo")


def smtptui(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "smtptui", "run", "--no-color", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def send(server: EmbeddedServer, *args: str, stdin: bytes = b"") -> EmailMessage:
    """Run ``smtptui run`` against ``server`` and parse the message it received."""
    result = smtptui(f"{server.host}:{server.port}", *ENVELOPE, *args, stdin=stdin)
    assert result.returncode == 0, result.stdout + result.stderr
    message = BytesParser(policy=email.policy.default).parsebytes(server.messages[-1].data)
    assert isinstance(message, EmailMessage)
    return message


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_attachments_arrive_byte_for_byte(make_server: ServerFactory, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_bytes("mixed\r\nline\nends, é, and\n.a dot\n".encode())
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 64)
    large = tmp_path / "large.dat"
    large.write_bytes(os.urandom(10 * 1024 * 1024))
    message = send(
        make_server(starttls=False),
        *("--attach", str(text), "--attach", str(binary), "--attach", str(large)),
        *("--attach-type", "", "--attach-type", "image/png", "--attach-name", "", "--attach-name"),
        "picture.png",
    )
    parts = list(message.iter_attachments())
    assert [(part.get_content_type(), part.get_filename()) for part in parts] == [
        ("text/plain", "notes.txt"),
        ("image/png", "picture.png"),
        ("application/octet-stream", "large.dat"),
    ]
    for part, path in zip(parts, (text, binary, large), strict=True):
        assert sha256(part.get_payload(decode=True)) == sha256(path.read_bytes())


def test_data_arrives_as_smtplib_sends_it(make_server: ServerFactory, tmp_path: Path) -> None:
    path = tmp_path / "message.eml"
    path.write_bytes(
        b"Subject: raw\r\nX-Bare: lf\n\r\n.leading dot\r\n..two\n\xff\xfe8-bit\r\n.\r\nno end"
    )
    server = make_server(starttls=False)
    with smtplib.SMTP(server.host, server.port) as client:
        client.sendmail("a@smtptui.demo", ["b@smtptui.demo"], path.read_bytes())
    send(server, "--data", str(path))
    by_smtplib, by_smtptui = server.messages
    assert by_smtptui.data == by_smtplib.data


def test_data_from_stdin_has_its_tokens_replaced(make_server: ServerFactory) -> None:
    stdin = b"From: %FROM_ADDRESS%\r\nTo: %TO_ADDRESS%\r\nDate: %DATE%\r\n"
    stdin += b"Message-ID: %MESSAGEID%\r\n\r\nbody\r\n"
    message = send(make_server(starttls=False), "--data", "-", stdin=stdin)
    assert (message["From"], message["To"]) == ("a@smtptui.demo", "b@smtptui.demo")
    assert message["Date"].datetime is not None
    assert message["Message-ID"].endswith("@smtptui.demo>")


def test_a_built_message_has_tokens_date_and_message_id(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    body = tmp_path / "body.txt"
    body.write_text("Sent to %TO_ADDRESS% as %MESSAGEID%\n")
    message = send(
        make_server(starttls=False),
        *("--body", f"@{body}", "--subject", "At %DATE%"),
        *("--header", "X-From: %FROM_ADDRESS%", "--add-header", "X-Two: 2"),
    )
    assert message["Subject"] == f"At {message['Date']}"
    assert message["X-From"] == "a@smtptui.demo" and message["X-Two"] == "2"
    text = message.get_content().replace("\r\n", "\n")
    assert text == f"Sent to b@smtptui.demo as {message['Message-ID']}\n"


def test_body_from_stdin(make_server: ServerFactory) -> None:
    message = send(make_server(starttls=False), "--body", "-", stdin="Grüße\n".encode())
    assert message.get_content() == "Grüße\r\n"


def test_bcc_receives_but_is_in_no_header(make_server: ServerFactory) -> None:
    server = make_server(starttls=False)
    message = send(server, "--cc", "c@smtptui.demo", "--bcc", "hidden@smtptui.demo")
    [received] = server.messages
    assert received.rcpt_tos == ("b@smtptui.demo", "c@smtptui.demo", "hidden@smtptui.demo")
    assert message["Cc"] == "c@smtptui.demo"
    assert b"hidden" not in received.data


def test_dump_mail_prints_the_bytes_and_sends_nothing(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    path = tmp_path / "message.eml"
    path.write_bytes(b"Subject: as is\n\n.dot\xff")
    server = make_server(starttls=False)
    where = f"{server.host}:{server.port}"
    result = smtptui(where, *ENVELOPE, "--data", str(path), "--dump-mail")
    assert (result.returncode, result.stdout, result.stderr) == (0, path.read_bytes(), b"")
    built = smtptui(*ENVELOPE, "--body", "hi", "--bcc", "hidden@x", "--dump-mail")
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith(b"From: a@smtptui.demo\r\nTo: b@smtptui.demo\r\n")
    assert b"\r\nDate: " in built.stdout and b"\r\nMessage-ID: <" in built.stdout
    assert b"hidden" not in built.stdout
    assert server.messages == []


def test_without_message_flags_the_demo_message_is_sent() -> None:
    result = CliRunner().invoke(main, ["run", "--plain", "--to", "b@x", "--dump-mail"])
    assert result.exit_code == 0, result.output
    assert b"\r\nSubject: Hello from smtptui\r\n" in result.stdout_bytes
    assert b"Message-ID" not in result.stdout_bytes


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--data", "/no/such/file"], "Invalid value for '--data': File '/no/such/file'"),
        (["--attach", "/no/such/file"], "Invalid value for '--attach': File '/no/such/file'"),
        (["--body", "@/no/such/file"], "Invalid value for '--body': [Errno 2]"),
        (["--header", "X-A: 1\r\nBcc: x@y"], "Invalid value for '--header': "),
        (["--header", "no colon"], "Invalid value for '--header': 'no colon': give"),
        (["--add-header", "X-A: 1\nB: 2"], "Invalid value for '--add-header': "),
        (["--add-header", "Reply-To: c@"], "Invalid value for '--add-header': Reply-To"),
        (["--header", "Cc: c@"], "Invalid value for '--header': Cc: cannot parse 'c@'"),
        (["--data", "-", "--body", "x"], "--data is the whole message: not with --body"),
        (["--data", "-", "--attach", __file__], "not with --attach"),
        (["--attach", __file__, "--attach-type", "text"], "'--attach-type': 'text': give"),
        (["--attach-name", "x"], "more --attach-name than --attach"),
    ],
)
def test_bad_message_flags_exit_1_naming_the_flag(args: list[str], words: str) -> None:
    # Port 9 on a reserved address: the error must come before any attempt to connect.
    result = CliRunner().invoke(main, ["run", "192.0.2.1:9", "--plain", "--to", "b@x", *args])
    assert result.exit_code == 1, result.output
    assert words in result.output
    assert "Traceback" not in result.output


def test_message_flags_need_a_recipient() -> None:
    result = CliRunner().invoke(main, ["run", "192.0.2.1:9", "--plain", "--body", "x"])
    assert result.exit_code == 1, result.output
    assert "the message flags need at least one --to" in result.output
