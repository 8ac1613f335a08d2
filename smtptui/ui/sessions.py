"""Several sessions side by side: each its own controller and transcript, shown one at a
time under a tab strip, or two at once (the split), so a server can be compared with itself
before and after a change, or with another MX host."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Tab, Tabs

from smtptui.session import SessionController
from smtptui.ui.transcript import TranscriptPane, TranscriptView


class Workspace:
    """One session of the app: its controller, its transcript pane, which of its
    connections is shown, the recipient RCPT sends next, and the worker group its steps run
    in (Esc cancels that group alone)."""

    def __init__(self, key: int, controller: SessionController, *, show_timing: bool) -> None:
        self.key = key
        """Stable for the session's life (positions change as sessions close)."""
        self.controller = controller
        self.pane = TranscriptPane(show_timing=show_timing, id=f"transcript-pane-{key}")
        self.showing = 1
        """The number of the connection whose transcript is on screen."""
        self.next_recipient = 0
        self.unsubscribe: Callable[[], None] = lambda: None
        self._view: TranscriptView | None = None

    @property
    def view(self) -> TranscriptView:
        """The pane's transcript view, looked up once (every entry goes there)."""
        if self._view is None:
            self._view = self.pane.query_one(TranscriptView)
        return self._view

    @property
    def group(self) -> str:
        return f"session-{self.key}"

    @property
    def host(self) -> str:
        return self.controller.settings.host or "no host"

    @property
    def unsaved(self) -> int:
        """Entries of any of its connections never exported."""
        return sum(transcript.unsaved for transcript in self.controller.transcripts)

    def close(self) -> None:
        """Stop listening to the session, and close its connection (without QUIT)."""
        self.unsubscribe()
        client = self.controller.client
        if client is not None:
            client.close()


class SessionsView(Vertical):
    """The transcript side: a tab strip (with two sessions or more) over the sessions'
    transcript panes, the active one shown, or it and one other side by side (the live one's
    border, class ``-live``, is in the app's CSS with every transcript border: an app's CSS
    wins over a widget's default). The tab strip is built when a second session opens (the
    first frame, with one session, has none), then hidden while one is left."""

    DEFAULT_CSS = """
    SessionsView { width: 1fr; height: 1fr; }
    SessionsView > Tabs { display: none; }
    SessionsView.-several > Tabs { display: block; }
    SessionsView > #session-panes { height: 1fr; }
    """

    def __init__(self, first: Workspace, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._first = first
        self._tabs: Tabs | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="session-panes"):
            yield self._first.pane

    async def add(self, workspace: Workspace) -> None:
        """Mount ``workspace``'s pane (hidden until :meth:`show`) and its tab; the second
        session's comes with the strip, the first session's tab in it too."""
        workspace.pane.display = False
        panes = self.query_one("#session-panes")
        await panes.mount(workspace.pane)
        tab = Tab(_label(len(panes.children), workspace), id=_tab(workspace))
        if self._tabs is None:
            first = Tab(_label(1, self._first), id=_tab(self._first))
            self._tabs = Tabs(first, tab, active=tab.id, id="session-tabs")
            await self.mount(self._tabs, before=panes)
        else:
            await self._tabs.add_tab(tab)

    async def remove(self, workspace: Workspace) -> None:
        if self._tabs is not None:
            await self._tabs.remove_tab(_tab(workspace))
        await workspace.pane.remove()

    def show(
        self, workspaces: Sequence[Workspace], active: Workspace, beside: Workspace | None
    ) -> None:
        """Show ``active`` (and ``beside`` it, if given, in list order), tab strip and labels
        up to date."""
        self.set_class(len(workspaces) > 1, "-several")
        self.set_class(beside is not None, "-split")
        for workspace in workspaces:
            workspace.pane.display = workspace in (active, beside)
            workspace.pane.set_class(workspace is active, "-live")
        if self._tabs is None:  # one session so far: no strip
            return
        for position, workspace in enumerate(workspaces, 1):
            self._tabs.query_one(f"#{_tab(workspace)}", Tab).label = _label(position, workspace)
        self._tabs.active = _tab(active)

    @staticmethod
    def key_of(tab: Tab) -> int:
        """The key of the session whose tab is ``tab``."""
        return int((tab.id or "").rsplit("-", 1)[-1])


def _tab(workspace: Workspace) -> str:
    return f"session-{workspace.key}"


def _label(position: int, workspace: Workspace) -> Content:
    return Content(f"{position} {workspace.host}")  # Content: a host is not markup
