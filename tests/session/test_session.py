"""The session controller against the real embedded server."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import pytest

from smtptui.engine.tls import TlsInfo
from smtptui.server import EmbeddedServer
from smtptui.session import (
    Authenticate,
    Connect,
    Disconnect,
    Ehlo,
    Entry,
    EntryKind,
    Exit,
    Expand,
    Help,
    MailFrom,
    Noop,
    Phase,
    Quit,
    Raw,
    RcptTo,
    Risk,
    RunAll,
    Security,
    SendData,
    SendMessage,
    SessionController,
    SessionSettings,
    SessionState,
    StartTls,
    Transcript,
    Update,
    Verify,
)
from smtptui.session.controller import UNVERIFIED_CREDENTIALS
from smtptui.session.recorder import FLAG_BARE_LF, FLAG_NOT_UTF8, FLAG_UNSOLICITED

from support.scripted import ScriptedServer, dialogue, expect, heard, play
from support.sessions import ready, settings_for

MESSAGE = "From: a@example.com\nTo: b@example.org\nSubject: hello\n\nHi Bob.\n.leading dot\n"


def errors_of(controller: SessionController) -> list[str]:
    return [entry.text for entry in controller.transcript if entry.kind is EntryKind.ERROR]


def sent_texts(controller: SessionController) -> list[str]:
    return [entry.text for entry in controller.transcript if entry.kind is EntryKind.SENT]


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A server that accepts connections and never says a word."""

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_run_all_with_starttls_auth_and_send(server, client_tls_context) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    send = SendMessage("a@example.com", ("b@example.org",), MESSAGE)
    outcome = await controller.run(RunAll(send))

    assert outcome.ok, outcome.error
    assert outcome.reply is not None and outcome.reply.code == 221
    [message] = server.messages
    assert message.mail_from == "a@example.com"
    assert message.rcpt_tos == ("b@example.org",)
    assert message.authenticated_as == "alice" and message.tls
    assert b".leading dot" in message.data
    kinds = [entry.kind for entry in controller.transcript]
    assert EntryKind.TLS in kinds and EntryKind.ERROR not in kinds
    texts = sent_texts(controller)
    assert texts[:2] == ["EHLO client.example", "STARTTLS"]
    assert any(entry.body and "Hi Bob." in entry.text for entry in controller.transcript)
    assert controller.state.phase is Phase.CLOSED and not controller.state.busy


async def test_info_entries_and_latency(server, client_tls_context) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    await ready(controller)
    entries = list(controller.transcript)
    infos = [entry.text for entry in entries if entry.kind is EntryKind.INFO]
    assert infos[0].startswith(f"Connecting to 127.0.0.1:{server.port}")
    assert infos[1] == f"Connected to 127.0.0.1:{server.port}"
    connected = next(entry for entry in entries if entry.text == infos[1])
    assert connected.latency is not None and connected.latency > 0
    [tls] = [entry for entry in entries if entry.kind is EntryKind.TLS]
    assert "TLSv1" in tls.text and "chain and name 127.0.0.1 verified" in tls.text
    assert isinstance(tls.tls_info, TlsInfo) and tls.tls_info.verified
    assert tls.tls_info.leaf is not None and "DNS:localhost" in tls.tls_info.leaf.sans
    assert all(entry.tls_info is None for entry in entries if entry is not tls)
    replies = [entry for entry in entries if entry.kind is EntryKind.RECEIVED]
    assert all(entry.latency is not None and entry.latency >= 0 for entry in replies)
    assert all(entry.wall.tzinfo is not None for entry in entries)
    state = controller.state
    assert state.phase is Phase.READY and state.tls is not None and state.esmtp
    assert "AUTH" in state.extensions and "STARTTLS" not in state.extensions
    await controller.run(Disconnect())
    assert "closed by the client" in controller.transcript[-1].text
    assert controller.state.phase is Phase.CLOSED


async def test_out_of_order_steps_are_sent_and_recorded(server, client_tls_context) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    await controller.run(Connect())
    outcome = await controller.run(MailFrom("a@example.com"))

    assert not outcome.ok
    assert outcome.reply is not None and outcome.reply.code == 503
    assert sent_texts(controller)[-1] == "MAIL FROM:<a@example.com>"
    assert errors_of(controller)[-1].startswith("MAIL FROM refused: 503")
    assert controller.state.phase is Phase.EHLO
    assert (await controller.run(Ehlo())).ok
    assert controller.state.phase is Phase.READY


async def test_stepping_through_a_transaction(server, client_tls_context) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    await ready(controller)
    assert (await controller.run(Authenticate("PLAIN"))).ok
    assert controller.state.user == "alice"
    assert (await controller.run(MailFrom("a@example.com"))).ok
    assert controller.state.phase is Phase.MAIL
    assert (await controller.run(RcptTo("b@example.org"))).ok
    assert controller.state.phase is Phase.RCPT
    outcome = await controller.run(SendData(MESSAGE))
    assert outcome.ok and outcome.reply is not None and outcome.reply.code == 250
    assert controller.state.phase is Phase.READY
    assert len(server.messages) == 1
    assert (await controller.run(Quit())).ok
    assert controller.state.phase is Phase.CLOSED


async def test_wrong_password(server, client_tls_context) -> None:
    settings = settings_for(server, client_tls_context, password="not-it")
    controller = SessionController(settings)
    await ready(controller)
    outcome = await controller.run(Authenticate())

    assert not outcome.ok
    assert outcome.reply is not None and outcome.reply.code == 535
    assert "authentication failed: 535" in outcome.error
    assert "check the username, password" in errors_of(controller)[-1]
    assert controller.state.phase is Phase.READY and controller.state.user is None
    assert (await controller.run(Noop())).ok


async def test_authenticate_without_username(server, client_tls_context) -> None:
    controller = SessionController(settings_for(server, client_tls_context, username=""))
    await ready(controller)
    outcome = await controller.run(Authenticate())
    assert not outcome.ok and outcome.error.startswith("username: is empty")


@pytest.mark.parametrize(
    ("sender", "recipients", "refused", "says", "delivered"),
    [
        pytest.param(
            "reject@example.com",
            ("b@example.org",),
            {},
            "sender reject@example.com refused: 553",
            [],
            id="sender",
        ),
        pytest.param(
            "a@example.com",
            ("b@example.org", "unknown@example.org"),
            {"unknown@example.org": 550},
            "sent, but refused: unknown@example.org (550",
            [("b@example.org",)],
            id="some-recipients",
        ),
        pytest.param(
            "a@example.com",
            ("reject@example.org", "unknown@example.org"),
            {"reject@example.org": 550, "unknown@example.org": 550},
            "every recipient refused: reject@example.org (550",
            [],
            id="every-recipient",
        ),
    ],
)
async def test_refused_message(
    server: EmbeddedServer,
    client_tls_context: ssl.SSLContext,
    sender: str,
    recipients: tuple[str, ...],
    refused: dict[str, int],
    says: str,
    delivered: list[tuple[str, ...]],
) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    await ready(controller)
    outcome = await controller.run(SendMessage(sender, recipients, MESSAGE))

    assert outcome.ok is bool(delivered)
    assert {recipient: code for recipient, (code, _) in outcome.refused.items()} == refused
    assert errors_of(controller)[-1].startswith(says)
    assert outcome.error == ("" if outcome.ok else errors_of(controller)[-1])
    assert [message.rcpt_tos for message in server.messages] == delivered
    assert "DATA" in sent_texts(controller)  # pipelined: the embedded server offers it
    assert controller.state.phase is Phase.READY  # after every refusal, smtplib's RSET


async def test_refused_mail_from(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    await ready(controller)
    outcome = await controller.run(MailFrom("reject@example.com"))
    assert not outcome.ok and outcome.error.startswith("MAIL FROM refused: 553")
    assert controller.state.phase is Phase.READY


async def test_closed_port_then_live_server(server, client_tls_context) -> None:
    port = closed_port()
    controller = SessionController(SessionSettings(host=f"127.0.0.1:{port}"))
    outcome = await controller.run(Connect())

    assert not outcome.ok
    assert outcome.error == (
        f"connection refused by 127.0.0.1:{port} — is a server listening? check host and port"
    )
    assert errors_of(controller) == [outcome.error]
    assert controller.state.phase is Phase.CLOSED and not controller.state.busy
    assert not (await controller.run(Noop())).ok

    controller.settings = settings_for(server, client_tls_context)
    assert (await controller.run(Connect())).ok
    assert controller.state.phase is Phase.EHLO


async def test_commands_without_a_connection(server, client_tls_context) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    outcome = await controller.run(Ehlo())
    assert not outcome.ok and outcome.error == "not connected — connect again"
    assert sent_texts(controller) == []


async def test_certificate_that_fails_verification(untrusted_server, client_tls_context) -> None:
    controller = SessionController(settings_for(untrusted_server, client_tls_context))
    await controller.run(Connect())
    await controller.run(Ehlo())
    outcome = await controller.run(StartTls())

    assert not outcome.ok
    assert "certificate not trusted: self-signed certificate" in outcome.error
    assert "self-signed" in outcome.error or "self signed" in outcome.error
    assert "turn verification off" in outcome.error
    assert controller.state.phase is Phase.CLOSED


async def test_implicit_tls_untrusted_then_unverified(tls_server) -> None:
    settings = SessionSettings(host=f"127.0.0.1:{tls_server.port}", security=Security.TLS)
    controller = SessionController(settings)
    outcome = await controller.run(Connect())
    assert not outcome.ok and "certificate not trusted" in outcome.error

    controller.settings = replace(settings, verify=False)
    outcome = await controller.run(Connect())
    assert outcome.ok, outcome.error
    [tls] = [entry for entry in controller.transcript if entry.kind is EntryKind.TLS]
    assert "not verified" in tls.text
    assert controller.transcript[-1].tls  # the greeting came inside TLS


async def test_raw_line(server, client_tls_context) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    await controller.run(Connect())
    outcome = await controller.run(Raw("NOOP"))
    assert outcome.ok and outcome.reply is not None and outcome.reply.code == 250

    for line in ("NOOP\r\nRSET", "NOOP\n", "NO\0OP"):
        outcome = await controller.run(Raw(line))
        assert not outcome.ok
        assert outcome.error.startswith("raw command: contains a")
        assert outcome.error.endswith("nothing was sent")
    assert sent_texts(controller) == ["NOOP"]
    # Its rule is CR, LF and NUL only: other control bytes go out, on purpose.
    await controller.run(Raw("NOOP\tx\x1b"))
    assert sent_texts(controller) == ["NOOP", "NOOP\tx\\x1b"]  # shown escaped, sent as is
    assert controller.state.phase is Phase.EHLO


async def test_raw_commands_move_the_phase(server, client_tls_context) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    await controller.run(Connect())
    for line, phase in (
        ("EHLO me.example", Phase.READY),
        ("MAIL FROM:<a@example.com>", Phase.MAIL),
        ("RCPT TO:<b@example.org>", Phase.RCPT),
        ("RSET", Phase.READY),
    ):
        assert (await controller.run(Raw(line))).ok
        assert controller.state.phase is phase


async def test_cancel_while_waiting_for_a_silent_server(silent_port: int) -> None:
    settings = SessionSettings(host=f"127.0.0.1:{silent_port}", reply_timeout=30)
    controller = SessionController(settings)
    task = asyncio.create_task(controller.run(Connect()))
    async with asyncio.timeout(5):
        while not controller.state.busy or controller.state.phase is not Phase.GREETING:
            await asyncio.sleep(0.01)
        while not any(entry.text.startswith("Connected") for entry in controller.transcript):
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    assert errors_of(controller) == ["cancelled during CONNECT"]
    assert controller.state.phase is Phase.CLOSED and not controller.state.busy
    closings = [entry for entry in controller.transcript if "closed by the client" in entry.text]
    assert len(closings) == 1


async def test_reply_timeout(silent_port: int) -> None:
    settings = SessionSettings(host=f"127.0.0.1:{silent_port}", reply_timeout=0.2)
    controller = SessionController(settings)
    async with asyncio.timeout(5):
        outcome = await controller.run(Connect())
    assert not outcome.ok
    assert outcome.error.startswith("no answer within 0.2 s")
    assert "raise the reply timeout" in outcome.error
    assert controller.state.phase is Phase.CLOSED


async def test_one_action_at_a_time(server, client_tls_context) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    await ready(controller)
    start = len(controller.transcript)
    outcomes = await asyncio.gather(*(controller.run(Noop()) for _ in range(3)))
    assert all(outcome.ok for outcome in outcomes)
    kinds = [entry.kind for entry in list(controller.transcript)[start:]]
    assert kinds == [EntryKind.SENT, EntryKind.RECEIVED] * 3


async def test_subscribers_see_entries_and_states(server, client_tls_context) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    updates: list[Entry | SessionState] = []
    unsubscribe: Callable[[], None] = controller.subscribe(updates.append)
    await controller.run(Connect())
    unsubscribe()
    await controller.run(Noop())

    states = [update for update in updates if isinstance(update, SessionState)]
    entries = [update for update in updates if isinstance(update, Entry)]
    assert states[0].busy and states[0].running == "CONNECT"
    assert Phase.GREETING in [state.phase for state in states]
    assert states[-1].phase is Phase.EHLO and not states[-1].busy
    assert entries == list(controller.transcript)[: len(entries)]
    assert len(controller.transcript) == len(entries) + 2  # NOOP and its reply, unseen


async def test_run_all_stops_at_the_first_failure(server, client_tls_context) -> None:
    settings = settings_for(server, client_tls_context, security=Security.NONE)
    controller = SessionController(settings)
    outcome = await controller.run(RunAll(SendMessage("a@example.com", ("b@example.org",), "Hi")))

    assert not outcome.ok and isinstance(outcome.action, RunAll)
    assert outcome.error.startswith("no usable AUTH mechanism: the server advertises nothing")
    assert "only after STARTTLS" in outcome.error
    assert outcome.stage is Exit.AUTH
    assert "STARTTLS" not in sent_texts(controller) and sent_texts(controller)[-1] == "QUIT"
    assert server.messages == []
    assert not controller.state.connected and not controller.state.busy


async def test_ca_file_setting(server, ca, tmp_path) -> None:
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    settings = SessionSettings(host=f"localhost:{server.port}", cafile=str(cafile))
    controller = SessionController(settings)
    await ready(controller)
    assert controller.state.tls is not None and controller.state.tls.verified


async def test_verify_expand_and_help(server, client_tls_context) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    await ready(controller)
    assert (await controller.run(Verify("b@example.org"))).ok
    outcome = await controller.run(Verify("unknown@example.org"))
    assert not outcome.ok and outcome.error.startswith("VRFY refused: 550 5.1.1")
    assert not (await controller.run(Expand("list@example.org"))).ok
    outcome = await controller.run(Help())
    assert outcome.ok and outcome.reply is not None  # aiosmtpd answers 250, not 214
    assert outcome.reply.text.startswith("Supported commands")


async def test_connect_again_closes_the_old_connection_first(server, client_tls_context) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    await ready(controller)
    assert (await controller.run(Connect())).ok
    await asyncio.sleep(0.05)  # let the old connection's own "closed" event arrive, if it would

    first, second = (
        [entry.text for entry in transcript if entry.kind is EntryKind.INFO]
        for transcript in controller.transcripts
    )
    assert [text.split(" ")[0] for text in first] == ["Connecting", "Connected", "Connection"]
    assert first[2] == "Connection closed: closed by the client"
    assert [text.split(" ")[0] for text in second] == ["Connecting", "Connected"]
    assert controller.state.phase is Phase.EHLO and controller.state.tls is None


async def test_wrong_password_with_automatic_choice_is_one_attempt(
    server, client_tls_context
) -> None:
    settings = settings_for(server, client_tls_context, password="not-the-password")
    controller = SessionController(settings)
    await ready(controller)
    outcome = await controller.run(Authenticate())
    assert not outcome.ok
    auth_lines = [
        e for e in controller.transcript if e.kind is EntryKind.SENT and e.text.startswith("AUTH")
    ]
    assert [e.text for e in auth_lines] == ["AUTH CRAM-MD5"]
    assert controller.state.connected


# -- one transcript per connection ---------------------------------------------------------


async def test_each_used_connection_gets_its_own_transcript(server, client_tls_context) -> None:
    hints = Transcript()
    hints.append(Entry.now(EntryKind.INFO, "Press F2 to connect."))
    controller = SessionController(settings_for(server, client_tls_context), transcript=hints)
    updates: list[Update] = []
    controller.subscribe(updates.append)
    title = f"127.0.0.1:{server.port}"

    await controller.run(Connect())  # the hints' transcript is kept for the first connection
    assert controller.transcripts == [hints] and controller.transcript is hints
    assert hints.title == title and hints[0].text == "Press F2 to connect."
    assert not any(isinstance(update, Transcript) for update in updates)
    assert (await controller.run(Noop())).ok
    assert controller.unsaved
    hints.mark_saved()
    assert not controller.unsaved

    updates.clear()
    assert (await controller.run(Connect())).ok
    first, second = controller.transcripts
    assert first is hints and controller.transcript is second
    assert (second.number, second.title) == (2, title)
    assert first[-1].text == "Connection closed: closed by the client"
    assert first[-1] in updates  # the old connection's closing came before the new transcript
    news = updates.index(second)
    assert second[0].text.startswith("Connecting to") and updates[news + 1] is second[0]
    entries = [update for update in updates[news:] if isinstance(update, Entry)]
    assert entries == list(second)
    assert controller.unsaved and not first.unsaved and second.unsaved
    second.mark_saved()
    assert not controller.unsaved

    await controller.run(Noop())  # the current transcript collects the new dialogue
    assert len(first) == len(hints) and controller.transcript is second and controller.unsaved


async def test_errors_without_a_connection_stay_in_the_current_transcript(
    server, client_tls_context
) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    await controller.run(Connect())
    assert (await controller.run(Quit())).ok
    for action in (Raw("NO\nOP"), Ehlo()):
        outcome = await controller.run(action)
        assert not outcome.ok
        assert controller.transcript[-1].text == outcome.error
    [transcript] = controller.transcripts
    assert [entry.kind for entry in transcript][-2:] == [EntryKind.ERROR] * 2


async def test_a_failed_connection_keeps_its_transcript_for_the_next(
    server, client_tls_context
) -> None:
    controller = SessionController(SessionSettings(host=f"127.0.0.1:{closed_port()}"))
    assert not (await controller.run(Connect())).ok
    controller.settings = settings_for(server, client_tls_context)
    assert (await controller.run(Connect())).ok
    [transcript] = controller.transcripts
    assert transcript.title == f"127.0.0.1:{server.port}"
    assert [entry.kind for entry in transcript][:2] == [EntryKind.INFO, EntryKind.ERROR]


def test_an_empty_transcript_given_is_the_first() -> None:
    transcript = Transcript()
    controller = SessionController(transcript=transcript)
    assert controller.transcripts == [transcript] and not controller.unsaved


# -- what the recorder notices, against scripted servers -----------------------------------


async def test_odd_replies_are_flagged() -> None:
    odd_replies = play(
        b"220 bare greeting\n",
        expect(b"EHLO"),
        b"250-caf\xe9.example\r\n250 PIPELINING\r\n",
        expect(b"NOOP"),
        b"250 ok\r\n421 4.3.2 going away\r\n",
        heard,
    )
    async with ScriptedServer(odd_replies) as scripted:
        controller = SessionController(SessionSettings(host=f"127.0.0.1:{scripted.port}"))
        for action in (Connect(), Ehlo(), Noop()):  # NOOP's 250, not the 421 after it, counts
            assert (await controller.run(action)).ok
        async with asyncio.timeout(5):
            while not controller.transcript[-1].text.startswith("421"):
                await asyncio.sleep(0.01)
    replies = [entry for entry in controller.transcript if entry.kind is EntryKind.RECEIVED]
    assert [(entry.text, entry.flags) for entry in replies] == [
        ("220 bare greeting", (FLAG_BARE_LF,)),
        ("250-caf\\xe9.example\n250 PIPELINING", (FLAG_NOT_UTF8,)),
        ("250 ok", ()),
        ("421 4.3.2 going away", (FLAG_UNSOLICITED,)),
    ]
    assert all(entry.note == "" for entry in replies)


@pytest.mark.parametrize(
    ("greeting", "ehlo_reply", "says"),
    [
        (b"hello there\r\n", b"", "not an SMTP reply line (no 3-digit code)"),
        (b"220 hi\r\n", b"250-first\r\n251 second\r\n", "changes its code from 250 to 251"),
    ],
)
async def test_a_protocol_error_is_recorded_with_its_bytes(
    greeting: bytes, ehlo_reply: bytes, says: str
) -> None:
    script = play(greeting, expect(b"EHLO"), ehlo_reply, heard)
    async with ScriptedServer(script) as scripted:
        controller = SessionController(SessionSettings(host=f"127.0.0.1:{scripted.port}"))
        for action in (Connect(), Ehlo()):
            outcome = await controller.run(action)
            if not outcome.ok:
                break
    [error] = [entry for entry in controller.transcript if entry.kind is EntryKind.ERROR]
    assert says in error.text and error.text == outcome.error
    assert error.data == (ehlo_reply or greeting)


# -- risks: never taken by accident -------------------------------------------------------


async def test_auth_without_tls_waits_for_acceptance(make_server) -> None:
    server = make_server(auth_require_tls=False)
    controller = SessionController(settings_for(server, None, security=Security.NONE))
    await controller.run(Connect())
    await controller.run(Ehlo())
    outcome = await controller.run(Authenticate())
    assert not outcome.ok and outcome.risk is Risk.PLAINTEXT_AUTH
    assert "AUTH not sent" in outcome.error and controller.state.user is None
    assert not any(
        entry.text.startswith("AUTH")
        for entry in controller.transcript
        if entry.kind is EntryKind.SENT
    )

    controller.accept(Risk.PLAINTEXT_AUTH)
    assert (await controller.run(Authenticate())).ok and controller.state.user == "alice"
    await controller.run(Connect())  # accepted for the session, not only the connection
    await controller.run(Ehlo())
    assert (await controller.run(Authenticate())).ok


async def test_a_refused_starttls_stops_everything_but_quit() -> None:
    answers = {"EHLO": b"250-mx\r\n250 STARTTLS\r\n", "STARTTLS": b"454 4.7.0 not now\r\n"}
    async with ScriptedServer(dialogue(answers)) as server:
        settings = SessionSettings(host=f"{server.host}:{server.port}", security=Security.STARTTLS)
        controller = SessionController(settings)
        outcome = await controller.run(RunAll(SendMessage("a@b.example", ("c@d.example",), "Hi")))
        assert not outcome.ok and "454" in outcome.error and outcome.stage is Exit.TLS
        received = server.peers[0].received
        assert not any(line.startswith((b"MAIL", b"AUTH")) for line in received)
        assert received[-1] == b"QUIT\r\n"

        for action in (Connect(), Ehlo(), StartTls()):
            await controller.run(action)
        for action in (Noop(), MailFrom("a@b.example"), Raw("MAIL FROM:<a@b.example>")):
            outcome = await controller.run(action)
            assert outcome.risk is Risk.PLAINTEXT_AFTER_STARTTLS, action
        assert not any(line.startswith((b"NOOP", b"MAIL")) for line in server.peers[1].received)
        controller.accept(Risk.PLAINTEXT_AFTER_STARTTLS)
        assert (await controller.run(Noop())).ok
        assert (await controller.run(Quit())).ok


async def test_an_unverified_certificate_is_skipped_for_one_connection_only(
    untrusted_server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    controller = SessionController(settings_for(untrusted_server, client_tls_context))
    await controller.run(Connect())
    await controller.run(Ehlo())
    outcome = await controller.run(StartTls())
    assert outcome.risk is Risk.UNVERIFIED_TLS and "certificate" in outcome.error
    controller.accept(Risk.UNVERIFIED_TLS)
    for action in (Connect(), Ehlo(), StartTls()):
        assert (await controller.run(action)).ok, action
    assert controller.state.tls is not None and not controller.state.tls.verified
    for action in (Connect(), Ehlo()):
        await controller.run(action)
    assert (await controller.run(StartTls())).risk is Risk.UNVERIFIED_TLS  # verified again


def notes_of(controller: SessionController) -> list[str]:
    return [entry.text for entry in controller.transcript if entry.kind is EntryKind.INFO]


@pytest.mark.parametrize("password", ["wonderland", "not-the-password"])
async def test_auth_over_an_unverified_certificate_is_noted(
    untrusted_server: EmbeddedServer, password: str
) -> None:
    settings = SessionSettings(
        host=f"{untrusted_server.host}:{untrusted_server.port}",
        verify=False,  # --no-verify
        username="alice",
        password=password,
        mechanism="PLAIN",
    )
    controller = SessionController(settings)
    await ready(controller)
    assert controller.state.tls is not None and not controller.state.tls.verified
    outcome = await controller.run(Authenticate())
    assert outcome.ok is (password == "wonderland")
    # Right or wrong, the credentials went: said after the exchange (before any error).
    kinds = [entry.kind for entry in controller.transcript]
    texts = [entry.text for entry in controller.transcript]
    note = texts.index(UNVERIFIED_CREDENTIALS)
    assert kinds[note] is EntryKind.INFO and texts[note].startswith("⚠ ")
    assert kinds[note - 1] is EntryKind.RECEIVED  # the reply to the credentials
    assert "credentials went to a server whose certificate was not verified" in texts[note]


async def test_auth_over_a_verified_certificate_or_sending_nothing_is_not_noted(
    server: EmbeddedServer, untrusted_server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    controller = SessionController(settings_for(server, client_tls_context))
    await ready(controller)
    assert (await controller.run(Authenticate())).ok
    assert UNVERIFIED_CREDENTIALS not in notes_of(controller)

    unverified = SessionSettings(
        host=f"{untrusted_server.host}:{untrusted_server.port}", verify=False, username="alice"
    )
    controller = SessionController(unverified)
    await ready(controller)
    # A mechanism the server refuses before any credentials are sent.
    assert not (await controller.run(Authenticate("NOT-A-MECHANISM"))).ok
    assert UNVERIFIED_CREDENTIALS not in notes_of(controller)


async def test_needs_password_when_auth_would_send_an_empty_one(
    server: EmbeddedServer, client_tls_context: ssl.SSLContext
) -> None:
    controller = SessionController(settings_for(server, client_tls_context, password=""))
    assert not controller.needs_password(Authenticate())  # not connected: nothing to send
    await ready(controller)
    assert controller.needs_password(Authenticate())  # the best offered is CRAM-MD5
    assert controller.needs_password(Authenticate("plain"))
    assert not controller.needs_password(Authenticate("XOAUTH2"))  # it sends the token
    assert not controller.needs_password(Authenticate("NOT-A-MECHANISM"))  # sends nothing
    controller.settings = replace(controller.settings, oauth_token="wonderland")
    assert not controller.needs_password(Authenticate())  # XOAUTH2 is offered: the best
    controller.settings = replace(controller.settings, oauth_token="", password="wonderland")
    assert not controller.needs_password(Authenticate())
