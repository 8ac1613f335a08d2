"""The Textual app: the panes post actions, each session's worker group runs them on it.

The screens that checks and dialogs open (MX, probe, TLS report, certificate, profiles,
export, help, the questions of ``ui.dialog``), the send's progress bar, the Auth, Compose
and Server panes (built after the first frame) and the session's recipes are imported where
they are first used: the first frame does not wait for them (nor for
dnspython, which the MX screen loads, or the ``email`` package's policies)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, cast

from textual import events, on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.theme import BUILTIN_THEMES, Theme
from textual.widget import Widget
from textual.widgets import Footer, RadioSet, TabbedContent, TabPane, Tabs

from smtptui.config import (
    SETTINGS_KEYS,
    ConfigError,
    Profile,
    config_file,
    load_config,
    profile_of,
    profile_password,
    remember_theme,
    remembered_theme,
    resolve,
    save_profile,
    session_settings,
    values_of,
)
from smtptui.protocol.errors import CommandError
from smtptui.session import (
    READS_SETTINGS,
    Action,
    Authenticate,
    Connect,
    Disconnect,
    Ehlo,
    EndMessage,
    Entry,
    EntryKind,
    Expand,
    Helo,
    Help,
    MailFrom,
    Noop,
    Phase,
    Pipeline,
    Quit,
    RcptTo,
    Reset,
    Risk,
    SendBdat,
    SendData,
    SendMessage,
    SessionController,
    SessionSettings,
    SessionState,
    StartTls,
    Transcript,
    Update,
    Verify,
    Xclient,
    suggestions,
)
from smtptui.session.export import ExportFormat, default_filename, write_export
from smtptui.session.keymap import (
    ACTIONS,
    BY_ID,
    Scope,
    keys_name,
    with_keys,
)
from smtptui.ui.commandline import CommandLine
from smtptui.ui.keys import anywhere, apply_keymap, bindings, configured_keymap
from smtptui.ui.messages import RunAction
from smtptui.ui.panes.connection import ConnectionPane
from smtptui.ui.panes.form import FormPane
from smtptui.ui.sessions import SessionsView, Workspace
from smtptui.ui.status import StatusBar
from smtptui.ui.themes import DEFAULT, ThemedApp, load_themes
from smtptui.ui.transcript import TranscriptView

if TYPE_CHECKING:  # imported where they are first used, not before the first frame
    from smtptui.session.recipe import Recipe
    from smtptui.ui.export import ExportRequest
    from smtptui.ui.panes.auth import AuthPane
    from smtptui.ui.panes.capabilities import CapabilitiesView
    from smtptui.ui.panes.compose import ComposePane
    from smtptui.ui.progress import SendProgress

_SIMPLE_STEPS: dict[str, Callable[[], Action]] = {
    "connect": Connect,
    "disconnect": Disconnect,
    "ehlo": Ehlo,
    "helo": Helo,
    "starttls": StartTls,
    "auth": Authenticate,
    "quit": Quit,
    "rset": Reset,
    "noop": Noop,
    "smtp_help": Help,
    "xclient": Xclient,
}
"""Steps that take nothing from the panes; the others have a ``_build_<step>`` method."""

_ADVICE_STEPS = {
    Disconnect: "disconnect",
    Connect: "connect",
    Ehlo: "ehlo",
    StartTls: "starttls",
    Authenticate: "auth",
    MailFrom: "mail",
    RcptTo: "rcpt",
    SendData: "data",
    Pipeline: "pipeline",
    SendBdat: "bdat",
    SendMessage: "send",
    Quit: "quit",
}
"""The session's suggestions, as the steps (ids in ``session.keymap``) that make them."""

_SESSION_ACTIONS = ("new_session", "close_session", "next_session", "previous_session", "split")
"""The keys that open, close and switch sessions (they wait while a dialog is open)."""

FOOTER_STEPS = 4
"""How many of the suggested steps the footer shows (with F1 and the palette, 80 columns
hold them whole)."""


_HIDDEN_TABS = (("Auth", "tab-auth"), ("Compose", "tab-compose"), ("Server", "tab-server"))
"""The tabs not shown at first, whose panes :meth:`SmtpTui._start` builds after the first
frame (about 150 widgets: building and styling them would hold the first frame back)."""


class Draft(NamedTuple):
    """What the Compose pane starts with."""

    sender: str
    recipients: tuple[str, ...]
    subject: str
    body: str


class SmtpTui(ThemedApp):
    """smtptui: step through an SMTP session and watch every byte of it."""

    TITLE = "smtptui"
    AUTO_FOCUS = None  # nothing typed goes into a field unasked, so / f e reach the transcript
    CSS = """
    #main { height: 1fr; }
    #forms { width: 42%; max-width: 56; min-width: 34; }
    #forms TabPane { padding: 0; }
    TranscriptView {
        border: round $primary 50%;
        border-title-color: $text-muted;
        scrollbar-size: 1 1;
        scrollbar-background: $surface;
        scrollbar-color: $primary 40%;
    }
    TranscriptView:focus { border: round $primary; }
    #sessions.-split TranscriptPane.-live > TranscriptView { border: round $accent; }
    """
    BINDINGS = [*bindings(Scope.APP), *bindings(Scope.STEP), *anywhere()]

    def __init__(
        self,
        settings: SessionSettings | None = None,
        *,
        draft: Draft | None = None,
        welcome: Sequence[str] = (),
        show_timing: bool = True,
        theme: str | None = None,
        server: Callable[[], tuple[SessionSettings, str]] | None = None,
    ) -> None:
        """``server`` waits for a server for the session (the demo's, started in a process
        of its own) after the first frame, in a thread, and returns the settings for it and
        a line saying where it is; an ``OSError`` says why it did not start."""
        super().__init__()
        self.themes, self._problems = load_themes()
        self._keymap, self._keymap_problems = configured_keymap()  # what hints, help name
        for loaded in self.themes.values():
            self.register_theme(loaded.theme)
        self.theme = self._choose_theme(theme)
        self._theme_asked = theme == self.theme  # --theme: remembered like a palette choice
        for name in BUILTIN_THEMES:  # the palette offers smtptui's themes, which it remembers
            if name not in self.themes:
                self.unregister_theme(name)
        self.draft = draft
        self.welcome = welcome
        self.show_timing = show_timing
        self._server = server
        self._started = asyncio.Event()  # the hidden panes built, the server (if any) up
        self._active = Workspace(1, SessionController(settings), show_timing=show_timing)
        self._sessions = [self._active]
        self._keys = itertools.count(2)  # each new session's key
        self._beside: Workspace | None = None  # the session split beside the active one
        self._footer_steps: list[str] | None = None  # the steps the footer shows
        self._progress: SendProgress | None = None  # the send's bar, once first needed

    def _choose_theme(self, asked: str | None) -> str:
        """The theme asked for, else the one remembered, else the default."""
        for name in (asked, remembered_theme()):
            if name is not None and name in self.themes:
                return name
            if name is not None:
                known = ", ".join(sorted(self.themes))
                self._problems.append(f"No theme named {name!r} (themes: {known})")
        return DEFAULT

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            with TabbedContent(id="forms"):
                with TabPane("Connection", id="tab-connection"):
                    yield ConnectionPane(id="connection")
                for title, tab in _HIDDEN_TABS:  # their panes come after the first frame
                    yield TabPane(title, id=tab)
            yield SessionsView(self._active, id="sessions")
        yield CommandLine(id="command")
        yield Footer(compact=True)

    @property
    def controller(self) -> SessionController:
        """The active session's controller: what the panes, the keys and the status line
        are about."""
        return self._active.controller

    @property
    def _view(self) -> TranscriptView:
        """The active session's transcript view."""
        return self._active.view

    def on_mount(self) -> None:
        settings = self.controller.settings
        self.query_one(ConnectionPane).load(settings)
        self._listen(self._active)
        if self._server is None:
            for line in self.welcome or self._hints(settings):
                self.controller.transcript.append(Entry.now(EntryKind.INFO, with_keys(line)))
        for problem in self._problems:
            self._report(f"{problem}; using the {self.theme!r} theme")
        self._apply_keymap()
        self._show_theme()  # and the state
        if self._theme_asked:
            self._remember_theme()
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.call_after_refresh(self._start)

    async def started(self) -> None:
        """Wait until the app has started: every pane built, the server (if any) up."""
        await self._started.wait()

    @work(group="start")
    async def _start(self) -> None:
        """After the first frame: build the Connection pane's collapsed sections and the
        panes of the tabs not shown (Auth, Compose, Server), and wait for the server, if
        there is one (in a thread, meanwhile), then fill the panes; steps wait until then."""
        started = asyncio.create_task(asyncio.to_thread(self._server)) if self._server else None
        from smtptui.ui.panes.auth import AuthPane  # here: not shown at first
        from smtptui.ui.panes.capabilities import CapabilitiesView
        from smtptui.ui.panes.compose import ComposePane

        auth, compose = AuthPane(id="auth"), ComposePane(id="compose")
        try:
            await self.query_one(ConnectionPane).build_sections()
            for (_, tab), pane in zip(
                _HIDDEN_TABS, (auth, compose, CapabilitiesView(id="server")), strict=True
            ):
                await self.query_one(f"#{tab}", TabPane).mount(pane)
            if self.draft is not None:
                compose.load(*self.draft)
            if started is not None:
                try:
                    self.controller.settings, where = await started
                except OSError as error:
                    self._report(f"The server did not start: {error}")
                else:
                    self.query_one(ConnectionPane).load(self.controller.settings)
                    for line in (where, *self.welcome):
                        self.controller.transcript.append(
                            Entry.now(EntryKind.INFO, with_keys(line))
                        )
            auth.load(self.controller.settings)
        except NoMatches:  # the app was left before it had started
            return
        self._started.set()
        self._show_state(self.controller.state)

    def _compose_pane(self) -> ComposePane:
        """The Compose pane, which :meth:`_start` builds (and imports) after the first frame."""
        return cast("ComposePane", self.query_one("#compose"))

    def _auth_pane(self) -> AuthPane:
        """The Auth pane, which :meth:`_start` builds (and imports) after the first frame."""
        return cast("AuthPane", self.query_one("#auth"))

    def _apply_keymap(self) -> None:
        """Bind ``[keymap]``'s keys (Textual replaces the keys of the bindings with those
        ids), and say what of it could not be used."""
        apply_keymap(self, self._keymap)
        for problem in self._keymap_problems:
            self._report(problem)

    def on_unmount(self) -> None:
        """Leaving: stop listening to the sessions, and close their connections (no QUIT)."""
        for workspace in self._sessions:
            workspace.close()

    def _theme_changed(self, theme: Theme) -> None:
        """A theme picked (from the palette): show it everywhere and remember it."""
        self._show_theme()
        self._remember_theme()

    def _remember_theme(self) -> None:
        try:
            remember_theme(self.theme)
        except (OSError, ConfigError) as error:
            self.notify(f"Cannot remember the theme: {error}", severity="warning", markup=False)

    def _show_theme(self) -> None:
        for workspace in self._sessions:
            self._mark(workspace)
        self._show_state(self.controller.state)  # the status line keeps rendered colours

    def _mark(self, workspace: Workspace) -> None:
        """The theme's marks in ``workspace``'s transcript."""
        chosen = self.themes.get(self.theme)
        workspace.view.set_marks(chosen.marks if chosen else {})

    @staticmethod
    def _hints(settings: SessionSettings) -> tuple[str, ...]:
        connect = keys_name("connect")
        first = (
            f"Press {connect} to connect to {settings.host}."
            if settings.host
            else f"Type a host in the Connection pane, then press {connect} to connect."
        )
        help, palette = keys_name("help", first=True), keys_name("palette", first=True)
        return first, f"{help} lists every key; {palette} finds any action."

    # -- the session's news --------------------------------------------------------------

    def _listen(self, workspace: Workspace) -> None:
        """Take ``workspace``'s session's news from now on."""
        workspace.unsubscribe = workspace.controller.subscribe(
            lambda update: self._on_update(workspace, update)
        )

    def _on_update(self, workspace: Workspace, update: Update) -> None:
        """A session's news: its own transcript follows it; the status line, the panes and
        the advice only the active session's."""
        if isinstance(update, Entry):
            if workspace.showing == len(workspace.controller.transcripts):
                workspace.view.add(update)
            if update.kind is EntryKind.ERROR:
                number = self._sessions.index(workspace) + 1
                where = (
                    "" if workspace is self._active else f"Session {number} ({workspace.host}): "
                )
                self.notify(where + update.text, severity="error", timeout=8, markup=False)
        elif isinstance(update, Transcript):
            self._show_transcript(workspace, update.number)  # a new connection: follow it
        else:
            if workspace is self._active:
                self._show_state(update)
            if len(self._sessions) > 1:
                self._show_sessions()  # the tabs name each session's host
            self._retitle(workspace)

    def _show_transcript(self, workspace: Workspace, number: int) -> None:
        """Show connection ``number``'s transcript (the last one is live)."""
        transcripts = workspace.controller.transcripts
        number = min(max(number, 1), len(transcripts))
        if number != workspace.showing:
            workspace.showing = number
            workspace.view.load(transcripts[number - 1])
        self._retitle(workspace)

    def _retitle(self, workspace: Workspace) -> None:
        transcripts = workspace.controller.transcripts
        shown = transcripts[workspace.showing - 1]
        parts = [shown.title] if shown.title else []
        if len(transcripts) > 1:
            live = "" if workspace.showing == len(transcripts) else " (] goes to the live one)"
            parts.insert(0, f"connection {workspace.showing} of {len(transcripts)}{live}")
        workspace.view.heading = " · ".join(parts)

    def _show_transfer(self, state: SessionState) -> None:
        """The bar under the transcript: built when a large message is first sent."""
        if self._progress is not None:
            self._progress.show(state.transfer)
        elif state.transfer is not None:
            from smtptui.ui.progress import SendProgress

            self._progress = SendProgress(state.transfer)
            self.mount(self._progress, before=self.query_one(CommandLine))

    @on(TranscriptView.Browse)
    def _browse(self, message: TranscriptView.Browse) -> None:
        message.stop()
        self._show_transcript(self._active, self._active.showing + message.step)

    @on(TranscriptView.CertificateRequested)
    def _certificate(self, message: TranscriptView.CertificateRequested) -> None:
        from smtptui.ui.certificate import CertificateScreen

        message.stop()
        ask = self.controller.ocsp_asker(message.info)
        self.push_screen(CertificateScreen(message.info, ask_ocsp=ask))

    def _show_state(self, state: SessionState) -> None:
        self.query_one(StatusBar).show(state, self._session_name(state))
        self._show_transfer(state)
        self.query_one(CommandLine).show(state)
        advised = [_ADVICE_STEPS[s] for s in suggestions(state) if s in _ADVICE_STEPS]
        hint = "  ".join(f"{keys_name(id, first=True)} {BY_ID[id].label}" for id in advised)
        self._view.advice = f"next: {hint}" if hint else ""
        if advised[:FOOTER_STEPS] != self._footer_steps:  # not on each progress tick: a
            # rebinding recomposes the footer, and Textual keeps every key it drew bound to it
            self._footer_steps = shown = advised[:FOOTER_STEPS]
            self._rebind(lambda binding: {"show": binding.id in shown}, Scope.STEP)
        client = self.controller.client
        capabilities = client.capabilities if client is not None and state.esmtp else None
        greeting = client.greeting.text if client is not None and client.greeting else None
        if self._started.is_set():  # the Server and Auth tabs' panes are built (_start)
            cast("CapabilitiesView", self.query_one("#server")).show(greeting, capabilities)
            self._auth_pane().set_offered(capabilities.auth_mechanisms if capabilities else ())

    # -- running actions -----------------------------------------------------------------

    @on(RunAction)
    def _run_posted(self, message: RunAction) -> None:
        message.stop()
        self.run_step(lambda: message.action)

    @on(RadioSet.Changed, "#protocol")
    def _greet_as(self, event: RadioSet.Changed) -> None:
        """EHLO's footer label: LHLO when the Connection pane says LMTP (the step sends it)."""
        label = "LHLO" if event.pressed.name == "lmtp" else "EHLO"
        self._rebind(lambda binding: {"description": label} if binding.id == "ehlo" else {})

    def _rebind(
        self, change: Callable[[Binding], dict[str, object]], scope: Scope | None = None
    ) -> None:
        """Change the app's bindings (those of ``scope``, if given) as ``change`` says; the
        footer follows (a keymap is applied over them as they are)."""
        for key, each in self._bindings.key_to_bindings.items():
            self._bindings.key_to_bindings[key] = [
                replace(binding, **change(binding))
                if scope is None or (binding.id in BY_ID and BY_ID[binding.id].scope is scope)
                else binding
                for binding in each
            ]
        self.refresh_bindings()

    @on(FormPane.Invalid)
    def _form_invalid(self, message: FormPane.Invalid) -> None:
        message.stop()
        self._invalid(message.error)

    def run_step(self, build: Callable[[], Action | None]) -> None:
        """Build an action from the panes (a bad field is reported, nothing is sent) and run
        it in the active session's worker group; before the app has started (:meth:`_start`),
        once it has."""
        if not self._started.is_set():
            self.run_worker(self._when_started(build), group=self._active.group)
            return
        try:
            action = build()
        except CommandError as error:
            self._invalid(error)
            return
        if action is not None:
            self._perform(action)

    async def _when_started(self, build: Callable[[], Action | None]) -> None:
        """Run the step once the app has started (Esc cancels the wait, as a step's)."""
        if self._server is not None:
            self.notify("The server is starting: the step runs once it is up", timeout=3)
        await self._started.wait()
        self.run_step(build)

    def _invalid(self, error: CommandError) -> None:
        """A field holds something that cannot be sent: say so, and go to the field."""
        self._report(f"{error} — nothing was sent")
        for pane in self.query(FormPane):
            if any(widget.name == error.field for widget in pane.query(Widget)):
                if isinstance(pane.parent, TabPane) and pane.parent.id:
                    self.query_one(TabbedContent).active = pane.parent.id
                self.call_after_refresh(pane.focus_field, error.field)
                break

    def _perform(self, action: Action) -> None:
        """Run ``action`` in the active session's worker group."""
        workspace = self._active
        self.run_worker(self._run(workspace, action), group=workspace.group)

    async def _run(self, workspace: Workspace, action: Action) -> None:
        """Run ``action`` with what the panes say now (the one place their fields reach the
        session) and a password if it needs one, then ask about any risk it would take and
        run it again if accepted. The session is ``workspace`` throughout, whichever is
        active by the time the server answers."""
        if isinstance(action, READS_SETTINGS) and not self._apply_panes():
            return
        controller = workspace.controller
        needs_password = isinstance(action, Authenticate) and controller.needs_password(action)
        if needs_password and not await self._ask_password():
            return
        if isinstance(action, MailFrom):
            workspace.next_recipient = 0
        outcome = await controller.run(action)
        if outcome.risk is None:
            return
        from smtptui.ui.dialog import ConfirmScreen

        if await self.push_screen_wait(ConfirmScreen(outcome.risk)):
            controller.accept(outcome.risk)
            for retry in _retry(action, outcome.risk):
                if not (await controller.run(retry)).ok:
                    break

    async def _ask_password(self) -> bool:
        """Ask for the password AUTH would send empty; it goes into the Auth pane (so the
        next AUTH has it) and the settings. False when the user cancelled."""
        from smtptui.ui.dialog import PasswordScreen

        password = await self.push_screen_wait(PasswordScreen(self.controller.settings.username))
        if password is None:
            self.notify("AUTH cancelled: nothing was sent", timeout=3)
            return False
        self._auth_pane().text("password", password)
        return self._apply_panes()

    def _apply_panes(self) -> bool:
        """Put what the panes say into the session's settings; False, with the field at
        fault reported, when one holds something that cannot be sent."""
        try:
            settings = self.query_one(ConnectionPane).apply(self.controller.settings)
            self.controller.settings = self._auth_pane().apply(settings)
        except CommandError as error:
            self._invalid(error)
            return False
        return True

    def _report(self, text: str) -> None:
        self.controller.transcript.append(Entry.now(EntryKind.ERROR, text))

    def action_cancel(self) -> None:
        """Esc: cancel the step in flight (the session records it and closes); while a
        message is typed, ask whether to end it or drop the connection."""
        state = self.controller.state
        if state.busy:
            self.workers.cancel_group(self, self._active.group)
        elif state.phase is Phase.DATA:
            from smtptui.ui.dialog import EndMessageScreen

            self.push_screen(EndMessageScreen(), self._leave_message)

    def _leave_message(self, choice: str | None) -> None:
        leave = {"end": EndMessage, "drop": Disconnect}.get(choice or "")
        if leave is not None:
            self.run_step(leave)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Steps, export, find and the transcript's keys wait while a dialog is open."""
        waits = action in ("step", "export", "find", "to_transcript", *_SESSION_ACTIONS)
        return not (waits and isinstance(self.screen, ModalScreen))

    def action_step(self, step: str) -> None:
        simple = _SIMPLE_STEPS.get(step)
        self.run_step(simple if simple is not None else getattr(self, f"_build_{step}"))

    def _build_mail(self) -> Action:
        return MailFrom(self._compose_pane().envelope_sender())

    def _build_rcpt(self) -> Action:
        recipients = self._compose_pane().envelope_recipients()
        recipient = recipients[self._active.next_recipient % len(recipients)]
        self._active.next_recipient += 1
        return RcptTo(recipient)

    def _build_data(self) -> Action:
        return SendData(self._compose_pane().message())

    def _build_send(self) -> Action:
        return self._compose_pane().build()

    def _build_pipeline(self) -> Action:
        send = self._compose_pane().build()
        return Pipeline(send.sender, send.recipients, send.envelope)

    def _build_bdat(self) -> Action:
        return SendBdat(self._compose_pane().message())

    def _build_vrfy(self) -> Action:
        return Verify(self._compose_pane().envelope_recipients()[0])

    def _build_expn(self) -> Action:
        return Expand(self._compose_pane().envelope_recipients()[0])

    # -- the transcript: export, clear, quit --------------------------------------------

    def action_export(self, then_quit: bool = False) -> None:
        """Ask where and how to export the transcript shown (or all of them), then write.
        ``then_quit``: on the way out, every connection is offered, and quitting asks again
        if the export left some entries out."""
        from smtptui.ui.export import ExportScreen

        transcripts = self._all_transcripts() if then_quit else self.controller.transcripts
        shown = self.controller.transcripts[self._active.showing - 1]
        when = datetime.now(UTC)
        names = {fmt: default_filename(shown, fmt, when) for fmt in ExportFormat}
        secrets = any(entry.secret for transcript in transcripts for entry in transcript)

        def export(request: ExportRequest | None) -> None:
            if request is not None and self._write_export(request, transcripts) and then_quit:
                self._quit_or_ask(again=True)

        screen = ExportScreen(Path.cwd(), names, len(transcripts), secrets, everything=then_quit)
        self.push_screen(screen, export)

    def _all_transcripts(self) -> list[Transcript]:
        """Every connection's transcript, session by session."""
        return [each for workspace in self._sessions for each in workspace.controller.transcripts]

    def _write_export(self, request: ExportRequest, transcripts: Sequence[Transcript]) -> bool:
        """Write the transcript shown, or all of ``transcripts`` (``request.everything``)."""
        if request.fmt.command:
            return self._write_recipe(request)
        shown = self.controller.transcripts[self._active.showing - 1]
        chosen = list(transcripts) if request.everything else [shown]
        try:
            count = write_export(request.path, chosen, request.fmt, redact=request.redact)
        except OSError as error:
            self._report(f"Cannot export to {request.path}: {error.strerror or error}")
            return False
        secrets = "" if request.redact else ", passwords included"
        self.notify(f"Exported {count:,} entries to {request.path}{secrets}", timeout=5)
        return True

    def _write_recipe(self, request: ExportRequest) -> bool:
        from smtptui.session.recipe import write_recipe
        from smtptui.ui.export import FORMATS

        recipe = self._recipe()
        if recipe is None:
            return False
        try:
            write_recipe(request.path, recipe, request.fmt)
        except OSError as error:
            self._report(f"Cannot write {request.path}: {error.strerror or error}")
            return False
        self.notify(f"Wrote the {FORMATS[request.fmt]} to {request.path} (no password in it)")
        return True

    def action_copy_recipe(self, fmt: str) -> None:
        """Copy the session as a command (an :class:`ExportFormat` that is one)."""
        from smtptui.session.recipe import RENDERERS
        from smtptui.ui.export import FORMATS

        recipe = self._recipe()
        if recipe is not None:
            command = ExportFormat(fmt)
            self.copy_to_clipboard(RENDERERS[command](recipe))
            what = "the last message sent" if recipe.offered is not None else "the Compose pane"
            self.notify(f"Copied the {FORMATS[command]} for {what} (no password in it)")

    def _recipe(self) -> Recipe | None:
        """The session as a command: the last message it sent and how, else what the panes
        say now (a bad field is reported, and None returned)."""
        if (recipe := self.controller.recipe) is not None:
            return recipe
        from smtptui.session.recipe import Recipe

        try:
            settings = self.query_one(ConnectionPane).apply(self.controller.settings)
            settings = self._auth_pane().apply(settings)
            return Recipe.of(settings, self._compose_pane().build())
        except CommandError as error:
            self._invalid(error)
            return None

    def action_clear_transcript(self) -> None:
        """Forget the entries of the transcript shown, once the user says so: they cannot
        be brought back."""
        transcript = self.controller.transcripts[self._active.showing - 1]
        view = self._view
        if not len(transcript):
            return

        def answered(choice: str | None) -> None:
            if choice == "clear":
                transcript.clear()
                view.clear()

        from smtptui.ui.dialog import ClearScreen

        self.push_screen(ClearScreen(len(transcript), transcript.unsaved), answered)

    async def action_quit(self) -> None:
        """Quit; first offer to export entries that were never exported."""
        self._quit_or_ask()

    def _quit_or_ask(self, again: bool = False) -> None:
        """Quit, unless some entries of any connection of any session were never exported:
        then ask whether to export them (all sessions' connections offered), quit anyway or
        stay (``again``: an export left them out)."""
        unsaved = sum(workspace.unsaved for workspace in self._sessions)
        if not unsaved:
            self.exit()
            return

        def answered(choice: str | None) -> None:
            if choice == "quit":
                self.exit()
            elif choice == "export":
                self.action_export(then_quit=True)

        from smtptui.ui.export import QuitScreen

        self.push_screen(QuitScreen(unsaved, again=again), answered)

    # -- sessions side by side -----------------------------------------------------------

    def _session_name(self, state: SessionState) -> str:
        """Which session is live, for the status line: ``2/3``, and its host until it is
        connected (the address says it then); "" while there is one session."""
        if len(self._sessions) < 2:
            return ""
        position = f"{self._sessions.index(self._active) + 1}/{len(self._sessions)}"
        return position if state.address else f"{position} {self._active.host}"

    def _show_sessions(self) -> None:
        self.query_one(SessionsView).show(self._sessions, self._active, self._beside)

    async def action_new_session(self) -> None:
        """Open a session with the active one's settings, as the panes say them, and go to
        it (a bad field is reported, and nothing opened)."""
        if not self._apply_panes():
            return
        settings = self.controller.settings
        workspace = Workspace(
            next(self._keys), SessionController(settings), show_timing=self.show_timing
        )
        self._sessions.append(workspace)
        await self.query_one(SessionsView).add(workspace)
        self._mark(workspace)
        self._listen(workspace)
        self._enter(workspace)
        switch = " and ".join(
            keys_name(id, first=True) for id in ("previous_session", "next_session")
        )
        split = keys_name("split", first=True)
        tabs = f"{switch} go to the other sessions; {split} shows two side by side."
        for line in (*self._hints(settings), tabs):
            workspace.controller.transcript.append(Entry.now(EntryKind.INFO, line))

    def action_next_session(self) -> None:
        self._step_session(1)

    def action_previous_session(self) -> None:
        self._step_session(-1)

    def _step_session(self, step: int) -> None:
        if self._single("switch to"):
            return
        index = self._sessions.index(self._active) + step
        self._go(self._sessions[index % len(self._sessions)])

    def _single(self, what: str) -> bool:
        """Whether there is one session (then say how to open another)."""
        if len(self._sessions) > 1:
            return False
        new = keys_name("new_session", first=True)
        self.notify(f"No other session to {what}: {new} opens one", timeout=4, markup=False)
        return True

    def action_split(self) -> None:
        """Show the active session and its neighbour side by side, or the active one alone."""
        if self._beside is not None:
            self._beside = None
        elif self._single("show beside this one"):
            return
        else:
            index = self._sessions.index(self._active)
            self._beside = self._sessions[index - 1 if index else 1]
        self._show_sessions()

    async def action_close_session(self) -> None:
        """Close the active session, asking first if it holds entries never exported; the
        last one stays (quitting asks about it)."""
        workspace = self._active
        if len(self._sessions) == 1:
            quit = keys_name("exit", first=True)
            self.notify(f"The last session stays open ({quit} quits)", timeout=4, markup=False)
            return
        if not workspace.unsaved:
            await self._close(workspace)
            return

        async def answered(choice: str | None) -> None:
            if choice == "close":
                await self._close(workspace)

        name = self._session_name(workspace.controller.state).split(" ", 1)[0]
        from smtptui.ui.dialog import CloseSessionScreen

        self.push_screen(CloseSessionScreen(name, workspace.unsaved), answered)

    async def _close(self, workspace: Workspace) -> None:
        """Forget ``workspace``: its step cancelled, its connection closed, its tab and
        pane gone; its neighbour becomes the active session if it was."""
        self.workers.cancel_group(self, workspace.group)
        workspace.close()
        index = self._sessions.index(workspace)
        self._sessions.remove(workspace)
        if self._beside is workspace or len(self._sessions) < 2:
            self._beside = None
        if workspace is self._active:
            self._enter(self._sessions[min(index, len(self._sessions) - 1)])
        await self.query_one(SessionsView).remove(workspace)
        self._show_sessions()
        self._show_state(self.controller.state)

    def _go(self, workspace: Workspace) -> None:
        """Make ``workspace`` the active session. What the panes say goes into the session
        left first: if a field holds something invalid, the switch is refused with the field
        named, so nothing typed is lost."""
        if workspace is self._active:
            return
        if not self._apply_panes():
            self._show_sessions()  # the tab strip back on the session kept
            return
        self._enter(workspace)

    def _enter(self, workspace: Workspace) -> None:
        """Show ``workspace`` as the active session: its settings in the Connection and Auth
        panes (Compose is shared), its transcript, capabilities and state."""
        left, self._active = self._active, workspace
        left.view.advice = ""  # its keys would act on the active session, not on it
        if self._beside is workspace:  # the split keeps the two sessions, swapped
            self._beside = left if left in self._sessions else None
        settings = workspace.controller.settings
        self.query_one(ConnectionPane).load(settings)
        self._auth_pane().load(settings)
        self._show_sessions()
        self._show_state(workspace.controller.state)
        if self.focused is not None and left.pane in self.focused.ancestors_with_self:
            workspace.view.focus()

    def _owner(self, widget: Widget) -> Workspace | None:
        """The session whose transcript pane holds ``widget``, if one does."""
        ancestors = widget.ancestors_with_self
        return next((each for each in self._sessions if each.pane in ancestors), None)

    @on(Tabs.TabActivated, "#session-tabs")
    def _tab_picked(self, event: Tabs.TabActivated) -> None:
        event.stop()
        key = SessionsView.key_of(event.tab)
        picked = next((each for each in self._sessions if each.key == key), None)
        if picked is not None:
            self._go(picked)

    @on(events.DescendantFocus)
    def _focused(self, event: events.DescendantFocus) -> None:
        """In the split, going to the other transcript (a click, Tab) makes it active."""
        owner = self._owner(event.widget)
        if owner is not None:
            self._go(owner)

    # -- profiles ------------------------------------------------------------------------

    def action_save_profile(self) -> None:
        """Ask a name, then save the Connection, Auth and Compose settings (no password)
        as that profile in config.toml."""
        if not self._apply_panes():
            return
        sender, recipients = self._compose_pane().addresses()
        profile = profile_of(self.controller.settings, sender, recipients)
        try:
            known = tuple(load_config().profiles)
        except ConfigError as error:
            self.notify(str(error), severity="error", markup=False)
            return

        def save(name: str | None) -> None:
            if name is None:
                return
            try:
                path = save_profile(name, profile, SETTINGS_KEYS)
            except (OSError, ConfigError) as error:
                self.notify(f"Cannot save the profile: {error}", severity="error", markup=False)
                return
            self.notify(f"Saved profile {name!r} in {path} (no password)", markup=False)

        from smtptui.ui.profiles import NameScreen

        self.push_screen(NameScreen(str(config_file()), known), save)

    def action_open_profile(self) -> None:
        """Pick a profile from config.toml and fill the panes with it."""
        try:
            config = load_config()
        except ConfigError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        if not config.profiles:
            self.notify(f"No profiles in {config.path} yet: Profile: Save as profile… makes one")
            return

        def chosen(name: str | None) -> None:
            if name is not None:
                self._open_profile(name, config.profiles[name])

        from smtptui.ui.profiles import ProfileScreen

        self.push_screen(ProfileScreen(config.profiles, str(config.path)), chosen)

    @work(group="profile", exclusive=True)
    async def _open_profile(self, name: str, profile: Profile) -> None:
        """Fill the panes with ``profile`` over the settings they hold; the password from
        its password_env or password_command (run in a thread: it may take a while)."""
        try:
            password = await asyncio.to_thread(profile_password, profile, name)
            values = values_of(resolve({}, {}, profile, name))
            settings = session_settings(values, password or "", self.controller.settings)
        except (ConfigError, CommandError) as error:
            self.notify(f"Cannot open profile {name!r}: {error}", severity="error", markup=False)
            return
        self.controller.settings = settings
        self.query_one(ConnectionPane).load(settings)
        self._auth_pane().load(settings)
        compose = self._compose_pane()
        if profile.sender is not None:
            compose.text("from", profile.sender)
        if profile.recipients is not None:
            compose.text("to", ", ".join(profile.recipients))
        self.notify(f"Opened profile {name!r}", markup=False)

    # -- help, palette, focus ------------------------------------------------------------

    def action_mx(self) -> None:
        """Open the MX view on the Host field's domain, if it routes by MX, asking the DNS
        server the Connection pane names; what it returns goes in the Host field."""
        settings = self._pane_settings()
        if settings is None:
            return
        pane = self.query_one(ConnectionPane)

        def chosen(host: str | None) -> None:
            if host is not None:
                pane.text("host", host)
                self.query_one(TabbedContent).active = "tab-connection"
                connect = keys_name("connect", first=True)
                self.notify(f"Host: {host} ({connect} connects)", timeout=4, markup=False)

        from smtptui.ui.mx import MxScreen  # here: it loads dnspython

        screen = MxScreen(
            settings.mx_domain or "",
            nameserver=settings.nameserver,
            timeout=settings.connect_timeout,
            port=settings.port,
        )
        self.push_screen(screen, chosen)

    def action_probe(self) -> None:
        """Open the submission probe on the Host field's host (the probe picks the ports)."""
        settings = self._pane_settings()
        if settings is not None:
            from smtptui.ui.probe import ProbeScreen, initial_target

            self.push_screen(ProbeScreen(initial_target(settings), settings))

    def action_tls_report(self) -> None:
        """Open the TLS report on the Host field (a host and port, or @domain)."""
        settings = self._pane_settings()
        if settings is not None:
            from smtptui.ui.tls_report import TlsReportScreen

            self.push_screen(TlsReportScreen(settings.host, settings))

    def _pane_settings(self) -> SessionSettings | None:
        """The Connection pane's settings as they stand, for a check of the server it names;
        None (and the reason shown) when the pane holds something invalid."""
        try:
            return self.query_one(ConnectionPane).apply(self.controller.settings)
        except CommandError as error:
            self._invalid(error)
            return None

    def action_help(self) -> None:
        from smtptui.ui.help import HelpScreen

        self.push_screen(HelpScreen())

    async def _in_compose(self, action: str, compose: ComposePane) -> None:
        """Show the Compose tab and run its ``action`` (one of its keys)."""
        self.query_one(TabbedContent).active = "tab-compose"
        await self.run_action(action, compose)

    def action_focus_command_line(self) -> None:
        self.query_one(CommandLine).focus()

    async def action_to_transcript(self, action: str = "") -> None:
        """Go to the transcript, and there run its ``action`` (one its keys run from
        anywhere)."""
        self._view.focus()
        if action:
            await self.run_action(action, self._view)

    def action_find(self) -> None:
        """Search the transcript (Enter or Esc in the search bar lands in the transcript)."""
        self._view.action_search()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from smtptui.session.recipe import RENDERERS
        from smtptui.ui.export import FORMATS

        yield from super().get_system_commands(screen)
        compose, view = self._compose_pane(), self._view
        for action in ACTIONS:
            if action.palette is None:
                continue
            if action.scope is Scope.COMPOSE:
                run = lambda action=action.action: self._in_compose(action, compose)  # noqa: E731
            else:
                node = view if action.scope is Scope.TRANSCRIPT else self
                run = lambda action=action.action, node=node: self.run_action(action, node)  # noqa: E731
            yield SystemCommand(f"{action.palette} ({keys_name(action.id)})", action.help, run)
        yield SystemCommand(
            "Profile: Save as profile…",
            "Keep the Connection, Auth and Compose settings in config.toml (no password)",
            self.action_save_profile,
        )
        yield SystemCommand(
            "Profile: Open…",
            "Fill the panes from a profile in config.toml",
            self.action_open_profile,
        )
        yield SystemCommand(
            "Transcript: Clear…",
            "Forget the entries shown (asks first)",
            self.action_clear_transcript,
        )
        for fmt in RENDERERS:
            yield SystemCommand(
                f"Session: Copy as {FORMATS[fmt]}",
                "The last message sent and its steps (else the panes'), without the password",
                lambda fmt=fmt: self.action_copy_recipe(fmt),
            )
        for column, attribute in (
            ("latency", "show_timing"),
            ("wall-clock", "show_wall"),
            ("since-connect", "show_elapsed"),
        ):
            yield SystemCommand(
                f"Transcript: Toggle the {column} column",
                f"Show or hide each entry's {column} time",
                lambda attribute=attribute: setattr(view, attribute, not getattr(view, attribute)),
            )


def _retry(action: Action, risk: Risk) -> tuple[Action, ...]:
    """What to run once ``risk`` is accepted: the action again; after a certificate that
    failed STARTTLS (the connection is closed then), the way back to it."""
    if risk is Risk.UNVERIFIED_TLS and isinstance(action, StartTls):
        return Connect(), Ehlo(), StartTls()
    return (action,)
