"""``smtptui run``'s message flags (--data, --body, --header, --attach, …) read and checked:
a bad value is a usage error naming its flag, before anything is sent. The message itself is
built by :mod:`smtptui.session.message`; this module only turns words into its arguments."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

# smtptui.session.message (and so the email package, ~12 ms) is imported where a flag needs
# it: a run with none of these flags sends the demo message and never loads it.
if TYPE_CHECKING:
    from smtptui.session.message import Attachment, HeaderError

_FILE = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)

MESSAGE_FLAGS = (
    "data",
    "message_body",
    "subject",
    "header",
    "add_header",
    "cc",
    "bcc",
    "attach",
    "attach_type",
    "attach_name",
    "dump_mail",
)
"""The parameter names :func:`message_options` gives the command."""

_NOT_WITH_DATA = {
    "message_body": "--body",
    "subject": "--subject",
    "header": "--header",
    "add_header": "--add-header",
    "attach": "--attach",
}
"""What --data cannot go with: it is the whole message, sent as its bytes."""


Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def stacked(*options: Decorator) -> Decorator:
    """One decorator applying ``options`` (click options) in the order written, as if each
    were written above the command in turn: a group of flags several commands share."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def message_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The flags that say what message ``run`` sends (see :class:`MessageFlags`)."""
    options = [
        click.option(
            "--data",
            type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
            metavar="FILE|-",
            help="The whole message, sent as its bytes (tokens aside).",
        ),
        click.option("--body", "message_body", metavar="TEXT|@FILE|-", help="The message's text."),
        click.option("--subject", help="The Subject header."),
        click.option(
            "--header",
            multiple=True,
            metavar="'NAME: VALUE'",
            help="A header replacing any of that name (repeatable).",
        ),
        click.option(
            "--add-header",
            multiple=True,
            metavar="'NAME: VALUE'",
            help="A header added after the others (repeatable).",
        ),
        click.option("--cc", multiple=True, help="A Cc recipient (repeatable)."),
        click.option("--bcc", multiple=True, help="A recipient in no header (repeatable)."),
        click.option("--attach", multiple=True, type=_FILE, help="Attach FILE (repeatable)."),
        click.option(
            "--attach-type",
            multiple=True,
            metavar="TYPE",
            help="MIME type of the --attach in the same place (default: guessed).",
        ),
        click.option(
            "--attach-name",
            multiple=True,
            metavar="NAME",
            help="Name of the --attach in the same place (default: the file's).",
        ),
        click.option(
            "--dump-mail", is_flag=True, help="Print the message's bytes and send nothing."
        ),
    ]
    return stacked(*options)(command)


@dataclass(frozen=True)
class MessageFlags:
    """The message flags, checked. ``given`` is False when none asks for a message of its
    own (the demo message is sent then); ``cc`` and ``bcc`` join the envelope's recipients."""

    given: bool
    data: bytes | None
    body: str | None
    subject: str | None
    headers: tuple[tuple[str, str], ...]
    add_headers: tuple[tuple[str, str], ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    attachments: tuple[Attachment, ...]
    dump: bool

    @classmethod
    def pop(cls, options: dict[str, Any]) -> MessageFlags:
        """The flags taken out of ``options`` (the command's keyword arguments)."""
        flags = {flag: options.pop(flag) for flag in MESSAGE_FLAGS}
        if flags["data"] is not None:
            for flag, name in _NOT_WITH_DATA.items():
                if flags[flag]:
                    raise click.UsageError(f"--data is the whole message: not with {name}")
        return cls(
            given=any(value for flag, value in flags.items() if flag != "dump_mail"),
            data=None if flags["data"] is None else _read(flags["data"]),
            body=None if flags["message_body"] is None else _body(flags["message_body"]),
            subject=flags["subject"],
            headers=_headers(flags["header"], "--header"),
            add_headers=_headers(flags["add_header"], "--add-header"),
            cc=flags["cc"],
            bcc=flags["bcc"],
            attachments=_attachments(flags["attach"], flags["attach_type"], flags["attach_name"]),
            dump=flags["dump_mail"],
        )

    def build(self, sender: str, to: Sequence[str], subject: str, body: str) -> bytes:
        """The message to send; ``subject`` and ``body`` unless given."""
        from smtptui.session.message import HeaderError, build_message, whole_message

        if self.data is not None:
            return whole_message(self.data, sender, to)
        try:
            return build_message(
                sender,
                to,
                self.cc,
                self.bcc,
                subject if self.subject is None else self.subject,
                body if self.body is None else self.body,
                self.headers,
                self.add_headers,
                self.attachments,
            )
        except OSError as error:
            raise click.BadParameter(str(error), param_hint="'--attach'") from None
        except HeaderError as error:
            raise click.BadParameter(str(error), param_hint=f"'{self._flag(error)}'") from None

    def _flag(self, error: HeaderError) -> str:
        """The flag that gave the header ``error`` names."""
        if error.index is None:
            return f"--{error.name.lower()}"  # --from, --to, --cc, --subject
        return "--header" if error.index < len(self.headers) else "--add-header"


def _read(path: Path) -> bytes:
    return sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()


def _body(value: str) -> str:
    """--body's text: as given, from stdin for ``-``, from a file for ``@FILE`` (UTF-8)."""
    if value == "-":
        return sys.stdin.read()
    if not value.startswith("@"):
        return value
    try:
        return Path(value[1:]).read_bytes().decode()
    except (OSError, UnicodeDecodeError) as error:
        raise click.BadParameter(str(error), param_hint="'--body'") from None


def _headers(values: Sequence[str], flag: str) -> tuple[tuple[str, str], ...]:
    if not values:
        return ()
    from smtptui.session.message import parse_header

    try:
        return tuple(parse_header(value) for value in values)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint=f"'{flag}'") from None


def _attachments(
    paths: Sequence[Path], types: Sequence[str], names: Sequence[str]
) -> tuple[Attachment, ...]:
    """Each --attach with the --attach-type and --attach-name in the same place among their
    kind (the second --attach-type goes with the second --attach); "" means the default."""
    if not paths and not types and not names:
        return ()
    from smtptui.session.message import Attachment, check_mime_type

    for flag, values in (("--attach-type", types), ("--attach-name", names)):
        if len(values) > len(paths):
            raise click.UsageError(f"more {flag} than --attach")
    for mime_type in filter(None, types):
        try:
            check_mime_type(mime_type)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="'--attach-type'") from None
    return tuple(
        Attachment(
            path,
            types[n] if n < len(types) and types[n] else None,
            names[n] if n < len(names) and names[n] else None,
        )
        for n, path in enumerate(paths)
    )
