"""The Compose pane's Envelope section, driven with Pilot: what it puts on the SendMessage,
and a bad value named on screen with nothing typed lost."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Checkbox, Collapsible, Input, Select, TextArea

from smtptui.protocol.envelope import Envelope, RcptParams
from smtptui.protocol.errors import CommandError
from smtptui.session import SendMessage
from smtptui.ui.messages import RunAction
from smtptui.ui.panes.compose import ComposePane
from smtptui.ui.panes.form import FormPane

SIZE = (60, 60)
TO = ("bob@example.org", "carol@example.org")


class Harness(App[None]):
    """The Compose pane alone; records what it posts upward."""

    def __init__(self) -> None:
        super().__init__()
        self.actions: list[object] = []
        self.invalid: list[CommandError] = []

    def compose(self) -> ComposeResult:
        yield ComposePane()

    def on_mount(self) -> None:
        self.query_one(ComposePane).load("alice@example.org", TO, "Hi", "Hello\n")

    def on_run_action(self, message: RunAction) -> None:
        self.actions.append(message.action)

    def on_form_pane_invalid(self, message: FormPane.Invalid) -> None:
        self.invalid.append(message.error)


def fill(app: App[None], **fields: str | bool) -> None:
    """Set the section's widgets by their ids without the ``env-`` prefix."""
    for name, value in fields.items():
        widget = app.query_one(f"#env-{name}")
        if isinstance(widget, Input):
            widget.value = str(value)
        elif isinstance(widget, Select):
            widget.value = value
        elif isinstance(widget, TextArea):
            widget.text = str(value)
        else:
            assert isinstance(widget, Checkbox)
            widget.value = bool(value)


async def send(pilot: Pilot[None]) -> None:
    await pilot.click("#send")
    await pilot.pause()


async def test_the_section_starts_collapsed_and_sends_no_envelope() -> None:
    app = Harness()
    async with app.run_test(size=SIZE) as pilot:
        assert app.query_one("#envelope", Collapsible).collapsed
        await send(pilot)
        [action] = app.actions
        assert isinstance(action, SendMessage) and action.envelope is None


async def test_every_field_makes_the_envelope() -> None:
    app = Harness()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#envelope", Collapsible).collapsed = False
        await pilot.pause()
        fill(
            app,
            size="2048",
            body="8BITMIME",
            smtputf8="off",
            ret="HDRS",
            envid="QQ314159",
            notify="success, delay",
            orcpt="rfc822;list@example.org",
            requiretls=True,
        )
        await pilot.pause()
        await send(pilot)
        [action] = app.actions
        assert isinstance(action, SendMessage)
        assert action.envelope == Envelope(
            size=2048,
            body="8BITMIME",
            smtputf8=False,
            ret="HDRS",
            envid="QQ314159",
            requiretls=True,
            notify=("SUCCESS", "DELAY"),
            orcpt=dict.fromkeys(TO, "rfc822;list@example.org"),
        )
        assert action.recipients == TO


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"smtputf8": "on"}, Envelope(smtputf8=True)),
        ({"body": "BINARYMIME"}, Envelope(body="BINARYMIME")),
        ({"notify": "never"}, Envelope(notify=("NEVER",))),
        ({"requiretls": True}, Envelope(requiretls=True)),
        ({"size": " 0 "}, Envelope(size=0)),
        ({"envid": "", "orcpt": "", "notify": " "}, None),
    ],
)
async def test_one_field(fields: dict[str, str | bool], expected: Envelope | None) -> None:
    app = Harness()
    async with app.run_test(size=SIZE) as pilot:
        fill(app, **fields)
        await pilot.pause()
        assert app.query_one(ComposePane).build().envelope == expected


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"notify": "never,failure"}, "NOTIFY", "NEVER cannot be combined"),
        ({"notify": "sometimes"}, "NOTIFY", "'SOMETIMES' is not NEVER"),
        ({"size": "-1"}, "SIZE", "'-1' is not a number of bytes"),
        ({"envid": "x" * 101}, "ENVID", "at most 100"),
        ({"orcpt": "a@b c@d"}, "ORCPT", "follows the address"),
    ],
)
async def test_a_bad_value_is_named_opens_the_section_and_stays(
    fields: dict[str, str], field: str, words: str
) -> None:
    app = Harness()
    async with app.run_test(size=SIZE) as pilot:
        fill(app, **fields)
        await send(pilot)
        assert app.actions == []
        [error] = app.invalid
        assert error.field == field and words in str(error)
        assert not app.query_one("#envelope", Collapsible).collapsed
        await pilot.pause()
        assert app.focused is not None and app.focused.name == field
        for name, value in fields.items():  # nothing typed is lost
            assert app.query_one(f"#env-{name}", Input).value == value


async def test_per_recipient_lines_override_one_recipient() -> None:
    app = Harness()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#envelope", Collapsible).collapsed = False
        await pilot.pause()
        fill(app, notify="failure", rcpt="\nCarol <carol@example.org>  notify=NEVER\n")
        await pilot.pause()
        await send(pilot)
        [action] = app.actions
        assert isinstance(action, SendMessage) and action.recipients == TO
        assert action.envelope == Envelope(
            notify=("FAILURE",), rcpt={"carol@example.org": RcptParams(notify=("NEVER",))}
        )
        assert action.envelope.rcpt_options("bob@example.org") == ["NOTIFY=FAILURE"]
        assert action.envelope.rcpt_options("carol@example.org") == ["NOTIFY=NEVER"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("bob@example.org NOTIFY=never\ncarol@example.org FOO=1", "line 2: unknown parameter FOO"),
        ("bob@example.org ORCPT=", "line 1: ORCPT has no value"),
        ("dave@example.org NOTIFY=never", "dave@example.org is not a recipient"),
    ],
)
async def test_a_bad_per_recipient_line_is_named_and_stays(text: str, words: str) -> None:
    app = Harness()
    async with app.run_test(size=SIZE) as pilot:
        fill(app, rcpt=text)
        await send(pilot)
        assert app.actions == []
        [error] = app.invalid
        assert error.field == "per recipient" and words in str(error)
        assert not app.query_one("#envelope", Collapsible).collapsed
        await pilot.pause()
        assert app.focused is app.query_one("#env-rcpt", TextArea)
        assert app.query_one("#env-rcpt", TextArea).text == text
