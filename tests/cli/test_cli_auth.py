"""``smtptui run``'s AUTH flags end to end: the OAuth token from a variable or a command,
the authorisation identity, LOGIN's initial response; no secret in any output."""

from __future__ import annotations

import base64
import os
import re

import pytest

from smtptui.session import Exit

from support.processes import smtptui_run
from support.scripted import ScriptedServer, dialogue

pytestmark = pytest.mark.timeout(60)

TOKEN = "demo-token"
HEX = re.compile(r"  W [0-9a-f]{4}: ((?:[0-9a-f]{2} )*[0-9a-f]{2}) ")


def env(**variables: str) -> dict[str, str]:
    return {**os.environ, **variables}


def token_forms(token: str) -> list[str]:
    """``token`` and the middle of its base64 at each offset it may start at."""
    forms = [token]
    for pad in range(3):
        encoded = base64.b64encode(b"x" * pad + token.encode()).decode()
        forms.append(encoded[4 : len(encoded) - 4])
    return forms


def written(out: str) -> bytes:
    """The bytes of --show-raw's write dumps, joined."""
    return b"".join(bytes.fromhex(m[1]) for m in map(HEX.match, out.splitlines()) if m)


@pytest.mark.parametrize("mode", [(), ("--json",), ("--show-raw",)])
async def test_oauthbearer_with_the_token_from_a_variable(mode: tuple[str, ...]) -> None:
    status, out, err = await smtptui_run(
        "--demo", "--auth", "OAUTHBEARER", "--oauth-token-env", "MY_TOKEN", *mode,
        env=env(MY_TOKEN=TOKEN),
    )  # fmt: skip
    assert status == Exit.OK, err
    assert "AUTH OAUTHBEARER n,a=alice, host=127.0.0.1 port=" in out
    everything = out + err + written(out).decode("utf-8", "replace")
    assert not [form for form in token_forms(TOKEN) if form in everything]


async def test_oauthbearer_with_the_token_from_a_command() -> None:
    status, out, err = await smtptui_run(
        "--demo", "--auth", "OAUTHBEARER", "--oauth-token-command", f"printf {TOKEN}"
    )
    assert status == Exit.OK, err
    assert " ~> AUTH OAUTHBEARER n,a=alice, host=127.0.0.1 port=" in out
    assert "auth=Bearer ••••••••" in out and TOKEN not in out + err


async def test_a_wrong_token_shows_the_error_challenge_and_its_answer() -> None:
    status, out, err = await smtptui_run(
        "--demo", "--auth", "OAUTHBEARER", "--oauth-token-env", "MY_TOKEN",
        env=env(MY_TOKEN="expired-t0ken"),
    )  # fmt: skip
    assert status == Exit.AUTH
    assert ' ~> ^A (the answer to the server\'s error: {"status":"invalid_token"' in out
    assert "<~  535 " in out
    assert not [form for form in token_forms("expired-t0ken") if form in out + err]


async def test_a_token_alone_asks_for_no_password() -> None:
    """Against a host (no demo password), with no $SMTPTUI_PASSWORD and no terminal."""
    answers = {"EHLO": b"250-mx\r\n250 AUTH OAUTHBEARER\r\n", "AUTH": b"235 2.7.0 ok\r\n"}
    async with ScriptedServer(dialogue(answers)) as server:
        status, _, err = await smtptui_run(
            f"{server.host}:{server.port}", "--plain", "--plaintext-auth", "--user", "alice",
            "--oauth-token-env", "MY_TOKEN",
            env={k: v for k, v in env(MY_TOKEN=TOKEN).items() if k != "SMTPTUI_PASSWORD"},
        )  # fmt: skip
    assert status == Exit.OK, err
    assert "Password" not in err
    [auth] = [line for line in server.peers[0].received if line.startswith(b"AUTH ")]
    assert auth.startswith(b"AUTH OAUTHBEARER ")


@pytest.mark.parametrize(
    ("flags", "variables", "says"),
    [
        (("--oauth-token-env", "NO_SUCH_TOKEN"), {}, "--oauth-token-env: $NO_SUCH_TOKEN is unset"),
        (("--oauth-token-env", "MY_TOKEN"), {"MY_TOKEN": " "}, "$MY_TOKEN is unset or empty"),
        (("--oauth-token-command", "true"), {}, "--oauth-token-command 'true' printed nothing"),
        (
            ("--oauth-token-command", "sh -c 'printf \"no \\033[2Jtoken\" >&2; exit 3'"),
            {},
            "exited with status 3: no \\x1b[2Jtoken",
        ),
        (
            ("--oauth-token-command", "/no/such/program"),
            {},
            "--oauth-token-command '/no/such/program': [Errno 2]",
        ),
        (("--oauth-token-command", "'unclosed"), {}, "No closing quotation"),
        (
            ("--oauth-token-env", "MY_TOKEN", "--oauth-token-command", "true"),
            {"MY_TOKEN": TOKEN},
            "give --oauth-token-env or --oauth-token-command, not both",
        ),
    ],
)
async def test_no_token_is_a_usage_error_naming_the_flag(
    flags: tuple[str, ...], variables: dict[str, str], says: str
) -> None:
    base = {k: v for k, v in os.environ.items() if k not in ("NO_SUCH_TOKEN", "MY_TOKEN")}
    status, out, err = await smtptui_run("--demo", *flags, env={**base, **variables})
    assert status != Exit.OK and not out
    assert says in err and "Traceback" not in err and "\x1b" not in err


@pytest.mark.parametrize(
    ("flags", "shown"),
    [
        ((), [" ~> AUTH LOGIN username: alice"]),
        (("--no-login-initial-response",), [" ~> AUTH LOGIN", " ~> username: alice"]),
        (("--auth", "PLAIN", "--authzid", "boss"), [' ~> AUTH PLAIN authzid="boss" user="alice"']),
    ],
)
async def test_login_initial_response_and_authzid(flags: tuple[str, ...], shown: list[str]) -> None:
    status, out, err = await smtptui_run("--demo", "--auth", "LOGIN", *flags)
    assert status == Exit.OK, err
    for line in shown:
        assert any(printed.startswith(line) for printed in out.splitlines()), line
    assert "wonderland" not in out


async def test_scram_sha_256_shows_no_proof_and_no_password() -> None:
    status, out, err = await smtptui_run("--demo", "--auth", "SCRAM-SHA-256", "--show-raw")
    assert status == Exit.OK, err
    assert "<~  235 2.7.0 Authentication successful" in out
    assert ",p=••••••••" in out
    dumps = written(out)
    assert b"SCRAM-SHA-256" in dumps  # the AUTH line's start is shown, its response is not
    assert not [form for form in token_forms("wonderland") if form.encode() in dumps + out.encode()]
    proof_line = next(line for line in out.splitlines() if ",p=" in line)
    assert "c=biws" in proof_line and not re.search(r",p=[A-Za-z0-9+/]{8}", out)
