"""SASL mechanisms against smtplib's own AUTH exchanges, the RFC examples (RFC 7628's and
RFC 7677's byte for byte) and Google's spec."""

from __future__ import annotations

import base64
import smtplib

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from smtptui.protocol import scram
from smtptui.protocol.auth import (
    MASK,
    MAX_CHALLENGES,
    SMTP_AUTO_ORDER,
    SUPPORTED,
    AuthOptions,
    CramMD5,
    Login,
    Mechanism,
    NoMechanismError,
    OAuthBearer,
    Plain,
    ScramSha256,
    XOAuth2,
    choose_mechanism,
    create_mechanism,
    decode_challenge,
    encode_sasl,
    mechanisms_to_try,
    sends_password,
    split_secret,
)
from smtptui.protocol.errors import CommandError, ProtocolError

RFC2195_CHALLENGE = b"<1896.697170952@postoffice.reston.mci.net>"

# RFC 7677 section 3.
SCRAM_NONCE = "rOprNGfwEbeRWgbNEkqO"
SCRAM_SERVER_FIRST = (
    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
)
SCRAM_CLIENT_FINAL = (
    b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
)
SCRAM_SERVER_FINAL = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

# RFC 7628 section 4.1 (the token) and 4.3 (the error), as the RFC writes them in base64.
RFC7628_TOKEN = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="
RFC7628_INITIAL = (
    b"bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVy"
    b"IHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB"
)
RFC7628_ERROR = (
    b'{"status":"invalid_token","scope":"example_scope",'
    b'"openid-configuration":"https://example.com/.well-known/openid-configuration"}'
)

# smtplib encodes credentials as ASCII, so it is an oracle for ASCII credentials only.
ascii_credential = st.text(st.characters(min_codepoint=1, max_codepoint=127))
credential = st.text()
# What SASLprep (SCRAM) leaves as it is: printable ASCII.
printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E))
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


WITH_LOGIN_IR = AuthOptions(login_initial_response=True)
"""LOGIN as smtplib sends it: the username with AUTH."""


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
    mechanism = create_mechanism(name, user, password, options=WITH_LOGIN_IR)
    expected = smtplib_exchange(name, user, password, challenges, initial_response_ok)
    assert our_exchange(mechanism, challenges, initial_response_ok) == expected


def test_empty_initial_response_is_an_equals_sign() -> None:
    """Where smtplib differs: it sends nothing after the name; RFC 4954 section 4 asks '='."""
    assert smtplib_exchange("LOGIN", "", "pw", [b"Password:"], True)[0] == ("AUTH", "LOGIN ")
    assert our_exchange(Login("", "pw", True), [b"Password:"], True)[0] == ("AUTH", "LOGIN =")


@given(password=ascii_credential, challenge=st.binary())
def test_cram_md5_matches_smtplib_for_any_challenge(password: str, challenge: bytes) -> None:
    smtp = smtplib.SMTP()
    smtp.user, smtp.password = "tim", password
    assert CramMD5("tim", password).respond(challenge) == smtp.auth_cram_md5(challenge).encode()


def test_login_keeps_sending_the_password() -> None:
    """smtplib answers every challenge after the username with the password."""
    login = Login("alice", "pw", initial_response=True)
    assert login.initial_response() == b"alice"
    assert [login.respond(b"Password:") for _ in range(3)] == [b"pw"] * 3


def test_login_without_initial_response_waits_for_username() -> None:
    login = Login("alice", "pw", initial_response=False)
    assert login.initial_response() is None
    assert [login.respond(b"Username:"), login.respond(b"Password:")] == [b"alice", b"pw"]


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
    login = Login("alice", "hunter22", initial_response=True)
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
    """Every response ``mechanism`` gives in a full exchange (SCRAM's: RFC 7677's challenge)."""
    initial = mechanism.initial_response()
    challenge = SCRAM_SERVER_FIRST if isinstance(mechanism, ScramSha256) else RFC2195_CHALLENGE
    return [r for r in (initial, mechanism.respond(challenge)) if r is not None]


def _descriptions(name: str, user: str, secret: str, *, reveal: bool = False) -> list[str]:
    if name == "SCRAM-SHA-256":
        mechanism: Mechanism = ScramSha256(user, secret, nonce=lambda: SCRAM_NONCE)
    else:
        options = WITH_LOGIN_IR
        mechanism = create_mechanism(name, user, password=secret, token=secret, options=options)
    return [mechanism.describe(r, reveal=reveal) for r in _responses(mechanism)]


@pytest.mark.parametrize("name", SUPPORTED)
@given(data=st.data())
def test_describe_does_not_depend_on_the_secret(name: str, data: st.DataObject) -> None:
    """Masked descriptions are the same whatever the secret, so they cannot reveal it."""
    strategy = printable if name == "SCRAM-SHA-256" else credential
    user, first, second = (data.draw(strategy) for _ in range(3))
    assume(user not in (first, second))  # LOGIN then masks the username step as well
    assert _descriptions(name, user, first) == _descriptions(name, user, second)


@pytest.mark.parametrize("name", SUPPORTED)
@given(data=st.data(), secret=distinctive)
def test_describe_never_shows_the_secret(name: str, data: st.DataObject, secret: str) -> None:
    user = data.draw(printable if name == "SCRAM-SHA-256" else ascii_credential)
    assert not any(secret in text for text in _descriptions(name, user, secret))
    if name not in ("CRAM-MD5", "SCRAM-SHA-256"):  # they show a proof, not the password
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
    assert choose_mechanism([*advertised, "OAUTHBEARER"], have_token=True) == "OAUTHBEARER"
    assert choose_mechanism(["SCRAM-SHA-256", "PLAIN"]) == "PLAIN"  # smtplib's choice stays
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
    assert SUPPORTED == ("PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER", "SCRAM-SHA-256")
    classes = (Plain, Login, CramMD5, XOAuth2, OAuthBearer, ScramSha256)
    for name, cls in zip(SUPPORTED, classes, strict=True):
        mechanism = create_mechanism(name.lower(), "u", "p", "t")
        assert type(mechanism) is cls
        assert mechanism.name == name
    assert b"Bearer t" in (create_mechanism("XOAUTH2", "u", "p", "t").initial_response() or b"")
    with pytest.raises(NoMechanismError, match="NTLM"):
        create_mechanism("NTLM", "u", "p")


def test_create_mechanism_passes_the_options_each_takes() -> None:
    options = AuthOptions("boss", login_initial_response=False, host="mx.example", port=587)
    plain = create_mechanism("PLAIN", "u", "p", "t", options)
    assert plain.initial_response() == b"boss\0u\0p"
    assert create_mechanism("LOGIN", "u", "p", "t", options).initial_response() is None
    assert create_mechanism("LOGIN", "u", "p", "t").initial_response() == b"u"  # as smtplib
    bearer = create_mechanism("OAUTHBEARER", "u", "p", "t", options)
    assert bearer.initial_response() == (
        b"n,a=boss,\x01host=mx.example\x01port=587\x01auth=Bearer t\x01\x01"
    )
    assert (create_mechanism("SCRAM-SHA-256", "u", "p", "t", options).initial_response() or b"")[
        :9
    ] == b"n,a=boss,"


def test_which_mechanisms_send_a_password() -> None:
    sends = [sends_password(name.lower()) for name in SUPPORTED]
    assert sends == [True, True, True, False, False, True]
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


# -- OAUTHBEARER (RFC 7628) ------------------------------------------------------------------


def test_oauthbearer_rfc7628_example_byte_for_byte() -> None:
    mechanism = OAuthBearer("user@example.com", RFC7628_TOKEN, host="server.example.com", port=143)
    assert encode_sasl(mechanism.initial_response() or b"", initial=True) == RFC7628_INITIAL
    assert mechanism.describe(decode_challenge(RFC7628_INITIAL)) == (
        f"n,a=user@example.com, host=server.example.com port=143 auth=Bearer {MASK}"
    )


def test_oauthbearer_answers_the_error_challenge_with_ctrl_a() -> None:
    """RFC 7628 section 3.2.3: the client's answer to the error is the single byte 0x01."""
    mechanism = OAuthBearer("user@example.com", "expired", host="server.example.com", port=587)
    mechanism.initial_response()
    assert mechanism.respond(RFC7628_ERROR) == b"\x01"
    assert encode_sasl(b"\x01") == b"AQ=="
    described = mechanism.describe(b"\x01")
    assert RFC7628_ERROR.decode() in described and "expired" not in described


def test_oauthbearer_without_host_port_or_initial_response() -> None:
    mechanism = OAuthBearer("a,b=c", "tok", authzid="")
    assert mechanism.respond(b"") == b"n,a=a=2Cb=3Dc,\x01auth=Bearer tok\x01\x01"
    assert mechanism.respond(b'{"status":"invalid_token"}') == b"\x01"


# -- SCRAM-SHA-256 (RFC 5802, RFC 7677) ------------------------------------------------------


def test_scram_sha_256_rfc7677_vector() -> None:
    mechanism = ScramSha256("user", "pencil", nonce=lambda: SCRAM_NONCE)
    assert mechanism.initial_response() == b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    assert mechanism.respond(SCRAM_SERVER_FIRST) == SCRAM_CLIENT_FINAL
    assert mechanism.respond(SCRAM_SERVER_FINAL) == b""  # the server proved itself
    masked = mechanism.describe(SCRAM_CLIENT_FINAL)
    assert masked == f"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p={MASK}"
    assert "dHzbZapWIk4j" in mechanism.describe(SCRAM_CLIENT_FINAL, reveal=True)


def test_scram_server_side_checks_the_rfc7677_proof() -> None:
    """The embedded server's arithmetic (the same module) accepts RFC 7677's proof."""
    salted = scram.salted_password("pencil", base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096)
    keys = scram.Keys.derive(salted)
    without_proof, _, proof = SCRAM_CLIENT_FINAL.rpartition(b",p=")
    auth_message = b",".join(
        (b"n=user,r=" + SCRAM_NONCE.encode(), SCRAM_SERVER_FIRST, without_proof)
    )
    assert keys.verify_proof(auth_message, base64.b64decode(proof))
    assert not keys.verify_proof(auth_message, bytes(32))
    assert b"v=" + base64.b64encode(keys.server_signature(auth_message)) == SCRAM_SERVER_FINAL


@pytest.mark.parametrize(
    ("server_final", "reason"),
    [
        (b"v=" + base64.b64encode(bytes(32)), "could not prove it knows the password"),
        (b"v=not base64!", "could not prove it knows the password"),
        (b"e=invalid-proof", "refused the proof: invalid-proof"),
    ],
)
def test_scram_wrong_server_final_fails(server_final: bytes, reason: str) -> None:
    mechanism = ScramSha256("user", "pencil", nonce=lambda: SCRAM_NONCE)
    mechanism.initial_response()
    mechanism.respond(SCRAM_SERVER_FIRST)
    with pytest.raises(ProtocolError, match=reason) as info:
        mechanism.respond(server_final)
    assert info.value.data == server_final


@pytest.mark.parametrize(
    "server_first",
    [
        b"r=someone-elses-nonce,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        b"r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",  # nothing of the server's
        b"r=rOprNGfwEbeRWgbNEkqOxyz,s=***,i=4096",
        b"r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=many",
        b"r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
        b"r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000000000000",  # a stall
    ],
)
def test_scram_bad_server_first_fails(server_first: bytes) -> None:
    mechanism = ScramSha256("user", "pencil", nonce=lambda: SCRAM_NONCE)
    mechanism.initial_response()
    with pytest.raises(ProtocolError, match="SCRAM-SHA-256"):
        mechanism.respond(server_first)


def test_scram_escapes_and_prepares_the_username() -> None:
    mechanism = ScramSha256("a=b,c\u00ad", "pencil", nonce=lambda: "n0nce")
    assert mechanism.initial_response() == b"n,,n=a=3Db=2Cc,r=n0nce"
    waiting = ScramSha256("user", "pencil", nonce=lambda: "n0nce")
    assert waiting.respond(b"") == b"n,,n=user,r=n0nce"  # AUTH went without it


@pytest.mark.parametrize(
    ("text", "prepared"),
    # RFC 4013 section 3's examples.
    [("I\u00adX", "IX"), ("user", "user"), ("USER", "USER"), ("\u00aa", "a"), ("\u2168", "IX")],
)
def test_saslprep_rfc4013_examples(text: str, prepared: str) -> None:
    assert scram.saslprep(text, "password") == prepared


@pytest.mark.parametrize("text", ["\u0007", "\u0627\u0031"])
def test_saslprep_refuses_what_rfc4013_prohibits(text: str) -> None:
    with pytest.raises(CommandError) as info:
        scram.saslprep(text, "password")
    assert info.value.field == "password"
    with pytest.raises(CommandError, match=r"^username: "):
        ScramSha256(text, "pencil")
