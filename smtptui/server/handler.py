"""The aiosmtpd handler behind the embedded server: AUTH, refusals and storage."""

from __future__ import annotations

import binascii
import datetime as dt
import hmac
import itertools
import json
import logging
import secrets
import time
from base64 import b64decode
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aiosmtpd.lmtp import LMTP
from aiosmtpd.proxy_protocol import ProxyData
from aiosmtpd.smtp import (
    MISSING,
    SMTP,
    AuthResult,
    Envelope,
    LoginPassword,
    Session,
    TLSSetupException,
    auth_mechanism,
)

from smtptui.protocol import scram

log = logging.getLogger(__name__)

DEMO_USERS: Mapping[str, str] = {"alice": "wonderland"}
DEMO_TOKENS: Mapping[str, str] = {"alice": "demo-token"}
"""The one OAuth token OAUTHBEARER accepts for each user (XOAUTH2 takes the password)."""

SCRAM_SALT = b"smtptui-demo-salt"
"""SCRAM-SHA-256's salt for every demo user: fixed, so the demo's exchanges look the same."""

OAUTHBEARER_ERROR = json.dumps(
    {
        "status": "invalid_token",
        "scope": "https://mail.smtptui.demo/",
        "openid-configuration": "https://smtptui.demo/.well-known/openid-configuration",
    },
    separators=(",", ":"),
)
"""RFC 7628 section 3.2.2's error, sent in a 334 after a wrong token."""

XOAUTH2_ERROR = json.dumps(
    {"status": "401", "schemes": "Bearer", "scope": "https://mail.google.com/"},
    separators=(",", ":"),
)
XOAUTH2_REFUSED = (
    "535-5.7.8 Username and Password not accepted. Learn more at\r\n"
    "535 5.7.8 https://support.google.com/mail/?p=BadCredentials"
)


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the server accepted it; `data` is exactly what DATA delivered
    (dot-unstuffed, CRLF line ends, the final CRLF included), or the BDAT chunks joined,
    byte for byte."""

    peer: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    mail_options: tuple[str, ...]
    rcpt_options: tuple[str, ...]
    authenticated_as: str | None
    tls: bool
    received_at: dt.datetime
    proxied: str | None = None
    """The client a PROXY header told of (``192.0.2.1:5555``; ``unknown`` for UNKNOWN or
    LOCAL), None without one."""
    xclient: tuple[tuple[str, str], ...] = ()
    """The attributes XCLIENT set, in the order sent, their values xtext-decoded."""


class DemoHandler:
    """aiosmtpd hooks with Postfix-like replies, accepting every address (refusals are
    the fault rules', `rules.py`). Over LMTP each recipient gets its own reply to the
    message, naming it. EHLO lists `extensions` besides aiosmtpd's own: those the SMTP
    class adds. `store` is given each message and the connection that took it.
    """

    def __init__(
        self,
        users: Mapping[str, str],
        store: Callable[[ReceivedMessage, SMTP], None],
        *,
        extensions: Sequence[str] = (),
        tokens: Mapping[str, str] = DEMO_TOKENS,
    ) -> None:
        self.users = users
        self.tokens = tokens
        self.store = store
        self.extensions = extensions
        self._queue_ids = itertools.count(1)  # sequential: demo screens look the same each run

    def authenticator(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        """Check PLAIN and LOGIN credentials (aiosmtpd's `authenticator` callback)."""
        assert isinstance(auth_data, LoginPassword)
        user = auth_data.login.decode("utf-8", "replace")
        password = self.users.get(user)
        if password is not None and hmac.compare_digest(password.encode(), auth_data.password):
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)

    @auth_mechanism("CRAM-MD5")
    async def auth_CRAM_MD5(self, server: SMTP, args: list[str]) -> AuthResult:
        """RFC 2195: challenge with a fresh msg-id, expect ``user hex(HMAC-MD5)``."""
        if len(args) > 1:
            await server.push("501 5.7.0 CRAM-MD5 takes no initial response")
            return AuthResult(success=False, handled=True)
        challenge = f"<{secrets.randbits(64)}.{int(time.time())}@{server.hostname}>".encode()
        response = await server.challenge_auth(challenge)
        if response is MISSING:
            return AuthResult(success=False, handled=True)
        assert isinstance(response, bytes)
        user, _, digest = response.decode("utf-8", "replace").rpartition(" ")
        password = self.users.get(user)
        if password is not None:
            expected = hmac.new(password.encode(), challenge, "md5").hexdigest()
            if hmac.compare_digest(expected.encode(), digest.encode()):
                return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)

    @auth_mechanism("XOAUTH2")
    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        """Google's XOAUTH2: the token is the user's password here. A wrong one gets
        Gmail's answer: a 334 carrying a JSON error, then 535 after the client's reply."""
        blob = await _first_response(server, args)
        if blob is None:
            return AuthResult(success=False, handled=True)
        user, token = _parse_xoauth2(blob)
        if user in self.users and hmac.compare_digest(self.users[user].encode(), token.encode()):
            return AuthResult(success=True, auth_data=user)
        if await server.challenge_auth(XOAUTH2_ERROR) is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False, message=XOAUTH2_REFUSED)

    @auth_mechanism("OAUTHBEARER")
    async def auth_OAUTHBEARER(self, server: SMTP, args: list[str]) -> AuthResult:
        """RFC 7628 with :data:`DEMO_TOKENS`: a wrong token gets the error challenge
        (section 3.2.2), the client's ``^A``, then 535."""
        blob = await _first_response(server, args)
        if blob is None:
            return AuthResult(success=False, handled=True)
        user, token = _parse_oauthbearer(blob)
        expected = self.tokens.get(user)
        if expected is not None and hmac.compare_digest(expected.encode(), token.encode()):
            return AuthResult(success=True, auth_data=user)
        if await server.challenge_auth(OAUTHBEARER_ERROR) is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False)

    @auth_mechanism("SCRAM-SHA-256")
    async def auth_SCRAM_SHA_256(self, server: SMTP, args: list[str]) -> AuthResult:
        """RFC 5802 and 7677 without channel binding, :data:`SCRAM_SALT` and 4096
        iterations; the same arithmetic as the client's (:mod:`smtptui.protocol.scram`)."""
        first = await _first_response(server, args)
        if first is None:
            return AuthResult(success=False, handled=True)
        flag, authzid, bare = [*first.split(b",", 2), b"", b""][:3]
        client = scram.parse_attributes(bare)
        if flag != b"n" or authzid or not client.get("r") or "n" not in client:
            await server.push("501 5.5.2 SCRAM: a client-first message without channel binding")
            return AuthResult(success=False, handled=True)
        user = scram.unescape_name(client["n"])
        nonce = client["r"] + secrets.token_urlsafe(18)
        server_first = f"r={nonce},s={scram.b64(SCRAM_SALT)},i={scram.MIN_ITERATIONS}".encode()
        final = await server.challenge_auth(server_first)
        if final is MISSING:
            return AuthResult(success=False, handled=True)
        assert isinstance(final, bytes)
        without_proof, _, proof = final.rpartition(b",p=")
        answer = scram.parse_attributes(without_proof)
        password = self.users.get(user, secrets.token_hex())  # unknown: fails the same way
        keys = scram.Keys.derive(scram.salted_password(password, SCRAM_SALT, scram.MIN_ITERATIONS))
        auth_message = b",".join((bare, server_first, without_proof))
        try:
            proven = (
                answer.get("c") == scram.b64(b"n,,")
                and answer.get("r") == nonce
                and user in self.users
                and keys.verify_proof(auth_message, b64decode(proof, validate=True))
            )
        except binascii.Error:
            proven = False
        if not proven:
            return AuthResult(success=False, handled=False)
        signature = scram.b64(keys.server_signature(auth_message))
        if await server.challenge_auth(f"v={signature}") is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=True, auth_data=user)

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        """aiosmtpd's reply lines with `extensions` before the last (``250 HELP``). With
        this hook, recording the client's name is the hook's job (aiosmtpd's rule)."""
        session.host_name = hostname
        return [*responses[:-1], *(f"250-{name}" for name in self.extensions), responses[-1]]

    async def handle_PROXY(
        self, server: SMTP, session: Session, envelope: Envelope, proxy_data: ProxyData
    ) -> bool:
        """Take every valid PROXY header (aiosmtpd keeps it as ``session.proxy_data``)."""
        return True

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 Ok"

    async def handle_VRFY(
        self, server: SMTP, session: Session, envelope: Envelope, address: str
    ) -> str:
        return f"252 2.0.0 {address}"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert envelope.mail_from is not None and envelope.original_content is not None
        queue_id = f"{next(self._queue_ids):010X}"
        if not isinstance(server, LMTP):
            self._deliver(server, session, envelope, envelope.rcpt_tos)
            return f"250 2.0.0 Ok: queued as {queue_id}"
        # RFC 2033 4.2: one reply per recipient accepted, in order (aiosmtpd sends the lines)
        self._deliver(server, session, envelope, envelope.rcpt_tos)
        return "\r\n".join(f"250 2.0.0 <{r}> Ok: queued as {queue_id}" for r in envelope.rcpt_tos)

    def _deliver(
        self, server: SMTP, session: Session, envelope: Envelope, recipients: Sequence[str]
    ) -> None:
        """Store the message as delivered to ``recipients``."""
        assert envelope.mail_from is not None and envelope.original_content is not None
        transport = server.transport
        message = ReceivedMessage(
            peer=_format_peer(session.peer),
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(recipients),
            data=envelope.original_content,
            mail_options=tuple(envelope.mail_options),
            rcpt_options=tuple(envelope.rcpt_options),
            authenticated_as=session.auth_data if session.authenticated else None,
            tls=transport is not None and transport.get_extra_info("ssl_object") is not None,
            received_at=dt.datetime.now(dt.UTC),
            proxied=_proxied(session),
            xclient=tuple(getattr(session, "xclient", {}).items()),
        )
        try:
            self.store(message, server)
        except Exception:
            log.exception("storing a received message failed")

    async def handle_exception(self, error: Exception) -> str:
        if isinstance(error, TLSSetupException):  # aiosmtpd closes without a reply
            log.info("TLS handshake failed: %s", error.__cause__)
            return "421 4.7.0 TLS handshake failed"
        log.exception("error in an SMTP session")
        return "451 4.3.0 Error: internal error"

    async def handle_RSET(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 2.0.0 Ok"

    async def handle_NOOP(
        self, server: SMTP, session: Session, envelope: Envelope, arg: str
    ) -> str:
        return "250 2.0.0 Ok"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "221 2.0.0 Bye"


async def _first_response(server: SMTP, args: list[str]) -> bytes | None:
    """The client's first response: its initial response, else its answer to an empty 334;
    None when it cancelled or sent bad base64 (already answered)."""
    if len(args) > 1:
        try:
            return b64decode(args[1], validate=True)
        except binascii.Error:
            await server.push("501 5.5.2 Can't decode base64")
            return None
    blob = await server.challenge_auth("")
    return blob if isinstance(blob, bytes) else None


def _parse_oauthbearer(blob: bytes) -> tuple[str, str]:
    """``n,a=U,^Akey=value^A…^Aauth=Bearer T^A^A`` -> (U, T); empty strings where a field
    is missing."""
    header, _, rest = blob.decode("utf-8", "replace").partition("\x01")
    gs2 = dict(part.partition("=")[::2] for part in header.split(","))
    fields = dict(field.partition("=")[::2] for field in rest.split("\x01"))
    scheme, _, token = fields.get("auth", "").partition(" ")
    return scram.unescape_name(gs2.get("a", "")), token if scheme.lower() == "bearer" else ""


def _parse_xoauth2(blob: bytes) -> tuple[str, str]:
    """``user=U^Aauth=Bearer T^A^A`` -> (U, T); empty strings where a field is missing."""
    fields = dict(
        field.partition("=")[::2] for field in blob.decode("utf-8", "replace").split("\x01")
    )
    scheme, _, token = fields.get("auth", "").partition(" ")
    return fields.get("user", ""), token if scheme.lower() == "bearer" else ""


def _proxied(session: Session) -> str | None:
    data: ProxyData | None = getattr(session, "proxy_data", None)
    if data is None:
        return None
    if data.src_addr is None:
        return "unknown"
    return _format_peer((str(data.src_addr), data.src_port))


def _format_peer(peer: object) -> str:
    if isinstance(peer, tuple):
        host, port = peer[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return str(peer)
