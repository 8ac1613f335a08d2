"""One look at one port of a mail server: does it connect, what does it greet and offer, does
TLS work and is its certificate good, what does it offer inside TLS. The submission probe,
the TLS report and the banner check of ``smtptui mx`` are made of these.

Every failure is data (``error``, ``stage``), never an exception: a probe reports, it does
not stop at the first problem. A certificate that fails verification is noted, and the probe
goes on unverified on a second connection, so the capabilities inside TLS are still seen.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from enum import StrEnum

from smtptui.engine import errors
from smtptui.engine.client import SMTPClient
from smtptui.engine.tls import TlsInfo, VerifyMode
from smtptui.protocol.capabilities import Capabilities
from smtptui.protocol.replies import Reply

DEADLINE = 1.8
"""A probe's whole time, in step timeouts: under two, so that a probe of ports at once ends
within twice the slowest connect timeout, whatever each port does."""


class PortSecurity(StrEnum):
    """How a probed port is spoken to."""

    PLAIN = "plain"  # EHLO only, no TLS (the banner check)
    STARTTLS = "starttls"  # EHLO, STARTTLS if offered, EHLO again
    TLS = "tls"  # implicit TLS from the first byte (465)


@dataclass(frozen=True)
class PortProbe:
    """What one port said. ``stage`` is how far the probe got ("connect", "greeting",
    "ehlo", "starttls", "handshake", "ehlo after TLS", "done") and ``error`` why it stopped
    there ("" when it did not). ``before`` and ``after`` are the EHLO capabilities outside
    and inside TLS (implicit TLS has only ``after``). ``verify_error`` says why the
    certificate failed verification ("" when it passed or TLS was not reached): the ``tls``
    then comes from an unverified second connection. ``cause`` names a failure a reader acts
    on, in a word: "implicit-tls" (the port waits for a TLS handshake before it greets),
    "plaintext" (it answered the handshake in plain text), or "" (any other)."""

    host: str
    port: int
    security: PortSecurity
    stage: str = "connect"
    error: str = ""
    greeting: Reply | None = None
    before: Capabilities | None = None
    after: Capabilities | None = None
    tls: TlsInfo | None = None
    verify_error: str = ""
    cause: str = ""
    elapsed: float = 0.0  # seconds, the whole probe

    @property
    def connected(self) -> bool:
        return self.stage != "connect"

    @property
    def capabilities(self) -> Capabilities | None:
        """The last capabilities seen: inside TLS when it was reached."""
        return self.after or self.before

    @property
    def tls_verified(self) -> bool:
        return self.tls is not None and self.tls.verified and not self.verify_error


async def probe_port(
    host: str,
    port: int,
    security: PortSecurity,
    *,
    sni: str | None = None,
    verify: VerifyMode = VerifyMode.BOTH,
    cafile: str | None = None,
    tls_min: str | None = None,
    tls_max: str | None = None,
    ciphers: str | None = None,
    helo_name: str | None = None,
    timeout: float = 10.0,
) -> PortProbe:
    """Probe ``host``:``port`` as ``security`` says, in at most ``timeout`` seconds a step
    (connect, handshake, each reply) and :data:`DEADLINE` times that in all: then it stops
    where it is."""
    started = time.monotonic()
    options = dict(
        sni=sni, cafile=cafile, tls_min=tls_min, tls_max=tls_max, ciphers=ciphers,
        helo_name=helo_name, timeout=timeout,
    )  # fmt: skip
    found = await _deadlined(host, port, security, verify, DEADLINE * timeout, options)
    if found.verify_error and verify is not VerifyMode.NONE:
        rest = DEADLINE * timeout - (time.monotonic() - started)
        again = await _deadlined(host, port, security, VerifyMode.NONE, rest, options)
        if again.tls is not None:
            found = _replace(again, verify_error=found.verify_error)
    return _replace(found, elapsed=time.monotonic() - started)


async def _deadlined(
    host: str,
    port: int,
    security: PortSecurity,
    verify: VerifyMode,
    seconds: float,
    options: dict,
) -> PortProbe:
    """:func:`_probe` cut off after ``seconds``, reporting how far it got."""
    progress: list[PortProbe] = [PortProbe(host, port, security)]
    try:
        async with asyncio.timeout(max(seconds, 0.001)):
            return await _probe(host, port, security, verify, progress, **options)
    except TimeoutError:
        return _replace(progress[-1], error=f"no answer within {seconds:.1f} s (all steps)")


async def _probe(
    host: str,
    port: int,
    security: PortSecurity,
    verify: VerifyMode,
    progress: list[PortProbe],
    *,
    sni: str | None,
    cafile: str | None,
    tls_min: str | None,
    tls_max: str | None,
    ciphers: str | None,
    helo_name: str | None,
    timeout: float,
) -> PortProbe:
    """The probe itself; each stage reached is appended to ``progress`` so that a deadline
    can report it."""
    client = SMTPClient(
        host,
        port,
        helo_name,
        implicit_tls=security is PortSecurity.TLS,
        verify=verify,
        cafile=cafile,
        server_hostname=sni,
        tls_min=tls_min,
        tls_max=tls_max,
        ciphers=ciphers,
        connect_timeout=timeout,
        timeout=timeout,
    )

    def reached(**changes: object) -> PortProbe:
        progress.append(_replace(progress[-1], **changes))
        return progress[-1]

    try:
        await client.connect()
        reached(stage="greeting", greeting=client.greeting, tls=client.tls)
        if client.greeting is None or client.greeting.code != 220:
            return reached(error="the server did not greet with 220")
        reached(stage="ehlo")
        code, _ = await client.ehlo()
        if code != 250:
            return reached(error=f"EHLO was refused ({code})")
        if security is PortSecurity.TLS:
            return reached(stage="done", after=client.capabilities)
        reached(stage="starttls", before=client.capabilities)
        capabilities = client.capabilities
        if security is PortSecurity.PLAIN or capabilities is None or not capabilities.starttls:
            return reached(stage="done")
        reached(stage="handshake")
        await client.starttls()
        reached(stage="ehlo after TLS", tls=client.tls)
        code, _ = await client.ehlo()
        if code != 250:
            return reached(error=f"EHLO after TLS was refused ({code})")
        return reached(stage="done", after=client.capabilities)
    except errors.SMTPTLSError as error:
        stage = "handshake"
        if error.certificate:
            return reached(stage=stage, verify_error=error.reason, error=error.reason)
        return reached(stage=stage, error=str(error), cause=error.part)
    except errors.Located as error:  # the connection failed: it says where
        if isinstance(error, errors.SMTPConnectError) and error.cause == "implicit-tls":
            return reached(stage="greeting", error=str(error), cause=error.cause)
        stage = progress[-1].stage
        if stage == "connect" and error.step != "connect":  # connected, then failed
            handshaking = security is PortSecurity.TLS and client.tls is None
            stage = "handshake" if handshaking else "greeting"
        return reached(stage=stage, error=str(error))
    except errors.SMTPResponseException as error:  # a refusal: STARTTLS's, before any handshake
        text = error.smtp_error
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        return reached(stage="starttls", error=f"{error.smtp_code} {text}")
    except (errors.SMTPException, OSError) as error:
        return reached(error=str(error))
    finally:
        await _quit_quietly(client)


async def _quit_quietly(client: SMTPClient) -> None:
    """QUIT, briefly: a probe is not a reason to leave a server with a dead connection, nor
    to wait long for its goodbye. Cut off by the deadline, just close."""
    task = asyncio.current_task()
    if not client.connected or (task is not None and task.cancelling()):
        client.close()
        return
    try:
        async with asyncio.timeout(1.0):
            await client.quit()
    except (errors.SMTPException, OSError, TimeoutError):
        client.close()


def _replace(probe: PortProbe, **changes: object) -> PortProbe:
    return replace(probe, **changes)  # type: ignore[arg-type]
