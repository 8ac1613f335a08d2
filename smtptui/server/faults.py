"""The fault rules (`rules.py`) applied to one connection: aiosmtpd's SMTP with the hooks
where each stage is reached. A rule that refuses (4xx, 5xx) answers instead of the command,
which then has no effect; a rule with a 2xx or 3xx reply lets the command run and replaces
its reply; ``close`` hangs up after the reply (or instead of one); a delay comes first;
a throttle paces the connection from then on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any, AnyStr

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

from smtptui.server.rules import Facts, Rule, Rules, Stage

_HOOK_STAGES: dict[str, Stage] = {
    "EHLO": "ehlo",
    "HELO": "ehlo",
    "MAIL": "mail",
    "RCPT": "rcpt",
    "VRFY": "vrfy",
    "DATA": "dot",
    "QUIT": "quit",
}
"""Stages met where aiosmtpd calls the handler: once the command is valid (the message's
end: once it is read, before it is delivered)."""

_COMMAND_STAGES: dict[str, Stage] = {"STARTTLS": "starttls", "DATA": "data"}
"""Stages met as the command comes: STARTTLS and DATA reply before any hook."""

_SLACK = 0.005
"""How far ahead of its rate a throttled connection may run before it waits (seconds)."""


class Pace:
    """A byte rate held from the first bytes on: `take(n)` waits until n more bytes are
    due, against a fixed schedule, so that many small waits do not add up to drift."""

    def __init__(self, bytes_per_second: int) -> None:
        self.rate = bytes_per_second
        self._start: float | None = None
        self._taken = 0

    async def take(self, count: int) -> None:
        now = time.monotonic()
        if self._start is None:
            self._start = now
        self._taken += count
        wait = self._start + self._taken / self.rate - now
        if wait > _SLACK:
            await asyncio.sleep(wait)

    def piece(self) -> int:
        """How much to send at a time: a fiftieth of a second's worth."""
        return max(1, self.rate // 50)


class PacedReader:
    """A StreamReader whose reads wait for their `Pace` after each read; what is set on it
    (aiosmtpd sets its transport after STARTTLS) is set on the reader itself."""

    def __init__(self, reader: asyncio.StreamReader, pace: Pace) -> None:
        object.__setattr__(self, "_inner", reader)
        object.__setattr__(self, "_pace", pace)

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        return await self._paced(await self._inner.readuntil(separator))

    async def readline(self) -> bytes:
        return await self._paced(await self._inner.readline())

    async def readexactly(self, n: int) -> bytes:
        return await self._paced(await self._inner.readexactly(n))

    async def read(self, n: int = -1) -> bytes:
        return await self._paced(await self._inner.read(n))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)

    async def _paced(self, data: bytes) -> bytes:
        await self._pace.take(len(data))
        return data


class RuledSMTP(SMTP):
    """aiosmtpd's SMTP applying `rules` (None: none) and telling `on_rule` of each rule
    that fires, in words."""

    def __init__(
        self,
        handler: Any,
        *,
        rules: Rules | None = None,
        on_rule: Callable[[str], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(handler, **kwargs)
        self._rules = rules
        self._on_rule = on_rule
        self._greeted = False
        self._authenticating = False
        self._replace: str | None = None  # a rule's 2xx/3xx reply for the command's own
        self._close_after_reply = False
        self._hung_up = False
        self._send_pace: Pace | None = None
        if rules is not None:
            for command, stage in _COMMAND_STAGES.items():
                if command in self._smtp_methods:
                    self._smtp_methods[command] = self._staged(stage, self._smtp_methods[command])
            if "AUTH" in self._smtp_methods:
                self._smtp_methods["AUTH"] = self._authentication(self._smtp_methods["AUTH"])

    # -- where the stages are met ---------------------------------------------------------

    async def push(self, status: AnyStr) -> None:
        if self._hung_up:
            return
        if not self._greeted:  # the first reply of a connection is its greeting
            self._greeted = True
            if await self._answer("connect"):
                return
        reply = status.decode() if isinstance(status, bytes) else status
        if self._authenticating and not reply.startswith("334"):  # AUTH's last reply
            self._authenticating = False
            if await self._answer("auth", authenticated=True):
                return
        if self._replace is not None:  # if the command succeeded: else its own reply
            reply = self._replace if reply[:1] in "23" else reply
            self._replace = None
        await self._send(reply)

    async def _call_handler_hook(self, command: str, *args: Any) -> Any:
        stage = _HOOK_STAGES.get(command)
        if self._rules is None or stage is None:
            return await super()._call_handler_hook(command, *args)
        if stage == "dot" and isinstance(self, LMTP):
            return await self._lmtp_dot()
        addresses = self._addresses(stage, args)
        rule = await self._fire(stage, addresses)
        if rule is None:
            return await super()._call_handler_hook(command, *args)
        address = addresses[0] if stage in ("mail", "rcpt", "vrfy") else self._sender()
        if not (self._refuses(rule) or (rule.close and rule.reply is None)):
            status = await super()._call_handler_hook(command, *args)
            if rule.reply is None:
                return status
        return self._reply_of(rule, address, command)

    def _staged(self, stage: Stage, method: Callable[[str], Any]) -> Callable[[str], Any]:
        async def command(arg: str) -> None:
            addresses = (self._sender(), *self.envelope.rcpt_tos) if self.envelope else ()
            rule = await self._fire(stage, tuple(a for a in addresses if a))
            if rule is not None and (self._refuses(rule) or (rule.close and not rule.reply)):
                await self._apply_instead(rule, self._sender())
                return
            if rule is not None and rule.reply is not None:
                self._replace = rule.reply.wire(self._sender())
                self._close_after_reply = rule.close
            await method(arg)

        return command

    def _authentication(self, method: Callable[[str], Any]) -> Callable[[str], Any]:
        async def command(arg: str) -> None:
            self._authenticating = True
            try:
                await method(arg)
            finally:
                self._authenticating = False

        return command

    # -- what a rule does -----------------------------------------------------------------

    async def _answer(self, stage: Stage, *, authenticated: bool = False) -> bool:
        """Fire a rule met at a reply (the greeting, AUTH's end); True if it answered or
        hung up instead of that reply; a refusal of AUTH undoes the login."""
        rule = await self._fire(stage, ())
        if rule is None:
            return False
        if authenticated and self._refuses(rule) and self.session is not None:
            self.session.authenticated = False
            self.session.auth_data = None
        if rule.reply is not None or rule.close:
            await self._apply_instead(rule, "")
            return True
        return False

    async def _apply_instead(self, rule: Rule, address: str) -> None:
        if rule.reply is not None:
            self._close_after_reply = rule.close
            await self._send(rule.reply.wire(address))
        else:
            self._close()

    async def _fire(self, stage: Stage, addresses: tuple[str, ...]) -> Rule | None:
        """The rule that fires here, if any, told of, its throttle and delay done."""
        if self._rules is None or stage not in self._rules.stages:
            return None
        rule = self._rules.fire(stage, self._facts(addresses))
        if rule is None:
            return None
        self.fired(stage, rule)
        if rule.throttle is not None:
            if rule.throttle.sends:
                self._send_pace = Pace(rule.throttle.bytes_per_second)
            if rule.throttle.reads:
                reader = self._reader
                inner = reader._inner if isinstance(reader, PacedReader) else reader
                self._reader = PacedReader(inner, Pace(rule.throttle.bytes_per_second))
        if rule.delay:
            await asyncio.sleep(rule.delay)
        return rule

    def fired(self, stage: Stage, rule: Rule) -> None:
        """Tell of ``rule`` firing at ``stage``."""
        if self._on_rule is not None:
            self._on_rule(f"{self._peer()} at {stage}: {rule.label}: {rule.effects}")

    async def _lmtp_dot(self) -> Any:
        """LMTP's replies to a message, one a recipient (RFC 2033 4.2): each recipient's
        rule, if one fires, else the handler's reply; delivered to those without one."""
        envelope = self.envelope
        assert envelope is not None
        ruled: dict[int, str] = {}
        for index, recipient in enumerate(envelope.rcpt_tos):
            rule = await self._fire("dot", (recipient,))
            if rule is not None and rule.reply is not None:
                ruled[index] = rule.reply.wire(recipient)
            if rule is not None:
                self._hang_up_if(rule)
        everyone = envelope.rcpt_tos
        envelope.rcpt_tos = [r for i, r in enumerate(everyone) if i not in ruled]
        theirs: Iterator[str] = iter(())
        if envelope.rcpt_tos:
            status = await super()._call_handler_hook("DATA")
            theirs = iter(str(status).split("\r\n"))
        envelope.rcpt_tos = everyone
        return "\r\n".join(ruled[i] if i in ruled else next(theirs) for i in range(len(everyone)))

    @staticmethod
    def _refuses(rule: Rule) -> bool:
        return rule.reply is not None and rule.reply.code >= 400

    def _reply_of(self, rule: Rule, address: str, command: str) -> str | list[str]:
        """A rule's reply as the hook returns it (EHLO's: its lines, sent at once); a
        rule that hangs up without a reply hangs up now, and nothing is sent."""
        self._hang_up_if(rule)
        wire = rule.reply.wire(address) if rule.reply is not None else ""
        return [wire] if command == "EHLO" else wire

    def _hang_up_if(self, rule: Rule) -> None:
        if rule.close:
            if rule.reply is None:
                self._close()
            else:
                self._close_after_reply = True

    async def _send(self, reply: str) -> None:
        if self._send_pace is None:
            await super().push(reply)
        else:
            data = reply.encode("utf-8" if self.enable_SMTPUTF8 else "ascii") + b"\r\n"
            step = self._send_pace.piece()
            for start in range(0, len(data), step):
                self._writer.write(data[start : start + step])
                await self._writer.drain()
                await self._send_pace.take(min(step, len(data) - start))
        if self._close_after_reply:
            self._close()

    def _close(self) -> None:
        self._hung_up = True
        if self.transport is not None:
            self.transport.close()

    # -- what is known of the session -----------------------------------------------------

    def _facts(self, addresses: tuple[str, ...]) -> Facts:
        session = self.session
        peer = session.peer if session is not None else None
        return Facts(
            protocol="lmtp" if isinstance(self, LMTP) else "smtp",
            client=str(peer[0]) if isinstance(peer, tuple) else None,
            ehlo=session.host_name if session is not None else None,
            user=str(session.auth_data) if session is not None and session.authenticated else None,
            addresses=addresses,
        )

    def _addresses(self, stage: Stage, args: tuple[Any, ...]) -> tuple[str, ...]:
        if stage in ("mail", "rcpt", "vrfy"):
            return (str(args[0]),)
        if stage == "dot" and self.envelope is not None:
            return tuple(a for a in (self._sender(), *self.envelope.rcpt_tos) if a)
        return ()

    def _sender(self) -> str:
        return (self.envelope.mail_from if self.envelope is not None else None) or ""

    def _peer(self) -> str:
        peer = self.session.peer if self.session is not None else None
        if isinstance(peer, tuple):
            host, port = peer[:2]
            return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        return "a local client"
