"""The session controller: runs actions one at a time against one client, and keeps the
transcripts (one per connection) and the state that the UI and the headless commands show."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import itertools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from smtptui.engine import errors
from smtptui.engine.hosts import format_host
from smtptui.engine.tls import TlsInfo, VerifyMode
from smtptui.protocol.auth import (
    AuthOptions,
    NoMechanismError,
    choose_mechanism,
    mechanisms_to_try,
    requested_mechanisms,
    sends_password,
)
from smtptui.protocol.commands import international, raw_line
from smtptui.protocol.data import DEFAULT_CHUNK_SIZE
from smtptui.protocol.envelope import pipeline_lines
from smtptui.protocol.errors import CommandError
from smtptui.protocol.replies import Reply
from smtptui.session import advice
from smtptui.session.actions import (
    Action,
    Authenticate,
    Connect,
    Disconnect,
    Ehlo,
    EndMessage,
    Expand,
    Helo,
    Help,
    MailFrom,
    MessageLine,
    Noop,
    Outcome,
    Pipeline,
    Quit,
    Raw,
    RcptTo,
    Reset,
    Risk,
    RunAll,
    SendBdat,
    SendData,
    SendMessage,
    StartTls,
    Stop,
    Verify,
    Xclient,
)
from smtptui.session.exits import Exit, failed_stage
from smtptui.session.keymap import keys_name
from smtptui.session.settings import Security, SessionSettings
from smtptui.session.state import Phase, SessionState, Transfer
from smtptui.session.transcript import Entry, EntryKind, Transcript

# The client, its events and the OCSP probe are imported when a connection is first made
# (`_new_client`, `_on_event`, `ocsp_asker`): the app draws its first frame without them.
if TYPE_CHECKING:
    from smtptui.engine.client import SMTPClient
    from smtptui.engine.events import ClientEvent
    from smtptui.engine.ocsp import OcspStatus
    from smtptui.session.recipe import Recipe
    from smtptui.session.routing import Target


class _Unaccepted(Exception):
    """An action that would take a risk the user has not accepted: it is not sent.
    ``detail`` says what in it takes the risk, if the risk alone does not."""

    def __init__(self, risk: Risk, detail: str = "") -> None:
        super().__init__(risk)
        self.risk = risk
        self.detail = detail


def _may_send_credentials(mechanism: str | None, client: SMTPClient) -> bool:
    """Whether AUTH would go as far as sending credentials: not when the server said, in
    EHLO, that it takes none and no mechanism is named (that fails before sending any)."""
    return client.capabilities is None or client.has_extn("auth") or bool(mechanism)


UNVERIFIED_CREDENTIALS = (
    "⚠ The credentials went to a server whose certificate was not verified: "
    "it may not be who it says"
)
"""Said after AUTH sent credentials over TLS without a verified certificate: TLS alone
does not say who is at the other end."""

ClientFactory = Callable[..., "SMTPClient"]
"""Makes a client from :class:`SMTPClient`'s keyword arguments (tests may wrap it)."""


def _new_client(**kwargs: Any) -> SMTPClient:
    """The engine's client, imported with the first connection."""
    from smtptui.engine.client import SMTPClient

    return SMTPClient(**kwargs)


Update = Entry | SessionState | Transcript
Subscriber = Callable[[Update], None]


class SessionController:
    """Runs :mod:`actions <smtptui.session.actions>` and records what happened.

    :meth:`run` never raises for what a server, the network or the user's input can do
    wrong: it records an error entry (what happened, what to try) and returns a failed
    :class:`Outcome`. Cancelling it records that, closes the connection and re-raises.

    Each connection gets its own :class:`Transcript` in :attr:`transcripts`, except that the
    first one is kept while it holds only info entries (the hints shown before connecting).
    Subscribers get every entry of the current transcript, every new state, and each new
    transcript as it starts (before its first entry).
    """

    def __init__(
        self,
        settings: SessionSettings | None = None,
        *,
        client_factory: ClientFactory = _new_client,
        transcript: Transcript | None = None,
    ) -> None:
        self.settings = settings or SessionSettings()
        first = transcript if transcript is not None else Transcript()
        self.transcripts: list[Transcript] = [first]
        self._client_factory = client_factory
        self._client: SMTPClient | None = None
        self._detach: Callable[[], None] | None = None  # unsubscribes from the client
        self._state = SessionState()
        self._reply: Reply | None = None  # the last reply to the action under way
        self._refused: str | None = None  # the name of the last command refused in it
        self._lock = asyncio.Lock()
        self._subscribers: list[Subscriber] = []
        self._leave_transcript = first.subscribe(self._publish)
        self._accepted: set[Risk] = set()
        self._starttls_failed = False  # and the connection went on in plaintext
        self._unverified_next = False  # the next connection skips certificate verification
        self._unadvertised_once = False  # the next envelope may hold unadvertised parameters
        self._last_sent: tuple[SessionSettings, SendMessage, SessionState] | None = None
        self._routed: SessionSettings | None = None  # the settings as routed by MX, connected

    @property
    def recipe(self) -> Recipe | None:
        """The last message sent whole (SendMessage) and the steps that sent it, to do
        again; made when asked (it copies the message), not on every send."""
        if self._last_sent is None:
            return None
        from smtptui.session.recipe import Recipe  # here: `run` never asks for one

        return Recipe.of(*self._last_sent)

    @property
    def transcript(self) -> Transcript:
        """The current connection's transcript (the last one)."""
        return self.transcripts[-1]

    @property
    def unsaved(self) -> bool:
        """Whether any transcript holds dialogue not yet saved."""
        return any(transcript.unsaved for transcript in self.transcripts)

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def client(self) -> SMTPClient | None:
        """The current client (a new one per Connect), for inspection."""
        return self._client

    def ocsp_asker(self, info: TlsInfo) -> Callable[[], Awaitable[OcspStatus]] | None:
        """How to ask the server whose handshake ``info`` is for its stapled OCSP response
        (a probe connection like the client's, with its SNI and EHLO name); None when ``info``
        is not the current client's handshake, as for an earlier connection's."""
        client = self._client
        if client is None or client.tls is not info:
            return None
        from smtptui.engine.ocsp import stapled_ocsp

        return functools.partial(
            stapled_ocsp,
            client.host,
            client.port,
            implicit_tls=client.implicit_tls,
            sni=info.server_hostname,
            ehlo_name=client.local_hostname or self.settings.helo_name or "localhost",
            timeout=client.connect_timeout,
        )

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` with each new entry, state and transcript; returns an
        unsubscribe."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def _publish(self, update: Update) -> None:
        for subscriber in list(self._subscribers):
            subscriber(update)

    def _update(self, state: SessionState) -> None:
        if state != self._state:
            self._state = state
            self._publish(state)

    def _set(self, **changes: object) -> None:
        self._update(dataclasses.replace(self._state, **changes))  # type: ignore[arg-type]

    def accept(self, risk: Risk) -> None:
        """Let actions take ``risk`` (an outcome named it), marked in the transcript: AUTH
        without TLS for the rest of the session, plaintext after a failed STARTTLS for this
        connection, skipping certificate verification for the next connection only, and
        envelope parameters the server did not advertise for the next message only."""
        match risk:
            case Risk.UNVERIFIED_TLS:
                self._unverified_next = True
                text = "the next connection will not verify the certificate"
            case Risk.PLAINTEXT_AUTH:
                text = "AUTH may send credentials without TLS in this session"
            case Risk.PLAINTEXT_AFTER_STARTTLS:
                text = "this connection goes on without TLS"
            case Risk.UNADVERTISED:
                self._unadvertised_once = True
                text = "the next envelope goes with parameters the server did not advertise"
        self._accepted.add(risk)
        self._record(EntryKind.INFO, f"⚠ As you chose: {text}")

    def needs_password(self, action: Authenticate) -> bool:
        """Whether ``action`` would now send an empty password, so a UI should ask for one:
        connected, a username but no password, and the mechanism (asked for, else the best
        the server offered) sends a password (XOAUTH2 sends the token)."""
        settings, client = self.settings, self._client
        if settings.password or not settings.username or client is None or not client.connected:
            return False
        mechanism = action.mechanism or settings.mechanism
        if mechanism is None and client.capabilities is None:
            return not settings.oauth_token  # the choice waits for AUTH's own EHLO
        if mechanism is None:
            try:
                mechanism = self._best_mechanism(client)
            except NoMechanismError:
                return False  # AUTH fails before sending anything
        return any(sends_password(name) for name in requested_mechanisms(mechanism))

    # -- running actions ---------------------------------------------------------------

    async def run(self, action: Action) -> Outcome:
        """Run ``action`` once the previous one is done; see the class docstring."""
        async with self._lock:
            self._set(busy=True, running=action.label)
            try:
                if isinstance(action, RunAll):
                    return await self._run_all(action)
                return await self._step(action)
            finally:
                self._set(busy=False, running="")

    async def _step(self, action: Action) -> Outcome:
        """One action other than RunAll: its outcome, with a failure recorded."""
        self._reply = self._refused = None
        data = b""  # the offending bytes of a protocol error
        failure: Exception | None = None
        try:
            outcome = await self._dispatch(action)
        except _Unaccepted as unaccepted:
            risk = unaccepted.risk
            detail = f" ({unaccepted.detail})" if unaccepted.detail else ""
            text = f"{action.label} not sent: {risk}{detail}; it needs your confirmation"
            outcome = Outcome(action, False, None, text, risk=risk)
        except asyncio.CancelledError:
            self._record(EntryKind.ERROR, f"cancelled during {action.label}")
            self._abort()
            raise
        except advice.FAILURES as error:
            failure = error
            refused = error.recipients if isinstance(error, errors.SMTPRecipientsRefused) else {}
            if isinstance(error, errors.SMTPProtocolError):
                data = error.data
            text = advice.explain(error, action.label)
            risk = (
                Risk.UNVERIFIED_TLS
                if isinstance(error, errors.SMTPTLSError) and error.certificate
                else None
            )
            outcome = Outcome(action, False, self._reply, text, refused, risk)
        finally:
            self._sync()
        if isinstance(action, StartTls):
            client = self._client
            self._starttls_failed = not outcome.ok and client is not None and client.connected
        if outcome.error:
            self._record(EntryKind.ERROR, outcome.error, data)
        if outcome.ok:
            if isinstance(action, SendMessage):
                self._last_sent = (self._routed or self.settings, action, self._state)
            return outcome
        tls = self._client is not None and self._client.tls is not None
        after_starttls = tls and not self.settings.implicit_tls
        stage = failed_stage(action.label, failure, self._refused, after_starttls=after_starttls)
        return dataclasses.replace(outcome, stage=stage)

    async def _run_all(self, action: RunAll) -> Outcome:
        """The steps of ``action`` up to its stop point; after a failure, QUIT if the
        connection is still open (a server logs a client that just leaves as lost)."""
        try:
            steps = self._steps(action)
        except CommandError as error:  # an envelope parameter of a stop inside the message
            text = advice.explain(error, action.label)
            self._record(EntryKind.ERROR, text)
            return Outcome(action, False, error=text, stage=Exit.USAGE)
        wanted = len(action.send.recipients) if action.send is not None else 0
        refused: dict[str, tuple[int, bytes]] = {}
        for step in steps:
            self._set(running=f"{action.label}: {step.label}")
            outcome = await self._step(step)
            if self._refused_ehlo(step, outcome):
                outcome = await self._step(Helo(step.name))
            if isinstance(step, RcptTo) and outcome.stage is Exit.RCPT and outcome.reply:
                refused[step.address] = outcome.reply.as_tuple()
                if len(refused) < wanted:  # sendmail's rule: one accepted recipient will do
                    outcome = Outcome(step, True, outcome.reply)
            refused.update(outcome.refused)
            if not outcome.ok:
                await self._quit_after_failure(step)
                return dataclasses.replace(outcome, action=action)
        return Outcome(action, True, self._reply, refused=refused)

    def _steps(self, action: RunAll) -> list[Action]:
        """``action``'s steps: each belongs to the stop point it completes (the EHLO after
        STARTTLS to AUTH, which needs it), and a stop keeps the steps up to its own."""
        greet: Ehlo | Helo = Helo() if action.helo else Ehlo()
        steps: list[tuple[Stop, Action]] = [(Stop.CONNECT, Connect()), (Stop.EHLO, greet)]
        if self.settings.xclient:  # as the client it names, from its new greeting on
            steps += [(Stop.EHLO, Xclient()), (Stop.EHLO, greet)]
        if self.settings.security is Security.STARTTLS:
            steps += [(Stop.TLS, StartTls()), (Stop.AUTH, greet)]
        if self.settings.username:
            steps.append((Stop.AUTH, Authenticate()))
        send = action.send
        if send is not None and action.stop in (Stop.MAIL, Stop.RCPT, Stop.DATA):
            steps += _transaction(send)
        elif send is not None:
            steps.append((Stop.DOT, send))
        if action.stop is None:
            return [step for _, step in steps] + [Quit()]
        order = list(Stop)
        kept = [step for point, step in steps if order.index(point) <= order.index(action.stop)]
        return [*kept, Disconnect() if action.drop else Quit()]

    def _refused_ehlo(self, step: Action, outcome: Outcome) -> bool:
        """Whether ``step`` was an EHLO refused with 5xx on a connection still open: a
        server that does not speak ESMTP, to greet with HELO instead (RFC 5321 4.1.4)."""
        reply, client = outcome.reply, self._client
        return (
            isinstance(step, Ehlo)
            and not self.settings.lmtp  # LMTP has no HELO (RFC 2033 4.1)
            and reply is not None
            and 500 <= reply.code < 600
            and client is not None
            and client.connected
        )

    async def _quit_after_failure(self, step: Action) -> None:
        """QUIT, its reply recorded, if the connection is open and outside message data
        (where QUIT would be a line of the message)."""
        client = self._client
        if isinstance(step, Quit) or client is None or not client.connected:
            return
        if self._state.phase is not Phase.DATA:
            await self._step(Quit())

    async def _dispatch(self, action: Action) -> Outcome:
        match action:
            case Connect():
                self._routed = None
                unverified, self._unverified_next = self._unverified_next, False
                domain = self.settings.mx_domain
                if domain is None:
                    host, port = self.settings.address()
                    await self._connect(host, port, self.settings.sni, unverified)
                else:
                    await self._connect_by_mx(domain, unverified)
                return self._judge(action)
            case Disconnect():
                self._abort()
                return Outcome(action, True)
        client = self._client
        if client is None or not client.connected:
            raise errors.SMTPServerDisconnected("not connected")
        risk = self._risk(action, client)
        if risk is not None:
            raise _Unaccepted(risk)
        in_data = self._state.phase is Phase.DATA
        if isinstance(action, MessageLine | EndMessage) and not in_data:
            raise CommandError(action.label, "the server has not asked for message data (354)")
        if isinstance(action, SendMessage) and in_data:
            raise CommandError(
                action.label,
                "a message is open (354): end it with a line holding only a dot, or DATA "
                f"({keys_name('data', first=True)}) sends the composed message into it",
            )
        anyway = self._unadvertised(action, client)
        match action:
            case Ehlo(name=name):
                await client.ehlo(self.settings.helo_name if name is None else name)
            case Helo(name=name):
                await client.helo(self.settings.helo_name if name is None else name)
            case StartTls():
                await client.starttls(require_advertised=False)
            case Authenticate(mechanism=mechanism):
                await self._authenticate(client, mechanism or self.settings.mechanism)
            case MailFrom(address=address, options=options):
                await client.mail(address, options)
            case RcptTo(address=address, options=options):
                await client.rcpt(address, options)
            case SendData(message=message) if self._state.phase is Phase.DATA:
                await client.end_data(message)  # DATA was said: the 354 asks for the message
                return self._judge_message(action, client)
            case SendData(message=message):
                await client.data(message)
                return self._judge_message(action, client)
            case MessageLine(text=text):
                await client.data_line(text)
            case EndMessage():
                await client.end_data()
                return self._judge_message(action, client)
            case Reset():
                await client.rset()
            case Noop():
                await client.noop()
            case Verify(address=address):
                await client.vrfy(address)  # client.verify is shadowed by the verify flag
            case Expand(address=address):
                await client.expn(address)
            case Help(topic=topic):
                await client.help(topic)
            case Raw(line=line):
                await client.send_raw(raw_line(line))
            case Quit():
                await client.quit()
            case SendMessage():
                return await self._send(client, action, anyway)
            case Pipeline():
                return await self._pipeline(client, action)
            case SendBdat(message=message, chunk_size=chunk_size):
                await client.bdat_message(message, chunk_size or DEFAULT_CHUNK_SIZE)
                return self._judge_message(action, client)
            case Xclient(attributes=attributes, force=force):
                await client.xclient(attributes or self.settings.xclient_attributes, force=force)
        return self._judge(action)

    def _unadvertised(self, action: Action, client: SMTPClient) -> bool:
        """Whether ``action``'s envelope may hold parameters the server did not advertise:
        raises _Unaccepted naming them, unless the user accepted that for this message."""
        if not isinstance(action, SendMessage | Pipeline) or action.envelope is None:
            return False
        utf8 = international(action.sender, *action.recipients)
        shortfall = action.envelope.shortfall(client.capabilities, international=utf8)
        if not shortfall:
            return False
        if not self._unadvertised_once:
            raise _Unaccepted(Risk.UNADVERTISED, shortfall)
        self._unadvertised_once = False
        return True

    def _risk(self, action: Action, client: SMTPClient) -> Risk | None:
        """The risk ``action`` would take now that the user has not accepted, if any."""
        if isinstance(action, Quit | StartTls) or client.tls is not None:
            return None
        if self._starttls_failed:
            risk = Risk.PLAINTEXT_AFTER_STARTTLS
        elif isinstance(action, Authenticate) and _may_send_credentials(
            action.mechanism or self.settings.mechanism, client
        ):
            risk = Risk.PLAINTEXT_AUTH
        else:
            return None
        return None if risk in self._accepted else risk

    def _judge(self, action: Action) -> Outcome:
        """The outcome of a one-command action, from the reply it got."""
        reply = self._reply
        if reply is None or reply.ok:
            return Outcome(action, True, reply)
        return Outcome(action, False, reply, advice.refused(action.label, reply))

    def _judge_message(self, action: Action, client: SMTPClient) -> Outcome:
        """The outcome of a message's end: in LMTP, of every recipient's reply (as
        ``sendmail`` has it: sent if one took it, the others refused), else of its reply."""
        replies = client.data_replies if client.lmtp else {}
        if not replies:
            return self._judge(action)
        refused = {
            address: reply for address, reply in replies.items() if not 200 <= reply[0] < 300
        }
        if len(refused) == len(replies):
            error = f"{action.label}: every recipient refused: {advice.recipients(refused)}"
            return Outcome(action, False, self._reply, error, refused)
        if refused:
            self._record(EntryKind.ERROR, f"sent, but refused: {advice.recipients(refused)}")
        return Outcome(action, True, self._reply, refused=refused)

    async def _connect(self, host: str, port: int, sni: str | None, unverified: bool) -> None:
        """Connect to ``host`` and ``port`` with the settings, sending ``sni`` (None: the
        host; "": none); ``unverified``: without checking the certificate."""
        settings = self.settings
        self._abort()
        self._accepted -= {Risk.PLAINTEXT_AFTER_STARTTLS, Risk.UNVERIFIED_TLS}
        self._starttls_failed = False
        client = self._client_factory(
            local_hostname=settings.helo_name or None,
            implicit_tls=settings.implicit_tls,
            ssl_context=None if unverified else settings.ssl_context,
            verify=VerifyMode.NONE if unverified else settings.verify,
            cafile=settings.cafile,
            client_cert=settings.client_cert,
            client_key=settings.client_key,
            server_hostname=sni,
            verify_name=settings.verify_name,
            tls_min=settings.tls_min,
            tls_max=settings.tls_max,
            ciphers=settings.ciphers,
            connect_timeout=settings.connect_timeout,
            timeout=settings.reply_timeout,
            lmtp=settings.lmtp,
            source_address=settings.source_address,
            family=settings.family,
            via=settings.via,
            pipe=settings.pipe,
            proxy_header=settings.proxy_header,
        )
        self._client = client
        self._detach = client.add_listener(self._on_event)
        where = settings.route(host, port).where
        self._set(address=f"{where} (LMTP)" if settings.lmtp else where)
        await client.connect(host, port)

    async def _connect_by_mx(self, domain: str, unverified: bool) -> None:
        """Connect to ``domain``'s MX hosts in turn (:func:`routing.in_turn
        <smtptui.session.routing.in_turn>`), on :attr:`SessionSettings.mx_port`, each attempt a
        transcript of its own; the name sent in SNI and checked is the MX host's, unless the
        settings name one (``unverified``: none is checked, at any of them). The lookup is
        said first, and each attempt that moved on."""
        from smtptui.session import routing  # dnspython: only to route by MX

        settings = self.settings
        self._abort()
        self._begin(f"MX for {domain}")
        found = await routing.route(
            domain,
            settings.mx_port,
            nameserver=settings.nameserver,
            timeout=settings.connect_timeout,
        )
        for note in found.notes:
            self._record(EntryKind.INFO, note)
        if found.found.problem:
            raise _no_route(found.found.problem)

        def sni(target: Target) -> str:
            return target.name if settings.sni is None else settings.sni

        async def connect(target: Target) -> None:
            await self._connect(target.address, target.port, sni(target), unverified)

        def moved(target: Target, error: Exception) -> None:
            self._record(EntryKind.ERROR, advice.explain(error, Connect.label))
            self._record(EntryKind.INFO, target.moved_on)

        try:
            target = await routing.in_turn(found.targets, connect, moved)
        except Exception as error:
            if not routing.moves_on(error):
                raise
            self._record(EntryKind.ERROR, advice.explain(error, Connect.label))
            raise _no_route(f"{routing.NO_MX_ANSWERED} for {domain}", "network") from None
        self._routed = dataclasses.replace(settings, host=target.host, port=None, sni=sni(target))

    async def _authenticate(self, client: SMTPClient, mechanism: str | None) -> None:
        """AUTH: the named mechanism; of a comma list, each the server offers in turn until
        one succeeds; else the best one it offers (smtplib would try each in turn after a
        failure; one attempt reads better). Credentials that went over TLS without a
        verified certificate are noted after it."""
        settings = self.settings
        if not settings.username:
            raise CommandError("username", "is empty; set it before AUTH")
        if mechanism is None or len(requested_mechanisms(mechanism)) > 1:
            await client.ehlo_or_helo_if_needed()
        if mechanism is None:
            names = [self._best_mechanism(client)]
        else:
            offered = client.capabilities.auth_mechanisms if client.capabilities else ()
            names = mechanisms_to_try(mechanism, offered)
        unverified = client.tls is not None and not client.tls.verified
        start = len(self.transcript)
        try:
            for number, name in enumerate(names, 1):
                try:
                    await client.login(
                        settings.username,
                        settings.password,
                        mechanism=name,
                        token=settings.oauth_token,
                        options=AuthOptions(settings.authzid, settings.login_initial_response),
                    )
                    return
                except errors.SMTPAuthenticationError:
                    if number == len(names):
                        raise
                    self._record(EntryKind.INFO, f"AUTH {name} refused: trying {names[number]}")
        finally:
            if unverified and self._sent_secret(start):
                self._record(EntryKind.INFO, UNVERIFIED_CREDENTIALS)

    async def _pipeline(self, client: SMTPClient, action: Pipeline) -> Outcome:
        """The group's outcome from its replies: the first that failed it (the sender, every
        recipient, DATA), else ok with the recipients refused, if any."""
        lines = pipeline_lines(action.sender, action.recipients, action.envelope)
        replies = await client.pipeline(lines)
        label = action.label
        refused = {
            recipient: reply.as_tuple()
            for recipient, reply in zip(action.recipients, replies[1:], strict=False)
            if reply.code not in (250, 251)
        }
        if len(replies) < len(lines):
            error = f"{label}: the server answered {len(replies)} of {len(lines)} commands"
        elif replies[0].code != 250:
            error = advice.refused(f"{label}: MAIL FROM", replies[0])
        elif len(refused) == len(action.recipients):
            error = f"{label}: every recipient refused: {advice.recipients(refused)}"
        elif replies[-1].code != 354:
            error = advice.refused(f"{label}: DATA", replies[-1])
        else:
            if refused:
                self._record(EntryKind.ERROR, f"refused: {advice.recipients(refused)}")
            return Outcome(action, True, replies[-1], refused=refused)
        return Outcome(action, False, replies[-1] if replies else None, error, refused)

    def _best_mechanism(self, client: SMTPClient) -> str:
        """The best mechanism the server offered for these credentials (EHLO first);
        raises :class:`NoMechanismError` when none fits."""
        offered = client.capabilities.auth_mechanisms if client.capabilities else ()
        return choose_mechanism(offered, have_token=bool(self.settings.oauth_token))

    def _sent_secret(self, start: int) -> bool:
        """Whether credentials (a secret entry) were sent since entry ``start``."""
        return any(entry.secret for entry in itertools.islice(self.transcript, start, None))

    async def _send(self, client: SMTPClient, action: SendMessage, anyway: bool) -> Outcome:
        try:
            refused = await client.sendmail(
                action.sender,
                list(action.recipients),
                action.message,
                action.mail_options,
                action.rcpt_options,
                chunking=action.chunking,
                pipelining=action.pipelining,
                envelope=action.envelope,
                check_advertised=not anyway,
            )
        except errors.SMTPDataError:
            if not (client.lmtp and client.data_replies):
                raise
            return self._judge_message(action, client)  # LMTP: each recipient refused it
        if refused:
            self._record(EntryKind.ERROR, f"sent, but refused: {advice.recipients(refused)}")
        return Outcome(action, True, self._reply, refused=refused)

    # -- the client and its events -----------------------------------------------------

    def _abort(self) -> None:
        """Close the connection at once, without QUIT (the client records the closing),
        and stop listening to its client."""
        client = self._client
        if client is None:
            return
        client.close()
        if self._detach is not None:
            self._detach()
            self._detach = None
        self._sync()

    def _begin(self, title: str) -> None:
        """Start a connection's transcript, titled ``title``: a new one, published, unless
        the current one holds no dialogue yet."""
        if not self.transcript.has_dialogue:
            self.transcript.title = title
            return
        self._leave_transcript()
        transcript = Transcript(len(self.transcripts) + 1, title)
        self.transcripts.append(transcript)
        self._leave_transcript = transcript.subscribe(self._publish)
        self._publish(transcript)

    def _on_event(self, event: ClientEvent) -> None:
        from smtptui.engine.events import Closed, Connecting, Progress, Received
        from smtptui.session import recorder

        if isinstance(event, Connecting):
            self._begin(format_host(event.host, event.port))
        entry = recorder.entry(event)
        if entry is not None:
            self.transcript.append(entry)
        match event:
            case Connecting():
                self._update(self._state.without_connection(Phase.GREETING))
            case Received(reply=reply, command=None):
                self._set(last_reply=reply)  # it answers no action and moves no phase
            case Received(reply=reply, command=command, phase=phase):
                self._reply = reply
                if not reply.ok:
                    self._refused = command.name
                transfer = self._state.transfer  # it goes with the message's reply, or a no
                if transfer is not None and (transfer.sent == transfer.total or not reply.ok):
                    transfer = None
                self._set(phase=phase, last_reply=reply, transfer=transfer)
            case Progress(sent=sent, total=total, time=now):
                began = self._state.transfer.began if self._state.transfer else now
                self._set(transfer=Transfer(sent, total, began, now))
            case Closed():
                self._update(self._state.without_connection())

    def _sync(self) -> None:
        """Copy what the client knows (the phase, TLS, EHLO's extensions, the user) into
        the state."""
        client = self._client
        if client is None or not client.connected:
            self._update(self._state.without_connection())
            return
        self._set(
            phase=client.dialogue.phase,  # a handshake after STARTTLS moves it, too
            tls=client.tls,
            esmtp=client.does_esmtp,
            extensions=frozenset(name.upper() for name in client.esmtp_features),
            user=client.authenticated_as,
        )

    def _record(self, kind: EntryKind, text: str, data: bytes = b"") -> None:
        self.transcript.append(Entry.now(kind, text, data))


def _no_route(text: str, cause: str = "mx") -> errors.SMTPConnectError:
    """No connection to make: routing by MX found no host ("mx": DNS said so), or none took
    it ("network")."""
    error = errors.SMTPConnectError(-1, text)
    error.cause = cause
    return error


def _transaction(send: SendMessage) -> list[tuple[Stop, Action]]:
    """``send`` one command at a time up to DATA, for a stop inside it: MAIL (with the
    envelope's parameters, but no automatic SIZE), each RCPT, DATA (a raw line, so that its
    354 asks for a message nobody sends)."""
    utf8 = international(send.sender, *send.recipients)
    envelope = send.envelope
    mail = list(send.mail_options)
    if envelope is not None:
        mail += envelope.mail_options(0, international=utf8, advertised=None)
    steps: list[tuple[Stop, Action]] = [(Stop.MAIL, MailFrom(send.sender, tuple(mail)))]
    for recipient in send.recipients:
        own = envelope.rcpt_options(recipient) if envelope is not None else []
        steps.append((Stop.RCPT, RcptTo(recipient, (*own, *send.rcpt_options))))
    return [*steps, (Stop.DATA, Raw("DATA"))]
