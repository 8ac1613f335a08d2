"""Server contexts for the TLS report's tests: certificates from a trustme CA for 127.0.0.1,
held to some TLS versions, near their end or past it, for another name, or sent without the
intermediate that issued them; and a port nothing listens on."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import warnings

import trustme

from support.certificates import chain_context

NAMES = ("localhost", "127.0.0.1")


def tls_context(
    ca: trustme.CA,
    *names: str,
    minimum: ssl.TLSVersion | None = None,
    maximum: ssl.TLSVersion | None = None,
    days: float | None = None,
) -> ssl.SSLContext:
    """A server context with a certificate from ``ca`` for ``names`` (default
    :data:`NAMES`) that ends in ``days`` (negative: ended; None: trustme's far future),
    TLS versions from ``minimum`` to ``maximum``."""
    now = dt.datetime.now(dt.UTC)
    dates = {}
    if days is not None:
        end = now + dt.timedelta(days=days)
        dates = {"not_before": min(now, end) - dt.timedelta(days=30), "not_after": end}
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(*(names or NAMES), **dates).configure_cert(context)
    if minimum is not None:
        context.minimum_version = minimum
    if maximum is not None:
        context.maximum_version = maximum
    return context


def legacy_context(ca: trustme.CA, maximum: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    """A server context that also speaks TLS 1.0 and 1.1 (OpenSSL's security level 0), up
    to ``maximum``."""
    context = tls_context(ca)
    context.set_ciphers("ALL:@SECLEVEL=0")
    with warnings.catch_warnings():  # deprecated: that is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        if maximum is not None:
            context.maximum_version = maximum
    return context


def incomplete_context(ca: trustme.CA) -> ssl.SSLContext:
    """A server context whose certificate comes from an intermediate of ``ca`` it does not
    send: the chain a client cannot build."""
    return chain_context(ca.create_child_ca().issue_cert(*NAMES), intermediates=False)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then freed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
