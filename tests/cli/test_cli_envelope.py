"""``smtptui run``'s envelope flags: the Envelope each asks for, and bad values refused as
usage errors naming the flag."""

from __future__ import annotations

from typing import Any

import click
import pytest
from click.testing import CliRunner

from smtptui.cli import ENVELOPE_FLAGS, main, make_envelope
from smtptui.protocol.envelope import Envelope, RcptParams

TO = ("bob@example.org", "carol@example.org")


def flags(**given: Any) -> dict[str, Any]:
    """The flags as click passes them when only ``given`` are on the command line."""
    defaults = dict.fromkeys(ENVELOPE_FLAGS)
    return {**defaults, "notify": "", "rcpt_params": (), "requiretls": False, **given}


def test_no_flags_no_envelope() -> None:
    assert make_envelope(TO, **flags()) is None
    assert make_envelope((), **flags()) is None
    assert make_envelope(TO, **flags(envid="", orcpt="")) is None


def test_every_flag() -> None:
    envelope = make_envelope(
        TO,
        **flags(
            size=1000,
            body="8BITMIME",
            smtputf8=False,
            ret="HDRS",
            envid="QQ314159",
            notify="success, failure",
            orcpt="rfc822;original@example.org",
            requiretls=True,
        ),
    )
    assert envelope == Envelope(
        size=1000,
        body="8BITMIME",
        smtputf8=False,
        ret="HDRS",
        envid="QQ314159",
        requiretls=True,
        notify=("SUCCESS", "FAILURE"),
        orcpt=dict.fromkeys(TO, "rfc822;original@example.org"),
    )
    assert envelope.rcpt_options("carol@example.org") == [
        "NOTIFY=SUCCESS,FAILURE",
        "ORCPT=rfc822;original@example.org",
    ]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"smtputf8": True}, Envelope(smtputf8=True)),
        ({"notify": "never"}, Envelope(notify=("NEVER",))),
        ({"orcpt": "x@example.org"}, Envelope(orcpt=dict.fromkeys(TO, "x@example.org"))),
        ({"size": 0}, Envelope(size=0)),
    ],
)
def test_one_flag(given: dict[str, Any], expected: Envelope) -> None:
    assert make_envelope(TO, **flags(**given)) == expected


@pytest.mark.parametrize(
    ("given", "hint", "words"),
    [
        ({"size": -1}, "'--size'", "SIZE: must not be negative"),
        ({"envid": "x" * 101}, "'--envid'", "ENVID: is 101 characters; at most 100"),
        ({"notify": "never,success"}, "'--notify'", "NOTIFY: NEVER cannot be combined"),
        ({"notify": "always"}, "'--notify'", "'ALWAYS' is not NEVER"),
        ({"orcpt": "a@b c@d"}, "'--orcpt'", "ORCPT: 'c@d' follows the address"),
    ],
)
def test_a_bad_value_is_a_usage_error_naming_its_flag(
    given: dict[str, Any], hint: str, words: str
) -> None:
    with pytest.raises(click.BadParameter) as info:
        make_envelope(TO, **flags(**given))
    assert info.value.param_hint == hint
    assert words in info.value.message


def test_envelope_flags_need_a_recipient() -> None:
    for given in ({"requiretls": True}, {"orcpt": "a@b.example"}):
        with pytest.raises(click.UsageError, match="need at least one --to"):
            make_envelope((), **flags(**given))


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--notify", "never,delay"], "Invalid value for '--notify': NOTIFY: NEVER cannot be"),
        (["--envid", "é"], "Invalid value for '--envid': ENVID: must be printable ASCII"),
        (["--size", "-5"], "Invalid value for '--size': SIZE: must not be negative"),
        (["--size", "many"], "'many' is not a valid integer"),
        (["--body-type", "8BIT"], "'8bit' is not one of '7bit', '8bitmime', 'binarymime'"),
        (["--ret", "ALL"], "'all' is not one of 'full', 'hdrs'"),
        (["--orcpt", "rfc 822;a@b"], "Invalid value for '--orcpt': ORCPT: 'rfc 822'"),
        (["--requiretls"], "envelope parameters need at least one --to"),
    ],
)
def test_run_refuses_bad_values_with_exit_1_before_connecting(args: list[str], words: str) -> None:
    # Port 9 on a reserved address: the error must come before any attempt to connect.
    result = CliRunner().invoke(main, ["run", "192.0.2.1:9", "--plain", *args])
    assert result.exit_code == 1, result.output
    assert words.lower() in result.output.lower()  # click lowers a case-blind choice's
    assert "Traceback" not in result.output


def test_body_and_ret_take_any_case() -> None:
    assert make_envelope(TO, **flags(body="binarymime")) == Envelope(body="binarymime")
    command = main.commands["run"]
    context = command.make_context("run", ["--demo", "--body-type", "8bitmime", "--ret", "hdrs"])
    assert (context.params["body"], context.params["ret"]) == ("8BITMIME", "HDRS")


def test_rcpt_params_override_one_recipient() -> None:
    envelope = make_envelope(
        TO,
        **flags(
            notify="failure",
            rcpt_params=(
                "carol@example.org notify=NEVER",
                "bob@example.org ORCPT=rfc822;old@example.org Notify=success,delay",
            ),
        ),
    )
    assert envelope == Envelope(
        notify=("FAILURE",),
        rcpt={
            "carol@example.org": RcptParams(notify=("NEVER",)),
            "bob@example.org": RcptParams(("SUCCESS", "DELAY"), "rfc822;old@example.org"),
        },
    )
    assert envelope.rcpt_options("carol@example.org") == ["NOTIFY=NEVER"]
    assert envelope.rcpt_options("bob@example.org") == [
        "NOTIFY=SUCCESS,DELAY",
        "ORCPT=rfc822;old@example.org",
    ]


def test_rcpt_params_are_keyed_by_the_to_as_typed() -> None:
    to = ("Bob <bob@example.org>", "carol@example.org")
    envelope = make_envelope(to, **flags(rcpt_params=("<bob@example.org> NOTIFY=never",)))
    assert envelope == Envelope(rcpt={"Bob <bob@example.org>": RcptParams(notify=("NEVER",))})


@pytest.mark.parametrize(
    ("values", "words"),
    [
        (("bob@example.org",), "'bob@example.org': bob@example.org has neither NOTIFY= nor"),
        (("bob@example.org FOO=1",), "unknown parameter FOO"),
        (("bob@example.org NOTIFY=",), "NOTIFY has no value"),
        (("bob@example.org NOTIFY=never notify=delay",), "NOTIFY is given twice"),
        (("bob@example.org NOTIFY=always",), "NOTIFY: 'ALWAYS' is not NEVER"),
        (("b c NOTIFY=never",), "address: 'c' follows the address"),
        (("bob@example.org NOTIFY=never\ncarol@example.org NOTIFY=never",), "one recipient each"),
        (("  ",), "is empty"),
        (("bob@example.org NOTIFY=never", "bob@example.org ORCPT=x@y"), "bob@example.org is given"),
    ],
)
def test_a_bad_rcpt_params_is_a_usage_error(values: tuple[str, ...], words: str) -> None:
    with pytest.raises(click.BadParameter) as info:
        make_envelope(TO, **flags(rcpt_params=values))
    assert info.value.param_hint == "'--rcpt-params'"
    assert words in info.value.message


def test_rcpt_params_must_name_a_to() -> None:
    with pytest.raises(click.UsageError, match=r"names dave@example\.org, which is not a --to"):
        make_envelope(TO, **flags(rcpt_params=("dave@example.org NOTIFY=never",)))
    with pytest.raises(click.UsageError, match="not a --to"):
        make_envelope((), **flags(rcpt_params=("dave@example.org NOTIFY=never",)))


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["--to", "bob@example.org", "--rcpt-params", "dave@example.org NOTIFY=never"],
            "--rcpt-params names dave@example.org, which is not a --to",
        ),
        (
            ["--to", "bob@example.org", "--rcpt-params", "bob@example.org NOTIFY"],
            "Invalid value for '--rcpt-params': 'bob@example.org NOTIFY': NOTIFY has no value",
        ),
    ],
)
def test_run_refuses_bad_rcpt_params_with_exit_1(args: list[str], words: str) -> None:
    result = CliRunner().invoke(main, ["run", "192.0.2.1:9", "--plain", *args])
    assert result.exit_code == 1, result.output
    assert words in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_run_passes_rcpt_params_on() -> None:
    command = main.commands["run"]
    context = command.make_context(
        "run", ["--demo", "--rcpt-params", "a@b NOTIFY=never", "--rcpt-params", "c@d ORCPT=e@f"]
    )
    assert context.params["rcpt_params"] == ("a@b NOTIFY=never", "c@d ORCPT=e@f")
