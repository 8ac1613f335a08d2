"""Every action a key can run, declared once: its id, label, default keys, help and scope.

The TUI's bindings (each with its id, so ``[keymap]`` in config.toml can remap it), its
footer, F1 help and command palette, the "next:" advice and the fixes the session gives
("STARTTLS (F4 …)") are all made from :data:`ACTIONS`, and so are the keys, footers and
help of ``serve --ui`` and ``diff --ui`` (scopes of their own). Keys are written as Textual
names them (``f2``, ``alt+c``, ``slash``); this module does not import Textual.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    """Where an action's keys work."""

    STEP = "step"
    """Everywhere, even in a text field (a priority binding): the SMTP steps."""
    APP = "app"
    """Everywhere a text field does not want the key first."""
    TRANSCRIPT = "transcript"
    """With the focus in the transcript."""
    COMPOSE = "compose"
    """With the focus in the Compose pane."""
    SERVE = "serve"
    """In ``smtptui serve --ui`` (with the transcript's keys and :data:`ALSO`'s)."""
    DIFF = "diff"
    """In ``smtptui diff --ui`` (with :data:`ALSO`'s keys)."""


@dataclass(frozen=True, slots=True)
class KeyAction:
    """One action: ``id`` names it in ``[keymap]``; ``keys`` are its default keys (a
    comma list, the first shown in the footer); ``action`` is what the binding runs."""

    id: str
    label: str
    keys: str
    help: str
    scope: Scope
    action: str
    palette: str | None = None
    """The command palette's title (the keys are added to it), or None: keys only."""
    footer: bool = False
    """Always in the footer (the steps show there when they are the advice)."""
    anywhere: bool = False
    """A transcript action whose keys also work from anywhere but a text field."""


def _step(id: str, label: str, keys: str, help: str) -> KeyAction:
    return KeyAction(id, label, keys, help, Scope.STEP, f"step('{id}')", f"SMTP: {label}")


def _transcript(
    id: str, label: str, keys: str, help: str, action: str, *, palette: bool = True, **kw: bool
) -> KeyAction:
    title = f"Transcript: {label}" if palette else None
    return KeyAction(id, label, keys, help, Scope.TRANSCRIPT, action, title, **kw)


def _compose(id: str, label: str, keys: str, help: str) -> KeyAction:
    return KeyAction(id, label, keys, help, Scope.COMPOSE, id, f"Compose: {label}")


def _session(id: str, label: str, title: str, keys: str, help: str) -> KeyAction:
    return KeyAction(id, label, keys, help, Scope.APP, id, f"Session: {title}")


ACTIONS: tuple[KeyAction, ...] = (
    # Each step also has Alt and a letter (Connect, Hello, Secure, User, …), for keyboards
    # without F-keys. Not Alt+digit: terminals send ESC and the digit, which Textual reads
    # as the character macOS's Option+digit types, so a text field would take it. Not Alt+B
    # or Alt+F either: Textual reads them as word left and right.
    KeyAction("help", "All keys", "f1", "This help: every key", Scope.APP, "help", footer=True),
    _step("connect", "Connect", "f2,alt+c", "Connect to the server in the Connection pane"),
    _step("ehlo", "EHLO", "f3,alt+h", "EHLO: greet and ask for the server's extensions"),
    _step("starttls", "STARTTLS", "f4,alt+s", "STARTTLS: upgrade the connection to TLS"),
    _step("auth", "AUTH", "f5,alt+u", "AUTH with the Auth pane's mechanism and credentials"),
    _step("mail", "MAIL", "f6,alt+w", "MAIL FROM: the Compose pane's envelope sender"),
    _step(
        "pipeline", "Pipeline", "shift+f6,alt+i", "MAIL FROM, every RCPT TO and DATA in one write"
    ),
    _step("rcpt", "RCPT", "f7,alt+r", "RCPT TO: the next of the Compose pane's recipients"),
    _step("data", "DATA", "f8,alt+d", "DATA, then the composed message (at a 354, the message)"),
    _step("bdat", "BDAT", "shift+f8,alt+y", "BDAT: the composed message in chunks, after RCPT"),
    _step("send", "Send", "f9,alt+g", "Send the composed message: MAIL, every RCPT, DATA"),
    _step("quit", "QUIT", "f10,alt+q", "QUIT: say goodbye and close"),
    _step("disconnect", "Drop", "f12,alt+k", "Close the connection at once, without QUIT"),
    _step("helo", "HELO", "ctrl+t", "HELO: greet without extensions"),
    _step("rset", "RSET", "ctrl+r", "RSET: abandon the mail transaction"),
    _step("noop", "NOOP", "ctrl+o", "NOOP: check the server is still there"),
    _step("vrfy", "VRFY", "ctrl+g", "VRFY the first recipient"),
    _step("expn", "EXPN", "ctrl+b", "EXPN the first recipient (a mailing list)"),
    _step("smtp_help", "HELP", "ctrl+l", "HELP: ask the server for help"),
    _step("xclient", "XCLIENT", "alt+x", "XCLIENT: act as the client the Connection pane names"),
    KeyAction(
        "cancel",
        "Cancel",
        "escape",
        "Cancel the step in flight; in a message, end it or drop",
        Scope.APP,
        "cancel",
    ),
    KeyAction(
        "palette",
        "palette",
        "ctrl+p",
        "Command palette: find any action",
        Scope.STEP,
        "command_palette",
    ),
    KeyAction(
        "find",
        "Find",
        "ctrl+f",
        "Search the transcript; Enter or Esc there goes to it",
        Scope.STEP,
        "find",
    ),
    KeyAction(
        "export",
        "Export",
        "ctrl+s",
        "Export the transcript to a file",
        Scope.STEP,
        "export",
        "Transcript: Export",
    ),
    KeyAction(
        "command_line",
        "Command line",
        "ctrl+slash,ctrl+underscore",
        "Go to the command line (type any SMTP command)",
        Scope.APP,
        "focus_command_line",
    ),
    KeyAction(
        "to_transcript",
        "Transcript",
        "ctrl+n",
        "Go to the transcript",
        Scope.APP,
        "to_transcript",
        "Transcript: Go to it",
    ),
    KeyAction(
        "mx",
        "MX",
        "alt+m",
        "MX: the mail servers of a domain, to connect to",
        Scope.APP,
        "mx",
        "MX: mail servers of a domain…",
    ),
    KeyAction(
        "probe",
        "Probe",
        "alt+o",
        "Probe 25, 587, 465 and 2525: which to use, with what",
        Scope.APP,
        "probe",
        "Probe: which port, TLS and AUTH…",
    ),
    KeyAction(
        "tls_report",
        "TLS report",
        "alt+t",
        "TLS report: versions, ciphers, certificate, DANE, MTA-STS",
        Scope.APP,
        "tls_report",
        "TLS report…",
    ),
    KeyAction("exit", "Quit", "ctrl+q", "Quit smtptui", Scope.STEP, "quit"),
    _session("new_session", "New session", "New", "alt+n", "A new session, with these settings"),
    _session(
        "close_session", "Close session", "Close…", "ctrl+w", "Close this session (asks if unsaved)"
    ),
    _session("next_session", "Next session", "Next", "alt+right,ctrl+pagedown", "The next session"),
    _session(
        "previous_session",
        "Previous session",
        "Previous",
        "alt+left,ctrl+pageup",
        "The previous session",
    ),
    _session("split", "Split", "Split", "alt+v", "This session and another side by side, or not"),
    _compose("load", "Load .eml…", "alt+l", "Load a message file (.eml)"),
    _compose("attach", "Attach a file…", "alt+a", "Attach a file to the message"),
    _compose(
        "edit_body", "Edit the body in $EDITOR", "alt+e", "Edit the body in $VISUAL or $EDITOR"
    ),
    _compose("preview", "Preview bytes", "alt+p", "Show the exact bytes DATA will send"),
    _transcript(
        "previous",
        "Previous entry",
        "up,k",
        "Move to the previous entry",
        "cursor(-1)",
        palette=False,
    ),
    _transcript(
        "next", "Next entry", "down,j", "Move to the next entry", "cursor(1)", palette=False
    ),
    _transcript(
        "first", "First entry", "home", "Move to the first entry", "cursor_to(0)", palette=False
    ),
    _transcript(
        "last", "Last entry", "end", "Move to the last entry", "cursor_to(-1)", palette=False
    ),
    _transcript(
        "explain",
        "Explain",
        "enter",
        "Explain a reply or command, unfold a body, open a TLS certificate",
        "open",
    ),
    _transcript("expand", "Expand", "space", "Unfold or fold a body", "toggle", palette=False),
    _transcript(
        "search", "Search", "slash", "Search (Esc in the bar clears)", "search", anywhere=True
    ),
    _transcript("next_match", "Next match", "n", "Next search match", "next_match(1)"),
    _transcript("previous_match", "Previous match", "N", "Previous search match", "next_match(-1)"),
    _transcript(
        "filter",
        "Filter",
        "f",
        "Filter: all, errors only, sent only",
        "cycle_filter",
        anywhere=True,
    ),
    _transcript("next_error", "Next error", "e", "Next error", "next_error(1)", anywhere=True),
    _transcript(
        "previous_error", "Previous error", "E", "Previous error", "next_error(-1)", anywhere=True
    ),
    _transcript(
        "reveal", "Reveal", "r", "Show or mask passwords and tokens on screen", "toggle_reveal"
    ),
    _transcript("copy", "Copy", "c", "Copy the entry to the clipboard", "copy_entry"),
    _transcript(
        "copy_all", "Copy all", "C", "Copy the whole transcript to the clipboard", "copy_all"
    ),
    _transcript(
        "columns",
        "Columns",
        "t",
        "Columns: latency, since connect, wall clock, none",
        "cycle_columns",
    ),
    _transcript(
        "wrap",
        "Wrap",
        "w",
        "Wrap long lines under themselves, or cut them at the edge (→)",
        "toggle_wrap",
    ),
    _transcript(
        "previous_connection",
        "Previous connection",
        "left_square_bracket",
        "The previous connection's transcript",
        "browse(-1)",
    ),
    _transcript(
        "next_connection",
        "Next connection",
        "right_square_bracket",
        "The next connection's transcript",
        "browse(1)",
    ),
    KeyAction(
        "serve_messages",
        "Messages",
        "m",
        "The session's messages: envelope, headers, parts, bytes",
        Scope.SERVE,
        "messages",
        footer=True,
    ),
    KeyAction(
        "serve_next_pane",
        "Next pane",
        "tab",
        "Between the sessions and the transcript",
        Scope.SERVE,
        "focus_next",
    ),
    KeyAction(
        "serve_close_messages", "Close", "escape,q", "Close the messages", Scope.SERVE, "dismiss"
    ),
    KeyAction(
        "diff_previous_step",
        "Previous step",
        "up,k",
        "Move to the previous step",
        Scope.DIFF,
        "move(-1)",
    ),
    KeyAction(
        "diff_next_step", "Next step", "down,j", "Move to the next step", Scope.DIFF, "move(1)"
    ),
    KeyAction(
        "diff_only_changes",
        "Only differences",
        "d",
        "Show only the steps that differ, or every step",
        Scope.DIFF,
        "toggle_same",
        footer=True,
    ),
    KeyAction(
        "diff_certificate_a",
        "A's certificate",
        "a",
        "A's TLS certificate, on a TLS handshake's step",
        Scope.DIFF,
        "certificate('a')",
    ),
    KeyAction(
        "diff_certificate_b",
        "B's certificate",
        "b",
        "B's TLS certificate, on a TLS handshake's step",
        Scope.DIFF,
        "certificate('b')",
    ),
)
"""Every action with keys, in the order the F1 help lists them."""

BY_ID: Mapping[str, KeyAction] = {action.id: action for action in ACTIONS}

MAIN = frozenset({Scope.STEP, Scope.APP, Scope.TRANSCRIPT, Scope.COMPOSE})
"""The main app's scopes (its F1 help lists them); ``serve --ui`` and ``diff --ui`` are
apps of their own."""

ALSO: Mapping[Scope, tuple[str, ...]] = {
    Scope.SERVE: ("help", "palette", "exit"),
    Scope.DIFF: ("help", "palette", "exit"),
}
"""The main app's actions that the apps of these scopes offer too, beside their own."""

_OVERLAPS = {
    Scope.STEP: MAIN,
    Scope.APP: MAIN,
    Scope.TRANSCRIPT: frozenset({Scope.STEP, Scope.APP, Scope.TRANSCRIPT, Scope.SERVE}),
    Scope.COMPOSE: frozenset({Scope.STEP, Scope.APP, Scope.COMPOSE}),
    Scope.SERVE: frozenset({Scope.SERVE, Scope.TRANSCRIPT}),
    Scope.DIFF: frozenset({Scope.DIFF}),
}
"""The scopes whose keys can be live at once (the transcript and Compose never are; the
serve UI shows a transcript, the diff UI none)."""

_NAMES = {
    "slash": "/",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "underscore": "_",
    "period": ".",
    "up": "↑",
    "down": "↓",
    "escape": "Esc",
}
"""How a key Textual names in words is shown where a sign says it better."""

_active: dict[str, tuple[str, ...]] = {}
"""The keys a keymap gave (by id), set by :func:`use`; the rest keep their defaults."""


def _sign(name: str) -> str:
    """The printable sign a key named for it stands for (``percent_sign``: ``%``), or ""."""
    try:
        sign = unicodedata.lookup(name.replace("_", " "))
    except KeyError:
        return ""
    return sign if sign.isprintable() and not sign.isspace() else ""


def split(keys: str) -> tuple[str, ...]:
    """``"f2, alt+c"`` as ``("f2", "alt+c")``."""
    return tuple(key.strip() for key in keys.split(",") if key.strip())


def use(remapped: Mapping[str, Iterable[str]]) -> None:
    """Make ``remapped`` (id → keys) the keys every name and hint shows from now on (the
    app does it at start, from ``[keymap]``)."""
    _active.clear()
    _active.update({id: tuple(keys) for id, keys in remapped.items()})


def keys_of(id: str) -> tuple[str, ...]:
    """The keys of action ``id`` now: as remapped, else its defaults."""
    return _active.get(id) or split(BY_ID[id].keys)


def key_name(key: str) -> str:
    """``F2``, ``Ctrl+T``, ``Shift+F6``, ``Alt+C``, ``/``, ``N``: one key as people read it."""
    *modifiers, base = key.split("+")
    if base in _NAMES:
        shown = _NAMES[base]
    elif len(base) == 1:
        shown = base.upper() if modifiers else base
    elif base[0] == "f" and base[1:].isdigit():
        shown = base.upper()
    else:
        shown = _sign(base) or base.replace("_", " ").title()
    return "+".join([*(modifier.title() for modifier in modifiers), shown])


def keys_name(id: str, first: bool = False) -> str:
    """Action ``id``'s keys as people read them (``F2, Alt+C``), or the first alone."""
    keys = keys_of(id)
    return key_name(keys[0]) if first else ", ".join(key_name(key) for key in keys)


def with_keys(text: str) -> str:
    """``text`` with each ``{id}`` of an action written as its first key, ``{id:nof}`` as
    its first that is not an F-key (for keyboards without them): ``{connect}`` is ``F2``,
    ``{connect:nof}`` ``Alt+C`` (the demo's welcome names its keys so)."""

    def named(found: re.Match[str]) -> str:
        id, choice = found[1], found[2]
        if id not in BY_ID:
            return found[0]
        keys = keys_of(id)
        if choice == ":nof":
            keys = tuple(key for key in keys if not _is_f_key(key)) or keys
        return key_name(keys[0])

    return re.sub(r"\{(\w+)(:nof)?\}", named, text)


def _is_f_key(key: str) -> bool:
    base = key.rsplit("+", 1)[-1]
    return base[:1] == "f" and base[1:].isdigit()


def clashes(bound: Mapping[str, Iterable[str]]) -> list[tuple[str, str, str]]:
    """Each key two actions share where both can be live, as ``(key, id, other id)``;
    ``bound`` maps ids to their keys (those not given keep their defaults)."""
    keys = {action.id: tuple(bound.get(action.id, split(action.keys))) for action in ACTIONS}
    found = []
    seen: dict[str, list[str]] = {}
    for id, each in keys.items():
        for key in each:
            for other in seen.get(key, ()):
                if _live_together(BY_ID[other], BY_ID[id]):
                    found.append((key, other, id))
            seen.setdefault(key, []).append(id)
    return found


def _live_together(one: KeyAction, other: KeyAction) -> bool:
    """Whether the keys of ``one`` and ``other`` can work at the same time."""
    return (
        other.scope in _OVERLAPS[one.scope]
        or other.id in ALSO.get(one.scope, ())
        or one.id in ALSO.get(other.scope, ())
    )
