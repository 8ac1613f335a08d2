"""The SMTP dialogue as a state machine without I/O, in h11's shape.

What the client sends goes in line by line (:meth:`Dialogue.send`), what the server sends
goes in as bytes (:meth:`Dialogue.receive_data`), and each reply comes out
(:meth:`Dialogue.next_event`) naming the command it answers, with its pipelining group, and
the phase it leaves the dialogue in. The phase follows from one table (:func:`_after`), and
so does whether a command is in order here (:func:`_out_of_order`): a debugger sends what
it is told, so an out-of-order command is sent all the same, but it says why it is out of
order. Both judge what the server has accepted so far, as if every command still awaiting
its reply will be accepted: a pipelined RCPT is in order after a pipelined MAIL.

In LMTP (RFC 2033) LHLO takes EHLO's place, and the end of a message (the final dot, BDAT
LAST) gets one reply per recipient accepted, in RCPT order: each answers a command naming
its recipient, and the transaction ends with the last.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum
from typing import NamedTuple

from smtptui.protocol.capabilities import Capabilities, parse_ehlo
from smtptui.protocol.errors import ProtocolError
from smtptui.protocol.replies import Reply, ReplyParser


class Phase(StrEnum):
    """Where the dialogue stands: what may come next."""

    CLOSED = "closed"  # no connection
    GREETING = "greeting"  # connecting: the server's first reply comes next
    EHLO = "ehlo"  # greeted, or TLS begun: EHLO or HELO next
    READY = "ready"  # EHLO or HELO accepted, no mail transaction
    TLS = "tls"  # STARTTLS accepted: the TLS handshake next, nothing else in plaintext
    AUTH = "auth"  # a 334 came: the next line is a SASL response
    MAIL = "mail"  # MAIL FROM accepted
    RCPT = "rcpt"  # a RCPT TO accepted
    DATA = "data"  # a 354 came: message data next, up to the line holding only a dot
    BDAT = "bdat"  # a chunk other than the last accepted: BDAT (or RSET) next
    QUIT = "quit"  # QUIT sent: the server closes the connection next


TRANSACTION = frozenset({Phase.MAIL, Phase.RCPT, Phase.DATA, Phase.BDAT})
"""The phases of a mail transaction: RSET (or any end of the message) leaves them."""

END_OF_DATA = "."
"""The verb of the line that ends message data (and of a message sent whole after 354)."""

ENDS_GROUP = frozenset(
    {"EHLO", "HELO", "LHLO", "STARTTLS", "AUTH", "DATA", "QUIT", "NOOP", "VRFY", "EXPN"}
)
"""Commands after which the client must wait for the reply before writing more (RFC 2920
3.1; STARTTLS and AUTH because what follows depends on their outcome)."""

_ANYWHERE = frozenset({"NOOP", "RSET", "QUIT", "HELP", "VRFY", "EXPN", "EHLO", "HELO", "LHLO"})
"""Commands RFC 5321 4.1.4 allows at any point of the dialogue once it is greeted (and
RFC 2033's LHLO, LMTP's EHLO)."""

_GREETINGS = frozenset({"EHLO", "HELO", "LHLO"})


class Command(NamedTuple):
    """One line sent that a reply will answer (or a message, for the reply to its end).

    ``verb`` is the command's first word in upper case: "" for the greeting, which answers
    nothing sent, :data:`END_OF_DATA` for the end of message data, and "AUTH" for every line
    of a SASL exchange. ``argument`` is what follows the verb, kept only where it says which
    command this is (a MAIL or RCPT address, an AUTH mechanism, BDAT's size), never a secret.
    (A named tuple, as ``Reply`` is: one is made per command, and it is cheaper.)
    """

    verb: str
    argument: str = ""
    group: int = 0  # the pipelined group it was written in (0: written on its own)
    sasl: bool = False  # a SASL response: the line is a secret
    out_of_order: str = ""  # why it is out of order where it was sent ("" if it is not)
    recipient: str = ""  # LMTP: the recipient a reply to the message's end is for

    @property
    def path(self) -> str:
        """A MAIL or RCPT command's address, without angle brackets: ``TO:<b@example.org>``
        is b@example.org."""
        path = self.argument.partition(":")[2] or self.argument
        return path.strip().removeprefix("<").removesuffix(">")

    @property
    def ends_message(self) -> bool:
        """The final dot, or ``BDAT n LAST``: what the reply to a message answers."""
        return self.verb == END_OF_DATA or self.last_chunk

    @property
    def name(self) -> str:
        """What the command is, in a word or two: "RCPT", "AUTH PLAIN", "message data"."""
        if self.verb == END_OF_DATA:
            return "message data"
        if self.verb in ("AUTH", "BDAT"):
            return f"{self.verb} {self.argument}".rstrip()
        return self.verb or "greeting"

    @property
    def label(self) -> str:
        """The command as a person reads it: "RCPT TO:<b@example.org>", "AUTH PLAIN"."""
        if self.verb in ("MAIL", "RCPT") and self.argument:
            return f"{self.verb} {self.argument}"
        if self.recipient:
            return f"{self.name} for {self.recipient}"
        return self.name

    @property
    def last_chunk(self) -> bool:
        """A BDAT command that ends the message (``BDAT n LAST``)."""
        return self.verb == "BDAT" and self.argument.upper().endswith(" LAST")


GREETING = Command("")
"""What the server's first reply answers: the connection itself."""


class Answer(NamedTuple):
    """A reply and what it answers (``None``: nothing was waiting for it), and the phase
    the dialogue is in after it."""

    reply: Reply
    command: Command | None
    phase: Phase


class Dialogue:
    """One connection's SMTP dialogue, from the client's side; see the module docstring.

    After STARTTLS is accepted, the bytes that follow its 220 are not parsed: they are held
    until :meth:`tls_started`, which returns them to be reported and dropped, since they
    could be replies to commands injected in plaintext (CVE-2011-0411).
    """

    def __init__(self, *, lmtp: bool = False) -> None:
        self.lmtp = lmtp  # RFC 2033: LHLO, and a reply per recipient to each message
        self.phase = Phase.GREETING
        self.capabilities: Capabilities | None = None  # from the last accepted EHLO
        self.features: dict[str, str] = {}  # the capabilities' keywords (lower case): values
        self.esmtp = False  # the last greeting accepted was EHLO or LHLO, not HELO
        self.tls = False
        self.authenticated = False
        self._parser = ReplyParser()
        self._pending: deque[Command] = deque()  # sent, awaiting their replies, in order
        self._pending.append(GREETING)
        self._replies: deque[Reply] = deque()  # parsed, not yet taken by next_event
        self._failure: ProtocolError | None = None  # bad bytes after the queued replies
        self._held = b""  # what came after STARTTLS's 220
        self._projected = Phase.GREETING  # the phase if every pending command is accepted
        self._mechanism = ""  # of the SASL exchange under way: its AUTH's
        self._resume = Phase.READY  # the phase a SASL exchange returns to
        self._group = 0
        self._group_ended_by = ""  # a command of the open group after which none may follow
        self._recipients: list[str] = []  # the RCPTs accepted in this transaction, in order
        self.for_recipients: tuple[str, ...] = ()  # LMTP: whom the last message's replies are for

    # -- what is known -----------------------------------------------------------------

    @property
    def awaiting(self) -> int:
        """How many replies are due."""
        return len(self._pending)

    @property
    def step(self) -> str:
        """What is under way, to name in an error: the command whose reply is awaited,
        else the phase ("message data" while a message is being sent)."""
        if self._pending:
            return self._pending[0].name
        return "message data" if self.phase is Phase.DATA else self.phase.value

    @property
    def midway(self) -> bool:
        """Whether part of a reply has arrived (see :attr:`ReplyParser.midway`)."""
        return self._parser.midway

    @property
    def unparsed(self) -> bytes:
        """Bytes received that are not yet part of a complete reply."""
        return self._parser.pending

    @property
    def sasl_due(self) -> bool:
        """Whether the next line sent is a SASL response (a secret)."""
        return self._projected is Phase.AUTH

    # -- lines out ---------------------------------------------------------------------

    def begin_group(self) -> int:
        """Start a pipelined group (RFC 2920): the commands sent until :meth:`end_group`
        are written together; returns the group's number."""
        self._group += 1
        self._group_ended_by = ""
        return self._group

    def end_group(self) -> None:
        self._group_ended_by = ""

    def send(self, line: bytes, *, group: int = 0) -> Command | None:
        """Note ``line`` (a command line, or a line of message data after 354) as sent;
        return the command its reply will answer, or ``None`` if no reply is due."""
        phase = self._projected
        if phase is Phase.DATA and not (group and self._group_ended_by == "DATA"):
            if line != b".\r\n":
                return None  # a line of the message
            return self._sent(Command(END_OF_DATA))
        if phase is Phase.AUTH:
            return self._sent(Command("AUTH", self._mechanism, group, sasl=True))
        verb, argument = split_command(line)
        why = _out_of_order(phase, verb, self)
        if group:  # judged even when out of order, to note a command that ends the group
            grouping = self._grouping(verb)
            why = why or grouping
        if verb == "AUTH":
            self._mechanism, self._resume = argument, phase
        return self._sent(Command(verb, argument, group, out_of_order=why))

    def send_message(self) -> Command:
        """Note a whole message as sent after 354, its end included."""
        return self._sent(Command(END_OF_DATA))

    def _sent(self, command: Command) -> Command:
        self._pending.append(command)
        self._projected = _after(self._projected, command, None, self)
        return command

    def _grouping(self, verb: str) -> str:
        """Why a command written in a pipelined group is out of place there, if it is."""
        ended_by, self._group_ended_by = self._group_ended_by, verb if verb in ENDS_GROUP else ""
        if "pipelining" not in self.features:
            return "pipelined, but the server did not advertise PIPELINING"
        if ended_by:
            return f"in the same write as {ended_by}, which must end a pipelined group"
        return ""

    # -- bytes in ----------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Take bytes from the server; :meth:`next_event` hands out the replies in them."""
        if self.phase is Phase.TLS:
            self._held += data
            return
        try:
            self._replies.extend(self._parser.feed(data))
        except ProtocolError as error:  # the replies before the bad bytes still count
            self._replies.extend(error.replies)
            self._failure = error

    def next_event(self) -> Answer | None:
        """The next complete reply and what it answers; ``None`` until more bytes come.

        Raises :class:`ProtocolError` once the replies before bytes that are not a reply
        have been handed out.
        """
        if not self._replies:
            failure, self._failure = self._failure, None
            if failure is not None:
                raise failure
            return None
        reply = self._replies.popleft()
        pending = self._pending
        command = pending.popleft() if pending else None
        if command is not None:
            if self.lmtp and command.ends_message and not command.recipient:
                command = self._for_each_recipient(command)
            self.phase = phase = _after(self.phase, command, reply, self)
            self._projected = phase
            for later in pending:
                self._projected = _after(self._projected, later, None, self)
            if phase is Phase.TLS:
                self._hold_rest()
        return Answer(reply, command, self.phase)

    def _for_each_recipient(self, command: Command) -> Command:
        """LMTP: the message's end is answered once per recipient accepted (RFC 2033 4.2);
        the first reply answers ``command`` for the first, the others wait in its place."""
        recipients, self._recipients = self._recipients, []
        self.for_recipients = tuple(recipients)
        if not recipients:
            return command
        for recipient in reversed(recipients[1:]):
            self._pending.appendleft(command._replace(recipient=recipient))
        return command._replace(recipient=recipients[0])

    def _hold_rest(self) -> None:
        """STARTTLS was accepted: nothing after its 220 is read as a reply (see class)."""
        failure, self._failure = self._failure, None
        self._held = b"".join(reply.raw for reply in self._replies) + (
            failure.rest if failure is not None else self._parser.clear()
        )
        self._replies.clear()
        self._pending.clear()

    def eof(self) -> None:
        """The server closed the connection; raise if it did so in the middle of a reply.
        The phase stays until :meth:`closed`: whoever ends the connection next still knows
        what the close ended (after a 221 to QUIT, the dialogue; else a step midway)."""
        self._parser.eof()

    def discard_plaintext(self) -> bytes:
        """The bytes held since STARTTLS's 220 (see the class), now dropped."""
        held, self._held = self._held, b""
        return held

    def tls_started(self) -> bytes:
        """The TLS handshake after STARTTLS is done: the dialogue starts over at EHLO
        (RFC 3207 4.2). Returns what plaintext was still held, now dropped."""
        dropped = self.discard_plaintext()
        self.tls = True
        self._forget_ehlo()
        self.phase = self._projected = Phase.EHLO
        return dropped

    def tls_begun(self) -> None:
        """Implicit TLS: the handshake came before the greeting."""
        self.tls = True

    def closed(self) -> None:
        """The connection ended: nothing more is due, and nothing EHLO said holds."""
        self.phase = self._projected = Phase.CLOSED
        self._pending.clear()
        self._forget_ehlo()

    def forget_pending(self) -> tuple[Command, ...]:
        """Give up on the replies still due (a server that lost pipelined commands); returns
        the commands they would have answered."""
        lost = tuple(self._pending)
        self._pending.clear()
        self._projected = self.phase
        return lost

    def _forget_ehlo(self) -> None:
        self.capabilities = None
        self.features = {}
        self.esmtp = False

    def _greeted(self, verb: str, accepted: Reply | None) -> None:
        """EHLO or HELO was answered: the capabilities are the accepted EHLO's, or none (as
        smtplib has it, a refused one leaves ``esmtp`` as the last accepted one set it)."""
        self.capabilities, self.features = None, {}
        if accepted is not None:
            self.esmtp = verb != "HELO"
            if self.esmtp:
                self.capabilities = parse_ehlo(accepted)
                self.features = dict(self.capabilities.features)


def split_command(line: bytes) -> tuple[str, str]:
    """A command line's verb (upper case) and the argument that names it (see Command)."""
    word, _, rest = line.rstrip(b"\r\n").partition(b" ")
    verb = word.decode("ascii", "replace").upper()
    if verb in ("MAIL", "RCPT"):  # "FROM:<a@example.org>", without the parameters
        path = rest.partition(b">")[0] + b">" if b">" in rest else rest.partition(b" ")[0]
        return verb, path.decode("utf-8", "replace")
    if verb in ("AUTH", "BDAT"):
        words = rest.split()
        keep = words[:1] if verb == "AUTH" else words[:2]  # never AUTH's initial response
        return verb, b" ".join(keep).decode("ascii", "replace").upper()
    return verb, ""


def _out_of_order(phase: Phase, verb: str, dialogue: Dialogue) -> str:
    """Why ``verb`` is out of order in ``phase`` (as projected), or "" if it is not."""
    if phase is Phase.GREETING:
        return "sent before the server's greeting"
    if phase is Phase.TLS:
        return "sent in plaintext after STARTTLS was accepted, before the TLS handshake"
    if phase is Phase.QUIT:
        return "sent after QUIT"
    if phase is Phase.BDAT and verb not in ("BDAT", "RSET", "QUIT", "NOOP"):
        return "a BDAT message is open: only BDAT (ending with LAST) or RSET may follow"
    if verb in _GREETINGS and dialogue.lmtp != (verb == "LHLO"):
        if dialogue.lmtp:
            return "LMTP greets with LHLO, not EHLO or HELO (RFC 2033 4.1)"
        return "LHLO is LMTP's (RFC 2033): SMTP greets with EHLO or HELO"
    if verb in _ANYWHERE:
        return ""
    greeted = phase is not Phase.EHLO
    if not greeted and verb in ("STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "BDAT"):
        return f"sent before {'LHLO' if dialogue.lmtp else 'EHLO or HELO'} was accepted"
    in_transaction = phase in TRANSACTION
    match verb:
        case "STARTTLS" if dialogue.tls:
            return "TLS is already on"
        case "STARTTLS" | "AUTH" | "XCLIENT" if in_transaction:
            return "sent inside a mail transaction (RSET first)"
        case "AUTH" if dialogue.authenticated:
            return "already authenticated (RFC 4954 4: one AUTH per session)"
        case "MAIL" if in_transaction:
            return "a mail transaction is open (RSET first)"
        case "RCPT" if phase not in (Phase.MAIL, Phase.RCPT):
            return "sent before MAIL FROM was accepted"
        case "DATA" | "BDAT" if phase is Phase.MAIL:
            return "sent before any RCPT TO was accepted"
        case "DATA" | "BDAT" if phase not in (Phase.RCPT, Phase.BDAT):
            return "sent before MAIL FROM was accepted"
    return ""


def _after(phase: Phase, command: Command, reply: Reply | None, dialogue: Dialogue) -> Phase:
    """The phase once ``reply`` answers ``command``; with ``reply`` None, the phase if the
    command is accepted (for judging what is sent before its reply comes). Follows what the
    server said, whatever order things were sent in.
    """
    code = reply.code if reply is not None else 0
    accepted = reply is None or 200 <= code < 300
    verb = command.verb
    if command is GREETING:
        return Phase.EHLO  # whatever it says: a refusal leaves QUIT, and EHLO to try
    if command.ends_message:
        if reply is not None and _more_for_message(dialogue, command):
            return phase  # LMTP: replies for other recipients still to come
        return Phase.READY  # any (last) reply to the message ends the transaction
    match verb:
        case "EHLO" | "HELO" | "LHLO":
            if reply is not None:
                dialogue._greeted(verb, reply if accepted else None)
            return Phase.READY if accepted else phase
        case "STARTTLS":
            return Phase.TLS if reply is None or code == 220 else phase
        case "AUTH":
            if reply is None:
                return phase
            if code == 334:
                return Phase.AUTH
            if code == 235:
                dialogue.authenticated = True
            return dialogue._resume if phase is Phase.AUTH else phase
        case "MAIL":
            if reply is not None and accepted:
                dialogue._recipients = []
            return Phase.MAIL if accepted else phase
        case "RCPT":
            if not (accepted and phase in (Phase.MAIL, Phase.RCPT)):
                return phase
            if reply is not None:
                dialogue._recipients.append(command.path)
            return Phase.RCPT
        case "DATA":
            return Phase.DATA if reply is None or code == 354 else phase
        case "BDAT":
            return Phase.BDAT if accepted else phase
        case "RSET":
            if not (accepted and phase in TRANSACTION):
                return phase
            if reply is not None:
                dialogue._recipients = []
            return Phase.READY
        case "XCLIENT":  # Postfix: a new greeting, then the session starts over (EHLO)
            if reply is not None and code == 220:
                dialogue._forget_ehlo()
                dialogue.authenticated = False
            return Phase.EHLO if reply is None or code == 220 else phase
        case "QUIT":
            return Phase.QUIT
    return phase


def _more_for_message(dialogue: Dialogue, command: Command) -> bool:
    """LMTP: whether the next reply due is for another recipient of the same message."""
    pending = dialogue._pending
    return bool(pending and pending[0].recipient and pending[0].verb == command.verb)
