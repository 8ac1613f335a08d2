"""SASL mechanisms for SMTP AUTH (RFC 4954) as small step machines, with safe descriptions.

A mechanism deals in raw bytes: the engine base64-encodes responses with :func:`encode_sasl`
and decodes the server's 334 challenges with :func:`decode_challenge`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar, Self

from smtptui.protocol.errors import ProtocolError

MASK = "•" * 8
"""What a secret looks like in a description; fixed length, so it says nothing about it."""

MAX_CHALLENGES = 5
"""Most 334 challenges to answer in one exchange (smtplib's ``_MAXCHALLENGE``)."""

SMTP_AUTO_ORDER = ("CRAM-MD5", "PLAIN", "LOGIN")
"""Password mechanisms in smtplib's order of preference (``SMTP.login``)."""


class NoMechanismError(ValueError):
    """No mechanism fits: none supported is advertised, or the name is unknown."""


def encode_sasl(raw: bytes, *, initial: bool = False) -> bytes:
    """``raw`` in base64 on one line; an empty initial response is ``=`` (RFC 4954 section 4).

    An empty response to a challenge stays empty: it is sent as an empty line.
    """
    if initial and not raw:
        return b"="
    return base64.b64encode(raw)


def decode_challenge(text: bytes) -> bytes:
    """The raw challenge in a 334 reply's text; :class:`ProtocolError` unless strict base64."""
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ProtocolError("challenge is not valid base64", text) from exc


def split_secret(line: bytes, *, sasl_due: bool) -> tuple[str, bytes] | None:
    """A line the client sends, as the part that may be shown and the SASL secret it
    carries: ``("AUTH PLAIN ", response)`` for AUTH with an initial response; ``("", line)``
    for any other line while a response is due (a 334 to AUTH came last); None if it
    carries none. Shown, it is ``shown + MASK``."""
    words = line.split(None, 2)
    if len(words) > 1 and words[0].upper() == b"AUTH":
        if len(words) < 3:
            return None
        return f"AUTH {words[1].decode('ascii', 'replace')} ", words[2]
    return ("", line) if sasl_due else None


@dataclass(frozen=True)
class AuthOptions:
    """What some mechanisms take besides the credentials: an authorisation identity (PLAIN,
    OAUTHBEARER, SCRAM), whether LOGIN sends the username with AUTH, and the server's name
    and port (OAUTHBEARER tells them to the server)."""

    authzid: str = ""
    login_initial_response: bool = True
    host: str = ""
    port: int | None = None


def _quote(text: str) -> str:
    """``text`` in double quotes, with quotes and control characters escaped."""
    return json.dumps(text, ensure_ascii=False)


def _opaque(response: bytes, reveal: bool) -> str:
    """A response this mechanism did not produce: shown only when revealing."""
    return response.decode("utf-8", "backslashreplace") if reveal else MASK


class Mechanism(ABC):
    """One SASL exchange for one set of credentials.

    Call :meth:`initial_response` at most once, and only if its result is sent with AUTH;
    then call :meth:`respond` for each 334 challenge. The secret never appears in ``repr``.
    """

    name: ClassVar[str]
    takes_token: ClassVar[bool] = False
    """Whether its secret is an OAuth token rather than a password."""

    def __init__(self, username: str, secret: str) -> None:
        self.username = username
        self._secret = secret

    def __repr__(self) -> str:
        return f"{type(self).__name__}(username={self.username!r})"

    @classmethod
    def create(cls, username: str, secret: str, options: AuthOptions) -> Self:
        """An instance for ``options``: those it takes, the others ignored."""
        return cls(username, secret)

    def initial_response(self) -> bytes | None:
        """The raw response to send with AUTH, or None if the mechanism waits for the server."""
        return None

    @abstractmethod
    def respond(self, challenge: bytes) -> bytes:
        """The raw response to a decoded challenge; :class:`ProtocolError` if the challenge
        does not hold up, and the exchange must be cancelled."""

    @abstractmethod
    def describe(self, response: bytes, *, reveal: bool = False) -> str:
        """A readable decoding of ``response``, with the secret masked unless ``reveal``."""

    def _secret_text(self, reveal: bool) -> str:
        return self._secret if reveal else MASK


class _Scripted(Mechanism):
    """A mechanism whose responses are fixed, sent in order; the last one repeats."""

    _script: tuple[bytes, ...]
    _sent = 0

    def initial_response(self) -> bytes | None:
        return self._next()

    def respond(self, challenge: bytes) -> bytes:
        return self._next()

    def _next(self) -> bytes:
        response = self._script[min(self._sent, len(self._script) - 1)]
        self._sent += 1
        return response


class Plain(_Scripted):
    """PLAIN (RFC 4616): ``authzid NUL username NUL password`` in UTF-8, sent at once."""

    name = "PLAIN"

    def __init__(self, username: str, password: str, authzid: str = "") -> None:
        super().__init__(username, password)
        self.authzid = authzid
        self._script = ("\0".join((authzid, username, password)).encode(),)

    @classmethod
    def create(cls, username: str, secret: str, options: AuthOptions) -> Self:
        return cls(username, secret, options.authzid)

    def describe(self, response: bytes, *, reveal: bool = False) -> str:
        if response != self._script[0]:
            return _opaque(response, reveal)
        password = _quote(self._secret) if reveal else MASK
        return f"authzid={_quote(self.authzid)} user={_quote(self.username)} password={password}"


class Login(_Scripted):
    """LOGIN: the username with AUTH (``AUTH LOGIN <user>``, as smtplib sends it), then the
    password at the server's 334; without ``initial_response``, each at a 334 (as swaks
    sends it). Some servers take only one of the two forms."""

    name = "LOGIN"

    def __init__(self, username: str, password: str, initial_response: bool = True) -> None:
        super().__init__(username, password)
        self.sends_initial = initial_response
        self._script = (username.encode(), password.encode())

    @classmethod
    def create(cls, username: str, secret: str, options: AuthOptions) -> Self:
        return cls(username, secret, options.login_initial_response)

    def initial_response(self) -> bytes | None:
        return self._next() if self.sends_initial else None

    def describe(self, response: bytes, *, reveal: bool = False) -> str:
        username, password = self._script
        if response == password:
            return f"password: {self._secret_text(reveal)}"
        if response == username:
            return f"username: {self.username}"
        return _opaque(response, reveal)


class XOAuth2(_Scripted):
    """XOAUTH2 (Google's OAuth 2.0 SASL): ``user=U^Aauth=Bearer T^A^A``.

    A 334 after it carries a JSON error; the client answers with an empty response and the
    server then sends the final failure.
    """

    name = "XOAUTH2"
    takes_token = True

    def __init__(self, username: str, token: str) -> None:
        super().__init__(username, token)
        self._script = (f"user={username}\x01auth=Bearer {token}\x01\x01".encode(), b"")

    def describe(self, response: bytes, *, reveal: bool = False) -> str:
        if response == self._script[0]:
            return f"user={self.username} auth=Bearer {self._secret_text(reveal)}"
        if not response:
            return "(empty response after an error)"
        return _opaque(response, reveal)


class OAuthBearer(Mechanism):
    """OAUTHBEARER (RFC 7628): ``n,a=AUTHZID,^Ahost=H^Aport=P^Aauth=Bearer T^A^A``.

    On failure the server sends a 334 carrying a JSON error (RFC 7628 section 3.2.2); the
    client answers with the single byte ``^A`` (section 3.2.3) and the server then sends
    the final failure. The authorisation identity is the username unless one is given.
    """

    name = "OAUTHBEARER"
    takes_token = True

    def __init__(
        self,
        username: str,
        token: str,
        authzid: str = "",
        host: str = "",
        port: int | None = None,
    ) -> None:
        super().__init__(username, token)
        self.authzid = authzid or username
        self.host, self.port = host, port
        self.error = b""
        """The JSON error of the server's 334, once it sent one."""
        self._sent = False

    @classmethod
    def create(cls, username: str, secret: str, options: AuthOptions) -> Self:
        return cls(username, secret, options.authzid, options.host, options.port)

    def _message(self, token: str) -> bytes:
        fields = [f"host={self.host}"] if self.host else []
        fields += [f"port={self.port}"] if self.port else []
        fields.append(f"auth=Bearer {token}")
        from smtptui.protocol.scram import escape_name  # here: SCRAM's, loaded when used

        header = f"n,a={escape_name(self.authzid)},"
        return (header + "".join(f"\x01{field}" for field in fields) + "\x01\x01").encode()

    def initial_response(self) -> bytes | None:
        self._sent = True
        return self._message(self._secret)

    def respond(self, challenge: bytes) -> bytes:
        if not self._sent:  # AUTH went without it: the first (empty) 334 asks for it
            return self.initial_response() or b""
        self.error = challenge
        return b"\x01"

    def describe(self, response: bytes, *, reveal: bool = False) -> str:
        if response == self._message(self._secret):
            return self._message(self._secret_text(reveal)).decode().replace("\x01", " ").strip()
        if response == b"\x01":
            error = self.error.decode("utf-8", "backslashreplace")
            return f"^A (the answer to the server's error: {error})"
        return _opaque(response, reveal)


class ScramSha256(Mechanism):
    """SCRAM-SHA-256 (RFC 5802, RFC 7677), without channel binding.

    Neither the password nor anything that replays as it crosses the wire; and the server
    proves it knows the password too: its final ``v=`` is verified, and a wrong one fails
    the exchange (:class:`ProtocolError`, the exchange then cancelled). ``nonce`` makes the
    client nonce (tests give RFC 7677's); the salted password is computed once.
    """

    name = "SCRAM-SHA-256"

    def __init__(
        self,
        username: str,
        password: str,
        authzid: str = "",
        nonce: Callable[[], str] = lambda: secrets.token_urlsafe(18),
    ) -> None:
        super().__init__(username, password)
        from smtptui.protocol import scram  # here: the first frame needs none of it

        self.authzid = authzid
        self._header = "n," + (f"a={scram.escape_name(authzid)}" if authzid else "") + ","
        name = scram.escape_name(scram.saslprep(username, "username"))
        scram.saslprep(password, "password")  # refused now, not halfway through
        self._first_bare = f"n={name},r={nonce()}".encode()
        self._first_sent = False
        self._final = b""  # client-final, once sent
        self._signature = b""  # the server signature expected

    @classmethod
    def create(cls, username: str, secret: str, options: AuthOptions) -> Self:
        return cls(username, secret, options.authzid)

    def initial_response(self) -> bytes | None:
        self._first_sent = True
        return self._header.encode() + self._first_bare

    def respond(self, challenge: bytes) -> bytes:
        if not self._first_sent:  # AUTH went without it: the first (empty) 334 asks for it
            return self.initial_response() or b""
        if not self._final:
            return self._client_final(challenge)
        if self._signature:
            self._check_server_final(challenge)
            self._signature = b""
            return b""
        raise ProtocolError(
            "SCRAM-SHA-256: a challenge after the server's final message", challenge
        )

    def _client_final(self, server_first: bytes) -> bytes:
        from smtptui.protocol import scram

        attributes = scram.parse_attributes(server_first)
        nonce, salt, iterations = (attributes.get(key, "") for key in "rsi")
        ours = scram.parse_attributes(self._first_bare)["r"]
        if not nonce.startswith(ours) or nonce == ours:
            raise ProtocolError(
                "SCRAM-SHA-256: the server's nonce does not extend ours", server_first
            )
        try:
            salted = scram.salted_password(
                self._secret, base64.b64decode(salt, validate=True), int(iterations)
            )
        except (binascii.Error, ValueError):
            raise ProtocolError(
                "SCRAM-SHA-256: the server's first message lacks a valid salt or count",
                server_first,
            ) from None
        channel = scram.b64(self._header.encode())
        without_proof = f"c={channel},r={nonce}".encode()
        auth_message = b",".join((self._first_bare, server_first, without_proof))
        keys = scram.Keys.derive(salted)
        self._signature = keys.server_signature(auth_message)
        self._final = without_proof + b",p=" + scram.b64(keys.client_proof(auth_message)).encode()
        return self._final

    def _check_server_final(self, server_final: bytes) -> None:
        from smtptui.protocol.scram import parse_attributes

        attributes = parse_attributes(server_final)
        if "e" in attributes:
            raise ProtocolError(
                f"SCRAM-SHA-256: the server refused the proof: {attributes['e']}", server_final
            )
        try:
            signature = base64.b64decode(attributes.get("v", ""), validate=True)
        except binascii.Error:
            signature = b""
        if not hmac.compare_digest(signature, self._signature):
            raise ProtocolError(
                "authentication failed: SCRAM-SHA-256 server signature (v=) is wrong: the "
                "server could not prove it knows the password; it may not be the server you "
                "meant",
                server_final,
            )

    def describe(self, response: bytes, *, reveal: bool = False) -> str:
        if response == self._header.encode() + self._first_bare:
            return response.decode("utf-8", "backslashreplace")
        if self._final and response == self._final:
            without_proof, _, proof = response.rpartition(b",p=")
            shown = proof.decode("ascii") if reveal else MASK
            return f"{without_proof.decode('utf-8', 'backslashreplace')},p={shown}"
        if not response and self._final:
            return "(empty: the server's signature is verified)"
        return _opaque(response, reveal)


class CramMD5(Mechanism):
    """CRAM-MD5 (RFC 2195): ``username SP hex(HMAC-MD5(password, challenge))``."""

    name = "CRAM-MD5"

    def __init__(self, username: str, password: str) -> None:
        super().__init__(username, password)

    def respond(self, challenge: bytes) -> bytes:
        digest = hmac.new(self._secret.encode(), challenge, "md5").hexdigest()
        return f"{self.username} {digest}".encode()

    def describe(self, response: bytes, *, reveal: bool = False) -> str:
        username, space, digest = response.rpartition(b" ")
        if not space or username != self.username.encode():
            return _opaque(response, reveal)
        shown = digest.decode("ascii", "backslashreplace") if reveal else MASK
        return f"user={_quote(self.username)} hmac-md5={shown}"


_MECHANISMS: dict[str, type[Mechanism]] = {
    cls.name: cls for cls in (Plain, Login, CramMD5, XOAuth2, OAuthBearer, ScramSha256)
}

SUPPORTED = tuple(_MECHANISMS)
"""The mechanisms :func:`create_mechanism` knows: PLAIN, LOGIN, CRAM-MD5, XOAUTH2,
OAUTHBEARER, SCRAM-SHA-256."""

TOKEN_ORDER = ("OAUTHBEARER", "XOAUTH2")
"""Token mechanisms in order of preference: the standard one first."""


def choose_mechanism(
    advertised: Iterable[str], *, requested: str | None = None, have_token: bool = False
) -> str:
    """The mechanism to use: ``requested`` if given, advertised or not (a deliberate try);
    else OAUTHBEARER or XOAUTH2 when there is a token and the server offers it; else
    smtplib's choice.

    Raises :class:`NoMechanismError`, naming what was advertised, when nothing fits.
    """
    if requested:
        return requested.upper()
    offered = [name.upper() for name in advertised]
    for name in (*(TOKEN_ORDER if have_token else ()), *SMTP_AUTO_ORDER):
        if name in offered:
            return name
    listed = " ".join(offered) if offered else "nothing"
    raise NoMechanismError(
        f"no usable AUTH mechanism: the server advertises {listed}; "
        f"supported without a token: {', '.join(SMTP_AUTO_ORDER)}"
    )


def requested_mechanisms(text: str) -> list[str]:
    """The mechanisms a user named, in upper case and their order: one, or a comma list
    (``PLAIN,LOGIN``)."""
    return [name.strip().upper() for name in text.split(",") if name.strip()]


def mechanisms_to_try(requested: str, advertised: Iterable[str]) -> list[str]:
    """The mechanisms to try in turn, until one succeeds, for what the user ``requested``:
    one named alone, advertised or not (a deliberate try); of a list, those the server
    offers, in the user's order. Raises :class:`NoMechanismError` when it offers none."""
    names = requested_mechanisms(requested)
    if len(names) == 1:
        return names
    offered = [name.upper() for name in advertised]
    tried = [name for name in names if name in offered]
    if not tried:
        listed = " ".join(offered) if offered else "nothing"
        raise NoMechanismError(
            f"no AUTH mechanism allowed: the server advertises {listed}; "
            f"allowed: {', '.join(names) or 'none'}"
        )
    return tried


def create_mechanism(
    name: str,
    username: str,
    password: str = "",
    token: str = "",
    options: AuthOptions = AuthOptions(),
) -> Mechanism:
    """A fresh :class:`Mechanism` for ``name`` (any case); XOAUTH2 and OAUTHBEARER take the
    token, the others the password; each takes what it uses of ``options``."""
    cls = _MECHANISMS.get(name.upper())
    if cls is None:
        raise NoMechanismError(f"unsupported AUTH mechanism {name!r}; supported: {SUPPORTED}")
    return cls.create(username, token if cls.takes_token else password, options)


def sends_password(name: str) -> bool:
    """Whether mechanism ``name`` (any case) would send a password: one :func:`create_mechanism`
    knows whose secret is not a token."""
    cls = _MECHANISMS.get(name.upper())
    return cls is not None and not cls.takes_token
