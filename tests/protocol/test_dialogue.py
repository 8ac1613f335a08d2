"""The Dialogue, with bytes alone: the phase table, what each reply answers (pipelined or
not, however the bytes are split), out-of-order commands, STARTTLS injection, capabilities,
SASL lines, and every captured real exchange replayed through it."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtptui.protocol.dialogue import END_OF_DATA, GREETING, Answer, Command, Dialogue, Phase
from smtptui.protocol.errors import ProtocolError

from support.fixtures import wire_files, wire_index
from support.fuzz import examples

EHLO_REPLY = (
    b"250-mx.example\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-SIZE 1000\r\n250 AUTH PLAIN LOGIN\r\n"
)
NO_PIPELINING = b"250-mx.example\r\n250 SIZE 1000\r\n"


def answers(dialogue: Dialogue, data: bytes) -> list[Answer]:
    """Feed ``data``; every answer that comes out."""
    dialogue.receive_data(data)
    out = []
    while (answer := dialogue.next_event()) is not None:
        out.append(answer)
    return out


def exchange(dialogue: Dialogue, line: bytes, reply: bytes) -> Answer:
    """Send ``line``, feed ``reply``: its one answer, which must answer that line."""
    command = dialogue.send(line)
    assert command is not None
    [answer] = answers(dialogue, reply)
    assert answer.command is command
    return answer


# -- dialogues set up in each phase ---------------------------------------------------------


def at_greeting() -> Dialogue:
    return Dialogue()


def greeted() -> Dialogue:
    dialogue = Dialogue()
    assert answers(dialogue, b"220 mx.example ESMTP\r\n")[0].phase is Phase.EHLO
    return dialogue


def ready(ehlo_reply: bytes = EHLO_REPLY) -> Dialogue:
    dialogue = greeted()
    assert exchange(dialogue, b"EHLO client.example\r\n", ehlo_reply).phase is Phase.READY
    return dialogue


def in_mail() -> Dialogue:
    dialogue = ready()
    assert exchange(dialogue, b"MAIL FROM:<a@example.org>\r\n", b"250 ok\r\n").phase is Phase.MAIL
    return dialogue


def in_rcpt() -> Dialogue:
    dialogue = in_mail()
    assert exchange(dialogue, b"RCPT TO:<b@example.org>\r\n", b"250 ok\r\n").phase is Phase.RCPT
    return dialogue


def in_data() -> Dialogue:
    dialogue = in_rcpt()
    assert exchange(dialogue, b"DATA\r\n", b"354 go ahead\r\n").phase is Phase.DATA
    assert dialogue.send(b"Subject: x\r\n") is None  # message data: no reply due
    assert dialogue.send(b"..a stuffed line\r\n") is None
    return dialogue


def in_bdat() -> Dialogue:
    dialogue = in_rcpt()
    assert exchange(dialogue, b"BDAT 10\r\n", b"250 10 bytes\r\n").phase is Phase.BDAT
    return dialogue


def in_auth() -> Dialogue:
    dialogue = ready()
    assert exchange(dialogue, b"AUTH LOGIN\r\n", b"334 VXNlcm5hbWU6\r\n").phase is Phase.AUTH
    return dialogue


def in_tls() -> Dialogue:
    dialogue = ready()
    assert exchange(dialogue, b"STARTTLS\r\n", b"220 go ahead\r\n").phase is Phase.TLS
    return dialogue


def tls_on() -> Dialogue:
    dialogue = in_tls()
    dialogue.tls_started()
    exchange(dialogue, b"EHLO client.example\r\n", EHLO_REPLY)
    return dialogue


def authenticated() -> Dialogue:
    dialogue = ready()
    exchange(dialogue, b"AUTH PLAIN AGFAAHA=\r\n", b"235 ok\r\n")
    assert dialogue.authenticated
    return dialogue


def quitting() -> Dialogue:
    dialogue = ready()
    dialogue.send(b"QUIT\r\n")
    return dialogue


SETUPS: dict[str, Callable[[], Dialogue]] = {
    "greeting": at_greeting,
    "ehlo": greeted,
    "ready": ready,
    "mail": in_mail,
    "rcpt": in_rcpt,
    "data": in_data,
    "bdat": in_bdat,
    "auth": in_auth,
    "tls": in_tls,
    "tls-on": tls_on,
    "authenticated": authenticated,
    "quit": quitting,
}


def test_each_setup_is_in_its_phase() -> None:
    phases = {name: setup().phase for name, setup in SETUPS.items()}
    assert phases == {
        "greeting": Phase.GREETING,
        "ehlo": Phase.EHLO,
        "ready": Phase.READY,
        "mail": Phase.MAIL,
        "rcpt": Phase.RCPT,
        "data": Phase.DATA,
        "bdat": Phase.BDAT,
        "auth": Phase.AUTH,
        "tls": Phase.TLS,
        "tls-on": Phase.READY,
        "authenticated": Phase.READY,
        "quit": Phase.READY,  # QUIT's reply has not come yet
    }


# -- the phase table ------------------------------------------------------------------------

R250 = b"250 ok\r\n"

PHASES: list[tuple[str, bytes | None, bytes, Phase]] = [
    # the greeting, whatever it says (None: nothing is sent, the server speaks first)
    ("greeting", None, b"220 mx.example ESMTP\r\n", Phase.EHLO),
    ("greeting", None, b"554 go away\r\n", Phase.EHLO),
    # EHLO and HELO
    ("ehlo", b"EHLO c.example\r\n", EHLO_REPLY, Phase.READY),
    ("ehlo", b"EHLO c.example\r\n", b"502 no EHLO here\r\n", Phase.EHLO),
    ("ehlo", b"HELO c.example\r\n", b"250 hello\r\n", Phase.READY),
    ("ehlo", b"HELO c.example\r\n", b"501 who are you\r\n", Phase.EHLO),
    ("ready", b"EHLO c.example\r\n", EHLO_REPLY, Phase.READY),
    ("mail", b"EHLO c.example\r\n", EHLO_REPLY, Phase.READY),  # resets the transaction
    ("rcpt", b"HELO c.example\r\n", b"250 hello\r\n", Phase.READY),
    ("rcpt", b"EHLO c.example\r\n", b"550 no\r\n", Phase.RCPT),  # refused: nothing reset
    # STARTTLS
    ("ready", b"STARTTLS\r\n", b"220 go ahead\r\n", Phase.TLS),
    ("ready", b"STARTTLS\r\n", b"454 TLS not available\r\n", Phase.READY),
    # AUTH
    ("ready", b"AUTH LOGIN\r\n", b"334 VXNlcm5hbWU6\r\n", Phase.AUTH),
    ("auth", b"YWxpY2U=\r\n", b"334 UGFzc3dvcmQ6\r\n", Phase.AUTH),
    ("auth", b"YWxpY2U=\r\n", b"235 2.7.0 ok\r\n", Phase.READY),
    ("auth", b"YWxpY2U=\r\n", b"535 5.7.8 bad credentials\r\n", Phase.READY),
    ("auth", b"*\r\n", b"501 5.7.0 cancelled\r\n", Phase.READY),
    ("ready", b"AUTH PLAIN AGFAAHA=\r\n", b"235 2.7.0 ok\r\n", Phase.READY),
    ("ready", b"AUTH PLAIN AGFAAHA=\r\n", b"535 5.7.8 no\r\n", Phase.READY),
    ("ready", b"AUTH NOPE\r\n", b"504 5.5.4 unknown mechanism\r\n", Phase.READY),
    # MAIL and RCPT
    ("ready", b"MAIL FROM:<a@example.org>\r\n", R250, Phase.MAIL),
    ("ready", b"MAIL FROM:<a@example.org> SIZE=10\r\n", b"550 no\r\n", Phase.READY),
    ("mail", b"RCPT TO:<b@example.org>\r\n", R250, Phase.RCPT),
    ("mail", b"RCPT TO:<b@example.org>\r\n", b"251 will forward\r\n", Phase.RCPT),
    ("mail", b"RCPT TO:<b@example.org>\r\n", b"550 no such user\r\n", Phase.MAIL),
    ("rcpt", b"RCPT TO:<c@example.org>\r\n", R250, Phase.RCPT),
    ("rcpt", b"RCPT TO:<c@example.org>\r\n", b"550 no such user\r\n", Phase.RCPT),
    # DATA and the end of the message
    ("rcpt", b"DATA\r\n", b"354 go ahead\r\n", Phase.DATA),
    ("rcpt", b"DATA\r\n", b"554 no valid recipients\r\n", Phase.RCPT),
    ("data", b".\r\n", R250, Phase.READY),
    ("data", b".\r\n", b"552 too big\r\n", Phase.READY),
    # BDAT
    ("rcpt", b"BDAT 10\r\n", R250, Phase.BDAT),
    ("rcpt", b"BDAT 10\r\n", b"552 too big\r\n", Phase.RCPT),
    ("rcpt", b"BDAT 10 LAST\r\n", R250, Phase.READY),
    ("bdat", b"BDAT 5\r\n", R250, Phase.BDAT),
    ("bdat", b"BDAT 5 LAST\r\n", R250, Phase.READY),
    ("bdat", b"BDAT 5 last\r\n", b"554 rejected\r\n", Phase.READY),
    # RSET in and out of a transaction
    ("mail", b"RSET\r\n", R250, Phase.READY),
    ("rcpt", b"RSET\r\n", R250, Phase.READY),
    ("bdat", b"RSET\r\n", R250, Phase.READY),
    ("ready", b"RSET\r\n", R250, Phase.READY),
    ("ehlo", b"RSET\r\n", R250, Phase.EHLO),
    # QUIT
    ("ready", b"QUIT\r\n", b"221 bye\r\n", Phase.QUIT),
    ("rcpt", b"QUIT\r\n", b"221 bye\r\n", Phase.QUIT),
    ("ehlo", b"QUIT\r\n", b"221 bye\r\n", Phase.QUIT),
    # NOOP changes nothing (nor do VRFY, HELP or an unknown command)
    ("ehlo", b"NOOP\r\n", R250, Phase.EHLO),
    ("ready", b"NOOP\r\n", R250, Phase.READY),
    ("mail", b"NOOP\r\n", R250, Phase.MAIL),
    ("rcpt", b"NOOP\r\n", R250, Phase.RCPT),
    ("bdat", b"NOOP\r\n", R250, Phase.BDAT),
    ("rcpt", b"VRFY postmaster\r\n", b"252 maybe\r\n", Phase.RCPT),
    ("ready", b"HELP\r\n", b"214 help\r\n", Phase.READY),
    ("ready", b"XYZZY frobnicate\r\n", b"500 what\r\n", Phase.READY),
]


@pytest.mark.parametrize(
    ("setup", "line", "reply", "phase"),
    PHASES,
    ids=[
        f"{setup}-{(line or b'').split(b' ')[0].strip().decode()}-{reply[:3].decode()}"
        for setup, line, reply, _ in PHASES
    ],
)
def test_phase_table(setup: str, line: bytes | None, reply: bytes, phase: Phase) -> None:
    dialogue = SETUPS[setup]()
    command = dialogue.send(line) if line is not None else None
    if line is not None:
        assert command is not None and command.out_of_order == ""
    [answer] = answers(dialogue, reply)
    assert answer.phase is phase
    assert dialogue.phase is phase
    assert answer.command is (command if line is not None else answer.command)
    assert dialogue.awaiting == 0


def test_the_greeting_answers_the_connection() -> None:
    [answer] = answers(Dialogue(), b"220 mx.example\r\n")
    assert answer.command is not None
    assert answer.command.verb == "" and answer.command.name == "greeting"


def test_authenticated_only_after_235() -> None:
    dialogue = in_auth()
    assert not dialogue.authenticated
    exchange(dialogue, b"YWxpY2U=\r\n", b"334 UGFzc3dvcmQ6\r\n")
    assert not dialogue.authenticated
    exchange(dialogue, b"c2VjcmV0\r\n", b"235 2.7.0 ok\r\n")
    assert dialogue.authenticated and dialogue.phase is Phase.READY


def test_a_failed_sasl_exchange_returns_to_ready_unauthenticated() -> None:
    dialogue = in_auth()
    exchange(dialogue, b"YWxpY2U=\r\n", b"535 5.7.8 no\r\n")
    assert dialogue.phase is Phase.READY and not dialogue.authenticated
    assert not dialogue.sasl_due
    # the next line is a command again, not a SASL response
    command = dialogue.send(b"MAIL FROM:<a@example.org>\r\n")
    assert command is not None and command.verb == "MAIL" and not command.sasl


def test_a_message_line_that_looks_like_a_command_is_message_data() -> None:
    dialogue = in_data()
    assert dialogue.send(b"QUIT\r\n") is None
    assert dialogue.send(b"..\r\n") is None  # a stuffed dot is not the end
    end = dialogue.send(b".\r\n")
    assert end is not None and end.verb == END_OF_DATA and end.name == "message data"


def test_send_message_is_the_end_of_data() -> None:
    dialogue = in_rcpt()
    exchange(dialogue, b"DATA\r\n", b"354 go\r\n")
    command = dialogue.send_message()
    [answer] = answers(dialogue, R250)
    assert answer.command is command and command.verb == END_OF_DATA
    assert answer.phase is Phase.READY


# -- what each reply answers ----------------------------------------------------------------

GROUP = [
    b"MAIL FROM:<a@example.org>\r\n",
    b"RCPT TO:<b@example.org>\r\n",
    b"RCPT TO:<c@example.org>\r\n",
    b"DATA\r\n",
]
GROUP_REPLIES = (
    b"250 2.1.0 ok\r\n"
    b"250-2.1.5 ok\r\n250 2.1.5 really\r\n"
    b"550 5.1.1 no such user\r\n"
    b"354 go ahead\r\n"
)


def send_group(dialogue: Dialogue, lines: list[bytes]) -> list[Command | None]:
    group = dialogue.begin_group()
    sent = [dialogue.send(line, group=group) for line in lines]
    dialogue.end_group()
    return sent


def check_group(splits: list[bytes]) -> None:
    dialogue = ready()
    sent = send_group(dialogue, GROUP)
    assert all(command is not None for command in sent)
    assert len({command.group for command in sent if command}) == 1
    assert sent[0] is not None and sent[0].group != 0
    assert [command.out_of_order for command in sent if command] == [""] * 4
    assert dialogue.awaiting == 4
    got: list[Answer] = []
    for piece in splits:
        got += answers(dialogue, piece)
    assert b"".join(splits) == GROUP_REPLIES
    assert [answer.command for answer in got] == sent
    assert [answer.reply.code for answer in got] == [250, 250, 550, 354]
    assert [answer.phase for answer in got] == [Phase.MAIL, Phase.RCPT, Phase.RCPT, Phase.DATA]
    assert dialogue.awaiting == 0 and dialogue.phase is Phase.DATA


def test_a_pipelined_group_in_one_chunk() -> None:
    check_group([GROUP_REPLIES])


def test_a_pipelined_group_one_byte_at_a_time() -> None:
    check_group([GROUP_REPLIES[i : i + 1] for i in range(len(GROUP_REPLIES))])


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.integers(0, len(GROUP_REPLIES)), max_size=12))
def test_a_pipelined_group_in_any_split(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(GROUP_REPLIES)]
    check_group([GROUP_REPLIES[a:b] for a, b in pairwise(bounds)])


def test_replies_to_a_group_answer_its_commands_when_mail_is_refused() -> None:
    dialogue = ready()
    sent = send_group(dialogue, GROUP)
    got = answers(dialogue, b"550 no\r\n554 no\r\n554 no\r\n554 no valid recipients\r\n")
    assert [answer.command for answer in got] == sent
    assert [answer.phase for answer in got] == [Phase.READY] * 4


def test_a_pipelined_rcpt_after_a_pipelined_mail_is_in_order() -> None:
    dialogue = ready()
    mail, rcpt = send_group(dialogue, GROUP[:2])
    assert mail is not None and rcpt is not None
    assert mail.out_of_order == rcpt.out_of_order == ""


def test_an_unsolicited_reply_answers_nothing_and_moves_no_phase() -> None:
    dialogue = in_mail()
    [answer] = answers(dialogue, b"421 4.3.2 shutting down\r\n")
    assert answer.command is None
    assert answer.phase is Phase.MAIL and dialogue.phase is Phase.MAIL


def test_a_reply_beyond_those_due_is_unsolicited() -> None:
    dialogue = ready()
    noop = dialogue.send(b"NOOP\r\n")
    first, extra = answers(dialogue, b"250 ok\r\n250 and again\r\n")
    assert first.command is noop
    assert extra.command is None and extra.phase is Phase.READY


# -- out of order ---------------------------------------------------------------------------

OUT_OF_ORDER = [
    ("ready", b"RCPT TO:<b@example.org>\r\n", "before MAIL FROM"),
    ("ehlo", b"RCPT TO:<b@example.org>\r\n", "before EHLO or HELO"),
    ("mail", b"DATA\r\n", "before any RCPT TO"),
    ("ready", b"DATA\r\n", "before MAIL FROM"),
    ("mail", b"BDAT 3 LAST\r\n", "before any RCPT TO"),
    ("mail", b"MAIL FROM:<a@example.org>\r\n", "transaction is open"),
    ("rcpt", b"MAIL FROM:<a@example.org>\r\n", "transaction is open"),
    ("ehlo", b"MAIL FROM:<a@example.org>\r\n", "before EHLO or HELO"),
    ("authenticated", b"AUTH PLAIN AGFAAHA=\r\n", "already authenticated"),
    ("mail", b"AUTH LOGIN\r\n", "inside a mail transaction"),
    ("rcpt", b"STARTTLS\r\n", "inside a mail transaction"),
    ("tls-on", b"STARTTLS\r\n", "TLS is already on"),
    ("greeting", b"EHLO c.example\r\n", "before the server's greeting"),
    ("greeting", b"NOOP\r\n", "before the server's greeting"),
    ("quit", b"NOOP\r\n", "after QUIT"),
    ("quit", b"EHLO c.example\r\n", "after QUIT"),
    ("tls", b"EHLO c.example\r\n", "after STARTTLS was accepted"),
    ("tls", b"NOOP\r\n", "after STARTTLS was accepted"),
    ("bdat", b"DATA\r\n", "a BDAT message is open"),
    ("bdat", b"MAIL FROM:<a@example.org>\r\n", "a BDAT message is open"),
]


@pytest.mark.parametrize(("setup", "line", "why"), OUT_OF_ORDER)
def test_out_of_order(setup: str, line: bytes, why: str) -> None:
    dialogue = SETUPS[setup]()
    command = dialogue.send(line)
    assert command is not None
    assert why in command.out_of_order


def test_the_servers_close_after_quits_reply_leaves_the_phase_till_closed() -> None:
    """A 221 and the server's EOF read together: the engine names the close by the phase
    (closed after QUIT), so EOF must not wipe it; :meth:`Dialogue.closed` does."""
    dialogue = ready()
    exchange(dialogue, b"QUIT\r\n", b"221 bye\r\n")
    dialogue.eof()
    assert dialogue.phase is Phase.QUIT
    dialogue.closed()
    assert dialogue.phase is Phase.CLOSED


def test_anything_after_quits_reply_is_after_quit() -> None:
    dialogue = ready()
    exchange(dialogue, b"QUIT\r\n", b"221 bye\r\n")
    command = dialogue.send(b"NOOP\r\n")
    assert command is not None and "after QUIT" in command.out_of_order


@pytest.mark.parametrize(
    ("setup", "line"),
    [
        ("ehlo", b"EHLO c.example\r\n"),
        ("ehlo", b"HELO c.example\r\n"),
        ("ehlo", b"NOOP\r\n"),
        ("ready", b"MAIL FROM:<a@example.org>\r\n"),
        ("ready", b"STARTTLS\r\n"),
        ("ready", b"AUTH LOGIN\r\n"),
        ("mail", b"RCPT TO:<b@example.org>\r\n"),
        ("rcpt", b"RCPT TO:<c@example.org>\r\n"),
        ("rcpt", b"DATA\r\n"),
        ("rcpt", b"BDAT 3\r\n"),
        ("bdat", b"BDAT 3 LAST\r\n"),
        ("bdat", b"RSET\r\n"),
        ("mail", b"RSET\r\n"),
        ("rcpt", b"EHLO c.example\r\n"),
        ("ready", b"QUIT\r\n"),
        ("tls-on", b"AUTH PLAIN AGFAAHA=\r\n"),
    ],
)
def test_in_order(setup: str, line: bytes) -> None:
    command = SETUPS[setup]().send(line)
    assert command is not None and command.out_of_order == ""


def test_pipelined_without_pipelining_advertised() -> None:
    dialogue = ready(NO_PIPELINING)
    sent = send_group(dialogue, GROUP)
    for command in sent:
        assert command is not None
        assert command.out_of_order == "pipelined, but the server did not advertise PIPELINING"


def test_a_line_after_data_in_a_group_is_a_command_even_without_pipelining() -> None:
    """``pipeline()`` waits for one reply per line written: each must be a command."""
    dialogue = ready(NO_PIPELINING)
    *_, noop = send_group(dialogue, [*GROUP, b"NOOP\r\n"])
    assert noop is not None and noop.verb == "NOOP"
    assert dialogue.awaiting == len(GROUP) + 1


def test_pipelined_after_helo_is_without_pipelining() -> None:
    dialogue = greeted()
    exchange(dialogue, b"HELO c.example\r\n", b"250 hello\r\n")
    [mail] = send_group(dialogue, GROUP[:1])
    assert mail is not None and "did not advertise PIPELINING" in mail.out_of_order


def test_a_command_after_ehlo_in_the_same_group() -> None:
    dialogue = ready()
    ehlo, mail = send_group(dialogue, [b"EHLO c.example\r\n", GROUP[0]])
    assert ehlo is not None and ehlo.out_of_order == ""
    assert mail is not None
    assert mail.out_of_order == "in the same write as EHLO, which must end a pipelined group"


def test_a_command_after_data_in_the_same_group() -> None:
    dialogue = ready()
    *envelope, noop = send_group(dialogue, [*GROUP, b"NOOP\r\n"])
    assert [command.out_of_order for command in envelope if command] == [""] * 4
    assert noop is not None
    assert noop.out_of_order == "in the same write as DATA, which must end a pipelined group"


def test_an_out_of_order_data_still_ends_its_group() -> None:
    dialogue = ready()
    data, noop = send_group(dialogue, [b"DATA\r\n", b"NOOP\r\n"])
    assert data is not None and "before MAIL FROM" in data.out_of_order
    assert noop is not None and "in the same write as DATA" in noop.out_of_order


def test_a_new_group_is_judged_afresh() -> None:
    dialogue = ready()
    send_group(dialogue, [b"NOOP\r\n"])
    answers(dialogue, R250)
    [mail] = send_group(dialogue, GROUP[:1])
    assert mail is not None and mail.out_of_order == ""


# -- STARTTLS and what comes after its 220 (CVE-2011-0411) -----------------------------------


def test_plaintext_after_starttls_220_is_held_not_parsed() -> None:
    dialogue = ready()
    starttls = dialogue.send(b"STARTTLS\r\n")
    injected_noop = dialogue.send(b"NOOP\r\n")  # what an attacker's injected command would be
    assert injected_noop is not None
    dialogue.receive_data(b"220 go\r\n250 injected\r\n")
    answer = dialogue.next_event()
    assert answer is not None
    assert answer.command is starttls and answer.phase is Phase.TLS
    assert dialogue.next_event() is None
    assert dialogue.awaiting == 0
    dialogue.receive_data(b"250 more\r\n")
    assert dialogue.next_event() is None
    assert dialogue.discard_plaintext() == b"250 injected\r\n250 more\r\n"
    assert dialogue.discard_plaintext() == b""


def test_tls_started_begins_again_at_ehlo() -> None:
    dialogue = ready()
    assert dialogue.capabilities is not None and dialogue.esmtp
    exchange(dialogue, b"STARTTLS\r\n", b"220 go\r\n")
    dialogue.receive_data(b"250 held\r\n")
    assert dialogue.tls_started() == b"250 held\r\n"
    assert dialogue.phase is Phase.EHLO and dialogue.tls
    assert dialogue.capabilities is None and dialogue.features == {} and not dialogue.esmtp
    assert answers(dialogue, b"") == []
    exchange(dialogue, b"EHLO c.example\r\n", EHLO_REPLY)
    assert dialogue.phase is Phase.READY and "pipelining" in dialogue.features


def test_starttls_refused_holds_nothing() -> None:
    dialogue = ready()
    dialogue.send(b"STARTTLS\r\n")
    dialogue.send(b"NOOP\r\n")
    got = answers(dialogue, b"454 not now\r\n250 ok\r\n")
    assert [answer.reply.code for answer in got] == [454, 250]
    assert dialogue.discard_plaintext() == b""


# -- capabilities ---------------------------------------------------------------------------


def test_ehlo_sets_capabilities() -> None:
    dialogue = ready()
    assert dialogue.esmtp
    assert dialogue.capabilities is not None
    assert dialogue.capabilities.has("PIPELINING") and dialogue.capabilities.has("CHUNKING")
    assert dialogue.features["size"] == "1000"
    assert dialogue.features["auth"].split() == ["PLAIN", "LOGIN"]  # smtplib's leading space
    assert "pipelining" in dialogue.features and "chunking" in dialogue.features


def test_a_refused_second_ehlo_forgets_capabilities_but_keeps_esmtp() -> None:
    dialogue = ready()
    exchange(dialogue, b"EHLO c.example\r\n", b"421 busy\r\n")
    assert dialogue.capabilities is None and dialogue.features == {}
    assert dialogue.esmtp  # as smtplib: does_esmtp stays as the last accepted EHLO set it


def test_helo_accepted_is_not_esmtp() -> None:
    dialogue = ready()
    exchange(dialogue, b"HELO c.example\r\n", b"250 hello\r\n")
    assert not dialogue.esmtp
    assert dialogue.capabilities is None and dialogue.features == {}


def test_closed_forgets_everything() -> None:
    dialogue = ready()
    dialogue.send(b"NOOP\r\n")
    dialogue.closed()
    assert dialogue.phase is Phase.CLOSED and dialogue.awaiting == 0
    assert dialogue.capabilities is None and not dialogue.esmtp


# -- malformed bytes ------------------------------------------------------------------------


def test_good_replies_come_out_before_the_protocol_error() -> None:
    dialogue = ready()
    first = dialogue.send(b"NOOP\r\n")
    second = dialogue.send(b"RSET\r\n")
    dialogue.send(b"NOOP\r\n")
    dialogue.receive_data(b"250 one\r\n250 two\r\nthis is no reply\r\n250 three\r\n")
    one, two = dialogue.next_event(), dialogue.next_event()
    assert one is not None and one.command is first
    assert two is not None and two.command is second
    with pytest.raises(ProtocolError) as error:
        dialogue.next_event()
    assert b"this is no reply" in error.value.data


def test_a_protocol_error_in_a_later_chunk() -> None:
    dialogue = ready()
    noop = dialogue.send(b"NOOP\r\n")
    dialogue.receive_data(b"250 ")
    assert dialogue.next_event() is None
    dialogue.receive_data(b"ok\r\n2x0 bad\r\n")
    answer = dialogue.next_event()
    assert answer is not None and answer.command is noop
    with pytest.raises(ProtocolError):
        dialogue.next_event()


# -- SASL lines -----------------------------------------------------------------------------


def test_a_sasl_response_is_a_masked_auth_command() -> None:
    dialogue = ready()
    auth = dialogue.send(b"AUTH LOGIN\r\n")
    assert auth is not None and auth.argument == "LOGIN" and not auth.sasl
    assert not dialogue.sasl_due  # nothing is due until the 334 says so
    answers(dialogue, b"334 VXNlcm5hbWU6\r\n")
    assert dialogue.sasl_due
    response = dialogue.send(b"c2VjcmV0LXVzZXI=\r\n")
    assert response is not None
    assert response.sasl and response.verb == "AUTH" and response.argument == "LOGIN"
    assert "c2VjcmV0" not in repr(response)
    assert response.name == "AUTH LOGIN"


def test_auth_plain_initial_response_is_not_kept() -> None:
    dialogue = ready()
    command = dialogue.send(b"AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n")
    assert command is not None
    assert command.verb == "AUTH" and command.argument == "PLAIN"
    assert "AGFsaWNl" not in repr(command)
    assert not command.sasl


def test_mail_and_rcpt_keep_the_address_without_parameters() -> None:
    dialogue = ready()
    mail = dialogue.send(b"MAIL FROM:<a@example.org> SIZE=10 BODY=8BITMIME\r\n")
    rcpt = dialogue.send(b"RCPT TO:<b@example.org> NOTIFY=NEVER\r\n")
    assert mail is not None and mail.argument == "FROM:<a@example.org>"
    assert rcpt is not None and rcpt.label == "RCPT TO:<b@example.org>"


# -- the captured real exchanges ------------------------------------------------------------

SETUP_EHLO = b"250-setup.example\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 AUTH PLAIN LOGIN\r\n"

OUT_OF_ORDER_FIXTURES = {
    "mail-before-ehlo": "MAIL",
    "rcpt-no-mail": "RCPT",
    "data-no-rcpt": "DATA",
    "starttls-again": "STARTTLS",
}
"""Exchanges that send a command out of order on purpose: the exchange name, the verb."""

# Every fixture's setup can be replayed with synthetic replies: "connect" (nothing: the
# fixture holds the greeting), "read greeting", "EHLO", "STARTTLS", "TLS handshake"
# (tls_started) and "EHLO" again, so none is skipped. Three kinds need care:
# - *-data-too-big: client_sent holds a description of the 10-50 MB message, not its lines;
#   after the 354 it is message data all the same, so it is sent as one line of data.
# - *-bdat: the chunk bytes after each "BDAT n" are not lines: n bytes are skipped.
# - opensmtpd-pipelining*: the server answered the first command with 500 and hung up, so
#   only that reply comes; the rest of the group stays unanswered.


def setup_dialogue(setup: str) -> Dialogue:
    dialogue = Dialogue()
    steps = [step.strip() for step in setup.split(",")]
    assert steps[0] == "connect", setup
    for step in steps[1:]:
        match step:
            case "read greeting":
                answers(dialogue, b"220 setup.example ESMTP\r\n")
            case "EHLO":
                exchange(dialogue, b"EHLO client.interop.test\r\n", SETUP_EHLO)
            case "STARTTLS":
                exchange(dialogue, b"STARTTLS\r\n", b"220 go ahead\r\n")
            case "TLS handshake":
                assert dialogue.tls_started() == b""
            case _:
                raise AssertionError(f"a setup step this test cannot replay: {step!r}")
    return dialogue


def client_lines(entry: dict) -> list[bytes]:
    """The lines the client sent (JSON strings with escaped CRLFs), BDAT chunks left out."""
    lines = [text.replace("\\r\\n", "\r\n").encode("utf-8") for text in entry["client_sent"]]
    out: list[bytes] = []
    skip = 0
    for line in lines:
        if skip:
            skip -= len(line)
            assert skip >= 0, "a BDAT chunk that does not end with a line"
            continue
        out.append(line)
        words = line.split()
        if words and words[0].upper() == b"BDAT":
            skip = int(words[1])
    return out


def expected_verbs(entry: dict, lines: list[bytes]) -> list[str]:
    """The verb each reply should answer, worked out from the lines and the index's reply
    codes alone (not from the Dialogue)."""
    codes = [reply["code"] for reply in entry["replies"]]
    verbs = [""] if entry["setup"] == "connect" else []
    in_data = sasl = False
    for line in lines:
        if in_data:
            if line == b".\r\n":
                verbs.append(".")
                in_data = False
            continue
        verb = "AUTH" if sasl else line.split()[0].decode().upper()
        verbs.append(verb)
        code = codes[len(verbs) - 1] if len(verbs) <= len(codes) else None
        in_data = verb == "DATA" and code == "354"
        sasl = verb == "AUTH" and code == "334"
    return verbs


def wire_chunks(path: Path, entry: dict) -> list[bytes]:
    data = path.read_bytes()
    assert sum(entry["recv_sizes"]) == len(data)
    out, start = [], 0
    for size in entry["recv_sizes"]:
        out.append(data[start : start + size])
        start += size
    return out


@pytest.mark.parametrize("path", wire_files(), ids=lambda path: path.stem)
def test_real_exchanges(path: Path) -> None:
    entry = wire_index()[path.name]
    dialogue = setup_dialogue(entry["setup"])
    lines = client_lines(entry)
    chunks = wire_chunks(path, entry)
    sent: list[Command] = []
    got: list[Answer] = []

    def feed_until_answered() -> None:
        while dialogue.awaiting and chunks:
            got.extend(answers(dialogue, chunks.pop(0)))

    if entry["setup"] == "connect":
        sent.append(GREETING)  # what the first reply answers
        feed_until_answered()
    pipelined = "pipelining" in entry["exchange"]
    if pipelined:
        end = next(i for i, line in enumerate(lines) if line.upper() == b"DATA\r\n") + 1
        group = send_group(dialogue, lines[:end])
        assert all(command is not None for command in group)
        sent += [command for command in group if command is not None]
        assert len({command.group for command in group if command}) == 1
        feed_until_answered()
        lines = lines[end:]
    for line in lines:
        command = dialogue.send(line)
        if command is not None:
            sent.append(command)
            feed_until_answered()
    while chunks:
        got.extend(answers(dialogue, chunks.pop(0)))
    if entry["closed_by_server"]:
        dialogue.eof()

    assert [answer.reply.code for answer in got] == [int(r["code"]) for r in entry["replies"]]
    assert all(answer.command is not None for answer in got), "an unsolicited reply"
    answered = [answer.command.verb for answer in got if answer.command is not None]
    verbs = expected_verbs(entry, client_lines(entry))
    assert answered == verbs[: len(got)]
    assert [command.verb for command in sent] == verbs
    assert [answer.command for answer in got] == sent[: len(got)]
    offending = OUT_OF_ORDER_FIXTURES.get(entry["exchange"])
    for command in sent:
        if command.verb == offending:
            assert command.out_of_order, (entry["exchange"], command)
        else:
            assert command.out_of_order == "", (entry["exchange"], command)
    if offending is not None:
        assert any(command.verb == offending for command in sent)


def test_every_out_of_order_fixture_exists() -> None:
    exchanges = {entry["exchange"] for entry in wire_index().values()}
    assert set(OUT_OF_ORDER_FIXTURES) <= exchanges


# -- LMTP (RFC 2033) ---------------------------------------------------------------------

LHLO_REPLY = (
    b"250-mail.example Dovecot ready.\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 8BITMIME\r\n"
)


def lmtp_in_transaction(*recipients: bytes) -> Dialogue:
    """An LMTP dialogue after LHLO, MAIL and one RCPT per recipient, each accepted."""
    dialogue = Dialogue(lmtp=True)
    answers(dialogue, b"220 mail.example Dovecot ready.\r\n")
    assert exchange(dialogue, b"LHLO client.example\r\n", LHLO_REPLY).phase is Phase.READY
    exchange(dialogue, b"MAIL FROM:<alice@example.org>\r\n", b"250 2.1.0 OK\r\n")
    for recipient in recipients:
        exchange(dialogue, b"RCPT TO:<" + recipient + b">\r\n", b"250 2.1.5 OK\r\n")
    return dialogue


def test_lhlo_greets_an_lmtp_server_and_reads_its_capabilities() -> None:
    dialogue = lmtp_in_transaction()
    assert dialogue.esmtp
    assert "pipelining" in dialogue.features


@pytest.mark.parametrize(
    ("lmtp", "line", "why"),
    [
        (
            True,
            b"EHLO client.example\r\n",
            "LMTP greets with LHLO, not EHLO or HELO (RFC 2033 4.1)",
        ),
        (
            True,
            b"HELO client.example\r\n",
            "LMTP greets with LHLO, not EHLO or HELO (RFC 2033 4.1)",
        ),
        (
            False,
            b"LHLO client.example\r\n",
            "LHLO is LMTP's (RFC 2033): SMTP greets with EHLO or HELO",
        ),
        (True, b"LHLO client.example\r\n", ""),
        (True, b"MAIL FROM:<a@example.org>\r\n", "sent before LHLO was accepted"),
    ],
)
def test_lmtp_greetings_in_and_out_of_order(lmtp: bool, line: bytes, why: str) -> None:
    dialogue = Dialogue(lmtp=lmtp)
    answers(dialogue, b"220 mail.example\r\n")
    command = dialogue.send(line)
    assert command is not None
    assert command.out_of_order == why


def test_the_final_dot_gets_one_reply_per_accepted_recipient_in_order() -> None:
    dialogue = lmtp_in_transaction(b"bob@example.org", b"carol@example.org")
    refused = dialogue.send(b"RCPT TO:<nobody@example.org>\r\n")
    [answer] = answers(dialogue, b"550 5.1.1 <nobody@example.org> User doesn't exist\r\n")
    assert answer.command is refused
    exchange(dialogue, b"DATA\r\n", b"354 OK\r\n")
    assert dialogue.send(b"Subject: hi\r\n") is None
    dot = dialogue.send(b".\r\n")
    assert dot == Command(END_OF_DATA)
    first, second = answers(
        dialogue,
        b"250 2.0.0 <bob@example.org> k8Jm2Bq5OWbAXQAAYQe4Sg Saved\r\n"
        b"452 4.2.2 <carol@example.org> Quota exceeded (mailbox for user is full)\r\n",
    )
    assert first.command == Command(END_OF_DATA, recipient="bob@example.org")
    assert first.phase is Phase.DATA  # carol's reply is still due
    assert second.command == Command(END_OF_DATA, recipient="carol@example.org")
    assert second.reply.code == 452
    assert second.phase is Phase.READY
    assert dialogue.awaiting == 0
    assert second.command.label == "message data for carol@example.org"


def test_the_phase_returns_to_ready_only_after_the_last_recipients_reply() -> None:
    dialogue = lmtp_in_transaction(b"bob@example.org", b"carol@example.org")
    exchange(dialogue, b"DATA\r\n", b"354 OK\r\n")
    dialogue.send(b".\r\n")
    [first] = answers(dialogue, b"250 2.0.0 <bob@example.org> Saved\r\n")
    assert (first.phase, dialogue.awaiting, dialogue.step) == (Phase.DATA, 1, "message data")
    # what is sent now is judged as after the message: a new MAIL is in order
    mail = dialogue.send(b"MAIL FROM:<alice@example.org>\r\n")
    assert mail is not None and mail.out_of_order == ""
    second, third = answers(dialogue, b"250 2.0.0 <carol@example.org> Saved\r\n250 2.1.0 OK\r\n")
    assert second.command is not None and second.command.recipient == "carol@example.org"
    assert (second.phase, third.command, third.phase) == (Phase.READY, mail, Phase.MAIL)


def test_a_pipelined_lmtp_group_with_bdat_last() -> None:
    dialogue = lmtp_in_transaction()
    group = dialogue.begin_group()
    lines = [
        b"RCPT TO:<bob@example.org>\r\n",
        b"RCPT TO:<full@example.org>\r\n",
        b"RCPT TO:<carol@example.org>\r\n",
        b"BDAT 12 LAST\r\n",
    ]
    sent = [dialogue.send(line, group=group) for line in lines]
    dialogue.end_group()
    replies = answers(
        dialogue,
        b"250 2.1.5 OK\r\n250 2.1.5 OK\r\n250 2.1.5 OK\r\n"
        b"250 2.0.0 <bob@example.org> Saved\r\n"
        b"452 4.2.2 <full@example.org> Mailbox full\r\n"
        b"250 2.0.0 <carol@example.org> Saved\r\n",
    )
    assert [a.command for a in replies[:3]] == sent[:3]
    last = sent[3]
    assert last is not None
    assert [a.command for a in replies[3:]] == [
        last._replace(recipient=r)
        for r in ("bob@example.org", "full@example.org", "carol@example.org")
    ]
    assert [a.phase for a in replies[3:]] == [Phase.RCPT, Phase.RCPT, Phase.READY]


def test_rset_forgets_the_recipients() -> None:
    dialogue = lmtp_in_transaction(b"bob@example.org")
    exchange(dialogue, b"RSET\r\n", b"250 2.0.0 OK\r\n")
    exchange(dialogue, b"MAIL FROM:<alice@example.org>\r\n", b"250 2.1.0 OK\r\n")
    exchange(dialogue, b"RCPT TO:<carol@example.org>\r\n", b"250 2.1.5 OK\r\n")
    exchange(dialogue, b"DATA\r\n", b"354 OK\r\n")
    dialogue.send(b".\r\n")
    [answer] = answers(dialogue, b"250 2.0.0 <carol@example.org> Saved\r\n")
    assert answer.command is not None and answer.command.recipient == "carol@example.org"
    assert answer.phase is Phase.READY


def test_smtp_gets_one_reply_to_the_message_whatever_the_recipients() -> None:
    dialogue = ready()
    exchange(dialogue, b"MAIL FROM:<a@example.org>\r\n", b"250 OK\r\n")
    exchange(dialogue, b"RCPT TO:<b@example.org>\r\n", b"250 OK\r\n")
    exchange(dialogue, b"RCPT TO:<c@example.org>\r\n", b"250 OK\r\n")
    exchange(dialogue, b"DATA\r\n", b"354 go\r\n")
    dialogue.send(b".\r\n")
    first, second = answers(dialogue, b"250 queued\r\n250 extra\r\n")
    assert first.command == Command(END_OF_DATA) and first.phase is Phase.READY
    assert second.command is None
