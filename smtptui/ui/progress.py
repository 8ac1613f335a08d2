"""The bar under the transcript while a large message is sent: bytes sent of the total,
the rate, gone with the message's reply. Built the first time a message is large enough."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

from smtptui.session import Transfer
from smtptui.session.transcript_lines import format_size


class SendProgress(Horizontal):
    """``Sending 3.2 MB of 20.0 MB · 1.4 MB/s`` and a bar; hidden when nothing is sent."""

    DEFAULT_CSS = """
    SendProgress {
        height: 1;
        padding: 0 1;
        background: $panel;
        display: none;
        &.-sending { display: block; }
        & > Label { width: auto; padding-right: 2; color: $text; }
        & > ProgressBar { width: 1fr; }
        & Bar { width: 1fr; }
    }
    """

    def __init__(self, transfer: Transfer | None = None, **kwargs: str) -> None:
        super().__init__(**kwargs)
        self._transfer = transfer
        self.set_class(transfer is not None, "-sending")

    def compose(self) -> ComposeResult:
        yield Label(id="progress-text")
        yield ProgressBar(show_eta=False, id="progress-bar")

    def on_mount(self) -> None:
        self._draw()

    def show(self, transfer: Transfer | None) -> None:
        """Show ``transfer``, or hide the bar if there is none."""
        self._transfer = transfer
        self.set_class(transfer is not None, "-sending")
        if self.is_mounted:
            self._draw()

    def _draw(self) -> None:
        transfer = self._transfer
        if transfer is None:
            return
        rate = f" · {format_size(int(transfer.rate))}/s" if transfer.rate else ""
        sent, total = format_size(transfer.sent), format_size(transfer.total)
        self.query_one(Label).update(f"Sending {sent} of {total}{rate}")
        self.query_one(ProgressBar).update(total=transfer.total, progress=transfer.sent)
