"""The messages a client of ``smtptui serve --ui`` sent: for each, the envelope, the headers,
the MIME parts, the text and the raw bytes, every byte of them made visible (a client's
bytes are as hostile as a server's)."""

from __future__ import annotations

import email
from collections.abc import Iterator, Sequence
from email.message import Message
from email.policy import default as default_policy

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from smtptui.server import ReceivedMessage
from smtptui.session.keymap import keys_name
from smtptui.session.visible import visible, visible_bytes
from smtptui.ui.keys import bindings_of

TEXT_SHOWN = 20_000
"""Characters of a message's text shown (the raw bytes are shown whole)."""


def message_sections(message: ReceivedMessage) -> list[tuple[str, str]]:
    """(heading, text) for each part of the screen, the text made visible."""
    parsed = email.message_from_bytes(message.data, policy=default_policy)
    envelope = [
        f"from     <{message.mail_from}>",
        f"to       {', '.join(message.rcpt_tos)}",
        f"size     {len(message.data):,} bytes",
        f"TLS      {'yes' if message.tls else 'no'}",
        f"AUTH     {message.authenticated_as or '(none)'}",
    ]
    if message.mail_options:
        envelope.append(f"MAIL     {' '.join(message.mail_options)}")
    if message.proxied:
        envelope.append(f"PROXY    {message.proxied}")
    headers = [f"{name}: {_header(value)}" for name, value in parsed.items()]
    return [
        ("Envelope", _lines(envelope)),
        ("Headers", _lines(headers) or "(none)"),
        ("MIME parts", _lines(_parts(parsed))),
        ("Text", visible(_text(parsed)[:TEXT_SHOWN].replace("\r\n", "\n")) or "(no text part)"),
        ("Raw bytes", visible_bytes(message.data)),
    ]


def _lines(lines: Sequence[str]) -> str:
    return "\n".join(visible(line, one_line=True) for line in lines)


def _header(value: object) -> str:
    """A header's value on one line (a malformed one as it came)."""
    try:
        return " ".join(str(value).split())
    except Exception:  # the email package's parsers raise many things on hostile input
        return "(unreadable)"


def _parts(message: Message) -> Iterator[str]:
    for depth, part in _walk(message, 0):
        payload = part.get_payload(decode=True) if not part.is_multipart() else None
        size = f", {len(payload):,} bytes" if isinstance(payload, bytes) else ""
        name = part.get_filename()
        named = f", {name}" if name else ""
        yield f"{'  ' * depth}{part.get_content_type()}{named}{size}"


def _walk(part: Message, depth: int) -> Iterator[tuple[int, Message]]:
    yield depth, part
    if part.is_multipart():
        for child in part.get_payload():
            if isinstance(child, Message):
                yield from _walk(child, depth + 1)


def _text(message: Message) -> str:
    """The first text/plain part, decoded (as bytes shown when its charset is unknown)."""
    for _, part in _walk(message, 0):
        if part.get_content_type() == "text/plain" and not part.is_multipart():
            try:
                return str(part.get_content())
            except (LookupError, UnicodeError, KeyError, ValueError):
                payload = part.get_payload(decode=True)
                return payload.decode("utf-8", "backslashreplace") if payload else ""
    return ""


class MessagesScreen(ModalScreen[None]):
    """A session's ``messages``, one after the other; ``serve_close_messages`` (Esc or q)
    closes."""

    DEFAULT_CSS = """
    MessagesScreen { align: center middle; }
    MessagesScreen > VerticalScroll {
        width: 100; max-width: 100%; height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    MessagesScreen .heading { text-style: bold; color: $text-accent; margin-top: 1; }
    """

    BINDINGS = bindings_of(("serve_close_messages",))

    def __init__(self, messages: Sequence[ReceivedMessage], title: str) -> None:
        super().__init__()
        self.messages = tuple(messages)
        self.heading = visible(title, one_line=True)

    def compose(self) -> ComposeResult:
        with VerticalScroll() as body:
            body.border_title = self.heading
            body.border_subtitle = f"{keys_name('serve_close_messages')} closes"
            if not self.messages:
                yield Static("No message received on this connection yet.", markup=False)
            for number, message in enumerate(self.messages, 1):
                yield Static(f"Message {number} of {len(self.messages)}", classes="heading")
                for heading, text in message_sections(message):
                    yield Static(heading, classes="heading", markup=False)
                    yield Static(text, markup=False, classes="section")
