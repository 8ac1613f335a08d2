"""A certificate's facts in words, the same on the certificate screen and in the TLS
report: how its validity stands, its dates, its key."""

from __future__ import annotations

from datetime import UTC, datetime

from smtptui.engine.tls import CertificateInfo
from smtptui.session.findings import Level

WARN_DAYS = 30
"""A certificate expiring sooner than this is flagged."""


def validity(cert: CertificateInfo, now: datetime) -> tuple[str, Level]:
    """How the validity period stands at ``now``, and how urgent that is: FAIL outside it,
    WARN within :data:`WARN_DAYS` of its end."""
    if now < cert.not_before:
        return f"not yet valid: starts {_in_days((cert.not_before - now).days)}", Level.FAIL
    if now >= cert.not_after:
        days = (now - cert.not_after).days
        return ("EXPIRED today" if days == 0 else f"EXPIRED {_days(days)} ago"), Level.FAIL
    days = (cert.not_after - now).days
    return f"expires {_in_days(days)}", Level.WARN if days < WARN_DAYS else Level.OK


def when(moment: datetime) -> str:
    """A moment as ``2026-12-06 12:58 UTC``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def key_text(cert: CertificateInfo) -> str:
    """The certificate's key: ``EC 256-bit (secp256r1)``, ``RSA 2048-bit``."""
    size = f" {cert.key_bits}-bit" if cert.key_bits else ""
    curve = f" ({cert.curve})" if cert.curve else ""
    return f"{cert.key_type or 'unknown'}{size}{curve}"


def _days(days: int) -> str:
    return f"{days} day" if days == 1 else f"{days} days"


def _in_days(days: int) -> str:
    return "today" if days == 0 else f"in {_days(days)}"
