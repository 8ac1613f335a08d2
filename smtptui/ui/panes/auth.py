"""The Auth tab: mechanism, username, password, OAuth2 token, authorisation identity and
LOGIN's initial response; Authenticate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Checkbox, Input, Select, Static

from smtptui.protocol.auth import SUPPORTED
from smtptui.session import Authenticate, SessionSettings, visible
from smtptui.ui.messages import RunAction
from smtptui.ui.panes.form import Form, FormPane, field, text_input

AUTO = ""
"""The mechanism Select's value for "Auto": the best mechanism the server offers."""

_NOT_YET = "Run EHLO to see which mechanisms the server offers (often only after STARTTLS)."


class AuthPane(FormPane):
    """Credentials for AUTH. Every mechanism is pickable, offered or not: this is a debugger."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._names: tuple[str, ...] = SUPPORTED  # what the Select lists after "Auto"
        self._offered: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        with Form():
            yield field(
                "Mechanism",
                Select(
                    self._options(),
                    value=AUTO,
                    allow_blank=False,
                    id="mechanism",
                    name="mechanism",
                    compact=True,
                ),
            )
            yield field("", Static(_NOT_YET, id="offered", classes="hint", markup=False))
            yield field("Username", text_input("username", "username"))
            yield field("Password", text_input("password", "password", password=True))
            yield field(
                "OAuth2",
                text_input("oauth-token", "OAuth token", "XOAUTH2, OAUTHBEARER", password=True),
            )
            yield field(
                "Authzid",
                text_input("authzid", "authorisation identity", "act as (optional)"),
            )
            login = Checkbox(
                "user with AUTH",
                id="login-initial-response",
                name="login initial response",
                compact=True,
            )
            login.tooltip = (
                "LOGIN's initial response: the username on the AUTH line, as smtplib sends "
                "it, instead of at the server's first 334"
            )
            yield field("LOGIN", login)
            yield field("", Checkbox("reveal secrets", id="reveal", compact=True))
        with Horizontal(classes="buttons"):
            yield Button("Authenticate", id="authenticate", variant="primary", compact=True)

    def load(self, settings: SessionSettings) -> None:
        """Show the credentials and mechanism of ``settings`` in the fields."""
        self.text("username", settings.username)
        self.text("password", settings.password)
        self.text("oauth-token", settings.oauth_token)
        self.text("authzid", settings.authzid)
        self.query_one("#login-initial-response", Checkbox).value = settings.login_initial_response
        mechanism = settings.mechanism.upper() if settings.mechanism else AUTO
        if mechanism and mechanism not in self._names:
            self._names = (*self._names, mechanism)  # keep what was asked for, even unknown
            self._refresh()
        self.query_one("#mechanism", Select).value = mechanism

    def apply(self, settings: SessionSettings) -> SessionSettings:
        """``settings`` with these credentials; raises :class:`CommandError` naming a bad
        field (CR, LF or NUL in it)."""
        return replace(
            settings,
            username=self.text("username"),
            password=self.text("password"),
            oauth_token=self.text("oauth-token"),
            authzid=self.text("authzid"),
            login_initial_response=self.query_one("#login-initial-response", Checkbox).value,
            mechanism=self._mechanism(),
        )

    def set_offered(self, mechanisms: Sequence[str]) -> None:
        """Mark the mechanisms the server advertised (none: not known yet, or no AUTH); the
        hint lists them as the server wrote them, :func:`visible`."""
        self._offered = tuple(name.upper() for name in mechanisms)
        self._refresh()
        offered = visible(" ".join(self._offered), one_line=True)
        hint = f"Server offers: {offered}" if self._offered else _NOT_YET
        self.query_one("#offered", Static).update(hint)

    def _options(self) -> list[tuple[str, str]]:
        marked = [
            (f"{name} ✓ offered" if name in self._offered else name, name) for name in self._names
        ]
        return [("Auto", AUTO), *marked]

    def _refresh(self) -> None:
        """Relabel the options, keeping the choice."""
        select = self.query_one("#mechanism", Select)
        value = select.value
        select.set_options(self._options())
        select.value = value

    def _mechanism(self) -> str | None:
        value = self.query_one("#mechanism", Select).value
        return value if isinstance(value, str) and value != AUTO else None

    @on(Checkbox.Changed, "#reveal")
    def _reveal(self, event: Checkbox.Changed) -> None:
        for secret in self.query("#password, #oauth-token").results(Input):
            secret.password = not event.value

    @on(Button.Pressed, "#authenticate")
    def _authenticate(self) -> None:
        self.post_message(RunAction(Authenticate(self._mechanism())))
