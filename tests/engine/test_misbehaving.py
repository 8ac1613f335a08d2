"""Servers that misbehave on purpose, one row of a table per misbehaviour.

For each row, the same steps are taken twice: with the engine (``SMTPClient``), which must
raise the row's exception, naming host, port and step, within its timeout and in bounded
memory; and with the session controller, whose transcript must say in a ``***`` line what
the server did, and whose state must be consistent afterwards. Both must then work against
a well-behaved server.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import pytest
import trustme

from smtptui.engine import (
    SMTPAuthenticationError,
    SMTPClient,
    SMTPDataError,
    SMTPException,
    SMTPNotSupportedError,
    SMTPProtocolError,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPSenderRefused,
    SMTPServerDisconnected,
    SMTPTimeoutError,
    SMTPTLSError,
)
from smtptui.engine.events import ClientEvent, Received
from smtptui.protocol.replies import MAX_LINE_LENGTH, MAX_REPLY_LINES
from smtptui.server.certs import make_self_signed
from smtptui.session import (
    Action,
    Authenticate,
    Connect,
    Ehlo,
    EntryKind,
    Noop,
    Phase,
    Quit,
    RunAll,
    Security,
    SendMessage,
    SessionController,
    SessionSettings,
    StartTls,
    to_swaks,
)

from support.scripted import (
    Answer,
    Script,
    ScriptedServer,
    dialogue,
    dribble,
    flood,
    hang_up,
    no_handshake,
    stall,
    start_tls,
    well_behaved,
)

pytestmark = pytest.mark.timeout(30)
T = TypeVar("T")

TIMEOUT = 0.5
"""The reply and connect timeout of every row, unless the row says otherwise."""

MARGIN = 1.0
"""How far past its timeout a step may end (a loaded machine's scheduling, TLS set-up)."""

MEMORY = 1536 * 1024
"""Most memory one row may take, measured by tracemalloc (server and client together): a
TLS row takes about 0.8 MB; a parser that buffered the megabyte line would take 4.5."""

EHLO = b"250-mx.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"
USER, PASSWORD = "alice", "wonderland"
MESSAGE = b"Subject: hello\r\n\r\nHello.\r\n"


def send(*recipients: str) -> SendMessage:
    return SendMessage("a@example.org", recipients, MESSAGE)


ONE = send("b@example.org")
THREE = send("b@example.org", "c@example.org", "d@example.org")
GREETED = (Connect(), Ehlo())
SECURED = (*GREETED, StartTls(), Ehlo())  # AUTH goes inside TLS, as it should


@dataclass(frozen=True)
class Scenario:
    """A misbehaving server, what the user does, and what must come of it."""

    id: str
    script: Script
    steps: tuple[Action, ...]  # what the user does, in order
    engine: type[Exception] | int  # what the engine's last step raises, or the code it ends on
    says: tuple[str, ...]  # words the transcript's *** lines must hold
    after: Phase  # the controller's phase afterwards
    step: str = ""  # the step a located engine error names (host, port and step)
    reason: str = ""  # words of an SMTPTLSError's reason
    ok: bool = False  # whether the controller's last action succeeds all the same
    security: Security = Security.NONE
    cert: str = "good"  # the server's certificate (see `certificates`)
    timeout: float = TIMEOUT


def ehlo_then(
    answers: Mapping[str, Answer | Sequence[Answer]], ehlo: bytes = EHLO, **kwargs: Answer
) -> Script:
    """A dialogue that answers EHLO with ``ehlo`` and STARTTLS with TLS, and then these
    ``answers``."""
    return dialogue({"EHLO": ehlo, "STARTTLS": start_tls(), **answers}, **kwargs)


SCENARIOS = [
    # -- at connect ----------------------------------------------------------------------
    Scenario(
        "421-and-close",
        dialogue(greeting=hang_up(b"421 4.3.2 Service shutting down\r\n")),
        (Connect(),),
        421,
        ("CONNECT refused: 421 4.3.2 Service shutting down — the server is closing",),
        Phase.CLOSED,
    ),
    Scenario(
        "554-and-stay",
        dialogue(greeting=b"554 5.3.2 No SMTP service here\r\n", default=b"503 5.5.1 No\r\n"),
        (Connect(),),
        554,
        ("554 5.3.2 No SMTP service here",),
        Phase.EHLO,
    ),
    Scenario(
        "no-greeting",
        dialogue(greeting=stall),
        (Connect(),),
        SMTPTimeoutError,
        ("no answer within 0.5 s", "during greeting"),
        Phase.CLOSED,
        step="greeting",
    ),
    Scenario(
        "close-at-once",
        dialogue(greeting=hang_up()),
        (Connect(),),
        SMTPServerDisconnected,
        ("the server closed the connection", "during greeting"),
        Phase.CLOSED,
        step="greeting",
    ),
    # -- replies -------------------------------------------------------------------------
    Scenario(
        "close-mid-multiline",
        ehlo_then({"EHLO": hang_up(b"250-mx.example\r\n250-SIZE 1000\r\n250-PIPE")}),
        GREETED,
        SMTPProtocolError,
        ("the server closed the connection in the middle of a reply", "during EHLO"),
        Phase.CLOSED,
        step="EHLO",
    ),
    Scenario(
        "no-reply-code",
        ehlo_then({"EHLO": b"mx.example says hello\r\n"}),
        GREETED,
        SMTPProtocolError,
        ("not an SMTP reply line", "mx.example says hello"),
        Phase.CLOSED,
        step="EHLO",
    ),
    Scenario(
        "not-utf8",
        ehlo_then(
            {"MAIL": b"550 5.7.1 Adresse refus\xe9e\r\n"},
            greeting=b"220 caf\xe9.example ESMTP\r\n",
        ),
        (*GREETED, ONE),
        SMTPSenderRefused,
        ("550 5.7.1 Adresse refus\\xe9e",),
        Phase.READY,
    ),
    Scenario(
        "megabyte-line",
        ehlo_then({"EHLO": flood(b"250 ", b"x" * 65536, 16, b"\r\n")}),
        GREETED,
        SMTPProtocolError,
        (f"reply line longer than {MAX_LINE_LENGTH} bytes", "during EHLO"),
        Phase.CLOSED,
        step="EHLO",
    ),
    Scenario(
        "endless-multiline",
        dialogue(greeting=flood(b"", b"220-and more\r\n" * 100)),
        (Connect(),),
        SMTPProtocolError,
        (f"multi-line reply longer than {MAX_REPLY_LINES} lines", "during greeting"),
        Phase.CLOSED,
        step="greeting",
    ),
    Scenario(
        "dribble-in-time",
        ehlo_then({}, greeting=dribble(b"220 slow.example\r\n", 0.02)),
        GREETED,
        250,
        (),
        Phase.READY,
        ok=True,
        timeout=2.0,
    ),
    Scenario(
        "dribble-too-slow",
        dialogue(greeting=dribble(b"220 " + b"slow " * 1000, 0.02)),
        (Connect(),),
        SMTPTimeoutError,
        ("the server sent", "bytes of a reply but not its end within 0.5 s", "during greeting"),
        Phase.CLOSED,
        step="greeting",
    ),
    # -- STARTTLS ------------------------------------------------------------------------
    Scenario(
        "starttls-454",
        ehlo_then({"STARTTLS": b"454 4.7.0 TLS not available due to temporary reason\r\n"}),
        (*GREETED, StartTls()),
        SMTPResponseException,
        ("STARTTLS refused: 454 4.7.0 TLS not available",),
        Phase.READY,
        security=Security.STARTTLS,
    ),
    Scenario(
        "starttls-garbage",
        ehlo_then({"STARTTLS": no_handshake(b"500 5.5.1 what is this?\r\n")}),
        (*GREETED, StartTls()),
        SMTPTLSError,
        ("TLS failed: the server's answer is not TLS", "during TLS handshake"),
        Phase.CLOSED,
        step="TLS handshake",
        reason="the server's answer is not TLS",
        security=Security.STARTTLS,
    ),
    Scenario(
        "starttls-hang-up-in-the-handshake",
        ehlo_then({"STARTTLS": hang_up(b"220 2.0.0 go ahead\r\n")}),
        (*GREETED, StartTls()),
        SMTPServerDisconnected,
        ("the server closed the connection", "during TLS handshake"),
        Phase.CLOSED,
        step="TLS handshake",
        security=Security.STARTTLS,
    ),
    Scenario(
        "starttls-injection",
        ehlo_then({"STARTTLS": start_tls(b"250 injected\r\n")}),
        (*GREETED, StartTls(), Ehlo()),
        250,
        ("discarded 14 bytes of plaintext", "CVE-2011-0411"),
        Phase.READY,
        ok=True,
        security=Security.STARTTLS,
    ),
    Scenario(
        "tls-expired",
        well_behaved,
        (Connect(),),
        SMTPTLSError,
        ("TLS failed: certificate not trusted: certificate has expired",),
        Phase.CLOSED,
        step="TLS handshake",
        reason="certificate has expired",
        security=Security.TLS,
        cert="expired",
    ),
    Scenario(
        "tls-self-signed",
        well_behaved,
        (Connect(),),
        SMTPTLSError,
        ("TLS failed: certificate not trusted: self-signed certificate",),
        Phase.CLOSED,
        step="TLS handshake",
        reason="self-signed certificate",
        security=Security.TLS,
        cert="self-signed",
    ),
    Scenario(
        "tls-wrong-host",
        well_behaved,
        (Connect(),),
        SMTPTLSError,
        ("TLS failed: certificate verification failed: ip address mismatch",),
        Phase.CLOSED,
        step="TLS handshake",
        reason="ip address mismatch, certificate is not valid for '127.0.0.1'",
        security=Security.TLS,
        cert="wrong-host",
    ),
    # -- AUTH ----------------------------------------------------------------------------
    Scenario(
        "auth-535",
        ehlo_then({"AUTH": b"535 5.7.8 Authentication credentials invalid\r\n"}),
        (*SECURED, Authenticate()),
        SMTPAuthenticationError,
        ("authentication failed: 535 5.7.8 Authentication credentials invalid",),
        Phase.READY,
        security=Security.STARTTLS,
    ),
    Scenario(
        "auth-not-base64",
        ehlo_then(
            {"AUTH": b"334 Password?\r\n", "*": b"501 5.7.0 Authentication cancelled\r\n"},
            ehlo=b"250-mx.example\r\n250-STARTTLS\r\n250 AUTH LOGIN\r\n",
        ),
        (*SECURED, Authenticate()),
        SMTPProtocolError,
        ("challenge is not valid base64", "Password?", "smtptui cancelled the AUTH exchange"),
        Phase.READY,
        step="AUTH LOGIN",
        security=Security.STARTTLS,
    ),
    Scenario(
        "auth-not-smtp",
        ehlo_then({"AUTH": b"Password?\r\n"}),
        (*SECURED, Authenticate()),
        SMTPProtocolError,
        ("not an SMTP reply line", "the connection is closed; connect again and try another"),
        Phase.CLOSED,
        step="AUTH PLAIN",
        security=Security.STARTTLS,
    ),
    Scenario(
        "auth-not-advertised",
        ehlo_then({}, ehlo=b"250-mx.example\r\n250 STARTTLS\r\n"),
        (*SECURED, Authenticate()),
        SMTPNotSupportedError,
        ("no usable AUTH mechanism: the server advertises nothing",),
        Phase.READY,
        security=Security.STARTTLS,
    ),
    # -- the transaction -----------------------------------------------------------------
    Scenario(
        "one-of-three-refused",
        ehlo_then({"RCPT": [b"250 ok\r\n", b"550 5.1.1 No such user\r\n", b"250 ok\r\n"]}),
        (*GREETED, THREE),
        250,
        ("sent, but refused: c@example.org (550 5.1.1 No such user)",),
        Phase.READY,
        ok=True,
    ),
    Scenario(
        "all-refused",
        ehlo_then({"RCPT": b"550 5.1.1 No such user\r\n"}),
        (*GREETED, THREE),
        SMTPRecipientsRefused,
        ("every recipient refused", "d@example.org (550 5.1.1 No such user)"),
        Phase.READY,
    ),
    Scenario(
        "552-after-dot",
        ehlo_then({".": b"552 5.3.4 Message too big for system\r\n"}),
        (*GREETED, ONE),
        SMTPDataError,
        ("552 5.3.4 Message too big for system",),
        Phase.READY,
    ),
    Scenario(
        "silent-after-dot",
        ehlo_then({".": stall}),
        (*GREETED, ONE),
        SMTPTimeoutError,
        ("no answer within 0.5 s", "during message data"),
        Phase.CLOSED,
        step="message data",
    ),
    Scenario(
        "421-mid-transaction",
        ehlo_then({"RCPT": [b"250 ok\r\n", hang_up(b"421 4.7.0 Too many errors\r\n")]}),
        (*GREETED, THREE),
        SMTPRecipientsRefused,
        (
            "the message was not sent: c@example.org (421 4.7.0 Too many errors)",
            "the server is closing the connection",
        ),
        Phase.CLOSED,
    ),
]


# -- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates(
    ca: trustme.CA, server_tls_context: ssl.SSLContext, expired_tls_context: ssl.SSLContext
) -> dict[str, ssl.SSLContext]:
    """The servers' certificates by name; the client trusts `ca` only."""
    wrong_host = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("mail.other.example").configure_cert(wrong_host)
    return {
        "good": server_tls_context,
        "expired": expired_tls_context,
        "self-signed": make_self_signed().server_context(),
        "wrong-host": wrong_host,
    }


def serve(
    row: Scenario, certificates: dict[str, ssl.SSLContext], *, good: bool = False
) -> ScriptedServer:
    """The row's server; with ``good``, a well-behaved one of the same kind."""
    return ScriptedServer(
        well_behaved if good else row.script,
        tls=certificates["good" if good else row.cert],
        implicit_tls=row.security is Security.TLS,
    )


async def drive(client: SMTPClient, server: ScriptedServer, action: Action) -> object:
    """Take ``action`` with the engine, as the controller would."""
    match action:
        case Connect():
            return await client.connect(server.host, server.port)
        case Ehlo():
            return await client.ehlo()
        case StartTls():
            return await client.starttls()
        case Authenticate():
            return await client.login(USER, PASSWORD)
        case SendMessage(sender=sender, recipients=recipients, message=message):
            return await client.sendmail(sender, list(recipients), message)
    raise AssertionError(f"no engine call for {action}")


async def timed(awaitable: Awaitable[T], limit: float) -> T:
    """Await ``awaitable``; fail if it took longer than ``limit`` seconds."""
    started = time.monotonic()
    try:
        return await awaitable
    finally:
        elapsed = time.monotonic() - started
        assert elapsed < limit, f"took {elapsed:.2f} s, more than {limit} s"


def settings(row: Scenario, server: ScriptedServer, context: ssl.SSLContext) -> SessionSettings:
    return SessionSettings(
        host=f"{server.host}:{server.port}",
        security=row.security,
        ssl_context=context,
        helo_name="client.example",
        username=USER,
        password=PASSWORD,
        connect_timeout=row.timeout,
        reply_timeout=row.timeout,
    )


def error_lines(controller: SessionController) -> list[str]:
    """The transcript's *** lines, as exported."""
    text = to_swaks(controller.transcript)
    return [line for line in text.splitlines() if line.startswith("*** ")]


async def until(condition: Callable[[], bool]) -> None:
    """Wait (2 s at most) for ``condition``: a server's hang-up may be read just after the
    step that provoked it returned."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(2):
            while not condition():
                await asyncio.sleep(0.01)


# -- the engine -----------------------------------------------------------------------------


@pytest.mark.parametrize("row", SCENARIOS, ids=lambda row: row.id)
async def test_engine(
    row: Scenario,
    certificates: dict[str, ssl.SSLContext],
    client_tls_context: ssl.SSLContext,
) -> None:
    events: list[ClientEvent] = []
    client = SMTPClient(
        local_hostname="client.example",
        listener=events.append,
        implicit_tls=row.security is Security.TLS,
        ssl_context=client_tls_context,
        timeout=row.timeout,
        connect_timeout=row.timeout,
    )
    *before, last = row.steps
    tracemalloc.start()
    try:
        async with serve(row, certificates) as server:
            for action in before:
                await timed(drive(client, server, action), row.timeout + MARGIN)
            if isinstance(row.engine, int):
                await timed(drive(client, server, last), row.timeout + MARGIN)
                assert client.last_reply is not None and client.last_reply.code == row.engine
            else:
                with pytest.raises(row.engine) as info:
                    await timed(drive(client, server, last), row.timeout + MARGIN)
                error = info.value
                assert getattr(error, "step", "") == row.step  # smtplib's classes have none
                if row.step:
                    assert (error.host, error.port) == (server.host, server.port)
                    assert f"{server.host}:{server.port} during {row.step}" in str(error)
                if isinstance(error, SMTPTLSError):
                    assert row.reason and row.reason in error.reason
                    assert error.certificate is (row.cert != "good")
            closed = row.after is Phase.CLOSED
            await until(lambda: client.connected is not closed)
            assert client.connected is not closed
            if closed:
                with pytest.raises(SMTPException):  # at once: the connection is gone
                    await timed(client.noop(), MARGIN)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY
    assert not any(isinstance(e, Received) and b"injected" in e.reply.raw for e in events)
    async with serve(row, certificates, good=True) as good:
        assert await client.connect(good.host, good.port) == (220, b"good.example ESMTP")
        assert (await client.ehlo())[0] == 250
        assert await client.quit() == (221, b"bye")


# -- the controller -------------------------------------------------------------------------


@pytest.mark.parametrize("row", SCENARIOS, ids=lambda row: row.id)
async def test_controller(
    row: Scenario,
    certificates: dict[str, ssl.SSLContext],
    client_tls_context: ssl.SSLContext,
) -> None:
    async with serve(row, certificates) as server:
        controller = SessionController(settings(row, server, client_tls_context))
        for action in row.steps:
            outcome = await timed(controller.run(action), row.timeout + MARGIN)
            if not outcome.ok:
                break
        await until(lambda: controller.state.phase is row.after)
        assert controller.state.phase is row.after
        lines = error_lines(controller)
        assert outcome.ok is row.ok
        assert outcome.error in "\n".join(lines)
        for words in row.says:
            assert any(words in line for line in lines), (words, lines)
        state = controller.state
        assert not state.busy and state.running == ""
        assert controller.client is not None
        assert controller.client.connected is state.connected
        received = [e for e in controller.transcript if e.kind is EntryKind.RECEIVED]
        assert not any(b"injected" in entry.data for entry in received)

    async with serve(row, certificates, good=True) as good:
        controller.settings = replace(controller.settings, host=f"{good.host}:{good.port}")
        for action in (Connect(), Ehlo(), Noop(), Quit()):
            assert (await controller.run(action)).ok
    assert controller.state.phase is Phase.CLOSED


async def test_a_challenge_that_is_not_base64_is_cancelled_as_the_advice_says(
    certificates: dict[str, ssl.SSLContext], client_tls_context: ssl.SSLContext
) -> None:
    [row] = [row for row in SCENARIOS if row.id == "auth-not-base64"]
    async with serve(row, certificates) as server:
        controller = SessionController(settings(row, server, client_tls_context))
        for action in row.steps:
            outcome = await controller.run(action)
        [peer] = server.peers
        assert peer.received[-1] == b"*\r\n"  # the server's 501 answered it
        assert controller.state.connected
    assert "cancelled the AUTH exchange (sent *)" in outcome.error


HANG_UPS = ("close-at-once", "close-mid-multiline", "starttls-hang-up-in-the-handshake")


@pytest.mark.parametrize(
    "row", [row for row in SCENARIOS if row.id in HANG_UPS], ids=lambda row: row.id
)
async def test_a_hang_up_is_recorded_as_the_servers_doing(
    row: Scenario, certificates: dict[str, ssl.SSLContext], client_tls_context: ssl.SSLContext
) -> None:
    async with serve(row, certificates) as server:
        controller = SessionController(settings(row, server, client_tls_context))
        for action in row.steps:
            await controller.run(action)
    [closed] = [e.text for e in controller.transcript if e.text.startswith("Connection closed")]
    assert closed.startswith("Connection closed: the server closed the connection")
    assert f"during {row.step})" in closed


# -- after a failed STARTTLS, nothing goes out in plaintext -----------------------------------

TLS_RECORDS = (b"\x15", b"\x16")  # a TLS alert, a TLS handshake message
STARTTLS_FAILURES = [row for row in SCENARIOS if row.steps[-1] == StartTls() and not row.ok]


@pytest.mark.parametrize("row", STARTTLS_FAILURES, ids=lambda row: row.id)
async def test_run_all_stops_when_starttls_fails(
    row: Scenario, certificates: dict[str, ssl.SSLContext], client_tls_context: ssl.SSLContext
) -> None:
    async with serve(row, certificates) as server:
        controller = SessionController(settings(row, server, client_tls_context))
        outcome = await controller.run(RunAll(ONE))
        assert not outcome.ok and isinstance(outcome.action, RunAll)
        await asyncio.sleep(0.2)  # time for anything the controller would still send
        [peer] = server.peers
    # Nothing but QUIT, which tells nothing, if the connection is still open.
    after = peer.received[peer.received.index(b"STARTTLS\r\n") + 1 :]
    assert [chunk for chunk in after if chunk and chunk[:1] not in TLS_RECORDS] in (
        [],
        [b"QUIT\r\n"],
    )
    sent = [entry.text for entry in controller.transcript if entry.kind is EntryKind.SENT]
    assert sent[sent.index("STARTTLS") + 1 :] in ([], ["QUIT"])
