"""The one entry point: ``smtptui`` and ``python -m smtptui``."""

from __future__ import annotations

import os

import click

from smtptui import __version__
from smtptui.engine.loop import run
from smtptui.protocol.errors import CommandError
from smtptui.session import (
    Entry,
    RunAll,
    Security,
    SendMessage,
    SessionController,
    SessionSettings,
    swaks_lines,
)

DEMO_SENDER = "alice@smtptui.demo"
DEMO_RECIPIENT = "bob@smtptui.demo"


def demo_message(sender: str, recipient: str) -> str:
    return (
        f"From: {sender}\r\nTo: {recipient}\r\nSubject: Hello from smtptui\r\n\r\n"
        "This message went through every step of an SMTP session.\r\n"
    )


async def run_session(
    settings: SessionSettings, send: SendMessage | None, *, color: bool | None
) -> bool:
    """Run the whole dialogue, printing the transcript as it happens; True if it all worked."""
    controller = SessionController(settings)

    def show(update: object) -> None:
        if isinstance(update, Entry):
            for line in swaks_lines(update):
                click.secho(line, fg=_COLOURS.get(line[:4]), color=color)

    controller.subscribe(show)
    outcome = await controller.run(RunAll(send))
    return outcome.ok


_COLOURS = {"*** ": "red", "=== ": "cyan", "<-  ": "green", "<~  ": "green"}


def run_demo(color: bool | None) -> bool:
    """Start the embedded server and run a whole session against it."""
    from smtptui.server import DEMO_USERS, EmbeddedServer

    user, password = next(iter(DEMO_USERS.items()))
    with EmbeddedServer() as server:
        assert server.self_signed is not None
        settings = SessionSettings(
            host=f"{server.host}:{server.port}",
            security=Security.STARTTLS,
            ssl_context=server.self_signed.client_context(),
            helo_name="client.smtptui.demo",
            username=user,
            password=password,
        )
        click.secho(
            f"=== Demo server on {server.host}:{server.port}; its self-signed certificate "
            f"(SHA-256 {server.self_signed.sha256[:23]}…) is trusted for this run only",
            fg="cyan",
            color=color,
        )
        send = SendMessage(
            DEMO_SENDER, (DEMO_RECIPIENT,), demo_message(DEMO_SENDER, DEMO_RECIPIENT)
        )
        ok = run(run_session(settings, send, color=color))
        if ok:
            received = server.messages[-1]
            click.secho(
                f"=== The server received {len(received.data)} bytes from "
                f"{received.mail_from} for {', '.join(received.rcpt_tos)}",
                fg="cyan",
                color=color,
            )
    return ok


class _DefaultToSession(click.Group):
    """``smtptui [OPTIONS] [HOST]`` means ``smtptui session …``; ``serve`` is a command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in {*self.commands, "-h", "--help", "--version"}:
            args = ["session", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultToSession, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="smtptui")
def main() -> None:
    """smtptui: see and step through SMTP sessions.

    \b
    smtptui --demo                 a whole session against the embedded server
    smtptui HOST[:PORT] [OPTIONS]  a whole session against HOST (see: smtptui session -h)
    smtptui serve                  the embedded server, in the foreground
    """


@main.command()
@click.argument("host", required=False)
@click.option("--demo", is_flag=True, help="Start the embedded server and run a session on it.")
@click.option(
    "--starttls", "security", flag_value="starttls", default=True, help="Upgrade with STARTTLS."
)
@click.option("--tls", "security", flag_value="tls", help="Implicit TLS (port 465 by default).")
@click.option("--plain", "security", flag_value="none", help="No TLS at all.")
@click.option("--no-verify", is_flag=True, help="Do not verify the server's certificate.")
@click.option("--cafile", type=click.Path(exists=True, dir_okay=False), help="Trust this CA file.")
@click.option("--ehlo", "helo_name", default="", help="The name to send in EHLO/HELO.")
@click.option("--user", default="", help="AUTH as this user (password: $SMTPTUI_PASSWORD or ask).")
@click.option("--auth", "mechanism", default=None, help="SASL mechanism (default: best offered).")
@click.option("--from", "sender", default="", help="Envelope sender of the test message.")
@click.option("--to", "recipients", multiple=True, help="Send a test message to (repeatable).")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for a reply.")
@click.option("--no-color", is_flag=True, help="Plain text output.")
@click.pass_context
def session(
    ctx: click.Context,
    host: str | None,
    demo: bool,
    security: str,
    no_verify: bool,
    cafile: str | None,
    helo_name: str,
    user: str,
    mechanism: str | None,
    sender: str,
    recipients: tuple[str, ...],
    timeout: float,
    no_color: bool,
) -> None:
    """Run a whole session and print every command and reply.

    Connect to HOST[:PORT] (or [IPv6]:PORT), EHLO, STARTTLS, AUTH with --user, send a test
    message with --to, QUIT. With --demo, do that against the embedded server.
    """
    color = False if no_color else None
    if demo:
        ctx.exit(0 if run_demo(color) else 1)
    if not host:
        click.echo(ctx.get_help())
        return
    password = ""
    if user:
        password = os.environ.get("SMTPTUI_PASSWORD") or click.prompt(
            f"Password for {user}", hide_input=True, err=True
        )
    try:
        settings = SessionSettings(
            host=host,
            security=Security(security),
            verify=not no_verify,
            cafile=cafile,
            helo_name=helo_name,
            reply_timeout=timeout,
            username=user,
            password=password,
            mechanism=mechanism,
        )
    except CommandError as error:
        raise click.BadParameter(str(error)) from None
    if sender and not recipients:
        raise click.UsageError("--from needs at least one --to")
    send = None
    if recipients:
        sender = sender or DEMO_SENDER
        send = SendMessage(sender, recipients, demo_message(sender, recipients[0]))
    ctx.exit(0 if run(run_session(settings, send, color=color)) else 1)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=2525, show_default=True, help="Port to listen on.")
@click.option("--tls", is_flag=True, help="Implicit TLS instead of STARTTLS.")
def serve(host: str, port: int, tls: bool) -> None:
    """Run the embedded mail server in the foreground until Ctrl-C."""
    from smtptui.server import serve as serve_forever

    serve_forever(host, port, implicit_tls=tls, echo=click.echo)
