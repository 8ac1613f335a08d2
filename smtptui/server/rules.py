"""Fault rules for the embedded server: which reply, delay, hang-up or throttle a client
meets at which stage of its session, read from TOML and checked whole before the server
starts (every mistake named with its line). `Rules.fire` picks the rule for a moment of a
session; applying it to a connection is `embedded.py`'s."""

from __future__ import annotations

import fnmatch
import ipaddress
import random
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from smtptui.protocol.commands import check
from smtptui.protocol.errors import CommandError
from smtptui.toml_lines import Path as KeyPath
from smtptui.toml_lines import locate, syntax_error_line

Stage = Literal[
    "connect", "ehlo", "starttls", "auth", "mail", "rcpt", "vrfy", "data", "dot", "quit"
]
STAGES: tuple[Stage, ...] = (
    "connect",
    "ehlo",
    "starttls",
    "auth",
    "mail",
    "rcpt",
    "vrfy",
    "data",
    "dot",
    "quit",
)
"""Where a rule acts: the greeting; the reply to EHLO (HELO, LHLO), STARTTLS, AUTH (once the
credentials are in, so the user is known), MAIL, RCPT, VRFY, DATA (the 354), the message's
end (the final dot or BDAT LAST: under LMTP once for each recipient) and QUIT."""

ADDRESSED: frozenset[Stage] = frozenset({"mail", "rcpt", "vrfy", "data", "dot"})
"""The stages that know an address: MAIL's sender, RCPT's or VRFY's recipient, the whole
envelope at DATA and the dot (under LMTP the dot's one recipient)."""

_AFTER_AUTH: frozenset[Stage] = frozenset({"auth", "mail", "rcpt", "vrfy", "data", "dot", "quit"})
DEFAULT_RULES = Path(__file__).with_name("default-rules.toml")
"""The rules applied when none are given: the refusals of ``reject…``, ``unknown…`` and
(under LMTP) ``full…`` names."""

_ENHANCED = re.compile(r"([245])\.\d{1,3}\.\d{1,3}")
_RULE_KEYS = (
    "name",
    "stage",
    "match",
    "code",
    "enhanced",
    "text",
    "delay",
    "close",
    "throttle",
    "chance",
    "times",
)
_MATCH_KEYS = ("address", "address_regex", "user", "client", "ehlo", "protocol")
_THROTTLE_KEYS = ("bytes_per_second", "direction")


class RulesError(Exception):
    """A rules file that cannot be used, with the file and line of the mistake."""


@dataclass(frozen=True)
class Reply:
    """A reply a rule sends: its lines' text (more than one: a multi-line reply), each
    checked to hold no control character; ``{address}`` stands for the stage's address."""

    code: int
    enhanced: str | None
    lines: tuple[str, ...]

    def wire(self, address: str = "") -> str:
        """The reply as sent, lines joined by CRLF, without the final CRLF."""
        safe = "".join(c if c.isprintable() else "?" for c in address)
        last = len(self.lines) - 1
        return "\r\n".join(
            f"{self.code}{' ' if i == last else '-'}"
            + " ".join(filter(None, (self.enhanced, line.replace("{address}", safe))))
            for i, line in enumerate(self.lines)
        )


@dataclass(frozen=True)
class Throttle:
    """A connection's byte rate from the rule's stage on: what the server sends (replies),
    reads (commands and the message) or both."""

    bytes_per_second: int
    direction: Literal["send", "read", "both"]

    @property
    def sends(self) -> bool:
        return self.direction in ("send", "both")

    @property
    def reads(self) -> bool:
        return self.direction in ("read", "both")


@dataclass(frozen=True)
class Facts:
    """What a session has told the server by a stage, for a rule's match."""

    protocol: Literal["smtp", "lmtp"] = "smtp"
    client: str | None = None
    """The client's IP address; None over a UNIX socket or stdio."""
    ehlo: str | None = None
    user: str | None = None
    addresses: tuple[str, ...] = ()
    """The stage's addresses (`ADDRESSED`); a rule's address matches if any one does."""


@dataclass(frozen=True)
class Match:
    """Which sessions a rule is for; what is not given matches all (globs, any of a list,
    case-insensitive; ``client`` addresses or networks)."""

    addresses: tuple[str, ...] = ()
    address_regex: re.Pattern[str] | None = None
    users: tuple[str, ...] = ()
    clients: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    ehlo: tuple[str, ...] = ()
    protocol: str | None = None

    def matches(self, facts: Facts) -> bool:
        if self.protocol is not None and facts.protocol != self.protocol:
            return False
        if self.addresses and not any(_glob(a, self.addresses) for a in facts.addresses):
            return False
        if self.address_regex is not None and not any(
            self.address_regex.search(a) for a in facts.addresses
        ):
            return False
        if self.users and (facts.user is None or not _glob(facts.user, self.users)):
            return False
        if self.ehlo and (facts.ehlo is None or not _glob(facts.ehlo, self.ehlo)):
            return False
        return not self.clients or _in_networks(facts.client, self.clients)


@dataclass(frozen=True)
class Rule:
    """One rule: where (`stage`, `match`), what (`reply`, after `delay` seconds; `close`
    the connection, after the reply if there is one; `throttle` it) and how often
    (`chance` each time it matches, for the first `times` times it fires)."""

    line: int
    stage: Stage
    name: str = ""
    match: Match = Match()
    reply: Reply | None = None
    delay: float = 0.0
    close: bool = False
    throttle: Throttle | None = None
    chance: float = 1.0
    times: int | None = None

    @property
    def effects(self) -> str:
        """What it does, in words: ``after 2 s, 451 4.7.1, then hangs up``."""
        parts = [f"after {self.delay:g} s"] if self.delay else []
        if self.reply is not None:
            parts.append(" ".join(filter(None, (str(self.reply.code), self.reply.enhanced))))
        if self.close:
            parts.append("then hangs up" if self.reply else "hangs up")
        if self.throttle is not None:
            rate = self.throttle.bytes_per_second
            parts.append(f"throttled to {rate} bytes/s ({self.throttle.direction})")
        return ", ".join(parts)

    @property
    def label(self) -> str:
        """How the server names it when it fires."""
        return (
            f"rule {self.name!r} (line {self.line})" if self.name else f"rule at line {self.line}"
        )


class Rules:
    """The rules in force, in file order, and what has fired: `fire()` gives the first
    rule for a stage that matches, has times left and wins its chance. `seed` makes the
    chances the same on every run (for the same sessions in the same order)."""

    def __init__(self, rules: Sequence[Rule], *, seed: int | None = None) -> None:
        self.rules = tuple(rules)
        self.stages = frozenset(rule.stage for rule in self.rules)
        """The stages some rule is for: at the others there is nothing to look up."""
        self._random = random.Random(seed)
        self._fired = [0] * len(self.rules)

    def fire(self, stage: Stage, facts: Facts) -> Rule | None:
        for index, rule in enumerate(self.rules):
            if rule.stage != stage or not rule.match.matches(facts):
                continue
            if rule.times is not None and self._fired[index] >= rule.times:
                continue
            if rule.chance < 1.0 and self._random.random() >= rule.chance:
                continue
            self._fired[index] += 1
            return rule
        return None


def load_rules(path: str | Path) -> tuple[Rule, ...]:
    """The rules in ``path``; raises :class:`RulesError` naming the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RulesError(f"rules {path}: cannot be read: {error}") from None
    return parse_rules(text, str(path))


def parse_rules(text: str, where: str) -> tuple[Rule, ...]:
    """The rules in the TOML ``text`` (from ``where``, for the messages)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line, message = syntax_error_line(text, error)
        place = f"rules {where}" if line is None else f"rules {where}, line {line}"
        raise RulesError(f"{place}: not valid TOML: {message}") from None
    reader = _Reader(text, where)
    reader.known(data, "rule", (), "the file")
    tables = data.get("rule", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise reader.error(("rule",), "rules are [[rule]] tables")
    return tuple(reader.rule(table, index) for index, table in enumerate(tables))


def default_rules() -> tuple[Rule, ...]:
    """The shipped rules (`DEFAULT_RULES`)."""
    return load_rules(DEFAULT_RULES)


class _Reader:
    """Turns tomllib's tables into rules, naming each mistake's line."""

    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where

    def error(self, keys: KeyPath, problem: str) -> RulesError:
        line = locate(self.text, keys)
        place = f"rules {self.where}" if line is None else f"rules {self.where}, line {line}"
        return RulesError(f"{place}: {problem}")

    def known(
        self, table: Mapping[str, object], keys: Sequence[str], at: KeyPath, what: str
    ) -> None:
        for key in table:
            if key not in keys:
                raise self.error(
                    (*at, key), f"unknown key {key!r} in {what}; known: {', '.join(keys)}"
                )

    def rule(self, table: Mapping[str, object], index: int) -> Rule:
        at: KeyPath = ("rule", index)
        self.known(table, _RULE_KEYS, at, "a rule")
        stage = table.get("stage")
        if stage not in STAGES:
            raise self.error((*at, "stage"), f"stage must be one of {', '.join(STAGES)}")
        name = self.string(table, "name", at) or ""
        rule = Rule(
            line=locate(self.text, at) or 0,
            stage=stage,
            name=name,
            match=self.match(table.get("match", {}), (*at, "match"), stage),
            reply=self.reply(table, at, stage),
            delay=self.number(table, "delay", at, 0.0, 3600.0),
            close=self.flag(table, "close", at),
            throttle=self.throttle(table.get("throttle"), (*at, "throttle")),
            chance=self.number(table, "chance", at, 1.0, 1.0, low=0.0),
            times=self.count(table, "times", at),
        )
        if not (rule.reply or rule.delay or rule.close or rule.throttle):
            raise self.error(at, "a rule needs an effect: code (a reply), delay, close or throttle")
        return rule

    def string(self, table: Mapping[str, object], key: str, at: KeyPath) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error((*at, key), f"{key} must be a string")
        try:
            return check(key, value)
        except CommandError as error:
            raise self.error((*at, key), str(error)) from None

    def strings(self, table: Mapping[str, object], key: str, at: KeyPath) -> tuple[str, ...]:
        value = table.get(key)
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(item, str) for item in items):
            raise self.error((*at, key), f"{key} must be a string or a list of strings")
        return tuple(self.string({key: item}, key, at) or "" for item in items)

    def number(
        self,
        table: Mapping[str, object],
        key: str,
        at: KeyPath,
        default: float,
        high: float,
        *,
        low: float = 0.0,
    ) -> float:
        value = table.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise self.error((*at, key), f"{key} must be a number from {low:g} to {high:g}")
        return float(value)

    def count(self, table: Mapping[str, object], key: str, at: KeyPath) -> int | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.error((*at, key), f"{key} must be a whole number, 1 or more")
        return value

    def flag(self, table: Mapping[str, object], key: str, at: KeyPath) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            raise self.error((*at, key), f"{key} must be true or false")
        return value

    def reply(self, table: Mapping[str, object], at: KeyPath, stage: Stage) -> Reply | None:
        code = table.get("code")
        if code is None:
            for key in ("enhanced", "text"):
                if key in table:
                    raise self.error((*at, key), f"{key} belongs to a reply: give its code too")
            return None
        if isinstance(code, bool) or not isinstance(code, int) or not 200 <= code <= 599:
            raise self.error((*at, "code"), "code must be a reply code from 200 to 599")
        enhanced = self.string(table, "enhanced", at)
        if enhanced is not None:
            found = _ENHANCED.fullmatch(enhanced)
            if found is None or found[1] != str(code)[0]:
                raise self.error(
                    (*at, "enhanced"),
                    f"enhanced must be an enhanced status code of class {str(code)[0]} "
                    f"(like {str(code)[0]}.1.1)",
                )
        lines = self.strings(table, "text", at) or ("",)
        if any("{address}" in line for line in lines) and stage not in ADDRESSED:
            raise self.error((*at, "text"), f"{{address}} has no address to stand for at {stage}")
        return Reply(code, enhanced, lines)

    def match(self, table: object, at: KeyPath, stage: Stage) -> Match:
        if not isinstance(table, dict):
            raise self.error(at, "match must be a table")
        self.known(table, _MATCH_KEYS, at, "match")
        if stage not in ADDRESSED:
            for key in ("address", "address_regex"):
                if key in table:
                    raise self.error((*at, key), f"{stage} knows no address to match")
        if "user" in table and stage not in _AFTER_AUTH:
            raise self.error((*at, "user"), f"no one has logged in by {stage}")
        if "ehlo" in table and stage == "connect":
            raise self.error((*at, "ehlo"), "no EHLO name is known at connect")
        protocol = self.string(table, "protocol", at)
        if protocol not in (None, "smtp", "lmtp"):
            raise self.error((*at, "protocol"), "protocol must be smtp or lmtp")
        return Match(
            addresses=self.strings(table, "address", at),
            address_regex=self.regex(table, at),
            users=self.strings(table, "user", at),
            clients=self.networks(table, at),
            ehlo=self.strings(table, "ehlo", at),
            protocol=protocol,
        )

    def regex(self, table: Mapping[str, object], at: KeyPath) -> re.Pattern[str] | None:
        pattern = self.string(table, "address_regex", at)
        if pattern is None:
            return None
        try:
            return re.compile(pattern, re.IGNORECASE)
        except re.error as error:
            raise self.error((*at, "address_regex"), f"address_regex: {error}") from None

    def networks(
        self, table: Mapping[str, object], at: KeyPath
    ) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        networks = []
        for text in self.strings(table, "client", at):
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                raise self.error(
                    (*at, "client"), f"client {text!r} is not an IP address or network"
                ) from None
        return tuple(networks)

    def throttle(self, table: object, at: KeyPath) -> Throttle | None:
        if table is None:
            return None
        if not isinstance(table, dict):
            raise self.error(
                at, "throttle must be a table: { bytes_per_second = …, direction = … }"
            )
        self.known(table, _THROTTLE_KEYS, at, "throttle")
        rate = table.get("bytes_per_second")
        if isinstance(rate, bool) or not isinstance(rate, int) or rate < 1:
            raise self.error(
                (*at, "bytes_per_second"), "bytes_per_second must be a whole number, 1 or more"
            )
        direction = table.get("direction", "both")
        if direction not in ("send", "read", "both"):
            raise self.error((*at, "direction"), "direction must be send, read or both")
        return Throttle(rate, direction)


def _glob(text: str, patterns: Sequence[str]) -> bool:
    lowered = text.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in patterns)


def _in_networks(
    client: str | None, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    if client is None:
        return False
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in network for network in networks)
