"""The Compose tab: a message and its envelope, the message built as ``smtptui run``
builds it (:func:`~smtptui.session.message.build_message`), the envelope taken from its
headers as ``smtplib.send_message`` takes it; or a message file loaded whole."""

from __future__ import annotations

import email.utils
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage, Message
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import (
    Button,
    Checkbox,
    Collapsible,
    Label,
    OptionList,
    Static,
    TextArea,
)

from smtptui.protocol.commands import address, check, international
from smtptui.protocol.data import PreparedMessage, fix_eols, header_envelope
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
from smtptui.session.eml import headers, read_message, simple_fields
from smtptui.session.keymap import Scope
from smtptui.session.message import (
    POLICY,
    Attachment,
    HeaderError,
    add_header,
    build_message,
    whole_message,
)
from smtptui.session.transcript_lines import format_size
from smtptui.session.visible import visible
from smtptui.ui.editor import EditorError, edit_text
from smtptui.ui.keys import bindings
from smtptui.ui.messages import RunAction
from smtptui.ui.panes.form import Form, FormPane, field, select, text_input
from smtptui.ui.path import AttachScreen, PathScreen
from smtptui.ui.preview import PreviewScreen

_FIELD_NAME = re.compile(r"[!-9;-~]+")
"""A header field name (RFC 5322 2.2): printable ASCII except the colon."""

_ENVELOPE_HEADERS = ("sender", "from", "to", "cc", "bcc")
"""Headers ``smtplib.send_message`` takes the envelope from (and the Resent- ones)."""

_SMTPUTF8 = {"automatic": None, "on": True, "off": False}
"""The SMTPUTF8 choices and what each asks the envelope for."""

_RAW_HINT = (
    "The body is sent as typed, headers and all; "
    "From, To, Cc and Bcc (or MAIL FROM, RCPT TO) give the envelope."
)

_UNUSED_WHEN_RAW = ("subject", "headers", "attachments", "attach", "detach")
_UNUSED_WHEN_WHOLE = ("from", "to", "cc", "bcc", "body", "editor", "raw", *_UNUSED_WHEN_RAW)
"""The fields a raw body, or a whole message file, leaves unused (dimmed, text kept)."""

_BUTTONS = {"load": "load", "attach": "attach", "editor": "edit_body", "preview": "preview"}
"""The buttons that do what a Compose key does (``session.keymap``): id → action."""


@dataclass(frozen=True, slots=True)
class WholeMessage:
    """A message file sent as its bytes (tokens aside)."""

    path: Path
    data: bytes


class ComposePane(FormPane):
    """From, To, Cc, Bcc, Subject, extra headers, body, attachments, envelope and raw mode;
    Send, Preview and Load .eml. A loaded message file that the fields cannot hold is sent
    whole, as its bytes, and the message fields are not used until it is cleared.

    Empty MAIL FROM and RCPT TO fields mean the envelope comes from the headers (sender
    from Sender or From, recipients from To, Cc and Bcc), as ``smtplib.send_message`` does.
    """

    BINDINGS = bindings(Scope.COMPOSE)

    DEFAULT_CSS = """
    ComposePane {
        & #headers { height: 3; }
        & #body-field { height: 1fr; min-height: 6; }
        & #body { height: 1fr; }
        & #raw-hint-row, & #whole-row { display: none; }
        &.-raw #raw-hint-row, &.-whole #whole-row { display: block; }
        & #whole { width: 1fr; color: $text-warning; }
        & #clear-whole { min-width: 0; margin-left: 1; }
        & #body-buttons { height: auto; }
        & #body-buttons > Button { margin-right: 1; min-width: 0; }
        & #attachments-row.-empty { display: none; }
        & #attachments { height: auto; max-height: 4; scrollbar-size-vertical: 1; }
        & > .buttons > Button { min-width: 0; }
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

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.attachments: list[Attachment] = []
        self.whole: WholeMessage | None = None

    def compose(self) -> ComposeResult:
        with Form():
            yield field(
                "Message",
                Static(id="whole", markup=False),
                Button("Clear", id="clear-whole", compact=True),
                id="whole-row",
            )
            yield field("From", text_input("from", "From", "Alice <alice@example.org>"))
            yield field("To", text_input("to", "To", "bob@example.org, carol@…"))
            yield field("Cc", text_input("cc", "Cc"))
            yield field("Bcc", text_input("bcc", "Bcc", "not shown in the message"))
            yield field("Subject", text_input("subject", "Subject"))
            yield field("Headers", _text_area("headers", "Name: value, one a line"))
            yield field("Body", _text_area("body", ""), id="body-field")
            with Horizontal(id="body-buttons"):
                yield Button("$EDITOR", id="editor", compact=True)
                yield Button("Attach…", id="attach", compact=True)
                yield Button("Remove", id="detach", compact=True, disabled=True)
            listed = OptionList(id="attachments", name="attachments", compact=True)
            yield field("Attachments", listed, id="attachments-row").add_class("-empty")
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
            yield Button("Preview", id="preview", compact=True)
            yield Button("Load .eml…", id="load", compact=True)

    def load(self, sender: str, recipients: Sequence[str], subject: str, body: str) -> None:
        """Fill in From, To, Subject and the body."""
        self.text("from", sender)
        self.text("to", ", ".join(recipients))
        self.text("subject", subject)
        self.query_one("#body", TextArea).text = body

    def addresses(self) -> tuple[str, tuple[str, ...]]:
        """From and To as typed (To split at its commas): what a profile keeps."""
        return self.text("from").strip(), tuple(each.strip() for each in _split(self.text("to")))

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
            body=self.choice("env-body") or None,
            smtputf8=_SMTPUTF8[self.choice("env-smtputf8")],
            ret=self.choice("env-ret") or None,
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

    def envelope_sender(self) -> str:
        """The address for MAIL FROM (validated like :meth:`build`, attachments unread)."""
        return self._envelope()[0]

    def envelope_recipients(self) -> list[str]:
        """The addresses for RCPT TO (validated like :meth:`build`, attachments unread)."""
        return self._envelope()[1]

    def message(self) -> bytes:
        """The message data for DATA or BDAT (validated like :meth:`build`)."""
        return self.prepare().data

    def prepare(self) -> PreparedMessage:
        """Envelope, message bytes and MAIL options (SMTPUTF8 for a non-ASCII address)."""
        sender, recipients = self._envelope()
        if self.whole is not None:
            data = whole_message(self.whole.data, sender, recipients)
        elif self.query_one("#raw", Checkbox).value:
            body = fix_eols(self.query_one("#body", TextArea).text).encode("utf-8")
            data = whole_message(body, sender, recipients)
        else:
            data = self._build()
        utf8 = international(sender, *recipients)
        options = ["SMTPUTF8", "BODY=8BITMIME"] if utf8 else []
        return PreparedMessage(sender, recipients, data, options, utf8)

    def _envelope(self) -> tuple[str, list[str]]:
        """MAIL FROM's and RCPT TO's fields, or else what the headers say: those of a whole
        message file, or From, To, Cc, Bcc (and any Sender or Resent- in Headers)."""
        typed = self.text("envelope-sender")
        sender = address("envelope sender", typed, null=True) if typed.strip(" ") else None
        typed = self.text("envelope-recipients")
        recipients = [address("envelope recipients", each) for each in _split(typed)]
        msg = self._envelope_headers()  # checks the fields, used or not
        if sender is not None and recipients:
            return sender, recipients
        whole = self.whole is not None
        where = "the message file" if whole else "From"
        if sender is None:
            if "From" not in msg and "Sender" not in msg:
                field = "envelope sender" if whole else "From"
                raise CommandError(field, f"no sender: fill in {where}, or MAIL FROM (<> for none)")
            _check_addresses(msg, "envelope sender" if whole else None, "Sender", "From")
        if not recipients:
            _check_addresses(msg, "envelope recipients" if whole else None, "To", "Cc", "Bcc")
        try:
            header_sender, header_recipients = header_envelope(msg)
        except ValueError as error:
            raise CommandError("envelope sender" if whole else "headers", str(error)) from None
        recipients = recipients or [each for each in header_recipients if each]  # not "a:;"
        if not recipients:
            field, where = ("envelope recipients", "the message file") if whole else ("To", "To")
            raise CommandError(field, f"no recipient: fill in {where}, Cc or Bcc, or RCPT TO")
        return header_sender if sender is None else sender, recipients

    def _envelope_headers(self) -> Message:
        """The headers the envelope comes from: a whole message file's, or From, To, Cc and
        Bcc, replaced (as the built message's are) by those of Headers that name one."""
        if self.whole is not None:
            return headers(self.whole.data)
        msg = EmailMessage(policy=POLICY)
        for name in ("From", "To", "Cc", "Bcc"):
            if value := self.text(name.lower()).strip():
                _set(msg, name, value, name)
        if self.query_one("#raw", Checkbox).value:
            return msg
        check("Subject", self.text("subject"), tab=True)
        extra = [
            (number, name, value)
            for number, name, value in self._extra_headers()
            if name.lower() in _ENVELOPE_HEADERS or name.lower().startswith("resent-")
        ]
        for name in {name.lower() for _, name, _ in extra}:
            del msg[name]
        for number, name, value in extra:
            _set(msg, name, value, "headers", f"line {number}: ")
        return msg

    def _build(self) -> bytes:
        """The message the fields describe, built as ``run`` builds one."""
        extra = self._extra_headers()
        subject = self.text("subject")
        fields = {name: self.text(name.lower()).strip() for name in ("From", "To", "Cc")}
        try:
            return build_message(
                fields["From"],
                [fields["To"]] if fields["To"] else [],
                [fields["Cc"]] if fields["Cc"] else [],
                subject=subject,
                body=self.query_one("#body", TextArea).text,
                headers=[(name, value) for _, name, value in extra],
                attachments=self.attachments,
            )
        except HeaderError as error:
            if error.index is None:
                raise CommandError(error.name, str(error)) from None
            raise CommandError("headers", f"line {extra[error.index][0]}: {error}") from None
        except OSError as error:
            raise CommandError("attachments", f"{error.filename}: {error.strerror}") from None

    def _extra_headers(self) -> list[tuple[int, str, str]]:
        """The ``Name: value`` lines of the Headers field with their line numbers (blank
        lines skipped)."""
        headers = []
        lines = self.query_one("#headers", TextArea).text.split("\n")
        for number, line in enumerate(lines, 1):
            check("headers", line, tab=True)
            if not line.strip():
                continue
            name, colon, value = line.partition(":")
            if not colon or not _FIELD_NAME.fullmatch(name):
                raise CommandError("headers", f"line {number}: write Name: value, not {line!r}")
            headers.append((number, name, value.strip()))
        return headers

    # -- raw mode, a whole message file --------------------------------------------------

    @on(Checkbox.Changed, "#raw")
    def _raw_changed(self, event: Checkbox.Changed) -> None:
        """In raw mode Subject, Headers and attachments are not used: dim them (their text
        stays)."""
        self.set_class(event.value, "-raw")
        self._dim()

    def _dim(self) -> None:
        """Dim the fields the message does not use now."""
        raw = self.query_one("#raw", Checkbox).value
        unused = _UNUSED_WHEN_WHOLE if self.whole else _UNUSED_WHEN_RAW if raw else ()
        for id in _UNUSED_WHEN_WHOLE:
            self.query_one(f"#{id}").disabled = id in unused
        self.query_one("#detach", Button).disabled |= not self.attachments

    def action_load(self) -> None:
        """Ask for a message file and load it: a simple text message into the fields, any
        other whole."""
        screen = PathScreen(
            "Load a message (.eml)",
            read_message,
            note="A plain text message fills the fields; any other is sent as its bytes.",
            action="Load",
        )
        self.app.push_screen(screen, self._loaded)

    def _loaded(self, loaded: tuple[Path, bytes] | None) -> None:
        if loaded is None:
            return
        path, data = loaded
        fields = simple_fields(data)
        if fields is None:
            self.whole = WholeMessage(path, data)
            name = visible(path.name, one_line=True)
            self.query_one("#whole", Static).update(
                f"{name}, {format_size(len(data))}: sent whole, as its bytes; "
                "of the fields, only MAIL FROM and RCPT TO are used"
            )
            self.app.notify(f"Loaded {name} whole: it is sent as its bytes", timeout=4)
        else:
            self.whole = None
            for id in ("from", "to", "cc", "bcc", "subject"):
                self.text(id, getattr(fields, "sender" if id == "from" else id))
            self.query_one("#headers", TextArea).text = "\n".join(
                f"{name}: {value}" for name, value in fields.headers
            )
            self.query_one("#body", TextArea).text = fields.body
            self.query_one("#raw", Checkbox).value = False
            self.app.notify(f"Loaded {visible(path.name)} into the fields", timeout=4)
        self.set_class(self.whole is not None, "-whole")
        self._dim()

    @on(Button.Pressed, "#clear-whole")
    def clear_whole(self) -> None:
        """Forget the message file: the fields are the message again."""
        self.whole = None
        self.remove_class("-whole")
        self._dim()

    # -- attachments ----------------------------------------------------------------------

    def action_attach(self) -> None:
        """Ask for a file to attach (with its type and name, if not the guessed ones)."""
        if self.query_one("#attach", Button).disabled:
            self.app.notify("Attachments are not used with a raw body or a whole message")
            return
        self.app.push_screen(AttachScreen(), self._attached)

    def _attached(self, attachment: Attachment | None) -> None:
        if attachment is not None:
            self.attachments.append(attachment)
            self._show_attachments()

    @on(Button.Pressed, "#detach")
    def _detach_pressed(self) -> None:
        """Remove the attachment highlighted (the first if none is)."""
        listed = self.query_one("#attachments", OptionList)
        if self.attachments:
            del self.attachments[listed.highlighted or 0]
            self._show_attachments()

    def _show_attachments(self) -> None:
        listed = self.query_one("#attachments", OptionList)
        listed.clear_options()
        listed.add_options(_describe(attachment) for attachment in self.attachments)
        self.query_one("#attachments-row").set_class(not self.attachments, "-empty")
        self.query_one("#detach", Button).disabled = not self.attachments

    # -- the body in an editor, and the bytes to be sent -------------------------------------

    def action_edit_body(self) -> None:
        """Open the body in ``$VISUAL`` or ``$EDITOR`` and take back what was saved; the
        body stays as it was if the editor fails."""
        body = self.query_one("#body", TextArea)
        if body.disabled:
            self.app.notify("The body is not used: a whole message file is loaded")
            return
        try:
            body.text = edit_text(self.app, body.text)
        except EditorError as error:
            self.app.notify(f"{error}: the body is as it was", severity="error", markup=False)

    def action_preview(self) -> None:
        """Show the bytes DATA would carry now, or go to the field at fault."""
        try:
            prepared = self.prepare()
        except CommandError as error:
            self.report(error)
            return
        self.app.push_screen(PreviewScreen(prepared.data, international=prepared.international))

    @on(Button.Pressed, ", ".join(f"#{id}" for id in _BUTTONS))
    async def _pressed(self, event: Button.Pressed) -> None:
        await self.run_action(_BUTTONS[str(event.button.id)])

    @on(Button.Pressed, "#send")
    def _send(self) -> None:
        try:
            self.post_message(RunAction(self.build()))
        except CommandError as error:
            self.report(error)


def _set(msg: EmailMessage, name: str, value: str, field: str, where: str = "") -> None:
    """Add header ``name``; raise :class:`CommandError` for ``field`` if it holds a control
    character or the email package cannot take ``value`` as it is."""
    check(field, value, tab=True)
    try:
        add_header(msg, name, value)
    except HeaderError as error:
        raise CommandError(field, f"{where}{error}") from None


def _describe(attachment: Attachment) -> Content:
    """An attachment as the list shows it: name, type, size."""
    name = attachment.name or attachment.path.name
    try:
        size = format_size(attachment.path.stat().st_size)
    except OSError as error:
        size = error.strerror or "unreadable"
    kind = attachment.mime_type or "type guessed"
    return Content(f"{visible(name, one_line=True)} · {kind} · {size}")


def _check_addresses(msg: Message, field: str | None, *names: str) -> None:
    """Raise naming ``field`` (or else the header) if an address the envelope takes from
    it (as :func:`header_envelope` does) is not one address alone."""
    for name in names:
        for _, found in email.utils.getaddresses(msg.get_all(name, [])):
            if found:  # an empty group ("undisclosed:;") gives none
                address(field or name, found)


def _split(addresses: str) -> list[str]:
    """Comma-separated addresses, as typed (spaces around them aside: any other white space
    is for :func:`address` to refuse)."""
    return [each for each in addresses.split(",") if each.strip(" ")]


def _envelope_fields() -> ComposeResult:
    """The rows of the Envelope section, each named as its parameter's errors name it."""
    yield field("SIZE", text_input("env-size", "SIZE", "automatic"), Label("bytes", classes="unit"))
    yield field(
        "BODY",
        select("env-body", "BODY", {"": "automatic", **{body: body for body in BODIES}}),
    )
    yield field(
        "SMTPUTF8",
        select("env-smtputf8", "SMTPUTF8", {value: value for value in _SMTPUTF8}),
    )
    yield field("RET", select("env-ret", "RET", {"": "none", **{ret: ret for ret in RETS}}))
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


def _text_area(id: str, placeholder: str) -> TextArea:
    return TextArea(id=id, name=id, placeholder=placeholder, compact=True)
