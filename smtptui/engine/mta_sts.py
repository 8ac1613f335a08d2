"""MTA-STS (RFC 8461): a domain's ``_mta-sts`` TXT record, its policy fetched over HTTPS,
read, and which MX names it allows.

Failures are data (a text saying why), never exceptions, as in :mod:`smtptui.engine.mx`.
"""

from __future__ import annotations

import asyncio
import http.client
import re
import socket
import ssl
from dataclasses import dataclass

import dns.exception
import dns.resolver

from smtptui.engine.mx import DNS_TIMEOUT, addresses_of, dns_failure, make_resolver, target_domain

MAX_AGE = 31557600
"""The longest a policy may be cached, in seconds (a year, §3.2)."""

POLICY_SIZE = 64 * 1024
"""The most of a policy file read: the RFC sets no limit, senders do (Postfix's is 64 KB)."""

POLICY_PATH = "/.well-known/mta-sts.txt"

MODES = ("enforce", "testing", "none")

_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_FIELD = re.compile(r"([A-Za-z][A-Za-z0-9_.-]{0,31})=([\x21-\x3a\x3c\x3e-\x7e]+)")  # §3.1
_MX = re.compile(r"(\*\.)?(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*")


@dataclass(frozen=True)
class StsRecord:
    """A domain's ``v=STSv1`` TXT record: its ``id`` (which changes with the policy) and the
    whole ``text``."""

    id: str
    text: str


@dataclass(frozen=True)
class StsPolicy:
    """A policy file as read (§3.2). ``problems``: what makes it invalid, in words; a
    policy with any is one senders ignore."""

    version: str
    mode: str
    mx: tuple[str, ...]
    max_age: int
    problems: tuple[str, ...] = ()


def sts_name(domain: str) -> str:
    return f"_mta-sts.{domain}"


def policy_host(domain: str) -> str:
    """The host that serves ``domain``'s policy, ``mta-sts.DOMAIN``."""
    return f"mta-sts.{domain}"


async def sts_record(
    domain: str, *, nameserver: str | None = None, timeout: float = DNS_TIMEOUT
) -> tuple[StsRecord | None, str]:
    """The ``_mta-sts.DOMAIN`` TXT record and ``""``; or None and ``""`` when the domain
    publishes none (no MTA-STS); or None and why the lookup failed or the record is not
    valid (§3.1: more than one ``v=STSv1`` record, or a bad one, is none at all). A bad
    ``domain`` is a :class:`CommandError` naming it."""
    name = sts_name(target_domain(domain))
    try:
        answer = await make_resolver(nameserver, timeout).resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None, ""
    except dns.exception.DNSException as error:
        return None, dns_failure(name, "TXT", error)
    texts = [b"".join(record.strings).decode("ascii", "replace") for record in answer]
    found = [text for text in texts if text.startswith("v=STSv1")]
    if not found:
        return None, ""
    if len(found) > 1:
        return None, f"{name} has {len(found)} v=STSv1 records: senders use none of them"
    text = found[0]
    fields = [field.strip() for field in text.split(";")]
    if fields[-1] == "":
        fields.pop()  # a final ';' is allowed
    parsed = [_FIELD.fullmatch(field) for field in fields]
    if not all(parsed):
        bad = next(field for field, match in zip(fields, parsed, strict=True) if not match)
        return None, f"{name}: {bad!r} is not a key=value field"
    pairs = [(match.group(1), match.group(2)) for match in parsed if match]
    if pairs[0] != ("v", "STSv1") or len(pairs) < 2 or pairs[1][0] != "id":
        return None, f"{name}: the record must start 'v=STSv1; id=…'"
    if not _ID.fullmatch(pairs[1][1]):
        return None, f"{name}: the id must be 1-32 letters and digits, not {pairs[1][1]!r}"
    return StsRecord(pairs[1][1], text), ""


def parse_policy(text: str) -> StsPolicy:
    """A policy file's fields (§3.2): ``key: value`` lines ending in CRLF or LF, ``mx``
    once for each MX pattern, unknown keys ignored, the first of a repeated one used.
    What makes it invalid is collected in ``problems``, not raised."""
    fields: dict[str, str] = {}
    mx: list[str] = []
    problems: list[str] = []
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not colon or not key:
            problems.append(f"line {number} is not 'key: value': {line!r}")
        elif key == "mx":
            if _MX.fullmatch(value):
                mx.append(value.lower())
            else:
                problems.append(f"mx {value!r} is not a host name or '*.' and a domain")
        else:
            fields.setdefault(key, value)
    version = fields.get("version", "")
    if version != "STSv1":
        problems.append(f"version must be STSv1, not {version!r}" if version else "no version")
    mode = fields.get("mode", "")
    if mode not in MODES:
        problems.append(
            f"mode must be enforce, testing or none, not {mode!r}" if mode else "no mode"
        )
    age = fields.get("max_age", "")
    whole = age.isascii() and age.isdigit()
    max_age = int(age) if whole else 0
    if not age:
        problems.append("no max_age")
    elif not whole or max_age > MAX_AGE:
        problems.append(f"max_age must be whole seconds up to {MAX_AGE}, not {age!r}")
    if not mx and mode != "none":
        problems.append("no mx: the policy allows no mail server")
    return StsPolicy(version, mode, tuple(mx), max_age, tuple(problems))


def mx_allowed(policy: StsPolicy, mx_name: str) -> bool:
    """Whether ``policy`` lets mail go to ``mx_name`` (§4.1): a pattern equal to it, or
    ``*.`` and the rest of it, the ``*`` standing for exactly one label."""
    name = mx_name.rstrip(".").lower()
    label, _, parent = name.partition(".")
    return any(
        pattern == name or (pattern.startswith("*.") and bool(label) and pattern[2:] == parent)
        for pattern in (pattern.rstrip(".").lower() for pattern in policy.mx)
    )


async def fetch_policy(
    domain: str,
    *,
    nameserver: str | None = None,
    cafile: str | None = None,
    port: int = 443,
    timeout: float = DNS_TIMEOUT,
) -> tuple[str | None, str]:
    """The policy text at ``https://mta-sts.DOMAIN/.well-known/mta-sts.txt`` and ``""``, or
    None and why not. As a sender fetches it (§3.3): ``mta-sts.DOMAIN`` resolved with
    ``nameserver``, its certificate verified for that name (against ``cafile``'s CAs when
    given), no redirect followed, only a 200 of ``text/plain`` taken, at most
    :data:`POLICY_SIZE` bytes. A bad ``domain`` is a :class:`CommandError` naming it."""
    host = policy_host(target_domain(domain))
    addresses, error = await addresses_of(make_resolver(nameserver, timeout), host)
    if not addresses:
        return None, error
    context = ssl.create_default_context(cafile=cafile)
    return await asyncio.to_thread(_get, host, addresses, port, context, timeout)


def _get(
    host: str, addresses: tuple[str, ...], port: int, context: ssl.SSLContext, timeout: float
) -> tuple[str | None, str]:
    """The GET, on the first of ``addresses`` that takes a connection (blocking)."""
    errors = []
    for address in addresses:
        try:
            raw = socket.create_connection((address, port), timeout=timeout)
        except OSError as error:
            errors.append(f"{address}: {error.strerror or error}")
            continue
        try:
            return _read(host, port, context.wrap_socket(raw, server_hostname=host), timeout)
        except ssl.SSLCertVerificationError as error:
            return None, f"{host}'s certificate is not valid: {error.verify_message}"
        except (OSError, http.client.HTTPException) as error:
            return None, f"https://{host}{POLICY_PATH}: {error or type(error).__name__}"
        finally:
            raw.close()
    return None, f"cannot connect to {host} port {port} ({'; '.join(errors)})"


def _read(host: str, port: int, sock: ssl.SSLSocket, timeout: float) -> tuple[str | None, str]:
    url = f"https://{host}{POLICY_PATH}"
    connection = http.client.HTTPSConnection(host, port, timeout=timeout)
    connection.sock = sock  # connected to the address resolved, with the name checked
    try:
        connection.request("GET", POLICY_PATH, headers={"Accept": "text/plain"})
        response = connection.getresponse()
        if 300 <= response.status < 400:
            where = response.getheader("Location", "nowhere")
            return None, f"{url} redirects to {where}: senders follow no redirect (§3.3)"
        if response.status != 200:
            return None, f"{url} answered {response.status} {response.reason}, not 200"
        kind = response.getheader("Content-Type", "")
        if kind.partition(";")[0].strip().lower() != "text/plain":
            return None, f"{url} is {kind or 'of no type'}, not text/plain"
        body = response.read(POLICY_SIZE + 1)
    finally:
        connection.close()
    if len(body) > POLICY_SIZE:
        return None, f"{url} is over {POLICY_SIZE // 1024} KB: no policy is that long"
    try:
        return body.decode("utf-8"), ""
    except UnicodeDecodeError:
        return None, f"{url} is not UTF-8 text"
