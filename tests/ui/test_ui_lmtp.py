"""LMTP in the app, driven with Pilot against the embedded server in LMTP mode: the
Connection pane's Protocol choice, F3 sending LHLO (and saying so in the footer), and F9
showing each recipient's reply to the message under it."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Collapsible, Input, RadioButton

from smtptui.server import EmbeddedServer
from smtptui.session import Security, SessionSettings
from smtptui.ui.app import Draft, SmtpTui
from smtptui.ui.transcript import TranscriptView

from support.pilot import step, until

SIZE = (120, 40)


def drawn(app: SmtpTui) -> list[str]:
    """The lines the transcript pane draws now, trailing blanks removed."""
    view = app.query_one(TranscriptView)
    return [view.render_line(y).text.rstrip() for y in range(view.scrollable_content_region.height)]


def f3_label(app: SmtpTui) -> str:
    return app.screen.active_bindings["f3"].binding.description


async def test_f3_sends_lhlo_and_f9_shows_each_recipients_reply_under_it(
    make_server: Callable[..., EmbeddedServer],
) -> None:
    server = make_server(lmtp=True)
    settings = SessionSettings(
        host=f"{server.host}:{server.port}", security=Security.NONE, helo_name="client.example"
    )
    draft = Draft("alice@example.org", ("bob@example.org", "full@example.org"), "Hi", "Hello\n")
    app = SmtpTui(settings, draft=draft, show_timing=False)
    async with app.run_test(size=SIZE) as pilot:
        assert f3_label(app) == "EHLO"
        app.query_one("#protocol-options", Collapsible).collapsed = False
        await pilot.pause()
        await pilot.click("#protocol-lmtp")
        await until(pilot, lambda: f3_label(app) == "LHLO", "F3 as LHLO")

        await step(pilot, "f2", "f3")
        lines = drawn(app)
        assert " -> LHLO client.example" in lines
        assert app.controller.state.esmtp and "PIPELINING" in app.controller.state.extensions

        await step(pilot, "f9")
        lines = drawn(app)
        dot = lines.index(" -> .")
        bob, full, refused = lines[dot + 1 : dot + 4]  # cut at the pane's width
        assert bob.startswith("<-  250 2.0.0 <bob@example.org> Ok: queued as 0000000001  for bob")
        assert full.startswith("<-  452 4.2.2 <full@example.org> Mailbox is full  for full@")
        assert refused.startswith("*** sent, but refused: full@example.org (452 ")
        notes = [entry.note for entry in app.controller.transcript if entry.note.startswith("for")]
        assert notes == ["for bob@example.org", "for full@example.org"]
        assert [m.rcpt_tos for m in server.messages] == [("bob@example.org",)]

        await pilot.click("#protocol-smtp")
        await until(pilot, lambda: f3_label(app) == "EHLO", "F3 as EHLO")
        assert app.query_one("#port", Input).placeholder == f"{server.port} (from host)"


async def test_a_profile_with_lmtp_chooses_it_and_the_default_port_is_24() -> None:
    app = SmtpTui(SessionSettings(host="mail.example"), show_timing=False)
    async with app.run_test(size=SIZE) as pilot:
        assert app.query_one("#port", Input).placeholder == "25 (default)"
        app.query_one("ConnectionPane").load(SessionSettings(host="mail.example", lmtp=True))
        # the choice reaches the footer by three messages (button, set, app): wait for them
        await until(pilot, lambda: f3_label(app) == "LHLO", "F3 as LHLO")
        assert app.query_one("#protocol-lmtp", RadioButton).value
        assert app.query_one("#port", Input).placeholder == "24 (default)"
