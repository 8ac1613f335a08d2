"""A session's recipe written as a command: the words each target gets, the here-document
that carries the message (run through bash, it gives back the exact bytes), what is said
not reproduced, and what never appears (secrets, the server's bytes)."""

from __future__ import annotations

import base64
import os
import shlex
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from smtptui.engine.tls import TlsInfo
from smtptui.protocol.data import data_payload
from smtptui.protocol.envelope import Envelope, RcptParams
from smtptui.protocol.replies import Reply
from smtptui.session import Security, SendMessage, SessionSettings, SessionState, VerifyMode
from smtptui.session.export import ExportFormat
from smtptui.session.recipe import Recipe, as_python, as_run, as_swaks, write_recipe

MESSAGE = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nHello.\r\n"
SETTINGS = SessionSettings(
    host="mail.example.org:587",
    helo_name="client.example",
    username="alice",
    password="s3cret-pw",
)
TLS = TlsInfo("TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, "mail.example.org", (), True, "verified")
ECHO = shlex.join(
    [sys.executable, "-c", "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())"]
)
"""A program for as_run that writes back the message it reads (and ignores run's words)."""


def recipe(
    settings: SessionSettings = SETTINGS,
    message: bytes = MESSAGE,
    state: SessionState | None = None,
    **send: object,
) -> Recipe:
    fields: dict[str, object] = {"sender": "a@example.org", "recipients": ("b@example.org",)}
    fields.update(send)
    return Recipe.of(settings, SendMessage(message=message, **fields), state)  # type: ignore[arg-type]


def command(text: str) -> list[str]:
    """The words of the command in a generated script (its first line, after any ``|``,
    and its continuation lines), up to the here-document."""
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    logical = ""
    for line in lines:
        logical += line.removesuffix("\\")
        if not line.endswith("\\"):
            break
    piped, pipe, command = logical.partition(" | ")
    return shlex.split(command if pipe else piped)


def option(words: list[str], name: str) -> list[str]:
    """Every value given to ``name`` in ``words``."""
    return [words[at + 1] for at, word in enumerate(words) if word == name]


def notes(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("# not reproduced: ")]


def fed(script: str, tmp_path: Path) -> bytes:
    """What the generated shell script feeds its command, run by bash: on standard input,
    or (swaks, stood in for by ``cat``) as the file its ``--data @FILE`` names."""
    fake = tmp_path / "bin" / "swaks"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text('#!/bin/sh\nfor word; do case $word in @*) exec cat "${word#@}";; esac; done\n')
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-c", script], env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# -- the words -----------------------------------------------------------------------------


def test_run_words() -> None:
    words = command(as_run(recipe(recipients=("b@example.org", "c@example.org"))))
    assert words[:3] == ["smtptui", "run", "mail.example.org:587"]
    assert "--starttls" in words
    assert option(words, "--ehlo") == ["client.example"]
    assert option(words, "--user") == ["alice"]
    assert option(words, "--from") == ["a@example.org"]
    assert option(words, "--to") == ["b@example.org", "c@example.org"]
    assert words[-2:] == ["--data", "-"]
    assert "--auth" not in words  # the best mechanism offered, as the session chose


def test_swaks_words() -> None:
    settings = replace(SETTINGS, mechanism="CRAM-MD5", cafile="/etc/ssl/ca.pem")
    words = command(as_swaks(recipe(settings, recipients=("b@example.org", "c@example.org"))))
    assert words[:3] == ["swaks", "--server", "mail.example.org:587"]
    assert {"--tls", "--tls-verify", "--pipeline"} <= set(words)
    assert option(words, "--tls-ca-path") == ["/etc/ssl/ca.pem"]
    assert option(words, "--auth-user") == ["alice"]
    assert option(words, "--auth") == ["CRAM-MD5"]
    assert option(words, "--to") == ["b@example.org,c@example.org"]
    assert "--auth-password" not in words and "--no-data-fixup" in words
    assert option(words, "--data")[0].startswith("@<(awk")


def test_python_script() -> None:
    settings = replace(SETTINGS, mechanism="LOGIN", cafile="/etc/ssl/ca.pem")
    script = as_python(recipe(settings, recipients=("b@example.org", "c@example.org")))
    compile(script, "again.py", "exec")
    assert "HOST = 'mail.example.org'\nPORT = 587\n" in script
    assert "RECIPIENTS = ['b@example.org', 'c@example.org']" in script
    assert "ssl.create_default_context(cafile='/etc/ssl/ca.pem')" in script
    assert "smtp.starttls(context=context)" in script
    assert "smtp.auth('LOGIN', smtp.auth_login)" in script
    assert 'os.environ.get("SMTPTUI_PASSWORD") or getpass.getpass(' in script
    assert "local_hostname='client.example'" in script


def test_lmtp_in_each_recipe() -> None:
    settings = replace(SETTINGS, host="lmtp.example.org", security=Security.NONE, lmtp=True)
    lmtp = recipe(settings, recipients=("b@example.org", "c@example.org"))
    words = command(as_run(lmtp))
    assert words[2:5] == ["lmtp.example.org:24", "--plain", "--lmtp"]
    assert option(command(as_swaks(lmtp)), "--protocol") == ["LMTP"]
    script = as_python(lmtp)
    compile(script, "again.py", "exec")
    assert "with smtplib.LMTP(HOST, PORT, " in script and "PORT = 24\n" in script
    assert notes(script) == [
        "# not reproduced: each recipient's reply to the message: smtplib.LMTP reads the first only"
    ]
    assert script.splitlines()[1].startswith("# smtplib: lmtp.example.org:24, LMTP, no TLS, ")
    implicit = as_python(recipe(replace(settings, security=Security.TLS)))
    assert "smtplib.SMTP_SSL(" in implicit
    assert "# not reproduced: LMTP over implicit TLS: smtplib has no LMTP_SSL" in notes(implicit)


def test_words_are_quoted_for_the_shell() -> None:
    """Whatever a field holds, each value stays one word and nothing in it is run."""
    settings = replace(SETTINGS, helo_name="$(touch pwned)", username="o'brien; rm -rf ~")
    sender = '"john $(doe)"@example.org'
    for text in (
        as_run(recipe(settings, sender=sender)),
        as_swaks(recipe(settings, sender=sender)),
    ):
        words = command(text)
        assert option(words, "--ehlo") == ["$(touch pwned)"]
        assert option(words, "--from") == [sender]
        assert "o'brien; rm -rf ~" in words + option(words, "--auth-user")
    script = as_python(recipe(settings, sender=sender))
    compile(script, "again.py", "exec")
    assert f"SENDER = {sender!r}" in script


def test_ipv6_host() -> None:
    settings = replace(SETTINGS, host="[2001:db8::25]:2525")
    assert command(as_run(recipe(settings)))[2] == "[2001:db8::25]:2525"
    assert option(command(as_swaks(recipe(settings))), "--server") == ["[2001:db8::25]:2525"]
    assert "HOST = '2001:db8::25'\nPORT = 2525\n" in as_python(recipe(settings))


def test_implicit_tls() -> None:
    settings = replace(SETTINGS, host="mail.example.org", security=Security.TLS)
    run = command(as_run(recipe(settings)))
    assert run[2] == "mail.example.org:465" and "--tls" in run
    swaks = command(as_swaks(recipe(settings)))
    assert "--tls-on-connect" in swaks and "--tls" not in swaks
    script = as_python(recipe(settings))
    assert "smtplib.SMTP_SSL(HOST, PORT, local_hostname='client.example', timeout=30, " in script
    assert "context=context)" in script and "starttls" not in script


def test_no_tls_no_auth() -> None:
    settings = SessionSettings(host="mail.example.org", security=Security.NONE)
    run = as_run(recipe(settings))
    assert "--plain" in command(run) and "--user" not in run and "PASSWORD" not in run
    swaks = as_swaks(recipe(settings))
    assert "--tls" not in swaks and "--auth" not in swaks and "password" not in swaks
    script = as_python(recipe(settings))
    assert "getpass" not in script and "ssl" not in script and "login" not in script
    compile(script, "again.py", "exec")


def test_what_the_session_did_over_what_was_configured() -> None:
    """STARTTLS and AUTH configured but not done before the message went: the recipe does
    neither (and HELO, if that is how the session greeted)."""
    state = SessionState(tls=None, user=None, esmtp=False, extensions=frozenset())
    done = recipe(state=state)
    assert done.settings.security is Security.NONE and not done.settings.username
    words = command(as_run(done))
    assert {"--plain", "--helo"} <= set(words) and "--user" not in words
    assert option(command(as_swaks(done)), "--protocol") == ["SMTP"]
    assert "    smtp.helo()\n" in as_python(done)


def test_a_certificate_check_skipped_is_skipped_again() -> None:
    unverified = replace(TLS, verified=False)
    done = recipe(replace(SETTINGS, cafile="/ca.pem"), state=SessionState(tls=unverified))
    words = command(as_run(done))
    assert "--no-verify" in words and "--cafile" not in words
    assert "--tls-verify" not in command(as_swaks(done))
    assert "context.verify_mode = ssl.CERT_NONE" in as_python(done)


def test_auth_without_tls_is_allowed_on_the_command_line() -> None:
    state = SessionState(user="alice", esmtp=True)
    done = recipe(state=state)
    assert "--plaintext-auth" in command(as_run(done))
    assert "--auth-plaintext" in command(as_swaks(done))


def test_envelope_for_run() -> None:
    envelope = Envelope(
        body="8bitmime",
        smtputf8=False,
        ret="hdrs",
        envid="id-1",
        requiretls=True,
        notify=("SUCCESS", "FAILURE"),
        orcpt={"b@example.org": "rfc822;x@example.org", "c@example.org": "rfc822;x@example.org"},
        rcpt={"c@example.org": RcptParams(("NEVER",))},
        size=1234,
    )
    done = recipe(recipients=("b@example.org", "c@example.org"), envelope=envelope, chunking=10)
    words = command(as_run(done))
    assert option(words, "--body-type") == ["8BITMIME"]
    assert "--no-smtputf8" in words and "--requiretls" in words
    assert option(words, "--ret") == ["HDRS"] and option(words, "--envid") == ["id-1"]
    assert option(words, "--notify") == ["SUCCESS,FAILURE"]
    assert option(words, "--orcpt") == ["rfc822;x@example.org"]
    assert option(words, "--rcpt-params") == ["c@example.org NOTIFY=NEVER"]
    assert option(words, "--size") == ["1234"] and option(words, "--chunk-size") == ["10"]
    assert not notes(as_run(done))


def test_per_recipient_orcpt_and_unadvertised() -> None:
    envelope = Envelope(orcpt={"b@example.org": "rfc822;x@example.org"})
    state = SessionState(tls=None, user="alice", esmtp=True, extensions=frozenset({"SIZE"}))
    done = recipe(
        recipients=("b@example.org", "c@example.org"),
        envelope=envelope,
        state=state,
        pipelining=False,
    )
    words = command(as_run(done))
    assert option(words, "--rcpt-params") == ["b@example.org ORCPT=rfc822;x@example.org"]
    assert "--orcpt" not in words
    assert {"--unadvertised-ok", "--no-pipelining"} <= set(words)
    assert "--pipeline" not in command(as_swaks(done))


def test_what_cannot_be_reproduced_is_said() -> None:
    settings = replace(
        SETTINGS,
        client_cert="/c.pem",
        client_key="/k.pem",
        connect_timeout=3,
        mechanism="PLAIN,LOGIN",
        oauth_token="oauth-tok3n",
    )
    envelope = Envelope(ret="FULL", rcpt={"c@example.org": RcptParams(("NEVER",))}, size=10)
    done = recipe(
        settings,
        MESSAGE + b"%DATE%\r\n",
        recipients=("b@example.org", "c@example.org"),
        envelope=envelope,
        chunking=True,
        pipelining=True,
        state=SessionState(tls=TLS, user="alice", extensions=frozenset({"PIPELINING", "SIZE"})),
        mail_options=("X-ODD=1",),
        rcpt_options=("X-RCPT",),
    )
    assert notes(as_run(done)) == [
        "# not reproduced: the MAIL FROM parameters X-ODD=1: run has no flag for them",
        "# not reproduced: the RCPT TO parameters X-RCPT: run has no flag",
        "# not reproduced: the connect timeout of 3 s: run has no flag",
        "# not reproduced: %DATE% in the message: run replaces them in --data",
    ]
    assert notes(as_swaks(done)) == [
        "# not reproduced: the OAuth token (XOAUTH2): swaks takes a password instead",
        "# not reproduced: the MAIL FROM parameters SIZE=10 RET=FULL X-ODD=1: swaks has no flag",
        "# not reproduced: RCPT TO:<b@example.org> X-RCPT: swaks has no flag",
        "# not reproduced: RCPT TO:<c@example.org> NOTIFY=NEVER X-RCPT: swaks has no flag",
        "# not reproduced: BDAT (CHUNKING): swaks sends the message with DATA",
    ]
    script = as_python(done)
    assert notes(script) == [
        "# not reproduced: AUTH PLAIN,LOGIN: smtplib's login() picks among those offered",
        "# not reproduced: the OAuth token (XOAUTH2): smtplib takes a password instead",
        "# not reproduced: SIZE=…: smtplib declares the message's own size when SIZE is offered",
        "# not reproduced: RCPT TO parameters that differ: sendmail gives all the first one's",
        "# not reproduced: BDAT (CHUNKING): smtplib sends the message with DATA",
        "# not reproduced: PIPELINING: smtplib sends one command at a time",
        "# not reproduced: the connect timeout of 3 s",
    ]
    assert "context.load_cert_chain('/c.pem', '/k.pem')" in script
    assert option(command(as_swaks(done)), "--tls-cert") == ["/c.pem"]
    compile(script, "again.py", "exec")


def test_the_demo_certificate_is_said_not_verified() -> None:
    import ssl

    settings = replace(SETTINGS, ssl_context=ssl.create_default_context())
    done = recipe(settings)
    assert done.pinned
    for text in (as_run(done), as_swaks(done), as_python(done)):
        assert "the certificate the session trusted from memory" in text
    assert "--no-verify" in command(as_run(done))
    assert "--tls-verify" not in command(as_swaks(done))
    assert "context.verify_mode = ssl.CERT_NONE" in as_python(done)


# -- the message ---------------------------------------------------------------------------


MESSAGES = {
    "plain": MESSAGE,
    "no final CRLF": b"Subject: x\r\n\r\nno end",
    "empty": b"",
    "dots": b"Subject: x\r\n\r\n.\r\n..two\r\n.\r\n",
    "shell": b"Subject: $(id) `id` 'q' \"d\" \\n \\\r\n\r\n$HOME\r\n",
    "delimiters": b"Subject: x\r\n\r\nEOF\r\nEOF_1\r\n",
    "bare LF": b"Subject: x\r\n\r\nline\nline\r\n",
    "bare CR": b"Subject: x\r\n\r\nline\rline\r\n",
    "not UTF-8": b"Subject: x\r\n\r\n\xff\xfe latin\r\n",
    "escape": b"Subject: \x1b[31mred\r\n\r\n\x00\r\n",
    "tab and UTF-8": "Subject: caf\u00e9\r\n\r\n\tindented \u2603\r\n".encode(),
}


@pytest.mark.parametrize("message", MESSAGES.values(), ids=MESSAGES.keys())
def test_the_here_document_gives_back_the_exact_message(message: bytes, tmp_path: Path) -> None:
    done = recipe(SessionSettings(host="mail.example.org"), message)  # no password to ask
    assert fed(as_run(done, program=ECHO), tmp_path) == message
    assert fed(as_swaks(done), tmp_path) == data_payload(message).removesuffix(b"\r\n")
    namespace: dict[str, object] = {}
    script = as_python(done)
    exec(script.partition("\nwith ")[0], namespace)  # everything up to the connection
    assert namespace["MESSAGE"] == message


def test_the_delimiter_is_not_in_the_message() -> None:
    text = as_run(recipe(message=MESSAGES["delimiters"]))
    assert "<<'EOF_2'" in text and text.endswith("\nEOF_2\n")


def test_bytes_a_here_document_cannot_hold_go_in_base64() -> None:
    for name in ("bare LF", "not UTF-8", "escape"):
        text = as_run(recipe(message=MESSAGES[name]))
        assert "\x1b" not in text and "\x00" not in text
        assert "base64 -d <<'EOF'" in text
        assert "# The message is in base64" in text
    assert "awk" in as_run(recipe(message=MESSAGES["tab and UTF-8"]))


# -- what never appears --------------------------------------------------------------------


def test_no_secret_in_any_output(tmp_path: Path) -> None:
    settings = replace(SETTINGS, oauth_token="oauth-tok3n")
    done = recipe(settings, state=SessionState(user="alice"))
    texts = [as_run(done), as_swaks(done), as_python(done)]
    for fmt in (ExportFormat.RUN, ExportFormat.SWAKS_COMMAND, ExportFormat.PYTHON):
        path = tmp_path / f"again{fmt.suffix}"
        write_recipe(path, done, fmt)
        assert path.stat().st_mode & 0o777 == 0o644
        texts.append(path.read_text())
    assert texts[3:] == texts[:3]
    for text in texts:
        for secret in ("s3cret-pw", "oauth-tok3n"):
            assert secret not in text
            assert base64.b64encode(secret.encode()).decode()[:8] not in text
    assert not done.settings.password and not done.settings.oauth_token


def test_no_server_byte_in_any_output() -> None:
    """The state the recipe is made from holds the server's last reply and its EHLO
    keywords: none of it is written."""
    reply = Reply(250, (b"OWNED \x1b]0;title\x07",), b"250 OWNED \x1b]0;title\x07\r\n")
    state = SessionState(
        tls=None,
        user="alice",
        extensions=frozenset({"PIPELINING", "X-\x1b[2JEVIL"}),
        last_reply=reply,
    )
    done = recipe(state=state, envelope=Envelope(notify=("NEVER",)))
    for text in (as_run(done), as_swaks(done), as_python(done)):
        assert "OWNED" not in text and "EVIL" not in text and "\x1b" not in text


def test_the_null_sender() -> None:
    done = recipe(sender="")
    assert option(command(as_run(done)), "--from") == ["<>"]
    assert option(command(as_swaks(done)), "--from") == ["<>"]
    assert "SENDER = ''" in as_python(done)


def test_auth_options_and_the_token_variable_in_run() -> None:
    settings = replace(
        SETTINGS, authzid="boss", login_initial_response=False, oauth_token="oauth-tok3n"
    )
    done = recipe(settings, MESSAGE, state=SessionState(tls=TLS, user="alice"))
    script = as_run(done)
    words = command(script)
    assert option(words, "--authzid") == ["boss"]
    assert "--no-login-initial-response" in words
    assert option(words, "--oauth-token-env") == ["SMTPTUI_OAUTH_TOKEN"]
    assert "oauth-tok3n" not in script
    assert "# not reproduced: the authorisation identity: swaks has no way to send one" in (
        notes(as_swaks(done))
    )


def test_the_tls_controls_in_each_recipe() -> None:
    settings = replace(
        SETTINGS,
        verify=VerifyMode.CA,
        client_cert="/c.pem",
        client_key="/k.pem",
        sni="",
        verify_name="mx.example.org",
        tls_min="1.2",
        tls_max="1.3",
        ciphers="ECDHE+AESGCM",
    )
    done = recipe(settings)
    words = command(as_run(done))
    assert option(words, "--verify") == ["ca"] and "--no-verify" not in words
    for flag, value in [
        ("--cert", "/c.pem"),
        ("--key", "/k.pem"),
        ("--sni", ""),
        ("--verify-name", "mx.example.org"),
        ("--tls-min", "1.2"),
        ("--tls-max", "1.3"),
        ("--ciphers", "ECDHE+AESGCM"),
    ]:
        assert option(words, flag) == [value], flag
    python = as_python(done)
    assert "context.check_hostname = False" in python
    assert "context.verify_mode = ssl.CERT_NONE" not in python
    assert "context.minimum_version = ssl.TLSVersion.TLSv1_2" in python
    assert "context.maximum_version = ssl.TLSVersion.TLSv1_3" in python
    assert "context.set_ciphers('ECDHE+AESGCM')" in python
    assert "# not reproduced: the SNI: smtplib is not told it here" in notes(python)
    swaks = notes(as_swaks(done))
    assert "# not reproduced: verification of the ca alone: this checks both" in swaks
    assert "# not reproduced: the cipher string: swaks is not told it here" in swaks
    none = as_run(recipe(replace(SETTINGS, verify=VerifyMode.NONE)))
    assert "--no-verify" in command(none) and "--verify" not in command(none)


def test_a_verification_skipped_once_is_no_verification_in_the_recipe() -> None:
    unverified = replace(TLS, verified=False)
    done = recipe(SETTINGS, state=SessionState(tls=unverified, user="alice"))
    assert "--no-verify" in command(as_run(done))
    partial = recipe(replace(SETTINGS, verify=VerifyMode.HOST), state=SessionState(tls=unverified))
    assert option(command(as_run(partial)), "--verify") == ["host"]
