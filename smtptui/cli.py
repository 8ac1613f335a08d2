"""The one entry point: ``smtptui`` and ``python -m smtptui``.

``smtptui [HOST[:PORT]]`` opens the interactive UI; ``smtptui run`` runs a whole session
headless and prints the transcript (like swaks); ``smtptui serve`` runs the embedded server.
"""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import logging
import os
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import click

from smtptui import VERSION_LINE, __version__
from smtptui.cli_message import MessageFlags, message_options
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
    from smtptui.server import EmbeddedServer
    from smtptui.session import RunAll, SessionSettings
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
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no such variable, and no account entry either
        user = "postmaster"
    return f"{user}@{socket.getfqdn()}"


@contextlib.contextmanager
def demo_server(
    port: int = 0, *, implicit_tls: bool = False
) -> Iterator[tuple[EmbeddedServer, SessionSettings, str]]:
    """The embedded server, started (on a free port unless ``port``; STARTTLS unless
    ``implicit_tls``); settings for it (its certificate trusted for this run only, the demo
    user) and a line saying where it is."""
    from smtptui.engine.hosts import format_host
    from smtptui.server import DEMO_USERS, EmbeddedServer
    from smtptui.session import Security, SessionSettings

    user, password = next(iter(DEMO_USERS.items()))
    with EmbeddedServer(port=port, implicit_tls=implicit_tls) as server:
        assert server.self_signed is not None
        settings = SessionSettings(
            host=f"{server.host}:{server.port}",
            security=Security.TLS if implicit_tls else Security.STARTTLS,
            ssl_context=server.self_signed.client_context(),
            helo_name="client.smtptui.demo",
            username=user,
            password=password,
        )
        yield server, settings, f"Demo server on {format_host(*settings.address())}, user {user}"


DEMO_STEPS = (
    "Its self-signed certificate is trusted for this run only.",
    "Try: F2 connect, F3 EHLO, F4 STARTTLS, F3 EHLO again,",
    "then F5 AUTH, F9 send, F10 QUIT.",
    "F1 lists every key; Ctrl+/ to type any SMTP command.",
)


VERIFY_MODES = ("both", "ca", "host", "none")
"""--verify's choices: :class:`~smtptui.engine.tls.VerifyMode`'s values (not imported
here: ``--version`` imports nothing)."""

TLS_VERSION_NAMES = ("1.0", "1.1", "1.2", "1.3")
"""--tls-min's and --tls-max's choices: the keys of ``engine.tls.TLS_VERSIONS``."""

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
        click.option(
            "--verify",
            type=click.Choice(VERIFY_MODES, case_sensitive=False),
            help="What to check of the certificate: its chain to a trusted CA and its name "
            "(both, the default), the chain alone (ca), the name alone (host), or nothing.",
        ),
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
            type=click.Choice(TLS_VERSION_NAMES),
            help="The lowest TLS version to accept.",
        ),
        click.option(
            "--tls-max",
            type=click.Choice(TLS_VERSION_NAMES),
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
    for option in reversed(options):
        command = option(command)
    return command


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
    for option in reversed(options):
        command = option(command)
    return command


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
    host: str, password: str = "", base: SessionSettings | None = None, **options: Any
) -> SessionSettings:
    """Settings from the command line's words, over ``base`` (the demo's) if given; a bad
    value is a usage error naming it."""
    from smtptui.session import Security, SessionSettings, VerifyMode

    base = base or SessionSettings()
    verify = (options["verify"] or "").lower()
    if options["no_verify"] and verify not in ("", "none"):
        raise click.UsageError(f"--no-verify means --verify none, not --verify {verify}")
    try:
        return dataclasses.replace(
            base,
            host=host,
            security=Security(options["security"]),
            verify=VerifyMode(verify or ("none" if options["no_verify"] else "both")),
            cafile=options["cafile"],
            client_cert=options["client_cert"],
            client_key=options["client_key"],
            sni=options["sni"],
            verify_name=options["verify_name"],
            tls_min=options["tls_min"],
            tls_max=options["tls_max"],
            ciphers=options["ciphers"],
            helo_name=options["helo_name"] or base.helo_name,
            username=options["user"],
            password=password,
            mechanism=options["mechanism"],
        )
    except CommandError as error:
        flag = TLS_FLAGS.get(error.field.lower())
        raise click.BadParameter(str(error), param_hint=flag and f"'{flag}'") from None


def ask_password(user: str, known: str | None = None) -> str:
    """The password for ``user``: $SMTPTUI_PASSWORD, else ``known``, else asked for."""
    if not user:
        return ""
    return (
        env_password() or known or click.prompt(f"Password for {user}", hide_input=True, err=True)
    )


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
    smtptui run HOST --to ADDRESS     a whole session, headless, printed like swaks
    smtptui serve                     the embedded server, in the foreground
    smtptui completion bash|zsh|fish  the shell completion script
    """
    logging.basicConfig(format="%(message)s", handlers=[_LogLines()])


class _ThemeOption(click.Option):
    """--theme, whose help names the themes folder: found (platformdirs) only when the help
    is shown, not on every start of every command."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from smtptui.ui.preferences import config_dir

        self.help = (
            "Colour theme, remembered (dark, light, high-contrast, solarized-dark, or your own "
            f"NAME.toml in {config_dir() / 'themes'})."
        )
        return super().get_help_record(ctx)


@main.command()
@click.argument("host", required=False, default="")
@click.option("--demo", is_flag=True, help="Start the embedded server and open it, filled in.")
@click.option("--theme", cls=_ThemeOption, default=None)
@security_options
def ui(host: str, demo: bool, theme: str | None, **options: Any) -> None:
    """Open the interactive UI, on HOST[:PORT] (or [IPv6]:PORT) if given.

    Keys: F2 connect, F3 EHLO, F4 STARTTLS, F5 AUTH, F6 MAIL, F7 RCPT, F8 DATA, F9 send,
    F10 QUIT; F1 lists them all. The password comes from $SMTPTUI_PASSWORD, or F5 asks.
    """
    from smtptui.engine.loop import run
    from smtptui.ui.themes import load_themes

    if theme is not None:
        themes, problems = load_themes()
        if theme not in themes:
            why = "".join(f"\n  {problem}" for problem in problems)
            known = ", ".join(sorted(themes))
            raise click.BadParameter(f"no theme named {theme!r} (themes: {known}){why}")
    if demo:
        with demo_server() as (_, settings, where):
            run(demo_app(settings, where, theme=theme).run_async())
        return
    run(ui_app(host, theme=theme, **options).run_async())


def ui_app(host: str, *, theme: str | None = None, **options: Any) -> SmtpTui:
    """The app as ``smtptui [HOST]`` opens it: the password from $SMTPTUI_PASSWORD, if set
    (F5 asks for one otherwise)."""
    from smtptui.ui.app import SmtpTui

    return SmtpTui(make_settings(host, env_password(), **options), theme=theme)


def demo_app(settings: SessionSettings, where: str, **options: Any) -> SmtpTui:
    """The app as ``--demo`` opens it: every pane filled in, the first steps suggested."""
    from smtptui.ui.app import Draft, SmtpTui

    draft = Draft(DEMO_SENDER, (DEMO_RECIPIENT,), DEMO_SUBJECT, DEMO_BODY)
    return SmtpTui(settings, draft=draft, welcome=(where, *DEMO_STEPS), **options)


RISK_FLAGS = {Risk.PLAINTEXT_AUTH: "--plaintext-auth", Risk.UNADVERTISED: "--unadvertised-ok"}
"""The flag of ``run`` that accepts each risk it can meet (the others fail the run)."""


class _RunCommand(click.Command):
    """``run``: bad arguments exit 1 (:attr:`Exit.USAGE`), as swaks' do, not click's 2."""

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
    cls=_RunCommand,
    epilog="\b\nExit status (swaks' codes):\n"
    + "\n".join(f"{status.value:>4}  {status.meaning}" for status in Exit),
)
@click.argument("host", required=False)
@click.option("--demo", is_flag=True, help="Run it against the embedded server.")
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
    "--unadvertised-ok",
    is_flag=True,
    help="Send envelope parameters whose extension the server did not advertise.",
)
@click.pass_context
def run_command(
    ctx: click.Context,
    host: str | None,
    demo: bool,
    sender: str,
    recipients: tuple[str, ...],
    timeout: float,
    no_color: bool,
    no_pipelining: bool,
    chunking: bool,
    chunk_size: int | None,
    plaintext_auth: bool,
    unadvertised_ok: bool,
    force_helo: bool,
    quit_after: str | None,
    drop_after: str | None,
    json_output: bool,
    quiet: bool,
    hide_body: bool,
    show_time: bool,
    show_raw: bool,
    **options: Any,
) -> None:
    """Run a whole session headless and print every command and reply.

    Connect to HOST[:PORT], EHLO, STARTTLS, AUTH with --user (password from
    $SMTPTUI_PASSWORD or a prompt), a test message with --to, QUIT. Exit status 0 when every
    step worked.

    With --demo, against the embedded server: it refuses senders named reject… and
    recipients named reject… or unknown… (try --to unknown@smtptui.demo). AUTH is as its
    user alice, unless --user or --plain (it offers AUTH only inside TLS).
    """
    from smtptui.cli_output import OutputOptions, RunOutput
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
    if (host and demo) or not (host or demo or mail.dump):
        raise click.UsageError("give a HOST[:PORT] or --demo" + (", not both" if demo else ""))
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
    if host:
        settings = make_settings(host, ask_password(options["user"]), **options)
        settings = dataclasses.replace(settings, reply_timeout=timeout)
        ctx.exit(run(run_session(settings, dialogue, output, accepted=accepted)))
    from smtptui.server import DEMO_USERS, describe

    with demo_server(implicit_tls=options["security"] == Security.TLS) as (server, base, where):
        output.note(f"=== {where}; {DEMO_STEPS[0].lower()}")
        plain = options["security"] == Security.NONE
        user = options["user"] or ("" if plain else base.username)
        password = ask_password(user, DEMO_USERS.get(user))
        options = {**options, "user": user}
        settings = make_settings(base.host, password, base, **options)
        settings = dataclasses.replace(settings, reply_timeout=timeout)
        status = run(run_session(settings, dialogue, output, accepted=accepted))
        for message in server.messages:
            output.note(f"=== The server received: {describe(message)}")
    ctx.exit(status)


async def run_session(
    settings: SessionSettings,
    dialogue: RunAll,
    output: RunOutput,
    *,
    accepted: tuple[Risk, ...] = (),
) -> Exit:
    """Run the whole dialogue, printing it through ``output`` as it happens, then its
    summary; the exit status. ``accepted`` are the risks the user allowed on the command
    line."""
    from smtptui.session import Entry, SessionController, summarize

    controller = SessionController(settings, client_factory=output.client)

    def show(update: object) -> None:
        if isinstance(update, Entry):
            output.entry(update)

    controller.subscribe(show)
    for risk in accepted:
        controller.accept(risk)
    outcome = await controller.run(dialogue)
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
def serve(host: str, port: int, tls: bool) -> None:
    """Run the embedded mail server in the foreground until Ctrl-C."""
    from smtptui.server import serve as serve_forever

    serve_forever(host, port, implicit_tls=tls, echo=say)


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
