"""What a session connects to and with: the server, the security, the credentials."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from smtptui.engine.hosts import SMTP_PORT, default_port, parse_host, unix_path
from smtptui.engine.tls import VerifyMode, check_ciphers, tls_version
from smtptui.protocol.commands import check
from smtptui.protocol.errors import CommandError
from smtptui.protocol.xclient import Attribute, parse_attribute

if TYPE_CHECKING:  # imported where used: only transport or PROXY settings need them
    from smtptui.engine.transport import Route
    from smtptui.protocol.proxy import ProxyHeader

PASSWORD_VARIABLE = "SMTPTUI_PASSWORD"
"""Where ``smtptui run`` (and the scripts a session is written as) find the password before
asking for it: never on a command line, where ``ps`` and the shell's history would see it."""

TOKEN_VARIABLE = "SMTPTUI_OAUTH_TOKEN"
"""Where the scripts a session is written as have ``smtptui run`` find the OAuth token
(``--oauth-token-env``), for the same reason."""


class Security(StrEnum):
    """How the connection is protected."""

    NONE = "none"  # plain TCP throughout
    STARTTLS = "starttls"  # plain TCP, upgraded with STARTTLS
    TLS = "tls"  # implicit TLS from the first byte (SMTPS)


_LABELS = {
    "host": "host",
    "cafile": "CA file",
    "client_cert": "client certificate",
    "client_key": "client key",
    "sni": "SNI",
    "verify_name": "verify name",
    "ciphers": "ciphers",
    "helo_name": "EHLO name",
    "username": "username",
    "password": "password",
    "mechanism": "mechanism",
    "oauth_token": "OAuth token",
    "authzid": "authorisation identity",
}


@dataclass(frozen=True)
class SessionSettings:
    """Everything a session needs to connect; invalid values raise :class:`CommandError`
    whose ``field`` names the setting (``"port"``, ``"EHLO name"``, …).

    The port: ``port`` when given; else the port written in ``host`` (``h:p``, ``[v6]:p``);
    else 24 for LMTP, 465 for implicit TLS and 25 otherwise. A ``host`` written ``@example.org`` or
    ``bob@example.org`` routes by MX (:attr:`mx_domain`): the session connects to the
    domain's MX hosts in turn, on :attr:`mx_port`, asking DNS at ``nameserver`` ("IP" or
    "IP:PORT"; None: the system's). ``ssl_context``, when given, is used as is
    (``verify``, ``cafile``, the client certificate, the TLS versions and ciphers are then
    its owner's business).

    ``verify`` is what is checked of the certificate (True and False are taken for
    :attr:`VerifyMode.BOTH` and :attr:`VerifyMode.NONE`); ``sni`` the name sent in SNI (None: the
    host; "": none); ``verify_name`` the name the certificate must be for (None: the SNI,
    else the host); ``tls_min`` and ``tls_max`` ("1.0" to "1.3") bound the TLS version;
    ``ciphers`` is an OpenSSL cipher string.

    The way there (:meth:`route`): a ``host`` written ``unix:/path`` is a UNIX socket (no
    port); ``source_address`` and ``family`` (4 or 6) shape TCP; ``via`` is a SOCKS or
    HTTP CONNECT proxy URL; ``pipe`` a command line that speaks for the server (no host).
    """

    host: str = ""
    port: int | None = None
    security: Security = Security.STARTTLS
    verify: VerifyMode = VerifyMode.BOTH
    cafile: str | None = None
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)
    client_cert: str | None = None
    client_key: str | None = None
    sni: str | None = None
    verify_name: str | None = None
    tls_min: str | None = None
    tls_max: str | None = None
    ciphers: str | None = None
    helo_name: str = ""  # "" lets the engine use this machine's name
    connect_timeout: float = 10.0
    reply_timeout: float = 30.0
    username: str = ""
    password: str = field(default="", repr=False)
    mechanism: str | None = None  # None: the best one the server offers
    oauth_token: str = field(default="", repr=False)
    authzid: str = ""  # PLAIN's, OAUTHBEARER's and SCRAM's authorisation identity
    login_initial_response: bool = True  # LOGIN sends the username with AUTH (as smtplib)
    nameserver: str | None = None  # the DNS server that routing by MX asks
    # lmtp (issue 16): LMTP (RFC 2033) rather than SMTP: LHLO, a reply per recipient, port 24
    lmtp: bool = False
    # transports (issue 16): the way to the server, as engine.transport.Route checks it
    source_address: str | None = None  # the address to connect from (TCP)
    family: int | None = None  # 4 or 6: TCP over that IP version only
    via: str | None = None  # a proxy: socks5://[user:pass@]host:port, socks4a://, http://
    pipe: str | None = None  # a command whose stdin and stdout carry the session (no host)
    # PROXY protocol and XCLIENT (issue 16): checked by proxy_header and xclient_attributes
    proxy_protocol: str | None = None  # "v1" or "v2": a PROXY header before the greeting
    proxy_source: str | None = None  # "ADDR:PORT" the header names (None: the real one)
    proxy_dest: str | None = None  # "ADDR:PORT" the header names (None: the real one)
    xclient: tuple[str, ...] = ()  # "NAME=VALUE" each: XCLIENT after the first EHLO

    def __post_init__(self) -> None:
        object.__setattr__(self, "security", Security(self.security))
        try:
            object.__setattr__(self, "verify", VerifyMode.of(self.verify))
        except ValueError:
            known = ", ".join(VerifyMode)
            raise CommandError("verify", f"must be one of {known}, not {self.verify!r}") from None
        for name, label in _LABELS.items():
            if value := getattr(self, name):
                check(label, value)
        for name in ("sni", "verify_name"):
            _check_name(_LABELS[name], getattr(self, name))
        low = self.tls_min and tls_version("TLS min", self.tls_min)
        high = self.tls_max and tls_version("TLS max", self.tls_max)
        if low and high and low > high:
            raise CommandError("TLS max", f"{self.tls_max} is below the minimum, {self.tls_min}")
        if self.ciphers:
            check_ciphers(self.ciphers)
        if self.client_key and not self.client_cert:
            raise CommandError("client key", "needs the client certificate it goes with")
        if self.host and self.mx_domain is None:
            self.address()
        if self.pipe is not None or self.via or self.source_address or self.family:
            self.route(*(self.address() if self.host and self.mx_domain is None else ("", 0)))
        if self.nameserver is not None:
            from smtptui.engine.mx import parse_nameserver  # dnspython: only to route by MX

            parse_nameserver(self.nameserver)
        if self.port is not None and not 0 < self.port < 65536:
            raise CommandError("port", f"must be from 1 to 65535, not {self.port}")
        for name, label in (
            ("connect_timeout", "connect timeout"),
            ("reply_timeout", "reply timeout"),
        ):
            if getattr(self, name) <= 0:
                raise CommandError(label, "must be more than 0 seconds")
        if self.mechanism is not None and not self.mechanism.strip():
            raise CommandError("mechanism", "is empty; leave it unset to choose automatically")
        self.proxy_header, self.xclient_attributes  # noqa: B018 (checked now, named if bad)

    @property
    def implicit_tls(self) -> bool:
        return self.security is Security.TLS

    @property
    def default_port(self) -> int:
        return default_port(implicit_tls=self.implicit_tls, lmtp=self.lmtp)

    @property
    def mx_domain(self) -> str | None:
        """The domain whose MX hosts the session connects to, when ``host`` names one
        (:func:`mx_domain`); a bad domain is a :class:`CommandError` naming the host."""
        return mx_domain(self.host)

    @property
    def mx_port(self) -> int:
        """The port of the MX hosts a routed host connects to: the port given, else the one
        written after the domain (``@example.org:2525``), else 25."""
        return self.port or parse_host(self.host, 0)[1] or SMTP_PORT

    def route(self, host: str, port: int) -> Route:
        """The way to ``host`` and ``port`` (an address, or an MX host being tried) with
        the transport settings; a bad one is a :class:`CommandError` naming it."""
        if self.pipe is not None and (self.mx_domain is not None or host):
            raise CommandError("pipe", "runs a command instead of connecting: give no host")
        from smtptui.engine.transport import Route

        return Route(host, port, self.source_address, self.family, self.via, self.pipe)

    @property
    def proxy_header(self) -> ProxyHeader | None:
        """The PROXY header to send, if ``proxy_protocol`` asks for one; a source or
        destination without it is an error (it would be told to no one)."""
        if self.proxy_protocol is None:
            told = (("proxy source", self.proxy_source), ("proxy dest", self.proxy_dest))
            for label, value in told:
                if value:
                    raise CommandError(label, "needs the PROXY protocol version (v1 or v2)")
            return None
        version = _PROXY_VERSIONS.get(self.proxy_protocol.strip().lower())
        if version is None:
            raise CommandError("proxy protocol", f"must be v1 or v2, not {self.proxy_protocol!r}")
        source = _proxy_address("proxy source", self.proxy_source)
        dest = _proxy_address("proxy dest", self.proxy_dest)
        from smtptui.protocol.proxy import ProxyHeader

        return ProxyHeader(version, source, dest)

    @property
    def xclient_attributes(self) -> tuple[Attribute, ...]:
        """``xclient`` as (NAME, VALUE) pairs; a pair not written NAME=VALUE is named."""
        return tuple(parse_attribute(text, "xclient") for text in self.xclient)

    def address(self) -> tuple[str, int]:
        """The host and port to connect to, by the rule above (a host routed by MX has
        none: the MX hosts are found when connecting)."""
        if self.mx_domain is not None:
            raise CommandError("host", f"{self.host} routes by MX: it is no one address")
        if self.pipe is not None and not self.host:
            return "", 0  # the command is the server
        try:
            host, port = parse_host(self.host, self.default_port)
        except ValueError as error:
            raise CommandError("host", str(error)) from None
        if unix_path(host) is not None and self.port:
            raise CommandError("port", "a UNIX socket has no port")
        return host, self.port or port


def mx_domain(host: str) -> str | None:
    """The domain a host field routes by MX: ``@example.org`` or ``bob@example.org`` (an
    address, as swaks routes its --to); None for a host to connect to directly (a bare name
    stays one, as swaks' --server). A bad domain is a :class:`CommandError` naming the
    host."""
    if "@" not in host:
        return None
    from smtptui.engine.mx import target_domain  # dnspython: only to route by MX

    try:
        domain, _ = parse_host(host, 0)  # @example.org:2525: the port of its MX hosts
        return target_domain(domain)
    except ValueError as error:  # a CommandError too
        text = str(error)
        if isinstance(error, CommandError):
            text = text.removeprefix(f"{error.field}: ")
        raise CommandError("host", text) from None


_PROXY_VERSIONS: dict[str, Literal[1, 2]] = {"v1": 1, "1": 1, "v2": 2, "2": 2}


def _proxy_address(label: str, text: str | None) -> tuple[str, int] | None:
    """``ADDR:PORT`` (``[v6]:PORT``) for the PROXY header; None for the real one."""
    if not text:
        return None
    try:
        host, port = parse_host(text, 0)
        if not port:
            raise ValueError(f"{text!r}: write ADDR:PORT, such as 192.0.2.1:5555")
    except ValueError as error:
        raise CommandError(label, str(error)) from None
    return host, port


def _check_name(label: str, name: str | None) -> None:
    """A name for SNI or to verify: a host name (IDNA) or an address, no spaces."""
    if not name:
        return
    try:
        if " " in name:
            raise UnicodeError
        name.encode("idna")
    except UnicodeError:
        raise CommandError(label, f"{name!r} is not a host name") from None
