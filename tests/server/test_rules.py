"""The fault rules as data: files read and checked (each mistake named with its line), the
shipped rules, and chance and counts with a seed."""

from __future__ import annotations

from pathlib import Path

import pytest

from smtptui.server.rules import (
    DEFAULT_RULES,
    Facts,
    Reply,
    Rule,
    Rules,
    RulesError,
    default_rules,
    load_rules,
    parse_rules,
)

GOOD = """\
# a comment
[[rule]]
stage = "connect"
code = 421
close = true

[[rule]]
name = "slow"
stage = "rcpt"
delay = 1.5
chance = 0.5
times = 3
throttle = { bytes_per_second = 1000, direction = "read" }
[rule.match]
address = ["*@slow.example", "bob@*"]
client = "127.0.0.0/8"
"""

MISTAKES = [
    ('[[rule]]\nstage = "helo"\ncode = 550\n', 2, "stage must be one of connect, ehlo"),
    ('[[rule]]\nstage = "mail"\ncode = 650\n', 3, "code must be a reply code from 200 to 599"),
    ('[[rule]]\nstage = "mail"\ncode = true\n', 3, "code must be a reply code"),
    ('[[rule]]\nstage = "mail"\ncode = 550\nenhanced = "4.1.1"\n', 4, "of class 5"),
    ('[[rule]]\nstage = "mail"\ncode = 550\nenhanced = "5.1"\n', 4, "of class 5"),
    ('[[rule]]\nstage = "mail"\ncode = 550\ntext = "a\\r\\nRSET"\n', 4, "would end the line"),
    ('[[rule]]\nstage = "mail"\ncode = 550\ntext = ["a", "\\u0007"]\n', 4, "control character"),
    ('[[rule]]\nstage = "mail"\ncode = 550\ntext = []\n', 4, "a string or a list of strings"),
    ('[[rule]]\nstage = "mail"\ntext = "no code"\n', 3, "give its code too"),
    ('[[rule]]\nstage = "mail"\ncode = 550\ncolour = "red"\n', 4, "unknown key 'colour' in a rule"),
    ('[[rule]]\nstage = "mail"\n', 1, "a rule needs an effect"),
    ('[[rule]]\nstage = "mail"\ndelay = -1\n', 3, "delay must be a number from 0 to 3600"),
    ('[[rule]]\nstage = "mail"\nclose = "yes"\n', 3, "close must be true or false"),
    ('[[rule]]\nstage = "mail"\nclose = true\nchance = 1.5\n', 4, "chance must be a number"),
    ('[[rule]]\nstage = "mail"\nclose = true\ntimes = 0\n', 4, "times must be a whole number"),
    ('[[rule]]\nstage = "connect"\nclose = true\nmatch = { address = "a*" }\n', 4, "knows no"),
    ('[[rule]]\nstage = "ehlo"\nclose = true\n[rule.match]\nuser = "bob"\n', 5, "logged in"),
    ('[[rule]]\nstage = "connect"\nclose = true\nmatch = { ehlo = "x" }\n', 4, "no EHLO name"),
    ('[[rule]]\nstage = "mail"\nclose = true\nmatch = { client = "10.0.0.300" }\n', 4, "not an IP"),
    (
        '[[rule]]\nstage = "mail"\nclose = true\nmatch = { address_regex = "(" }\n',
        4,
        "address_regex",
    ),
    ('[[rule]]\nstage = "mail"\nclose = true\nmatch = { protocol = "x" }\n', 4, "smtp or lmtp"),
    (
        '[[rule]]\nstage = "mail"\nclose = true\nmatch = { sender = "x" }\n',
        4,
        "unknown key 'sender'",
    ),
    ('[[rule]]\nstage = "quit"\ncode = 221\ntext = "{address}"\n', 4, "no address to stand for"),
    ('[[rule]]\nstage = "mail"\nthrottle = { bytes_per_second = 0 }\n', 3, "bytes_per_second"),
    (
        '[[rule]]\nstage = "mail"\nthrottle = { bytes_per_second = 9, direction = "up" }\n',
        3,
        "send",
    ),
    ('[[rule]]\nstage = "mail"\nclose = true\n\n[[rule]]\nstage = "x"\n', 6, "stage must be"),
    ("rule = 1\n", 1, "rules are [[rule]] tables"),
    ('[[rules]]\nstage = "mail"\n', 1, "unknown key 'rules' in the file"),
    ('[[rule]]\nstage = "mail\ncode = 1\n', 2, "not valid TOML"),
]


@pytest.mark.parametrize(("text", "line", "problem"), MISTAKES)
def test_each_mistake_is_named_with_its_line(text: str, line: int, problem: str) -> None:
    with pytest.raises(RulesError) as caught:
        parse_rules(text, "faults.toml")
    message = str(caught.value)
    assert message.startswith(f"rules faults.toml, line {line}: "), message
    assert problem in message


def test_a_good_file_reads_as_written(tmp_path) -> None:
    path = tmp_path / "faults.toml"
    path.write_text(GOOD)
    hang_up, slow = load_rules(path)
    assert (hang_up.line, hang_up.stage, hang_up.close) == (2, "connect", True)
    assert hang_up.reply == Reply(421, None, ("",))
    assert (slow.line, slow.name, slow.delay, slow.chance, slow.times) == (7, "slow", 1.5, 0.5, 3)
    assert slow.throttle is not None and (slow.throttle.reads, slow.throttle.sends) == (True, False)
    assert slow.match.matches(Facts(client="127.0.0.9", addresses=("Bob@Example.org",)))
    assert not slow.match.matches(Facts(client="192.0.2.1", addresses=("bob@example.org",)))
    assert not slow.match.matches(Facts(client="127.0.0.9", addresses=("carol@example.org",)))
    assert slow.label == "rule 'slow' (line 7)"
    assert slow.effects == "after 1.5 s, throttled to 1000 bytes/s (read)"


def test_a_file_that_cannot_be_read_is_named(tmp_path) -> None:
    with pytest.raises(RulesError, match=r"rules .*nothing\.toml: cannot be read"):
        load_rules(tmp_path / "nothing.toml")


def test_replies_are_sent_as_one_or_many_lines_the_address_made_printable() -> None:
    assert Reply(550, "5.1.1", ("<{address}> no",)).wire("a\x1b@b") == "550 5.1.1 <a?@b> no"
    assert Reply(250, None, ("a", "b")).wire() == "250-a\r\n250 b"
    assert Reply(452, "4.2.2", ("x", "y")).wire() == "452-4.2.2 x\r\n452 4.2.2 y"


def test_the_shipped_rules_refuse_the_test_names() -> None:
    rules = Rules(default_rules())
    refused = {
        ("mail", "reject@example.org"): 553,
        ("mail", "Reject-me@example.org"): 553,
        ("mail", "rejected@example.org"): None,
        ("rcpt", "unknown.user@example.org"): 550,
        ("rcpt", "rejected@example.org"): 550,
        ("rcpt", "bob@unknown.example"): None,
        ("vrfy", "unknown@example.org"): 550,
        ("dot", "full@example.org"): None,  # SMTP: full… is LMTP's
    }
    for (stage, address), code in refused.items():
        fired = rules.fire(stage, Facts(addresses=(address,)))
        assert (fired.reply.code if fired and fired.reply else None) == code, (stage, address)
    lmtp = rules.fire("dot", Facts(protocol="lmtp", addresses=("full.box@example.org",)))
    assert lmtp is not None and lmtp.reply is not None
    assert (
        lmtp.reply.wire("full.box@example.org")
        == "452 4.2.2 <full.box@example.org> Mailbox is full"
    )
    assert DEFAULT_RULES.parent.name == "server"  # shipped inside the package


def fired_count(seed: int, sessions: int = 1000) -> int:
    rules = Rules([Rule(line=1, stage="connect", close=True, chance=0.1)], seed=seed)
    return sum(rules.fire("connect", Facts()) is not None for _ in range(sessions))


def test_chance_with_a_seed_fires_as_often_on_every_run() -> None:
    assert fired_count(18) == fired_count(18) == 93  # 1,000 sessions at 0.1, seed 18
    assert len({fired_count(seed) for seed in range(5)}) > 1  # the seed is what holds it


def test_times_counts_the_firings_then_the_next_rule_answers() -> None:
    first = Rule(line=1, stage="rcpt", reply=Reply(451, None, ("later",)), times=2)
    then = Rule(line=5, stage="rcpt", reply=Reply(550, None, ("no",)))
    rules = Rules([first, then])
    fired = [rules.fire("rcpt", Facts(addresses=("a@b",))) for _ in range(4)]
    assert fired == [first, first, then, then]
    assert rules.fire("mail", Facts(addresses=("a@b",))) is None


def test_the_readme_shows_the_shipped_rules_as_they_are() -> None:
    readme = Path(__file__).resolve().parents[2] / "README.md"
    shipped = DEFAULT_RULES.read_text(encoding="utf-8")
    assert f"```toml\n{shipped}```\n" in readme.read_text(encoding="utf-8")
