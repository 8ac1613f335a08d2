"""``smtptui diff --ui A B``: two saved sessions side by side, step by step, what changed
marked (the steps and changes of :mod:`smtptui.session.diff`)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Static

from smtptui.session.diff import Aligned, Status, Step, differ
from smtptui.session.keymap import ACTIONS, ALSO, Scope
from smtptui.session.visible import visible
from smtptui.ui.certificate import CertificateScreen
from smtptui.ui.help import HelpScreen
from smtptui.ui.keys import bindings_of
from smtptui.ui.reader import SavedSessionApp

MARKS = {Status.SAME: " ", Status.CHANGED: "~", Status.REMOVED: "-", Status.ADDED: "+"}
COLOURS = {Status.CHANGED: "text-warning", Status.REMOVED: "text-error"}
COLOURS[Status.ADDED] = "text-success"
"""Each status's theme variable (the same: the theme's foreground)."""

DIFF_KEYS = (*ALSO[Scope.DIFF], *(action.id for action in ACTIONS if action.scope is Scope.DIFF))
"""The actions of the table (``session.keymap``) the diff UI binds."""


class DiffApp(SavedSessionApp):
    """Both sessions' steps aligned in a table: mark, A's step and reply, B's, what changed."""

    TITLE = "smtptui diff"
    CSS = SavedSessionApp.CSS + "DataTable { height: 1fr; }"
    BINDINGS = bindings_of(DIFF_KEYS)

    def __init__(
        self,
        aligned: Sequence[Aligned],
        a: str,
        b: str,
        threshold: str,
        *,
        theme: str | None = None,
    ) -> None:
        super().__init__(theme)
        self.aligned = list(aligned)
        self.names = visible(a, one_line=True), visible(b, one_line=True)
        self.threshold = threshold
        self.only_differences = False
        self.rows: list[Aligned] = []  # what each row of the table shows

    def compose(self) -> ComposeResult:
        yield Static(self._status(), id="status", markup=False)
        yield DataTable(cursor_type="row", zebra_stripes=True, id="steps")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        side = max(24, (self.size.width - 10) // 3)  # each side a third; changes the rest
        table.add_column("", key="mark", width=1)
        table.add_column(Text(f"A: {self.names[0]}"), key="a", width=side)
        table.add_column(Text(f"B: {self.names[1]}"), key="b", width=side)
        table.add_column("What changed", key="changes")
        self._fill()
        table.focus()

    def _status(self) -> str:
        counts = {status: 0 for status in Status}
        for each in self.aligned:
            counts[each.status] += 1
        if not differ(self.aligned):
            verdict = f"the same ({counts[Status.SAME]} steps)"
        else:
            verdict = (
                f"{counts[Status.CHANGED]} changed, {counts[Status.REMOVED]} only in A, "
                f"{counts[Status.ADDED]} only in B"
            )
        return f"smtptui diff  read-only · {verdict} · timing past {self.threshold}"

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self.rows = []
        variables = self.theme_variables
        for each in self.aligned:
            if self.only_differences and each.status is Status.SAME:
                continue
            style = variables.get(COLOURS[each.status], "") if each.status in COLOURS else ""
            changes = [str(change) for change in each.changes] or [""]
            cells = [MARKS[each.status], _side(each.a), _side(each.b), changes[0]]
            table.add_row(*(Text(cell, style=style) for cell in cells))
            for change in changes[1:]:  # each further change on a row of its own, below
                table.add_row("", "", "", Text(change, style=style))
            self.rows += [each] * len(changes)

    def action_move(self, step: int) -> None:
        """The previous or next step (the table's own keys do it too, while it has the
        focus: these are for a keymap's)."""
        table = self.query_one(DataTable)
        table.move_cursor(row=table.cursor_row + step)

    def action_toggle_same(self) -> None:
        self.only_differences = not self.only_differences
        self._fill()

    def action_certificate(self, side: str) -> None:
        table = self.query_one(DataTable)
        if not self.rows:
            return
        each = self.rows[table.cursor_row]
        step = each.a if side == "a" else each.b
        if step is None or step.tls_info is None:
            self.notify(f"No TLS handshake on {side.upper()}'s side of this step", timeout=3)
            return
        self.push_screen(CertificateScreen(step.tls_info))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(only=DIFF_KEYS, transcript=False))


def _side(step: Step | None) -> str:
    """One side's step: its label and its reply's last line (already visible)."""
    if step is None:
        return ""
    reply = step.reply.text.split("\n")[-1] if step.reply is not None else ""
    return f"{step.label}  {reply}".rstrip()
