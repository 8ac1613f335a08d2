"""The help screen: the keys, the transcript's markers and what reply codes mean."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from smtptui.session.keymap import ACTIONS, BY_ID, MAIN, KeyAction, Scope, keys_name
from smtptui.ui.dialog import ScrollingDialog

MARKERS = (
    (" -> ", "sent to the server"),
    ("<-  ", "received from the server"),
    (" ~> ", "sent inside TLS"),
    ("<~  ", "received inside TLS"),
    ("┌-> ", "sent in one write (pipelined), down to the └"),
    ("=== ", "what smtptui did: connect, TLS, timing"),
    ("*** ", "an error, and what to try"),
)

SECTIONS = (
    ("Keys", (Scope.APP, Scope.STEP, Scope.SERVE, Scope.DIFF)),
    ("In the Compose pane", (Scope.COMPOSE,)),
    ("In the transcript", (Scope.TRANSCRIPT,)),
)
"""The help's key sections, each the scopes of the table it lists."""

_ANYWHERE = " (from anywhere but a text field too)"

REPLY_CLASSES = (
    ("2xx", "$text-success", "done: the command worked"),
    ("3xx", "$text-primary", "go on: send the rest (354 after DATA, 334 in AUTH)"),
    ("4xx", "$text-warning", "try later: a temporary failure"),
    ("5xx", "$text-error", "failed: a permanent refusal; change something first"),
)


class HelpScreen(ScrollingDialog):
    """Every action's keys (as the keymap has them), the transcript's markers and the reply
    classes; Esc, q or the help's own key closes it."""

    BINDINGS = [
        Binding("escape,q", "dismiss", "Close"),
        Binding(BY_ID["help"].keys, "dismiss", "Close", id="help"),  # the keymap's, if remapped
    ]

    DEFAULT_CSS = """
    HelpScreen {
        & > VerticalScroll { width: 86; max-width: 100%; max-height: 100%; }
        & .heading { text-style: bold; color: $text-accent; }
        & .table { height: auto; grid-size: 2; grid-columns: auto 1fr; grid-gutter: 0 2; }
        & .table > Static { height: auto; }
    }
    """

    def __init__(self, only: Collection[str] | None = None, *, transcript: bool = True) -> None:
        """``only``: the ids an app of its own offers (None: the main app's); ``transcript``:
        whether it shows a transcript (its keys and markers listed)."""
        super().__init__()
        self.only = only
        self.transcript = transcript

    def compose(self) -> ComposeResult:
        with VerticalScroll() as body:
            body.border_title = "smtptui help"
            body.border_subtitle = f"Esc, {keys_name('help', first=True)} or q closes"
            sections = [
                (heading, keys_rows(scopes, self.only, self.transcript))
                for heading, scopes in SECTIONS
            ]
            for number, (heading, rows) in enumerate(row for row in sections if row[1]):
                yield Static(heading, classes="heading first" if not number else "heading")
                yield _table(rows)
            if self.transcript:
                yield Static("Transcript", classes="heading")
                yield _table((mark, "", text) for mark, text in MARKERS)
            yield Static("Replies", classes="heading")
            yield _table(REPLY_CLASSES)
            yield Static(
                "x.y.z after a code (5.7.1) is an enhanced status code (RFC 3463): "
                "class, subject, detail.",
                classes="note",
            )


def keys_rows(
    scopes: Sequence[Scope], only: Collection[str] | None = None, transcript: bool = True
) -> list[tuple[str, str, str]]:
    """The table's actions in ``scopes`` (the main app's, or those of ``only``, an app's
    own; and every transcript action if ``transcript``) as help rows: keys, their style,
    what it does (and, in the main app, where else they work)."""
    return [
        (
            keys_name(action.id),
            "$text-accent",
            action.help + _ANYWHERE * (action.anywhere and only is None),
        )
        for action in ACTIONS
        if action.scope in scopes and _offered(action, only, transcript)
    ]


def _offered(action: KeyAction, only: Collection[str] | None, transcript: bool) -> bool:
    if action.scope is Scope.TRANSCRIPT:
        return transcript
    return action.scope in MAIN if only is None else action.id in only


def _table(rows: Iterable[tuple[str, str, str]]) -> Grid:
    """Rows of ``(left, style of left, right)`` as two columns: the right one wraps under
    itself, however narrow the terminal."""
    return Grid(
        *(
            cell
            for left, style, right in rows
            for cell in (Static(Content.styled(left, f"bold {style}".strip())), Static(right))
        ),
        classes="table",
    )
