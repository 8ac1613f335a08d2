"""config.toml (issue 14, part 4): profiles read into typed values, every mistake named with
its file and line, the precedence of the command line, the environment and the profile, the
password's places, saving that keeps the user's file, ``config path|show`` and ``run -P``,
and no secret written anywhere."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import trustme

from smtptui.config import (
    DEFAULTS,
    ENVIRONMENT,
    KEYS,
    SETTINGS_KEYS,
    ConfigError,
    Profile,
    load_config,
    locate,
    profile_of,
    profile_password,
    remember_theme,
    remembered_theme,
    resolve,
    save_profile,
    session_settings,
    values_of,
)
from smtptui.server import DEMO_USERS, EmbeddedServer
from smtptui.session import Security, SessionSettings

USER, PASSWORD = next(iter(DEMO_USERS.items()))

FULL = """\
# the office
theme = "light"

[profiles.work]  # my work account
host = "mail.example.org"
port = 587
security = "STARTTLS"
verify = true
cafile = "/etc/ssl/work.pem"
sni = "mx.example.org"
verify_name = "mail.example.org"
tls_min = 1.2
tls_max = "1.3"
ciphers = "ECDHE+AESGCM"
ehlo = "laptop.example.org"
user = "me@example.org"
mechanism = "PLAIN"
sender = "me@example.org"
recipients = ["you@example.org", "them@example.org"]
password_env = "WORK_PASSWORD"

[profiles."my home"]
host = "[::1]:2525"
verify = "ca"
password_command = "pass show smtp/home"
"""


def write(config_dir: Path, text: str) -> Path:
    path = config_dir / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def python_command(code: str) -> str:
    """A password_command running ``code`` in this Python."""
    return shlex.join([sys.executable, "-c", code])


# -- reading -----------------------------------------------------------------------------


def test_every_key_is_read_into_its_type(config_dir: Path) -> None:
    path = write(config_dir, FULL)
    config = load_config()
    assert config.path == path
    assert config.theme == "light"
    assert list(config.profiles) == ["work", "my home"]
    assert config.profiles["work"] == Profile(
        host="mail.example.org",
        port=587,
        security="starttls",
        verify="both",
        cafile="/etc/ssl/work.pem",
        sni="mx.example.org",
        verify_name="mail.example.org",
        tls_min="1.2",
        tls_max="1.3",
        ciphers="ECDHE+AESGCM",
        ehlo="laptop.example.org",
        user="me@example.org",
        mechanism="PLAIN",
        sender="me@example.org",
        recipients=("you@example.org", "them@example.org"),
        password_env="WORK_PASSWORD",
    )
    home = config.profiles["my home"]
    assert (home.host, home.verify, home.password_command) == (
        "[::1]:2525",
        "ca",
        "pass show smtp/home",
    )
    assert home.port is None  # left out: the host's, or the default


def test_no_file_is_an_empty_config(config_dir: Path) -> None:
    config = load_config()
    assert (config.theme, dict(config.profiles)) == (None, {})


BAD = [
    (
        "[profiles.work]\nhost = 'a'\nhots = 'b'\n",
        3,
        "[profiles.work] unknown key 'hots'; known: host, port, security",
    ),
    (
        "[profiles.work]\nuser = 'me'\npassword = 'hunter2'\n",
        3,
        "smtptui never stores passwords; name where it is instead, with password_env",
    ),
    ("[profiles.work]\nport = 'submission'\n", 2, "port must be a number from 1 to 65535"),
    ("[profiles.work]\n\n\nport = 70000\n", 4, "port must be a number from 1 to 65535, not 70000"),
    ("[profiles.w]\nsecurity = 'ssl'\n", 2, "security must be one of none, starttls, tls"),
    ("[profiles.w]\nverify = 'maybe'\n", 2, "verify must be one of both, ca, host, none"),
    ("[profiles.w]\ntls_min = 1.4\n", 2, "tls_min must be one of 1.0, 1.1, 1.2, 1.3, not '1.4'"),
    ("[profiles.w]\nrecipients = 'a@b'\n", 2, "recipients must be a list of addresses"),
    ("[profiles.w]\nhost = 'a'\nuser = 7\n", 3, "user must be a string, not 7"),
    ('[profiles.w]\nehlo = "a\\r\\nRSET"\n', 2, "[profiles.w] ehlo:"),
    ("[profiles.w]\npassword_env = 'MY-PASS'\n", 2, "must name an environment variable"),
    ("[profiles.w]\npassword_command = 'pass \"x'\n", 2, "password_command: No closing quotation"),
    (
        "\n[profiles.w]\npassword_env = 'A'\npassword_command = 'b'\n",
        2,
        "[profiles.w] give password_env or password_command, not both",
    ),
    ("theme = 'dark'\n\nthemes = 'light'\n", 3, "unknown key 'themes'; known: theme, profiles"),
    ("theme = 3\n", 1, "theme must be a string"),
    ("profiles = 'x'\n", 1, "profiles must be tables"),
    ("[profiles]\nwork = 'x'\n", 2, "[profiles.work] must be a table"),
    ("theme = 'dark'\n[profiles.w]\nport = = 1\n", 3, "not valid TOML: Invalid value"),
    ("[profiles.w]\n\nhost = 'a", 3, 'not valid TOML: Expected "\'"'),  # at the end
    ("profiles.work.hots = 1\n", 1, "[profiles.work] unknown key 'hots'"),  # a dotted key
    ("[profiles]\n\nwork = { host = 'a', hots = 1 }\n", 3, "unknown key 'hots'"),  # inline
    ("[profiles.'a b']\n\nhots = 1\n", 3, '[profiles."a b"] unknown key'),  # a quoted name
]


@pytest.mark.parametrize(("text", "line", "problem"), BAD)
def test_a_mistake_is_named_with_its_file_and_line(
    config_dir: Path, text: str, line: int, problem: str
) -> None:
    path = write(config_dir, text)
    with pytest.raises(ConfigError) as caught:
        load_config()
    message = str(caught.value)
    assert message.startswith(f"config {path}, line {line}: "), message
    assert problem in message


def test_the_locator_follows_tables_dotted_keys_and_quotes() -> None:
    text = '[a]\nx = 1\n[profiles."w.x"]\nhost = "h"\n[[b]]\ny.z = 2\n'
    assert locate(text, ("a", "x")) == 2
    assert locate(text, ("profiles", "w.x", "host")) == 4
    assert locate(text, ("profiles", "w.x", "port")) == 3  # not there: its table's header
    assert locate(text, ("b", "y", "z")) == 6
    assert locate(text, ("nowhere",)) is None


# -- precedence --------------------------------------------------------------------------

SAMPLES: dict[str, tuple[object, str, object]] = {
    # key: (command line, environment, profile)
    "host": ("cli.example", "env.example", "profile.example"),
    "port": (2525, "2526", 2527),
    "security": ("tls", "none", "starttls"),
    "verify": ("none", "ca", "host"),
    "cafile": ("/cli.pem", "/env.pem", "/profile.pem"),
    "sni": ("cli.sni", "env.sni", "profile.sni"),
    "verify_name": ("cli.name", "env.name", "profile.name"),
    "tls_min": ("1.3", "1.2", "1.3"),
    "tls_max": ("1.2", "1.3", "1.2"),
    "ciphers": ("HIGH", "MEDIUM", "ECDHE"),
    "ehlo": ("cli.ehlo", "env.ehlo", "profile.ehlo"),
    "user": ("cli-user", "env-user", "profile-user"),
    "mechanism": ("PLAIN", "LOGIN", "CRAM-MD5"),
    "sender": ("cli@example.org", "env@example.org", "profile@example.org"),
    "recipients": (("c@example.org",), "e@example.org, f@example.org", ("p@example.org",)),
    "nameserver": ("192.0.2.53", "192.0.2.54:5353", "[2001:db8::53]:53"),
    "lmtp": (True, "False", True),
    "via": ("socks5://127.0.0.1:1080", "socks4a://proxy:1080", "http://u:p@proxy:3128"),
    "pipe": ("exim -bh 192.0.2.1", "smtptui serve --stdio", "cat"),
    "source": ("192.0.2.1", "192.0.2.2", "2001:db8::1"),
    "family": (4, "6", 4),
    "proxy_protocol": ("v1", "v2", "v1"),
    "proxy_source": ("192.0.2.1:1", "192.0.2.2:2", "[2001:db8::3]:3"),
    "proxy_dest": ("198.51.100.1:25", "198.51.100.2:25", "198.51.100.3:25"),
    "xclient": (("ADDR=192.0.2.7",), "ADDR=192.0.2.8 NAME=env.example", ("NAME=p.example",)),
}
EXPECTED_FROM_ENVIRONMENT = {
    "port": 2526,
    "lmtp": False,
    "family": 6,
    "recipients": ("e@example.org", "f@example.org"),
    "xclient": ("ADDR=192.0.2.8", "NAME=env.example"),
}


def test_every_key_has_samples_and_a_variable() -> None:
    assert set(SAMPLES) == set(ENVIRONMENT) == set(KEYS) - {"password_env", "password_command"}


@pytest.mark.parametrize("key", SAMPLES)
@pytest.mark.parametrize("layers", ["cli env profile", "env profile", "profile", ""])
def test_the_command_line_beats_the_environment_beats_the_profile_beats_the_default(
    key: str, layers: str
) -> None:
    cli, env, in_profile = SAMPLES[key]
    given = {key: cli} if "cli" in layers else {}
    environ = {ENVIRONMENT[key]: env} if "env" in layers else {}
    profile = Profile(**{key: in_profile}) if "profile" in layers else None
    found = resolve(given, environ, profile, "work")[key]
    expected = {
        "cli": (cli, "command line"),
        "env": (EXPECTED_FROM_ENVIRONMENT.get(key, env), f"${ENVIRONMENT[key]}"),
        "profile": (in_profile, "profile work"),
        "": (DEFAULTS[key], "default"),
    }[layers.split(" ")[0]]
    assert (found.value, found.source) == expected


@pytest.mark.parametrize("key", ["password_env", "password_command"])
def test_the_passwords_place_comes_from_the_profile_alone(key: str) -> None:
    found = resolve({}, {"SMTPTUI_PASSWORD_ENV": "X"}, Profile(**{key: "PASS"}), "work")
    assert (found[key].value, found[key].source) == ("PASS", "profile work")
    assert resolve({}, {})[key].source == "default"


def test_a_port_written_in_a_host_goes_with_that_host_only() -> None:
    profile = Profile(host="profile.example:2525")
    found = resolve({"host": "cli.example:587"}, {}, profile, "p")
    assert (found["port"].value, found["port"].source) == (587, "command line")
    found = resolve({"host": "cli.example"}, {}, profile, "p")
    assert (found["port"].value, found["port"].source) == (None, "default")
    found = resolve({}, {"SMTPTUI_HOST": "env.example:26"}, Profile(port=2527), "p")
    assert (found["port"].value, found["port"].source) == (26, "$SMTPTUI_HOST")


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("SMTPTUI_PORT", "smtp", "port must be a number"),
        ("SMTPTUI_SECURITY", "ssl", "security must be one of"),
        ("SMTPTUI_USER", "me\r\nRSET", "user:"),
        ("SMTPTUI_NAMESERVER", "dns.example", "nameserver: 'dns.example' is not IP or IP:PORT"),
        ("SMTPTUI_LMTP", "yes", "lmtp must be one of true, false, not 'yes'"),
    ],
)
def test_a_bad_environment_value_names_its_variable(
    variable: str, value: str, problem: str
) -> None:
    with pytest.raises(ConfigError, match=rf"^\${variable}: {problem}"):
        resolve({}, {variable: value})


def test_the_nameserver_and_a_host_routed_by_mx_become_settings_and_back() -> None:
    profile = Profile(host="@example.org", port=2525, nameserver="127.0.0.1:5353")
    settings = session_settings(values_of(resolve({}, {}, profile, "p")))
    assert (settings.mx_domain, settings.port, settings.nameserver) == (
        "example.org",
        2525,
        "127.0.0.1:5353",
    )
    assert profile_of(settings) == Profile(
        host="@example.org",
        port=2525,
        security="starttls",
        verify="both",
        nameserver="127.0.0.1:5353",
    )


def test_lmtp_becomes_a_setting_and_back() -> None:
    settings = session_settings(values_of(resolve({}, {}, Profile(host="h", lmtp=True), "p")))
    assert settings.lmtp and settings.address() == ("h", 24)
    assert profile_of(settings).lmtp is True
    assert profile_of(replace(settings, lmtp=False)).lmtp is None  # SMTP: the key left out
    with pytest.raises(ValueError, match="lmtp must be true or false, not 1"):
        Profile(lmtp=1)  # type: ignore[arg-type]


def test_resolved_values_become_settings() -> None:
    profile = Profile(host="h.example:2525", security="tls", verify="none", user="me", ehlo="e")
    values = values_of(resolve({}, {}, profile, "p"))
    settings = session_settings(values, "pw", SessionSettings(reply_timeout=5))
    assert settings.address() == ("h.example", 2525)
    assert (settings.security, settings.verify, settings.username) == (Security.TLS, "none", "me")
    assert (settings.helo_name, settings.password, settings.reply_timeout) == ("e", "pw", 5)
    again = profile_of(settings, "a@example.org", ("b@example.org",))
    assert again == Profile(
        host="h.example:2525",
        port=2525,
        security="tls",
        verify="none",
        ehlo="e",
        user="me",
        sender="a@example.org",
        recipients=("b@example.org",),
    )


# -- the password ------------------------------------------------------------------------


def test_no_password_place_is_no_password() -> None:
    assert profile_password(Profile(user="me"), "work") is None


def test_password_env_reads_the_variable_it_names() -> None:
    profile = Profile(password_env="WORK_PASS")
    assert profile_password(profile, "work", {"WORK_PASS": "s3cret"}) == "s3cret"
    with pytest.raises(
        ConfigError, match=r"^profile work: password_env: \$WORK_PASS is unset or empty"
    ):
        profile_password(profile, "work", {})


def test_password_command_runs_without_a_shell_and_its_first_line_is_the_password() -> None:
    code = "import sys; print(sys.argv[1:]); print('second line')"
    profile = Profile(password_command=python_command(code) + " 'a b' '$HOME'")
    assert profile_password(profile, "work") == "['a b', '$HOME']"


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        (
            "import sys; sys.exit('no such entry\\x1b[31m')",
            "exited with status 1: no such entry\\x1b[31m",
        ),
        ("pass", "printed nothing"),
    ],
)
def test_a_failing_password_command_is_named_with_what_it_said(code: str, problem: str) -> None:
    profile = Profile(password_command=python_command(code))
    with pytest.raises(ConfigError) as caught:
        profile_password(profile, "work")
    assert str(caught.value).startswith("profile work: password_command ")
    assert problem in str(caught.value)


def test_a_missing_password_command_is_named() -> None:
    with pytest.raises(ConfigError, match="profile work: password_command 'no-such-tool-x"):
        profile_password(Profile(password_command="no-such-tool-x show"), "work")


# -- writing -----------------------------------------------------------------------------


def test_saving_keeps_the_rest_of_the_file_its_comments_and_order(config_dir: Path) -> None:
    path = write(config_dir, FULL + "\n[profiles.other]  # keep me\nhost = 'o'\n")
    save_profile("new", Profile(host="n.example", recipients=("a@example.org",)))
    text = path.read_text()
    assert text.startswith(FULL)  # everything before, byte for byte
    assert "[profiles.other]  # keep me\nhost = 'o'\n" in text
    assert text.endswith('[profiles.new]\nhost = "n.example"\nrecipients = ["a@example.org"]\n')
    assert load_config().profiles["new"] == Profile(host="n.example", recipients=("a@example.org",))


def test_saving_over_a_profile_keeps_its_comments_and_the_keys_not_saved(
    config_dir: Path,
) -> None:
    path = write(config_dir, FULL)
    work = Profile(host="new.example", user="new-user", verify="none")
    save_profile("work", work, SETTINGS_KEYS)
    text = path.read_text()
    assert "[profiles.work]  # my work account\n" in text
    saved = load_config().profiles["work"]
    assert (saved.host, saved.user, saved.verify, saved.port) == (
        "new.example",
        "new-user",
        "none",
        None,  # a settings key: saved as it is now, unset
    )
    assert saved.password_env == "WORK_PASSWORD"  # kept: not a settings key
    assert saved.sni is None  # a settings key: saved as it is now, unset
    save_profile("work", work)  # every key: the ones not set go
    assert load_config().profiles["work"] == work


def test_remembering_the_theme_keeps_the_profiles(config_dir: Path) -> None:
    path = write(config_dir, FULL)
    remember_theme("solarized-dark")
    assert path.read_text() == FULL.replace('theme = "light"', 'theme = "solarized-dark"')
    assert remembered_theme() == "solarized-dark"
    path.write_text("[profiles.w]\nhost = 'h'\n")
    remember_theme("dark")
    assert load_config().theme == "dark"
    assert load_config().profiles["w"].host == "h"


def test_a_file_that_is_not_toml_is_never_overwritten(config_dir: Path) -> None:
    path = write(config_dir, "[profiles.w]\nhost = 'h\n")
    for save in (lambda: remember_theme("dark"), lambda: save_profile("x", Profile(host="x"))):
        with pytest.raises(ConfigError, match=rf"^config {path}, line 2: not valid TOML"):
            save()
    assert path.read_text() == "[profiles.w]\nhost = 'h\n"


@pytest.mark.parametrize("name", ["", "  ", "a\nb"])
def test_a_profile_needs_a_one_line_name(config_dir: Path, name: str) -> None:
    with pytest.raises(ConfigError):
        save_profile(name, Profile(host="h"))
    assert not (config_dir / "config.toml").exists()


def secrets_in(config_dir: Path, *secrets: str) -> list[Path]:
    """The files under ``config_dir`` holding any of ``secrets``."""
    files = [path for path in config_dir.rglob("*") if path.is_file()]
    return [path for path in files if any(s.encode() in path.read_bytes() for s in secrets)]


def test_no_secret_reaches_the_config_directory(config_dir: Path) -> None:
    """Profiles whose passwords came from a variable and from a command, saved again, and
    the theme remembered: the passwords are nowhere under the config directory."""
    write(config_dir, FULL)
    command = Profile(user="me", password_command=python_command("print('cmd-' + 's3cret')"))
    env = Profile(user="me", password_env="WORK_PASSWORD")
    assert profile_password(command, "c") == "cmd-s3cret"
    assert profile_password(env, "e", {"WORK_PASSWORD": "env-s3cret"}) == "env-s3cret"
    save_profile("c", command)
    save_profile("e", env)
    settings = session_settings(values_of(resolve({}, {}, env, "e")), "env-s3cret")
    save_profile("from-settings", profile_of(settings), SETTINGS_KEYS)
    remember_theme("light")
    assert load_config().profiles["c"].password_command is not None
    assert secrets_in(config_dir, "cmd-s3cret", "env-s3cret") == []


# -- the command line --------------------------------------------------------------------


def smtptui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smtptui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_config_path_prints_the_files_path(config_dir: Path) -> None:
    result = smtptui("config", "path")
    assert (result.returncode, result.stdout) == (0, f"{config_dir / 'config.toml'}\n")


def test_config_show_says_where_each_value_came_from_and_no_password(config_dir: Path) -> None:
    write(config_dir, FULL)
    env = {"SMTPTUI_USER": "env-user", "WORK_PASSWORD": "s3cret", "SMTPTUI_PASSWORD": "pw2"}
    result = smtptui("config", "show", "-P", "work", "--sources", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for line in (
        'host = "mail.example.org"  # profile work',
        "port = 587  # profile work",
        'user = "env-user"  # $SMTPTUI_USER',
        'recipients = ["you@example.org", "them@example.org"]  # profile work',
        'password_env = "WORK_PASSWORD"  # profile work',
        "# password_command: not set",
        "# password: set in $SMTPTUI_PASSWORD (not shown)",
        "# password: set in $WORK_PASSWORD (not shown)",
    ):
        assert line in lines, result.stdout
    assert "s3cret" not in result.stdout and "pw2" not in result.stdout
    ns = smtptui("config", "show", "--sources", env={"SMTPTUI_NAMESERVER": "127.0.0.1:5353"})
    assert 'nameserver = "127.0.0.1:5353"  # $SMTPTUI_NAMESERVER' in ns.stdout.splitlines()
    plain = smtptui("config", "show", env={"SMTPTUI_HOST": "h.example"})
    assert plain.stdout.splitlines()[:3] == [
        'host = "h.example"',
        "# port: not set",
        'security = "starttls"',
    ]


def test_an_unknown_profile_is_a_usage_error_naming_the_known_ones(config_dir: Path) -> None:
    write(config_dir, FULL)
    for args in (("run", "-P", "wrok"), ("config", "show", "-P", "wrok")):
        result = smtptui(*args)
        assert result.returncode in (1, 2)  # run's usage errors exit 1, as swaks'
        assert "no profile named 'wrok' (profiles: work, my home)" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_bad_config_file_is_named_with_its_line_by_the_command_line(config_dir: Path) -> None:
    path = write(config_dir, "[profiles.work]\nhots = 'x'\n")
    result = smtptui("run", "-P", "work")
    assert result.returncode == 1
    assert f"config {path}, line 2: [profiles.work] unknown key 'hots'" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_with_a_profile_fills_every_field_and_gets_the_password_from_its_command(
    config_dir: Path,
    tmp_path: Path,
    ca: trustme.CA,
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server()
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    write(
        config_dir,
        f"""[profiles.local]
host = "localhost:{server.port}"
cafile = {json.dumps(str(cafile))}
ehlo = "profile.example"
user = "{USER}"
mechanism = "PLAIN"
sender = "alice@example.org"
recipients = ["bob@example.org", "carol@example.org"]
password_command = {json.dumps(python_command(f"print({PASSWORD[::-1]!r}[::-1])"))}
""",
    )
    result = smtptui("run", "-P", "local", "--no-color", "--to", "dave@example.org")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for line in (
        " -> EHLO profile.example",
        "=== TLS established",
        " ~> AUTH PLAIN ",
        "<~  235 ",
        " ~> MAIL FROM:<alice@example.org>",
        " ~> RCPT TO:<dave@example.org>",  # --to given: the profile's recipients are not
    ):
        assert line in out, out
    assert "bob@example.org" not in out
    assert PASSWORD not in out + result.stderr
    [message] = server.messages
    assert message.rcpt_tos == ("dave@example.org",)
    assert secrets_in(config_dir, PASSWORD) == []


def test_the_environment_fills_run_without_a_profile(
    config_dir: Path, make_server: Callable[..., EmbeddedServer]
) -> None:
    server = make_server(starttls=False)
    env = {
        "SMTPTUI_HOST": f"127.0.0.1:{server.port}",
        "SMTPTUI_SECURITY": "none",
        "SMTPTUI_FROM": "alice@example.org",
        "SMTPTUI_TO": "bob@example.org",
    }
    result = smtptui("run", "--no-color", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " -> RCPT TO:<bob@example.org>" in result.stdout


def test_a_profile_and_the_demo_do_not_mix() -> None:
    result = smtptui("run", "--demo", "-P", "work")
    assert result.returncode == 1
    assert "give --demo or --profile, not both" in result.stderr


def test_a_saved_profile_keeps_the_way_but_not_the_proxy_password() -> None:
    settings = SessionSettings(
        host="mx.example", via="socks5://u:secret@proxy:1080", source_address="::1", family=6
    )
    profile = profile_of(settings)
    assert (profile.via, profile.source, profile.family) == ("socks5://u@proxy:1080", "::1", 6)
    assert profile_of(SessionSettings(pipe="exim -bh 192.0.2.1")).pipe == "exim -bh 192.0.2.1"


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("via", "ftp://proxy:21", "a proxy URL starts socks5://"),
        ("family", 5, "family must be 4 or 6"),
        ("family", True, "family must be 4 or 6"),
        ("source", "mx.example", "not an IP address"),
        ("pipe", "", "give the command to run"),
    ],
)
def test_bad_transport_keys_are_refused(key: str, value: object, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        Profile(**{key: value})  # type: ignore[arg-type]
