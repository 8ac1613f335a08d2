"""SASL mechanisms against smtplib's own AUTH exchanges, the RFC examples and Google's spec."""

from __future__ import annotations

import base64
import smtplib

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from smtptui.protocol.auth import (
    MASK,
    MAX_CHALLENGES,
    SMTP_AUTO_ORDER,
    SUPPORTED,
    CramMD5,
    Login,
    Mechanism,
    NoMechanismError,
    Plain,
    XOAuth2,
    choose_mechanism,
    create_mechanism,
    decode_challenge,
    encode_sasl,
    mechanisms_to_try,
    sends_password,
    split_secret,
)
from smtptui.protocol.errors import ProtocolError

RFC2195_CHALLENGE = b"<1896.697170952@postoffice.reston.mci.net>"

# smtplib encodes credentials as ASCII, so it is an oracle for ASCII credentials only.
ascii_credential = st.text(st.characters(min_codepoint=1, max_codepoint=127))
credential = st.text()
# Characters that never occur in a description unless the secret or the username has them.
distinctive = st.text(st.sampled_from("\u00a7\u00a4\u00a5\u00b6"), min_size=1)

# What each mechanism is asked, in smtplib's order of calls, with and without an initial
# response: the server's challenges (raw) before its final 235.
CHALLENGES = {
    ("PLAIN", True): [],
    ("PLAIN", False): [b""],
    ("LOGIN", True): [b"Password:"],
    ("LOGIN", False): [b"Username:", b"Password:"],
    ("CRAM-MD5", True): [RFC2195_CHALLENGE],
    ("CRAM-MD5", False): [RFC2195_CHALLENGE],
}


def smtplib_exchange(
    name: str, user: str, password: str, challenges: list[bytes], initial_response_ok: bool
) -> list[tuple[str, str]]:
    """The commands ``smtplib.SMTP.auth`` sends, from an unconnected instance."""
    smtp = smtplib.SMTP()
    smtp.user, smtp.password = user, password
    replies = iter([(334, base64.b64encode(c)) for c in challenges] + [(235, b"OK")])
    sent: list[tuple[str, str]] = []

    def docmd(cmd: str, args: str = "") -> tuple[int, bytes]:
        sent.append((cmd, args))
        return next(replies)

    smtp.docmd = docmd
    authobject = getattr(smtp, "auth_" + name.lower().replace("-", "_"))
    smtp.auth(name, authobject, initial_response_ok=initial_response_ok)
    return sent


def our_exchange(
    mechanism: Mechanism, challenges: list[bytes], initial_response_ok: bool
) -> list[tuple[str, str]]:
    """The same commands, built from a :class:`Mechanism` as the engine builds them."""
    initial = mechanism.initial_response() if initial_response_ok else None
    if initial is None:
        sent = [("AUTH", mechanism.name)]
    else:
        sent = [("AUTH", f"{mechanism.name} {encode_sasl(initial, initial=True).decode()}")]
    for challenge in challenges:
        sent.append((encode_sasl(mechanism.respond(challenge)).decode(), ""))
    return sent


@pytest.mark.parametrize(("name", "initial_response_ok"), CHALLENGES.keys())
@given(user=ascii_credential, password=ascii_credential)
def test_exchange_matches_smtplib(
    name: str, initial_response_ok: bool, user: str, password: str
) -> None:
    if name == "LOGIN" and initial_response_ok:
        assume(user)  # smtplib sends "AUTH LOGIN " for an empty one: see below
    challenges = CHALLENGES[name, initial_response_ok]
    mechanism = create_mechanism(name, user, password)
    expected = smtplib_exchange(name, user, password, challenges, initial_response_ok)
    assert our_exchange(mechanism, challenges, initial_response_ok) == expected


def test_empty_initial_response_is_an_equals_sign() -> None:
    """Where smtplib differs: it sends nothing after the name; RFC 4954 section 4 asks '='."""
    assert smtplib_exchange("LOGIN", "", "pw", [b"Password:"], True)[0] == ("AUTH", "LOGIN ")
    assert our_exchange(Login("", "pw"), [b"Password:"], True)[0] == ("AUTH", "LOGIN =")


@given(password=ascii_credential, challenge=st.binary())
def test_cram_md5_matches_smtplib_for_any_challenge(password: str, challenge: bytes) -> None:
    smtp = smtplib.SMTP()
    smtp.user, smtp.password = "tim", password
    assert CramMD5("tim", password).respond(challenge) == smtp.auth_cram_md5(challenge).encode()


def test_login_keeps_sending_the_password() -> None:
    """smtplib answers every challenge after the username with the password."""
    login = Login("alice", "pw")
    assert login.initial_response() == b"alice"
    assert [login.respond(b"Password:") for _ in range(3)] == [b"pw"] * 3


# RFC and vendor examples


def test_cram_md5_rfc2195_example() -> None:
    mechanism = CramMD5("tim", "tanstaaftanstaaf")
    assert mechanism.initial_response() is None
    assert mechanism.respond(RFC2195_CHALLENGE) == b"tim b913a602c7eda7a495b4e6e7334d3890"
    assert decode_challenge(b"PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+") == (
        RFC2195_CHALLENGE
    )


def test_plain_rfc4954_example() -> None:
    plain = Plain("test", "1234", authzid="test")
    assert encode_sasl(plain.initial_response() or b"") == b"dGVzdAB0ZXN0ADEyMzQ="


def test_plain_rfc4616_is_utf8() -> None:
    plain = Plain("j\u00f6rg", "p\u00e4ss")
    assert plain.initial_response() == "\0j\u00f6rg\0p\u00e4ss".encode()


def test_xoauth2_google_example() -> None:
    mechanism = XOAuth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg")
    assert encode_sasl(mechanism.initial_response() or b"") == (
        b"dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRj"
        b"Mk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
    )


def test_xoauth2_answers_an_error_with_an_empty_response() -> None:
    mechanism = XOAuth2("u@example.com", "tok")
    mechanism.initial_response()
    error = decode_challenge(base64.b64encode(b'{"status":"401","schemes":"bearer"}'))
    assert mechanism.respond(error) == b""
    assert encode_sasl(b"") == b""


def test_xoauth2_without_initial_response_sends_credentials_first() -> None:
    mechanism = XOAuth2("u@example.com", "tok")
    assert mechanism.respond(b"") == b"user=u@example.com\x01auth=Bearer tok\x01\x01"
    assert mechanism.respond(b'{"status":"400"}') == b""


# describe


def test_describe_examples() -> None:
    plain = Plain("alice", "hunter22")
    assert plain.describe(plain.respond(b"")) == f'authzid="" user="alice" password={MASK}'
    assert plain.describe(plain.respond(b""), reveal=True) == (
        'authzid="" user="alice" password="hunter22"'
    )
    login = Login("alice", "hunter22")
    assert login.describe(login.initial_response() or b"") == "username: alice"
    assert login.describe(login.respond(b"Password:")) == f"password: {MASK}"
    assert login.describe(b"hunter22", reveal=True) == "password: hunter22"
    cram = CramMD5("tim", "tanstaaftanstaaf")
    response = cram.respond(RFC2195_CHALLENGE)
    assert cram.describe(response) == f'user="tim" hmac-md5={MASK}'
    assert cram.describe(response, reveal=True) == (
        'user="tim" hmac-md5=b913a602c7eda7a495b4e6e7334d3890'
    )
    xoauth = XOAuth2("alice", "ya29.token")
    assert xoauth.describe(xoauth.initial_response() or b"") == f"user=alice auth=Bearer {MASK}"
    assert xoauth.describe(b"user=alice\x01auth=Bearer ya29.token\x01\x01", reveal=True) == (
        "user=alice auth=Bearer ya29.token"
    )
    assert xoauth.describe(b"") == "(empty response after an error)"


def test_describe_masks_responses_it_did_not_produce() -> None:
    plain = Plain("alice", "pw")
    assert plain.describe(b"\0alice\0other") == MASK
    assert plain.describe(b"\0alice\0other", reveal=True) == "\0alice\0other"
    assert CramMD5("tim", "pw").describe(b"bob 0123") == MASK


def _responses(mechanism: Mechanism) -> list[bytes]:
    """Every response ``mechanism`` gives in a full exchange."""
    initial = mechanism.initial_response()
    return [r for r in (initial, mechanism.respond(RFC2195_CHALLENGE)) if r is not None]


def _descriptions(name: str, user: str, secret: str, *, reveal: bool = False) -> list[str]:
    mechanism = create_mechanism(name, user, password=secret, token=secret)
    return [mechanism.describe(r, reveal=reveal) for r in _responses(mechanism)]


@pytest.mark.parametrize("name", SUPPORTED)
@given(user=credential, first=credential, second=credential)
def test_describe_does_not_depend_on_the_secret(
    name: str, user: str, first: str, second: str
) -> None:
    """Masked descriptions are the same whatever the secret, so they cannot reveal it."""
    assume(user not in (first, second))  # LOGIN then masks the username step as well
    assert _descriptions(name, user, first) == _descriptions(name, user, second)


@pytest.mark.parametrize("name", SUPPORTED)
@given(user=ascii_credential, secret=distinctive)
def test_describe_never_shows_the_secret(name: str, user: str, secret: str) -> None:
    assert not any(secret in text for text in _descriptions(name, user, secret))
    if name != "CRAM-MD5":  # whose revealed form shows the digest, not the password
        assert any(secret in text for text in _descriptions(name, user, secret, reveal=True))


@pytest.mark.parametrize("name", SUPPORTED)
def test_repr_hides_the_secret(name: str) -> None:
    mechanism = create_mechanism(name, "alice", password="s3cret-pw", token="s3cret-pw")
    assert "s3cret-pw" not in repr(mechanism)
    assert "alice" in repr(mechanism)


# choose_mechanism, create_mechanism


def smtplib_login_order(advertised: list[str]) -> list[str]:
    """The mechanisms ``smtplib.SMTP.login`` tries, in order, when each one fails."""
    smtp = smtplib.SMTP()
    smtp.ehlo_or_helo_if_needed = lambda: None
    smtp.esmtp_features = {"auth": " ".join(advertised)}
    tried: list[str] = []

    def auth(mechanism: str, authobject: object, **kwargs: object) -> tuple[int, bytes]:
        tried.append(mechanism)
        raise smtplib.SMTPAuthenticationError(535, b"no")

    smtp.auth = auth
    with pytest.raises(smtplib.SMTPException):
        smtp.login("u", "p")
    return tried


def test_auto_order_is_smtplibs() -> None:
    assert list(SMTP_AUTO_ORDER) == smtplib_login_order(["LOGIN", "PLAIN", "CRAM-MD5"])
    assert MAX_CHALLENGES == smtplib._MAXCHALLENGE


@given(st.lists(st.sampled_from(["LOGIN", "PLAIN", "CRAM-MD5", "XOAUTH2", "GSSAPI"])))
def test_choose_matches_smtplib(advertised: list[str]) -> None:
    tried = smtplib_login_order(advertised)
    if tried:
        assert choose_mechanism(advertised) == tried[0]
    else:
        with pytest.raises(NoMechanismError):
            choose_mechanism(advertised)


def test_choose_mechanism() -> None:
    advertised = ["LOGIN", "PLAIN", "XOAUTH2"]
    assert choose_mechanism(advertised) == "PLAIN"
    assert choose_mechanism(advertised, have_token=True) == "XOAUTH2"
    assert choose_mechanism(["PLAIN"], have_token=True) == "PLAIN"
    assert choose_mechanism(["login", "cram-md5"]) == "CRAM-MD5"
    assert choose_mechanism(advertised, requested="cram-md5") == "CRAM-MD5"
    assert choose_mechanism([], requested="ntlm") == "NTLM"


def test_choose_mechanism_names_what_was_advertised() -> None:
    with pytest.raises(NoMechanismError, match="GSSAPI NTLM"):
        choose_mechanism(["GSSAPI", "NTLM"])
    with pytest.raises(NoMechanismError, match="advertises nothing"):
        choose_mechanism([], have_token=True)
    assert issubclass(NoMechanismError, ValueError)


def test_mechanisms_to_try() -> None:
    offered = ["login", "PLAIN"]
    assert mechanisms_to_try("ntlm", offered) == ["NTLM"]  # one named: a deliberate try
    assert mechanisms_to_try("xoauth2, plain,LOGIN", offered) == ["PLAIN", "LOGIN"]
    with pytest.raises(NoMechanismError, match="advertises LOGIN PLAIN; allowed: CRAM-MD5, NTLM"):
        mechanisms_to_try("CRAM-MD5,NTLM", offered)


def test_create_mechanism() -> None:
    assert SUPPORTED == ("PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2")
    for name, cls in zip(SUPPORTED, (Plain, Login, CramMD5, XOAuth2), strict=True):
        mechanism = create_mechanism(name.lower(), "u", "p", "t")
        assert type(mechanism) is cls
        assert mechanism.name == name
    assert b"Bearer t" in (create_mechanism("XOAUTH2", "u", "p", "t").initial_response() or b"")
    with pytest.raises(NoMechanismError, match="NTLM"):
        create_mechanism("NTLM", "u", "p")


def test_which_mechanisms_send_a_password() -> None:
    assert [sends_password(name.lower()) for name in SUPPORTED] == [True, True, True, False]
    assert not sends_password("NTLM")  # unknown: nothing is sent at all


# encode_sasl, decode_challenge


def test_encode_sasl() -> None:
    assert encode_sasl(b"") == b""
    assert encode_sasl(b"", initial=True) == b"="
    assert encode_sasl(b"x" * 200).count(b"\n") == 0
    assert encode_sasl(b"\0u\0p", initial=True) == b"AHUAcA=="


@given(st.binary())
def test_challenge_round_trip(raw: bytes) -> None:
    assert decode_challenge(encode_sasl(raw)) == raw


@pytest.mark.parametrize(
    "text", [b"not base64!", b"YWJj\n", b"YWJ", b"=", b"YW Jj", b"\xff\xfe", b"YQ==="]
)
def test_decode_challenge_rejects_garbage(text: bytes) -> None:
    with pytest.raises(ProtocolError, match="not valid base64") as info:
        decode_challenge(text)
    assert info.value.data == text


@given(st.binary())
def test_decode_challenge_only_raises_protocol_error(text: bytes) -> None:
    try:
        decode_challenge(text)
    except ProtocolError as exc:
        assert exc.data == text


# -- secrets in lines typed by hand ---------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "sasl_due", "expected"),
    [
        (
            b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n",
            False,
            ("AUTH PLAIN ", b"AGFsaWNlAHNlY3JldA==\r\n"),
        ),
        (b"auth login YWxpY2U=\r\n", True, ("AUTH login ", b"YWxpY2U=\r\n")),
        (b"AUTH LOGIN\r\n", False, None),
        (b"AUTH LOGIN\r\n", True, None),  # a new exchange, not a response
        (b"c2VjcmV0\r\n", True, ("", b"c2VjcmV0\r\n")),
        (b"\r\n", True, ("", b"\r\n")),
        (b"*\r\n", True, ("", b"*\r\n")),
        (b"c2VjcmV0\r\n", False, None),
        (b"NOOP\r\n", False, None),
    ],
)
def test_split_secret(line: bytes, sasl_due: bool, expected: tuple[str, bytes] | None) -> None:
    assert split_secret(line, sasl_due=sasl_due) == expected
