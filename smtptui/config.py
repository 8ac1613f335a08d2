"""``config.toml``: the theme remembered, and named connection profiles (``[profiles.NAME]``).

The one module that reads and writes it. Values are checked into typed :class:`Profile`
objects, a bad key or value named with its file and line; :func:`resolve` is the one place
the precedence lives (command line > ``SMTPTUI_*`` environment > profile > defaults).
Nothing secret is ever written: a profile names where its password comes from
(``password_env``, ``password_command``), never the password.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from smtptui.engine.hosts import parse_host
from smtptui.engine.tls import TLS_VERSIONS, VerifyMode
from smtptui.protocol.commands import check
from smtptui.protocol.errors import CommandError
from smtptui.session.keymap import BY_ID
from smtptui.session.settings import Security, SessionSettings
from smtptui.session.visible import visible
from smtptui.toml_lines import locate, syntax_error_line

VERIFY_MODES = tuple(VerifyMode)
"""Certificate verification: the chain and the name, the chain only, the name only, none."""

SECRET_TIMEOUT = 120.0
"""Seconds a command that prints a password or a token may take (it may ask for a
passphrase, or open a browser for an OAuth login)."""


def config_dir() -> Path:
    """smtptui's config directory (``$SMTPTUI_CONFIG_DIR`` overrides it)."""
    override = os.environ.get("SMTPTUI_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs  # only when needed: `run` without a profile never asks

    return Path(platformdirs.user_config_dir("smtptui"))


def config_file() -> Path:
    return config_dir() / "config.toml"


class ConfigError(ValueError):
    """A config file, profile or variable that cannot be used: the message says where
    (the file and line, the profile, the variable) and what is wrong; ``key`` is the key
    at fault when the command line gave it (the CLI names its flag)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Profile:
    """One ``[profiles.NAME]`` table: None is a key left out."""

    host: str | None = None
    port: int | None = None
    security: str | None = None  # starttls, tls or none
    verify: str | None = None  # one of VERIFY_MODES (true is "both", false "none")
    cafile: str | None = None
    sni: str | None = None
    verify_name: str | None = None
    tls_min: str | None = None
    tls_max: str | None = None
    ciphers: str | None = None
    ehlo: str | None = None
    user: str | None = None
    mechanism: str | None = None
    sender: str | None = None
    recipients: tuple[str, ...] | None = None
    nameserver: str | None = None  # the DNS server that routing by MX asks: IP or IP:PORT
    lmtp: bool | None = None  # LMTP (RFC 2033) rather than SMTP
    via: str | None = None  # a proxy: socks5://[user:pass@]host:port, socks4a://, http://
    pipe: str | None = None  # a command whose stdin and stdout carry the session (no host)
    source: str | None = None  # the address to connect from
    family: int | None = None  # 4 or 6: TCP over that IP version only
    proxy_protocol: str | None = None  # v1 or v2: a PROXY header before the greeting
    proxy_source: str | None = None  # ADDR:PORT the header names
    proxy_dest: str | None = None  # ADDR:PORT the header names
    xclient: tuple[str, ...] | None = None  # NAME=VALUE each: XCLIENT after the first EHLO
    password_env: str | None = None  # the name of the variable holding the password
    password_command: str | None = None  # a command line that prints the password

    def __post_init__(self) -> None:
        for each in fields(self):
            value = getattr(self, each.name)
            if value is not None:
                object.__setattr__(self, each.name, _checked(each.name, value))
        if self.password_env and self.password_command:
            raise ValueError("give password_env or password_command, not both")


KEYS = tuple(each.name for each in fields(Profile))
"""A profile's keys, in the order ``config show`` and saved profiles list them."""

ENVIRONMENT = {
    "host": "SMTPTUI_HOST",
    "port": "SMTPTUI_PORT",
    "security": "SMTPTUI_SECURITY",
    "verify": "SMTPTUI_VERIFY",
    "cafile": "SMTPTUI_CAFILE",
    "sni": "SMTPTUI_SNI",
    "verify_name": "SMTPTUI_VERIFY_NAME",
    "tls_min": "SMTPTUI_TLS_MIN",
    "tls_max": "SMTPTUI_TLS_MAX",
    "ciphers": "SMTPTUI_CIPHERS",
    "ehlo": "SMTPTUI_EHLO",
    "user": "SMTPTUI_USER",
    "mechanism": "SMTPTUI_AUTH",
    "sender": "SMTPTUI_FROM",
    "recipients": "SMTPTUI_TO",  # comma-separated
    "nameserver": "SMTPTUI_NAMESERVER",
    "lmtp": "SMTPTUI_LMTP",  # true or false
    "via": "SMTPTUI_VIA",
    "pipe": "SMTPTUI_PIPE",
    "source": "SMTPTUI_SOURCE",
    "family": "SMTPTUI_FAMILY",
    "proxy_protocol": "SMTPTUI_PROXY_PROTOCOL",
    "proxy_source": "SMTPTUI_PROXY_SOURCE",
    "proxy_dest": "SMTPTUI_PROXY_DEST",
    "xclient": "SMTPTUI_XCLIENT",  # space-separated NAME=VALUE
}
"""The variable that sets each key (the password's places are a profile's alone)."""

DEFAULTS: dict[str, Any] = dict.fromkeys(KEYS) | {
    "security": Security.STARTTLS.value,
    "verify": "both",
    "recipients": (),
    "lmtp": False,
    "xclient": (),
}


@dataclass(frozen=True)
class Config:
    """What ``config.toml`` holds."""

    path: Path
    theme: str | None = None
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    keymap: Mapping[str, str] = field(default_factory=dict)
    """``[keymap]``: action id → its keys (a comma list), the ids known to the table."""
    keymap_problems: tuple[str, ...] = ()
    """What of ``[keymap]`` cannot be used (said on screen; the rest is applied)."""


@dataclass(frozen=True)
class Resolved:
    """A value and where it came from: "command line", "$SMTPTUI_HOST", "profile work" or
    "default"."""

    value: Any
    source: str


def load_config(path: Path | None = None) -> Config:
    """The config in ``path`` (default :func:`config_file`; a missing file is an empty
    config); raises :class:`ConfigError` naming the file and line of what is wrong."""
    path = path or config_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config(path)
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"config {path}: cannot be read: {error}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _syntax_error(path, text, error) from None
    for key in data:
        if key not in ("theme", "profiles", "keymap"):
            raise _at(path, text, (key,), f"unknown key {key!r}; known: theme, profiles, keymap")
    theme = data.get("theme")
    if theme is not None and not isinstance(theme, str):
        raise _at(path, text, ("theme",), "theme must be a string (a theme's name)")
    tables = data.get("profiles", {})
    if not isinstance(tables, dict):
        raise _at(path, text, ("profiles",), "profiles must be tables: [profiles.NAME]")
    profiles: dict[str, Profile] = {}
    for name, table in tables.items():
        where = f"[profiles.{_toml_key(name)}]"
        if not isinstance(table, dict):
            raise _at(path, text, ("profiles", name), f"{where} must be a table")
        for key, value in table.items():
            try:
                _checked(key, value)
            except ValueError as error:
                raise _at(path, text, ("profiles", name, key), f"{where} {error}") from None
        try:
            profiles[name] = Profile(**table)
        except ValueError as error:
            raise _at(path, text, ("profiles", name), f"{where} {error}") from None
    keymap, problems = _keymap(path, text, data.get("keymap", {}))
    return Config(path, theme, profiles, keymap, problems)


def _keymap(path: Path, text: str, table: Any) -> tuple[dict[str, str], tuple[str, ...]]:
    """``[keymap]``'s entries with a known id and a string of keys, and what is wrong with
    the others, each named with the file and line (never an error: keys are not worth
    refusing to start for)."""
    if not isinstance(table, dict):
        return {}, (str(_at(path, text, ("keymap",), "keymap must be a table: [keymap]")),)
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for id, keys in table.items():
        if id not in BY_ID:
            problem = f"[keymap] has no action {id!r} (the README lists them)"
        elif not isinstance(keys, str) or not keys.strip():
            problem = f'[keymap] {id} must be keys in a string: {id} = "ctrl+k" or "f2,alt+c"'
        else:
            keymap[id] = keys
            continue
        problems.append(str(_at(path, text, ("keymap", id), problem)))
    return keymap, tuple(problems)


def load_keymap() -> tuple[Mapping[str, str], tuple[str, ...]]:
    """config.toml's ``[keymap]`` and its problems, the rest of the file unchecked (a
    profile's mistake is named where profiles are used); a file that is not TOML is one
    problem and no keymap."""
    path = config_file()
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError):
        return {}, ()
    except tomllib.TOMLDecodeError as error:
        return {}, (f"keymap not read: {_syntax_error(path, text, error)}",)
    return _keymap(path, text, data.get("keymap", {}))


def _checked(key: str, value: Any) -> Any:
    """``value`` for ``key`` as a :class:`Profile` holds it; ValueError saying what is wrong
    (the key named)."""
    if key == "password":
        raise ValueError(
            "'password': smtptui never stores passwords; name where it is instead, with "
            "password_env (a variable) or password_command (a command that prints it)"
        )
    if key not in KEYS:
        raise ValueError(f"unknown key {key!r}; known: {', '.join(KEYS)}")
    if key == "port":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
            raise ValueError(f"port must be a number from 1 to 65535, not {value!r}")
        return value
    if key == "verify":
        if isinstance(value, bool):
            return "both" if value else "none"
        return _one_of(key, value, VERIFY_MODES, lower=True)
    if key == "recipients":
        if isinstance(value, str) or not all(isinstance(each, str) for each in value):
            raise ValueError('recipients must be a list of addresses: ["a@example.org"]')
        return tuple(_text(key, each) for each in value)
    if key == "security":
        return _one_of(key, value, tuple(Security), lower=True)
    if key == "lmtp":
        if isinstance(value, str):  # from the environment
            return _one_of(key, value, ("true", "false"), lower=True) == "true"
        if not isinstance(value, bool):
            raise ValueError(f"lmtp must be true or false, not {value!r}")
        return value
    if key in TRANSPORT_KEYS:
        return _transport(key, value)
    if key == "proxy_protocol":
        return _one_of(key, value, ("v1", "v2"), lower=True)
    if key == "xclient":
        if isinstance(value, str) or not all(isinstance(each, str) for each in value):
            raise ValueError('xclient must be a list of NAME=VALUE: ["ADDR=192.0.2.1"]')
        return tuple(_text(key, each) for each in value)
    if key in ("tls_min", "tls_max"):
        return _one_of(key, str(value) if isinstance(value, float) else value, TLS_VERSIONS)
    value = _text(key, value)
    if key == "nameserver":
        from smtptui.engine.mx import parse_nameserver  # dnspython: only when one is set

        try:
            parse_nameserver(value)
        except CommandError as error:
            raise ValueError(str(error)) from None
    if key == "password_env" and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise ValueError(f"password_env must name an environment variable, not {value!r}")
    if key == "password_command":
        try:
            if not shlex.split(value):
                raise ValueError("password_command is empty")
        except ValueError as error:
            raise ValueError(f"password_command: {error}") from None
    return value


TRANSPORT_KEYS = ("via", "pipe", "source", "family")
"""The keys that say the way to the server, checked by the engine's ``Route``."""


def _transport(key: str, value: Any) -> Any:
    """A transport key's value, checked as the connection will check it."""
    from smtptui.engine.transport import Route

    if key == "family":
        if str(value).strip() not in ("4", "6") or isinstance(value, bool):
            raise ValueError(f"family must be 4 or 6, not {value!r}")
        value = int(value)
    else:
        value = _text(key, value)
    try:
        Route(**({key: value} if key == "pipe" else {"host": "localhost", "port": 25, key: value}))
    except CommandError as error:
        raise ValueError(str(error)) from None
    return value


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, not {value!r}")
    try:
        check(key, value)
    except CommandError as error:
        raise ValueError(str(error)) from None
    return value


def _one_of(key: str, value: Any, allowed: tuple[str, ...], *, lower: bool = False) -> str:
    word = value.strip().lower() if lower and isinstance(value, str) else value
    if word not in allowed:
        raise ValueError(f"{key} must be one of {', '.join(allowed)}, not {value!r}")
    return str(word)


# -- precedence ------------------------------------------------------------------------


def resolve(
    given: Mapping[str, Any],
    environ: Mapping[str, str],
    profile: Profile | None = None,
    name: str = "",
) -> dict[str, Resolved]:
    """Every key's value and its source: ``given`` (the command line's) over the
    :data:`ENVIRONMENT` variables over ``profile`` (called ``name``) over :data:`DEFAULTS`.

    A port written in a host (``h:2525``) counts as a port given with that host, and only
    when that host is the one used: a host typed with its port never goes to a profile's
    port, nor a profile's host's port to another host. A bad environment
    value is a ConfigError naming its variable.
    """
    layers: list[tuple[str, dict[str, Any]]] = [("command line", {})]
    for key, value in given.items():
        try:
            layers[0][1][key] = _checked(key, value)
        except ValueError as error:
            raise ConfigError(f"command line: {error}", key) from None
    for key, variable in ENVIRONMENT.items():
        if text := environ.get(variable):
            layers.append((f"${variable}", {key: _from_environment(variable, key, text)}))
    if profile is not None:
        set_keys = {key: getattr(profile, key) for key in KEYS}
        layers.append((f"profile {name}", {k: v for k, v in set_keys.items() if v is not None}))
    found: dict[str, Resolved] = {}
    for source, values in layers:
        for key, value in values.items():
            if key in found:
                continue
            found[key] = Resolved(value, source)
            if key == "host" and "port" not in values and (port := _written_port(value)):
                found.setdefault("port", Resolved(port, source))
    for key, value in DEFAULTS.items():
        found.setdefault(key, Resolved(value, "default"))
    return {key: found[key] for key in KEYS}


def values_of(found: Mapping[str, Resolved]) -> dict[str, Any]:
    """Each key's value alone."""
    return {key: each.value for key, each in found.items()}


def _from_environment(variable: str, key: str, text: str) -> Any:
    try:
        if key == "port":
            if not text.strip().isdigit():
                raise ValueError(f"port must be a number from 1 to 65535, not {text!r}")
            return _checked(key, int(text))
        if key == "recipients":
            return _checked(key, [each.strip() for each in text.split(",") if each.strip()])
        if key == "xclient":
            return _checked(key, text.split())
        return _checked(key, text)
    except ValueError as error:
        raise ConfigError(f"${variable}: {error}") from None


def _written_port(host: str | None) -> int | None:
    try:
        return parse_host(host or "", 0)[1] or None
    except ValueError:
        return None


def session_settings(
    values: Mapping[str, Any], password: str = "", base: SessionSettings | None = None
) -> SessionSettings:
    """``base`` with the resolved ``values`` (key → value) and ``password``; raises
    CommandError naming a bad one. The one place profile keys become settings."""
    base = base or SessionSettings()
    return replace(
        base,
        host=values["host"] or "",
        port=values["port"],
        security=Security(values["security"]),
        verify=values["verify"],
        cafile=values["cafile"],
        sni=values["sni"],
        verify_name=values["verify_name"],
        tls_min=values["tls_min"],
        tls_max=values["tls_max"],
        ciphers=values["ciphers"],
        helo_name=values["ehlo"] or base.helo_name,
        username=values["user"] or "",
        password=password,
        mechanism=values["mechanism"],
        nameserver=values["nameserver"],
        lmtp=values["lmtp"],
        via=values["via"],
        pipe=values["pipe"],
        source_address=values["source"],
        family=values["family"],
        proxy_protocol=values["proxy_protocol"],
        proxy_source=values["proxy_source"],
        proxy_dest=values["proxy_dest"],
        xclient=values["xclient"] or (),
    )


SETTINGS_KEYS = ("host", "port", "security", "verify", "cafile", "sni", "verify_name")
SETTINGS_KEYS += ("tls_min", "tls_max", "ciphers", "ehlo", "user", "mechanism")
SETTINGS_KEYS += ("sender", "recipients", "nameserver", "lmtp")
SETTINGS_KEYS += TRANSPORT_KEYS
SETTINGS_KEYS += ("proxy_protocol", "proxy_source", "proxy_dest", "xclient")
"""The keys :func:`profile_of` sets from the session's settings and the Compose pane."""


def profile_of(
    settings: SessionSettings, sender: str = "", recipients: tuple[str, ...] = ()
) -> Profile:
    """The profile that opens ``settings`` again (no password: never written, a proxy's
    neither) with the Compose pane's ``sender`` and ``recipients``."""
    from smtptui.engine.transport import shown_proxy

    return Profile(
        host=settings.host or None,
        port=settings.port,
        security=settings.security.value,
        verify=settings.verify.value,
        cafile=settings.cafile,
        sni=settings.sni,
        verify_name=settings.verify_name,
        tls_min=settings.tls_min,
        tls_max=settings.tls_max,
        ciphers=settings.ciphers,
        ehlo=settings.helo_name or None,
        user=settings.username or None,
        mechanism=settings.mechanism,
        sender=sender or None,
        recipients=recipients or None,
        nameserver=settings.nameserver,
        lmtp=settings.lmtp or None,
        via=settings.via and shown_proxy(settings.via),  # never a password on disk
        pipe=settings.pipe,
        source=settings.source_address,
        family=settings.family,
        proxy_protocol=settings.proxy_protocol,
        proxy_source=settings.proxy_source,
        proxy_dest=settings.proxy_dest,
        xclient=settings.xclient or None,
    )


# -- the password --------------------------------------------------------------------------


def read_secret(
    variable: str | None,
    command: str | None,
    *,
    names: tuple[str, str],
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """A secret from where it is kept: the value of ``variable``, or the first line
    ``command`` prints (split as a shell would, run without one, within
    :data:`SECRET_TIMEOUT`); None if neither is given. Read when needed, kept nowhere.

    ConfigError says why neither yielded one, naming the variable's or the command's place
    by ``names`` (a profile's keys, or ``run``'s flags); the secret is never in it."""
    if variable:
        value = (os.environ if environ is None else environ).get(variable)
        if not value or not value.strip():
            raise ConfigError(f"{names[0]}: ${variable} is unset or empty")
        return value
    if command is None:
        return None
    where = f"{names[1]} {visible(command, one_line=True)!r}"
    try:
        done = subprocess.run(
            shlex.split(command), capture_output=True, timeout=SECRET_TIMEOUT, check=False
        )
    except (ValueError, OSError, subprocess.TimeoutExpired) as error:
        raise ConfigError(f"{where}: {visible(str(error), one_line=True)}") from None
    said = visible(done.stderr.decode("utf-8", "replace").strip(), one_line=True)
    if done.returncode != 0:
        why = f": {said}" if said else ""
        raise ConfigError(f"{where} exited with status {done.returncode}{why}")
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    if not lines or not lines[0]:
        raise ConfigError(f"{where} printed nothing")
    return lines[0]


def profile_password(
    profile: Profile, name: str = "", environ: Mapping[str, str] | None = None
) -> str | None:
    """The password ``profile`` names the place of (None if it names none): its
    ``password_env`` variable's value, or what its ``password_command`` prints."""
    where = f"profile {name}" if name else "profile"
    return read_secret(
        profile.password_env,
        profile.password_command,
        names=(f"{where}: password_env", f"{where}: password_command"),
        environ=environ,
    )


# -- writing -------------------------------------------------------------------------------


def remembered_theme() -> str | None:
    """The theme chosen last time, if any (an unreadable file counts as none)."""
    try:
        theme = tomllib.loads(config_file().read_text(encoding="utf-8")).get("theme")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return theme if isinstance(theme, str) else None


def remember_theme(name: str) -> None:
    """Keep ``name`` as the theme for next time, the rest of the file as it was; raises
    OSError if it cannot be written, ConfigError if the file is not TOML (kept as it is)."""
    with _editing() as document:
        document["theme"] = name


def check_name(name: str) -> None:
    """Raise ConfigError if ``name`` cannot name a profile (empty, or more than a line)."""
    if not name.strip():
        raise ConfigError("a profile needs a name")
    try:
        check("profile name", name)
    except CommandError as error:
        raise ConfigError(str(error)) from None


def save_profile(name: str, profile: Profile, keys: tuple[str, ...] = KEYS) -> Path:
    """Write ``profile``'s ``keys`` as ``[profiles.NAME]`` (its other keys and comments, if
    it is there, kept: say :data:`SETTINGS_KEYS` to keep the password's place and the keys
    the settings do not hold), the rest of the file as it was; the file's path. Raises
    OSError or ConfigError (a bad name, or a file that is not TOML)."""
    check_name(name)
    import tomlkit

    with _editing() as document:
        if "profiles" not in document:
            document.add(tomlkit.nl())
            document["profiles"] = tomlkit.table(is_super_table=True)
        profiles = document["profiles"]
        if name not in profiles:
            profiles[name] = tomlkit.table()
        table = profiles[name]
        for key in keys:
            value = getattr(profile, key)
            if value is None:
                table.pop(key, None)
            else:
                table[key] = list(value) if isinstance(value, tuple) else value
    return config_file()


@contextlib.contextmanager
def _editing() -> Iterator[Any]:
    """The config file as a tomlkit document (comments, order and all), written back whole,
    in one replace, when the block ends without an error."""
    import tomlkit  # only when saving: reading needs nothing but tomllib

    path = config_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except UnicodeDecodeError as error:
        raise ConfigError(f"config {path}: cannot be read: {error}") from None
    try:
        tomllib.loads(text)  # its error names the line as load_config's does
    except tomllib.TOMLDecodeError as error:
        raise _syntax_error(path, text, error) from None
    document = tomlkit.parse(text)
    yield document
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(document.as_string(), encoding="utf-8")
    os.replace(temporary, path)


# -- where in the file ----------------------------------------------------------------------


def _syntax_error(path: Path, text: str, error: tomllib.TOMLDecodeError) -> ConfigError:
    line, message = syntax_error_line(text, error)
    where = f"config {path}" if line is None else f"config {path}, line {line}"
    return ConfigError(f"{where}: not valid TOML: {message}")


def _at(path: Path, text: str, keys: tuple[str, ...], problem: str) -> ConfigError:
    line = locate(text, keys)
    where = f"config {path}" if line is None else f"config {path}, line {line}"
    return ConfigError(f"{where}: {problem}")


def _toml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f'"{name}"'
