"""The one entry point: ``smtptui`` and ``python -m smtptui``.

``smtptui [HOST[:PORT]]`` opens the interactive UI; ``smtptui run`` runs a whole session
headless and prints the transcript (like swaks); ``smtptui serve`` runs the embedded server.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import socket
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from smtptui import VERSION_LINE, __version__
from smtptui.cli_lmtp import lmtp_options
from smtptui.cli_message import MessageFlags, message_options, stacked
from smtptui.cli_open import diff_command, open_command
from smtptui.cli_proxy import (
    PROXY_FLAGS,
    PROXY_KEY_FLAGS,
    PROXY_KEYS,
    proxy_options,
)
from smtptui.cli_transport import TRANSPORT_FLAGS, TRANSPORT_KEYS, transport_options
from smtptui.engine.tls import TLS_VERSIONS, VerifyMode
from smtptui.protocol.commands import address
from smtptui.protocol.data import DEFAULT_CHUNK_SIZE, encode_message
from smtptui.protocol.envelope import (
    BODIES,
    RECIPIENT_FIELD,
    RETS,
    Envelope,
    RcptParams,
    parse_notify,
    parse_recipient_params,
)
from smtptui.protocol.errors import CommandError
from smtptui.session import QUIT_STOPS, Exit, Risk, Stop

# Only what every command needs is imported here; each command imports the rest where it is
# used, so that `smtptui --version` and `run` load neither Textual nor the embedded server
# (nor aiosmtpd) unless they use them.
if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from smtptui.cli_output import RunOutput
    from smtptui.config import Profile, Resolved
    from smtptui.server import EmbeddedServer, Listening
    from smtptui.session import RunAll, SessionSettings
    from smtptui.session.findings import Finding
    from smtptui.session.probe import ProbeReport
    from smtptui.session.routing import MxReport
    from smtptui.ui.app import SmtpTui

DEMO_SENDER = "alice@smtptui.demo"
DEMO_RECIPIENT = "bob@smtptui.demo"
DEMO_SUBJECT = "Hello from smtptui"
DEMO_BODY = "This message went through every step of an SMTP session.\n"


def demo_message(sender: str, recipients: Sequence[str]) -> str:
    to = ", ".join(recipients)
    return f"From: {sender}\r\nTo: {to}\r\nSubject: {DEMO_SUBJECT}\r\n\r\n{DEMO_BODY}"


def default_sender() -> str:
    """The sender ``run`` uses without --from: ``$LOGNAME@`` this host's name, as swaks does
    (the login name from $USER or the account when $LOGNAME is unset)."""
    import getpass  # here: only `run` without --from needs it

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no such variable, and no account entry either
        user = "postmaster"
    return f"{user}@{socket.getfqdn()}"


@contextlib.contextmanager
def demo_server(
    port: int = 0,
    *,
    implicit_tls: bool = False,
    lmtp: bool = False,
    proxy_protocol: bool = False,
) -> Iterator[tuple[EmbeddedServer, SessionSettings, str]]:
    """The embedded server, started in this process (on a free port unless ``port``;
    STARTTLS unless ``implicit_tls``; LMTP if ``lmtp``; XCLIENT offered; a PROXY header
    expected if ``proxy_protocol``; the messages it accepts kept in ``messages``); settings
    for it and a line saying where it is (:func:`demo_settings`)."""
    from smtptui.server import DEMO_USERS, EmbeddedServer, Listening

    server = EmbeddedServer(
        port=port,
        implicit_tls=implicit_tls,
        lmtp=lmtp,
        proxy_protocol=proxy_protocol,
        xclient=True,
    )
    with server:
        assert server.self_signed is not None
        pem = server.self_signed.cert_pem.decode("ascii")
        user, password = next(iter(DEMO_USERS.items()))
        listening = Listening(server.host, server.port, pem, user, password)
        yield server, *demo_settings(listening, implicit_tls=implicit_tls, lmtp=lmtp)


def demo_settings(
    listening: Listening, *, implicit_tls: bool = False, lmtp: bool = False
) -> tuple[SessionSettings, str]:
    """Settings for the demo server ``listening`` (its certificate trusted for this run
    only, the demo user) and a line saying where it is."""
    from smtptui.engine.hosts import format_host
    from smtptui.session import Security, SessionSettings

    settings = SessionSettings(
        host=f"{listening.host}:{listening.port}",
        security=Security.TLS if implicit_tls else Security.STARTTLS,
        ssl_context=listening.client_context(),
        helo_name="client.smtptui.demo",
        username=listening.user,
        password=listening.password,
        lmtp=lmtp,
    )
    where = f"Demo server on {format_host(*settings.address())}, user {listening.user}"
    return settings, where


DEMO_STEPS = (
    "Its self-signed certificate is trusted for this run only.",
    "Try: {connect} connect, {ehlo} EHLO, {starttls} STARTTLS, {ehlo} EHLO again,",
    "then {auth} AUTH, {send} send, {quit} QUIT.",
    "No F-keys? {connect:nof} connect, {ehlo:nof} EHLO, {starttls:nof} STARTTLS,",
    "{auth:nof} AUTH, {send:nof} send, {quit:nof} QUIT.",
    "{help} lists every key; {command_line} to type any SMTP command.",
)
"""The demo's welcome: each ``{id}`` becomes that action's key (``session.keymap``)."""


TLS_FLAGS = {
    "verify": "--verify",
    "sni": "--sni",
    "verify name": "--verify-name",
    "tls min": "--tls-min",
    "tls max": "--tls-max",
    "ciphers": "--ciphers",
    "client certificate": "--cert",
    "client key": "--key",
}
"""The flag for each setting a :class:`CommandError` may name (its field, lower case)."""


VERIFY_CHOICE = click.Choice([mode.value for mode in VerifyMode], case_sensitive=False)
VERIFY_HELP = (
    "What to check of the certificate: its chain to a trusted CA and its name (both, the "
    "default), the chain alone (ca), the name alone (host), or nothing."
)
"""``--verify``'s choices and help, for ``run``, the UI and ``probe``."""


def security_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--starttls / --tls / --plain, the TLS controls (--verify, --no-verify, --cafile,
    --cert, --key, --sni, --verify-name, --tls-min, --tls-max, --ciphers), --ehlo, --user,
    --auth: shared by the UI and ``run``."""
    options = [
        click.option(
            "--starttls", "security", flag_value="starttls", default=True, help="STARTTLS."
        ),
        click.option("--tls", "security", flag_value="tls", help="Implicit TLS (port 465)."),
        click.option("--plain", "security", flag_value="none", help="No TLS at all."),
        click.option("--verify", type=VERIFY_CHOICE, help=VERIFY_HELP),
        click.option(
            "--no-verify", is_flag=True, help="Do not verify the certificate (--verify none)."
        ),
        click.option("--cafile", type=click.Path(exists=True, dir_okay=False), help="Trust a CA."),
        click.option(
            "--cert",
            "client_cert",
            type=click.Path(exists=True, dir_okay=False),
            help="Client certificate (PEM; with its key unless --key).",
        ),
        click.option(
            "--key",
            "client_key",
            type=click.Path(exists=True, dir_okay=False),
            help="The client certificate's key (PEM).",
        ),
        click.option(
            "--sni",
            metavar="NAME",
            help="The name to send in SNI (default: the host; '' for none).",
        ),
        click.option(
            "--verify-name",
            metavar="NAME",
            help="The name the certificate must be for (default: the SNI name, else the host).",
        ),
        click.option(
            "--tls-min",
            type=click.Choice(list(TLS_VERSIONS)),
            help="The lowest TLS version to accept.",
        ),
        click.option(
            "--tls-max",
            type=click.Choice(list(TLS_VERSIONS)),
            help="The highest TLS version to offer.",
        ),
        click.option(
            "--ciphers", metavar="STRING", help="OpenSSL cipher string (TLS 1.2 and older)."
        ),
        click.option("--ehlo", "helo_name", default="", help="The name to send in EHLO/HELO."),
        click.option("--user", default="", help="The user to AUTH as."),
        click.option(
            "--auth",
            "mechanism",
            default=None,
            help="SASL mechanism, or a comma list (PLAIN,LOGIN) tried in that order among "
            "those the server offers until one succeeds (default: the best offered).",
        ),
    ]
    return stacked(*options)(command)


def envelope_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--size, --body-type, --smtputf8, --ret, --envid, --notify, --orcpt, --rcpt-params,
    --requiretls: the test message's envelope parameters (see :func:`make_envelope`)."""
    options = [
        click.option(
            "--size", type=int, help="SIZE= to declare (default: the message's, if offered)."
        ),
        click.option(
            "--body-type", "body", type=click.Choice(BODIES, case_sensitive=False), help="BODY=."
        ),
        click.option(
            "--smtputf8/--no-smtputf8",
            default=None,
            help="Send SMTPUTF8, or never (default: when an address needs it).",
        ),
        click.option("--ret", type=click.Choice(RETS, case_sensitive=False), help="DSN RET=."),
        click.option("--envid", help="DSN ENVID= (printable ASCII, at most 100 characters)."),
        click.option(
            "--notify",
            default="",
            help="DSN NOTIFY= for each --to: never, or any of success,failure,delay.",
        ),
        click.option("--orcpt", help="DSN ORCPT= for each --to (an address, or type;address)."),
        click.option(
            "--rcpt-params",
            multiple=True,
            metavar="'ADDRESS NOTIFY=… ORCPT=…'",
            help="DSN NOTIFY= and/or ORCPT= for one --to, over --notify and --orcpt (repeatable).",
        ),
        click.option(
            "--requiretls", is_flag=True, help="REQUIRETLS: relay only over verified TLS."
        ),
    ]
    return stacked(*options)(command)


ENVELOPE_FLAGS = (
    "size",
    "body",
    "smtputf8",
    "ret",
    "envid",
    "notify",
    "orcpt",
    "rcpt_params",
    "requiretls",
)
"""The parameter names :func:`envelope_options` gives the command."""


def make_envelope(recipients: Sequence[str], **flags: Any) -> Envelope | None:
    """The envelope the flags ask for (``orcpt`` for every recipient, ``rcpt_params`` for the
    recipient each names), None if they ask for nothing; a bad value is a usage error naming
    its flag."""
    orcpt = flags["orcpt"] or None
    rcpt = recipient_params(recipients, flags.get("rcpt_params") or ())
    try:
        if orcpt is not None:
            RcptParams(orcpt=orcpt).options()  # checked even without a recipient
        envelope = Envelope(
            size=flags["size"],
            body=flags["body"],
            smtputf8=flags["smtputf8"],
            ret=flags["ret"],
            envid=flags["envid"] or None,
            requiretls=flags["requiretls"],
            notify=parse_notify(flags["notify"]),
            orcpt={} if orcpt is None else dict.fromkeys(recipients, orcpt),
            rcpt=rcpt,
        )
        envelope.needs()  # checks every other value
    except CommandError as error:
        raise click.BadParameter(str(error), param_hint=f"'--{error.field.lower()}'") from None
    if not recipients and (orcpt is not None or not envelope.empty):
        raise click.UsageError("envelope parameters need at least one --to")
    return None if envelope.empty else envelope


def recipient_params(recipients: Sequence[str], values: Sequence[str]) -> dict[str, RcptParams]:
    """Each --rcpt-params value (one line of :func:`parse_recipient_params`) keyed by the
    --to it names (as typed, as the session looks it up); a bad value, or an address not
    among ``recipients``, is a usage error."""
    hint = "'--rcpt-params'"
    bare: dict[str, list[str]] = {}
    for recipient in recipients:
        try:
            bare.setdefault(address("--to", recipient), []).append(recipient)
        except CommandError:
            continue  # refused when it is sent, as without --rcpt-params
    found: dict[str, RcptParams] = {}
    named: set[str] = set()
    for value in values:
        if "\n" in value or "\r" in value:
            raise click.BadParameter(f"{value!r}: one recipient each", param_hint=hint)
        try:
            parsed = parse_recipient_params(value)
        except CommandError as error:
            why = str(error).removeprefix(f"{RECIPIENT_FIELD}: line 1: ")
            raise click.BadParameter(f"{value!r}: {why}", param_hint=hint) from None
        if not parsed:
            raise click.BadParameter("is empty: give ADDRESS NOTIFY=… ORCPT=…", param_hint=hint)
        [(recipient, params)] = parsed.items()
        if recipient in named:
            raise click.BadParameter(f"{recipient} is given twice", param_hint=hint)
        if recipient not in bare:
            raise click.UsageError(f"--rcpt-params names {recipient}, which is not a --to")
        named.add(recipient)
        found.update(dict.fromkeys(bare[recipient], params))
    return found


def env_password() -> str:
    """The password in $SMTPTUI_PASSWORD ("" when unset): only read, never written anywhere,
    so that it need not be typed on a command line (where ``ps`` and the history see it)."""
    from smtptui.session.settings import PASSWORD_VARIABLE

    return os.environ.get(PASSWORD_VARIABLE, "")


def make_settings(
    values: Mapping[str, Any],
    password: str = "",
    base: SessionSettings | None = None,
    **extra: Any,
) -> SessionSettings:
    """Settings from resolved profile keys (:func:`resolved`), over ``base`` (the demo's) if
    given, with ``extra`` settings no profile holds (the client certificate, run's AUTH
    flags); a bad value is a usage error naming its flag."""
    from smtptui.config import session_settings

    try:
        return dataclasses.replace(session_settings(values, password, base), **extra)
    except CommandError as error:
        flag = (
            TLS_FLAGS.get(error.field.lower())
            or TRANSPORT_FLAGS.get(error.field)
            or PROXY_FLAGS.get(error.field)
        )
        raise click.BadParameter(str(error), param_hint=flag and f"'{flag}'") from None


PROFILE_KEYS = {
    "host": "host",
    "security": "security",
    "verify": "verify",
    "no_verify": "verify",
    "cafile": "cafile",
    "sni": "sni",
    "verify_name": "verify_name",
    "tls_min": "tls_min",
    "tls_max": "tls_max",
    "ciphers": "ciphers",
    "helo_name": "ehlo",
    "user": "user",
    "mechanism": "mechanism",
    "sender": "sender",
    "recipients": "recipients",
    "nameserver": "nameserver",
    "lmtp": "lmtp",
    **TRANSPORT_KEYS,
    **{name: name for name in PROXY_KEYS},
}
"""The command line's parameters that set a profile key, and the key each sets."""

KEY_FLAGS = {
    "host": "HOST",
    "security": "--starttls/--tls/--plain",
    "verify": "--verify",
    "cafile": "--cafile",
    "sni": "--sni",
    "verify_name": "--verify-name",
    "tls_min": "--tls-min",
    "tls_max": "--tls-max",
    "ciphers": "--ciphers",
    "ehlo": "--ehlo",
    "user": "--user",
    "mechanism": "--auth",
    "sender": "--from",
    "recipients": "--to",
    "nameserver": "--nameserver",
    "lmtp": "--lmtp",
    **TRANSPORT_FLAGS,
    **PROXY_KEY_FLAGS,
}
"""The flag that gives each profile key on the command line, for naming it in an error."""


def command_line_keys(params: Mapping[str, Any], ctx: click.Context | None) -> dict[str, Any]:
    """The profile keys the command line sets: the parameters typed on it (with no click
    context, as a caller in Python passes them: each one given that is not empty)."""
    from click.core import ParameterSource

    given: dict[str, Any] = {}
    for param, key in PROFILE_KEYS.items():
        if param not in params:
            continue
        value = params[param]
        if ctx is not None:
            if ctx.get_parameter_source(param) is not ParameterSource.COMMANDLINE:
                continue
        elif value in (None, "", ()):
            continue
        if param == "no_verify":
            if not value:
                continue
            if given.get("verify", "none").lower() != "none":
                raise click.UsageError(f"--no-verify means --verify none, not {given['verify']}")
            value = "none"
        given[key] = value
    return given


def client_files(options: Mapping[str, Any]) -> dict[str, str | None]:
    """The client certificate and key the command line gives: settings no profile holds."""
    return {"client_cert": options.get("client_cert"), "client_key": options.get("client_key")}


def resolved(
    params: Mapping[str, Any], ctx: click.Context | None, name: str | None
) -> tuple[dict[str, Resolved], Profile | None]:
    """Every profile key, resolved (:func:`smtptui.config.resolve`: command line >
    ``SMTPTUI_*`` > the profile ``name``, if given > defaults), and that profile."""
    from smtptui.config import ConfigError, resolve

    profile = find_profile(name)
    try:
        return resolve(command_line_keys(params, ctx), os.environ, profile, name or ""), profile
    except ConfigError as error:
        flag = KEY_FLAGS.get(error.key or "")
        if flag is None:
            raise click.UsageError(str(error)) from None
        why = str(error).removeprefix(f"command line: {error.key}: ")
        raise click.BadParameter(why, ctx, param_hint=f"'{flag}'") from None


def find_profile(name: str | None) -> Profile | None:
    """The profile ``name`` in config.toml (None for None); an unknown name is a usage
    error listing the known ones, a bad file an error naming its line."""
    if name is None:
        return None
    from smtptui.config import ConfigError, load_config

    try:
        config = load_config()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    if name not in config.profiles:
        known = ", ".join(config.profiles) or f"none in {config.path}"
        raise click.BadParameter(
            f"no profile named {name!r} (profiles: {known})", param_hint="'-P'"
        )
    return config.profiles[name]


def profile_password(profile: Profile | None, name: str | None) -> str | None:
    """The password the profile's ``password_env`` or ``password_command`` gives (None if it
    names neither); a failure is an error naming the profile."""
    from smtptui.config import ConfigError
    from smtptui.config import profile_password as read

    if profile is None:
        return None
    try:
        return read(profile, name or "")
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def _profile_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Completing -P: the profiles in config.toml (none when it cannot be read)."""
    from smtptui.config import ConfigError, load_config

    try:
        names = load_config().profiles
    except ConfigError:
        return []
    return [name for name in names if name.startswith(incomplete)]


NAMESERVER_OPTION = click.option(
    "--nameserver",
    metavar="IP[:PORT]",
    help="The DNS server to ask (default: the system's).",
)


PROFILE_OPTION = click.option(
    "-P",
    "--profile",
    metavar="NAME",
    shell_complete=_profile_names,
    help="Fill what is not given from [profiles.NAME] in config.toml (see: smtptui config).",
)


def ask_password(user: str, known: str | None = None) -> str:
    """The password for ``user``: $SMTPTUI_PASSWORD, else ``known``, else asked for."""
    if not user:
        return ""
    return (
        env_password() or known or click.prompt(f"Password for {user}", hide_input=True, err=True)
    )


def password_needed(mechanism: str | None, token: str) -> bool:
    """Whether AUTH may need a password: not with a token, unless a mechanism named sends one."""
    from smtptui.protocol.auth import requested_mechanisms, sends_password

    return not token or any(sends_password(name) for name in requested_mechanisms(mechanism or ""))


def oauth_token(variable: str | None, command: str | None) -> str:
    """The OAuth token from $``variable`` or what ``command`` prints ("" without either);
    a usage error naming the flag when it yields none. The token is never printed."""
    if variable and command:
        raise click.UsageError("give --oauth-token-env or --oauth-token-command, not both")
    from smtptui.config import ConfigError, read_secret

    names = ("--oauth-token-env", "--oauth-token-command")
    try:
        return (read_secret(variable, command, names=names) or "").strip()
    except ConfigError as error:
        raise click.UsageError(str(error)) from None


class _DefaultToUI(click.Group):
    """``smtptui [OPTIONS] [HOST]`` means ``smtptui ui …``; ``run`` and ``serve`` are commands.

    Completing the first word is the exception (click parses resiliently then, with no
    words yet): it offers the commands, and ``ui``'s options next to the group's own.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in {*self.commands, "-h", "--help", "--version"}:
            args = ["ui", *args]
        elif not args and not ctx.resilient_parsing:
            args = ["ui"]
        return super().parse_args(ctx, args)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        items = super().shell_complete(ctx, incomplete)
        if incomplete.startswith("-"):
            seen = {item.value for item in items}
            ui = self.commands["ui"].shell_complete(ctx, incomplete)
            items += [item for item in ui if item.value not in seen]
        return items


@click.group(cls=_DefaultToUI, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="smtptui", message=VERSION_LINE)
def main() -> None:
    """smtptui: see and step through SMTP sessions.

    \b
    smtptui [HOST[:PORT]] [OPTIONS]   the interactive UI (see: smtptui ui -h)
    smtptui --demo                    the UI on the embedded server, filled in
    smtptui -P NAME                   the UI on a profile of config.toml
    smtptui run HOST --to ADDRESS     a whole session, headless, printed like swaks
    smtptui mx DOMAIN                 where mail for a domain goes: MX, PTR, FCrDNS
    smtptui serve                     the embedded server, in the foreground
    smtptui open FILE                 a saved transcript (.jsonl, .txt, swaks'), read-only
    smtptui diff A B                  two saved sessions compared step by step
    smtptui web [--demo]              the UI in a browser, on 127.0.0.1:8000
    smtptui config path|show          where config.toml is, and what it sets
    smtptui completion bash|zsh|fish  the shell completion script
    """
    logging.basicConfig(format="%(message)s", handlers=[_LogLines()])


main.add_command(open_command)
main.add_command(diff_command)


class _ThemeOption(click.Option):
    """--theme, whose help names the themes folder: found (platformdirs) only when the help
    is shown, not on every start of every command."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from smtptui.config import config_dir

        self.help = (
            "Colour theme, remembered (dark, light, high-contrast, solarized-dark, or your own "
            f"NAME.toml in {config_dir() / 'themes'})."
        )
        return super().get_help_record(ctx)


@main.command()
@click.argument("host", required=False, default="")
@click.option("--demo", is_flag=True, help="Start the embedded server and open it, filled in.")
@click.option("--theme", cls=_ThemeOption, default=None)
@PROFILE_OPTION
@NAMESERVER_OPTION
@security_options
def ui(host: str, demo: bool, theme: str | None, **options: Any) -> None:
    """Open the interactive UI, on HOST[:PORT] (or [IPv6]:PORT, or @DOMAIN to connect to
    its MX hosts in turn) if given.

    Keys: F2 connect, F3 EHLO, F4 STARTTLS, F5 AUTH, F6 MAIL, F7 RCPT, F8 DATA, F9 send,
    F10 QUIT; or Alt+C, H, S, U, W, R, D, G, Q; F1 lists them all, [keymap] in config.toml
    remaps them. The password comes from $SMTPTUI_PASSWORD, or F5 asks.
    """
    from smtptui.engine.loop import run

    check_ui_options(demo, theme, options["profile"])
    if demo:
        with contextlib.ExitStack() as stack:  # the server stops when the app has
            run(demo_app(stack, theme=theme).run_async())
        return
    run(ui_app(host, theme=theme, **options).run_async())


def check_ui_options(demo: bool, theme: str | None, profile: str | None) -> None:
    """What the UI refuses before it starts (a theme it cannot find, --demo with -P): for
    ``ui``, and for ``web`` before it serves a tab that would only fail."""
    from smtptui.ui.themes import load_themes

    if theme is not None:
        themes, problems = load_themes()
        if theme not in themes:
            why = "".join(f"\n  {problem}" for problem in problems)
            known = ", ".join(sorted(themes))
            raise click.BadParameter(f"no theme named {theme!r} (themes: {known}){why}")
    if demo and profile is not None:
        raise click.UsageError("give --demo or --profile, not both")


@main.command(
    context_settings={"ignore_unknown_options": True},
    short_help="The UI in a browser, each tab its own app (textual-serve).",
)
@click.option(
    "--host",
    "bind",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (a loopback one unless --allow-remote).",
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Listen on an address others can reach: anyone who can would send mail with this "
    "app, and its password.",
)
@click.argument("ui_args", nargs=-1, type=click.UNPROCESSED, metavar="[UI OPTIONS] [HOST[:PORT]]")
@click.pass_context
def web(
    ctx: click.Context, bind: str, port: int, allow_remote: bool, ui_args: tuple[str, ...]
) -> None:
    """Serve the UI in a browser (textual-serve): each tab runs the app `smtptui` with the
    UI OPTIONS and HOST would open (see: smtptui ui -h), e.g. `smtptui web --demo`.

    Only this machine can reach it unless --allow-remote: the app sends mail and may hold
    a password.
    """
    try:
        from smtptui.cli_web import is_loopback, serve, tab_command
    except ModuleNotFoundError as error:
        missing = (error.name or "").partition(".")[0]
        raise click.ClickException(
            f"smtptui web needs textual-serve ({missing} is not installed): "
            "pip install 'smtptui[web]'"
        ) from None

    options = ui.make_context("web", list(ui_args), parent=ctx.parent).params
    check_ui_options(options["demo"], options["theme"], options["profile"])
    find_profile(options["profile"])
    host = bind.removeprefix("[").removesuffix("]")
    if not is_loopback(host):
        if not allow_remote:
            raise click.BadParameter(
                f"{bind} can be reached from other machines, and the app sends mail and may "
                "hold a password; add --allow-remote if that is what you want",
                param_hint="'--host'",
            )
        click.secho(
            f"Warning: listening on {bind}, with no login and no TLS: anyone who can reach it "
            "can send mail with this app.",
            err=True,
            fg="red",
            bold=True,
        )
    serve(tab_command(list(ui_args)), host, port)


def ui_app(
    host: str, *, theme: str | None = None, profile: str | None = None, **options: Any
) -> SmtpTui:
    """The app as ``smtptui [HOST] [-P NAME]`` opens it: the panes filled (Compose's From
    and To too) and the password from the profile's password_env or password_command, else
    $SMTPTUI_PASSWORD, if set (F5 asks for one otherwise)."""
    from smtptui.config import values_of
    from smtptui.ui.app import Draft, SmtpTui

    ctx = click.get_current_context(silent=True)
    found, chosen = resolved({"host": host, **options}, ctx, profile)
    values = values_of(found)
    password = profile_password(chosen, profile) or env_password()
    sender, recipients = values["sender"] or "", tuple(values["recipients"])
    draft = Draft(sender, recipients, "", "") if sender or recipients else None
    settings = make_settings(values, password, **client_files(options))
    return SmtpTui(settings, draft=draft, theme=theme)


def demo_app(stack: contextlib.ExitStack, port: int = 0, **options: Any) -> SmtpTui:
    """The app as ``--demo`` opens it: every pane filled in, the first steps suggested. Its
    server (on ``port``; 0: a free one) starts after the first frame, in a process of its
    own (:class:`~smtptui.server.process.ServerProcess`: this one imports neither aiosmtpd
    nor cryptography, nor holds the server's memory), and stops when ``stack`` closes."""
    from smtptui.ui.app import Draft, SmtpTui

    def start() -> tuple[SessionSettings, str]:
        from smtptui.server.process import ServerProcess

        return demo_settings(stack.enter_context(ServerProcess(port)).listening())

    draft = Draft(DEMO_SENDER, (DEMO_RECIPIENT,), DEMO_SUBJECT, DEMO_BODY)
    return SmtpTui(draft=draft, welcome=DEMO_STEPS, server=start, **options)


RISK_FLAGS = {Risk.PLAINTEXT_AUTH: "--plaintext-auth", Risk.UNADVERTISED: "--unadvertised-ok"}
"""The flag of ``run`` that accepts each risk it can meet (the others fail the run)."""


class _Headless(click.Command):
    """The commands that talk to servers (``run``, ``mx``, ``probe``, ``tls-report``): bad
    arguments exit 1 (:attr:`Exit.USAGE`), as swaks' do, not click's 2 (which is their
    status of a failed connection)."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with _usage_status():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with _usage_status():
            return super().invoke(ctx)


@contextlib.contextmanager
def _usage_status() -> Iterator[None]:
    try:
        yield
    except click.UsageError as error:
        error.exit_code = Exit.USAGE
        raise


@main.command(
    name="run",
    cls=_Headless,
    epilog="\b\nExit status (swaks' codes):\n"
    + "\n".join(f"{status.value:>4}  {status.meaning}" for status in Exit),
)
@click.argument("host", required=False)
@click.option("--demo", is_flag=True, help="Run it against the embedded server.")
@NAMESERVER_OPTION
@click.option(
    "--port",
    "mx_port",
    type=click.IntRange(1, 65535),
    help="Routing by MX (without HOST, or HOST @DOMAIN), the port of the hosts found (default 25).",
)
@PROFILE_OPTION
@security_options
@click.option(
    "--from",
    "sender",
    default="",
    help="Envelope sender of the test message (default: $LOGNAME@<this host's name>, as "
    f"swaks does; with --demo, {DEMO_SENDER}).",
)
@click.option(
    "--to",
    "recipients",
    multiple=True,
    help=f"Send a test message to (repeatable; with --demo, {DEMO_RECIPIENT} unless given).",
)
@envelope_options
@message_options
@lmtp_options
@transport_options
@proxy_options
@click.option(
    "--no-pipelining",
    is_flag=True,
    help="Send MAIL, RCPT and DATA one at a time, even if the server offers PIPELINING.",
)
@click.option(
    "--chunking", is_flag=True, help="Send the message with BDAT (CHUNKING) instead of DATA."
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    help=f"Bytes per BDAT chunk (implies --chunking; default {DEFAULT_CHUNK_SIZE}).",
)
@click.option("--helo", "force_helo", is_flag=True, help="Greet with HELO, not EHLO.")
@click.option(
    "--quit-after",
    type=click.Choice(QUIT_STOPS, case_sensitive=False),
    help="Send QUIT right after that step's reply (exit 0 if all went well so far).",
)
@click.option(
    "--drop-after",
    type=click.Choice(list(Stop), case_sensitive=False),
    help="Close the connection right after that step's reply, without QUIT.",
)
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for a reply.")
@click.option(
    "--save-chain",
    "chain_file",
    metavar="FILE",
    help="Write the certificates the server sent (leaf first) to FILE as PEM.",
)
@click.option("--no-color", is_flag=True, help="Plain text output.")
@click.option(
    "--json",
    "json_output",
    is_flag=True,
    help="Print JSON Lines: one object per transcript entry (the JSONL export's), then a "
    'summary ({"kind": "summary", ok, exit_code, stage, accepted, refused, queue_id, tls, '
    "timings}), as schemas/run.schema.json in the repository describes; errors go to "
    "stderr as text.",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print nothing but errors (on stderr): the exit status says how it went. With "
    "--json, the summary alone.",
)
@click.option(
    "-n",
    "--hide-body",
    is_flag=True,
    help="Show the message data as one line saying its size (in JSON too: data null, "
    "hidden true; and in --show-raw).",
)
@click.option(
    "--show-time",
    is_flag=True,
    help="Prefix each line with the seconds since connecting and, on replies, the "
    "latency since the command they answer (text output only).",
)
@click.option(
    "--show-raw",
    is_flag=True,
    help="Show each read (R) and write (W) as a hex dump (inside TLS, the plaintext) before "
    "what it means; SASL secrets not shown (text output only).",
)
@click.option(
    "--plaintext-auth",
    is_flag=True,
    help="Allow AUTH without TLS (the password crosses the network readable).",
)
@click.option(
    "--authzid",
    default="",
    help="The authorisation identity to send (PLAIN, OAUTHBEARER, SCRAM-SHA-256): act as "
    "this user, authenticated as --user.",
)
@click.option(
    "--login-initial-response/--no-login-initial-response",
    default=True,
    help="With AUTH LOGIN, send the username on the AUTH line (as smtplib does; the "
    "default), or at the server's first 334 (as swaks does).",
)
@click.option(
    "--oauth-token-env",
    metavar="VAR",
    help="Read the OAuth token (XOAUTH2, OAUTHBEARER) from environment variable VAR.",
)
@click.option(
    "--oauth-token-command",
    metavar="CMD",
    help="Run CMD (split as the shell would, but no shell) and use what it prints as the "
    "OAuth token.",
)
@click.option(
    "--unadvertised-ok",
    is_flag=True,
    help="Send envelope parameters whose extension the server did not advertise.",
)
@click.pass_context
def run_command(
    ctx: click.Context,
    host: str | None,
    demo: bool,
    nameserver: str | None,
    mx_port: int | None,
    profile: str | None,
    sender: str,
    recipients: tuple[str, ...],
    timeout: float,
    no_color: bool,
    no_pipelining: bool,
    chunking: bool,
    chunk_size: int | None,
    plaintext_auth: bool,
    oauth_token_env: str | None,
    oauth_token_command: str | None,
    unadvertised_ok: bool,
    force_helo: bool,
    quit_after: str | None,
    drop_after: str | None,
    json_output: bool,
    quiet: bool,
    hide_body: bool,
    show_time: bool,
    show_raw: bool,
    chain_file: str | None,
    **options: Any,
) -> None:
    """Run a whole session headless and print every command and reply.

    Connect to HOST[:PORT] (@DOMAIN or an address: to the first of the domain's MX hosts that
    answers; without HOST, the last --to's, as swaks does), EHLO, STARTTLS, AUTH with --user
    (password from $SMTPTUI_PASSWORD or a prompt), a test message with --to, QUIT. Exit
    status 0 when every step worked.

    With --demo, against the embedded server: it refuses senders named reject… and
    recipients named reject… or unknown… (try --to unknown@smtptui.demo). AUTH is as its
    user alice, unless --user or --plain (it offers AUTH only inside TLS).
    """
    from smtptui.cli_output import OutputOptions, RunOutput
    from smtptui.config import values_of
    from smtptui.engine.loop import run
    from smtptui.session import RunAll, Security, SendMessage

    color = False if no_color else None
    printing = OutputOptions(json_output, quiet, hide_body, show_time, show_raw)
    if (conflict := printing.conflict()) is not None:
        raise click.UsageError(conflict)
    output = RunOutput(printing, lambda line, colour, err: say(line, colour, color, err=err))
    mail = MessageFlags.pop(options)
    if quit_after and drop_after:
        raise click.UsageError("give --quit-after or --drop-after, not both")
    if demo and profile is not None:
        raise click.UsageError("give --demo or --profile, not both")
    chosen = None
    if not demo:  # the command line's, else $SMTPTUI_*, else the profile's
        found, chosen = resolved(ctx.params, ctx, profile)
        values = values_of(found)
        host, sender, recipients = values["host"], values["sender"] or "", values["recipients"]
    piped = not demo and values["pipe"] is not None  # the command is the server: no host
    security = options["security"] if demo else values["security"]
    if chain_file is not None and security == Security.NONE:
        raise click.UsageError("--save-chain needs TLS: not with --plain")
    if (host and demo) or not (host or piped or demo or mail.dump or recipients):
        if demo:
            raise click.UsageError("give a HOST[:PORT] or --demo, not both")
        raise click.UsageError("give a HOST[:PORT], a --to (to route by its MX) or --demo")
    if host and piped:
        raise click.UsageError("--pipe runs the server as a command: give no HOST")
    direct = demo or piped or (host and not routes_by_mx(host))
    if direct and (mx_port is not None or nameserver is not None):
        raise click.UsageError(
            "--port and --nameserver are for routing by MX: without HOST, or HOST @DOMAIN"
        )
    if demo:
        sender = sender or DEMO_SENDER
        recipients = recipients or (DEMO_RECIPIENT,)
    to, recipients = recipients, (*recipients, *mail.cc, *mail.bcc)
    if not demo and sender and not recipients:
        raise click.UsageError("--from needs at least one --to")
    if (mail.given or mail.dump) and not recipients:
        raise click.UsageError("the message flags need at least one --to")
    envelope = make_envelope(recipients, **{flag: options.pop(flag) for flag in ENVELOPE_FLAGS})
    if not recipients and (no_pipelining or chunking or chunk_size is not None):
        raise click.UsageError(
            "--chunking, --chunk-size and --no-pipelining need at least one --to"
        )
    send = None
    if recipients:
        sender = sender or default_sender()
        message = (
            mail.build(sender, to, DEMO_SUBJECT, DEMO_BODY)
            if mail.given
            else demo_message(sender, to)
        )
        if mail.dump:
            sys.stdout.buffer.write(encode_message(message))
            ctx.exit(0)
        send = SendMessage(
            sender,
            recipients,
            message,
            envelope=envelope,
            chunking=chunk_size or chunking,
            pipelining=not no_pipelining,
        )
    stop = quit_after or drop_after
    dialogue = RunAll(
        send, helo=force_helo, stop=Stop(stop.lower()) if stop else None, drop=bool(drop_after)
    )
    given = {Risk.PLAINTEXT_AUTH: plaintext_auth, Risk.UNADVERTISED: unadvertised_ok}
    accepted = tuple(risk for risk, flag in given.items() if flag)
    token = oauth_token(oauth_token_env, oauth_token_command)
    auth = {
        "oauth_token": token,
        "authzid": options["authzid"],
        "login_initial_response": options["login_initial_response"],
    }
    if not (host or demo or piped):  # route by the last recipient's MX, as swaks does
        host = "@" + domain_of((to or recipients)[-1], "--to")
    if host or piped:
        user = values["user"] or ""
        asked = user if password_needed(values["mechanism"], token) else ""
        password = (profile_password(chosen, profile) if asked else None) or ask_password(asked)
        port = values["port"] if mx_port is None else mx_port
        values = {**values, "host": host, "port": port}
        settings = make_settings(values, password, **auth, **client_files(options))
        settings = dataclasses.replace(settings, reply_timeout=timeout)
        ctx.exit(
            run(run_session(settings, dialogue, output, accepted=accepted, chain_file=chain_file))
        )
    from smtptui.server import DEMO_USERS, describe

    implicit_tls, proxying = options["security"] == Security.TLS, bool(options["proxy_protocol"])
    if implicit_tls and proxying:  # aiosmtpd would read the header inside TLS
        raise click.UsageError("--proxy-protocol with --demo: not with --tls")
    with demo_server(implicit_tls=implicit_tls, lmtp=options["lmtp"], proxy_protocol=proxying) as (
        server,
        base,
        where,
    ):
        output.note(f"=== {where}; {DEMO_STEPS[0].lower()}")
        plain = options["security"] == Security.NONE
        user = options["user"] or ("" if plain else base.username)
        password = ask_password(user, DEMO_USERS.get(user))
        from smtptui.config import resolve

        given = command_line_keys(ctx.params, ctx) | {"host": base.host, "user": user}
        settings = make_settings(
            values_of(resolve(given, {})), password, base, **auth, **client_files(options)
        )
        settings = dataclasses.replace(settings, reply_timeout=timeout)
        status = run(
            run_session(settings, dialogue, output, accepted=accepted, chain_file=chain_file)
        )
        for message in server.messages:
            output.note(f"=== The server received: {describe(message)}")
    ctx.exit(status)


async def run_session(
    settings: SessionSettings,
    dialogue: RunAll,
    output: RunOutput,
    *,
    accepted: tuple[Risk, ...] = (),
    chain_file: str | None = None,
) -> Exit:
    """Run the whole dialogue, printing it through ``output`` as it happens, then its
    summary; the exit status. ``accepted`` are the risks the user allowed on the command
    line; the certificates of each TLS handshake are saved to ``chain_file`` as PEM (a
    failure to is said on stderr, and leaves the exit status as the dialogue made it)."""
    from smtptui.engine.chain import counted
    from smtptui.session import Entry, SessionController, save_chain, summarize

    controller = SessionController(settings, client_factory=output.client)
    saved = False

    def show(update: object) -> None:
        nonlocal saved
        if isinstance(update, Entry):
            output.entry(update)
            if chain_file is not None and update.tls_info is not None:
                chain = update.tls_info.chain
                try:
                    path = save_chain(chain, chain_file)
                except ValueError as error:
                    output.error(f"cannot save the chain: {error}")
                else:
                    output.note(f"=== Saved {counted(len(chain))} as PEM to {path}")
                saved = True

    controller.subscribe(show)
    for risk in accepted:
        controller.accept(risk)
    outcome = await controller.run(dialogue)
    if chain_file is not None and not saved:
        output.error("cannot save the chain: the session ended before a TLS handshake")
    flag = RISK_FLAGS.get(outcome.risk)
    if flag is not None:
        output.error(f"add {flag} to send them anyway")
    entries = [entry for transcript in controller.transcripts for entry in transcript]
    summary = summarize(entries, outcome)
    output.summary(summary)
    return summary.exit_code


def say(
    line: str, colour: str | None = None, color: bool | None = None, *, err: bool = False
) -> None:
    """Print one line in ``colour`` (``color``: click's, None to ask the terminal), on
    stdout or, with ``err``, stderr.

    Every line ``run`` and ``serve`` print goes through here, and so through
    :func:`visible`: they quote servers, certificates and the clients of ``serve``, and not
    a byte of those may reach the terminal raw. Tabs and LF are written out too: one line.
    """
    from smtptui.session import visible

    try:
        click.secho(visible(line, one_line=True), fg=colour, color=color, err=err)
    except BrokenPipeError:  # the reader left (``| head``): the rest goes nowhere, quietly
        stream = sys.stderr if err else sys.stdout
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


class _LogLines(logging.Handler):
    """Log records on stderr, each line through :func:`say`: aiosmtpd's warnings quote the
    commands that clients of ``serve`` send."""

    def emit(self, record: logging.LogRecord) -> None:
        for line in self.format(record).splitlines():
            say(line, err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=2525, show_default=True, help="Port to listen on.")
@click.option("--tls", is_flag=True, help="Implicit TLS instead of STARTTLS.")
@click.option("--lmtp", is_flag=True, help="Speak LMTP (LHLO, a reply per recipient).")
@click.option("--unix", "unix_path", metavar="PATH", help="Listen on this UNIX socket instead.")
@click.option(
    "--stdio",
    is_flag=True,
    help="Speak SMTP on stdin and stdout for one session (for run --pipe); log to stderr.",
)
@click.option(
    "--proxy-protocol",
    is_flag=True,
    help="Expect a PROXY header (v1 or v2) first, as behind HAProxy; show the client it names.",
)
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(dir_okay=False),
    help="Fault rules (TOML) instead of the shipped ones (which refuse reject…, unknown…, full…).",
)
@click.option("--seed", type=int, help="Seed the rules' chances: the same faults on every run.")
@click.option(
    "--ui", is_flag=True, help="Watch each session in the TUI: transcript, messages, rules."
)
@click.option(
    "--jsonl",
    "jsonl_dir",
    type=click.Path(exists=True, file_okay=False, writable=True),
    metavar="DIR",
    help="Write each session to DIR as JSON Lines when it ends (smtptui open reads it).",
)
@click.option("--jsonl-secrets", is_flag=True, help="Keep passwords in --jsonl's files.")
def serve(
    host: str,
    port: int,
    tls: bool,
    lmtp: bool,
    unix_path: str | None,
    stdio: bool,
    proxy_protocol: bool,
    rules_path: str | None,
    seed: int | None,
    ui: bool,
    jsonl_dir: str | None,
    jsonl_secrets: bool,
) -> None:
    """Run the embedded mail server in the foreground until Ctrl-C, printing each message
    and each fault rule that fires (with --ui: showing each session in the TUI)."""
    from smtptui.server import serve as serve_forever
    from smtptui.server.events import fan_out
    from smtptui.server.rules import RulesError, default_rules, load_rules

    if ui and stdio:
        raise click.UsageError("--ui needs the terminal, --stdio its stdin and stdout: not both")

    try:
        rules = load_rules(rules_path) if rules_path else default_rules()
    except RulesError as error:
        raise click.ClickException(str(error)) from None

    echo = (lambda line: say(line, err=True)) if stdio else say
    files = app = None
    if ui:
        from smtptui.ui.serve import ServeApp

        app = ServeApp()
    if jsonl_dir is not None:
        from pathlib import Path

        from smtptui.session.server_side import SessionFiles

        failed = app.tell if app else echo  # the terminal is the app's with --ui
        files = SessionFiles(Path(jsonl_dir), redact=not jsonl_secrets, failed=failed)
    serve_forever(
        host,
        port,
        implicit_tls=tls,
        echo=(lambda line: None) if app else echo,  # the app shows what would be echoed
        lmtp=lmtp,
        unix_path=unix_path,
        stdio=stdio,
        proxy_protocol=proxy_protocol,
        rules=rules,
        seed=seed,
        on_event=fan_out(files and files.take, app and app.take),
        hold=app and app.hold,
    )


def nameserver_checked(nameserver: str | None) -> str | None:
    """``--nameserver`` as given, if it is IP or IP:PORT; else a usage error naming it."""
    if nameserver is not None:
        from smtptui.engine.mx import parse_nameserver

        try:
            parse_nameserver(nameserver)
        except CommandError as error:
            raise click.BadParameter(str(error), param_hint="'--nameserver'") from None
    return nameserver


def routes_by_mx(host: str) -> bool:
    """Whether HOST names a domain to route by MX (``@example.org``); a usage error naming
    HOST if that domain is not one."""
    from smtptui.session.settings import mx_domain

    try:
        return mx_domain(host) is not None
    except CommandError as error:
        raise click.BadParameter(str(error), param_hint="'HOST'") from None


def domain_of(text: str, flag: str) -> str:
    """The domain of ``text`` (a domain or an address); a usage error naming ``flag``."""
    from smtptui.engine.mx import target_domain

    try:
        return target_domain(text)
    except CommandError as error:
        raise click.BadParameter(str(error), param_hint=f"'{flag}'") from None


@main.command(name="mx", cls=_Headless)
@click.argument("domain")
@NAMESERVER_OPTION
@click.option(
    "--timeout",
    default=5.0,
    show_default=True,
    help="Seconds per DNS question, and per step of a banner check.",
)
@click.option(
    "--port",
    default=25,  # engine.hosts.SMTP_PORT: not imported here, where --version imports nothing
    show_default=True,
    type=click.IntRange(1, 65535),
    help="The port to greet each host on, for the banner check.",
)
@click.option("--no-connect", is_flag=True, help="DNS only: no banner check.")
@click.option("--json", "json_output", is_flag=True, help="Print one JSON object.")
def mx_command(
    domain: str,
    nameserver: str | None,
    timeout: float,
    port: int,
    no_connect: bool,
    json_output: bool,
) -> None:
    """List DOMAIN's mail servers (or an address's: bob@example.org) by preference.

    Each with its addresses, and each address's reverse DNS (PTR), whether that name
    resolves back to it (FCrDNS), and (unless --no-connect) whether the names the server
    gives in its greeting and its reply to EHLO are its MX or PTR name. Exit status 0 when
    some host may take mail, 2 when none (no such domain, null MX, no address, no DNS
    answer).
    """
    import shutil

    from smtptui.engine.loop import run
    from smtptui.session.routing import check_banners, look_up

    nameserver = nameserver_checked(nameserver)
    target = domain_of(domain, "DOMAIN")

    async def lookup() -> MxReport:
        report = await look_up(target, nameserver=nameserver, timeout=timeout)
        if no_connect:
            return report
        return await check_banners(report, port, timeout=timeout)

    report = run(lookup())
    if json_output:
        from smtptui.session.visible import json_line

        click.echo(json_line(mx_json(report)))
    else:
        for line, colour in mx_lines(report, shutil.get_terminal_size().columns):
            say(line, colour)
    if report.found.problem:
        if not json_output:
            say(f"error: {report.found.problem}", "red", err=True)
        sys.exit(Exit.CONNECT)


def mx_lines(report: MxReport, width: int) -> Iterator[Line]:
    """``smtptui mx``'s text: each host, each of its addresses, and the address's findings
    (reverse DNS, and the banner check if made), why each failure matters below it."""
    found = report.found
    if found.hosts:
        implicit = " (no MX: the domain's own address, RFC 5321 5.1)" if found.implicit else ""
        yield f"MX for {found.domain}{implicit}:", None
    for host in found.hosts:
        error = f"  ({host.error})" if host.error else ""
        yield f"{host.preference:>5} {host.name}{error}", None
        for ip in host.addresses:
            yield f"        {ip}", None
            for finding in report.findings(ip):
                yield from finding_lines(finding, width, " " * 10)


Line = tuple[str, str | None]
"""A line of text output and its colour (None: the terminal's own)."""

LEVEL_COLOURS = {"ok": "green", "warn": "yellow", "fail": "red"}  # Level's values
"""The colour of each finding's level (information: the terminal's own)."""


def finding_lines(finding: Finding, width: int, indent: str = "") -> Iterator[Line]:
    """``finding`` wrapped to ``width`` after ``indent``: its mark and text in its level's
    colour, then, for a warning or a failure, why it matters, indented below it."""
    import textwrap

    from smtptui.session.findings import Level

    colour = LEVEL_COLOURS.get(finding.level)
    for line in textwrap.wrap(
        finding.line, width, initial_indent=indent, subsequent_indent=indent + "  "
    ):
        yield line, colour
    if finding.why and finding.level in (Level.WARN, Level.FAIL):
        why = indent + "    "
        for line in textwrap.wrap(finding.why, width, initial_indent=why, subsequent_indent=why):
            yield line, None


def mx_json(report: MxReport) -> dict[str, Any]:
    """``smtptui mx --json``'s object (``banner`` null where no banner check was made)."""
    from smtptui.engine.mx import WHY

    found, checks = report.found, report.checks

    def banner(ip: str) -> dict[str, Any] | None:
        check = report.banners.get(ip)
        if check is None:
            return None
        return {
            "greeting_name": check.greeting_name or None,
            "ehlo_name": check.ehlo_name or None,
            "matches": check.matches,
            "error": check.error or None,
        }

    return {
        "domain": found.domain,
        "implicit": found.implicit,
        "null": found.null,
        "error": found.problem or None,
        "hosts": [
            {
                "preference": host.preference,
                "name": host.name,
                "error": host.error or None,
                "addresses": [
                    {
                        "address": ip,
                        "ptr": list(checks[ip].ptr),
                        "fcrdns": checks[ip].confirmed,
                        "ptr_is_host": checks[ip].matches,
                        "error": checks[ip].error or None,
                        "banner": banner(ip),
                    }
                    for ip in host.addresses
                ],
            }
            for host in found.hosts
        ],
        "why": WHY,
    }


REPORT_EXITS = {
    Exit.OK: "every finding good (✔) or information (·)",
    Exit.USAGE: "bad arguments (nothing checked)",
    Exit.CONNECT: "no TLS to judge: no connection, no STARTTLS, no version accepted",
    Exit.TLS: "a warning (⚠) or a failure (✘): see --json's levels",
}
"""``smtptui tls-report``'s exit statuses, with what each means (its help shows them)."""

REPORT_FLAGS = {
    "host": "HOST",
    "port": "HOST",
    "domain": "--domain",
    "SNI": "--sni",
    "connect timeout": "--timeout",
    "nameserver": "--nameserver",
    "tlsa": "--tlsa",
}
"""The argument to blame for each setting a :class:`CommandError` of the report names."""


@main.command(
    name="tls-report",
    cls=_Headless,
    epilog="\b\nExit status:\n"
    + "\n".join(f"{status.value:>4}  {meaning}" for status, meaning in REPORT_EXITS.items()),
)
@click.argument("host", metavar="HOST[:PORT]")
@click.option(
    "--starttls", "security", flag_value="starttls", help="STARTTLS (the default but on 465)."
)
@click.option("--tls", "security", flag_value="tls", help="Implicit TLS (the default on 465).")
@click.option("--sni", metavar="NAME", help="The name to send in SNI and check (default: HOST).")
@click.option("--cafile", type=click.Path(exists=True, dir_okay=False), help="Trust this CA alone.")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds for each step.")
@NAMESERVER_OPTION
@click.option(
    "--tlsa",
    multiple=True,
    metavar='"U S M HEX"',
    help="A TLSA record to check instead of DNS's (repeatable): 3 1 1 ab12….",
)
@click.option("--domain", help="The domain whose MTA-STS policy to check (with @DOMAIN: its own).")
@click.option(
    "--policy-file",
    type=click.Path(dir_okay=False),
    help="An MTA-STS policy to check instead of the published one (needs a domain).",
)
@click.option("--json", "json_output", is_flag=True, help="Print one JSON object.")
def tls_report_command(
    host: str,
    security: str | None,
    sni: str | None,
    cafile: str | None,
    timeout: float,
    nameserver: str | None,
    tlsa: tuple[str, ...],
    domain: str | None,
    policy_file: str | None,
    json_output: bool,
) -> None:
    """Report on the TLS of HOST's port 25 (465 with --tls), or PORT: each of TLS 1.0 to 1.3
    tried apart, with the cipher each gets; the certificate's chain, dates and name, and
    whether a client would trust it; DANE (the TLSA records of _PORT._tcp.HOST) and the
    domain's MTA-STS policy against its MX hosts; each problem with why it matters.

    HOST may be @DOMAIN (or an address at it): the report is then on the domain's first MX
    host, and its MTA-STS policy is checked.
    """
    import shutil

    from smtptui.engine.dane import parse_tlsa
    from smtptui.engine.hosts import format_host, parse_host
    from smtptui.engine.loop import run
    from smtptui.engine.probe import PortSecurity
    from smtptui.session.findings import Level
    from smtptui.session.tls_report import report_json, tls_report

    try:
        name, port = parse_host(host, 0)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'HOST[:PORT]'") from None
    if policy_file is not None and not (domain or "@" in name):
        raise click.UsageError("--policy-file needs a domain: @DOMAIN or --domain")
    try:
        records = tuple(parse_tlsa(record) for record in tlsa)
        report = run(
            tls_report(
                name,
                port or None,
                security=PortSecurity(security) if security else None,
                sni=sni,
                cafile=cafile,
                timeout=timeout,
                nameserver=nameserver,
                tlsa=records,
                domain=domain,
                policy_file=policy_file,
            )
        )
    except CommandError as error:
        flag = REPORT_FLAGS.get(error.field, error.field)
        raise click.BadParameter(str(error), param_hint=f"'{flag}'") from None
    if json_output:
        from smtptui.session.visible import json_line

        click.echo(json_line(report_json(report)))
    else:
        width = shutil.get_terminal_size().columns
        say(f"TLS report for {format_host(report.host, report.port)} ({report.security.value})")
        for section in report.sections:
            say(section.title)
            for finding in section.findings:
                for line, colour in finding_lines(finding, width, "  "):
                    say(line, colour)
    if not report.reached:
        sys.exit(Exit.CONNECT)
    sys.exit(Exit.TLS if report.level in (Level.WARN, Level.FAIL) else Exit.OK)


PROBE_EXITS = {
    Exit.OK: "some port takes AUTH inside TLS",
    Exit.USAGE: "bad arguments (nothing probed)",
    Exit.CONNECT: "no port connects",
    Exit.AUTH: "ports answer, but none takes AUTH inside TLS",
}
"""``smtptui probe``'s exit statuses, with what each means (its help shows them)."""


@main.command(
    name="probe",
    cls=_Headless,
    epilog="\b\nExit status:\n"
    + "\n".join(f"{status.value:>4}  {meaning}" for status, meaning in PROBE_EXITS.items()),
)
@click.argument("host")
@click.option(
    "--port",
    "ports",
    multiple=True,
    metavar="N[:plain|starttls|tls]",
    help="A port to probe, and how (a bare 465: tls, else starttls); repeat for more "
    "(default: 25, 587, 465:tls, 2525).",
)
@click.option(
    "--timeout", default=10.0, show_default=True, help="Seconds per step (connect, a reply)."
)
@click.option("--cafile", type=click.Path(exists=True, dir_okay=False), help="Trust a CA.")
@click.option("--verify", type=VERIFY_CHOICE, default=VerifyMode.BOTH.value, help=VERIFY_HELP)
@click.option("--sni", metavar="NAME", help="The name to send in SNI (default: HOST).")
@NAMESERVER_OPTION
@click.option("--json", "json_output", is_flag=True, help="Print one JSON object.")
def probe_command(
    host: str,
    ports: tuple[str, ...],
    timeout: float,
    cafile: str | None,
    verify: str,
    sni: str | None,
    nameserver: str | None,
    json_output: bool,
) -> None:
    """Which port, TLS and AUTH does HOST want from a mail client?

    Probes 25 and 587 with STARTTLS, 465 with implicit TLS and 2525, all at once (within
    twice --timeout): does each connect, what it greets with, whether TLS works and its
    certificate verifies, the AUTH mechanisms offered before and inside TLS, SIZE, the
    extensions. Then what is wrong, why it matters, and which port to use. With
    --nameserver, HOST is looked up there (its certificate is still checked for HOST).
    """
    from smtptui.engine.loop import run
    from smtptui.session.probe import (
        DEFAULT_PORTS,
        parse_probe_host,
        parse_probe_target,
        probe_host,
        probe_json,
    )

    try:
        address = parse_probe_host(host)
    except CommandError as error:
        raise click.BadParameter(str(error), param_hint="'HOST'") from None
    nameserver = nameserver_checked(nameserver)
    try:
        targets = tuple(parse_probe_target(port) for port in ports) or DEFAULT_PORTS
    except CommandError as error:
        raise click.BadParameter(str(error), param_hint="'--port'") from None
    report = run(
        probe_host(
            address,
            targets,
            timeout=timeout,
            verify=VerifyMode(verify.lower()),
            cafile=cafile,
            sni=sni,
            nameserver=nameserver,
        )
    )
    if json_output:
        from smtptui.session.visible import json_line

        click.echo(json_line(probe_json(report)))
    else:
        import shutil

        for line, colour in probe_lines(report, shutil.get_terminal_size().columns):
            say(line, colour)
    if not report.usable:
        sys.exit(Exit.AUTH if report.answered else Exit.CONNECT)


def probe_lines(report: ProbeReport, width: int) -> Iterator[Line]:
    """``smtptui probe``'s text: the matrix (a table if it fits in ``width`` columns, else
    each port as "label: value" lines), the findings with why the bad ones matter, and the
    recommendation."""
    import textwrap

    from smtptui.session.probe import PROBE_COLUMNS, probe_cells

    rows = [PROBE_COLUMNS, *(probe_cells(probe) for probe in report.probes)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(PROBE_COLUMNS))]
    yield f"Probe of {report.host}" + (f" at {report.address}:" if report.address else ":"), None
    if sum(widths) + 2 * (len(widths) - 1) <= width:
        for row in rows:
            line = "  ".join(cell.ljust(size) for cell, size in zip(row, widths, strict=True))
            yield line.rstrip(), None
    else:
        label = max(len(column) for column in PROBE_COLUMNS[1:])
        for cells in rows[1:]:
            yield cells[0], None
            for column, cell in zip(PROBE_COLUMNS[1:], cells[1:], strict=True):
                for line in textwrap.wrap(
                    cell,
                    width,
                    initial_indent=f"  {column:<{label}}  ",
                    subsequent_indent=" " * (label + 4),
                ):
                    yield line, None
    yield "", None
    for finding in report.findings:
        yield from finding_lines(finding, width)
    yield "", None
    for line in textwrap.wrap(f"Recommendation: {report.recommendation}", width):
        yield line, None


COMPLETE_VAR = "_SMTPTUI_COMPLETE"
"""The variable click's completion scripts set when they ask ``smtptui`` for completions."""


@main.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]), metavar="SHELL")
def completion(shell: str) -> None:
    """Print the completion script for SHELL (click's own; it calls smtptui back).

    \b
    bash:  eval "$(smtptui completion bash)"      in ~/.bashrc
    zsh:   eval "$(smtptui completion zsh)"       in ~/.zshrc
    fish:  smtptui completion fish > ~/.config/fish/completions/smtptui.fish
    """
    from click.shell_completion import get_completion_class

    complete = get_completion_class(shell)
    assert complete is not None  # click has a class for each choice
    click.echo(complete(main, {}, "smtptui", COMPLETE_VAR).source())


@main.group(name="config")
def config_command() -> None:
    """Where config.toml is, and what it sets.

    \b
    smtptui config path                    the file's path
    smtptui config show [-P NAME] [--sources]
                                           every setting, resolved (command line >
                                           $SMTPTUI_* > the profile > defaults)
    """


@config_command.command(name="path")
def config_path() -> None:
    """Print the config file's path (it need not exist yet)."""
    from smtptui.config import config_file

    click.echo(config_file())


@config_command.command(name="show")
@PROFILE_OPTION
@click.option("--sources", is_flag=True, help="Say where each value came from.")
def config_show(profile: str | None, sources: bool) -> None:
    """Print every setting as TOML, resolved from $SMTPTUI_* and the profile: passwords are
    never shown, only where they come from."""
    from smtptui.session.settings import PASSWORD_VARIABLE

    found, chosen = resolved({}, None, profile)
    for key, each in found.items():
        if each.value is None or each.value == ():
            line = f"# {key}: not set"
        else:
            line = f"{key} = {toml_value(each.value)}"
            if sources:
                line += f"  # {each.source}"
        say(line)
    places = [f"${PASSWORD_VARIABLE}"] if os.environ.get(PASSWORD_VARIABLE) else []
    if chosen is not None and chosen.password_env and os.environ.get(chosen.password_env):
        places.append(f"${chosen.password_env}")
    for place in places:
        say(f"# password: set in {place} (not shown)")


def toml_value(value: object) -> str:
    """``value`` written as TOML (a string, a number, a list of strings)."""
    import json

    if isinstance(value, tuple | list):
        return "[" + ", ".join(toml_value(each) for each in value) + "]"
    return str(value) if isinstance(value, int) else json.dumps(value, ensure_ascii=False)
