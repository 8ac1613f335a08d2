"""The Compose tab: a message and its envelope, built as ``smtplib.send_message`` sends it."""

from __future__ import annotations

import dataclasses
import email.errors
import email.utils
import re
from collections.abc import Sequence
from email.message import EmailMessage
from email.policy import SMTP

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Collapsible, Label, Select, Static, TextArea

from smtptui.protocol.commands import address, check
from smtptui.protocol.data import PreparedMessage, fix_eols, prepare_message
from smtptui.protocol.envelope import (
    BODIES,
    RECIPIENT_FIELD,
    RETS,
    Envelope,
    parse_notify,
    parse_recipient_params,
)
from smtptui.protocol.errors import CommandError
from smtptui.session import SendMessage
from smtptui.ui.messages import RunAction
from smtptui.ui.panes.form import Form, FormPane, field, text_input

_FIELD_NAME = re.compile(r"[!-9;-~]+")
"""A header field name (RFC 5322 2.2): printable ASCII except the colon."""

_INVALID = (email.errors.InvalidHeaderDefect, email.errors.InvalidDateDefect)
"""Header defects that would make the email package send something other than was typed."""

_PARSE_ERRORS = (ValueError, IndexError, email.errors.HeaderParseError)
"""What the email package may raise for a value it cannot parse."""

_POLICY = SMTP.clone(cte_type="7bit")
"""CRLF line ends, and a body any server takes (quoted-printable or base64 if not ASCII)."""

_SMTPUTF8 = {"automatic": None, "on": True, "off": False}
"""The SMTPUTF8 choices and what each asks the envelope for."""

_RAW_HINT = (
    "The body is sent as typed, headers and all; "
    "From, To, Cc and Bcc (or MAIL FROM, RCPT TO) give the envelope."
)


class ComposePane(FormPane):
    """From, To, Cc, Bcc, Subject, extra headers, body, envelope and raw mode; Send.

    Empty MAIL FROM and RCPT TO fields mean the envelope comes from the headers (sender
    from Sender or From, recipients from To, Cc and Bcc), as ``smtplib.send_message`` does.
    """

    DEFAULT_CSS = """
    ComposePane {
        & #headers { height: 3; }
        & #body-field { height: 1fr; min-height: 6; }
        & #body { height: 1fr; }
        & #raw-hint-row { display: none; }
        &.-raw #raw-hint-row { display: block; }
        & #envelope {
            padding: 0;
            border: none;
            background: transparent;
            & > Contents { padding: 0; height: auto; }
            & .field { height: auto; }
            & #env-rcpt { height: 3; }
            & CollapsibleTitle { padding: 0; color: $text-muted; }
        }
    }
    """

    def compose(self) -> ComposeResult:
        with Form():
            yield field("From", text_input("from", "From", "Alice <alice@example.org>"))
            yield field("To", text_input("to", "To", "bob@example.org, carol@…"))
            yield field("Cc", text_input("cc", "Cc"))
            yield field("Bcc", text_input("bcc", "Bcc", "not shown in the message"))
            yield field("Subject", text_input("subject", "Subject"))
            yield field("Headers", _text_area("headers", "Name: value, one a line"))
            yield field("Body", _text_area("body", ""), id="body-field")
            yield field("MAIL FROM", text_input("envelope-sender", "envelope sender", "From"))
            yield field(
                "RCPT TO", text_input("envelope-recipients", "envelope recipients", "To, Cc, Bcc")
            )
            with Collapsible(title="Envelope parameters", id="envelope"):
                yield from _envelope_fields()
            yield field("Raw", Checkbox("body is the message", id="raw", compact=True))
            yield field("", Static(_RAW_HINT, id="raw-hint", classes="hint"), id="raw-hint-row")
        with Horizontal(classes="buttons"):
            yield Button("Send", id="send", variant="primary", compact=True)

    def load(self, sender: str, recipients: Sequence[str], subject: str, body: str) -> None:
        """Fill in From, To, Subject and the body."""
        self.text("from", sender)
        self.text("to", ", ".join(recipients))
        self.text("subject", subject)
        self.query_one("#body", TextArea).text = body

    def build(self) -> SendMessage:
        """MAIL, RCPT and DATA for the whole message; raises :class:`CommandError` naming
        the field at fault."""
        prepared = self.prepare()
        return SendMessage(
            prepared.sender,
            tuple(prepared.recipients),
            prepared.data,
            mail_options=tuple(prepared.mail_options),
            envelope=self.envelope(prepared.recipients),
        )

    def envelope(self, recipients: Sequence[str]) -> Envelope | None:
        """The Envelope section's parameters, ORCPT for each of ``recipients``, and the Per
        recipient lines' overrides (each address one of ``recipients``); None if all are
        automatic. Raises :class:`CommandError` naming the field at fault."""
        size = self.text("env-size").strip()
        if size and not size.isdigit():
            raise CommandError("SIZE", f"{size!r} is not a number of bytes")
        orcpt = self.text("env-orcpt").strip(" ")
        rcpt = parse_recipient_params(self.query_one("#env-rcpt", TextArea).text)
        if strangers := [each for each in rcpt if each not in recipients]:
            raise CommandError(
                RECIPIENT_FIELD,
                f"{strangers[0]} is not a recipient ({', '.join(recipients)})",
            )
        envelope = Envelope(
            size=int(size) if size else None,
            body=self._choice("env-body") or None,
            smtputf8=_SMTPUTF8[self._choice("env-smtputf8")],
            ret=self._choice("env-ret") or None,
            envid=self.text("env-envid") or None,
            requiretls=self.query_one("#env-requiretls", Checkbox).value,
            notify=parse_notify(self.text("env-notify")),
            orcpt=dict.fromkeys(recipients, orcpt) if orcpt else {},
            rcpt=rcpt,
        )
        envelope.needs()  # checks every value
        return None if envelope.empty else envelope

    def focus_field(self, name: str) -> bool:
        """Open the Envelope section first when the field is in it."""
        section = self.query_one("#envelope", Collapsible)
        if any(widget.name == name for widget in section.query(Widget)):
            section.collapsed = False
        return super().focus_field(name)

    def _choice(self, id: str) -> str:
        return str(self.query_one(f"#{id}", Select).value)

    def envelope_sender(self) -> str:
        """The address for MAIL FROM (validated like :meth:`build`)."""
        return self.prepare().sender

    def envelope_recipients(self) -> list[str]:
        """The addresses for RCPT TO (validated like :meth:`build`)."""
        return self.prepare().recipients

    def message(self) -> bytes:
        """The message data for DATA or BDAT (validated like :meth:`build`)."""
        return self.prepare().data

    def prepare(self) -> PreparedMessage:
        """Envelope, message bytes and MAIL options (SMTPUTF8 for a non-ASCII address)."""
        raw = self.query_one("#raw", Checkbox).value
        msg = self._headers() if raw else self._message()
        typed = self.text("envelope-sender")
        sender = address("envelope sender", typed, null=True) if typed.strip(" ") else None
        if sender is None:
            if "From" not in msg:
                raise CommandError("From", "no sender: fill in From, or MAIL FROM (<> for none)")
            _check_addresses(msg, "From")
        typed = self.text("envelope-recipients")
        recipients = [address("envelope recipients", each) for each in _split(typed)]
        if not recipients:
            _check_addresses(msg, "To", "Cc", "Bcc")
        try:
            prepared = prepare_message(msg, sender, recipients or None)
        except _PARSE_ERRORS as error:
            raise CommandError("headers", str(error)) from None
        recipients = [address for address in prepared.recipients if address]  # not "a:;"
        if not recipients:
            raise CommandError("To", "no recipient: fill in To, Cc or Bcc, or RCPT TO")
        body = self.query_one("#body", TextArea).text
        data = fix_eols(body).encode("utf-8") if raw else prepared.data
        return dataclasses.replace(prepared, recipients=recipients, data=data)

    def _headers(self) -> EmailMessage:
        """A message holding only From, To, Cc and Bcc: the envelope's sources."""
        msg = EmailMessage(policy=_POLICY)
        for name in ("From", "To", "Cc", "Bcc"):
            if value := self.text(name.lower()).strip():
                _set(msg, name, value, name)
        return msg

    def _message(self) -> EmailMessage:
        """The message as the fields describe it; extra headers replace generated ones."""
        extra = self._extra_headers()
        msg = self._headers()
        if subject := self.text("subject"):
            _set(msg, "Subject", subject, "Subject")
        named = {name.lower() for name, _ in extra}
        if "date" not in named:
            msg["Date"] = email.utils.formatdate(localtime=True)
        if "message-id" not in named:
            domain = email.utils.parseaddr(msg.get("From", ""))[1].rpartition("@")[2]
            msg["Message-ID"] = email.utils.make_msgid(domain=domain or "localhost")
        msg.set_content(self.query_one("#body", TextArea).text)
        generated = {name.lower() for name in msg}
        for number, (name, value) in enumerate(extra, 1):
            if name.lower() in generated:
                generated.discard(name.lower())
                del msg[name]
            _set(msg, name, value, "headers", f"line {number}: ")
        return msg

    def _extra_headers(self) -> list[tuple[str, str]]:
        """The ``Name: value`` lines of the Headers field (blank lines skipped)."""
        headers = []
        lines = self.query_one("#headers", TextArea).text.split("\n")
        for number, line in enumerate(lines, 1):
            check("headers", line, tab=True)
            if not line.strip():
                continue
            name, colon, value = line.partition(":")
            if not colon or not _FIELD_NAME.fullmatch(name):
                raise CommandError("headers", f"line {number}: write Name: value, not {line!r}")
            headers.append((name, value.strip()))
        return headers

    @on(Checkbox.Changed, "#raw")
    def _raw_changed(self, event: Checkbox.Changed) -> None:
        """In raw mode Subject and Headers are not used: dim them (their text stays)."""
        self.set_class(event.value, "-raw")
        for widget in self.query("#subject, #headers"):
            widget.disabled = event.value

    @on(Button.Pressed, "#send")
    def _send(self) -> None:
        try:
            self.post_message(RunAction(self.build()))
        except CommandError as error:
            self.report(error)


def _set(msg: EmailMessage, name: str, value: str, field: str, where: str = "") -> None:
    """Add header ``name``; raise :class:`CommandError` for ``field`` if the email package
    cannot take ``value`` as it is."""
    check(field, value, tab=True)
    try:
        msg[name] = value
    except _PARSE_ERRORS as error:
        reason = str(error) if isinstance(error, ValueError) else f"cannot parse {value!r}"
        raise CommandError(field, f"{where}{name}: {reason}") from None
    for defect in msg.get_all(name)[-1].defects:
        if isinstance(defect, _INVALID):
            raise CommandError(field, f"{where}{name}: {defect} (raw mode sends text as typed)")


def _check_addresses(msg: EmailMessage, *names: str) -> None:
    """Raise naming the header if an address the envelope takes from it (as
    :func:`prepare_message` does) is not one address alone."""
    for name in names:
        for _, found in email.utils.getaddresses(msg.get_all(name, [])):
            if found:  # an empty group ("undisclosed:;") gives none
                address(name, found)


def _split(addresses: str) -> list[str]:
    """Comma-separated addresses, as typed (spaces around them aside: any other white space
    is for :func:`address` to refuse)."""
    return [each for each in addresses.split(",") if each.strip(" ")]


def _envelope_fields() -> ComposeResult:
    """The rows of the Envelope section, each named as its parameter's errors name it."""
    yield field("SIZE", text_input("env-size", "SIZE", "automatic"), Label("bytes", classes="unit"))
    yield field(
        "BODY",
        _select("env-body", "BODY", {"": "automatic", **{body: body for body in BODIES}}),
    )
    yield field(
        "SMTPUTF8",
        _select("env-smtputf8", "SMTPUTF8", {value: value for value in _SMTPUTF8}),
    )
    yield field("RET", _select("env-ret", "RET", {"": "none", **{ret: ret for ret in RETS}}))
    yield field("ENVID", text_input("env-envid", "ENVID", "envelope id"))
    yield field("NOTIFY", text_input("env-notify", "NOTIFY", "success,failure"))
    yield field("ORCPT", text_input("env-orcpt", "ORCPT", "original recipient"))
    yield field(
        "Per recipient",
        TextArea(
            id="env-rcpt",
            name=RECIPIENT_FIELD,
            placeholder="bob@example.org NOTIFY=never ORCPT=rfc822;bob@old.example",
            compact=True,
        ),
    )
    yield field(
        "REQUIRETLS",
        Checkbox("TLS on all hops", id="env-requiretls", name="REQUIRETLS", compact=True),
    )


def _select(id: str, name: str, options: dict[str, str]) -> Select[str]:
    """A compact Select of ``options`` (value → label), the first chosen."""
    return Select(
        [(label, value) for value, label in options.items()],
        value=next(iter(options)),
        allow_blank=False,
        id=id,
        name=name,
        compact=True,
    )


def _text_area(id: str, placeholder: str) -> TextArea:
    return TextArea(id=id, name=id, placeholder=placeholder, compact=True)
